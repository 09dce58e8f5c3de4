"""Technicians (skills, certificates, load, who is on now) and the week's roster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from facility_dispatch.api.dashboard import present
from facility_dispatch.api.dashboard.pages import PageDep, aware
from facility_dispatch.maintenance.people import Absence, Shift, Technician

router = APIRouter(include_in_schema=False)
DAYS: Final = 7
CERTIFICATE_WARNING: Final = timedelta(days=30)
"""A certificate that runs out within a month is flagged: renewing one takes weeks."""


@dataclass(frozen=True, slots=True)
class Cell:
    shifts: tuple[Shift, ...]
    absent: bool


def _overlaps(start: datetime, end: datetime, day_start: datetime, day_end: datetime) -> bool:
    return aware(start) < day_end and aware(end) > day_start


def duty_now(shifts: list[Shift], absences: list[Absence], now: datetime) -> str:
    """``absent``, ``on_shift``, ``on_call`` or ``off`` at ``now``."""
    if any(aware(a.starts_at) <= now < aware(a.ends_at) for a in absences):
        return "absent"
    current = [s for s in shifts if aware(s.starts_at) <= now < aware(s.ends_at)]
    if any(not s.on_call for s in current):
        return "on_shift"
    return "on_call" if current else "off"


@router.get("/people", response_class=HTMLResponse)
def people_page(page: PageDep, site: str | None = None) -> HTMLResponse:
    service = page.service
    zone = page.zone(site)
    today = page.now.astimezone(zone).date()
    days: list[date] = [today + timedelta(days=i) for i in range(DAYS)]
    start = datetime.combine(today, time(), zone)
    end = start + timedelta(days=DAYS)
    technicians, _ = service.people.technicians(site or None)
    shifts, _ = service.people.shifts(site=site or None, start=start - timedelta(days=1), end=end)
    absences = service.people.absences()
    loads = service.work_orders.load()
    roster: dict[int, list[Cell]] = {}
    duty: dict[int, str] = {}
    for technician in technicians:
        own = [s for s in shifts if s.technician_id == technician.id]
        away = [a for a in absences if a.technician_id == technician.id]
        duty[technician.id] = duty_now(own, away, page.now)
        cells = []
        for day in days:
            day_start = datetime.combine(day, time(), zone)
            day_end = day_start + timedelta(days=1)
            cells.append(
                Cell(
                    tuple(s for s in own if _overlaps(s.starts_at, s.ends_at, day_start, day_end)),
                    any(_overlaps(a.starts_at, a.ends_at, day_start, day_end) for a in away),
                )
            )
        roster[technician.id] = cells
    today_text = today.isoformat()
    soon = (today + CERTIFICATE_WARNING).isoformat()
    names = {t.id: t.name for t in technicians}
    recent = [a for a in absences if aware(a.ends_at) > page.now - timedelta(days=7)]
    handovers = service.work_orders.handovers(page.now - timedelta(days=14))
    # shifts not ended yet may be edited or cancelled; ended ones are what happened
    coming = sorted((s for s in shifts if aware(s.ends_at) > page.now), key=lambda s: s.starts_at)
    return page.render(
        "people.html",
        names=names,
        absences=sorted(recent, key=lambda a: a.starts_at),
        moved={
            a.id: [
                h
                for h in handovers
                if h.absent == names.get(a.technician_id) and aware(h.at) >= aware(a.starts_at)
            ]
            for a in recent
        },
        editable={t.id: _editable(t) for t in technicians},
        open_shifts=coming,
        shift_bodies={s.id: _shift_body(s) for s in coming},
        open_absences={a.id: _absence_body(a) for a in recent if aware(a.ends_at) > page.now},
        skills=("elevator", "electrical", "plumbing", "cctv", "general"),
        technicians=technicians,
        loads=loads,
        duty=duty,
        days=days,
        roster=roster,
        zone=zone,
        certificate=lambda expires_on: present.certificate_state(str(expires_on), today_text, soon),
        site=site or "",
    )


def _editable(technician: Technician) -> dict[str, Any]:
    """The technician as ``PUT /api/v1/technicians/{id}`` takes them: the edit form changes
    some fields and sends the rest back as they were (contacts, role)."""
    return {
        "name": technician.name,
        "phone": technician.phone,
        "skills": list(technician.skills),
        "seniority": technician.seniority,
        "sites": list(technician.sites),
        "certifications": [
            {"kind": c["kind"], "number": str(c.get("number", "")), "expires_on": c["expires_on"]}
            for c in technician.certifications
        ],
        "employer": technician.employer,
        "active": technician.active,
        "contacts": list(technician.contacts),
        "role": technician.role,
    }


def _shift_body(shift: Shift) -> dict[str, Any]:
    """A shift as its edit form sends it back (PUT /api/v1/shifts/{id})."""
    return {
        "technician_id": shift.technician_id,
        "starts_at": aware(shift.starts_at).isoformat(),
        "ends_at": aware(shift.ends_at).isoformat(),
        "on_call": shift.on_call,
        "site": shift.site,
    }


def _absence_body(absence: Absence) -> dict[str, Any]:
    """An absence as its edit form sends it back (PUT /api/v1/absences/{id})."""
    return {
        "technician_id": absence.technician_id,
        "starts_at": aware(absence.starts_at).isoformat(),
        "ends_at": aware(absence.ends_at).isoformat(),
        "reason": absence.reason,
    }
