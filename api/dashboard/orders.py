"""The work-order board (a column per status) and one order with its timeline."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from facility_dispatch.api.dashboard import present
from facility_dispatch.api.dashboard.pages import PageDep

router = APIRouter(include_in_schema=False)
Priority = Literal["P1", "P2", "P3", "P4"]


def _names(page: PageDep) -> dict[int, str]:
    technicians, _ = page.service.people.technicians()
    return {t.id: t.name for t in technicians}


@router.get("/work-orders", response_class=HTMLResponse)
def board(
    page: PageDep,
    site: str | None = None,
    priority: Priority | None = None,
    mine: bool = False,
) -> HTMLResponse:
    """Open work by status, the most urgent first; ``mine``: a technician's own orders."""
    service = page.service
    assignee = page.user.technician_id if mine else None
    if mine and assignee is None:
        assignee = -1  # a token that is nobody's technician has no orders of its own
    orders, _ = service.work_orders.query(
        status=list(present.BOARD_COLUMNS),
        site=site or None,
        priority=priority,
        assignee=assignee,
        limit=1000,
    )
    finished, _ = service.work_orders.query(
        status=list(present.FINISHED), site=site or None, priority=priority, limit=20
    )
    return page.render(
        "board.html",
        "_board.html",
        columns=present.by_status(orders),
        finished=finished,
        names=_names(page),
        clocks={o.id: present.sla_clock(o, page.now) for o in orders},
        site=site or "",
        priority=priority or "",
        priorities=present.PRIORITIES,
        mine=mine,
        is_technician=page.user.technician_id is not None,
    )


@router.get("/work-orders/{order_id}", response_class=HTMLResponse)
def order_page(order_id: int, page: PageDep) -> HTMLResponse:
    """Everything a technician on the job needs: what, where, the clock, the steps, the record."""
    service = page.service
    order = service.work_orders.get(order_id)
    if order is None:
        return page.not_found(page.t("missing.order", id=order_id))
    alarms = [a for a in (service.alarms.get(i) for i in order.alarm_ids) if a is not None]
    return page.render(
        "order.html",
        "_order.html",
        order=order,
        clock=present.sla_clock(order, page.now),
        names=_names(page),
        alarms=alarms,
        parts=service.parts.for_order(order.id),
    )
