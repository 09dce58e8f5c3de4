"""Posts and their rosters, coverage and substitutes, holiday calendars, shift handovers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from facility_dispatch.api.deps import Planner, ServiceDep, Technician, Viewer
from facility_dispatch.api.errors import actor_of, raise_for
from facility_dispatch.api.pagination import Id, IdQuery, Limit, Offset, Page, RowId, page
from facility_dispatch.api.types import Input, SiteName, SitePath, SiteQuery
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.maintenance.handover import Handover
from facility_dispatch.maintenance.rosters import (
    REST,
    Candidate,
    Coverage,
    Post,
    RosterLine,
    coverage_ratio,
)

router = APIRouter(prefix="/api/v1", tags=["rosters"])
ShiftName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$", examples=["day", "night"])]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["08:00"])]
Day = date
DayQuery = Annotated[date, Query(description="a local date of the site")]


def _whole(value: object) -> object:
    """A JSON integer, ``3`` or ``3.0`` alike (JSON Schema counts both), never ``"3"`` or
    ``true``: in a list of shifts the body's own check of JSON types cannot say which it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("a whole number")
        return int(value)
    return value


Headcount = Annotated[int, Field(ge=0, le=1000), BeforeValidator(_whole)]
Weekday = Annotated[int, Field(ge=1, le=7), BeforeValidator(_whole)]


class ShiftIO(BaseModel):
    """One shift of a post (inside a post's body; its numbers are checked by ``_whole``)."""

    model_config = ConfigDict(extra="ignore")

    name: ShiftName
    starts: ClockTime
    ends: ClockTime = Field(description="at or before starts: the next day")
    headcount: Headcount
    holiday_headcount: Headcount | None = Field(
        default=None, description="needed on the site's public holidays; default headcount"
    )
    weekdays: list[Weekday] = Field(
        default=[1, 2, 3, 4, 5, 6, 7],
        min_length=1,
        max_length=7,
        description="the ISO weekdays it is needed (Monday 1 to Sunday 7); none on the others, "
        "unless a make-up working day; default every day",
    )


SkillName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=32)]


class PostIn(Input):
    site: SiteName
    name: str = Field(min_length=1, max_length=200, examples=["North gate"])
    skill: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_-]*$",
        max_length=32,
        description="what substitutes must have: security, cleaning, greenery, plumbing...",
    )
    wanted_skills: list[SkillName] = Field(
        default=[],
        max_length=12,
        description="further skills the post wants (first_aid, fire_control): a substitute "
        "holding more of them ranks higher",
    )
    shifts: list[ShiftIO] = Field(min_length=1, max_length=12)


class PostOut(BaseModel):
    id: int
    site: str
    name: str
    skill: str | None
    wanted_skills: list[str]
    since: date | None = Field(
        description="the first local day the post is counted as needed: its roster's start"
    )
    shifts: list[ShiftIO]


def _post_out(post: Post) -> PostOut:
    return PostOut(
        id=post.id,
        site=post.site,
        name=post.name,
        skill=post.skill,
        wanted_skills=list(post.wanted),
        since=post.since,
        shifts=[
            ShiftIO(
                name=s.name,
                starts=s.starts.strftime("%H:%M"),
                ends=s.ends.strftime("%H:%M"),
                headcount=s.headcount,
                holiday_headcount=s.holiday_headcount,
                weekdays=sorted(s.weekdays),
            )
            for s in post.shifts
        ],
    )


class LineIn(Input):
    technician_id: RowId
    pattern: list[ShiftName] = Field(
        min_length=1,
        max_length=62,
        description=f"shift names and {REST!r}, repeating from anchor (7 for a weekly roster)",
        examples=[["day", "day", "night", "night", "rest", "rest"]],
    )
    anchor: Day = Field(description="the date the pattern's first entry falls on")
    starts_on: Day | None = Field(default=None, description="default: anchor")
    ends_on: Day | None = None
    off_on_holidays: bool = Field(default=False, description="off on the site's holidays")


