"""Technicians, shifts and absences (the roster), and the sites they work at."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from facility_dispatch.api.deps import Planner, ServiceDep, Viewer
from facility_dispatch.api.errors import raise_for
from facility_dispatch.api.pagination import Id, IdQuery, Limit, Offset, Page, RowId, page
from facility_dispatch.api.types import Input, SiteName, SitePath, SiteQuery, UtcDateTime
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.maintenance.people import Absence, Shift, Site, Technician
from facility_dispatch.notify.apprise_sender import AppriseSender

router = APIRouter(prefix="/api/v1", tags=["people"])
MAX_LEVEL_S = 366 * 86_400  # a contract's deadline is within a year
Skill = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
TEL: Final = re.compile(r"tel:\+?[0-9][0-9-]{2,30}")
CONTACT_REGEX: Final = r"^(tel:\+?[0-9][0-9-]{2,30}|[a-z][a-z0-9+.-]*://[!-~]+)$"
"""ASCII only after the scheme (an Apprise URL percent-encodes the rest): Python's and pydantic's
regex engines disagree on which Unicode characters are spaces, so "non-space" let the document allow
what the service refused."""


class CertificationIO(Input):
    kind: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", description="e.g. elevator, electrical")
    number: str = Field(max_length=64)
    expires_on: date


class TechnicianIn(Input):
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    skills: list[Skill] = Field(
        min_length=1, description="elevator, electrical, plumbing, cctv, general"
    )
    seniority: Literal["junior", "senior"]
    sites: list[SiteName] = Field(min_length=1)
    certifications: list[CertificationIO] = Field(default_factory=list)
    employer: str | None = Field(default=None, max_length=100, description="a contractor's name")
    active: bool = True
    contacts: list[Annotated[str, Field(max_length=500, pattern=CONTACT_REGEX)]] = Field(
        default_factory=list,
        max_length=10,
        description="where notifications reach this person: Apprise URLs (mailto://, "
        "wecombot://, json://...); tel: numbers are kept for people to call",
    )
    role: Literal["technician", "supervisor"] = Field(
        default="technician", description="a supervisor hears of escalations at their sites"
    )

    @model_validator(mode="after")
    def _reachable(self) -> TechnicianIn:
        """Apprise decides what its URLs are (the document can only say ``scheme://...``). The
        refusal's type and ``ctx.position`` let a client say it in its own language."""
        for position, contact in enumerate(self.contacts):
            if not (TEL.fullmatch(contact) or AppriseSender().usable(contact)):
                raise PydanticCustomError(
                    "contact_unusable",
                    "contacts[{position}] is neither a tel: number nor a URL Apprise can use",
                    {"position": position},
                )
        return self


class TechnicianOut(TechnicianIn):
    id: int
    open_orders: int = 0

    @model_validator(mode="after")
    def _reachable(self) -> TechnicianOut:
        """What is stored is shown as it is (Apprise judged it when it came in)."""
        return self


def _technician_out(technician: Technician, open_orders: int = 0) -> TechnicianOut:
    return TechnicianOut(
        id=technician.id,
        name=technician.name,
        phone=technician.phone,
        skills=list(technician.skills),
        seniority=technician.seniority,  # type: ignore[arg-type]
        sites=list(technician.sites),
        certifications=[CertificationIO(**c) for c in technician.certifications],
        employer=technician.employer,
        active=technician.active,
        contacts=list(technician.contacts),
        role=technician.role,  # type: ignore[arg-type]
        open_orders=open_orders,
    )


def _fields(body: TechnicianIn) -> dict[str, Any]:
    fields = body.model_dump()
    fields["certifications"] = [
        {**c, "expires_on": c["expires_on"].isoformat()} for c in fields["certifications"]
    ]
    return fields


@router.get("/technicians", response_model=Page[TechnicianOut], tags=["people"])
def list_technicians(
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    skill: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[TechnicianOut]:
    technicians, total = service.people.technicians(site, skill, limit, offset)
    loads = service.work_orders.load()
    return page(
        [_technician_out(t, loads.get(t.id, 0)) for t in technicians],
        total,
        offset,
        service.settings.max_page_bytes,
    )


@router.post("/technicians", response_model=TechnicianOut, status_code=status.HTTP_201_CREATED)
def add_technician(body: TechnicianIn, service: ServiceDep, _who: Planner) -> TechnicianOut:
    return _technician_out(service.people.add_technician(service.clock.now(), **_fields(body)))


@router.get("/technicians/{technician_id}", response_model=TechnicianOut)
def get_technician(technician_id: Id, service: ServiceDep, _who: Viewer) -> TechnicianOut:
    technician = service.people.technician(technician_id)
    if technician is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no technician {technician_id}")
    return _technician_out(technician, service.work_orders.load().get(technician_id, 0))


@router.put("/technicians/{technician_id}", response_model=TechnicianOut)
def update_technician(
    technician_id: Id, body: TechnicianIn, service: ServiceDep, _who: Planner
) -> TechnicianOut:
    try:
        return _technician_out(service.people.update_technician(technician_id, **_fields(body)))
    except MaintenanceError as error:
        raise_for(error)


class ShiftIn(Input):
    technician_id: RowId
    starts_at: UtcDateTime
    ends_at: UtcDateTime
    on_call: bool = False
    site: SiteName | None = Field(
        default=None, description="default: any of the technician's sites"
    )


class ShiftOut(ShiftIn):
    id: int


def _shift_out(shift: Shift) -> ShiftOut:
    return ShiftOut.model_validate(shift, from_attributes=True)


@router.get("/shifts", response_model=Page[ShiftOut])
def list_shifts(
    service: ServiceDep,
    _who: Viewer,
    technician_id: IdQuery = None,
    site: SiteQuery = None,
    start: Annotated[UtcDateTime | None, Query(description="shifts ending after this")] = None,
    end: Annotated[UtcDateTime | None, Query(description="shifts starting before this")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[ShiftOut]:
    shifts, total = service.people.shifts(technician_id, site, start, end, limit, offset)
    return page([_shift_out(s) for s in shifts], total, offset, service.settings.max_page_bytes)


@router.post("/shifts", response_model=ShiftOut, status_code=status.HTTP_201_CREATED)
def add_shift(body: ShiftIn, service: ServiceDep, _who: Planner) -> ShiftOut:
    try:
        shift = service.people.add_shift(
            body.technician_id, body.starts_at, body.ends_at, body.on_call, body.site
        )
    except MaintenanceError as error:
        raise_for(error)
    return _shift_out(shift)


@router.put("/shifts/{shift_id}", response_model=ShiftOut)
def update_shift(shift_id: Id, body: ShiftIn, service: ServiceDep, _who: Planner) -> ShiftOut:
    """Change a shift as a whole (the body of a new one). A shift that has ended is what
    happened and is refused (409)."""
    try:
        shift = service.people.update_shift(
            shift_id,
            service.clock.now(),
            body.technician_id,
            body.starts_at,
            body.ends_at,
            body.on_call,
            body.site,
        )
    except MaintenanceError as error:
        raise_for(error)
    return _shift_out(shift)


@router.delete("/shifts/{shift_id}", response_model=ShiftOut)
def cancel_shift(shift_id: Id, service: ServiceDep, _who: Planner) -> ShiftOut:
    """Cancel a shift that has not ended (409 for an ended one, or one a roster wrote: change
    the roster). Orders already assigned stay with their technician."""
    try:
        shift = service.people.cancel_shift(shift_id, service.clock.now())
    except MaintenanceError as error:
        raise_for(error)
    return _shift_out(shift)


class AbsenceIn(Input):
    technician_id: RowId
    starts_at: UtcDateTime
    ends_at: UtcDateTime
    reason: str = Field(default="", max_length=500)


class AbsenceOut(BaseModel):
    id: int
    technician_id: RowId
    starts_at: datetime
    ends_at: datetime
    reason: str
    reassigned: int = Field(default=0, description="open orders handed to a substitute now")

    @classmethod
    def of(cls, absence: Absence, reassigned: int) -> AbsenceOut:
        return cls(
            id=absence.id,
            technician_id=absence.technician_id,
            starts_at=absence.starts_at,
            ends_at=absence.ends_at,
            reason=absence.reason,
            reassigned=reassigned,
        )


@router.post("/absences", response_model=AbsenceOut, status_code=status.HTTP_201_CREATED)
def add_absence(body: AbsenceIn, service: ServiceDep, who: Planner) -> AbsenceOut:
    """Record an absence; if it has begun, the technician's open orders go to substitutes now
    (otherwise when it begins)."""
    try:
        absence = service.people.add_absence(
            body.technician_id, body.starts_at, body.ends_at, body.reason, who.name
        )
    except MaintenanceError as error:
        raise_for(error)
    moved = service.escalation.handle_absences()
    return AbsenceOut.of(absence, moved)


@router.put("/absences/{absence_id}", response_model=AbsenceOut)
def update_absence(
    absence_id: Id, body: AbsenceIn, service: ServiceDep, _who: Planner
) -> AbsenceOut:
    """Change an absence that has not ended (409 for an ended one). Orders it moved stay where
    they went; if it has begun now, the technician's open orders go to substitutes."""
    try:
        absence = service.people.update_absence(
            absence_id,
            service.clock.now(),
            body.technician_id,
            body.starts_at,
            body.ends_at,
            body.reason,
        )
    except MaintenanceError as error:
        raise_for(error)
    moved = service.escalation.handle_absences()
    return AbsenceOut.of(absence, moved)


class AbsenceCancelled(BaseModel):
    id: int
    technician_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str
    orders_stay: bool = Field(
        description="true: the absence had begun and its orders went to substitutes; they "
        "stay with them (reassign them on their pages if need be)"
    )
    note: str


@router.delete("/absences/{absence_id}", response_model=AbsenceCancelled)
def cancel_absence(absence_id: Id, service: ServiceDep, _who: Planner) -> AbsenceCancelled:
    """Cancel an absence that has not ended (409 for an ended one). The orders it moved stay
    where they went: the response says so."""
    try:
        absence = service.people.cancel_absence(absence_id, service.clock.now())
    except MaintenanceError as error:
        raise_for(error)
    note = (
        "the orders this absence moved to substitutes stay with them; reassign them if need be"
        if absence.handled
        else "no order had been moved"
    )
    return AbsenceCancelled(
        id=absence.id,
        technician_id=absence.technician_id,
        starts_at=absence.starts_at,
        ends_at=absence.ends_at,
        reason=absence.reason,
        orders_stay=absence.handled,
        note=note,
    )


@router.get("/absences", response_model=Page[AbsenceOut])
def list_absences(
    service: ServiceDep, _who: Viewer, limit: Limit = 100, offset: Offset = 0
) -> Page[AbsenceOut]:
    absences: list[Absence] = service.people.absences()
    chosen = absences[offset : offset + limit]
    return page(
        [AbsenceOut.model_validate(a, from_attributes=True) for a in chosen],
        len(absences),
        offset,
        service.settings.max_page_bytes,
    )


class LevelIO(Input):
    respond_s: float = Field(gt=0, le=MAX_LEVEL_S, allow_inf_nan=False)
    resolve_s: float = Field(gt=0, le=MAX_LEVEL_S, allow_inf_nan=False)


class SiteIn(Input):
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(
        default=None,
        max_length=200,
        description="its English name, for English pages and notices; when absent, the "
        'English written into name ("绿园 Green Garden") is used',
    )
    timezone: str = "Asia/Shanghai"
    locale: Literal["zh-CN", "en"] = "zh-CN"
    supervisor: str | None = Field(default=None, max_length=200)
    contacts: dict[str, str] = Field(default_factory=dict, description="role -> phone")
    service_levels: dict[Literal["P1", "P2", "P3", "P4"], LevelIO] = Field(default_factory=dict)
    buildings: list[str] = Field(default_factory=list)
    nominal_voltage_v: float = Field(
        default=220.0,
        gt=0,
        le=1000,
        allow_inf_nan=False,
        description="the supply's phase-to-neutral voltage: voltage sag and swell follow it",
    )
    nominal_frequency_hz: float = Field(
        default=50.0,
        ge=40,
        le=70,
        allow_inf_nan=False,
        description="the supply's frequency: the frequency deviation limits follow it",
    )


class SiteOut(SiteIn):
    site: str


def _site_out(site: Site) -> SiteOut:
    return SiteOut(
        site=site.site,
        name=site.name,
        timezone=site.timezone,
        locale=site.locale,  # type: ignore[arg-type]
        supervisor=site.supervisor,
        contacts=site.contacts,
        service_levels={k: LevelIO(**v) for k, v in site.service_levels.items()},  # type: ignore[misc]
        buildings=list(site.buildings),
        nominal_voltage_v=site.nominal_voltage_v,
        nominal_frequency_hz=site.nominal_frequency_hz,
        name_en=site.name_en,
    )


@router.get("/sites", response_model=Page[SiteOut])
def list_sites(
    service: ServiceDep, _who: Viewer, limit: Limit = 100, offset: Offset = 0
) -> Page[SiteOut]:
    sites = service.people.sites()
    chosen = sites[offset : offset + limit]
    return page([_site_out(s) for s in chosen], len(sites), offset, service.settings.max_page_bytes)


@router.get("/sites/{site}", response_model=SiteOut)
def get_site(site: SitePath, service: ServiceDep, _who: Viewer) -> SiteOut:
    """One site's settings, as ``PUT`` takes them back."""
    known = service.people.site(site)
    if known is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no site {site}")
    return _site_out(known)


@router.put("/sites/{site}", response_model=SiteOut)
def put_site(site: SitePath, body: SiteIn, service: ServiceDep, _who: Planner) -> SiteOut:
    """A site's name, local time, language, contacts, contract service levels and supply
    (nominal voltage and frequency, which the rules' limits follow within seconds)."""
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(body.timezone)
    except Exception:
        raise HTTPException(422, f"unknown time zone {body.timezone!r}") from None
    fields = body.model_dump()
    fields["name_en"] = (body.name_en or "").strip() or None  # blank: no English name
    return _site_out(service.people.put_site(site, **fields))
