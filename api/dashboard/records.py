"""The register, the maintenance record and the compliance list in the console (issue 19).

The register's edit form, the import screen and the compliance forms post to the JSON API
(``records.js``); the record page is the CSV's lines as a printable A4 page.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from facility_dispatch.api.dashboard.pages import PageDep
from facility_dispatch.api.routers.assets import record_lines
from facility_dispatch.ingest import register
from facility_dispatch.maintenance import records

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
    lines: list[records.RecordLine] = []
    try:
        lines = record_lines(page.service, site, asset, since, until)
    except HTTPException as refused:
        error = str(refused.detail)
    return page.render(
        "records.html",
        record=record,
        start=since,
        end=until,
        lines=lines,
        error=error,
        columns=records.COLUMNS,
    )
