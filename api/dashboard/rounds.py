"""Patrol rounds in the console: the routes and today's rounds, a round being walked, the page a
checkpoint's QR code opens (scanning is opening it), and the printable codes of a route."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import segno
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from facility_dispatch.api.auth import Role
from facility_dispatch.api.backend import Backend
from facility_dispatch.api.dashboard.pages import Page, PageDep
from facility_dispatch.maintenance import rounds as pure
from facility_dispatch.maintenance.patrols import Round, Route
from facility_dispatch.maintenance.rosters import Coverage, coverage_ratio

router = APIRouter(include_in_schema=False)


def field_kpis(
    service: Backend, site: str | None, start: datetime, end: datetime
) -> dict[str, Any]:
    """The field's KPIs of a period, for the KPI page: rounds done on time, findings per round,
    rounds missed, and the posts' coverage (person-shifts present over needed; of the period's
    last 62 days at most, the span a coverage query takes; each post from its roster's first
    day, :attr:`Post.since`, so the weeks before a post was staffed are no gaps)."""
    found = [r for r in service.patrols.rounds(site, None, start, end, 10_000) if r.due_by <= end]
    facts = [pure.RoundFacts(r.due_by, r.finished_at, r.findings) for r in found]
    cells: list[Coverage] = []
    for name in sorted({p.site for p in service.rosters.posts(site)}):
        zone = service.rosters.zone(name)
        last = end.astimezone(zone).date()
        first = max(start.astimezone(zone).date(), last - timedelta(days=61))
        cells += service.rosters.coverage(name, first, last)
    return {
        "rounds": len(found),
        "on_time": pure.on_time_ratio(facts, end),
        "findings": pure.findings_per_round(facts),
        "missed": sum(1 for r in found if r.state(end) in ("missed", "late")),
        "coverage": coverage_ratio(cells),
        "gaps": sum(1 for c in cells if c.gap),
    }


def scan_url(page: Page, token: str) -> str:
    """The address a checkpoint's code holds: this console's scan page for it."""
    return f"{str(page.request.base_url).rstrip('/')}/p/{token}"


def _orders(page: Page, found: Round) -> dict[int, str]:
    """Order numbers of the round's findings, by id."""
    numbers = {}
    for visit in found.visits:
        for result in visit.results:
            order_id = result.get("work_order_id")
            if order_id:
                order = page.service.work_orders.get(int(order_id))
                if order is not None:
                    numbers[order.id] = order.number
    return numbers


@router.get("/rounds", response_class=HTMLResponse)
def rounds_page(page: PageDep, site: str | None = None) -> HTMLResponse:
    service = page.service
    options = page.site_options()
    site = site or (options[0] if len(options) == 1 else None)  # where new routes go
    routes = service.patrols.routes(site or None)
    found = service.patrols.rounds(
        site or None, None, page.now - timedelta(hours=12), page.now + timedelta(hours=18)
    )
    week = service.patrols.rounds(site or None, None, page.now - timedelta(days=7), page.now, 5000)
    judged = [r for r in week if r.due_by <= page.now]
    facts = [pure.RoundFacts(r.due_by, r.finished_at, r.findings) for r in judged]
    return page.render(
        "rounds.html",
        site=site or "",
        routes=routes,
        by_id={r.id: r for r in routes},
        rounds=found,
        on_time=pure.on_time_ratio(facts, page.now),
        findings=pure.findings_per_round(facts),
        missed=sum(1 for r in judged if r.state(page.now) in ("missed", "late")),
        templates={name: pure.template(name, page.lang)["title"] for name in pure.TEMPLATES},
        may_walk=page.user.role >= Role.TECHNICIAN,
        may_plan=page.user.role >= Role.PLANNER,
    )


def _run(page: Page, found: Round, route: Route, scanned: int | None = None) -> HTMLResponse:
    order = [c.id for c in route.checkpoints]
    return page.render(
        "round.html",
        site=route.site,
        round=found,
        route=route,
        state=found.state(page.now),
        next_id=pure.expected_next(order, found.visited),
        visits={v.checkpoint_id: v for v in found.visits},
        orders=_orders(page, found),
        scanned=scanned,
        may_walk=page.user.role >= Role.TECHNICIAN,
    )


@router.get("/rounds/{round_id}", response_class=HTMLResponse)
def round_page(page: PageDep, round_id: int) -> HTMLResponse:
    found = page.service.patrols.round(round_id)
    route = page.service.patrols.route(found.route_id) if found else None
    if found is None or route is None:
        return page.not_found(page.t("rounds.no_round", id=round_id))
    return _run(page, found, route)


@router.get("/p/{token}", response_class=HTMLResponse)
def scan_page(page: PageDep, token: str) -> HTMLResponse:
    """What a checkpoint's code opens: the checkpoint's form on the round being walked."""
    found = page.service.patrols.checkpoint_by_token(token)
    if found is None:
        return page.not_found(page.t("rounds.unknown_code"))
    route, checkpoint = found
    open_round = page.service.patrols.open_round_for(route.id)
    if open_round is None:
        return page.render(
            "scan.html",
            site=route.site,
            route=route,
            checkpoint=checkpoint,
            may_walk=page.user.role >= Role.TECHNICIAN,
        )
    return _run(page, open_round, route, scanned=checkpoint.id)


@router.get("/routes/{route_id}/codes", response_class=HTMLResponse)
def codes_page(page: PageDep, route_id: int) -> HTMLResponse:
    """One QR code per checkpoint, to print and fix on site. The codes are the proof that a
    patroller stood there, so only a planner sees them."""
    route = page.service.patrols.route(route_id)
    if route is None:
        return page.not_found(page.t("rounds.no_route", id=route_id))
    if page.user.role < Role.PLANNER:
        return page.render("missing.html", status_code=403, message=page.t("rounds.codes_planner"))
    codes = [
        (
            c,
            scan_url(page, c.token),
            # segno's own SVG (paths only), of a URL made here: safe to put in the page as is
            Markup(segno.make(scan_url(page, c.token), error="m").svg_inline(scale=5)),
        )
        for c in route.checkpoints
    ]
    return page.render("codes.html", site=route.site, route=route, codes=codes)
