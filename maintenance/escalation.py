"""Time passes: deadlines breached, absences begun, orders nobody could take. Run by the
scheduler; each job reads first and takes the write lock only when there is something to do."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from facility_dispatch.kernel.clock import Clock
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.maintenance import lifecycle, sla
from facility_dispatch.maintenance.lifecycle import Status
from facility_dispatch.maintenance.orders import DISPATCHER
from facility_dispatch.maintenance.people import People
from facility_dispatch.maintenance.sql import AssigneeRow, ChecklistRow, WorkOrderRow
from facility_dispatch.maintenance.work_orders import Pending, WorkOrderService


class Escalation:
    def __init__(
        self, orders: WorkOrderService, people: People, sessions: Sessions, clock: Clock
    ) -> None:
        self._orders = orders
        self._people = people
        self._sessions = sessions
        self._clock = clock

    def check_deadlines(self) -> int:
        """SLA breaches and missed playbook targets: marked, escalated, the supervisor told."""
        now = self._clock.now()
        if not self._anything_late(now):
            return 0  # the common case, answered without taking the write lock
        found = 0
        pending = Pending()
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
                    self._orders.record_breach(session, row, breach, now)
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
                found += 1
                self._orders.record_missed_target(session, owner, item, now)
                pending.orders.add(owner.id)
        self._orders.announce(pending)
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
            pending = Pending()
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
                    row = self._orders.row(session, order_id)
                    reason = f"{name} is absent ({absence.reason or 'no reason'}): substitute"
                    self._orders.hand_over(
                        session, row, absence.technician_id, name, reason, now, absence.reason
                    )
                    pending.orders.add(row.id)
                    moved += 1
            self._people.mark_absence_handled(absence.id)
            self._orders.announce(pending)
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
        pending = Pending()
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(WorkOrderRow).where(WorkOrderRow.status == Status.OPEN)
            ).all()
            for row in rows:
                if self._orders.auto_assign(session, row, now, DISPATCHER).assignees:
                    assigned += 1
                    pending.orders.add(row.id)
        self._orders.announce(pending)
        return assigned
