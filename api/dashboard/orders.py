"""Work orders: a table with search and filters (the default) or a board by status, one order
with what can be done to it, and the form for a new one (a resident's call).

The pages only show and offer; every action posts to the JSON API (``api/static/orders.js``),
so the API's rules on roles and the lifecycle apply as they are."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from facility_dispatch.api.auth import Role
from facility_dispatch.api.dashboard import i18n, present, wording
from facility_dispatch.api.dashboard.pages import Page, PageDep
from facility_dispatch.maintenance import lifecycle
from facility_dispatch.maintenance.authority import Act
from facility_dispatch.maintenance.contractors import Contractor, needs_sign_off
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.maintenance.orders import SOURCES, WorkOrder
from facility_dispatch.maintenance.playbooks import builtin

router = APIRouter(include_in_schema=False)
CHANNELS = ("phone", "app", "wechat", "walk_in", "walk_round")
SKILLS = ("general", "plumbing", "electrical", "elevator", "cctv")
ACTIVE = sorted(s.value for s in lifecycle.ACTIVE)
PHONE_CARDS = 12
"""On a phone the board is one list, most urgent first, of this many cards; the rest are a tap
away in the table (a wall of P4 cards helps nobody on a 390 px screen)."""


def _names(page: Page) -> dict[int, str]:
    technicians, _ = page.service.people.technicians()
    return {t.id: t.name for t in technicians}


def matches(order: WorkOrder, words: str, names: dict[int, str]) -> bool:
    """The search box: every word somewhere in the number, title, site, asset, building,
    description, reporter or an assignee's name (case-insensitive)."""
    haystack = " ".join(
        [
            order.number,
            order.title,
            order.site,
            order.asset or "",
            order.building or "",
            order.description,
            order.reporter or "",
            *(names.get(i, "") for i in order.assignees),
        ]
    ).lower()
    return all(word in haystack for word in words.lower().split())


@router.get("/work-orders", response_class=HTMLResponse)
def board(
    page: PageDep,
    site: str | None = None,
    priority: str = "",
    status: str = "",
    source: str = "",
    technician: str = "",
    overdue: bool = False,
    unacknowledged: bool = False,
    q: Annotated[str, Query(max_length=200)] = "",
    mine: bool = False,
    view: Literal["table", "board"] = "table",
) -> HTMLResponse:
    """Open work, P1 first everywhere (then the nearer deadline): a table with search and
    filters, or the board by status; ``mine``: a technician's own orders; ``unacknowledged``:
    what the overview's "not yet accepted" counter counts. A filter left at "all" arrives
    empty, and one the page does not know is ignored rather than refused."""
    service = page.service
    priority = present.choice(priority, present.PRIORITIES)
    status = present.choice(status, (*present.BOARD_COLUMNS, *present.FINISHED))
    source = present.choice(source, SOURCES)
    technician_id = int(technician) if technician.isdigit() else None
    assignee = technician_id
    if mine:
        assignee = page.user.technician_id or -1  # a token of nobody's has no orders of its own
    statuses = [status] if status else list(present.BOARD_COLUMNS)
    orders, _ = service.work_orders.query(
        status=statuses,
        site=site or None,
        priority=priority or None,
        source=source or None,
        assignee=assignee,
        limit=1000,
    )
    names = _names(page)
    clocks = {o.id: present.sla_clock(o, page.now) for o in orders}
    if overdue:  # missed, or past its deadline before the escalation job noted it
        orders = [o for o in orders if present.overdue(o, clocks[o.id])]
    if unacknowledged:
        orders = [o for o in orders if present.unacknowledged(o, clocks[o.id], page.now)]
    if q.strip():
        orders = [o for o in orders if matches(o, q, names)]
    orders.sort(key=present.urgency)
    finished, _ = service.work_orders.query(
        status=list(present.FINISHED), site=site or None, priority=priority or None, limit=20
    )
    technicians, _ = service.people.technicians()
    return page.render(
        "board.html",
        "_board.html",
        orders=orders,
        columns=present.by_status(orders),
        ranks=present.ranks(orders),
        phone_cards=PHONE_CARDS,
        finished=finished,
        names=names,
        clocks=clocks,
        technicians=sorted(technicians, key=lambda t: t.name),
        filters={
            "site": site or "",
            "priority": priority,
            "status": status,
            "source": source,
            "technician": technician_id or "",
            "overdue": overdue,
            "unacknowledged": unacknowledged,
            "q": q,
            "mine": mine,
        },
        site=site or "",
        view=view,
        priorities=present.PRIORITIES,
        statuses=present.BOARD_COLUMNS,
        sources=SOURCES,
        is_technician=page.user.technician_id is not None,
    )