class LineOut(BaseModel):
    id: int
    post_id: int
    technician_id: int
    pattern: list[str]
    anchor: date
    starts_on: date
    ends_on: date | None
    off_on_holidays: bool


def _line_out(line: RosterLine) -> LineOut:
    return LineOut(
        id=line.id,
        post_id=line.post_id,
        technician_id=line.technician_id,
        pattern=list(line.pattern),
        anchor=line.anchor,
        starts_on=line.starts_on,
        ends_on=line.ends_on,
        off_on_holidays=line.off_on_holidays,
    )


class SlotOut(BaseModel):
    post_id: int
    day: date
    shift: str
    starts_at: datetime
    ends_at: datetime


class CoverageOut(SlotOut):
    needed: int
    present: list[int]
    absent: list[int]
    holiday: bool
    gap: int


def _coverage_out(cell: Coverage) -> CoverageOut:
    return CoverageOut(
        post_id=cell.slot.post_id,
        day=cell.slot.day,
        shift=cell.slot.shift,
        starts_at=cell.slot.starts_at,
        ends_at=cell.slot.ends_at,
        needed=cell.needed,
        present=list(cell.present),
        absent=list(cell.absent),
        holiday=cell.holiday,
        gap=cell.gap,
    )


class CoverageReport(BaseModel):
    site: str
    start: date
    end: date
    coverage: float | None = Field(description="person-shifts present over needed (the KPI)")
    gaps: int = Field(description="slots short of people")
    items: list[CoverageOut]


class CandidateOut(BaseModel):
    technician_id: int
    name: str
    rest_before_h: float | None
    rest_after_h: float | None
    week_hours: float
    wanted_skills_held: list[str]
    reasons: list[str]


class RefusalOut(BaseModel):
    technician_id: int
    name: str
    kind: str = Field(description="absent, on_duty or short_rest")
    reason: str


class SubstitutesOut(BaseModel):
    slot: SlotOut
    candidates: list[CandidateOut] = Field(description="best first")
    refused: list[RefusalOut]


def _hours(span: timedelta | None) -> float | None:
    return None if span is None else round(span.total_seconds() / 3600, 2)


def _candidate(c: Candidate) -> CandidateOut:
    return CandidateOut(
        technician_id=c.technician_id,
        name=c.name,
        rest_before_h=_hours(c.rest_before),
        rest_after_h=_hours(c.rest_after),
        week_hours=round(c.week_hours, 2),
        wanted_skills_held=list(c.wanted_held),
        reasons=list(c.reasons),
    )


class CoverIn(Input):
    day: Day
    shift: ShiftName
    technician_id: RowId


class HolidayIO(Input):
    day: Day
    name: str = Field(default="", max_length=100, examples=["国庆节"])
    workday: bool = Field(
        default=False,
        description="a make-up working day (调休): lines off on holidays work it",
    )


class HolidaysIn(Input):
    holidays: list[HolidayIO] = Field(max_length=366)


class HolidaysOut(BaseModel):
    site: str
    year: int
    holidays: list[HolidayIO]


Year = Annotated[int, Path(ge=2000, le=2100)]


