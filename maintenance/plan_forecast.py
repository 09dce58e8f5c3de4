"""What a plan will do: its coming visits, each asset's slot and (levels plans) its level.

For the planner's year view: the stored occurrences as they are (moved or not), the ones not
made yet from the planner's own arithmetic (due times, levels, and the plan's own staggering:
slots of other plans are known only once stored, so a future slot may still move when its
occurrence is made, never onto a held one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from facility_dispatch.maintenance.plan_values import Plan
from facility_dispatch.maintenance.planning import Planner
from facility_dispatch.maintenance.schedule import Every, cron_times, due_times


@dataclass(frozen=True, slots=True)
class Visit:
    """One asset's coming (or made) visit: its plan due time and its own slot."""

    due_at: datetime
    asset: str
    starts_at: datetime
    ends_at: datetime | None
    level: str | None
    occurrence_id: int | None
    status: str


def forecast(planner: Planner, plan: Plan, start: datetime, until: datetime) -> list[Visit]:
    """The visits of a calendar plan due from ``start`` to ``until``, in time order."""
    zone = planner.zone(plan.site)
    after = max(start, plan.starts_at - timedelta(microseconds=1))
    if plan.every:
        dues = list(due_times(plan.starts_at, Every.parse(plan.every), zone, after, until))
    elif plan.cron:
        dues = list(cron_times(plan.cron, plan.starts_at, zone, after, until))
    else:
        return []
    stored = {(o.key, o.asset): o for o in planner.occurrences(plan.id, limit=1000)}
    visits: list[Visit] = []
    for due in dues:
        level = planner.level_at(plan, due)
        for asset, starts in planner.starts(plan, due).items():
            made = stored.get((due.isoformat(), asset))
            if made is not None:
                visits.append(
                    Visit(due, asset, made.due_at, made.ends_at, made.level, made.id, made.status)
                )
                continue
            ends = starts + plan.duration if plan.interrupts else None
            name = level.name if level else None
            visits.append(Visit(due, asset, starts, ends, name, None, "upcoming"))
    return sorted(visits, key=lambda v: (v.starts_at, v.asset))
