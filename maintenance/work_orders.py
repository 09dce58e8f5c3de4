"""Work orders: opened from alarms or by people, assigned, worked through their lifecycle.

Every change is a timeline entry (who, when, from, to, note) and an event, written in the same
transaction as the change. The lifecycle, the deadlines and the choice of technician are pure
(:mod:`maintenance.lifecycle`, :mod:`maintenance.sla`, :mod:`maintenance.assignment`); this
module applies them to the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facility.clock import Clock, rfc3339
from facility.db import Sessions
from facility.events import EventLog
from maintenance import lifecycle, sla
from maintenance.assignment import Assignment, Job, Policy, assign
from maintenance.errors import ConflictError, InvalidRequestError, NotFoundError, NotYoursError
from maintenance.lifecycle import Status
from maintenance.people import People
from maintenance.playbooks import Playbook, for_fault
from maintenance.sql import (
    AssigneeRow,
    ChecklistRow,
    NotificationRow,
    TimelineRow,
    WorkOrderRow,
)
from rules.sql import AlarmRow

log = logging.getLogger(__name__)

SOURCES = ("alarm", "preventive", "manual")
CHANNELS = ("alarm", "plan", "phone", "app", "wechat", "walk_in", "walk_round")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a person by name, the technician they are (if one), and whether they may act
    on orders that are not theirs (planners, admins, the dispatcher itself)."""

    name: str
    technician_id: int | None = None
    on_any_order: bool = True


DISPATCHER = Actor("dispatcher")
SCHEDULER = Actor("scheduler")


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    actor: str
    event: str
    from_: str | None
    to: str | None
    note: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    id: int
    position: int
    key: str | None
    text: str
    target_at: datetime | None
    result: str | None
    value: Any
    done_at: datetime | None
    done_by: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class WorkOrder:
    id: int
    number: str
    title: str
    description: str
    site: str
    asset: str | None
    kind: str | None
    building: str | None
    source: str
    channel: str | None
    reporter: str | None
    fault: str | None
    priority: str
    skill: str
    status: str
    assignees: tuple[int, ...]
    alarm_ids: tuple[int, ...]
    created_at: datetime
    updated_at: datetime
    respond_by: datetime
    resolve_by: datetime
    responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    escalation: str | None
    plan_id: int | None
    due_at: datetime | None
    interrupts: str | None
    cost: float
    timeline: tuple[TimelineEntry, ...] = ()
    checklist: tuple[ChecklistItem, ...] = ()

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(lifecycle.allowed(Status(self.status)))

    @property
    def breached(self) -> bool:
        return self.response_breached_at is not None or self.resolution_breached_at is not None


TransitionHook = Callable[[WorkOrder, str, str], None]


@dataclass
class _Pending:
    """What to tell after the commit."""

    orders: set[int] = field(default_factory=set)
    transitions: list[tuple[int, str, str]] = field(default_factory=list)