@router.get("/posts", response_model=Page[PostOut])
def list_posts(
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[PostOut]:
    posts = service.rosters.posts(site)
    return page(
        [_post_out(p) for p in posts[offset : offset + limit]],
        len(posts),
        offset,
        service.settings.max_page_bytes,
    )


@router.post("/posts", response_model=PostOut, status_code=status.HTTP_201_CREATED)
def add_post(body: PostIn, service: ServiceDep, _who: Planner) -> PostOut:
    """A post and the headcount it needs per shift of the day."""
    try:
        post = service.rosters.add_post(
            body.site,
            body.name,
            body.skill,
            [s.model_dump() for s in body.shifts],
            body.wanted_skills,
        )
    except MaintenanceError as error:
        raise_for(error)
    return _post_out(post)


@router.get("/posts/{post_id}/roster-lines", response_model=Page[LineOut])
def list_lines(
    post_id: Id, service: ServiceDep, _who: Viewer, limit: Limit = 100, offset: Offset = 0
) -> Page[LineOut]:
    if service.rosters.post(post_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no post {post_id}")
    lines = service.rosters.lines([post_id])
    return page(
        [_line_out(line) for line in lines[offset : offset + limit]],
        len(lines),
        offset,
        service.settings.max_page_bytes,
    )


@router.post(
    "/posts/{post_id}/roster-lines", response_model=LineOut, status_code=status.HTTP_201_CREATED
)
def add_line(post_id: Id, body: LineIn, service: ServiceDep, _who: Planner) -> LineOut:
    """Put a technician on the post on a repeating pattern."""
    try:
        line = service.rosters.add_line(
            post_id,
            body.technician_id,
            body.pattern,
            body.anchor,
            body.starts_on,
            body.ends_on,
            body.off_on_holidays,
        )
    except MaintenanceError as error:
        raise_for(error)
    return _line_out(line)


@router.get("/sites/{site}/coverage", response_model=CoverageReport)
def site_coverage(
    site: SitePath,
    service: ServiceDep,
    _who: Viewer,
    start: DayQuery,
    end: DayQuery,
    post_id: IdQuery = None,
) -> CoverageReport:
    """Each shift of each post from ``start`` to ``end`` (local dates, at most 62 days): the
    headcount needed (fewer on holidays where the post says so), who is rostered and present,
    who is rostered but absent, and the gap."""
    try:
        cells = service.rosters.coverage(site, start, end, post_id)
    except MaintenanceError as error:
        raise_for(error)
    return CoverageReport(
        site=site,
        start=start,
        end=end,
        coverage=coverage_ratio(cells),
        gaps=sum(1 for c in cells if c.gap),
        items=[_coverage_out(c) for c in cells],
    )


@router.get("/posts/{post_id}/substitutes", response_model=SubstitutesOut)
def substitutes(
    post_id: Id,
    service: ServiceDep,
    _who: Viewer,
    day: DayQuery,
    shift: Annotated[str, Query(pattern=r"^[a-z][a-z0-9_-]{0,31}$")],
) -> SubstitutesOut:
    """Who could take the post's shift on ``day``, best first: the post's skill, not absent,
    not on duty then, 11 h rest before and after; fewest hours that week first."""
    try:
        proposal = service.rosters.substitutes(post_id, day, shift)
    except MaintenanceError as error:
        raise_for(error)
    slot = proposal.slot
    return SubstitutesOut(
        slot=SlotOut(
            post_id=slot.post_id,
            day=slot.day,
            shift=slot.shift,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
        ),
        candidates=[_candidate(c) for c in proposal.candidates],
        refused=[
            RefusalOut(technician_id=r.technician_id, name=r.name, kind=r.kind, reason=r.reason)
            for r in proposal.refused
        ],
    )


@router.post("/posts/{post_id}/covers", response_model=CoverIn, status_code=201)
def add_cover(post_id: Id, body: CoverIn, service: ServiceDep, who: Planner) -> CoverIn:
    """Put someone on one shift of the post (a substitute for an absence, or an extra)."""
    try:
        service.rosters.add_cover(post_id, body.day, body.shift, body.technician_id, who.name)
    except MaintenanceError as error:
        raise_for(error)
    return body


@router.get("/sites/{site}/holidays/{year}", response_model=HolidaysOut)
def get_holidays(site: SitePath, year: Year, service: ServiceDep, _who: Viewer) -> HolidaysOut:
    first, last = date(year, 1, 1), date(year, 12, 31)
    found = [
        HolidayIO(day=d, name=n, workday=False)
        for d, n in service.rosters.holidays(site, first, last).items()
    ]
    found += [
        HolidayIO(day=d, name=n, workday=True)
        for d, n in service.rosters.workdays(site, first, last).items()
    ]
    return HolidaysOut(site=site, year=year, holidays=sorted(found, key=lambda h: h.day))


@router.put("/sites/{site}/holidays/{year}", response_model=HolidaysOut)
def put_holidays(
    site: SitePath, year: Year, body: HolidaysIn, service: ServiceDep, _who: Planner
) -> HolidaysOut:
    """The site's calendar of one year (the State Council's notice each December): public
    holidays, and make-up working days with ``workday``; it replaces that year's calendar."""
    try:
        service.rosters.set_holidays(
            site,
            year,
            [(h.day, h.name) for h in body.holidays if not h.workday],
            [(h.day, h.name) for h in body.holidays if h.workday],
        )
    except MaintenanceError as error:
        raise_for(error)
    return get_holidays(site, year, service, _who)


# -- handovers -------------------------------------------------------------------------------


class HandoverIn(Input):
    site: SiteName
    post_id: RowId | None = None
    incoming_technician_id: RowId | None = Field(
        default=None, description="who must acknowledge it; anyone of the next shift if none"
    )
    incidents: str = Field(default="", max_length=5000)
    keys: str = Field(default="", max_length=2000, description="keys and equipment handed over")
    notes: str = Field(default="", max_length=5000)


class HandoverOut(BaseModel):
    id: int
    site: str
    post_id: int | None
    outgoing: str
    incoming_technician_id: int | None
    written_at: datetime
    acknowledge_by: datetime
    open_orders: list[str] = Field(description="the site's open orders as the log was written")
    incidents: str
    keys: str
    notes: str
    state: Literal["waiting", "acknowledged", "flagged"]
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    flagged_at: datetime | None


def handover_out(h: Handover) -> HandoverOut:
    return HandoverOut(
        id=h.id,
        site=h.site,
        post_id=h.post_id,
        outgoing=h.outgoing,
        incoming_technician_id=h.incoming_technician_id,
        written_at=h.written_at,
        acknowledge_by=h.acknowledge_by,
        open_orders=list(h.open_orders),
        incidents=h.incidents,
        keys=h.keys,
        notes=h.notes,
        state=h.state,  # type: ignore[arg-type]
        acknowledged_at=h.acknowledged_at,
        acknowledged_by=h.acknowledged_by,
        flagged_at=h.flagged_at,
    )


@router.get("/handovers", response_model=Page[HandoverOut])
def list_handovers(
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    state: Literal["waiting", "acknowledged", "flagged"] | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[HandoverOut]:
    """Newest first (of the last 10,000)."""
    found = service.handovers.query(site, state, limit=10_000)
    return page(
        [handover_out(h) for h in found[offset : offset + limit]],
        len(found),
        offset,
        service.settings.max_page_bytes,
    )


@router.post("/handovers", response_model=HandoverOut, status_code=status.HTTP_201_CREATED)
def write_handover(body: HandoverIn, service: ServiceDep, who: Technician) -> HandoverOut:
    """The outgoing shift's log; to be acknowledged within 30 minutes of the incoming shift's
    start (the named technician's shift, else the post's), else flagged."""
    try:
        handover = service.handovers.write(
            body.site,
            actor_of(who),
            post_id=body.post_id,
            incoming_technician_id=body.incoming_technician_id,
            incidents=body.incidents,
            keys=body.keys,
            notes=body.notes,
        )
    except MaintenanceError as error:
        raise_for(error)
    return handover_out(handover)


@router.post("/handovers/{handover_id}/acknowledge", response_model=HandoverOut)
def acknowledge_handover(handover_id: Id, service: ServiceDep, who: Technician) -> HandoverOut:
    """By the incoming technician named on it (anyone of the next shift if none), or a
    planner."""
    try:
        return handover_out(service.handovers.acknowledge(handover_id, actor_of(who)))
    except MaintenanceError as error:
        raise_for(error)
