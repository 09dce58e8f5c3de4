"""Preventive maintenance: plans, their occurrences, and the orders they make.

A plan is calendar based (``every`` or a ``cron`` expression, in the site's local time) or
meter based (a counter such as ``door_cycles``: every 50,000). A plan with ``levels`` stacks
maintenance levels (:mod:`.levels`: TSG T5002's half-monthly to yearly) on one 15-day visit.
Each occurrence is generated ``lead_time`` ahead of its due time as a preventive order, for
the plan's asset or for every asset of its kind at the site. An occurrence is recorded once per
(plan, asset, due time): the unique constraint makes a restart, a second scheduler or a
catch-up unable to double one. One that comes due while the previous order of the plan on that
asset is still open is recorded as skipped, so it shows, instead of stacking a second order.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from facility_dispatch.kernel.clock import Clock, from_ms
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.kernel.readings import Reading
from facility_dispatch.maintenance import lifecycle, plan_slots
from facility_dispatch.maintenance.errors import InvalidRequestError, NotFoundError
from facility_dispatch.maintenance.levels import Level, LevelsError, checklist, ladder, visit_number
from facility_dispatch.maintenance.notices import Notices, Reason
from facility_dispatch.maintenance.orders import SCHEDULER, Actor
from facility_dispatch.maintenance.plan_values import (
    PLAN_FIELDS,
    Occurrence,
    Plan,
    ahead,
    templates,
)
from facility_dispatch.maintenance.plan_values import occurrence_of as _occurrence
from facility_dispatch.maintenance.plan_values import plan_of as _plan
from facility_dispatch.maintenance.schedule import (
    Every,
    MeterState,
    ScheduleError,
    advance_meter,
    cron_times,
    due_times,
    window,
)
from facility_dispatch.maintenance.slots import place
from facility_dispatch.maintenance.sql import MeterStateRow, OccurrenceRow, PlanRow, WorkOrderRow
from facility_dispatch.maintenance.stagger import stagger
from facility_dispatch.maintenance.work_orders import WorkOrderService

log = logging.getLogger(__name__)

CATCH_UP: Final = timedelta(days=400)
"""How far back a plan looks for occurrences it missed (while the service was down)."""


class Planner:
    def __init__(
        self,
        sessions: Sessions,
        work_orders: WorkOrderService,
        notices: Notices,
        assets_of_kind: Callable[[str, str], list[str]],
        clock: Clock,
        timezone: str,
        zone_of: Callable[[str], str | None] | None = None,
        building_of: Callable[[str, str], str | None] | None = None,
        events: EventLog | None = None,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._work_orders = work_orders
        self._notices = notices
        self._assets_of_kind = assets_of_kind
        self._clock = clock
        self._zone = ZoneInfo(timezone)
        self._zone_of = zone_of or (lambda site: None)
        self._building_of = building_of or (lambda site, asset: None)
        self._meters: dict[tuple[int, str], MeterState] = {}
        self._meter_plans: dict[str, list[Plan]] = {}
        self._meters_dirty: set[tuple[int, str]] = set()
        self._lock = threading.Lock()
        self._placing = threading.RLock()
        self._next_runs: dict[tuple[Any, ...], datetime | None] = {}

    # -- plans -----------------------------------------------------------------------------

    def create(self, created_by: str, **fields: Any) -> Plan:
        """Check and store a plan; its first occurrences are generated at once if due."""
        self._check(fields)
        with self._sessions.begin() as session:
            row = PlanRow(
                created_at=self._clock.now(), created_by=created_by, active=True, **fields
            )
            session.add(row)
            session.flush()
            plan = _plan(row)
        self._meter_plans.clear()
        self.run(plan.id)
        return plan

    def _check(self, fields: dict[str, Any]) -> None:
        has_calendar = bool(fields.get("every") or fields.get("cron"))
        has_meter = bool(fields.get("meter_metric"))
        if has_calendar == has_meter or (fields.get("every") and fields.get("cron")):
            raise InvalidRequestError("give exactly one of every, cron or meter")
        if not fields.get("asset") and not fields.get("kind"):
            raise InvalidRequestError("give an asset, or a kind (every asset of it at the site)")
        try:
            if fields.get("every"):
                Every.parse(fields["every"])
            if fields.get("cron"):
                next(
                    cron_times(
                        fields["cron"],
                        fields["starts_at"],
                        self.zone(fields["site"]),
                        fields["starts_at"],
                        fields["starts_at"] + timedelta(days=400),
                    ),
                    None,
                )
        except ScheduleError as error:
            raise InvalidRequestError(str(error)) from None
        if fields.get("levels"):
            self._check_levels(fields)
        template = fields.get("template")
        if template is not None and template not in templates():
            known = ", ".join(sorted(templates()))
            raise InvalidRequestError(f"no checklist template {template!r} (known: {known})")

    @staticmethod
    def _check_levels(fields: dict[str, Any]) -> None:
        """A levels plan counts visits of its ladder's base interval (15 days): an interval
        schedule of exactly that, and no template of its own (the levels bring theirs)."""
        try:
            known = ladder(fields["levels"])
        except LevelsError as error:
            raise InvalidRequestError(str(error)) from None
        every = fields.get("every")
        if not every or Every.parse(every) != Every.parse(known.base):
            raise InvalidRequestError(
                f"levels {known.name}: give every={known.base} (the visits it counts)"
            )
        if fields.get("template"):
            raise InvalidRequestError("levels bring their own templates: leave template empty")

    def update(self, plan_id: int, **fields: Any) -> Plan:
        """Change a plan (its schedule, checklist, works...), checked as a new one is; what was
        made stays, the next occurrences follow the new schedule."""
        self._check(fields)
        with self._sessions.begin() as session:
            row = session.get(PlanRow, plan_id)
            if row is None:
                raise NotFoundError(f"no plan {plan_id}")
            for name in PLAN_FIELDS:
                setattr(row, name, fields.get(name))
            plan = _plan(row)
        self._meter_plans.clear()
        self.run(plan.id)
        return plan

    def resume(self, plan_id: int) -> Plan:
        """A paused plan runs again (from now: what fell due while paused is not made)."""
        with self._sessions.begin() as session:
            row = session.get(PlanRow, plan_id)
            if row is None:
                raise NotFoundError(f"no plan {plan_id}")
            row.active = True
            plan = _plan(row)
        self._meter_plans.clear()
        self.run(plan.id)
        return plan

    def plan(self, plan_id: int) -> Plan | None:
        with self._sessions() as session:
            row = session.get(PlanRow, plan_id)
            return _plan(row) if row else None

    def plans(self, site: str | None = None, active: bool | None = None) -> list[Plan]:
        with self._sessions() as session:
            stmt = select(PlanRow)
            if site:
                stmt = stmt.where(PlanRow.site == site)
            if active is not None:
                stmt = stmt.where(PlanRow.active.is_(active))
            return [_plan(r) for r in session.scalars(stmt.order_by(PlanRow.id))]

    def deactivate(self, plan_id: int) -> Plan:
        with self._sessions.begin() as session:
            row = session.get(PlanRow, plan_id)
            if row is None:
                raise NotFoundError(f"no plan {plan_id}")
            row.active = False
            plan = _plan(row)
        self._meter_plans.clear()
        return plan

    def occurrences(self, plan_id: int, limit: int = 200) -> list[Occurrence]:
        with self._sessions() as session:
            rows = session.scalars(
                select(OccurrenceRow)
                .where(OccurrenceRow.plan_id == plan_id)
                .order_by(OccurrenceRow.due_at.desc(), OccurrenceRow.asset)
                .limit(limit)
            )
            return [_occurrence(r) for r in rows]

    def skipped_due(self, site: str | None) -> list[datetime]:
        """Due times of occurrences skipped because the previous order was still open."""
        with self._sessions() as session:
            stmt = (
                select(OccurrenceRow.due_at)
                .join(PlanRow, PlanRow.id == OccurrenceRow.plan_id)
                .where(OccurrenceRow.status == "skipped")
            )
            if site:
                stmt = stmt.where(PlanRow.site == site)
            return list(session.scalars(stmt))

    def _targets(self, plan: Plan) -> list[str]:
        """The plan's asset, or every asset of its kind at the site known now."""
        if plan.asset:
            return [plan.asset]
        assert plan.kind is not None
        return sorted(self._assets_of_kind(plan.site, plan.kind))

    def checklist_of(self, plan: Plan, level: Level | None = None) -> list[str]:
        """The template's items (a levels plan: the union of the stacked levels'), then the
        plan's own."""
        if plan.levels and level is not None:
            items_of = {name: list(t["items"]) for name, t in templates().items()}
            items = checklist(ladder(plan.levels), level, items_of)
        else:
            items = list(templates()[plan.template]["items"]) if plan.template else []
        return [*items, *(item for item in plan.checklist if item not in items)]

    def level_at(self, plan: Plan, due: datetime) -> Level | None:
        """The level of a levels plan's visit due at ``due`` (None for other plans)."""
        if not plan.levels or not plan.every:
            return None
        known = ladder(plan.levels)
        base = Every.parse(known.base).fixed
        return known.level(visit_number(plan.starts_at, due, base, self.zone(plan.site)))

    # -- calendar ------------------------------------------------------------------------------

    def zone(self, site: str) -> ZoneInfo:
        """The site's local time (its calendar), or the installation's."""
        name = self._zone_of(site)
        return ZoneInfo(name) if name else self._zone

    def due(self, plan: Plan, now: datetime) -> list[datetime]:
        """Due times whose orders should exist by ``now`` (generated :func:`ahead`)."""
        after = max(plan.starts_at - timedelta(microseconds=1), now - CATCH_UP)
        until = now + ahead(plan)
        zone = self.zone(plan.site)
        if plan.every:
            return list(due_times(plan.starts_at, Every.parse(plan.every), zone, after, until))
        if plan.cron:
            return list(cron_times(plan.cron, plan.starts_at, zone, after, until))
        return []

    def next_run(self, plan: Plan, now: datetime) -> datetime | None:
        """When the next order of a calendar plan is to be made (its due time less the lead)."""
        horizon = now + ahead(plan) + timedelta(days=800)
        after = now + ahead(plan)
        zone = self.zone(plan.site)
        if plan.every:
            upcoming = due_times(plan.starts_at, Every.parse(plan.every), zone, after, horizon)
        elif plan.cron:
            upcoming = cron_times(plan.cron, plan.starts_at, zone, after, horizon)
        else:
            return None
        following = next(iter(upcoming), None)
        return following - ahead(plan) if following else None

    def run(self, plan_id: int) -> int:
        """Make the orders of every occurrence due by now; what exists is left alone."""
        plan = self.plan(plan_id)
        if plan is None or not plan.active or plan.meter_metric:
            return 0
        made = 0
        now = self._clock.now()
        with self._placing:  # slots placed and stored one plan at a time (in this process)
            for due in self.due(plan, now):
                level = self.level_at(plan, due)
                for asset, starts in self.starts(plan, due, booked=True).items():
                    made += self._occur(plan, asset, due.isoformat(), starts, level)
        return made

    def starts(
        self,
        plan: Plan,
        due: datetime,
        booked: bool = False,
        targets: Sequence[str] | None = None,
    ) -> dict[str, datetime]:
        """When the works on each target begin. Works that stop their asset (lifts, pumps)
        never overlap another such slot in the asset's group (its building or booster
        station), from this plan or, when ``booked``, any stored one (:mod:`.slots`)."""
        targets = self._targets(plan) if targets is None else targets
        if not plan.interrupts:
            return {asset: due for asset in targets}
        if not booked:
            return stagger(targets, lambda a: self._building_of(plan.site, a), due, plan.duration)
        groups: dict[str | None, list[str]] = {}
        for asset in targets:
            groups.setdefault(self._building_of(plan.site, asset), []).append(asset)
        starts: dict[str, datetime] = {}
        for building, assets in groups.items():
            with self._sessions() as session:
                held = plan_slots.held(session, plan.site, building, due, due + plan_slots.REACH)
            starts |= place(assets, due, plan.duration, held)
        return starts

    def run_all(self) -> int:
        """Every active calendar plan (on start, this is the catch-up after downtime)."""
        self._finish_interrupted()
        return sum(self.run(plan.id) for plan in self.plans(active=True))

    def _occur(
        self, plan: Plan, asset: str, key: str, due: datetime, level: Level | None = None
    ) -> int:
        """Record one occurrence and make its order (or record it as skipped). 1 if made."""
        now = self._clock.now()
        try:
            with self._sessions.begin() as session:
                previous = session.scalars(
                    select(OccurrenceRow)
                    .where(
                        OccurrenceRow.plan_id == plan.id,
                        OccurrenceRow.asset == asset,
                        OccurrenceRow.status == "generated",
                        OccurrenceRow.due_at < due,
                    )
                    .order_by(OccurrenceRow.due_at.desc())
                    .limit(1)
                ).first()
                still_open = None
                if previous is not None and previous.work_order_id is not None:
                    order = session.get(WorkOrderRow, previous.work_order_id)
                    if order is not None and lifecycle.Status(order.status) not in (
                        lifecycle.FINISHED | lifecycle.DONE
                    ):
                        still_open = order.number
                session.add(
                    OccurrenceRow(
                        plan_id=plan.id,
                        asset=asset,
                        key=key,
                        due_at=due,
                        status="skipped" if still_open else "generating",
                        reason=f"{still_open} (the previous one) is still open"
                        if still_open
                        else None,
                        created_at=now,
                        ends_at=due + plan.duration if plan.interrupts else None,
                        site=plan.site if plan.interrupts else None,
                        building=self._building_of(plan.site, asset) if plan.interrupts else None,
                        level=level.name if level else None,
                    )
                )
        except IntegrityError:
            return 0  # made already: by another scheduler, or before a restart
        if still_open:
            log.info("plan %s on %s due %s skipped: %s still open", plan.id, asset, due, still_open)
            return 0
        self._make_order(plan, asset, key, due, level)
        return 1

    def _make_order(
        self, plan: Plan, asset: str, key: str, due: datetime, level: Level | None = None
    ) -> None:
        local = due.astimezone(self.zone(plan.site))
        named = f" {level.zh}保养 / {level.en} maintenance" if level else ""
        order = self._work_orders.create(
            SCHEDULER,
            site=plan.site,
            asset=asset,
            kind=plan.kind,
            title=f"{plan.name}: {asset}{named} (due {local:%Y-%m-%d %H:%M})",
            description=plan.description,
            priority=plan.priority,
            skill=plan.skill,
            source="preventive",
            channel="plan",
            plan_id=plan.id,
            due_at=due,
            resolve_by=due + self._window(plan),
            counted_from=due,  # made ahead (lead time): its clock starts at the due time
            interrupts=plan.interrupts,
            checklist=self.checklist_of(plan, level),
        )
        with self._sessions.begin() as session:
            row = session.scalars(
                select(OccurrenceRow).where(
                    OccurrenceRow.plan_id == plan.id,
                    OccurrenceRow.asset == asset,
                    OccurrenceRow.key == key,
                )
            ).one()
            row.status = "generated"
            row.work_order_id = order.id
            if self._events is not None:  # SPEC 6's plan.due, routable to people
                self._events.record(
                    session,
                    "plan.due",
                    self._clock.now(),
                    {
                        "plan_id": plan.id,
                        "plan": plan.name,
                        "site": plan.site,
                        "asset": asset,
                        "kind": plan.kind,
                        "priority": plan.priority,
                        "due_at": due.isoformat(),
                        "work_order_id": order.id,
                        "number": order.number,
                    },
                    plan.site,
                )
            notice = None
            if plan.interrupts:  # with the occurrence: a crash leaves both or neither
                notice = self._notices.announce(
                    plan.site,
                    plan.interrupts,
                    due,
                    due + plan.duration,
                    works_reason(plan.name, level),
                    asset=asset,
                    planned=True,
                    work_order_id=order.id,
                    plan_id=plan.id,
                    publish_at=due - plan.notice_before,  # residents told notice_before ahead
                    within=session,
                )
        if self._events is not None:
            self._events.notify()
        if notice is not None:
            self._notices.shown(notice)

    def move(
        self, plan_id: int, occurrence_id: int, starts_at: datetime, actor: Actor
    ) -> Occurrence:
        """The planner moves one occurrence's slot: refused (ConflictError naming the asset and
        its time) if it would overlap another slot of its group; the order's due time and
        deadlines move with it, and residents get the new time (the old notice is cancelled)."""
        plan = self.plan(plan_id)
        if plan is None:
            raise NotFoundError(f"no plan {plan_id}")
        zone = self.zone(plan.site)
        now = self._clock.now()
        with self._placing, self._sessions.begin() as session:
            row = plan_slots.occurrence(session, plan_id, occurrence_id)
            ends_at = plan_slots.check_move(session, row, starts_at, zone)
            row.due_at = starts_at
            if row.ends_at is not None:
                row.ends_at = ends_at
            assert row.work_order_id is not None  # check_move: only generated ones move
            self._work_orders.reschedule(session, row.work_order_id, starts_at, actor, now)
            moved = _occurrence(row)
        if plan.interrupts and moved.work_order_id is not None:
            self._notices.cancel_for_order(moved.work_order_id)
            level = next((x for x in _rungs(plan) if x.name == moved.level), None)
            notice = self._notices.announce(
                plan.site,
                plan.interrupts,
                starts_at,
                starts_at + plan.duration,
                works_reason(plan.name, level),
                asset=moved.asset,
                planned=True,
                work_order_id=moved.work_order_id,
                plan_id=plan.id,
                publish_at=max(now, starts_at - plan.notice_before),
            )
            self._notices.shown(notice)
        return moved

    def _window(self, plan: Plan) -> timedelta:
        if plan.every:
            return window(Every.parse(plan.every))
        return timedelta(days=1)

    def _finish_interrupted(self) -> None:
        """Occurrences recorded but whose order was never made (a crash in between)."""
        with self._sessions() as session:
            stuck = session.scalars(
                select(OccurrenceRow).where(OccurrenceRow.status == "generating")
            ).all()
        for row in stuck:
            plan = self.plan(row.plan_id)
            if plan is not None:
                level = next((x for x in _rungs(plan) if x.name == row.level), None)
                self._make_order(plan, row.asset, row.key, row.due_at, level)

    # -- the calendar ----------------------------------------------------------------------

    def sweep(self) -> int:
        """The leader's calendar, every 30 s: run each calendar plan whose next order is due,
        found by the pure :meth:`next_run`. Nothing is stored but the occurrences themselves
        (unique per plan, asset and due time), so a restart, a new leader or an edited plan
        leaves no job behind and misses nothing (the first sweep of a process runs every plan
        once: the catch-up after downtime). Returns the orders made."""
        if not self._next_runs:
            self._finish_interrupted()
        now = self._clock.now()
        made = 0
        known: dict[tuple[Any, ...], datetime | None] = {}
        for plan in self.plans(active=True):
            if plan.meter_metric:
                continue
            # an edited plan is another key: its next run is worked out afresh
            key = (plan.id, plan.every, plan.cron, plan.starts_at, ahead(plan), plan.site)
            if key not in self._next_runs or _due(self._next_runs[key], now):
                made += self.run(plan.id)
                known[key] = self.next_run(plan, now)
            else:
                known[key] = self._next_runs[key]
        self._next_runs = known  # deactivated and edited plans drop out
        return made

    # -- meters --------------------------------------------------------------------------------

    def _plans_by_metric(self) -> dict[str, list[Plan]]:
        if not self._meter_plans:
            grouped: dict[str, list[Plan]] = {}
            for plan in self.plans(active=True):
                if plan.meter_metric:
                    grouped.setdefault(plan.meter_metric, []).append(plan)
            self._meter_plans = grouped or {"": []}
        return self._meter_plans

    def load_meters(self) -> None:
        with self._sessions() as session:
            for row in session.scalars(select(MeterStateRow)):
                self._meters[(row.plan_id, row.asset)] = MeterState(
                    row.last_value, row.usage, row.cycles
                )

    def on_readings(self, readings: Sequence[Reading]) -> None:
        """Counters drive meter plans: called with every stored batch (ingest's thread)."""
        by_metric = self._plans_by_metric()
        if not any(by_metric.values()):
            return
        crossed: list[tuple[Plan, str, int, int]] = []
        with self._lock:
            for reading in readings:
                for metric, plans in by_metric.items():
                    value = reading.metrics.get(metric)
                    if value is None or isinstance(value, bool | str):
                        continue
                    for plan in plans:
                        if plan.site != reading.site or not self._concerns(plan, reading):
                            continue
                        key = (plan.id, reading.asset)
                        state = self._meters.get(key, MeterState())
                        state, cycles = advance_meter(state, float(value), plan.meter_every or 0)
                        self._meters[key] = state
                        self._meters_dirty.add(key)
                        crossed.extend((plan, reading.asset, c, reading.ts_ms) for c in cycles)
        for plan, asset, cycle, ts_ms in crossed:
            self.flush_meters()  # the count that made it is on disk before the order exists
            due = from_ms(ts_ms)
            with self._placing:  # works that stop the asset wait for its group's free slot
                starts = self.starts(plan, due, booked=True, targets=[asset])[asset]
                self._occur(plan, asset, f"meter:{cycle}", starts)

    @staticmethod
    def _concerns(plan: Plan, reading: Reading) -> bool:
        return reading.asset == plan.asset if plan.asset else reading.kind == plan.kind

    def flush_meters(self) -> None:
        with self._lock:
            dirty, self._meters_dirty = self._meters_dirty, set()
            states = {key: self._meters[key] for key in dirty}
        if not states:
            return
        try:
            with self._sessions.begin() as session:
                for (plan_id, asset), state in states.items():
                    row = session.get(MeterStateRow, (plan_id, asset))
                    if row is None:
                        row = MeterStateRow(plan_id=plan_id, asset=asset)
                        session.add(row)
                    row.last_value, row.usage, row.cycles = (
                        state.last_value,
                        state.usage,
                        state.cycles,
                    )
        except Exception:
            with self._lock:
                self._meters_dirty |= set(states)
            raise

    def meter(self, plan_id: int, asset: str) -> MeterState | None:
        return self._meters.get((plan_id, asset))


def works_reason(plan_name: str, level: Level | None) -> Reason:
    """Why residents lose the service, in each language: the plan's name split by language
    ("水箱清洗 Tank cleaning") and the visit's level ("半年保养" / "half-yearly maintenance"),
    never the asset's id (the notice names the building and the lift)."""
    reason = Reason.of(plan_name)
    return reason.and_level(f"{level.zh}保养", f"{level.en} maintenance") if level else reason


def _rungs(plan: Plan) -> tuple[Level, ...]:
    return ladder(plan.levels).levels if plan.levels else ()


def _due(when: datetime | None, now: datetime) -> bool:
    return when is not None and when <= now
