"""Scenario files (SPEC section 3): a named timeline of faults, validated before anything runs.

```yaml
name: mains-failure
site: estate-a            # optional: the site the faults hit; default every simulated site
steps:
  - at: 5s                # after the start
    fault: mains_failure
    asset: board-1        # optional: one device; default every device the fault concerns
    for: 2m               # optional: when the fault clears; default the end of the run
    generator_fails: true # optional fault options (see simulators.faults.FAULTS)
```

A refused file names the file, the step (``steps[2]``, counted from 0 as in the YAML list)
and the field. The built-in scenarios are package data in ``simulators/scenarios/``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from facility_dispatch.ingest.topics import ASSET_PATTERN, SITE_PATTERN
from facility_dispatch.kernel.durations import parse_duration
from facility_dispatch.simulators.errors import FaultOptionError, ScenarioError
from facility_dispatch.simulators.faults import Fault, OptionValue, fault_named, validate_options

_BUILTIN_PACKAGE = "facility_dispatch.simulators.scenarios"


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("must be a duration such as 30s, 5m, 2h")
    return parse_duration(value)


class ScenarioStep(BaseModel):
    """One step of the timeline. Fields beyond these are the fault's options."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    at: timedelta
    fault: Fault
    asset: str | None = Field(default=None, pattern=f"^{ASSET_PATTERN.pattern}$")
    for_: timedelta | None = Field(default=None, alias="for")
    site: str | None = Field(default=None, pattern=f"^{SITE_PATTERN.pattern}$")

    @field_validator("at", "for_", mode="before")
    @classmethod
    def _parse_duration(cls, value: object) -> timedelta | None:
        return None if value is None else _duration(value)

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Scenario(BaseModel):
    """A named timeline of fault steps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    description: str = ""
    site: str | None = Field(default=None, pattern=f"^{SITE_PATTERN.pattern}$")
    steps: list[ScenarioStep] = Field(default_factory=list)

    @property
    def length(self) -> timedelta:
        """When the last step starts or ends."""
        ends = [s.at + (s.for_ or timedelta()) for s in self.steps]
        return max(ends, default=timedelta())


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped with the package."""
    folder = resources.files(_BUILTIN_PACKAGE)
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name, or a scenario file by path; :class:`ScenarioError` if bad."""
    text_name = str(name_or_path)
    if isinstance(name_or_path, str) and text_name in builtin_scenarios():
        source = resources.files(_BUILTIN_PACKAGE).joinpath(f"{text_name}.yaml")
        return parse_scenario(source.read_text(encoding="utf-8"), f"built-in {text_name}")
    path = Path(name_or_path)
    if not path.is_file():
        raise ScenarioError(
            f"no scenario {text_name!r}: not a file, nor a built-in "
            f"({', '.join(builtin_scenarios())})"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read: {error}") from None
    return parse_scenario(text, str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate YAML text as a scenario; errors name ``source``, the step and the field."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError(f"{source}:{where} not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping with 'name' and 'steps'")
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as error:
        raise ScenarioError(f"{source}: {_describe(error, document)}") from None
    for index, step in enumerate(scenario.steps):
        try:
            validate_options(fault_named(step.fault), step.options)
        except FaultOptionError as error:
            raise ScenarioError(
                f"{source}: step {index} (steps[{index}], {step.fault.value}), "
                f"field {error.option!r}: {error}"
            ) from None
    return scenario


def _describe(error: ValidationError, document: dict[str, Any]) -> str:
    problems = []
    for item in error.errors():
        loc = item["loc"]
        message = item["msg"]
        if item["type"] == "enum" and loc and loc[-1] == "fault":
            message = f"{item.get('input')!r} is not a fault (use one of {', '.join(Fault)})"
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
            field = ".".join(str(part) for part in loc[2:]) or "(the step itself)"
            field = "for" if field == "for_" else field
            problems.append(f"step {loc[1]} (steps[{loc[1]}]), field {field!r}: {message}")
        else:
            field = ".".join(str(part) for part in loc) or "(top level)"
            problems.append(f"field {field!r}: {message}")
    return "; ".join(problems)


@dataclass(frozen=True, slots=True)
class PlannedFault:
    """A step made concrete for one cycle: inject at ``at`` (epoch s) for ``duration`` s."""

    index: int
    at: float
    duration: float | None
    fault: Fault
    asset: str | None
    site: str | None
    options: dict[str, OptionValue]


class ScenarioPlayer:
    """Turns a scenario into injections as time passes; optionally loops every ``repeat``.

    With ``repeat`` each cycle starts afresh: a step without ``for`` lasts until the cycle
    ends, and steps that start after ``repeat`` are dropped.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        start: float | None = None,
        repeat: float | None = None,
        site: str | None = None,
    ) -> None:
        if repeat is not None and repeat <= 0:
            raise ScenarioError("a scenario repeats after a positive duration")
        self.scenario = scenario
        self.start = start
        self.repeat = repeat
        self.site = site or scenario.site
        self.stopped = False
        self._cycle = 0
        self._next_step = 0
        self._steps = sorted(enumerate(scenario.steps), key=lambda pair: pair[1].at)
        self._options = {
            index: validate_options(fault_named(step.fault), step.options)
            for index, step in self._steps
        }

    @property
    def finished(self) -> bool:
        return self.stopped or (self.repeat is None and self._next_step >= len(self._steps))

    def stop(self) -> None:
        """Start nothing more (faults already started run their course)."""
        self.stopped = True

    def planned(self) -> Iterable[PlannedFault]:
        """Every step of one cycle as if the cycle started at 0 (to check targets up front)."""
        for index, step in self._steps:
            yield self._plan(index, step, 0.0)

    def due(self, t: float) -> list[PlannedFault]:
        """The injections whose time has come by ``t``."""
        if self.start is None:
            self.start = t
        out: list[PlannedFault] = []
        while not self.stopped and self._steps:
            if self._next_step >= len(self._steps):
                if self.repeat is None:
                    break
                self._cycle += 1
                self._next_step = 0
            cycle_start = self.start + self._cycle * (self.repeat or 0.0)
            index, step = self._steps[self._next_step]
            offset = step.at.total_seconds()
            if self.repeat is not None and offset >= self.repeat:
                self._next_step = len(self._steps)
                if cycle_start + self.repeat > t:
                    break
                continue
            if cycle_start + offset > t:
                break
            out.append(self._plan(index, step, cycle_start))
            self._next_step += 1
        return out

    def _plan(self, index: int, step: ScenarioStep, cycle_start: float) -> PlannedFault:
        at = cycle_start + step.at.total_seconds()
        duration = step.for_.total_seconds() if step.for_ is not None else None
        if self.repeat is not None:
            left = cycle_start + self.repeat - at
            duration = left if duration is None else min(duration, left)
        return PlannedFault(
            index,
            at,
            duration,
            step.fault,
            step.asset,
            step.site or self.site,
            self._options[index],
        )
