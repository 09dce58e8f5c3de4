"""Posts, roster lines, covers and holiday calendars in the database; coverage and substitutes
read from them. The arithmetic is :mod:`facility_dispatch.maintenance.rosters`' (pure); this
module only loads its inputs and stores what people decide."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facility_dispatch.kernel.clock import Clock, rfc3339
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.maintenance import rosters
from facility_dispatch.maintenance.assignment import Duty, Leave, Person
from facility_dispatch.maintenance.errors import ConflictError, InvalidRequestError, NotFoundError
from facility_dispatch.maintenance.people import People
from facility_dispatch.maintenance.roster_sql import (
    CoverRow,
    GapFlagRow,
    HolidayRow,
    PostRow,
    PublishedRow,
    RosterLineRow,
)
from facility_dispatch.maintenance.rosters import (
    Candidate,
    Cover,
    Coverage,
    Post,
    Refusal,
    RosterError,
    RosterLine,
    ShiftDefinition,
    Slot,
)
from facility_dispatch.maintenance.sql import ShiftRow

MAX_DAYS = 62
"""A coverage query spans two months at most: a roster is planned a month or so ahead."""
AROUND = timedelta(days=8)
"""Shifts read around a slot for rest and the week's hours."""
AHEAD = 2
"""Gaps are told for today and the next two days (local): time to find a substitute."""
GAP: Final = "roster.gap"
PUBLISH_DAYS = 7
"""Rostered shifts are written to the shifts table a week ahead, for dispatch and the console."""


def _post(row: PostRow, since: date | None = None) -> Post:
    return Post(
        row.id,
        row.site,
        row.name,
        row.skill,
        tuple(
            ShiftDefinition(
                s["name"],
                time.fromisoformat(s["starts"]),
                time.fromisoformat(s["ends"]),
                int(s["headcount"]),
                s.get("holiday_headcount"),
                frozenset(s.get("weekdays") or rosters.EVERY_DAY),
            )
            for s in row.shifts
        ),
        tuple(row.wanted_skills or ()),
        since,
    )


def _line(row: RosterLineRow) -> RosterLine:
    return RosterLine(
        row.id,
        row.post_id,
        row.technician_id,
        tuple(row.pattern),
        row.anchor,
        row.starts_on,
        row.ends_on,
        row.off_on_holidays,
    )


@dataclass(frozen=True, slots=True)
class Proposal:
    """Substitutes for one slot: who could go, best first, and who could not."""

    slot: Slot
    post: Post
    candidates: tuple[Candidate, ...]
    refused: tuple[Refusal, ...]


