"""Spare parts: stock per site, reserved and used on work orders, a ledger of every movement.

Stock never goes negative, whatever runs at once: each movement is one conditional UPDATE
("take 2 if at least 2 are free") that the database applies atomically, and a refused one
says what is available. Parts used count in the order's cost. When what is free falls under
the reorder point, a low-stock event and a notice to the site go out (once, until restocked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facility_dispatch.kernel.clock import Clock
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.maintenance import authority, lifecycle
from facility_dispatch.maintenance.authority import Act
from facility_dispatch.maintenance.errors import ConflictError, InvalidRequestError, NotFoundError
from facility_dispatch.maintenance.orders import Actor, OrderBook
from facility_dispatch.maintenance.sql import (
    NotificationRow,
    PartMovementRow,
    PartRow,
    StockRow,
    WorkOrderRow,
)
from facility_dispatch.maintenance.work_orders import WorkOrderService

Action = Literal["reserve", "release", "consume", "return"]


@dataclass(frozen=True, slots=True)
class SiteStock:
    site: str
    on_hand: float
    reserved: float
    reorder_point: float

    @property
    def available(self) -> float:
        return self.on_hand - self.reserved

    @property
    def low(self) -> bool:
        return self.available < self.reorder_point


@dataclass(frozen=True, slots=True)
class Part:
    id: int
    sku: str
    name: str
    unit: str
    unit_cost: float
    stock: tuple[SiteStock, ...]


@dataclass(frozen=True, slots=True)
class PartLine:
    """One part on one order: what is held for it, used, given back, and what it cost."""

    part_id: int
    sku: str
    name: str
    unit: str
    reserved: float
    consumed: float
    cost: float


class Parts:
    def __init__(
        self, sessions: Sessions, events: EventLog, clock: Clock, orders: WorkOrderService
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._clock = clock
        self._orders = orders  # an order's cost changes through its own service

    # -- the catalogue and the shelves ---------------------------------------------------------

    def add(
        self,
        sku: str,
        name: str,
        unit: str,
        unit_cost: float,
        stock: dict[str, tuple[float, float]],
        actor: str,
    ) -> Part:
        """A new part with its opening stock per site: {site: (on hand, reorder point)}."""
        now = self._clock.now()
        try:
            with self._sessions.begin() as session:
                row = PartRow(sku=sku, name=name, unit=unit, unit_cost=unit_cost)
                session.add(row)
                session.flush()
                for site, (on_hand, reorder_point) in stock.items():
                    if on_hand < 0 or reorder_point < 0:
                        raise InvalidRequestError("stock and reorder points cannot be negative")
                    session.add(
                        StockRow(
                            part_id=row.id,
                            site=site,
                            on_hand=on_hand,
                            reserved=0.0,
                            reorder_point=reorder_point,
                        )
                    )
                    if on_hand:
                        self._ledger(
                            session,
                            row,
                            site,
                            None,
                            "receive",
                            on_hand,
                            0.0,
                            now,
                            actor,
                            "opening stock",
                        )
                part_id = row.id
        except IntegrityError:
            raise ConflictError(f"a part with SKU {sku!r} exists already") from None
        return self.get(part_id)  # type: ignore[return-value]

    def receive(
        self,
        part_id: int,
        site: str,
        quantity: float,
        actor: str,
        note: str | None = None,
        reorder_point: float | None = None,
    ) -> Part:
        """Restock (a delivery) or set the site's reorder point."""
        if quantity < 0:
            raise InvalidRequestError("a delivery adds a quantity of at least 0")
        now = self._clock.now()
        with self._sessions.begin() as session:
            part = session.get(PartRow, part_id)
            if part is None:
                raise NotFoundError(f"no part {part_id}")
            stock = session.get(StockRow, (part_id, site))
            if stock is None:
                stock = StockRow(
                    part_id=part_id, site=site, on_hand=0.0, reserved=0.0, reorder_point=0.0
                )
                session.add(stock)
                session.flush()
            if reorder_point is not None:
                stock.reorder_point = reorder_point
            if quantity:
                session.execute(
                    update(StockRow)
                    .where(StockRow.part_id == part_id, StockRow.site == site)
                    .values(on_hand=StockRow.on_hand + quantity)
                )
                self._ledger(session, part, site, None, "receive", quantity, 0.0, now, actor, note)
            session.flush()
            session.refresh(stock)
            self._watch_level(session, part, stock, now)
        self._events.notify()
        return self.get(part_id)  # type: ignore[return-value]

    def adjust(self, part_id: int, site: str, counted: float, reason: str, actor: str) -> Part:
        """A stock-take: the site holds ``counted``, whatever the ledger said; the difference is
        a movement of its own with the reason (broken in the store, found in the van). What is
        reserved for orders stays reserved, so the count cannot fall below it."""
        if counted < 0:
            raise InvalidRequestError("a count is 0 or more")
        if len(reason.strip()) < 2:
            raise InvalidRequestError("say why the stock is adjusted (at least 2 characters)")
        now = self._clock.now()
        with self._sessions.begin() as session:
            part = session.get(PartRow, part_id)
            if part is None:
                raise NotFoundError(f"no part {part_id}")
            stock = session.get(StockRow, (part_id, site), with_for_update=True)
            if stock is None:
                raise NotFoundError(f"{part.sku} is not stocked at {site}")
            if counted < stock.reserved:
                raise ConflictError(
                    f"{stock.reserved:g} {part.unit} of {part.sku} are reserved for orders at "
                    f"{site}: release them before counting less"
                )
            change = counted - stock.on_hand
            if change:
                stock.on_hand = counted
                self._ledger(
                    session, part, site, None, "adjust", change, 0.0, now, actor, reason.strip()
                )
            session.flush()
            self._watch_level(session, part, stock, now)
        self._events.notify()
        return self.get(part_id)  # type: ignore[return-value]

    def get(self, part_id: int) -> Part | None:
        with self._sessions() as session:
            row = session.get(PartRow, part_id)
            return self._part(session, row) if row else None

    def catalogue(self, site: str | None = None, low: bool = False) -> list[Part]:
        with self._sessions() as session:
            parts = [
                self._part(session, r)
                for r in session.scalars(select(PartRow).order_by(PartRow.sku))
            ]
        if site:
            parts = [
                Part(
                    p.id,
                    p.sku,
                    p.name,
                    p.unit,
                    p.unit_cost,
                    tuple(s for s in p.stock if s.site == site),
                )
                for p in parts
            ]
            parts = [p for p in parts if p.stock]
        if low:
            parts = [p for p in parts if any(s.low for s in p.stock)]
        return parts

    @staticmethod
    def _part(session: Session, row: PartRow) -> Part:
        stock = tuple(
            SiteStock(s.site, s.on_hand, s.reserved, s.reorder_point)
            for s in session.scalars(
                select(StockRow).where(StockRow.part_id == row.id).order_by(StockRow.site)
            )
        )
        return Part(row.id, row.sku, row.name, row.unit, row.unit_cost, stock)

    # -- parts on a work order -----------------------------------------------------------------

    def move(
        self,
        order_id: int,
        part_id: int,
        action: Action,
        quantity: float,
        actor: Actor,
        note: str | None = None,
    ) -> list[PartLine]:
        """Reserve, release, consume or return parts on an order, at the order's site; a
        technician only on an order assigned to them
        (:mod:`facility_dispatch.maintenance.authority`)."""
        if quantity <= 0:
            raise InvalidRequestError("the quantity must be more than 0")
        now = self._clock.now()
        with self._sessions.begin() as session:
            order = session.get(WorkOrderRow, order_id)
            if order is None:
                raise NotFoundError(f"no work order {order_id}")
            authority.check(actor, OrderBook.access(session, order), Act.PARTS)
            if lifecycle.Status(order.status) in lifecycle.FINISHED:
                raise ConflictError(f"{order.number} is {order.status}: no parts move on it")
            OrderBook.refuse_if_signed(session, order, f"{action} parts")
            part = session.get(PartRow, part_id)
            if part is None:
                raise NotFoundError(f"no part {part_id}")
            line = self._line(session, order_id, part)
            site = order.site
            stock_at = (StockRow.part_id == part_id) & (StockRow.site == site)
            if action == "reserve":
                changed = session.execute(
                    update(StockRow)
                    .where(stock_at, StockRow.on_hand - StockRow.reserved >= quantity)
                    .values(reserved=StockRow.reserved + quantity)
                ).rowcount  # type: ignore[attr-defined]
                if not changed:
                    self._short(session, part, site, quantity)
                self._ledger(
                    session, part, site, order_id, "reserve", quantity, 0.0, now, actor.name, note
                )
            elif action == "release":
                if quantity > line.reserved:
                    raise ConflictError(
                        f"{order.number} holds {line.reserved:g} {part.unit} of {part.sku}"
                    )
                session.execute(
                    update(StockRow).where(stock_at).values(reserved=StockRow.reserved - quantity)
                )
                self._ledger(
                    session, part, site, order_id, "release", quantity, 0.0, now, actor.name, note
                )
            elif action == "consume":
                held = min(line.reserved, quantity)
                changed = session.execute(
                    update(StockRow)
                    .where(stock_at, StockRow.on_hand - (StockRow.reserved - held) >= quantity)
                    .values(on_hand=StockRow.on_hand - quantity, reserved=StockRow.reserved - held)
                ).rowcount  # type: ignore[attr-defined]
                if not changed:
                    self._short(session, part, site, quantity - held)
                self._ledger(
                    session, part, site, order_id, "consume", quantity, held, now, actor.name, note
                )
                self._orders.charge(session, order, quantity * part.unit_cost, now)
            else:  # return: used on the order after all not, back on the shelf
                if quantity > line.consumed:
                    raise ConflictError(
                        f"{order.number} used {line.consumed:g} {part.unit} of {part.sku}"
                    )
                session.execute(
                    update(StockRow).where(stock_at).values(on_hand=StockRow.on_hand + quantity)
                )
                self._ledger(
                    session, part, site, order_id, "return", quantity, 0.0, now, actor.name, note
                )
                self._orders.charge(session, order, -quantity * part.unit_cost, now)
            session.flush()
            stock = session.get(StockRow, (part_id, site))
            if stock is not None:
                session.refresh(stock)
                self._watch_level(session, part, stock, now)
            self._events.record(
                session,
                f"part.{action}",
                now,
                {
                    "work_order_id": order_id,
                    "number": order.number,
                    "part_id": part_id,
                    "sku": part.sku,
                    "quantity": quantity,
                    "site": site,
                    "actor": actor.name,
                },
                site,
            )
        self._events.notify()
        return self.for_order(order_id)

    def _short(self, session: Session, part: PartRow, site: str, wanted: float) -> None:
        stock = session.get(StockRow, (part.id, site))
        free = stock.on_hand - stock.reserved if stock else 0.0
        raise ConflictError(
            f"not enough {part.sku} ({part.name}) at {site}: "
            f"{free:g} {part.unit} free, {wanted:g} wanted"
        )

    def _line(self, session: Session, order_id: int, part: PartRow) -> PartLine:
        totals = dict(
            session.execute(
                select(PartMovementRow.action, func.sum(PartMovementRow.quantity))
                .where(
                    PartMovementRow.work_order_id == order_id, PartMovementRow.part_id == part.id
                )
                .group_by(PartMovementRow.action)
            ).all()
        )
        from_reserved = (
            session.scalar(
                select(func.sum(PartMovementRow.from_reserved)).where(
                    PartMovementRow.work_order_id == order_id, PartMovementRow.part_id == part.id
                )
            )
            or 0.0
        )
        reserved = totals.get("reserve", 0.0) - totals.get("release", 0.0) - from_reserved
        consumed = totals.get("consume", 0.0) - totals.get("return", 0.0)
        return PartLine(
            part.id, part.sku, part.name, part.unit, reserved, consumed, consumed * part.unit_cost
        )

    def for_order(self, order_id: int) -> list[PartLine]:
        with self._sessions() as session:
            part_ids = session.scalars(
                select(PartMovementRow.part_id)
                .where(PartMovementRow.work_order_id == order_id)
                .distinct()
            ).all()
            lines = []
            for part_id in sorted(part_ids):
                part = session.get(PartRow, part_id)
                if part is not None:
                    lines.append(self._line(session, order_id, part))
            return lines

    def ledger(
        self, part_id: int, site: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        with self._sessions() as session:
            stmt = select(PartMovementRow).where(PartMovementRow.part_id == part_id)
            if site:
                stmt = stmt.where(PartMovementRow.site == site)
            return [
                {
                    "at": m.at,
                    "site": m.site,
                    "action": m.action,
                    "quantity": m.quantity,
                    "work_order_id": m.work_order_id,
                    "actor": m.actor,
                    "note": m.note,
                }
                for m in session.scalars(stmt.order_by(PartMovementRow.id.desc()).limit(limit))
            ]

    # -- the record ------------------------------------------------------------------------------

    @staticmethod
    def _ledger(
        session: Session,
        part: PartRow,
        site: str,
        order_id: int | None,
        action: str,
        quantity: float,
        from_reserved: float,
        at: datetime,
        actor: str,
        note: str | None,
    ) -> None:
        session.add(
            PartMovementRow(
                part_id=part.id,
                site=site,
                work_order_id=order_id,
                action=action,
                quantity=quantity,
                from_reserved=from_reserved,
                unit_cost=part.unit_cost,
                at=at,
                actor=actor,
                note=note,
            )
        )

    def _watch_level(self, session: Session, part: PartRow, stock: StockRow, now: datetime) -> None:
        free = stock.on_hand - stock.reserved
        if free < stock.reorder_point:
            if stock.low_since is None:
                stock.low_since = now
                message = (
                    f"{part.sku} ({part.name}) at {stock.site}: {free:g} {part.unit} free, "
                    f"under the reorder point of {stock.reorder_point:g}"
                )
                self._events.record(
                    session,
                    "part.low_stock",
                    now,
                    {
                        "part_id": part.id,
                        "sku": part.sku,
                        "site": stock.site,
                        "available": free,
                        "reorder_point": stock.reorder_point,
                        "message": message,
                    },
                    stock.site,
                )
                session.add(
                    NotificationRow(
                        at=now,
                        site=stock.site,
                        role="storekeeper",
                        work_order_id=None,
                        kind=f"low_stock:{part.sku}",
                        message=message,
                    )
                )
        elif stock.low_since is not None:
            stock.low_since = None
