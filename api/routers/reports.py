"""KPIs of a site and period, and the incident review of a finished order (JSON and print)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from facility_dispatch.api.deps import ServiceDep, Viewer
from facility_dispatch.api.errors import raise_for
from facility_dispatch.api.pagination import Id
from facility_dispatch.api.types import SiteQuery, UtcDateTime
from facility_dispatch.maintenance import kpis
from facility_dispatch.maintenance.errors import MaintenanceError

router = APIRouter(prefix="/api/v1", tags=["reports"])
_pages = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
    autoescape=select_autoescape(),
)


@router.get("/kpis")
def kpi_report(
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    start: Annotated[UtcDateTime | None, Query(description="default: 30 days before end")] = None,
    end: Annotated[UtcDateTime | None, Query(description="default: now")] = None,
) -> dict[str, Any]:
    """MTTA and MTTR (seconds), SLA compliance by priority, PM compliance, backlog by priority
    and age, MTBF and the most failing assets, from the stored history; ``residents``:
    satisfaction, feedback rate, requests by category and building, repeats, first response."""
    now = service.clock.now()
    end = end or now
    start = start or end - timedelta(days=30)
    if start >= end:
        raise HTTPException(422, "start must be before end")
    assets, asset_count = service.assets.query(site)
    report = kpis.compute(
        service.work_orders.facts(site, end),
        service.planner.skipped_due(site),
        asset_count,
        start,
        end,
        now,
        observed_from=min((a.first_seen for a in assets if a.first_seen), default=None),
    )
    report["site"] = site
    report["assets"] = asset_count
    report["residents"] = service.residents.kpis(site, start, end)
    return report


@router.get("/work-orders/{order_id}/review")
def incident_review(order_id: Id, service: ServiceDep, _who: Viewer) -> dict[str, Any]:
    """What a post-incident review (复盘) needs: key times, durations against targets, the
    merged timeline of alarms, order and checklist, and the readings around the event."""
    try:
        return service.reviews.review(order_id)
    except MaintenanceError as error:
        raise_for(error)


@router.get("/work-orders/{order_id}/review.html", response_class=HTMLResponse)
def incident_review_page(order_id: Id, service: ServiceDep, _who: Viewer) -> HTMLResponse:
    """The same review as a printable page."""
    try:
        review = service.reviews.review(order_id)
    except MaintenanceError as error:
        raise_for(error)
    return HTMLResponse(_pages.get_template("review.html").render(review=review))
