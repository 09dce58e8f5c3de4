"""Preventive maintenance: the plans, their calendar by month or week (what comes next, what
happened, at which site), one plan with its occurrences, and the planner's form for a new one
or an edit (a plan keeps its kind of schedule: interval, crontab or meter).

Actions post to the JSON API (``POST /api/v1/maintenance-plans``, ``PUT`` to edit, ``DELETE``
to pause, ``POST .../occurrences/{id}/move`` to move a slot). A plan whose works stop its asset,
or that stacks levels, shows its coming year: each visit's slot and level."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from facility_dispatch.api.backend import Backend
from facility_dispatch.api.dashboard import wording
from facility_dispatch.api.dashboard.pages import Page, PageDep
from facility_dispatch.kernel.durations import format_duration
from facility_dispatch.maintenance.levels import ladder
from facility_dispatch.maintenance.orders import WorkOrder
from facility_dispatch.maintenance.plan_forecast import Visit, forecast
from facility_dispatch.maintenance.plan_values import Occurrence, Plan, templates

router = APIRouter(include_in_schema=False)
HORIZON: Final = timedelta(days=62)
"""Two months ahead: two half-monthly lift cycles, and the month the calendar shows."""
PER_PLAN: Final = 70
YEAR: Final = timedelta(days=365)
"""How far a plan's page shows its visits: a whole ladder of levels (the yearly one again)."""


@dataclass(frozen=True, slots=True)
class Upcoming:
    due_at: datetime
    plan: Plan
    asset: str | None = None


@dataclass(frozen=True, slots=True)
class Past:
    occurrence: Occurrence
    plan: Plan
    order: WorkOrder | None


def upcoming(service: Backend, plan: Plan, now: datetime) -> list[Upcoming]:
    """The next due times of a calendar plan within :data:`HORIZON`, from the planner's own
    arithmetic (``next_run`` gives the moment the order is made: the due time less the lead),
    each target at its own (staggered) start."""
    found: list[Upcoming] = []
    moment = now
    while len(found) < PER_PLAN:
        made_at = service.planner.next_run(plan, moment)
        if made_at is None:
            break
        due = made_at + plan.lead_time
        if due > now + HORIZON:
            break
        starts = service.planner.starts(plan, due)
        found += [Upcoming(at, plan, asset) for asset, at in starts.items()] or [
            Upcoming(due, plan)
        ]
        moment = made_at + timedelta(microseconds=1)
    return found


def schedule_text(plan: Plan, page: Page) -> str:
    if plan.every:
        return wording.every_text(plan.every, page.t)
    if plan.cron:
        return wording.cron_text(plan.cron, page.t)
    if plan.meter:
        return page.t("plans.meter", every=plan.meter["every"], metric=plan.meter["metric"])
    return "—"


def month_grid(anchor: date, view: str) -> list[list[date]]:
    """The weeks (Monday first) the calendar shows: the anchor's month, or its week."""
    if view == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        return [[monday + timedelta(days=i) for i in range(7)]]
    first = anchor.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    day = first - timedelta(days=first.weekday())
    weeks = []
    while day <= last:
        weeks.append([day + timedelta(days=i) for i in range(7)])
        day += timedelta(days=7)
    return weeks


@router.get("/plans", response_class=HTMLResponse)
def plans_page(
    page: PageDep,
    site: str | None = None,
    view: Literal["month", "week"] = "month",
    on: str = "",
) -> HTMLResponse:
    """The plans and the calendar of a month or a week: occurrences to come, and those past
    with their orders (an occurrence whose order was made ahead shows on its day, not among
    the past ones)."""
    service = page.service
    plans = service.planner.plans(site or None)
    active = [p for p in plans if p.active]
    next_at = {p.id: service.planner.next_run(p, page.now) for p in active}
    coming = sorted(
        (u for p in active for u in upcoming(service, p, page.now)), key=lambda u: u.due_at
    )
    orders, _ = service.work_orders.query(source="preventive", site=site or None, limit=1000)
    by_id = {o.id: o for o in orders}
    made = [
        Past(o, p, by_id.get(o.work_order_id) if o.work_order_id else None)
        for p in plans
        for o in service.planner.occurrences(p.id, limit=60)
    ]
    past = sorted(
        (x for x in made if x.occurrence.due_at <= page.now),
        key=lambda x: x.occurrence.due_at,
        reverse=True,
    )[:60]
    try:
        anchor = date.fromisoformat(on) if on else page.now.astimezone(page.zone(site)).date()
    except ValueError:
        anchor = page.now.astimezone(page.zone(site)).date()
    weeks = month_grid(anchor, view)
    days: dict[date, list[tuple[datetime, Plan, str | None, str, WorkOrder | None]]] = defaultdict(
        list
    )
    for x in made:
        local = x.occurrence.due_at.astimezone(page.zone(x.plan.site)).date()
        days[local].append(
            (x.occurrence.due_at, x.plan, x.occurrence.asset, x.occurrence.status, x.order)
        )
    for u in coming:
        local = u.due_at.astimezone(page.zone(u.plan.site)).date()
        days[local].append((u.due_at, u.plan, u.asset, "upcoming", None))
    for items in days.values():
        items.sort(key=lambda item: item[0])
    step = timedelta(days=7) if view == "week" else timedelta(days=31)
    return page.render(
        "plans.html",
        plans=plans,
        next_at=next_at,
        schedules={p.id: schedule_text(p, page) for p in plans},
        upcoming=coming[:40],
        past=past,
        site=site or "",
        view=view,
        weeks=weeks,
        days=days,
        month=anchor.replace(day=1),
        anchor=anchor,
        before=(anchor - step).isoformat(),
        after=(anchor + step).isoformat(),
        today=page.now.astimezone(page.zone(site)).date(),
        templates=sorted(templates()),
    )


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(plan_id: int, page: PageDep) -> HTMLResponse:
    """One plan: what, where, when, and every occurrence with its order."""
    service = page.service
    plan = service.planner.plan(plan_id)
    if plan is None:
        return page.not_found(page.t("plans.missing", id=plan_id))
    orders, _ = service.work_orders.query(source="preventive", site=plan.site, limit=1000)
    by_id = {o.id: o for o in orders}
    occurrences = service.planner.occurrences(plan.id, limit=200)
    year: list[Visit] = []
    if plan.active and (plan.levels or plan.interrupts) and not plan.meter_metric:
        year = forecast(service.planner, plan, page.now - timedelta(days=1), page.now + YEAR)
    return page.render(
        "plan.html",
        plan=plan,
        schedule=schedule_text(plan, page),
        next_at=service.planner.next_run(plan, page.now) if plan.active else None,
        occurrences=[
            Past(o, plan, by_id.get(o.work_order_id) if o.work_order_id else None)
            for o in occurrences
        ],
        coming=upcoming(service, plan, page.now)[:20] if plan.active else [],
        templates=sorted(templates()),
        site=plan.site,
        durations=kept_durations(plan),
        cron_words=wording.cron_text(plan.cron, page.t) if plan.cron else "",
        year=year,
        level_counts={
            level.name: sum(1 for v in year if v.level == level.name)
            for level in (ladder(plan.levels).levels if plan.levels else ())
        },
    )


def kept_durations(plan: Plan) -> dict[str, str]:
    """The plan's lead time, works' duration and notice as the form sends them back, so that an
    edit keeps what the form does not offer (a 2-day lead, a 48-hour notice)."""
    return {
        "lead_time": format_duration(plan.lead_time) if plan.lead_time else "0s",
        "duration": format_duration(plan.duration),
        "notice_before": format_duration(plan.notice_before),
    }
