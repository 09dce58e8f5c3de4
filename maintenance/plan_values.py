"""Plans and occurrences as values: what the planner, the API and the console read.

A plan's stored row becomes a frozen :class:`Plan`, an occurrence's an :class:`Occurrence`;
the checklist templates (``templates.yaml``) are read once. No I/O beyond that file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, Final

import yaml

from facility_dispatch.maintenance.sql import OccurrenceRow, PlanRow


@cache
def templates() -> dict[str, dict[str, Any]]:
    text = (
        resources.files("facility_dispatch.maintenance")
        .joinpath("templates.yaml")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, dict[str, Any]] = yaml.safe_load(text)["templates"]
    return loaded


PLAN_FIELDS: Final = (
    "name", "description", "site", "asset", "kind", "every", "cron", "meter_metric",
    "meter_every", "starts_at", "lead_time_s", "priority", "skill", "checklist", "template",
    "interrupts", "duration_s", "notice_before_s", "levels",
)  # fmt: skip
"""What an edit of a plan sets (all of them, as a new plan gives them)."""


@dataclass(frozen=True, slots=True)
class Plan:
    id: int
    name: str
    description: str
    site: str
    asset: str | None
    kind: str | None
    every: str | None
    cron: str | None
    meter_metric: str | None
    meter_every: float | None
    starts_at: datetime
    lead_time: timedelta
    priority: str
    skill: str
    checklist: tuple[str, ...]
    template: str | None
    interrupts: str | None
    duration: timedelta
    notice_before: timedelta
    active: bool
    levels: str | None = None

    @property
    def meter(self) -> dict[str, Any] | None:
        if self.meter_metric is None:
            return None
        return {"metric": self.meter_metric, "every": self.meter_every}


def plan_of(row: PlanRow) -> Plan:
    return Plan(
        row.id,
        row.name,
        row.description,
        row.site,
        row.asset,
        row.kind,
        row.every,
        row.cron,
        row.meter_metric,
        row.meter_every,
        row.starts_at,
        timedelta(seconds=row.lead_time_s),
        row.priority,
        row.skill,
        tuple(row.checklist or ()),
        row.template,
        row.interrupts,
        timedelta(seconds=row.duration_s),
        timedelta(seconds=row.notice_before_s),
        row.active,
        row.levels,
    )


@dataclass(frozen=True, slots=True)
class Occurrence:
    plan_id: int
    asset: str
    key: str
    due_at: datetime
    status: str
    work_order_id: int | None
    reason: str | None
    id: int = 0
    ends_at: datetime | None = None
    building: str | None = None
    level: str | None = None


def occurrence_of(r: OccurrenceRow) -> Occurrence:
    return Occurrence(
        r.plan_id, r.asset, r.key, r.due_at, r.status, r.work_order_id, r.reason,
        r.id, r.ends_at, r.building, r.level,
    )  # fmt: skip


def ahead(plan: Plan) -> timedelta:
    """How long before its due time an occurrence is made: the plan's ``lead_time``, and for
    works that cut a service at least its ``notice_before``, since the notice is written with
    the occurrence (with a lead of 0 residents would learn of the works as they start)."""
    if plan.interrupts:
        return max(plan.lead_time, plan.notice_before)
    return plan.lead_time
