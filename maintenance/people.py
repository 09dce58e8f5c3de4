"""Technicians, shifts, absences and sites in the database, and the roster assignment reads."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from facility_dispatch.kernel.db import Sessions
from facility_dispatch.maintenance.assignment import Certificate, Duty, Leave, Person
from facility_dispatch.maintenance.errors import ConflictError, InvalidRequestError, NotFoundError
from facility_dispatch.maintenance.names import Language, site_name
from facility_dispatch.maintenance.roster_sql import PublishedRow
from facility_dispatch.maintenance.sla import DEFAULT_LEVELS, Level
from facility_dispatch.maintenance.sql import AbsenceRow, ShiftRow, SiteRow, TechnicianRow


@dataclass(frozen=True, slots=True)
class Technician:
    id: int
    name: str
    phone: str | None
    skills: tuple[str, ...]
    seniority: str
    sites: tuple[str, ...]
    certifications: tuple[dict[str, Any], ...]
    active: bool
    employer: str | None
    contacts: tuple[str, ...] = ()
    role: str = "technician"

    def person(self) -> Person:
        return Person(
            self.id,
            self.name,
            frozenset(self.skills),
            "senior" if self.seniority == "senior" else "junior",
            frozenset(self.sites),
            tuple(
                Certificate(
                    c["kind"], str(c.get("number", "")), date.fromisoformat(c["expires_on"])
                )
                for c in self.certifications
            ),
            self.active,
        )


def technician_of(row: TechnicianRow) -> Technician:
    return Technician(
        row.id,
        row.name,
        row.phone,
        tuple(row.skills or ()),
        row.seniority,
        tuple(row.sites or ()),
        tuple(row.certifications or ()),
        row.active,
        row.employer,
        tuple(row.contacts or ()),
        row.role or "technician",
    )


def supervises(person: Technician, site: str | None) -> bool:
    """Whether ``person`` is a supervisor of ``site``: SPEC section 6 names "the site's
    supervisor (people with role supervisor)", so it is an active person of the roster with
    the supervisor role who serves the site (one who lists no sites serves them all). The one
    rule for whoever a ``supervisor`` notification reaches and whoever a task for the site's
    supervisor names, so the two cannot disagree; the site record's ``supervisor`` text is a
    label for people to read and reaches nobody."""
    return person.role == "supervisor" and person.active and serves(person, site)


def serves(person: Technician, site: str | None) -> bool:
    """Whether ``person`` works at ``site`` as the roster reads it: none listed, every site."""
    return site is None or not person.sites or site in person.sites


@dataclass(frozen=True, slots=True)
class Shift:
    id: int
    technician_id: int
    starts_at: datetime
    ends_at: datetime
    on_call: bool
    site: str | None


@dataclass(frozen=True, slots=True)
class Absence:
    id: int
    technician_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str
    handled: bool


@dataclass(frozen=True, slots=True)
class Site:
    site: str
    name: str
    timezone: str
    locale: str
    supervisor: str | None
    contacts: dict[str, Any]
    service_levels: dict[str, Any]
    buildings: tuple[str, ...]
    nominal_voltage_v: float = 220.0
    nominal_frequency_hz: float = 50.0
    name_en: str | None = None
    """Its English name, when the office gives one: English pages and notices use it rather
    than the English guessed out of ``name``."""

    def named(self, lang: Language) -> str:
        """Its name as a reader of ``lang`` is shown it (:func:`names.site_name`)."""
        return site_name(self.name, self.name_en, lang)

    @property
    def parameters(self) -> dict[str, float]:
        """What the rules may name as a limit (SPEC section 2)."""
        return {
            "nominal_voltage_v": self.nominal_voltage_v,
            "nominal_frequency_hz": self.nominal_frequency_hz,
        }

    def levels(self) -> dict[str, Level]:
        """The site's contract, falling back to SPEC's defaults priority by priority."""
        levels = dict(DEFAULT_LEVELS)
        for priority, entry in self.service_levels.items():
            levels[priority] = Level(
                timedelta(seconds=float(entry["respond_s"])),
                timedelta(seconds=float(entry["resolve_s"])),
            )
        return levels


def site_of(row: SiteRow) -> Site:
    return Site(
        row.site,
        row.name,
        row.timezone,
        row.locale,
        row.supervisor,
        dict(row.contacts or {}),
        dict(row.service_levels or {}),
        tuple(row.buildings or ()),
        float(row.nominal_voltage_v) if row.nominal_voltage_v is not None else 220.0,
        float(row.nominal_frequency_hz) if row.nominal_frequency_hz is not None else 50.0,
        row.name_en,
    )


@dataclass(frozen=True, slots=True)
class Roster:
    """What assignment needs at one moment."""

    people: tuple[Person, ...]
    duties: tuple[Duty, ...]
    leaves: tuple[Leave, ...]


class People:
    """People, rosters and sites. Technicians are cached for :data:`CACHE_SECONDS` (and
    dropped at once on any change made here): assignment reads them for every order."""

    CACHE_SECONDS = 5.0

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self._people: tuple[Person, ...] | None = None
        self._people_until = 0.0

    def _changed(self) -> None:
        self._people = None

    def _everyone(self, session: Session) -> tuple[Person, ...]:
        now = time.monotonic()
        people = self._people
        if people is None or now >= self._people_until:
            people = tuple(
                technician_of(r).person() for r in session.scalars(select(TechnicianRow))
            )
            self._people, self._people_until = people, now + self.CACHE_SECONDS
        return people

    # -- technicians ---------------------------------------------------------------------

    def add_technician(self, at: datetime, **fields: Any) -> Technician:
        with self._sessions.begin() as session:
            row = TechnicianRow(created_at=at, **fields)
            session.add(row)
            session.flush()
            self._changed()
            return technician_of(row)

    def update_technician(self, technician_id: int, **fields: Any) -> Technician:
        with self._sessions.begin() as session:
            row = session.get(TechnicianRow, technician_id)
            if row is None:
                raise NotFoundError(f"no technician {technician_id}")
            for name, value in fields.items():
                setattr(row, name, value)
            self._changed()
            return technician_of(row)

    def technician(self, technician_id: int) -> Technician | None:
        with self._sessions() as session:
            row = session.get(TechnicianRow, technician_id)
            return technician_of(row) if row else None

    def technicians(
        self,
        site: str | None = None,
        skill: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> tuple[list[Technician], int]:
        with self._sessions() as session:
            rows = [
                technician_of(r)
                for r in session.scalars(select(TechnicianRow).order_by(TechnicianRow.id))
            ]
        if site:
            rows = [t for t in rows if site in t.sites]
        if skill:
            rows = [t for t in rows if skill in t.skills]
        return rows[offset : offset + limit], len(rows)

    def supervisors(self, site: str) -> list[Technician]:
        """The site's supervisors by :func:`supervises`, in the order they were added."""
        with self._sessions() as session:
            rows = session.scalars(
                select(TechnicianRow)
                .where(TechnicianRow.role == "supervisor")
                .order_by(TechnicianRow.id)
            )
            return [t for t in map(technician_of, rows) if supervises(t, site)]

    # -- shifts and absences ---------------------------------------------------------------

    def _require_technician(self, session: Session, technician_id: int) -> None:
        if session.get(TechnicianRow, technician_id) is None:
            raise NotFoundError(f"no technician {technician_id}")

    def add_shift(
        self,
        technician_id: int,
        starts_at: datetime,
        ends_at: datetime,
        on_call: bool,
        site: str | None,
    ) -> Shift:
        if ends_at <= starts_at:
            raise InvalidRequestError("a shift must end after it starts")
        with self._sessions.begin() as session:
            self._require_technician(session, technician_id)
            row = ShiftRow(
                technician_id=technician_id,
                starts_at=starts_at,
                ends_at=ends_at,
                on_call=on_call,
                site=site,
            )
            session.add(row)
            session.flush()
            return Shift(row.id, technician_id, starts_at, ends_at, on_call, site)

    def update_shift(
        self,
        shift_id: int,
        now: datetime,
        technician_id: int,
        starts_at: datetime,
        ends_at: datetime,
        on_call: bool,
        site: str | None,
    ) -> Shift:
        """Change a shift that has not ended: an ended one is what happened (who was on when an
        order was assigned), so it stays as it was."""
        if ends_at <= starts_at:
            raise InvalidRequestError("a shift must end after it starts")
        with self._sessions.begin() as session:
            row = self._open_shift(session, shift_id, now, "edited")
            self._require_technician(session, technician_id)
            row.technician_id, row.starts_at, row.ends_at = technician_id, starts_at, ends_at
            row.on_call, row.site = on_call, site
            self._changed()
            return Shift(row.id, technician_id, starts_at, ends_at, on_call, site)

    def cancel_shift(self, shift_id: int, now: datetime) -> Shift:
        """Remove a shift that has not ended (a rostered one is changed in its roster)."""
        with self._sessions.begin() as session:
            row = self._open_shift(session, shift_id, now, "cancelled")
            if session.scalar(
                select(PublishedRow.post_id).where(PublishedRow.shift_id == shift_id)
            ):
                raise ConflictError(
                    f"shift {shift_id} comes from a roster: change it in the roster"
                )
            shift = Shift(
                row.id, row.technician_id, row.starts_at, row.ends_at, row.on_call, row.site
            )
            session.delete(row)
            self._changed()
            return shift

    @staticmethod
    def _open_shift(session: Session, shift_id: int, now: datetime, verb: str) -> ShiftRow:
        row = session.get(ShiftRow, shift_id)
        if row is None:
            raise NotFoundError(f"no shift {shift_id}")
        if row.ends_at <= now:
            raise ConflictError(f"shift {shift_id} has ended: it is kept as it was, not {verb}")
        return row

    def shifts(
        self,
        technician_id: int | None = None,
        site: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> tuple[list[Shift], int]:
        conditions = []
        if technician_id is not None:
            conditions.append(ShiftRow.technician_id == technician_id)
        if site:  # a shift of no site is at its technician's sites (none listed: any site)
            everyone, _ = self.technicians(limit=100_000)
            here = [t.id for t in everyone if not t.sites or site in t.sites]
            conditions.append(
                (ShiftRow.site == site)
                | (ShiftRow.site.is_(None) & ShiftRow.technician_id.in_(here))
            )
        if start is not None:
            conditions.append(ShiftRow.ends_at > start)
        if end is not None:
            conditions.append(ShiftRow.starts_at < end)
        with self._sessions() as session:
            stmt = select(ShiftRow).where(and_(*conditions)) if conditions else select(ShiftRow)
            total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = session.scalars(
                stmt.order_by(ShiftRow.starts_at, ShiftRow.id).limit(limit).offset(offset)
            )
            return [
                Shift(r.id, r.technician_id, r.starts_at, r.ends_at, r.on_call, r.site)
                for r in rows
            ], total

    def add_absence(
        self,
        technician_id: int,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        created_by: str,
    ) -> Absence:
        if ends_at <= starts_at:
            raise InvalidRequestError("an absence must end after it starts")
        with self._sessions.begin() as session:
            self._require_technician(session, technician_id)
            row = AbsenceRow(
                technician_id=technician_id,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=reason,
                handled=False,
                created_by=created_by,
            )
            session.add(row)
            session.flush()
            return Absence(row.id, technician_id, starts_at, ends_at, reason, False)

    def absences(
        self,
        at: datetime | None = None,
        unhandled: bool = False,
        *,
        technicians: Collection[int] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Absence]:
        """Absences at ``at``, or overlapping ``start`` to ``end``, of ``technicians`` (all
        when None): a roster reads its people's few, not every absence ever recorded."""
        with self._sessions() as session:
            stmt = select(AbsenceRow)
            if at is not None:
                stmt = stmt.where(AbsenceRow.starts_at <= at, AbsenceRow.ends_at > at)
            if technicians is not None:
                stmt = stmt.where(AbsenceRow.technician_id.in_(list(technicians)))
            if start is not None:
                stmt = stmt.where(AbsenceRow.ends_at > start)
            if end is not None:
                stmt = stmt.where(AbsenceRow.starts_at < end)
            if unhandled:
                stmt = stmt.where(AbsenceRow.handled.is_(False))
            return [
                Absence(r.id, r.technician_id, r.starts_at, r.ends_at, r.reason, r.handled)
                for r in session.scalars(stmt.order_by(AbsenceRow.starts_at))
            ]

    def update_absence(
        self,
        absence_id: int,
        now: datetime,
        technician_id: int,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
    ) -> Absence:
        """Change an absence that has not ended. Orders it moved already stay where they went;
        if it now begins by ``now`` and had not begun, the escalation moves them as usual."""
        if ends_at <= starts_at:
            raise InvalidRequestError("an absence must end after it starts")
        with self._sessions.begin() as session:
            row = self._open_absence(session, absence_id, now, "edited")
            self._require_technician(session, technician_id)
            if technician_id != row.technician_id:
                row.handled = False  # another person's orders: theirs move when it begins
            row.technician_id, row.starts_at, row.ends_at = technician_id, starts_at, ends_at
            row.reason = reason
            self._changed()
            return Absence(row.id, technician_id, starts_at, ends_at, reason, row.handled)

    def cancel_absence(self, absence_id: int, now: datetime) -> Absence:
        """Remove an absence that has not ended; orders it moved stay with their substitutes
        (they may be under way: a planner reassigns them on their pages if need be)."""
        with self._sessions.begin() as session:
            row = self._open_absence(session, absence_id, now, "cancelled")
            absence = Absence(
                row.id, row.technician_id, row.starts_at, row.ends_at, row.reason, row.handled
            )
            session.delete(row)
            self._changed()
            return absence

    @staticmethod
    def _open_absence(session: Session, absence_id: int, now: datetime, verb: str) -> AbsenceRow:
        row = session.get(AbsenceRow, absence_id)
        if row is None:
            raise NotFoundError(f"no absence {absence_id}")
        if row.ends_at <= now:
            raise ConflictError(f"absence {absence_id} has ended: it is kept as it was, not {verb}")
        return row

    def mark_absence_handled(self, absence_id: int) -> None:
        with self._sessions.begin() as session:
            row = session.get(AbsenceRow, absence_id)
            if row is not None:
                row.handled = True

    def roster(self, at: datetime, session: Session | None = None) -> Roster:
        """Everyone, the shifts and absences around ``at``: the input of assignment."""
        own = session is None
        session = session or self._sessions()
        try:
            people = self._everyone(session)
            shifts = session.scalars(
                select(ShiftRow).where(ShiftRow.starts_at <= at, ShiftRow.ends_at > at)
            )
            duties = tuple(
                Duty(s.technician_id, s.starts_at, s.ends_at, s.on_call, s.site) for s in shifts
            )
            absent = session.scalars(
                select(AbsenceRow).where(AbsenceRow.starts_at <= at, AbsenceRow.ends_at > at)
            )
            leaves = tuple(Leave(a.technician_id, a.starts_at, a.ends_at) for a in absent)
            return Roster(people, duties, leaves)
        finally:
            if own:
                session.close()

    # -- sites ------------------------------------------------------------------------------

    def put_site(self, site: str, **fields: Any) -> Site:
        with self._sessions.begin() as session:
            row = session.scalars(select(SiteRow).where(SiteRow.site == site)).first()
            if row is None:
                row = SiteRow(site=site, name=fields.pop("name", site))
                session.add(row)
            for name, value in fields.items():
                setattr(row, name, value)
            session.flush()
            return site_of(row)

    def site(self, site: str) -> Site | None:
        with self._sessions() as session:
            row = session.scalars(select(SiteRow).where(SiteRow.site == site)).first()
            return site_of(row) if row else None

    def zone(self, site: str, default: str) -> ZoneInfo:
        """The site's own time zone (its calendar and its shifts), else ``default``, the
        service's; a zone name this machine does not know also falls back to ``default``."""
        known = self.site(site)
        try:
            return ZoneInfo(known.timezone if known else default)
        except (KeyError, ValueError):
            return ZoneInfo(default)

    def sites(self) -> list[Site]:
        with self._sessions() as session:
            return [site_of(r) for r in session.scalars(select(SiteRow).order_by(SiteRow.site))]

    def site_parameters(self) -> dict[str, dict[str, float]]:
        """Each site's parameters for the rule engine (plain data)."""
        return {site.site: site.parameters for site in self.sites()}
