"""Emergency playbooks per fault (应急预案), loaded from YAML; their steps become checklists."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from facility_dispatch.kernel.durations import parse_duration


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=3)
    text_zh: str = Field(min_length=2)
    key: str | None = Field(default=None, pattern=r"^[a-z][a-z_]*$")
    target: timedelta | None = None

    @field_validator("target", mode="before")
    @classmethod
    def _target(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)


class Playbook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    title_zh: str
    steps: list[Step] = Field(min_length=1)
    contacts: list[str] = Field(default_factory=list)
    contacts_zh: list[str] = Field(default_factory=list)

    def step_text(self, position: int, text: str, lang: str) -> str:
        """A checklist item's text in ``lang``: the order keeps the English text it was made
        with; when it is still this playbook's step at that position, its Chinese is known."""
        if lang == "zh" and 0 <= position < len(self.steps) and self.steps[position].text == text:
            return self.steps[position].text_zh
        return text


class Playbooks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    playbooks: dict[str, Playbook]


@cache
def builtin() -> dict[str, Playbook]:
    text = (
        resources.files("facility_dispatch.maintenance")
        .joinpath("playbooks.yaml")
        .read_text(encoding="utf-8")
    )
    return _validate(Playbooks.model_validate(yaml.safe_load(text)).playbooks)


def _validate(playbooks: dict[str, Playbook]) -> dict[str, Playbook]:
    for name, playbook in playbooks.items():
        if len(playbook.contacts_zh) != len(playbook.contacts):
            raise ValueError(f"playbook {name}: contacts_zh must give each of contacts")
    return playbooks


def for_fault(fault: str | None) -> Playbook | None:
    return builtin().get(fault) if fault else None
