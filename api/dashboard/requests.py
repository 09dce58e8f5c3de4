"""The dispatcher's queue of residents' requests (planner and up): new ones first, to accept
(an order opened or joined) or reject with a reason; requests taken by phone or in person;
follow-up calls due; complaint reviews; the residents' KPIs; and a printable notice with each
site's QR code for the lobby boards.

The buttons post to the JSON API (``static/residents.js``), so its rules on roles apply as they
are; phones show masked to every role but admin, as the API sends them, and a Call button
(follow-up calls, a request's page) asks the API for the number in full, a reveal it records.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from facility_dispatch.api.auth import Role
from facility_dispatch.api.dashboard.pages import PageDep
from facility_dispatch.api.routers.requests import public_page, qr_svg
from facility_dispatch.maintenance import lifecycle
from facility_dispatch.residents.model import CATEGORIES, STATUSES, mask_phone

router = APIRouter(include_in_schema=False)
SKILLS = ("general", "plumbing", "electrical", "elevator", "cctv")


@router.get("/requests", response_class=HTMLResponse)
def queue_page(page: PageDep, site: str | None = None, status: str | None = None) -> HTMLResponse:
    if page.user.role < Role.PLANNER:
        return page.render("requests.html", status_code=403, allowed=False, site=site or "")
    residents = page.service.residents
    status = status if status in STATUSES else None
    new, _ = residents.queue(site or None, "new", limit=200)
    recent, _ = residents.queue(site or None, status, limit=100)
    open_orders, _ = page.service.work_orders.query(
        status=[s.value for s in lifecycle.ACTIVE], site=site or None, limit=200
    )
    end = page.now
    return page.render(
        "requests.html",
        allowed=True,
        site=site or "",
        status=status or "",
        statuses=STATUSES,
        new=new,
        recent=[r for r in recent if r.decision != "new"],
        follow_ups=residents.follow_ups(site or None),
        reviews=residents.reviews(site or None),
        open_orders=open_orders,
        kpis=residents.kpis(site or None, end - timedelta(days=30), end),
        phone=(lambda p: p) if page.user.role >= Role.ADMIN else mask_phone,
        shows_phone=page.user.role >= Role.ADMIN,
        categories=CATEGORIES,
        skills=SKILLS,
        priorities=("P1", "P2", "P3", "P4"),
        sites=list(page.sites.values()),
    )


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(request_id: int, page: PageDep) -> HTMLResponse:
    """One request for the dispatcher: what, where, its order, what the resident said, the
    Call button that shows the phone in full (a recorded reveal), and its history: its events
    while the event log keeps them, and among them, in time order, each time its phone was
    shown ("shown to X at T"), read from the reveals kept as long as the request."""
    if page.user.role < Role.PLANNER:
        return page.render("requests.html", status_code=403, allowed=False, site="")
    residents = page.service.residents
    found = residents.get(request_id)
    if found is None:
        return page.not_found(page.t("req.missing", id=request_id))
    return page.render(
        "request.html",
        r=found,
        history=sorted(
            [*residents.history(request_id), *residents.reveals(request_id)], key=lambda e: e.at
        ),
        phone=(lambda p: p) if page.user.role >= Role.ADMIN else mask_phone,
        shows_phone=page.user.role >= Role.ADMIN,
    )


@router.get("/requests/notice/{site}", response_class=HTMLResponse)
def notice_page(
    site: str, request: Request, page: PageDep, building: str | None = None
) -> HTMLResponse:
    """A notice for the lobby board of one building (or the whole estate): the QR code of
    the site's request page, in Chinese and English, to print. A building's QR code opens the
    form with that building chosen (one fewer thing for the resident to get wrong); a building
    the site does not list gets the estate's notice."""
    known = page.service.people.site(site)
    if known is None:
        return page.not_found(page.t("req.no_site", site=site))
    board = building if building in known.buildings else None
    url = public_page(request, site, page.service.settings.public_url, board)
    return page.render(
        "request_notice.html",
        site=known,
        building=board,
        url=url,
        qr=qr_svg(url),
    )
