"""Rosters by post: expansion, coverage and substitutes. Pure: plain data and dates in, no I/O.

A post (a security gate, the cleaning of a building, the repair desk) needs a headcount per
shift of the day (day 08:00-20:00 two guards, night 20:00-08:00 one). People are put on a
post by roster lines: a repeating pattern of shift names and ``rest`` counted from an anchor
date (a weekly roster is a pattern of seven anchored on a Monday; the guards' 4-on-2-off is
``day, day, night, night, rest, rest``).

Shifts are wall-clock times in the site's zone: a day shift starts at 08:00 local on every
date, across a daylight-saving change too (the night of the change is an hour longer or
shorter, as the guard lives it). Public holidays come from the site's holiday calendar (a list
of dates): a shift may need fewer people on them (``holiday_headcount``), and a roster line may
be off on them (the office cleaners), while the guards' rotation runs on. The calendar also
names make-up working days (调休: a Saturday worked to bridge a holiday): a line that is off on
holidays works them, on its pattern's first shift.

An absence takes its person off every rostered shift it overlaps; a slot with fewer present
than needed is a gap, found ahead, and :func:`substitutes` ranks who could fill it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from facility_dispatch.maintenance.assignment import Duty, Leave, Person

REST: Final = "rest"
EVERY_DAY: Final = frozenset(range(1, 8))
"""ISO weekdays, Monday 1 to Sunday 7: a shift needed every day (the guards)."""
MIN_REST: Final = timedelta(hours=11)
"""Rest between two shifts of one person, at least: the EU working-time directive's daily rest
(China's Labour Law sets no daily figure); a night guard is not sent back at 08:00."""
WEEK_HOURS: Final = 44.0
"""The Labour Law's standard week (art. 36): past it a substitute is overtime, ranked last."""


class RosterError(ValueError):
    """A post or roster line that cannot be used (a pattern naming a shift the post lacks)."""


@dataclass(frozen=True, slots=True)
class ShiftDefinition:
    """One shift of a post's day: local wall-clock times (``ends`` <= ``starts``: next day),
    needed on ``weekdays`` (ISO, Monday 1): the office cleaning is Monday to Friday, and its
    weekend is no gap. A make-up working day (调休) needs it whatever its weekday."""

    name: str
    starts: time
    ends: time
    headcount: int
    holiday_headcount: int | None = None
    weekdays: frozenset[int] = EVERY_DAY

    def needed(self, day: date, holiday: bool, workday: bool = False) -> int:
        """The headcount on ``day``: none on the shift's days off, unless a make-up working
        day; the holiday headcount on a public holiday where one is given."""
        if day.isoweekday() not in self.weekdays and not workday:
            return 0
        if holiday and self.holiday_headcount is not None:
            return self.holiday_headcount
        return self.headcount


@dataclass(frozen=True, slots=True)
class Post:
    """A post: ``skill`` is what a substitute must hold, ``wanted`` the further skills that
    rank one higher. ``since`` is the first local date the post is counted as needed (its
    roster's start): the days before it are not gaps, the post was not staffed yet."""

    id: int
    site: str
    name: str
    skill: str | None
    shifts: tuple[ShiftDefinition, ...]
    wanted: tuple[str, ...] = ()
    since: date | None = None

    def shift(self, name: str) -> ShiftDefinition | None:
        return next((s for s in self.shifts if s.name == name), None)


@dataclass(frozen=True, slots=True)
class RosterLine:
    """A person on a post, on a repeating pattern from ``anchor``, between two dates."""

    id: int
    post_id: int
    technician_id: int
    pattern: tuple[str, ...]
    anchor: date
    starts_on: date
    ends_on: date | None = None
    off_on_holidays: bool = False

    def shift_on(self, day: date) -> str:
        """The pattern's entry for ``day`` (``rest`` outside the line's dates)."""
        if day < self.starts_on or (self.ends_on is not None and day > self.ends_on):
            return REST
        return self.pattern[(day - self.anchor).days % len(self.pattern)]

    def works(self, day: date, holidays: Collection[date], workdays: Collection[date]) -> str:
        """The shift worked on ``day`` with the site's calendar: off on holidays and on duty on
        make-up working days for a line that keeps the calendar; the pattern for the rest."""
        shift = self.shift_on(day)
        if not self.off_on_holidays:
            return shift
        if day in holidays:
            return REST
        within = self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)
        if day in workdays and shift == REST and within:
            return next((s for s in self.pattern if s != REST), REST)
        return shift


