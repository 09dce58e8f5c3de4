"""Spare parts: stock per site, deliveries, and parts reserved and used on work orders."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from facility_dispatch.api.auth import Principal
from facility_dispatch.api.deps import Planner, ServiceDep, Technician, Viewer
from facility_dispatch.api.errors import actor_of, raise_for
from facility_dispatch.api.pagination import Id, Limit, Offset, Page, RowId, page
from facility_dispatch.api.types import (
    MAX_QUANTITY,
    Input,
    Quantity,
    SiteName,
    SiteQuery,
    StockAmount,
)
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.maintenance.parts import Part, PartLine

router = APIRouter(prefix="/api/v1", tags=["parts"])


class SiteStockIO(Input):
    site: SiteName
    on_hand: StockAmount
    reorder_point: StockAmount = 0


class SiteStockOut(BaseModel):
    site: str
    on_hand: float = Field(description="deliveries add up past what one may bring")
    reorder_point: float
    reserved: float
    available: float
    low: bool


class PartIn(Input):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(default="pcs", max_length=16)
    unit_cost: float = Field(
        default=0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, description="for the orders' cost"
    )
    stock: list[SiteStockIO] = Field(default_factory=list)


class PartOut(BaseModel):
    id: int
    sku: str
    name: str
    unit: str
    unit_cost: float
    stock: float = Field(description="on hand: at the asked site, or at all sites")
    reorder_point: float
    sites: list[SiteStockOut]


def part_out(part: Part, who: Principal | None = None) -> PartOut:
    """The part as ``who`` may see it: a caller limited to sites sees (and sums) their stock."""
    stock = [s for s in part.stock if who is None or who.sees(s.site)]
    sites = [
        SiteStockOut(
            site=s.site,
            on_hand=s.on_hand,
            reorder_point=s.reorder_point,
            reserved=s.reserved,
            available=s.available,
            low=s.low,
        )
        for s in stock
    ]
    return PartOut(
        id=part.id,
        sku=part.sku,
        name=part.name,
        unit=part.unit,
        unit_cost=part.unit_cost,
        stock=sum(s.on_hand for s in stock),
        reorder_point=sum(s.reorder_point for s in stock),
        sites=sites,
    )


class DeliveryIn(Input):
    site: SiteName
    quantity: Quantity
    reorder_point: StockAmount | None = None
    note: str | None = Field(default=None, max_length=500)


class AdjustmentIn(Input):
    """A stock-take: what the site holds, counted, and why it differs."""

    site: SiteName
    on_hand: StockAmount
    reason: str = Field(min_length=2, max_length=500)


class MovementIn(Input):
    part_id: RowId
    action: Literal["reserve", "release", "consume", "return"] = Field(
        description="reserve for the job, release what was not needed, consume what was used, "
        "return what was taken but not used"
    )
    quantity: Quantity
    note: str | None = Field(default=None, max_length=500)


class PartLineOut(BaseModel):
    part_id: RowId
    sku: str
    name: str
    unit: str
    reserved: float
    consumed: float
    cost: float


class MovementOut(BaseModel):
    at: datetime
    site: str
    action: str
    quantity: float
    work_order_id: int | None
    actor: str
    note: str | None


@router.get("/parts", response_model=Page[PartOut])
def list_parts(
    service: ServiceDep,
    who: Viewer,
    site: SiteQuery = None,
    low: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[PartOut]:
    """``low=true``: only parts under their reorder point somewhere."""
    parts = service.parts.catalogue(site, low)
    chosen = parts[offset : offset + limit]
    return page(
        [part_out(p, who) for p in chosen], len(parts), offset, service.settings.max_page_bytes
    )


@router.post("/parts", response_model=PartOut, status_code=status.HTTP_201_CREATED)
def add_part(body: PartIn, service: ServiceDep, who: Planner) -> PartOut:
    try:
        part = service.parts.add(
            body.sku,
            body.name,
            body.unit,
            body.unit_cost,
            {s.site: (s.on_hand, s.reorder_point) for s in body.stock},
            who.name,
        )
    except MaintenanceError as error:
        raise_for(error)
    return part_out(part, who)


@router.get("/parts/{part_id}", response_model=PartOut)
def get_part(part_id: Id, service: ServiceDep, who: Viewer) -> PartOut:
    part = service.parts.get(part_id)
    if part is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no part {part_id}")
    return part_out(part, who)


@router.post("/parts/{part_id}/stock", response_model=PartOut)
def deliver(part_id: Id, body: DeliveryIn, service: ServiceDep, who: Planner) -> PartOut:
    """A delivery (restock), and optionally the site's reorder point; needs a planner.
    Technicians move stock only as parts on the orders assigned to them."""
    try:
        part = service.parts.receive(
            part_id, body.site, body.quantity, who.name, body.note, body.reorder_point
        )
    except MaintenanceError as error:
        raise_for(error)
    return part_out(part, who)


@router.post("/parts/{part_id}/adjust", response_model=PartOut)
def adjust(part_id: Id, body: AdjustmentIn, service: ServiceDep, who: Planner) -> PartOut:
    """Set a site's stock to what was counted, with the reason; the difference is in the
    ledger (action ``adjust``). Counting less than is reserved for orders answers 409."""
    try:
        part = service.parts.adjust(part_id, body.site, body.on_hand, body.reason, who.name)
    except MaintenanceError as error:
        raise_for(error)
    return part_out(part, who)


@router.get("/parts/{part_id}/ledger", response_model=Page[MovementOut])
def ledger(
    part_id: Id,
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[MovementOut]:
    movements = service.parts.ledger(part_id, site)
    chosen = movements[offset : offset + limit]
    return page(
        [MovementOut(**m) for m in chosen], len(movements), offset, service.settings.max_page_bytes
    )


@router.get("/work-orders/{order_id}/parts", response_model=Page[PartLineOut])
def parts_on_order(
    order_id: Id, service: ServiceDep, _who: Viewer, limit: Limit = 100, offset: Offset = 0
) -> Page[PartLineOut]:
    lines: list[PartLine] = service.parts.for_order(order_id)
    chosen = lines[offset : offset + limit]
    return page(
        [PartLineOut.model_validate(x, from_attributes=True) for x in chosen],
        len(lines),
        offset,
        service.settings.max_page_bytes,
    )


@router.post("/work-orders/{order_id}/parts", response_model=Page[PartLineOut])
def move_parts(
    order_id: Id, body: MovementIn, service: ServiceDep, who: Technician
) -> Page[PartLineOut]:
    """Stock never goes negative: a request for more than is free answers 409 saying how much is.
    A technician moves parts only on an order assigned to them (403 otherwise)."""
    try:
        lines = service.parts.move(
            order_id, body.part_id, body.action, body.quantity, actor_of(who), body.note
        )
    except MaintenanceError as error:
        raise_for(error)
    return page(
        [PartLineOut.model_validate(x, from_attributes=True) for x in lines],
        len(lines),
        0,
        service.settings.max_page_bytes,
    )