@router.get("/work-orders/new", response_class=HTMLResponse)
def new_order(page: PageDep, site: str | None = None) -> HTMLResponse:
    """A resident's call or a walk-round finding, written down as an order (technicians up)."""
    if not page.may_acknowledge:
        return page.render("missing.html", status_code=403, message=page.t("wo.may_not_create"))
    records, _ = page.service.assets.query(site or None)
    return page.render(
        "new_order.html",
        sites=page.site_options(),
        site=site or "",
        assets=sorted(records, key=lambda r: (r.site, present.natural(r.asset))),
        faults=sorted(key.removeprefix("fault.") for key in page.t.prefixed("fault.")),
        priorities=present.PRIORITIES,
        channels=CHANNELS,
        skills=SKILLS,
    )


@router.get("/work-orders/{order_id}", response_class=HTMLResponse)
def order_page(order_id: int, page: PageDep) -> HTMLResponse:
    """Everything a technician on the job needs: what, where, the clock, the steps, the record;
    and what this visitor may do to it (assign, note, tick, parts)."""
    service = page.service
    order = service.work_orders.get(order_id)
    if order is None:
        return page.not_found(page.t("missing.order", id=order_id))
    alarms = [a for a in (service.alarms.get(i) for i in order.alarm_ids) if a is not None]
    names = _names(page)
    working = order.status not in ("resolved", "closed", "cancelled")
    candidates = (
        service.work_orders.candidates(order.id) if working and page.may(order, Act.ASSIGN) else []
    )
    stock = (
        [
            (part, next(s for s in part.stock if s.site == order.site))
            for part in service.parts.catalogue(order.site)
            if any(s.site == order.site for s in part.stock)
        ]
        if order.status not in ("closed", "cancelled")
        and order.sign_off is None
        and page.may(order, Act.PARTS)
        else []
    )
    return page.render(
        "order.html",
        "_order.html",
        order=order,
        title=wording.order_title(order, page.t),
        reporter=wording.reporter_text(order.reporter or "", page.t),
        channel=wording.channel_name(order.channel or "", page.t),
        description=wording.order_description(order, page.t),
        clock=present.sla_clock(order, page.now),
        names=names,
        alarms=alarms,
        parts=service.parts.for_order(order.id),
        stock=stock,
        candidates=candidates,
        lines=[
            wording.timeline_line(order, e, names, page.t, page.span, page.service.alarms.rule)
            for e in reversed(order.timeline)
        ],
        steps_text={item.id: wording.step_text(order, item, page.lang) for item in order.checklist},
        may_note=page.may(order, Act.NOTE) and order.sign_off is None,
        may_tick=page.may(order, Act.CHECKLIST)
        and order.status not in ("closed", "cancelled")
        and order.sign_off is None,
        sign_off_required=needs_sign_off(order.kind, order.skill),
        contractor=service.work_orders.contractors.get(order.contractor_id)
        if order.contractor_id
        else None,
        contractor_choices=_contractor_choices(page, order) if working else [],
        playbook_contacts=_contacts(order, page.lang),
        requests=service.residents.for_order(order.id) if order.source == "resident" else [],
        see_photos=page.user.role >= Role.TECHNICIAN,  # the photo route's own floor
        see_requests=page.user.role >= Role.PLANNER,  # the queue is the dispatcher's
    )


def _contractor_choices(page: Page, order: WorkOrder) -> list[Contractor]:
    """The contractors a planner may send this lift order to: those whose contract covers its
    site and kind (one out of force is listed too: the refusal then says why)."""
    kind = order.kind or order.skill
    if kind != "elevator" or not page.may(order, Act.ASSIGN):
        return []
    known, _ = page.service.work_orders.contractors.listing(order.site, limit=1000)
    return [c for c in known if c.covers(order.site, kind)]