@dataclass(frozen=True, slots=True)
class Cover:
    """A person put on one slot by hand: a substitute, or an extra pair of hands."""

    post_id: int
    day: date
    shift: str
    technician_id: int


@dataclass(frozen=True, slots=True)
class Slot:
    """One shift of one post on one local date, in UTC."""

    post_id: int
    day: date
    shift: str
    starts_at: datetime
    ends_at: datetime

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        return starts_at < self.ends_at and ends_at > self.starts_at


@dataclass(frozen=True, slots=True)
class Rostered:
    """Someone on a slot: from a roster line, or a cover (``line_id`` None)."""

    slot: Slot
    technician_id: int
    line_id: int | None


@dataclass(frozen=True, slots=True)
class Coverage:
    slot: Slot
    needed: int
    present: tuple[int, ...]
    absent: tuple[int, ...]
    holiday: bool

    @property
    def gap(self) -> int:
        return max(0, self.needed - len(self.present))


def check_post(shifts: Iterable[ShiftDefinition]) -> None:
    """Refuse a post whose shifts cannot be used: names twice, no headcount, zero length."""
    names: set[str] = set()
    for shift in shifts:
        if shift.name == REST:
            raise RosterError(f"shift name {REST!r} is the pattern's day off")
        if shift.name in names:
            raise RosterError(f"shift {shift.name!r} is given twice")
        if shift.starts == shift.ends:
            raise RosterError(f"shift {shift.name!r} starts and ends at {shift.starts}")
        if not shift.weekdays or not shift.weekdays <= EVERY_DAY:
            raise RosterError(f"shift {shift.name!r}: weekdays are 1 (Monday) to 7 (Sunday)")
        names.add(shift.name)
    if not names:
        raise RosterError("a post needs at least one shift")


