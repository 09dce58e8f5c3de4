"""Notifications in the console: the outbox as a list (and on each order's page), the
notifications file for an admin to edit, and the page an acknowledgement link opens.

The list and the editor only show and offer: the editor puts the file through the JSON API
(``api/static/notify.js``), so the API's check and its refusal (route and field named) are the
ones shown. The acknowledgement link is the one page without a login: the signed token in its
address is the permission, for one act on one order (:mod:`facility_dispatch.notify.links`).
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from facility_dispatch.api.auth import Role
from facility_dispatch.api.dashboard import i18n, wording
from facility_dispatch.api.dashboard.pages import STATIC_VERSION, PageDep, environment
from facility_dispatch.api.deps import ServiceDep
from facility_dispatch.maintenance.authority import Rank
from facility_dispatch.maintenance.errors import IllegalTransitionError, MaintenanceError
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.notify.config import masked_text
from facility_dispatch.notify.inbox import Delivered
from facility_dispatch.notify.links import LinkError
from facility_dispatch.notify.sql import OutboxRow

router = APIRouter(include_in_schema=False)
Status = Literal["pending", "sent", "failed"]


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    page: PageDep,
    status: Status | Literal[""] = "",
    order: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """Every message recorded, newest first; ``order`` by number (WO-2026-000001) or id (the
    filter form sends an empty status for all)."""
    service = page.service
    order_id = _order_id(page, order.strip())
    rows, total = (
        service.notifier.query(status or None, order_id, limit=200) if order_id != -1 else ([], 0)
    )
    if page.user.sites is not None:  # a login limited to sites: their messages only
        rows = [r for r in rows if page.user.sees(r.site)]
        total = len(rows)
    is_admin = page.user.role >= Role.ADMIN and page.user.sites is None
    return page.render(
        "notifications.html",
        partial="_notifications.html",
        rows=rows,
        total=total,
        status=status or "",
        order=order,
        pending=service.notifier.pending(),
        config=masked_text(service.notifier.config()) if is_admin else None,
        numbers=_numbers(page, rows),
        compact=False,
        inbox=service.notifier.inbox is not None,
        people=service.people.technicians(limit=10_000)[0] if page.may_plan else [],
    )


@router.get("/notifications/panel", response_class=HTMLResponse)
def notifications_panel(
    page: PageDep, work_order_id: Annotated[int, Query(ge=1, le=2**31 - 1)]
) -> HTMLResponse:
    """The messages about one order: the order page loads this into its notifications panel."""
    rows, total = page.service.notifier.query(None, work_order_id, limit=50)  # order: checked
    return page.render("_notifications.html", rows=rows, total=total, numbers={}, compact=True)


def _order_id(page: PageDep, given: str) -> int | None:
    """None for no filter; -1 for an order that does not exist (an empty list, not an error)."""
    if not given:
        return None
    if given.isdigit():
        return int(given) if int(given) < 2**31 else -1
    found = page.service.work_orders.by_number(given.upper())
    return found.id if found else -1


def _numbers(page: PageDep, rows: list[OutboxRow]) -> dict[int, str]:
    """Order numbers for the list's links (a few orders per page of messages)."""
    numbers: dict[int, str] = {}
    for order_id in {r.work_order_id for r in rows if r.work_order_id is not None}:
        order = page.service.work_orders.get(order_id)
        if order is not None:
            numbers[order.id] = order.number
    return numbers


# -- the acknowledgement link ------------------------------------------------------------------


