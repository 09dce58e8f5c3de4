"""The register, the maintenance record and the compliance list in the console (issue 19).

The register's edit form, the import screen and the compliance forms post to the JSON API
(``records.js``); the record page is the CSV's orders as a printable A4 page, worded in the
visitor's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from facility_dispatch.api.dashboard import wording
from facility_dispatch.api.dashboard.pages import Page, PageDep
from facility_dispatch.api.routers.assets import record_orders
from facility_dispatch.ingest import register
from facility_dispatch.maintenance import records
from facility_dispatch.maintenance.orders import WorkOrder

router = APIRouter(include_in_schema=False)
STAGES = ("overdue", "due_soon", "ok")


def _day(text: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(text) if text else fallback
    except ValueError:
        return fallback


@router.get("/compliance", response_class=HTMLResponse)
def compliance_page(
    page: PageDep, site: str | None = None, stage: str | None = None
) -> HTMLResponse:
    standings = page.service.compliance.standings(site or None)
    shown = [s for s in standings if not stage or s.stage == stage]
    counts = {name: sum(1 for s in standings if s.stage == name) for name in STAGES}
    return page.render(
        "compliance.html",
        site=site or "",
        stage=stage or "",
        stages=STAGES,
        standings=shown,
        counts=counts,
        lead_days=page.service.compliance.lead_days,
        today=page.now.astimezone(page.zone(site)).date(),
    )


@router.get("/assets/import", response_class=HTMLResponse)
def import_page(page: PageDep) -> HTMLResponse:
    return page.render("register_import.html", columns=register.COLUMNS, max_rows=register.MAX_ROWS)


@router.get("/assets/{site}/{asset}/records", response_class=HTMLResponse)
def records_page(
    site: str, asset: str, page: PageDep, start: str | None = None, end: str | None = None
) -> HTMLResponse:
    record = page.service.assets.get(site, asset)
    if record is None:
        return page.not_found(page.t("missing.asset", site=site, asset=asset))
    today = page.now.astimezone(page.zone(site)).date()
    until = _day(end, today)
    since = _day(start, until - timedelta(days=90))
    error = None
    orders: list[WorkOrder] = []
    try:
        orders = record_orders(page.service, site, asset, since, until)
    except HTTPException:  # the API's reasons are English: the page says it in its own words
        error = page.t("records.backwards" if until < since else "records.refused")
    technicians, _ = page.service.people.technicians()
    names = {t.id: t.name for t in technicians}
    return page.render(
        "records.html",
        record=record,
        start=since,
        end=until,
        entries=[entry(page, order, names) for order in orders],
        error=error,
    )


@dataclass(frozen=True, slots=True)
class Entry:
    """One order as the record page shows it, worded in the visitor's language: the CSV keeps
    the service's own text (codes, ISO times, English notes) for inspectors' tools."""

    order: WorkOrder
    title: str
    times: list[tuple[str, datetime | None]]
    technicians: str
    items: list[str]
    result: list[tuple[str, str]]
    parts: str
    timeline: list[tuple[datetime, wording.Line, str]]


def entry(page: Page, order: WorkOrder, names: Mapping[int, str]) -> Entry:
    """One order of the record in ``page``'s language: its title, the playbook's steps and
    their results by name, cause and action under their headings, each timeline entry worded
    (:func:`wording.timeline_line`) with the actor's name; what people typed as they typed it."""
    t = page.t
    items = []
    for item in order.checklist:
        outcome = t(f"result.{item.result}") if item.result else t("records.result.open")
        if item.value is not None:
            outcome += f" {wording.value_text(item.value, t)}"
        text = f"{wording.step_text(order, item, page.lang)}: {outcome}"
        items.append(text + (f" ({item.note})" if item.note else ""))
    resolved = [e for e in order.timeline if e.event == "transition" and e.to == "resolved"]
    found = resolved[-1].data if resolved else {}
    parts = page.service.parts.for_order(order.id)
    return Entry(
        order=order,
        title=wording.order_title(order, t),
        times=[
            ("created_at", order.created_at),
            ("acknowledged_at", order.responded_at),
            ("arrived_at", records.arrived_at(order)),
            ("resolved_at", order.resolved_at),
            ("closed_at", order.closed_at),
        ],
        technicians=t("tl.list_sep").join(names.get(i, f"#{i}") for i in order.assignees),
        items=items,
        result=[(t(f"wo.{key}"), str(found[key])) for key in ("cause", "action") if found.get(key)],
        parts=t("tl.list_sep").join(
            f"{p.sku} {p.name} x {p.consumed:g} {wording.part_unit(p.unit, t)}"
            for p in parts
            if p.consumed
        ),
        timeline=[
            (
                e.at,
                wording.timeline_line(order, e, names, t, page.span, page.service.alarms.rule),
                page.actor_name(e.actor),
            )
            for e in order.timeline
        ],
    )