class WorkOrderService:
    def __init__(
        self,
        sessions: Sessions,
        events: EventLog,
        people: People,
        clock: Clock,
        *,
        policy: Policy | None = None,
        timezone: str = "Asia/Shanghai",
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._people = people
        self._clock = clock
        self._policy = policy or Policy()
        self._zone = ZoneInfo(timezone)
        self._transition_hooks: list[TransitionHook] = []

    def on_transition(self, hook: TransitionHook) -> None:
        """Called after a committed status change: (order, from, to)."""
        self._transition_hooks.append(hook)

    # -- creating -----------------------------------------------------------------------------

    def _number(self, session: Session, at: datetime) -> str:
        year = at.astimezone(self._zone).year
        value = session.execute(
            text(
                "INSERT INTO counters (name, value) VALUES (:name, 1) "
                "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value"
            ),
            {"name": f"work-order-{year}"},
        ).scalar_one()
        return f"WO-{year}-{int(value):06d}"

    def _levels(self, site: str) -> dict[str, sla.Level]:
        known = self._people.site(site)
        return known.levels() if known else dict(sla.DEFAULT_LEVELS)

    def _insert(
        self,
        session: Session,
        now: datetime,
        actor: Actor,
        *,
        site: str,
        title: str,
        priority: str,
        skill: str,
        source: str,
        description: str = "",
        asset: str | None = None,
        kind: str | None = None,
        building: str | None = None,
        channel: str | None = None,
        reporter: str | None = None,
        fault: str | None = None,
        plan_id: int | None = None,
        due_at: datetime | None = None,
        interrupts: str | None = None,
        checklist: Sequence[str] = (),
    ) -> WorkOrderRow:
        if priority not in sla.PRIORITIES:
            raise InvalidRequestError(f"priority {priority!r} is not one of P1, P2, P3, P4")
        respond_by, resolve_by = sla.deadlines(priority, now, self._levels(site))
        row = WorkOrderRow(
            number=self._number(session, now),
            title=title,
            description=description,
            site=site,
            asset=asset,
            kind=kind,
            building=building,
            source=source,
            channel=channel,
            reporter=reporter,
            fault=fault,
            priority=priority,
            skill=skill,
            status=Status.OPEN,
            created_at=now,
            updated_at=now,
            respond_by=respond_by,
            resolve_by=resolve_by,
            plan_id=plan_id,
            due_at=due_at,
            interrupts=interrupts,
            cost=0.0,
        )
        session.add(row)
        session.flush()
        playbook = for_fault(fault)
        position = 0
        if playbook is not None:
            position = self._add_playbook(session, row, playbook, now)
        for item in checklist:
            session.add(ChecklistRow(work_order_id=row.id, position=position, text=item))
            position += 1
        note = (
            f"from {channel}" + (f", reported by {reporter}" if reporter else "")
            if channel
            else None
        )
        self._log(session, row, now, actor, "created", None, Status.OPEN, note)
        if playbook is not None:
            self._log(
                session,
                row,
                now,
                actor,
                "playbook",
                None,
                None,
                f"emergency playbook: {playbook.title}",
                {"contacts": playbook.contacts},
            )
        return row

    def _add_playbook(
        self, session: Session, row: WorkOrderRow, playbook: Playbook, now: datetime
    ) -> int:
        for position, step in enumerate(playbook.steps):
            session.add(
                ChecklistRow(
                    work_order_id=row.id,
                    position=position,
                    key=step.key,
                    text=step.text,
                    target_at=now + step.target if step.target else None,
                )
            )
        return len(playbook.steps)

    def create(self, actor: Actor, auto_assign: bool = True, **fields: Any) -> WorkOrder:
        """A manual (or preventive) order; assigned at once by the dispatch rules."""
        now = self._clock.now()
        pending = _Pending()
        with self._sessions.begin() as session:
            try:
                with session.begin_nested():
                    row = self._insert(session, now, actor, **fields)
            except IntegrityError:
                raise ConflictError(
                    f"an order for {fields.get('fault')} on {fields.get('site')}/"
                    f"{fields.get('asset')} is already open"
                ) from None
            pending.orders.add(row.id)
            if auto_assign:
                self._auto_assign(session, row, now, DISPATCHER)
            order_id = row.id
        self._after(pending)
        return self._get(order_id)

    def open_from_alarm(
        self, alarm_id: int, priority: str, skill: str, description: str = "", full: bool = True
    ) -> tuple[WorkOrder, bool]:
        """Open an order for a firing alarm, or join the active one of its (asset, fault).

        The partial unique index decides under concurrency: if another thread or worker opened
        it first, the insert fails and this alarm joins theirs."""
        now = self._clock.now()
        pending = _Pending()
        created = False
        with self._sessions.begin() as session:
            alarm = session.get(AlarmRow, alarm_id)
            if alarm is None:
                raise NotFoundError(f"no alarm {alarm_id}")
            row = self._active_for(session, alarm.site, alarm.asset, alarm.fault)
            if row is None:
                try:
                    with session.begin_nested():
                        row = self._insert(
                            session,
                            now,
                            DISPATCHER,
                            site=alarm.site,
                            asset=alarm.asset,
                            kind=alarm.kind,
                            title=f"{alarm.asset}: "
                            f"{description or alarm.description or alarm.fault}",
                            description=description or alarm.description,
                            priority=priority,
                            skill=skill,
                            source="alarm",
                            channel="alarm",
                            fault=alarm.fault,
                        )
                        created = True
                except IntegrityError:
                    row = self._active_for(session, alarm.site, alarm.asset, alarm.fault)
                    if row is None:
                        raise
            assert row is not None
            alarm.work_order_id = row.id
            self._log(
                session,
                row,
                now,
                DISPATCHER,
                "alarm",
                None,
                None,
                f"alarm {alarm.id} {alarm.fault} ({alarm.severity}) fired, value {alarm.value!r}",
                {"alarm_id": alarm.id},
            )
            if not created and row.status == Status.RESOLVED:
                self._move(
                    session,
                    row,
                    Status.IN_PROGRESS,
                    now,
                    DISPATCHER,
                    "the alarm fired again: the fix did not hold",
                    pending,
                )
            if priority < row.priority and row.status not in lifecycle.FINISHED:
                self._raise_priority(session, row, priority, now)
            pending.orders.add(row.id)
            if row.status == Status.OPEN and not self._assignees(session, row.id):
                self._auto_assign(session, row, now, DISPATCHER)
            order = self._view(session, row, full=full)
        self._after(pending)
        return order, created

    def _raise_priority(
        self, session: Session, row: WorkOrderRow, priority: str, now: datetime
    ) -> None:
        before = row.priority
        row.priority = priority
        row.respond_by, row.resolve_by = (
            min(a, b)
            for a, b in zip(
                (row.respond_by, row.resolve_by),
                sla.deadlines(priority, row.created_at, self._levels(row.site)),
                strict=True,
            )
        )
        self._log(
            session,
            row,
            now,
            DISPATCHER,
            "priority",
            None,
            None,
            f"priority {before} -> {priority}",
        )

    def alarm_resolved(self, alarm_id: int) -> None:
        """Written in the order's timeline; the order stays open until someone confirms."""
        now = self._clock.now()
        pending = _Pending()
        with self._sessions.begin() as session:
            alarm = session.get(AlarmRow, alarm_id)
            if alarm is None or alarm.work_order_id is None:
                return
            row = session.get(WorkOrderRow, alarm.work_order_id)
            if row is None:
                return
            self._log(
                session,
                row,
                now,
                DISPATCHER,
                "alarm_resolved",
                None,
                None,
                f"alarm {alarm.id} {alarm.fault} resolved; "
                "the order stays open until the fix is confirmed",
                {"alarm_id": alarm.id},
            )
            pending.orders.add(row.id)
        self._after(pending)

    @staticmethod
    def _active_for(session: Session, site: str, asset: str, fault: str) -> WorkOrderRow | None:
        return session.scalars(
            select(WorkOrderRow).where(
                WorkOrderRow.site == site,
                WorkOrderRow.asset == asset,
                WorkOrderRow.fault == fault,
                WorkOrderRow.status.not_in([s.value for s in lifecycle.FINISHED]),
            )
        ).first()

    # -- assignment ---------------------------------------------------------------------------

    @staticmethod
    def _assignees(session: Session, order_id: int) -> list[int]:
        return list(
            session.scalars(
                select(AssigneeRow.technician_id)
                .where(AssigneeRow.work_order_id == order_id)
                .order_by(AssigneeRow.position)
            )
        )

    @staticmethod
    def open_counts(session: Session) -> dict[int, int]:
        rows = session.execute(
            select(AssigneeRow.technician_id, func.count())
            .join(WorkOrderRow, WorkOrderRow.id == AssigneeRow.work_order_id)
            .where(WorkOrderRow.status.in_([s.value for s in lifecycle.WORKING]))
            .group_by(AssigneeRow.technician_id)
        )
        return {int(t): int(n) for t, n in rows}

    def _last_on_asset(self, session: Session, row: WorkOrderRow) -> int | None:
        if row.asset is None:
            return None
        return session.scalar(
            select(AssigneeRow.technician_id)
            .join(WorkOrderRow, WorkOrderRow.id == AssigneeRow.work_order_id)
            .where(
                WorkOrderRow.site == row.site,
                WorkOrderRow.asset == row.asset,
                WorkOrderRow.id != row.id,
                AssigneeRow.position == 0,
            )
            .order_by(WorkOrderRow.created_at.desc())
            .limit(1)
        )

    def _auto_assign(
        self,
        session: Session,
        row: WorkOrderRow,
        now: datetime,
        actor: Actor,
        exclude: frozenset[int] = frozenset(),
        reason: str | None = None,
    ) -> Assignment:
        roster = self._people.roster(now, session)
        decision = assign(
            Job(row.site, row.skill, row.priority, row.asset),
            roster.people,
            roster.duties,
            roster.leaves,
            self.open_counts(session),
            now,
            now.astimezone(self._zone).date(),
            last_on_asset=self._last_on_asset(session, row),
            exclude=exclude,
            policy=self._policy,
        )
        explanation = "; ".join(decision.reasons)
        if reason:
            explanation = f"{reason}; {explanation}"
        before = row.status
        self._set_assignees(session, row, decision.assignees)
        if decision.assignees:
            if row.status == Status.OPEN:
                row.status = Status.ASSIGNED
                row.escalation = None
            moved = row.status != before
            self._log(
                session,
                row,
                now,
                actor,
                "assigned",
                before if moved else None,
                row.status if moved else None,
                explanation,
                {"assignees": list(decision.assignees)},
            )
            return decision
        if row.status == Status.ASSIGNED:
            row.status = Status.OPEN
        if row.escalation != decision.escalation:  # say it once, not on every retry
            row.escalation = decision.escalation
            row.escalated_at = now
            self._log(
                session, row, now, actor, "escalated", None, None, f"unassigned: {explanation}"
            )
            self._notify(
                session,
                row,
                now,
                "unassigned",
                f"{row.number} cannot be assigned: {decision.escalation}",
            )
        return decision

    @staticmethod
    def _set_assignees(session: Session, row: WorkOrderRow, assignees: Iterable[int]) -> None:
        for existing in session.scalars(
            select(AssigneeRow).where(AssigneeRow.work_order_id == row.id)
        ):
            session.delete(existing)
        session.flush()
        for position, technician_id in enumerate(assignees):
            session.add(
                AssigneeRow(work_order_id=row.id, technician_id=technician_id, position=position)
            )

    def assign(
        self,
        order_id: int,
        actor: Actor,
        technician_ids: Sequence[int] | None = None,
        note: str | None = None,
    ) -> WorkOrder:
        """By hand (a planner's override) or, with no ids, by the dispatch rules again."""
        now = self._clock.now()
        pending = _Pending({order_id})
        with self._sessions.begin() as session:
            row = self._row(session, order_id)
            if Status(row.status) in lifecycle.FINISHED | lifecycle.DONE:
                raise ConflictError(f"{row.number} is {row.status}: nothing to assign")
            if technician_ids is None:
                self._auto_assign(session, row, now, actor, reason=note)
            else:
                if not technician_ids:
                    raise InvalidRequestError(
                        "give at least one technician, or none to let the rules choose"
                    )
                known = {t.id for t in self._people.roster(now, session).people}
                missing = [t for t in technician_ids if t not in known]
                if missing:
                    raise NotFoundError(f"no technician {', '.join(map(str, missing))}")
                before = self._assignees(session, row.id)
                self._set_assignees(session, row, technician_ids)
                moved = row.status == Status.OPEN
                if moved:
                    row.status = Status.ASSIGNED
                row.escalation = None
                self._log(
                    session,
                    row,
                    now,
                    actor,
                    "assigned",
                    Status.OPEN if moved else None,
                    Status.ASSIGNED if moved else None,
                    f"by hand ({note})" if note else "by hand",
                    {"assignees": list(technician_ids), "before": before},
                )
        self._after(pending)
        return self._get(order_id)

    # -- the lifecycle ------------------------------------------------------------------------

    def transition(
        self, order_id: int, to: str, actor: Actor, note: str | None = None
    ) -> WorkOrder:
        now = self._clock.now()
        pending = _Pending({order_id})
        with self._sessions.begin() as session:
            row = self._row(session, order_id)
            self._may_act(session, row, actor)
            target = lifecycle.check(row.status, to)
            if target == Status.ASSIGNED and not self._assignees(session, row.id):
                raise ConflictError(f"{row.number} has nobody assigned: use the assign endpoint")
            self._move(session, row, target, now, actor, note, pending)
        self._after(pending)
        return self._get(order_id)

    def _move(
        self,
        session: Session,
        row: WorkOrderRow,
        target: Status,
        now: datetime,
        actor: Actor,
        note: str | None,
        pending: _Pending,
    ) -> None:
        before = Status(row.status)
        if before == Status.ON_HOLD and row.hold_since is not None:
            # waiting for parts or access does not count against the resolution deadline
            held = now - row.hold_since
            row.resolve_by += held
            row.hold_since = None
            note = (
                f"{note + '; ' if note else ''}resolution deadline moved by {_human(held)} on hold"
            )
        if target == Status.ON_HOLD:
            row.hold_since = now
        if target in lifecycle.RESPONDED and row.responded_at is None:
            row.responded_at = now
        if target == Status.RESOLVED:
            row.resolved_at = now
        if target == Status.IN_PROGRESS and before == Status.RESOLVED:
            row.resolved_at = None
        if target == Status.CLOSED:
            row.closed_at = now
        if target == Status.OPEN:
            self._set_assignees(session, row, ())
        row.status = target
        row.updated_at = now
        self._log(session, row, now, actor, "transition", before, target, note)
        pending.transitions.append((row.id, before, target))

    def _may_act(self, session: Session, row: WorkOrderRow, actor: Actor) -> None:
        if actor.on_any_order:
            return
        if actor.technician_id is None or actor.technician_id not in self._assignees(
            session, row.id
        ):
            raise NotYoursError(f"{row.number} is not assigned to {actor.name}")

    # -- checklist and notes ------------------------------------------------------------------

    def tick(
        self,
        order_id: int,
        item_id: int,
        result: str,
        actor: Actor,
        value: Any = None,
        note: str | None = None,
        at: datetime | None = None,
    ) -> WorkOrder:
        """Record a checklist item: done, not done, or a reading (with its value)."""
        if result not in ("done", "not_done", "reading"):
            raise InvalidRequestError("result is done, not_done or reading")
        if result == "reading" and value is None:
            raise InvalidRequestError("a reading needs its value")
        now = self._clock.now()
        when = at or now
        if when > now + timedelta(minutes=5):
            raise InvalidRequestError("a checklist time cannot be in the future")
        pending = _Pending({order_id})
        with self._sessions.begin() as session:
            row = self._row(session, order_id)
            self._may_act(session, row, actor)
            if Status(row.status) in lifecycle.FINISHED:
                raise ConflictError(f"{row.number} is {row.status}: its checklist is closed")
            item = session.get(ChecklistRow, item_id)
            if item is None or item.work_order_id != row.id:
                raise NotFoundError(f"{row.number} has no checklist item {item_id}")
            item.result = result
            item.value = value
            item.done_at = when
            item.done_by = actor.name
            item.note = note
            row.updated_at = now
            shown = f"{item.text}: {result}" + (f" {value!r}" if value is not None else "")
            self._log(
                session,
                row,
                now,
                actor,
                "checklist",
                None,
                None,
                shown + (f" ({note})" if note else ""),
                {
                    "item_id": item.id,
                    "key": item.key,
                    "result": result,
                    "value": value,
                    "at": rfc3339(when),
                },
            )
        self._after(pending)
        return self._get(order_id)

    def note(self, order_id: int, actor: Actor, note: str) -> WorkOrder:
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = self._row(session, order_id)
            self._may_act(session, row, actor)
            row.updated_at = now
            self._log(session, row, now, actor, "note", None, None, note)
        self._after(_Pending({order_id}))
        return self._get(order_id)

    # -- time passes: deadlines, substitutes, retries -----------------------------------------

    def check_deadlines(self) -> int:
        """SLA breaches and missed playbook targets: marked, escalated, the supervisor told."""
        now = self._clock.now()
        if not self._anything_late(now):
            return 0  # the common case, answered without taking the write lock
        found = 0
        pending = _Pending()
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(WorkOrderRow).where(
                    WorkOrderRow.status.not_in(
                        [s.value for s in lifecycle.FINISHED | lifecycle.DONE]
                    ),
                    (WorkOrderRow.response_breached_at.is_(None))
                    | (WorkOrderRow.resolution_breached_at.is_(None)),
                )
            ).all()
            for row in rows:
                already = frozenset(
                    kind
                    for kind, when in (
                        ("response", row.response_breached_at),
                        ("resolution", row.resolution_breached_at),
                    )
                    if when is not None
                )
                resolve_by = row.resolve_by + (
                    now - row.hold_since if row.hold_since else timedelta(0)
                )
                for breach in sla.breaches(row.status, row.respond_by, resolve_by, now, already):
                    found += 1
                    if breach.kind == "response":
                        row.response_breached_at = now
                    else:
                        row.resolution_breached_at = now
                    message = (
                        f"{row.number} ({row.priority}) missed its {breach.kind} deadline "
                        f"{rfc3339(breach.due)} by {_human(breach.late_by)}"
                    )
                    row.escalation = message
                    row.escalated_at = now
                    self._log(
                        session,
                        row,
                        now,
                        SCHEDULER,
                        "sla_breached",
                        None,
                        None,
                        message,
                        {"kind": breach.kind},
                    )
                    self._notify(session, row, now, f"sla_{breach.kind}", message)
                    pending.orders.add(row.id)
            late = session.scalars(
                select(ChecklistRow).where(
                    ChecklistRow.target_at.is_not(None),
                    ChecklistRow.target_at < now,
                    ChecklistRow.done_at.is_(None),
                    ChecklistRow.target_missed_at.is_(None),
                )
            ).all()
            for item in late:
                owner = session.get(WorkOrderRow, item.work_order_id)
                if owner is None or Status(owner.status) in lifecycle.FINISHED:
                    continue
                row = owner
                found += 1
                item.target_missed_at = now
                message = (
                    f"{row.number}: '{item.text}' not done by its target {rfc3339(item.target_at)}"
                )
                self._log(
                    session,
                    row,
                    now,
                    SCHEDULER,
                    "target_missed",
                    None,
                    None,
                    message,
                    {"item_id": item.id},
                )
                self._notify(session, row, now, f"target_{item.key or item.id}", message)
                pending.orders.add(row.id)
        self._after(pending, event="work_order.escalated")
        return found

    def _anything_late(self, now: datetime) -> bool:
        """A cheap read: is any deadline or playbook target past, not yet reported? (On-hold
        orders are judged in full: their deadline moves while they wait.)"""
        unfinished = [s.value for s in lifecycle.FINISHED | lifecycle.DONE]
        with self._sessions() as session:
            late_order = session.scalar(
                select(WorkOrderRow.id)
                .where(
                    WorkOrderRow.status.not_in(unfinished),
                    (
                        (WorkOrderRow.response_breached_at.is_(None))
                        & (WorkOrderRow.respond_by < now)
                    )
                    | (
                        (WorkOrderRow.resolution_breached_at.is_(None))
                        & (WorkOrderRow.resolve_by < now)
                    ),
                )
                .limit(1)
            )
            late_item = session.scalar(
                select(ChecklistRow.id)
                .where(
                    ChecklistRow.target_at.is_not(None),
                    ChecklistRow.target_at < now,
                    ChecklistRow.done_at.is_(None),
                    ChecklistRow.target_missed_at.is_(None),
                )
                .limit(1)
            )
            return late_order is not None or late_item is not None

    def handle_absences(self) -> int:
        """Re-assign the open orders of technicians whose absence has begun (the substitute)."""
        now = self._clock.now()
        moved = 0
        for absence in self._people.absences(at=now, unhandled=True):
            person = self._people.technician(absence.technician_id)
            name = person.name if person else str(absence.technician_id)
            pending = _Pending()
            with self._sessions.begin() as session:
                order_ids = session.scalars(
                    select(AssigneeRow.work_order_id)
                    .join(WorkOrderRow, WorkOrderRow.id == AssigneeRow.work_order_id)
                    .where(
                        AssigneeRow.technician_id == absence.technician_id,
                        WorkOrderRow.status.in_([s.value for s in lifecycle.WORKING]),
                    )
                ).all()
                for order_id in order_ids:
                    row = self._row(session, order_id)
                    before, before_status = self._assignees(session, row.id), row.status
                    row.status = (
                        Status.OPEN
                    )  # the substitute starts from the top: acknowledges anew
                    decision = self._auto_assign(
                        session,
                        row,
                        now,
                        DISPATCHER,
                        exclude=frozenset({absence.technician_id}),
                        reason=f"{name} is absent ({absence.reason or 'no reason'}): substitute",
                    )
                    self._log(
                        session,
                        row,
                        now,
                        DISPATCHER,
                        "reassigned",
                        before_status,
                        row.status,
                        f"{name} absent; assignees {before} -> "
                        f"{list(decision.assignees) or 'nobody'}",
                    )
                    pending.orders.add(row.id)
                    moved += 1
            self._people.mark_absence_handled(absence.id)
            self._after(pending)
        return moved

    def retry_unassigned(self) -> int:
        """Orders nobody could take: try again (someone may have come on shift)."""
        now = self._clock.now()
        with self._sessions() as session:
            if (
                session.scalar(
                    select(WorkOrderRow.id).where(WorkOrderRow.status == Status.OPEN).limit(1)
                )
                is None
            ):
                return 0
        assigned = 0
        pending = _Pending()
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(WorkOrderRow).where(WorkOrderRow.status == Status.OPEN)
            ).all()
            for row in rows:
                if self._auto_assign(session, row, now, DISPATCHER).assignees:
                    assigned += 1
                    pending.orders.add(row.id)
        self._after(pending)
        return assigned

    # -- reading ------------------------------------------------------------------------------

    @staticmethod
    def _row(session: Session, order_id: int) -> WorkOrderRow:
        row = session.get(WorkOrderRow, order_id)
        if row is None:
            raise NotFoundError(f"no work order {order_id}")
        return row

    def get(self, order_id: int) -> WorkOrder | None:
        try:
            return self._get(order_id)
        except NotFoundError:
            return None

    def _get(self, order_id: int) -> WorkOrder:
        with self._sessions() as session:
            row = self._row(session, order_id)
            return self._view(session, row, full=True)

    def by_number(self, number: str) -> WorkOrder | None:
        with self._sessions() as session:
            row = session.scalars(select(WorkOrderRow).where(WorkOrderRow.number == number)).first()
            return self._view(session, row, full=True) if row else None

    def query(
        self,
        *,
        status: Sequence[str] | None = None,
        priority: str | None = None,
        site: str | None = None,
        asset: str | None = None,
        source: str | None = None,
        assignee: int | None = None,
        breached: bool | None = None,
        plan_id: int | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[WorkOrder], int]:
        conditions: list[ColumnElement[bool]] = []
        if status:
            conditions.append(WorkOrderRow.status.in_(list(status)))
        for column, value in (
            (WorkOrderRow.priority, priority),
            (WorkOrderRow.site, site),
            (WorkOrderRow.asset, asset),
            (WorkOrderRow.source, source),
        ):
            if value:
                conditions.append(column == value)
        if plan_id is not None:
            conditions.append(WorkOrderRow.plan_id == plan_id)
        if created_from is not None:
            conditions.append(WorkOrderRow.created_at >= created_from)
        if created_to is not None:
            conditions.append(WorkOrderRow.created_at < created_to)
        if breached is not None:
            either = (WorkOrderRow.response_breached_at.is_not(None)) | (
                WorkOrderRow.resolution_breached_at.is_not(None)
            )
            conditions.append(either if breached else ~either)
        if assignee is not None:
            conditions.append(
                WorkOrderRow.id.in_(
                    select(AssigneeRow.work_order_id).where(AssigneeRow.technician_id == assignee)
                )
            )
        with self._sessions() as session:
            stmt = (
                select(WorkOrderRow).where(and_(*conditions))
                if conditions
                else select(WorkOrderRow)
            )
            total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = session.scalars(
                stmt.order_by(WorkOrderRow.id.desc()).limit(limit).offset(offset)
            ).all()
            return [self._view(session, r, full=False) for r in rows], total

    def load(self) -> dict[int, int]:
        """Technician id -> open orders on them now."""
        with self._sessions() as session:
            return self.open_counts(session)

    def count_open(self) -> int:
        with self._sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(WorkOrderRow)
                    .where(WorkOrderRow.status.not_in([s.value for s in lifecycle.FINISHED]))
                )
                or 0
            )

    def _view(self, session: Session, row: WorkOrderRow, full: bool) -> WorkOrder:
        alarm_ids = tuple(
            session.scalars(
                select(AlarmRow.id).where(AlarmRow.work_order_id == row.id).order_by(AlarmRow.id)
            )
        )
        timeline: tuple[TimelineEntry, ...] = ()
        checklist: tuple[ChecklistItem, ...] = ()
        if full:
            timeline = tuple(
                TimelineEntry(
                    t.at, t.actor, t.event, t.from_status, t.to_status, t.note, dict(t.data or {})
                )
                for t in session.scalars(
                    select(TimelineRow)
                    .where(TimelineRow.work_order_id == row.id)
                    .order_by(TimelineRow.id)
                )
            )
            checklist = tuple(
                ChecklistItem(
                    c.id,
                    c.position,
                    c.key,
                    c.text,
                    c.target_at,
                    c.result,
                    c.value,
                    c.done_at,
                    c.done_by,
                    c.note,
                )
                for c in session.scalars(
                    select(ChecklistRow)
                    .where(ChecklistRow.work_order_id == row.id)
                    .order_by(ChecklistRow.position)
                )
            )
        return WorkOrder(
            id=row.id,
            number=row.number,
            title=row.title,
            description=row.description,
            site=row.site,
            asset=row.asset,
            kind=row.kind,
            building=row.building,
            source=row.source,
            channel=row.channel,
            reporter=row.reporter,
            fault=row.fault,
            priority=row.priority,
            skill=row.skill,
            status=row.status,
            assignees=tuple(self._assignees(session, row.id)),
            alarm_ids=alarm_ids,
            created_at=row.created_at,
            updated_at=row.updated_at,
            respond_by=row.respond_by,
            resolve_by=row.resolve_by,
            responded_at=row.responded_at,
            resolved_at=row.resolved_at,
            closed_at=row.closed_at,
            response_breached_at=row.response_breached_at,
            resolution_breached_at=row.resolution_breached_at,
            escalation=row.escalation,
            plan_id=row.plan_id,
            due_at=row.due_at,
            interrupts=row.interrupts,
            cost=row.cost,
            timeline=timeline,
            checklist=checklist,
        )

    def notifications(
        self, site: str | None = None, unread: bool = False, limit: int = 100
    ) -> list[NotificationRow]:
        with self._sessions() as session:
            stmt = select(NotificationRow)
            if site:
                stmt = stmt.where(NotificationRow.site == site)
            if unread:
                stmt = stmt.where(NotificationRow.read_at.is_(None))
            return list(session.scalars(stmt.order_by(NotificationRow.id.desc()).limit(limit)))

    # -- the record ---------------------------------------------------------------------------

    def _log(
        self,
        session: Session,
        row: WorkOrderRow,
        at: datetime,
        actor: Actor,
        event: str,
        from_: str | None,
        to: str | None,
        note: str | None,
        data: dict[str, Any] | None = None,
    ) -> None:
        session.add(
            TimelineRow(
                work_order_id=row.id,
                at=at,
                actor=actor.name,
                event=event,
                from_status=from_,
                to_status=to,
                note=note,
                data=data or {},
            )
        )
        self._events.record(
            session,
            f"work_order.{event}",
            at,
            {
                "work_order_id": row.id,
                "number": row.number,
                "site": row.site,
                "asset": row.asset,
                "fault": row.fault,
                "status": row.status,
                "priority": row.priority,
                "actor": actor.name,
                "from": from_,
                "to": to,
                "note": note,
            },
            row.site,
        )

    def _notify(
        self, session: Session, row: WorkOrderRow, at: datetime, kind: str, message: str
    ) -> None:
        """Tell the site's supervisor (once per order and kind): the notifications list, and an
        event the dashboard shows."""
        exists = session.scalar(
            select(func.count())
            .select_from(NotificationRow)
            .where(NotificationRow.work_order_id == row.id, NotificationRow.kind == kind)
        )
        if exists:
            return
        session.add(
            NotificationRow(
                at=at,
                site=row.site,
                role="supervisor",
                work_order_id=row.id,
                kind=kind,
                message=message,
            )
        )

    def _after(self, pending: _Pending, event: str | None = None) -> None:
        self._events.notify()
        if not pending.transitions or not self._transition_hooks:
            return
        for order_id, before, after in pending.transitions:
            order = self.get(order_id)
            if order is None:
                continue
            for hook in self._transition_hooks:
                try:
                    hook(order, before, after)
                except Exception:
                    log.exception("work-order transition hook failed for %s", order.number)


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d{(seconds % 86400) // 3600}h"
