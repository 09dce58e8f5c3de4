"""Statutory items: the compliance list (due soon, overdue), due dates, and items done."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from facility_dispatch.api.deps import Planner, ServiceDep, Viewer
from facility_dispatch.api.errors import raise_for
from facility_dispatch.api.pagination import Limit, Offset, Page, page
from facility_dispatch.api.types import ASSET_REGEX, Input, SiteName, SiteQuery
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.maintenance.statutory import Standing

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])

StageName = Literal["ok", "due_soon", "overdue"]
KeptItem = Literal["inspection", "drill", "certificate"]


class ComplianceOut(BaseModel):
    key: str = Field(description="the item's identity across its cycles")
    site: str
    asset: str | None = Field(description="the lift (or the technician, for their certificate)")
    item: Literal["inspection", "drill", "certificate", "operator_certificate"]
    label: str
    due_on: date
    last_done_on: date | None
    stage: StageName
    days_left: int = Field(description="negative once overdue")


def standing_out(standing: Standing) -> ComplianceOut:
    o = standing.obligation
    return ComplianceOut(
        key=o.key,
        site=o.site,
        asset=o.asset or None,
        item=o.item,  # type: ignore[arg-type]
        label=o.label,
        due_on=o.due_on,
        last_done_on=o.last_done_on,
        stage=standing.stage,  # type: ignore[arg-type]
        days_left=standing.days_left,
    )


Day = date
FIRST, LAST = date(1970, 1, 1), date(9000, 12, 31)


def _within(**days: date | None) -> None:
    """Statutory dates fall in our era (the document says only "a date")."""
    for name, day in days.items():
        if day is not None and not FIRST <= day <= LAST:
            raise HTTPException(422, f"{name}: a date from {FIRST} to {LAST}")


OptionalAsset = Annotated[str | None, Field(default=None, pattern=ASSET_REGEX)]


class DueIn(Input):
    """An item's due date, as the inspection report or the certificate gives it."""

    site: SiteName
    asset: OptionalAsset = Field(default=None, description="the lift; none for a site's drill")
    item: KeptItem
    due_on: Day
    note: str | None = Field(default=None, max_length=2000)


class DoneIn(Input):
    """An inspection or drill held, a certificate renewed: the due date moves on."""

    site: SiteName
    asset: OptionalAsset = Field(default=None, description="the lift; none for a site's drill")
    item: KeptItem
    done_on: Day
    next_due: Day | None = Field(
        default=None,
        description="default: a year after an inspection, six months after a drill; "
        "a renewed certificate needs it",
    )
    note: str | None = Field(default=None, max_length=2000)


@router.get("", response_model=Page[ComplianceOut])
def list_compliance(
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    stage: Annotated[StageName | None, Query(description="only items at this stage")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[ComplianceOut]:
    """Every statutory item with its due date, soonest first; the stage is today's in the
    site's local calendar (due_soon within FACILITY_COMPLIANCE_LEAD_DAYS)."""
    found = [s for s in service.compliance.standings(site) if stage is None or s.stage == stage]
    items = [standing_out(s) for s in found[offset : offset + limit]]
    return page(items, len(found), offset, service.settings.max_page_bytes)


def _standing(service: ServiceDep, site: str, asset: str, item: str) -> ComplianceOut:
    found = [
        s
        for s in service.compliance.standings(site)
        if s.obligation.asset == asset and s.obligation.item == item
    ]
    return standing_out(found[0])


@router.post("", response_model=ComplianceOut)
def set_due(body: DueIn, service: ServiceDep, who: Planner) -> ComplianceOut:
    """Set when an item is due (replacing the date it had)."""
    _within(due_on=body.due_on)
    try:
        service.compliance.set_due(
            body.site, body.asset or "", body.item, body.due_on, who.name, body.note
        )
    except MaintenanceError as error:
        raise_for(error)
    return _standing(service, body.site, body.asset or "", body.item)


@router.post("/done", response_model=ComplianceOut)
def record_done(body: DoneIn, service: ServiceDep, who: Planner) -> ComplianceOut:
    """Record an item done; its next due date follows (or is the one given)."""
    _within(done_on=body.done_on, next_due=body.next_due)
    try:
        service.compliance.record_done(
            body.site, body.asset or "", body.item, body.done_on, who.name, body.next_due, body.note
        )
    except MaintenanceError as error:
        raise_for(error)
    return _standing(service, body.site, body.asset or "", body.item)
