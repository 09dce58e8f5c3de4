"""Preventive maintenance: the plans, and their calendar (what comes next, what happened)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from facility_dispatch.api.backend import Backend
from facility_dispatch.api.dashboard.pages import PageDep
from facility_dispatch.maintenance.orders import WorkOrder
from facility_dispatch.maintenance.planning import Occurrence, Plan

router = APIRouter(include_in_schema=False)
HORIZON: Final = timedelta(days=56)
"""Eight weeks ahead: two half-monthly lift cycles and the next quarterly one show."""
PER_PLAN: Final = 12


@dataclass(frozen=True, slots=True)
class Upcoming:
    due_at: datetime
    plan: Plan


@dataclass(frozen=True, slots=True)
class Past:
    occurrence: Occurrence
    plan: Plan
    order: WorkOrder | None


def upcoming(service: Backend, plan: Plan, now: datetime) -> list[Upcoming]:
    """The next due times of a calendar plan within :data:`HORIZON`, from the planner's own
    arithmetic (``next_run`` gives the moment the order is made: the due time less the lead)."""
    found: list[Upcoming] = []
    moment = now
    while len(found) < PER_PLAN:
        made_at = service.planner.next_run(plan, moment)
        if made_at is None:
            break
        due = made_at + plan.lead_time
        if due > now + HORIZON:
            break
        found.append(Upcoming(due, plan))
        moment = made_at + timedelta(microseconds=1)
    return found


@router.get("/plans", response_class=HTMLResponse)
def plans_page(page: PageDep, site: str | None = None) -> HTMLResponse:
    service = page.service
    plans = service.planner.plans(site or None)
    active = [p for p in plans if p.active]
    next_at = {p.id: service.planner.next_run(p, page.now) for p in active}
    coming = sorted(
        (u for p in active for u in upcoming(service, p, page.now)), key=lambda u: u.due_at
    )
    orders, _ = service.work_orders.query(source="preventive", site=site or None, limit=1000)
    by_id = {o.id: o for o in orders}
    past = sorted(
        (
            Past(o, p, by_id.get(o.work_order_id) if o.work_order_id else None)
            for p in plans
            for o in service.planner.occurrences(p.id, limit=20)
        ),
        key=lambda x: x.occurrence.due_at,
        reverse=True,
    )[:60]
    return page.render(
        "plans.html",
        plans=plans,
        next_at=next_at,
        upcoming=coming,
        past=past,
        site=site or "",
    )
