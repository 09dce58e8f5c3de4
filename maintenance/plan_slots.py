"""The stored out-of-service slots of planned works, and the planner's move of one.

Adapter over ``plan_occurrences`` for :mod:`.slots` (pure): an occurrence of a plan whose
works stop its asset (``interrupts``) holds the slot ``due_at`` to ``ends_at`` in its group
(site and building). A moved slot keeps its occurrence key, so the planner's sweep does not
make the occurrence again at its old time; its order's due time and deadlines and its notice
to residents move with it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from facility_dispatch.maintenance import lifecycle
from facility_dispatch.maintenance.errors import ConflictError, NotFoundError
from facility_dispatch.maintenance.slots import Slot, clash
from facility_dispatch.maintenance.sql import OccurrenceRow, WorkOrderRow

REACH: Final = timedelta(days=31)
"""How far after a wanted start held slots are looked up: a building's slots of one day (a
six-lift tower at 4 hours each) fit many times over."""


def _held(site: str, building: str | None, start: datetime, until: datetime) -> Select[Any]:
    stmt = (
        select(OccurrenceRow)
        .outerjoin(WorkOrderRow, WorkOrderRow.id == OccurrenceRow.work_order_id)
        .where(
            OccurrenceRow.site == site,
            OccurrenceRow.ends_at.is_not(None),
            OccurrenceRow.ends_at > start,
            OccurrenceRow.due_at < until,
            OccurrenceRow.status != "skipped",
            (WorkOrderRow.status.is_(None)) | (WorkOrderRow.status != lifecycle.Status.CANCELLED),
        )
    )
    if building is None:
        return stmt.where(OccurrenceRow.building.is_(None))
    return stmt.where(OccurrenceRow.building == building)


def held(
    session: Session, site: str, building: str | None, start: datetime, until: datetime
) -> list[Slot]:
    """Slots of the group that end after ``start`` and begin before ``until``."""
    return [
        Slot(row.asset, row.due_at, row.ends_at)
        for row in session.scalars(_held(site, building, start, until))
        if row.ends_at is not None
    ]


def check_move(
    session: Session, row: OccurrenceRow, starts_at: datetime, zone: ZoneInfo
) -> datetime:
    """The new end of ``row``'s slot if it may start at ``starts_at``; ConflictError naming
    the clashing asset and its time otherwise."""
    if row.status != "generated" or row.work_order_id is None:
        raise ConflictError(
            f"occurrence {row.id} is {row.status}: only a generated one (with its order) moves"
        )
    order = session.get(WorkOrderRow, row.work_order_id)
    if order is None or lifecycle.Status(order.status) in lifecycle.FINISHED | lifecycle.DONE:
        state = order.status if order is not None else "gone"
        raise ConflictError(f"its order is {state}: only the slot of an open order moves")
    if row.ends_at is None or row.site is None:
        return starts_at  # works that stop nothing: no slot to keep apart
    ends_at = starts_at + (row.ends_at - row.due_at)
    others = [
        slot
        for other in session.scalars(_held(row.site, row.building, starts_at, ends_at))
        if other.id != row.id and other.ends_at is not None
        for slot in (Slot(other.asset, other.due_at, other.ends_at),)
    ]
    found = clash(others, starts_at, ends_at)
    if found is not None:
        start, end = found.starts_at.astimezone(zone), found.ends_at.astimezone(zone)
        raise ConflictError(
            f"{found.asset} is out of service {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} "
            f"({zone.key}) in the same {'building' if row.building else 'site'}"
            f" ({row.building or row.site}): pick a time outside it"
        )
    return ends_at


def occurrence(session: Session, plan_id: int, occurrence_id: int) -> OccurrenceRow:
    row = session.get(OccurrenceRow, occurrence_id, with_for_update=True)
    if row is None or row.plan_id != plan_id:
        raise NotFoundError(f"plan {plan_id} has no occurrence {occurrence_id}")
    return row