class Rosters:
    def __init__(
        self,
        sessions: Sessions,
        people: People,
        clock: Clock,
        timezone: str,
        events: EventLog | None = None,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._people = people
        self._clock = clock
        self._default_zone = timezone

    def zone(self, site: str) -> ZoneInfo:
        """The site's own zone, else the service's (``FACILITY_TIMEZONE``)."""
        return self._people.zone(site, self._default_zone)

    # -- posts and lines -------------------------------------------------------------------

    def add_post(
        self,
        site: str,
        name: str,
        skill: str | None,
        shifts: Sequence[dict[str, Any]],
        wanted: Sequence[str] = (),
    ) -> Post:
        definitions = [
            ShiftDefinition(
                s["name"],
                time.fromisoformat(s["starts"]),
                time.fromisoformat(s["ends"]),
                int(s["headcount"]),
                s.get("holiday_headcount"),
                frozenset(int(d) for d in s.get("weekdays", rosters.EVERY_DAY)),
            )
            for s in shifts
        ]
        try:
            rosters.check_post(definitions)
        except RosterError as error:
            raise InvalidRequestError(str(error)) from None
        with self._sessions.begin() as session:
            row = PostRow(
                site=site,
                name=name,
                skill=skill,
                wanted_skills=sorted(set(wanted) - {skill}),
                shifts=[
                    {**s, "weekdays": sorted(d.weekdays)}
                    for s, d in zip(shifts, definitions, strict=True)
                ],
                active=True,
                created_at=self._clock.now(),
            )
            session.add(row)
            session.flush()
            return _post(row, self._since(session, [row])[row.id])

    def _since(self, session: Session, rows: Sequence[PostRow]) -> dict[int, date]:
        """Each post's first day needed: its roster's first day (the earliest roster line or
        cover), else the day it was made in its site's zone. A planner who adds a post today
        and rosters it from Monday has it counted from Monday; the weeks before it existed
        are no gaps in the coverage KPI."""
        ids = [r.id for r in rows]
        if not ids:
            return {}
        first: dict[int, date] = {}
        for post_id, day in session.execute(
            select(RosterLineRow.post_id, func.min(RosterLineRow.starts_on))
            .where(RosterLineRow.post_id.in_(ids))
            .group_by(RosterLineRow.post_id)
        ).all():
            first[post_id] = day
        for post_id, day in session.execute(
            select(CoverRow.post_id, func.min(CoverRow.day))
            .where(CoverRow.post_id.in_(ids))
            .group_by(CoverRow.post_id)
        ).all():
            first[post_id] = min(day, first.get(post_id, day))
        return {
            r.id: first.get(r.id) or r.created_at.astimezone(self.zone(r.site)).date() for r in rows
        }

    def post(self, post_id: int) -> Post | None:
        with self._sessions() as session:
            row = session.get(PostRow, post_id)
            if row is None or not row.active:
                return None
            return _post(row, self._since(session, [row])[row.id])

    def posts(self, site: str | None = None) -> list[Post]:
        with self._sessions() as session:
            stmt = select(PostRow).where(PostRow.active.is_(True))
            if site:
                stmt = stmt.where(PostRow.site == site)
            rows = list(session.scalars(stmt.order_by(PostRow.site, PostRow.id)))
            since = self._since(session, rows)
            return [_post(r, since[r.id]) for r in rows]

    def add_line(
        self,
        post_id: int,
        technician_id: int,
        pattern: Sequence[str],
        anchor: date,
        starts_on: date | None = None,
        ends_on: date | None = None,
        off_on_holidays: bool = False,
    ) -> RosterLine:
        post = self.post(post_id)
        if post is None:
            raise NotFoundError(f"no post {post_id}")
        technician = self._people.technician(technician_id)
        if technician is None:
            raise NotFoundError(f"no technician {technician_id}")
        if post.site not in technician.sites:
            raise InvalidRequestError(f"{technician.name} does not work at {post.site}")
        try:
            rosters.check_line(post, pattern)
        except RosterError as error:
            raise InvalidRequestError(str(error)) from None
        starts_on = starts_on or anchor
        if ends_on is not None and ends_on < starts_on:
            raise InvalidRequestError("ends_on is before starts_on")
        with self._sessions.begin() as session:
            row = RosterLineRow(
                post_id=post_id,
                technician_id=technician_id,
                pattern=list(pattern),
                anchor=anchor,
                starts_on=starts_on,
                ends_on=ends_on,
                off_on_holidays=off_on_holidays,
            )
            session.add(row)
            session.flush()
            return _line(row)

    def lines(self, posts: Iterable[int]) -> list[RosterLine]:
        wanted = list(posts)
        with self._sessions() as session:
            stmt = select(RosterLineRow).where(RosterLineRow.post_id.in_(wanted))
            return [_line(r) for r in session.scalars(stmt.order_by(RosterLineRow.id))]

    def add_cover(
        self, post_id: int, day: date, shift: str, technician_id: int, created_by: str
    ) -> Cover:
        """Put someone on a slot (a substitute); once per person and slot."""
        post = self.post(post_id)
        if post is None:
            raise NotFoundError(f"no post {post_id}")
        if post.shift(shift) is None:
            names = ", ".join(s.name for s in post.shifts)
            raise InvalidRequestError(f"post {post.name!r} has no shift {shift!r}; it has {names}")
        if self._people.technician(technician_id) is None:
            raise NotFoundError(f"no technician {technician_id}")
        try:
            with self._sessions.begin() as session:
                session.add(
                    CoverRow(
                        post_id=post_id,
                        day=day,
                        shift=shift,
                        technician_id=technician_id,
                        created_at=self._clock.now(),
                        created_by=created_by,
                    )
                )
        except IntegrityError:
            raise ConflictError(f"technician {technician_id} covers that slot already") from None
        return Cover(post_id, day, shift, technician_id)

    def covers(self, posts: Iterable[int], first: date, last: date) -> list[Cover]:
        wanted = list(posts)
        with self._sessions() as session:
            rows = session.scalars(
                select(CoverRow).where(
                    CoverRow.post_id.in_(wanted), CoverRow.day >= first, CoverRow.day <= last
                )
            )
            return [Cover(r.post_id, r.day, r.shift, r.technician_id) for r in rows]

    # -- holidays --------------------------------------------------------------------------

    def set_holidays(
        self,
        site: str,
        year: int,
        holidays: Sequence[tuple[date, str]],
        workdays: Sequence[tuple[date, str]] = (),
    ) -> None:
        """Replace the site's calendar of ``year`` (published once a year): its holidays and its
        make-up working days (调休)."""
        if any(day.year != year for day, _ in [*holidays, *workdays]):
            raise InvalidRequestError(f"every date must fall in {year}")
        both = sorted({d for d, _ in holidays} & {d for d, _ in workdays})
        if both:
            raise InvalidRequestError(f"{both[0]} is given as a holiday and as a working day")
        with self._sessions.begin() as session:
            session.execute(
                delete(HolidayRow).where(
                    HolidayRow.site == site,
                    HolidayRow.day >= date(year, 1, 1),
                    HolidayRow.day <= date(year, 12, 31),
                )
            )
            session.add_all(
                HolidayRow(site=site, day=d, name=n, workday=False)
                for d, n in dict(holidays).items()
            )
            session.add_all(
                HolidayRow(site=site, day=d, name=n, workday=True)
                for d, n in dict(workdays).items()
            )

    def _calendar(self, site: str, first: date, last: date, workday: bool) -> dict[date, str]:
        with self._sessions() as session:
            rows = session.scalars(
                select(HolidayRow)
                .where(
                    HolidayRow.site == site,
                    HolidayRow.day >= first,
                    HolidayRow.day <= last,
                    HolidayRow.workday.is_(workday),
                )
                .order_by(HolidayRow.day)
            )
            return {r.day: r.name for r in rows}

    def holidays(self, site: str, first: date, last: date) -> dict[date, str]:
        return self._calendar(site, first, last, workday=False)

    def workdays(self, site: str, first: date, last: date) -> dict[date, str]:
        """Make-up working days (调休)."""
        return self._calendar(site, first, last, workday=True)

    # -- reading the roster ----------------------------------------------------------------

    def _people_at(self, site: str) -> list[Person]:
        technicians, _ = self._people.technicians(site)
        return [t.person() for t in technicians]

    def _leaves(self, people: Iterable[int], start: datetime, end: datetime) -> list[Leave]:
        """The absences of ``people`` overlapping ``start`` to ``end`` (filtered in SQL)."""
        return [
            Leave(a.technician_id, a.starts_at, a.ends_at)
            for a in self._people.absences(technicians=set(people), start=start, end=end)
        ]

    def expanded(self, site: str, first: date, last: date) -> list[rosters.Rostered]:
        posts = self.posts(site)
        ids = [p.id for p in posts]
        return rosters.expand(
            posts,
            self.lines(ids),
            self.covers(ids, first, last),
            first,
            last,
            self.zone(site),
            self.holidays(site, first, last).keys(),
            self.workdays(site, first, last).keys(),
        )

    def coverage(
        self, site: str, first: date, last: date, post_id: int | None = None
    ) -> list[Coverage]:
        """Each slot of the site's posts from ``first`` to ``last``: needed, present, absent."""
        if last < first or (last - first).days >= MAX_DAYS:
            raise InvalidRequestError(f"from {first} to {last}: at most {MAX_DAYS} days, in order")
        posts = [p for p in self.posts(site) if post_id is None or p.id == post_id]
        ids = [p.id for p in posts]
        holidays = self.holidays(site, first, last).keys()
        workdays = self.workdays(site, first, last).keys()
        zone = self.zone(site)
        covers = self.covers(ids, first, last)
        rostered = rosters.expand(
            posts, self.lines(ids), covers, first, last, zone, holidays, workdays
        )
        leaves = (
            self._leaves(
                {r.technician_id for r in rostered},
                min(r.slot.starts_at for r in rostered),
                max(r.slot.ends_at for r in rostered),
            )
            if rostered
            else []
        )
        return rosters.coverage(posts, rostered, leaves, first, last, zone, holidays, workdays)

    def _duties(self, people: Sequence[Person], start: datetime, end: datetime) -> list[Duty]:
        """The shifts of ``people`` between two times at every site they work, not only the
        post's: a guard of two sites is on duty, or resting after a night, at the other one
        too, and all of it counts to the week's hours. Each site's roster is expanded in that
        site's zone; shifts entered by hand (or published) are read per person, any site."""
        wanted = {p.id for p in people}
        duties: list[Duty] = []
        for site in sorted({s for p in people for s in p.sites}):
            zone = self.zone(site)
            first = start.astimezone(zone).date() - timedelta(days=1)
            last = end.astimezone(zone).date()
            duties += [
                d
                for d in rosters.duties_of(self.expanded(site, first, last), site)
                if d.technician_id in wanted
            ]
        rostered = {(d.technician_id, d.starts_at, d.ends_at) for d in duties}
        for person in sorted(wanted):
            shifts, _ = self._people.shifts(
                technician_id=person, start=start, end=end, limit=10_000
            )
            duties += [
                Duty(s.technician_id, s.starts_at, s.ends_at, s.on_call, s.site)
                for s in shifts
                if (s.technician_id, s.starts_at, s.ends_at) not in rostered  # published: once
            ]
        return duties

    def substitutes(self, post_id: int, day: date, shift: str) -> Proposal:
        """Who could fill the post's ``shift`` on ``day``, ranked (see ``rosters.substitutes``)."""
        post = self.post(post_id)
        if post is None:
            raise NotFoundError(f"no post {post_id}")
        definition = post.shift(shift)
        if definition is None:
            names = ", ".join(s.name for s in post.shifts)
            raise InvalidRequestError(f"post {post.name!r} has no shift {shift!r}; it has {names}")
        zone = self.zone(post.site)
        slot = rosters.slot_of(post, definition, day, zone)
        people = [
            p
            for p in self._people_at(post.site)
            if p.active and (post.skill is None or post.skill in p.skills)
        ]
        duties = self._duties(people, slot.starts_at - AROUND, slot.ends_at + AROUND)
        candidates, refused = rosters.substitutes(
            slot,
            post.skill,
            post.site,
            people,
            duties,
            self._leaves((p.id for p in people), slot.starts_at, slot.ends_at),
            zone,
            wanted=post.wanted,
        )
        return Proposal(slot, post, tuple(candidates), tuple(refused))

    def shift_starts(self, post_id: int, start: datetime, end: datetime) -> list[datetime]:
        """When the post's shifts begin between two times (its site's zone)."""
        post = self.post(post_id)
        if post is None:
            return []
        zone = self.zone(post.site)
        first = start.astimezone(zone).date() - timedelta(days=1)
        found = [
            slot.starts_at
            for slot in rosters.slots([post], first, end.astimezone(zone).date(), zone)
            if start <= slot.starts_at <= end
        ]
        return sorted(found)

    def flag_gaps(self) -> int:
        """Tell each gap of today and the next :data:`AHEAD` days once (``roster.gap``), so a
        notification can reach the supervisor while there is time to find a substitute. An
        absence recorded later makes its gaps known at the next run. Run by the leader."""
        now = self._clock.now()
        told = 0
        for site in sorted({p.site for p in self.posts()}):
            today = now.astimezone(self.zone(site)).date()
            posts = {p.id: p for p in self.posts(site)}
            last = today + timedelta(days=AHEAD)
            with self._sessions() as session:
                known = {
                    (r.post_id, r.day, r.shift)
                    for r in session.scalars(
                        select(GapFlagRow).where(
                            GapFlagRow.post_id.in_(list(posts)),
                            GapFlagRow.day >= today - timedelta(days=1),
                            GapFlagRow.day <= last,
                        )
                    )
                }
            for cell in rosters.gaps(self.coverage(site, today, last)):
                key = (cell.slot.post_id, cell.slot.day, cell.slot.shift)
                if cell.slot.ends_at <= now or key in known:
                    continue
                try:
                    with self._sessions.begin() as session:
                        session.add(
                            GapFlagRow(
                                post_id=cell.slot.post_id,
                                day=cell.slot.day,
                                shift=cell.slot.shift,
                                flagged_at=now,
                            )
                        )
                        if self._events is not None:
                            self._events.record(
                                session,
                                GAP,
                                now,
                                {
                                    "site": site,
                                    "post_id": cell.slot.post_id,
                                    "post": posts[cell.slot.post_id].name,
                                    "day": cell.slot.day.isoformat(),
                                    "shift": cell.slot.shift,
                                    "starts_at": rfc3339(cell.slot.starts_at),
                                    "needed": cell.needed,
                                    "present": list(cell.present),
                                    "absent": list(cell.absent),
                                },
                                site,
                            )
                    told += 1
                except IntegrityError:
                    pass  # told already
        if told and self._events is not None:
            self._events.notify()
        return told

    def publish(self) -> int:
        """Write the rostered shifts of the coming :data:`PUBLISH_DAYS` days to the shifts
        table, each once (its marker and the shift commit together): dispatch then finds the
        people of a repairs post on shift, and the people page shows them. Run by the leader."""
        now = self._clock.now()
        written = 0
        for site in sorted({p.site for p in self.posts()}):
            today = now.astimezone(self.zone(site)).date()
            last = today + timedelta(days=PUBLISH_DAYS)
            posts = [p.id for p in self.posts(site)]
            with self._sessions() as session:
                known = {
                    (r.post_id, r.day, r.shift, r.technician_id)
                    for r in session.scalars(
                        select(PublishedRow).where(
                            PublishedRow.post_id.in_(posts), PublishedRow.day >= today
                        )
                    )
                }
            for entry in self.expanded(site, today, last):
                slot = entry.slot
                key = (slot.post_id, slot.day, slot.shift, entry.technician_id)
                if key in known or slot.ends_at <= now:
                    continue
                try:
                    with self._sessions.begin() as session:
                        row = ShiftRow(
                            technician_id=entry.technician_id,
                            starts_at=slot.starts_at,
                            ends_at=slot.ends_at,
                            on_call=False,
                            site=site,
                        )
                        session.add(row)
                        session.flush()
                        session.add(
                            PublishedRow(
                                post_id=slot.post_id,
                                day=slot.day,
                                shift=slot.shift,
                                technician_id=entry.technician_id,
                                shift_id=row.id,
                            )
                        )
                    written += 1
                except IntegrityError:
                    pass  # another worker wrote it
        return written