def _contacts(order: WorkOrder, lang: str) -> list[str]:
    playbook = builtin().get(order.fault or "")
    if playbook is None:
        return []
    return playbook.contacts_zh if lang == "zh" else playbook.contacts


REVIEW_KEYS = {
    "assigned": "to_assign",
    "acknowledged": "to_acknowledge",
    "arrived": "to_arrive",
    "released": "to_release",
    "restored": "to_restore",
    "resolved": "to_resolve",
}
"""Which duration (from the alarm, or the order's creation) belongs to which key time."""


@router.get("/work-orders/{order_id}/review", response_class=HTMLResponse)
def review_page(order_id: int, page: PageDep) -> HTMLResponse:
    """The incident review (复盘) in the visitor's language and the site's local time: the key
    times in the order they happened, the targets, the cause and the action taken, the record;
    printable (the page's chrome is not printed)."""
    order = page.service.work_orders.get(order_id)
    if order is None:
        return page.not_found(page.t("missing.order", id=order_id))
    try:
        review = page.service.reviews.review(order_id)
    except MaintenanceError:  # not finished yet: the service's reason, in the visitor's words
        status = page.t(f"wo_status.{order.status}")
        message = page.t("review.unfinished", number=order.number, status=status)
        return page.render("missing.html", status_code=409, message=message)
    return page.render("review.html", **review_context(page, order, review), suffix="")


def bilingual_review(pages: Sequence[Page], order: WorkOrder, review: dict[str, Any]) -> str:
    """The printable review (``/api/v1/work-orders/{id}/review.html``): the console's review
    once per language of ``pages`` (Chinese, then English), with the same data and wording, so
    a printed 复盘 reads the same as the screen and an English reader has their own half."""
    halves = [
        Markup(
            each.html("_review.html", **review_context(each, order, review), suffix=f"-{each.lang}")
        )
        for each in pages
    ]
    first = pages[0]
    return first.html(
        "review_print.html",
        order=order,
        halves=list(zip((p.lang for p in pages), halves, strict=True)),
        langs=i18n.HTML_LANG,
    )


def review_context(page: Page, order: WorkOrder, review: dict[str, Any]) -> dict[str, Any]:
    """What ``_review.html`` shows, worded in ``page``'s language: the key times in the order
    they happened (with the time since the alarm), the timeline lines, the steps, the playbook,
    and the readings around the event as first and last value with the metric's unit."""
    times = sorted(
        (
            (name, datetime.fromisoformat(at), review["durations_s"].get(REVIEW_KEYS.get(name, "")))
            for name, at in review["key_times"].items()
            if at
        ),
        key=lambda row: row[1],
    )
    names = _names(page)
    kind = _asset_kind(page, order)
    readings = [
        (
            page.t.get(f"metric.{metric}") or metric,
            len(points),
            [
                (
                    datetime.fromisoformat(p["ts"]),
                    present.value_text(kind, metric, p["value"], page.t.get),
                )
                for p in (points[0], points[-1])
            ]
            if points
            else [],
        )
        for metric, points in review["readings"].items()
    ]
    return {
        "order": order,
        "review": review,
        "times": times,
        "title": wording.order_title(order, page.t),
        "steps_text": {
            item.id: wording.step_text(order, item, page.lang) for item in order.checklist
        },
        "lines": [
            wording.timeline_line(order, e, names, page.t, page.span, page.service.alarms.rule)
            for e in order.timeline
        ],
        "playbook": _playbook_title(order, page.lang),
        "readings": readings,
    }


def _asset_kind(page: Page, order: WorkOrder) -> str:
    """The asset's kind (water, elevator...): what a metric's unit and states depend on."""
    record = page.service.assets.get(order.site, order.asset) if order.asset else None
    return record.kind if record is not None else order.kind or ""


def _playbook_title(order: WorkOrder, lang: str) -> str | None:
    playbook = builtin().get(order.fault or "")
    if playbook is None:
        return None
    return playbook.title_zh if lang == "zh" else playbook.title
