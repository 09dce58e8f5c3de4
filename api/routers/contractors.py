"""Maintenance contractors (维保单位): their contracts, the sites and kinds they cover, their
technicians with licence numbers. Planners change them; viewers read."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, model_validator

from facility_dispatch.api.deps import Planner, ServiceDep, Viewer
from facility_dispatch.api.errors import raise_for
from facility_dispatch.api.pagination import Id, Limit, Offset, Page, RowId, page
from facility_dispatch.api.types import Input, Kind, SiteName, SiteQuery
from facility_dispatch.maintenance.contractors import Contractor, ContractTechnician
from facility_dispatch.maintenance.errors import MaintenanceError

router = APIRouter(prefix="/api/v1/contractors", tags=["contractors"])

PHONE = r"^\+?[0-9][0-9 ()-]{2,30}$"
RECEIVER = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class ContractTechnicianIO(BaseModel):
    technician_id: RowId
    licence: str = Field(
        min_length=1, max_length=64, description="the licence number the contract lists"
    )


def _whole_ids(data: Any) -> Any:
    """JSON types as the document states them for the nested technicians too (what
    :class:`Input` does for a body's own fields): ``5.0`` or ``"5"`` is no technician id,
    refused for the whole body with a sentence."""
    if isinstance(data, dict) and isinstance(data.get("technicians"), list):
        for position, item in enumerate(data["technicians"]):
            if isinstance(item, dict) and type(item.get("technician_id", 0)) is not int:
                raise ValueError(f"technicians[{position}].technician_id must be a whole number")
    return data


class ContractorIn(Input):
    name: str = Field(min_length=1, max_length=200)
    phone_24h: str = Field(pattern=PHONE, description="the 24-hour duty phone")
    contract_start: date
    contract_end: date = Field(description="the last day the contract is in force")
    sites: list[SiteName] = Field(
        default_factory=list, max_length=200, description="sites covered; empty: all sites"
    )
    kinds: list[Kind] = Field(min_length=1, max_length=4, description="kinds of assets covered")
    response_minutes: int | None = Field(
        default=None,
        ge=1,
        le=10080,
        description="the contract's response time: an order's response deadline is held to it "
        "when it is stricter than the service level's",
    )
    receiver: str | None = Field(
        default=None,
        pattern=RECEIVER,
        description="the receiver in the notifications file that reaches the contractor "
        "(routes send to it with the target `contractor`)",
    )
    active: bool = True
    technicians: list[ContractTechnicianIO] = Field(default_factory=list, max_length=500)

    _ids = model_validator(mode="before")(_whole_ids)


class ContractorPatch(Input):
    """Only what is given changes."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone_24h: str | None = Field(default=None, pattern=PHONE)
    contract_start: date | None = None
    contract_end: date | None = None
    sites: list[SiteName] | None = Field(default=None, max_length=200)
    kinds: list[Kind] | None = Field(default=None, min_length=1, max_length=4)
    response_minutes: int | None = Field(default=None, ge=1, le=10080)
    receiver: str | None = Field(default=None, pattern=RECEIVER)
    active: bool | None = None
    technicians: list[ContractTechnicianIO] | None = Field(default=None, max_length=500)

    _ids = model_validator(mode="before")(_whole_ids)


class ContractorOut(BaseModel):
    id: int
    name: str
    phone_24h: str
    contract_start: date
    contract_end: date
    sites: list[str]
    kinds: list[str]
    response_minutes: int | None
    receiver: str | None
    active: bool
    technicians: list[ContractTechnicianIO]


def contractor_out(c: Contractor) -> ContractorOut:
    return ContractorOut(
        id=c.id,
        name=c.name,
        phone_24h=c.phone_24h,
        contract_start=c.contract_start,
        contract_end=c.contract_end,
        sites=list(c.sites),
        kinds=list(c.kinds),
        response_minutes=c.response_minutes,
        receiver=c.receiver,
        active=c.active,
        technicians=[
            ContractTechnicianIO(technician_id=t.technician_id, licence=t.licence)
            for t in c.technicians
        ],
    )


def _technicians(given: list[ContractTechnicianIO]) -> list[ContractTechnician]:
    return [ContractTechnician(t.technician_id, t.licence) for t in given]


@router.get("", response_model=Page[ContractorOut])
def list_contractors(
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[ContractorOut]:
    """Oldest first; ``site``: those whose contract covers it."""
    found, total = service.work_orders.contractors.listing(site, limit, offset)
    return page([contractor_out(c) for c in found], total, offset, service.settings.max_page_bytes)


@router.post("", response_model=ContractorOut, status_code=status.HTTP_201_CREATED)
def create_contractor(body: ContractorIn, service: ServiceDep, who: Planner) -> ContractorOut:
    """A name already used answers 409; an unknown technician 404; end before start 422."""
    fields = body.model_dump(exclude={"technicians"})
    try:
        created = service.work_orders.contractors.create(
            service.clock.now(), who.name, technicians=_technicians(body.technicians), **fields
        )
    except MaintenanceError as error:
        raise_for(error)
    return contractor_out(created)


@router.get("/{contractor_id}", response_model=ContractorOut)
def get_contractor(contractor_id: Id, service: ServiceDep, _who: Viewer) -> ContractorOut:
    found = service.work_orders.contractors.get(contractor_id)
    if found is None:
        raise_for(LookupError(f"no contractor {contractor_id}"))
    return contractor_out(found)


@router.patch("/{contractor_id}", response_model=ContractorOut)
def update_contractor(
    contractor_id: Id, body: ContractorPatch, service: ServiceDep, _who: Planner
) -> ContractorOut:
    """A contractor is never deleted (orders name it): set ``active`` false instead."""
    fields = {
        name: value
        for name, value in body.model_dump(exclude_unset=True, exclude={"technicians"}).items()
        if value is not None or name in ("response_minutes", "receiver")  # null clears these
    }
    if body.technicians is not None:
        fields["technicians"] = _technicians(body.technicians)
    try:
        updated = service.work_orders.contractors.update(
            contractor_id, service.clock.now(), **fields
        )
    except MaintenanceError as error:
        raise_for(error)
    return contractor_out(updated)
