"""The company roll-up: every estate the caller may see, with its figures (issue 19)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from facility_dispatch.api.deps import ServiceDep, Viewer
from facility_dispatch.api.pagination import Limit, Offset, Page, page
from facility_dispatch.api.rollup import EstateFigures, gather

router = APIRouter(prefix="/api/v1/estates", tags=["estates"])


class EstateOut(BaseModel):
    site: str
    name: str
    assets: dict[str, int] = Field(description="assets by status: ok, alarm, offline, maintenance")
    firing: dict[str, int] = Field(description="firing alarms by severity")
    open_orders: dict[str, int] = Field(description="open work orders by priority")
    overdue: int = Field(description="open work orders past a response or resolution SLA")
    sla_rate: float | None = Field(
        description="share of the period's orders resolved within their SLA; null: none judged"
    )
    sla_judged: int = Field(description="orders whose resolution SLA was kept or missed")


def estate_out(figures: EstateFigures) -> EstateOut:
    return EstateOut.model_validate(figures, from_attributes=True)


@router.get("", response_model=Page[EstateOut])
def estates(
    service: ServiceDep,
    who: Viewer,
    days: Annotated[int, Query(ge=1, le=366, description="the SLA period, in days")] = 30,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[EstateOut]:
    """Every site at once, the most urgent first (critical alarms, overdue orders, P1s): what a
    property group's office watches. A token limited to sites gets those sites only."""
    figures = gather(service, who.sees, days)
    chosen = [estate_out(f) for f in figures[offset : offset + limit]]
    return page(chosen, len(figures), offset, service.settings.max_page_bytes)
