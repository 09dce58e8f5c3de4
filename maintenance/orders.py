"""Work orders as values, and the order book that reads them back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from facility_dispatch.kernel.db import Sessions
from facility_dispatch.maintenance import lifecycle
from facility_dispatch.maintenance.authority import OrderAccess, Rank
from facility_dispatch.maintenance.contractor_sql import SignOffRow
from facility_dispatch.maintenance.contractors import needs_sign_off
from facility_dispatch.maintenance.errors import ConflictError, NotFoundError
from facility_dispatch.maintenance.kpis import OrderFacts
from facility_dispatch.maintenance.lifecycle import Status
from facility_dispatch.maintenance.sql import (
    AssigneeRow,
    ChecklistRow,
    NotificationRow,
    TimelineRow,
    WorkOrderRow,
)
from facility_dispatch.rules.sql import AlarmRow

SOURCES = ("alarm", "preventive", "manual", "resident")
CHANNELS = ("alarm", "plan", "phone", "app", "wechat", "walk_in", "walk_round", "qr")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a person by name, the technician they are (if one), and their rank, which says what
    they may do to orders (:mod:`facility_dispatch.maintenance.authority`); the service itself (the
    dispatcher, the scheduler) acts as a planner."""

    name: str
    technician_id: int | None = None
    rank: Rank = Rank.PLANNER
    safety_manager: bool = False
    """The site's safety manager, who signs lift and electrical orders off (a duty, no rank)."""


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
class SignOff:
    """The safety manager's signature on the record of the work, and the record's digest."""

    signed_at: datetime
    signer: str
    note: str | None
    record: dict[str, Any]
    digest: str


@dataclass(frozen=True, slots=True)
class Handover:
    """An order moved off an absent technician: to whom, and when."""

    work_order_id: int
    number: str
    at: datetime
    absent: str
    to: tuple[int, ...]


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
    contractor_id: int | None = None
    sign_off: SignOff | None = None

    @property
    def allowed(self) -> tuple[str, ...]:
        """The lifecycle's next steps, sealed by the sign-off for lift and electrical work: no
        close before the safety manager has signed the record, nothing but close after."""
        steps = tuple(str(s) for s in lifecycle.allowed(Status(self.status)))
        if not needs_sign_off(self.kind, self.skill):
            return steps
        signed = self.sign_off is not None
        return tuple(s for s in steps if (s == "closed") == signed)

    @property
    def breached(self) -> bool:
        return self.response_breached_at is not None or self.resolution_breached_at is not None


TransitionHook = Callable[[WorkOrder, str, str], None]


class OrderBook:
    """Reads work orders; the service that writes them is one (it inherits this)."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @staticmethod
    def assignees_of(session: Session, order_id: int) -> list[int]:
        return list(
            session.scalars(
                select(AssigneeRow.technician_id)
                .where(AssigneeRow.work_order_id == order_id)
                .order_by(AssigneeRow.position)
            )
        )

    @staticmethod
    def open_counts(session: Session, reactive_only: bool = False) -> dict[int, int]:
        """Technician id -> open orders on them; ``reactive_only``: alarm and manual orders,
        not preventive ones (what the cap of open orders counts)."""
        stmt = (
            select(AssigneeRow.technician_id, func.count())
            .join(WorkOrderRow, WorkOrderRow.id == AssigneeRow.work_order_id)
            .where(WorkOrderRow.status.in_([s.value for s in lifecycle.WORKING]))
        )
        if reactive_only:
            stmt = stmt.where(WorkOrderRow.source != "preventive")
        rows = session.execute(stmt.group_by(AssigneeRow.technician_id))
        return {int(t): int(n) for t, n in rows}

    @classmethod
    def access(cls, session: Session, row: WorkOrderRow) -> OrderAccess:
        """What :func:`facility_dispatch.maintenance.authority.check` needs to know of the order."""
        return OrderAccess(row.number, row.priority, tuple(cls.assignees_of(session, row.id)))

    @staticmethod
    def row(session: Session, order_id: int) -> WorkOrderRow:
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
            row = self.row(session, order_id)
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

    def facts(self, site: str | None, before: datetime) -> list[OrderFacts]:
        """What the KPIs are computed from: every order created before ``before``."""
        with self._sessions() as session:
            stmt = select(WorkOrderRow).where(WorkOrderRow.created_at < before)
            if site:
                stmt = stmt.where(WorkOrderRow.site == site)
            return [
                OrderFacts(
                    r.id,
                    r.asset,
                    r.source,
                    r.priority,
                    r.status,
                    r.created_at,
                    r.respond_by,
                    r.resolve_by,
                    r.responded_at,
                    r.resolved_at,
                    r.closed_at,
                    r.due_at,
                    r.site,
                )
                for r in session.scalars(stmt)
            ]

    def load(self) -> dict[int, int]:
        """Technician id -> open orders on them now."""
        with self._sessions() as session:
            return self.open_counts(session)

    def handovers(self, since: datetime) -> list[Handover]:
        """Orders handed to a substitute because their assignee became absent, since ``since``
        (the timeline's ``reassigned`` entries): what the people page shows under an absence."""
        with self._sessions() as session:
            rows = session.execute(
                select(TimelineRow, WorkOrderRow.number)
                .join(WorkOrderRow, WorkOrderRow.id == TimelineRow.work_order_id)
                .where(TimelineRow.event == "reassigned", TimelineRow.at >= since)
                .order_by(TimelineRow.at)
            ).all()
            return [
                Handover(
                    entry.work_order_id,
                    number,
                    entry.at,
                    str(entry.data.get("absent", "")),
                    tuple(int(i) for i in entry.data.get("after") or ()),
                )
                for entry, number in rows
                if "absent" in (entry.data or {})
            ]

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
            assignees=tuple(self.assignees_of(session, row.id)),
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
            contractor_id=row.contractor_id,
            sign_off=self.sign_off_of(session, row.id),
        )

    @staticmethod
    def refuse_if_signed(session: Session, row: WorkOrderRow, doing: str) -> None:
        """After the safety manager's sign-off the record of the work (checklist results,
        notes, parts) stays as signed: 409."""
        signed = session.get(SignOffRow, row.id)
        if signed is not None:
            raise ConflictError(
                f"{row.number} was signed off by {signed.signer} at "
                f"{signed.signed_at.isoformat()}: its record cannot change ({doing})"
            )

    @staticmethod
    def sign_off_of(session: Session, order_id: int) -> SignOff | None:
        signed = session.get(SignOffRow, order_id)
        if signed is None:
            return None
        return SignOff(
            signed.signed_at, signed.signer, signed.note, dict(signed.record), signed.digest
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


def human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d{(seconds % 86400) // 3600}h"