def _ack_page(
    request: Request, service: ServiceDep, token: str, done: bool, status_code: int = 200
) -> HTMLResponse:
    order = None
    error: str | None = None
    lang: i18n.Lang = "zh"
    site_name = ""
    try:
        grant = service.notifier.grant(token)
        order = service.work_orders.get(grant.work_order_id)
        if order is None:
            error, status_code = "ack.gone", 404
    except LinkError:
        error, status_code = "ack.bad_link", 403
    if order is not None:
        site = service.people.site(order.site)
        lang = i18n.choose(
            request.cookies.get(i18n.LANG_COOKIE),
            [site.locale] if site else [],
            request.headers.get("accept-language"),
        )
        site_name = site.named(lang) if site is not None and site.name else order.site
    t = i18n.Translator(lang)
    if error is None and hasattr(request.state, "ack_refusal"):
        # (key, values): each value is a key too (a status), worded in the page's language
        key, values = request.state.ack_refusal
        refusal: str | None = t(key, **{k: t(v) for k, v in values.items()})
    else:
        refusal = t(error) if error else None
    html = environment.get_template("ack.html").render(
        t=t,
        lang=lang,
        html_lang=i18n.HTML_LANG[lang],
        static_version=STATIC_VERSION,
        order=order,
        title=wording.order_title(order, t) if order is not None else "",
        fault=wording.fault_name(order.fault, t) if order is not None and order.fault else "",
        site_name=site_name,
        token=token,
        done=done,
        error=refusal,
        acknowledged=order is not None and order.responded_at is not None,
    )
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.get("/n/ack/{token}", response_class=HTMLResponse)
def ack_link(request: Request, service: ServiceDep, token: str) -> HTMLResponse:
    """What the link in a message opens: the order and one button. A GET changes nothing
    (mail scanners and link previews open links too)."""
    return _ack_page(request, service, token, done=False)


@router.post("/n/ack/{token}", response_class=HTMLResponse)
def ack_by_link(request: Request, service: ServiceDep, token: str) -> HTMLResponse:
    """Acknowledge the order the link was made for, as the person it was sent to: through the
    work-order service's own command, so the lifecycle and the timeline apply as always."""
    try:
        grant = service.notifier.grant(token)
    except LinkError:
        return _ack_page(request, service, token, done=False)
    technician = service.people.technician(grant.technician_id) if grant.technician_id else None
    if technician is None or not technician.active:
        # a link is made only for a person (older links for a group said nobody): without one
        # there is nobody to act as
        request.state.ack_refusal = ("ack.not_person", {})
        return _ack_page(request, service, token, done=False, status_code=403)
    actor = Actor(
        technician.name,
        technician.id,
        Rank.PLANNER if technician.role == "supervisor" else Rank.TECHNICIAN,
    )
    try:
        service.work_orders.transition(
            grant.work_order_id, "acknowledged", actor, "acknowledged by the link in a message"
        )
    except IllegalTransitionError as refused:
        # said in the page's language from the error's parts (its English text is the API's)
        request.state.ack_refusal = ("ack.refused", {"status": f"wo_status.{refused.current}"})
        return _ack_page(request, service, token, done=False, status_code=409)
    except MaintenanceError:
        request.state.ack_refusal = ("ack.not_allowed", {})
        return _ack_page(request, service, token, done=False, status_code=403)
    return _ack_page(request, service, token, done=True)


# -- the demo's inbox --------------------------------------------------------------------------


@router.post("/n/inbox/{key}/{mailbox}")
async def inbox_delivery(request: Request, service: ServiceDep, key: str, mailbox: str) -> Response:
    """Where the demo's ``json://`` receivers deliver (Apprise posts title and message)."""
    inbox = service.notifier.inbox
    if inbox is None or not inbox.accepts(key) or len(mailbox) > 64:
        return Response(status_code=404)
    try:
        posted = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return Response(status_code=400)
    if not isinstance(posted, dict):
        return Response(status_code=400)
    inbox.put(
        Delivered(
            service.clock.now(),
            mailbox,
            str(posted.get("title") or "")[:500],
            str(posted.get("message") or "")[:5000],
        )
    )
    return Response(status_code=204)


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(page: PageDep) -> HTMLResponse:
    """The demo's inbox: every message the demo's receivers got, newest first."""
    inbox = page.service.notifier.inbox
    if inbox is None or page.user.sites is not None:  # every receiver's mail: company-wide
        return page.not_found(page.t("inbox.off"))
    names = {f"t{t.id}": t.name for t in page.service.people.technicians(limit=10_000)[0]}
    return page.render("inbox.html", partial="_inbox.html", messages=inbox.messages(), names=names)
