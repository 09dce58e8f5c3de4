"""The week's coverage of every post at a site, substitutes for a gap, and shift handovers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from facility_dispatch.api.auth import Role
from facility_dispatch.api.dashboard.pages import Page, PageDep
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.maintenance.people import Technician
from facility_dispatch.maintenance.rosters import Coverage, Post, coverage_ratio, week_of

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Row:
    """One shift of one post across the week."""

    post: Post
    shift: str
    hours: str
    cells: tuple[Coverage, ...]


def _site(page: Page, site: str | None) -> str | None:
    """The site asked for, else the first with posts, else the only one: coverage is drawn in
    one site's zone."""
    if site:
        return site
    posts = page.service.rosters.posts()
    if posts:
        return posts[0].site
    options = page.site_options()
    return options[0] if len(options) == 1 else None


def _day(text: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(text) if text else fallback
    except ValueError:
        return fallback


@router.get("/rosters", response_class=HTMLResponse)
def rosters_page(page: PageDep, site: str | None = None, week: str | None = None) -> HTMLResponse:
    service = page.service
    chosen = _site(page, site)
    zone = page.zone(chosen)
    today = page.now.astimezone(zone).date()
    monday, sunday = week_of(_day(week, today))
    days = [monday + timedelta(days=n) for n in range(7)]
    rows: list[Row] = []
    cells: list[Coverage] = []
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    technicians: list[Technician] = []
    if chosen:
        cells = service.rosters.coverage(chosen, monday, sunday)
        holidays = service.rosters.holidays(chosen, monday, sunday)
        workdays = service.rosters.workdays(chosen, monday, sunday)
        technicians, _ = service.people.technicians(chosen)
        for post in service.rosters.posts(chosen):
            for shift in post.shifts:
                mine = tuple(
                    c for c in cells if c.slot.post_id == post.id and c.slot.shift == shift.name
                )
                hours = f"{shift.starts:%H:%M}-{shift.ends:%H:%M}"
                rows.append(Row(post, shift.name, hours, mine))
    names = {t.id: t.name for t in service.people.technicians()[0]}
    ratio = coverage_ratio(cells)
    handovers = service.handovers.query(chosen, limit=20) if chosen else []
    return page.render(
        "rosters.html",
        site=chosen or "",
        days=days,
        today=today,
        rows=rows,
        gaps=[c for c in cells if c.gap],
        holidays=holidays,
        workdays=workdays,
        names=names,
        ratio=ratio,
        previous=(monday - timedelta(days=7)).isoformat(),
        following=(monday + timedelta(days=7)).isoformat(),
        handovers=handovers,
        supervisors=", ".join(p.name for p in service.people.supervisors(chosen)) if chosen else "",
        technicians=technicians,
        posts={p.id: p for p in service.rosters.posts(chosen)} if chosen else {},
        may_write=page.user.role >= Role.TECHNICIAN,
    )


@router.get("/rosters/substitutes", response_class=HTMLResponse)
def substitutes_page(page: PageDep, post: int, day: str, shift: str) -> HTMLResponse:
    try:
        proposal = page.service.rosters.substitutes(post, date.fromisoformat(day), shift)
    except (MaintenanceError, ValueError) as error:
        return page.not_found(str(error))
    return page.render(
        "substitutes.html",
        proposal=proposal,
        site=proposal.post.site,
        hours=_hours,
    )


def _hours(span: timedelta | float | None) -> str:
    """Hours to one decimal, a whole number without one: "11", "7.5", "0"."""
    if span is None:
        return "—"
    value = span.total_seconds() / 3600 if isinstance(span, timedelta) else span
    return f"{round(value, 1):g}"
