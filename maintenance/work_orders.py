"""Work orders: opened from alarms or by people, assigned, worked through their lifecycle.

Every change is a timeline entry (who, when, from, to, note) and an event, written in the same
transaction as the change. The lifecycle, the deadlines and the choice of technician are pure
(:mod:`facility_dispatch.maintenance.lifecycle`, :mod:`facility_dispatch.maintenance.sla`,
:mod:`facility_dispatch.maintenance.assignment`); this module applies them to the database."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facility_dispatch.kernel.clock import Clock, rfc3339
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.maintenance import authority, contractors, lifecycle, sign_offs, sla
from facility_dispatch.maintenance.assignment import (
    Assignment,
    Candidate,
    Job,
    Policy,
    assign,
    candidates,
    who_handed_back,
)
from facility_dispatch.maintenance.authority import Act
from facility_dispatch.maintenance.contractor_book import Contractors
from facility_dispatch.maintenance.contractor_sql import SignOffRow
from facility_dispatch.maintenance.contractors import Dispatch
from facility_dispatch.maintenance.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    NotPermittedError,
)
from facility_dispatch.maintenance.lifecycle import Status
from facility_dispatch.maintenance.orders import (
    DISPATCHER,
    SCHEDULER,
    Actor,
    OrderBook,
    TransitionHook,
    WorkOrder,
    human,
)
from facility_dispatch.maintenance.people import People
from facility_dispatch.maintenance.playbooks import Playbook, for_fault
from facility_dispatch.maintenance.sql import (
    AssigneeRow,
    ChecklistRow,
    NotificationRow,
    TimelineRow,
    WorkOrderRow,
)
from facility_dispatch.rules.alarms import AlarmService
from facility_dispatch.rules.sql import AlarmRow

log = logging.getLogger(__name__)


@dataclass
class Pending:
    """What to tell after the commit."""

    orders: set[int] = field(default_factory=set)
    transitions: list[tuple[int, str, str]] = field(default_factory=list)


class WorkOrderService(OrderBook):
    def __init__(
        self,
        sessions: Sessions,
        events: EventLog,
        people: People,
        clock: Clock,
        *,
        policy: Policy | None = None,
        timezone: str = "Asia/Shanghai",
        contractor_register: Contractors | None = None,
    ) -> None:
        super().__init__(sessions)
        self.contractors = contractor_register or Contractors(sessions)
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
        resolve_by: datetime | None = None,
        counted_from: datetime | None = None,
    ) -> WorkOrderRow:
        if priority not in sla.PRIORITIES:
            raise InvalidRequestError(f"priority {priority!r} is not one of P1, P2, P3, P4")
        # preventive work is made ahead of its due time: its clock starts then, not now
        respond_by, default_resolve_by = sla.deadlines(
            priority, counted_from or now, self._levels(site)
        )
        resolve_by = resolve_by or default_resolve_by  # preventive work: due time plus window
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
        self.log_entry(
            session,
            row,
            now,
            actor,
            "created",
            None,
            Status.OPEN,
            note,
            {"channel": channel, "reporter": reporter} if channel else None,
        )
        if playbook is not None:
            self.log_entry(
                session,
                row,
                now,
                actor,
                "playbook",
                None,
                None,
                f"emergency playbook: {playbook.title}",
                {"contacts": playbook.contacts, "fault": fault},
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

    def create(
        self,
        actor: Actor,
        auto_assign: bool = True,
        within: Callable[[Session, int], None] | None = None,
        **fields: Any,
    ) -> WorkOrder:
        """A manual (or preventive) order; assigned at once by the dispatch rules. ``within``
        is called with the new order's id in its transaction: the caller's own record of the
        order (a resident's request it answers) commits with it or not at all."""
        now = self._clock.now()
        pending = Pending()
        with self._sessions.begin() as session:
            try:
                with session.begin_nested():
                    row = self._insert(session, now, actor, **fields)
            except IntegrityError:
                raise ConflictError(
                    f"an order for {fields.get('fault')} on {fields.get('site')}/"
                    f"{fields.get('asset')} is already open"
                ) from None
            if within is not None:
                within(session, row.id)
            pending.orders.add(row.id)
            if auto_assign:
                self.auto_assign(session, row, now, DISPATCHER)
            order_id = row.id
        self.announce(pending)
        return self._get(order_id)

    def open_from_alarm(
        self,
        alarm_id: int,
        priority: str,
        skill: str,
        description: str = "",
        full: bool = True,
        unless_linked: bool = False,
    ) -> tuple[WorkOrder, bool]:
        """Open an order for a firing alarm, or join the active one of its (asset, fault).

        The partial unique index decides under concurrency: if another thread or worker opened
        it first, the insert fails and this alarm joins theirs. With ``unless_linked`` an alarm
        that has its order already is left as it is (the live path and the sweep may both come
        for one alarm: it gets one order and one timeline entry)."""
        now = self._clock.now()
        pending = Pending()
        created = False
        with self._sessions.begin() as session:
            alarm = session.get(AlarmRow, alarm_id, with_for_update=unless_linked)
            if alarm is None:
                raise NotFoundError(f"no alarm {alarm_id}")
            if unless_linked and alarm.work_order_id is not None:
                linked = session.get(WorkOrderRow, alarm.work_order_id)
                if linked is not None:
                    return self._view(session, linked, full=full), False
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
            AlarmService.link_work_order(alarm.id, row.id, session)
            self.log_entry(
                session,
                row,
                now,
                DISPATCHER,
                "alarm",
                None,
                None,
                f"alarm {alarm.id} {alarm.fault} ({alarm.severity}) fired, value {alarm.value!r}",
                {
                    "alarm_id": alarm.id,
                    "fault": alarm.fault,
                    "severity": alarm.severity,
                    "value": alarm.value,
                    "kind": alarm.kind,
                    "rule_id": alarm.rule_id,
                },
            )
            if (
                not created
                and row.status == Status.RESOLVED
                and session.get(SignOffRow, row.id) is None  # a signed record stays sealed
            ):
                self._move(
                    session,
                    row,
                    Status.IN_PROGRESS,
                    now,
                    DISPATCHER,
                    "the alarm fired again: the fix did not hold",
                    pending,
                    {"reopened_by_alarm": alarm.id},
                )
            if priority < row.priority and row.status not in lifecycle.FINISHED:
                self._raise_priority(session, row, priority, now)
            pending.orders.add(row.id)
            if row.status == Status.OPEN and not self.assignees_of(session, row.id):
                self.auto_assign(session, row, now, DISPATCHER)
            order = self._view(session, row, full=full)
        self.announce(pending)
        return order, created

    NOT_STARTED = frozenset({Status.OPEN, Status.ASSIGNED, Status.ACKNOWLEDGED})
    """An order in these states may still be handed to an incident's root order: nobody has
    begun work on it."""

    def join_incident(self, root_alarm_id: int, root_order_id: int) -> list[int]:
        """The alarms that ``root_alarm_id`` inhibits hand their open orders to the root's
        order (one incident, one crew): each such order is cancelled with a note naming the
        root's, its alarm joins the root's order, and the root's timeline says what joined.
        An order on which work has started (in progress, on hold, or later) stays as it is.
        Returns the ids of the orders handed over."""
        now = self._clock.now()
        pending = Pending()
        joined: list[int] = []
        with self._sessions.begin() as session:
            root = session.get(WorkOrderRow, root_order_id)
            if root is None or Status(root.status) in lifecycle.FINISHED:
                return []
            inhibited = session.scalars(
                select(AlarmRow)
                .where(
                    AlarmRow.inhibited_by == root_alarm_id,
                    AlarmRow.work_order_id.is_not(None),
                    AlarmRow.work_order_id != root_order_id,
                )
                .order_by(AlarmRow.id)
            ).all()
            for alarm in inhibited:
                assert alarm.work_order_id is not None
                order = session.get(WorkOrderRow, alarm.work_order_id, with_for_update=True)
                if order is None or Status(order.status) not in self.NOT_STARTED:
                    continue
                others = session.scalar(
                    select(func.count())
                    .select_from(AlarmRow)
                    .where(AlarmRow.work_order_id == order.id, AlarmRow.id != alarm.id)
                )
                AlarmService.link_work_order(alarm.id, root.id, session)
                if others:
                    continue  # the order has alarms of its own: it stays, this alarm moves
                self._move(
                    session,
                    order,
                    Status.CANCELLED,
                    now,
                    DISPATCHER,
                    f"joined {root.number}: alarm {alarm.id} {alarm.fault} is part of the "
                    f"incident of alarm {root_alarm_id} ({root.fault})",
                    pending,
                    {
                        "joined": root.id,
                        "number": root.number,
                        "alarm_id": alarm.id,
                        "root_alarm_id": root_alarm_id,
                    },
                )
                self.log_entry(
                    session,
                    root,
                    now,
                    DISPATCHER,
                    "joined",
                    None,
                    None,
                    f"{order.number} joined: alarm {alarm.id} {alarm.fault} on {alarm.asset} "
                    "is part of this incident",
                    {"order": order.id, "number": order.number, "alarm_id": alarm.id},
                )
                pending.orders.update((order.id, root.id))
                joined.append(order.id)
        self.announce(pending)
        return joined

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
        self.log_entry(
            session,
            row,
            now,
            DISPATCHER,
            "priority",
            None,
            None,
            f"priority {before} -> {priority}",
            {"before": before, "after": priority},
        )

    def reschedule(
        self, session: Session, order_id: int, due_at: datetime, actor: Actor, now: datetime
    ) -> None:
        """A preventive order's works moved (the planner moved its slot): its due time and its
        deadlines, counted from the due time, move by as much; in the caller's transaction."""
        row = self.row(session, order_id)
        if row.due_at is None:
            raise InvalidRequestError(f"{row.number} has no due time to move")
        before, shift = row.due_at, due_at - row.due_at
        row.due_at = due_at
        row.respond_by += shift
        row.resolve_by += shift
        row.updated_at = now
        self.log_entry(
            session,
            row,
            now,
            actor,
            "rescheduled",
            None,
            None,
            f"due {rfc3339(before)} -> {rfc3339(due_at)}",
            {"before": rfc3339(before), "after": rfc3339(due_at)},
        )

    # -- what time does to an order (the scheduler's escalation calls these) ---------------

    def record_breach(
        self, session: Session, row: WorkOrderRow, breach: sla.Breach, now: datetime
    ) -> None:
        """A deadline missed: marked on the order, in its timeline, the supervisor told."""
        if breach.kind == "response":
            row.response_breached_at = now
        else:
            row.resolution_breached_at = now
        message = (
            f"{row.number} ({row.priority}) missed its {breach.kind} deadline "
            f"{rfc3339(breach.due)} by {human(breach.late_by)}"
        )
        row.escalation = message
        row.escalated_at = now
        self.log_entry(
            session,
            row,
            now,
            SCHEDULER,
            "sla_breached",
            None,
            None,
            message,
            {
                "kind": breach.kind,
                "due": rfc3339(breach.due),
                "late_s": int(breach.late_by.total_seconds()),
            },
        )
        self.notify_supervisor(session, row, now, f"sla_{breach.kind}", message)
        told = {"kind": breach.kind, "note": message, "to": "supervisor"}
        self.emit(session, row, now, "breached", told)
        self.emit(session, row, now, "escalated", told)

    def record_missed_target(
        self, session: Session, row: WorkOrderRow, item: ChecklistRow, now: datetime
    ) -> None:
        """A playbook step not done by its target (the lift technician on site in 30 min)."""
        item.target_missed_at = now
        message = f"{row.number}: '{item.text}' not done by its target {rfc3339(item.target_at)}"
        self.log_entry(
            session,
            row,
            now,
            SCHEDULER,
            "target_missed",
            None,
            None,
            message,
            {
                "item_id": item.id,
                "position": item.position,
                "key": item.key,
                "target_at": rfc3339(item.target_at) if item.target_at else None,
            },
        )
        kind = f"target_{item.key or item.id}"
        self.notify_supervisor(session, row, now, kind, message)
        told = {"kind": kind, "note": message, "to": "supervisor"}
        self.emit(session, row, now, "escalated", told)

    def hand_over(
        self,
        session: Session,
        row: WorkOrderRow,
        absent: int,
        name: str,
        reason: str,
        now: datetime,
        absence_reason: str | None = None,
    ) -> None:
        """An assignee's absence has begun: the order goes to a substitute, who acknowledges
        it anew. The absent one's name and the absence's reason go into the entries' data too,
        so the console words them (``reason`` is the English note)."""
        before, before_status = self.assignees_of(session, row.id), row.status
        row.status = Status.OPEN
        because = {"substitute_for": name, "absence_reason": absence_reason}
        decision = self.auto_assign(
            session,
            row,
            now,
            DISPATCHER,
            exclude=frozenset({absent}),
            reason=reason,
            because=because,
        )
        self.log_entry(
            session,
            row,
            now,
            DISPATCHER,
            "reassigned",
            before_status,
            row.status,
            f"{name} absent; assignees {before} -> {list(decision.assignees) or 'nobody'}",
            {"absent": name, "before": before, "after": list(decision.assignees)},
        )

    def charge(self, session: Session, row: WorkOrderRow, amount: float, now: datetime) -> None:
        """Parts used on the order (a return is a negative amount): part of its cost."""
        row.cost += amount
        row.updated_at = now

    def alarm_resolved(self, alarm_id: int) -> None:
        """Written in the order's timeline; the order stays open until someone confirms."""
        now = self._clock.now()
        pending = Pending()
        with self._sessions.begin() as session:
            alarm = session.get(AlarmRow, alarm_id)
            if alarm is None or alarm.work_order_id is None:
                return
            row = session.get(WorkOrderRow, alarm.work_order_id)
            if row is None:
                return
            self.log_entry(
                session,
                row,
                now,
                DISPATCHER,
                "alarm_resolved",
                None,
                None,
                f"alarm {alarm.id} {alarm.fault} resolved; "
                "the order stays open until the fix is confirmed",
                {"alarm_id": alarm.id, "fault": alarm.fault},
            )
            pending.orders.add(row.id)
        self.announce(pending)

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

    @staticmethod
    def _handed_back(session: Session, row: WorkOrderRow) -> frozenset[int]:
        entries = session.execute(
            select(
                TimelineRow.event, TimelineRow.from_status, TimelineRow.to_status, TimelineRow.data
            )
            .where(
                TimelineRow.work_order_id == row.id,
                TimelineRow.event.in_(("assigned", "reassigned", "transition")),
            )
            .order_by(TimelineRow.at, TimelineRow.id)
        ).all()
        return who_handed_back((event, from_, to, data or {}) for event, from_, to, data in entries)

    def auto_assign(
        self,
        session: Session,
        row: WorkOrderRow,
        now: datetime,
        actor: Actor,
        exclude: frozenset[int] = frozenset(),
        reason: str | None = None,
        because: Mapping[str, Any] | None = None,
    ) -> Assignment:
        """Assign ``row`` by the rules, or note why nobody could take it. ``reason`` (English,
        for the API and the logs) leads the entry's note; ``because`` holds the same as data, for
        the console to word in each language (a substitute's absent colleague)."""
        roster = self._people.roster(now, session)
        job = Job(row.site, row.skill, row.priority, row.asset)
        inputs = (roster.people, roster.duties, roster.leaves, self.open_counts(session))
        today = now.astimezone(self._zone).date()
        options: dict[str, Any] = {
            "last_on_asset": self._last_on_asset(session, row),
            "exclude": exclude,
            "policy": self._policy,
            "reactive_orders": self.open_counts(session, reactive_only=True),
            "handed_back": self._handed_back(session, row),
        }
        decision = assign(job, *inputs, now, today, **options)
        dispatch = self._dispatch_for(session, row, now)
        if dispatch is not None and dispatch.contractor and dispatch.contractor.technicians:
            # lift work goes to the contractor's own technicians while one can go; else the
            # rules' choice stands (a trapped passenger is not left waiting for a company)
            theirs = {t.technician_id for t in dispatch.contractor.technicians}
            others = frozenset(p.id for p in roster.people if p.id not in theirs)
            preferred = assign(job, *inputs, now, today, **{**options, "exclude": exclude | others})
            if preferred.assignees:
                decision = preferred
        # the chosen ones' reasons as codes, for the console to word in each language
        why = {
            str(c.person.id): list(c.why)
            for c in candidates(job, *inputs, now, today, **options)
            if c.person.id in decision.assignees
        }
        explanation = "; ".join(decision.reasons)
        if reason:
            explanation = f"{reason}; {explanation}"
        before = row.status
        if decision.assignees and list(decision.assignees) == self.assignees_of(session, row.id):
            # the rules chose who already has it: nothing changed, so nothing is recorded and
            # nobody is told again
            self._record_dispatch(session, row, now, actor, dispatch)
            return decision
        self._set_assignees(session, row, decision.assignees)
        self._record_dispatch(session, row, now, actor, dispatch)
        if decision.assignees:
            if row.status == Status.OPEN:
                row.status = Status.ASSIGNED
                row.escalation = None
            moved = row.status != before
            self.log_entry(
                session,
                row,
                now,
                actor,
                "assigned",
                before if moved else None,
                row.status if moved else None,
                explanation,
                {
                    "assignees": list(decision.assignees),
                    "by": "rules",
                    "reason": reason,
                    "why": why,
                    **(because or {}),
                },
            )
            return decision
        if row.status == Status.ASSIGNED:
            row.status = Status.OPEN
        # say it once, not on every retry of the sweep; but a person who asked hears the answer
        if row.escalation != decision.escalation or actor.name != DISPATCHER.name:
            row.escalation = decision.escalation
            row.escalated_at = now
            self.log_entry(
                session,
                row,
                now,
                actor,
                "escalated",
                None,
                None,
                f"unassigned: {explanation}",
                {"cause": decision.cause, "skill": row.skill, "reason": reason, **(because or {})},
            )
            self.notify_supervisor(
                session,
                row,
                now,
                "unassigned",
                f"{row.number} cannot be assigned: {decision.escalation}",
            )
        return decision

    def candidates(self, order_id: int) -> list[Candidate]:
        """Every technician for this order, ranked as the dispatch rules rank them, each with
        why they can or cannot go: what a planner chooses from when assigning by hand."""
        now = self._clock.now()
        with self._sessions() as session:
            row = self.row(session, order_id)
            roster = self._people.roster(now, session)
            return candidates(
                Job(row.site, row.skill, row.priority, row.asset),
                roster.people,
                roster.duties,
                roster.leaves,
                self.open_counts(session),
                now,
                now.astimezone(self._zone).date(),
                reactive_orders=self.open_counts(session, reactive_only=True),
                last_on_asset=self._last_on_asset(session, row),
                policy=self._policy,
                handed_back=self._handed_back(session, row),
            )

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
        contractor_id: int | None = None,
    ) -> WorkOrder:
        """By hand (a planner's override) or, with no ids, by the dispatch rules again. Lift
        work goes to the contractor covering its site (or to ``contractor_id``, whose contract
        must cover the work and be in force: 409 saying why otherwise)."""
        now = self._clock.now()
        pending = Pending({order_id})
        with self._sessions.begin() as session:
            row = self.row(session, order_id)
            self._may(session, row, actor, Act.ASSIGN)
            if Status(row.status) in lifecycle.FINISHED | lifecycle.DONE:
                raise ConflictError(f"{row.number} is {row.status}: nothing to assign")
            if contractor_id is not None:
                self._record_dispatch(
                    session,
                    row,
                    now,
                    actor,
                    self._chosen_contractor(session, row, contractor_id, now),
                )
            if technician_ids is None:
                self.auto_assign(session, row, now, actor, reason=note)
            else:
                if not technician_ids:
                    raise InvalidRequestError(
                        "give at least one technician, or none to let the rules choose"
                    )
                known = {t.id for t in self._people.roster(now, session).people}
                missing = [t for t in technician_ids if t not in known]
                if missing:
                    raise NotFoundError(f"no technician {', '.join(map(str, missing))}")
                before = self.assignees_of(session, row.id)
                if list(technician_ids) != before or contractor_id is not None:
                    # the same people again changes nothing: nothing recorded, nobody told
                    self._assign_by_hand(
                        session,
                        row,
                        now,
                        actor,
                        technician_ids,
                        note,
                        before,
                        contractor_chosen=contractor_id is not None,
                    )
        self.announce(pending)
        return self._get(order_id)

    def _assign_by_hand(
        self,
        session: Session,
        row: WorkOrderRow,
        now: datetime,
        actor: Actor,
        technician_ids: Sequence[int],
        note: str | None,
        before: list[int],
        contractor_chosen: bool,
    ) -> None:
        self._set_assignees(session, row, technician_ids)
        if not contractor_chosen:
            self._record_dispatch(session, row, now, actor, self._dispatch_for(session, row, now))
        moved = row.status == Status.OPEN
        if moved:
            row.status = Status.ASSIGNED
        row.escalation = None
        self.log_entry(
            session,
            row,
            now,
            actor,
            "assigned",
            Status.OPEN if moved else None,
            Status.ASSIGNED if moved else None,
            f"by hand ({note})" if note else "by hand",
            {"assignees": list(technician_ids), "before": before, "by": "hand"},
        )

    # -- the lifecycle ------------------------------------------------------------------------

    def transition(
        self,
        order_id: int,
        to: str,
        actor: Actor,
        note: str | None = None,
        cause: str | None = None,
        action: str | None = None,
    ) -> WorkOrder:
        """Follow the lifecycle. Resolving may say the ``cause`` and the ``action`` taken (the
        incident review shows them); closing a P1 whose playbook steps are not all ticked needs
        a ``note`` saying why (409 naming the steps otherwise)."""
        now = self._clock.now()
        pending = Pending({order_id})
        with self._sessions.begin() as session:
            row = self.row(session, order_id)
            self._may(session, row, actor, Act.MOVE, to)
            target = lifecycle.check(row.status, to)
            self._check_sign_off(session, row, target)
            if target == Status.ASSIGNED and not self.assignees_of(session, row.id):
                raise ConflictError(f"{row.number} has nobody assigned: use the assign endpoint")
            if target == Status.CLOSED and row.priority == "P1" and not (note and note.strip()):
                unticked = self._unticked_playbook_steps(session, row)
                if unticked:
                    raise ConflictError(
                        f"{row.number} is a P1 with {len(unticked)} playbook step(s) not ticked "
                        f"({', '.join(unticked)}): give a note saying why to close it"
                    )
            record = {
                name: value.strip()
                for name, value in (("cause", cause), ("action", action))
                if value and value.strip() and target == Status.RESOLVED
            }
            self._move(session, row, target, now, actor, note, pending, record)
        self.announce(pending)
        return self._get(order_id)

    @staticmethod
    def _unticked_playbook_steps(session: Session, row: WorkOrderRow) -> list[str]:
        """The positions (1-based) of the order's playbook steps with no result yet."""
        playbook = for_fault(row.fault)
        if playbook is None:
            return []
        items = session.scalars(
            select(ChecklistRow)
            .where(
                ChecklistRow.work_order_id == row.id,
                ChecklistRow.position < len(playbook.steps),
            )
            .order_by(ChecklistRow.position)
        )
        return [f"#{item.position + 1}" for item in items if item.result is None]

    def _move(
        self,
        session: Session,
        row: WorkOrderRow,
        target: Status,
        now: datetime,
        actor: Actor,
        note: str | None,
        pending: Pending,
        record: dict[str, Any] | None = None,
    ) -> None:
        before = Status(row.status)
        if before == Status.ON_HOLD and row.hold_since is not None:
            # waiting for parts or access does not count against the resolution deadline
            held = now - row.hold_since
            row.resolve_by += held
            row.hold_since = None
            record = {**(record or {}), "held_s": int(held.total_seconds())}
            note = (
                f"{note + '; ' if note else ''}resolution deadline moved by {human(held)} on hold"
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
            # who hands it back is named, so the rules do not send it straight back to them
            record = {**(record or {}), "handed_back": self.assignees_of(session, row.id)}
            self._set_assignees(session, row, ())
        row.status = target
        row.updated_at = now
        self.log_entry(session, row, now, actor, "transition", before, target, note, record)
        pending.transitions.append((row.id, before, target))

    def _may(
        self, session: Session, row: WorkOrderRow, actor: Actor, act: Act, to: str | None = None
    ) -> None:
        authority.check(actor, self.access(session, row), act, to)
        if act in (Act.CHECKLIST, Act.NOTE):
            self.refuse_if_signed(session, row, f"{act.value} on it")

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
        pending = Pending({order_id})
        with self._sessions.begin() as session:
            row = self.row(session, order_id)
            self._may(session, row, actor, Act.CHECKLIST)
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
            self.log_entry(
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
        self.announce(pending)
        return self._get(order_id)

    def note(
        self,
        order_id: int,
        actor: Actor,
        note: str,
        within: Callable[[Session], None] | None = None,
    ) -> WorkOrder:
        """A note on the timeline. ``within`` lets the caller change its own aggregate in the
        same transaction (a resident's request joined to this order): both or neither."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = self.row(session, order_id)
            self._may(session, row, actor, Act.NOTE)
            row.updated_at = now
            self.log_entry(session, row, now, actor, "note", None, None, note)
            if within is not None:
                within(session)
        self.announce(Pending({order_id}))
        return self._get(order_id)

    # -- the record ---------------------------------------------------------------------------

    def log_entry(
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
        self.emit(
            session,
            row,
            at,
            event,
            {"actor": actor.name, "from": from_, "to": to, "note": note},
        )

    def emit(
        self, session: Session, row: WorkOrderRow, at: datetime, event: str, extra: dict[str, Any]
    ) -> None:
        """Record ``work_order.<event>`` in the caller's transaction (the event log is the
        outbox: it is seen only if the change commits)."""
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
                **extra,
            },
            row.site,
        )

    def notify_supervisor(
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

    def announce(self, pending: Pending) -> None:
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

    # -- contractors and the safety manager's sign-off ------------------------------------

    def _day(self, site: str, now: datetime) -> date:
        return now.astimezone(self._people.zone(site, self._zone.key)).date()

    def _dispatch_for(self, session: Session, row: WorkOrderRow, now: datetime) -> Dispatch | None:
        """For lift work: the contractor whose contract covers the site today (or why none).
        None for other work."""
        kind = row.kind or (contractors.LIFT if row.skill == contractors.LIFT else None)
        if kind != contractors.LIFT:
            return None
        known = self.contractors.in_session(session)
        day = self._day(row.site, now)
        current = next((c for c in known if c.id == row.contractor_id), None)
        if current is not None and current.covers(row.site, kind) and not current.refusal(day):
            return contractors.Dispatch(current)  # a planner's choice stays while in force
        return contractors.choose(known, row.site, kind, day)

    def _chosen_contractor(
        self, session: Session, row: WorkOrderRow, contractor_id: int, now: datetime
    ) -> Dispatch:
        chosen = next(
            (c for c in self.contractors.in_session(session) if c.id == contractor_id), None
        )
        if chosen is None:
            raise NotFoundError(f"no contractor {contractor_id}")
        kind = row.kind or row.skill
        if not chosen.covers(row.site, kind):
            raise ConflictError(
                f"contractor {chosen.name}'s contract does not cover {kind} work at {row.site}"
            )
        refusal = chosen.refusal(self._day(row.site, now))
        if refusal is not None:
            raise ConflictError(f"{row.number} cannot be dispatched: {refusal}")
        return Dispatch(chosen)

    def _record_dispatch(
        self,
        session: Session,
        row: WorkOrderRow,
        now: datetime,
        actor: Actor,
        dispatch: Dispatch | None,
    ) -> None:
        """The order names its contractor, holds the contract's response time when stricter,
        and says so in its timeline (the notifier tells the contractor's receiver, target
        ``contractor``). Covering contractors that cannot take it are said once, and the
        supervisor told."""
        if dispatch is None:
            return
        chosen = dispatch.contractor
        if chosen is None:
            if dispatch.refused and row.contractor_id is None:
                message = f"{row.number} not dispatched to a contractor: " + "; ".join(
                    dispatch.refused
                )
                already = session.scalar(
                    select(func.count())
                    .select_from(TimelineRow)
                    .where(
                        TimelineRow.work_order_id == row.id,
                        TimelineRow.event == "contractor_refused",
                    )
                )
                if not already:
                    self.log_entry(
                        session,
                        row,
                        now,
                        actor,
                        "contractor_refused",
                        None,
                        None,
                        message,
                        {"refused": list(dispatch.refused), "refusals": list(dispatch.refusals)},
                    )
                    self.notify_supervisor(session, row, now, "contractor_refused", message)
            return
        if row.contractor_id == chosen.id:
            return
        before = row.respond_by
        row.contractor_id = chosen.id
        row.respond_by = contractors.response_deadline(
            row.created_at, row.respond_by, chosen.response_minutes
        )
        note = f"dispatched to contractor {chosen.name}, 24-hour phone {chosen.phone_24h}"
        if row.respond_by != before:
            note += (
                f"; respond by {rfc3339(row.respond_by)} "
                f"(the contract's {chosen.response_minutes} min)"
            )
        self.log_entry(
            session,
            row,
            now,
            actor,
            "contractor",
            None,
            None,
            note,
            {
                "contractor_id": chosen.id,
                "name": chosen.name,
                "phone_24h": chosen.phone_24h,
                "response_minutes": chosen.response_minutes,
                "respond_by": rfc3339(row.respond_by),
            },
        )

    @staticmethod
    def _check_sign_off(session: Session, row: WorkOrderRow, target: Status) -> None:
        """Lift and electrical orders close only once signed off; a signed order is not
        reopened (its record is sealed: close it, a new alarm opens a new order)."""
        if not contractors.needs_sign_off(row.kind, row.skill):
            return
        signed = session.get(SignOffRow, row.id)
        if target == Status.CLOSED and signed is None:
            raise NotPermittedError(
                f"closing {row.number}: closing a lift order needs the safety manager's "
                f"sign-off ({row.skill} work): a {contractors.SAFETY_MANAGER} signs it first "
                "(POST /api/v1/work-orders/{id}/sign-off)"
            )
        if target == Status.IN_PROGRESS and signed is not None:
            raise ConflictError(
                f"{row.number} was signed off by {signed.signer}: its record is sealed; "
                "close it, and open a new order for more work"
            )

    def sign_off(self, order_id: int, actor: Actor, note: str | None = None) -> WorkOrder:
        """The safety manager signs a resolved lift or electrical order off: the record of the
        work (who, their licences, the checklist results, the notes and parts) is stored with
        its SHA-256 digest and changes no more; the order may then be closed."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = self.row(session, order_id)
            if not actor.safety_manager:
                raise NotPermittedError(
                    f"signing {row.number} off needs the {contractors.SAFETY_MANAGER} "
                    f"(安全管理员): {actor.name} is not one (a token made with --safety-manager)"
                )
            if not contractors.needs_sign_off(row.kind, row.skill):
                raise ConflictError(
                    f"{row.number} is {row.skill} work: only lift and electrical orders are "
                    "signed off"
                )
            signed = session.get(SignOffRow, row.id)
            if signed is not None:
                raise ConflictError(
                    f"{row.number} was signed off by {signed.signer} at {rfc3339(signed.signed_at)}"
                )
            if row.status != Status.RESOLVED:
                raise ConflictError(
                    f"{row.number} is {row.status}: an order is signed off once resolved"
                )
            record = sign_offs.record_of(
                session, row, self.assignees_of(session, row.id), actor.name, now, note
            )
            digest = contractors.digest(record)
            session.add(
                SignOffRow(
                    work_order_id=row.id,
                    signed_at=now,
                    signer=actor.name,
                    note=note,
                    record=record,
                    digest=digest,
                )
            )
            row.updated_at = now
            self.log_entry(
                session,
                row,
                now,
                actor,
                "signed_off",
                None,
                None,
                f"signed off by {actor.name}" + (f" ({note})" if note else ""),
                {"digest": digest, "signer": actor.name},
            )
        self.announce(Pending({order_id}))
        return self._get(order_id)