def check_line(post: Post, pattern: Iterable[str]) -> None:
    """Refuse a pattern naming a shift the post does not have."""
    known = {s.name for s in post.shifts} | {REST}
    entries = list(pattern)
    if not entries:
        raise RosterError("a pattern needs at least one entry")
    unknown = sorted({e for e in entries if e not in known})
    if unknown:
        raise RosterError(
            f"pattern names {', '.join(unknown)}; post {post.name!r} has {', '.join(sorted(known))}"
        )


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Wall-clock ``at`` on ``day`` in ``zone``, in UTC. A time skipped by a spring-forward
    change is taken as the same wall clock after it (zoneinfo's fold=0 reading)."""
    local = datetime.combine(day, at, zone)
    return local.astimezone(UTC)


def slot_of(post: Post, shift: ShiftDefinition, day: date, zone: ZoneInfo) -> Slot:
    ends_day = day + timedelta(days=1) if shift.ends <= shift.starts else day
    return Slot(
        post.id,
        day,
        shift.name,
        local_moment(day, shift.starts, zone),
        local_moment(ends_day, shift.ends, zone),
    )


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def slots(posts: Iterable[Post], first: date, last: date, zone: ZoneInfo) -> list[Slot]:
    """Every shift of every post on every date from ``first`` to ``last`` (inclusive)."""
    return [
        slot_of(post, shift, day, zone)
        for day in days(first, last)
        for post in posts
        for shift in post.shifts
    ]


def expand(
    posts: Iterable[Post],
    lines: Iterable[RosterLine],
    covers: Iterable[Cover],
    first: date,
    last: date,
    zone: ZoneInfo,
    holidays: Collection[date] = frozenset(),
    workdays: Collection[date] = frozenset(),
) -> list[Rostered]:
    """Who is rostered on which slot from ``first`` to ``last``, in the site's zone."""
    by_id = {p.id: p for p in posts}
    found: list[Rostered] = []
    for line in lines:
        post = by_id.get(line.post_id)
        if post is None:
            continue
        for day in days(max(first, line.starts_on), last):
            shift = post.shift(line.works(day, holidays, workdays))
            if shift is not None:
                found.append(Rostered(slot_of(post, shift, day, zone), line.technician_id, line.id))
    for cover in covers:
        post = by_id.get(cover.post_id)
        shift = post.shift(cover.shift) if post else None
        if post is not None and shift is not None and first <= cover.day <= last:
            found.append(Rostered(slot_of(post, shift, cover.day, zone), cover.technician_id, None))
    found.sort(key=lambda r: (r.slot.starts_at, r.slot.post_id, r.technician_id))
    return found


def coverage(
    posts: Iterable[Post],
    rostered: Iterable[Rostered],
    leaves: Iterable[Leave],
    first: date,
    last: date,
    zone: ZoneInfo,
    holidays: Collection[date] = frozenset(),
    workdays: Collection[date] = frozenset(),
) -> list[Coverage]:
    """Each slot's headcount needed (none on the shift's days off, nor before the post's
    ``since``: a post rostered from Monday was not short of people the month before), who is
    present and who is rostered but absent. ``workdays`` are the calendar's make-up working
    days (调休)."""
    posts = list(posts)
    leaves = list(leaves)
    on_slot: dict[tuple[int, date, str], list[int]] = {}
    for entry in rostered:
        key = (entry.slot.post_id, entry.slot.day, entry.slot.shift)
        people = on_slot.setdefault(key, [])
        if entry.technician_id not in people:
            people.append(entry.technician_id)
    by_id = {p.id: p for p in posts}
    result = []
    for slot in slots(posts, first, last, zone):
        post = by_id[slot.post_id]
        shift = post.shift(slot.shift)
        assert shift is not None
        started = post.since is None or slot.day >= post.since
        people = on_slot.get((slot.post_id, slot.day, slot.shift), [])
        away = {lv.technician_id for lv in leaves if slot.overlaps(lv.starts_at, lv.ends_at)}
        holiday = slot.day in holidays
        result.append(
            Coverage(
                slot,
                shift.needed(slot.day, holiday, slot.day in workdays) if started else 0,
                tuple(p for p in people if p not in away),
                tuple(p for p in people if p in away),
                holiday,
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible substitute for a slot, and why they rank where they do."""

    technician_id: int
    name: str
    rest_before: timedelta | None
    rest_after: timedelta | None
    week_hours: float
    reasons: tuple[str, ...]
    overtime: bool = False
    wanted_held: tuple[str, ...] = ()
    """Which of the post's wanted skills (beyond the one it requires) the person holds."""


ABSENT: Final = "absent"
ON_DUTY: Final = "on_duty"
SHORT_REST: Final = "short_rest"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Someone who cannot take the slot, as a code and its values (``kind``: :data:`ABSENT`,
    :data:`ON_DUTY` or :data:`SHORT_REST` with the ``side`` of the slot the rest is short on,
    the ``rest`` there and the ``min_rest`` wanted): the console words it in the reader's
    language, the API in English (:attr:`reason`)."""

    technician_id: int
    name: str
    kind: str
    side: str | None = None
    rest: timedelta | None = None
    min_rest: timedelta | None = None

    @property
    def reason(self) -> str:
        """The refusal in English, as the API gives it."""
        if self.kind == SHORT_REST:
            return f"rest {_clock(self.rest)} {self.side} the shift, under {_clock(self.min_rest)}"
        return "on duty then" if self.kind == ON_DUTY else ABSENT


def week_of(day: date) -> tuple[date, date]:
    """Monday to Sunday around ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def _hours(duties: Iterable[Duty], start: datetime, end: datetime) -> float:
    total = timedelta(0)
    for duty in duties:
        if duty.on_call:
            continue
        overlap = min(duty.ends_at, end) - max(duty.starts_at, start)
        if overlap > timedelta(0):
            total += overlap
    return total.total_seconds() / 3600


def substitutes(
    slot: Slot,
    skill: str | None,
    site: str,
    people: Iterable[Person],
    duties: Iterable[Duty],
    leaves: Iterable[Leave],
    zone: ZoneInfo,
    *,
    wanted: Collection[str] = (),
    min_rest: timedelta = MIN_REST,
    week_hours: float = WEEK_HOURS,
) -> tuple[list[Candidate], list[Refusal]]:
    """Who could take ``slot``, best first, and who could not and why.

    Candidates have the post's skill, work at the site, are not absent and not on duty then,
    and rest at least ``min_rest`` before and after it: those are hard rules (the law's rest,
    a guard without the guard's skill). Among those left, overtime comes last (the Labour
    Law caps it, whatever else a person brings); then who holds more of the post's ``wanted``
    skills comes first, as the issue puts skills first: a gate guard who is also a first-aider
    or holds the fire-control certificate serves the post better than one who is not, and an
    hour's difference in the week matters less than that. Then hours already worked that week
    (fewest first: the work is shared), then the longer rest before the slot. ``duties`` are
    everyone's shifts around the slot (rostered or not)."""
    wanted = frozenset(wanted) - ({skill} if skill else set())
    duties = [d for d in duties if not d.on_call]
    leaves = list(leaves)
    monday, sunday = week_of(slot.day)
    week_start = local_moment(monday, time(), zone)
    week_end = local_moment(sunday + timedelta(days=1), time(), zone)
    found: list[Candidate] = []
    refused: list[Refusal] = []
    for person in people:
        if not person.active or site not in person.sites:
            continue
        if skill is not None and skill not in person.skills:
            continue
        if any(
            lv.technician_id == person.id and slot.overlaps(lv.starts_at, lv.ends_at)
            for lv in leaves
        ):
            refused.append(Refusal(person.id, person.name, ABSENT))
            continue
        own = [d for d in duties if d.technician_id == person.id]
        if any(slot.overlaps(d.starts_at, d.ends_at) for d in own):
            refused.append(Refusal(person.id, person.name, ON_DUTY))
            continue
        before = [d.ends_at for d in own if d.ends_at <= slot.starts_at]
        after = [d.starts_at for d in own if d.starts_at >= slot.ends_at]
        rest_before = slot.starts_at - max(before) if before else None
        rest_after = min(after) - slot.ends_at if after else None
        short = [
            (label, rest)
            for label, rest in (("before", rest_before), ("after", rest_after))
            if rest is not None and rest < min_rest
        ]
        if short:
            label, rest = short[0]
            refused.append(Refusal(person.id, person.name, SHORT_REST, label, rest, min_rest))
            continue
        hours = _hours(own, week_start, week_end)
        slot_hours = (slot.ends_at - slot.starts_at).total_seconds() / 3600
        reasons = [f"{hours:g} h worked in the week of {monday.isoformat()}"]
        reasons.append(
            f"rest before {_clock(rest_before)}" if rest_before is not None else "no shift before"
        )
        held = tuple(sorted(wanted & person.skills))
        if held:
            reasons.append(f"also holds {', '.join(held)}")
        overtime = hours + slot_hours > week_hours
        if overtime:
            reasons.append(f"overtime: past {week_hours:g} h that week")
        found.append(
            Candidate(
                person.id,
                person.name,
                rest_before,
                rest_after,
                hours,
                tuple(reasons),
                overtime,
                held,
            )
        )
    longest = timedelta(days=3650)
    found.sort(
        key=lambda c: (
            c.overtime,
            -len(c.wanted_held),
            c.week_hours,
            -(longest if c.rest_before is None else c.rest_before).total_seconds(),
            c.technician_id,
        )
    )
    return found, refused


def _clock(span: timedelta | None) -> str:
    if span is None:
        return "-"
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}" if minutes else f"{hours}h"


def gaps(cells: Iterable[Coverage]) -> list[Coverage]:
    """The slots short of people, soonest first."""
    return sorted((c for c in cells if c.gap), key=lambda c: c.slot.starts_at)


def coverage_ratio(cells: Iterable[Coverage]) -> float | None:
    """The KPI: person-shifts present over person-shifts needed (capped at each slot's need)."""
    needed = present = 0
    for cell in cells:
        needed += cell.needed
        present += min(cell.needed, len(cell.present))
    return present / needed if needed else None


def duties_of(rostered: Iterable[Rostered], site: str) -> list[Duty]:
    """Rostered shifts as assignment's duties (at the post's site)."""
    return [Duty(r.technician_id, r.slot.starts_at, r.slot.ends_at, False, site) for r in rostered]
