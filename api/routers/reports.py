"""KPIs of a site and period, and the incident review of a finished order (JSON and print)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from facility_dispatch.api.dashboard import i18n, orders
from facility_dispatch.api.dashboard.pages import page_in
from facility_dispatch.api.deps import ServiceDep, Viewer
from facility_dispatch.api.errors import raise_for
from facility_dispatch.api.pagination import Id
from facility_dispatch.api.types import SiteQuery, UtcDateTime
from facility_dispatch.maintenance import kpis
from facility_dispatch.maintenance.errors import MaintenanceError

router = APIRouter(prefix="/api/v1", tags=["reports"])


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
def incident_review_page(
    order_id: Id, request: Request, service: ServiceDep, who: Viewer
) -> HTMLResponse:
    """The same review as a printable page, in Chinese then English: the console's review
    (local times of the site, worded events, cause and action) once per language."""
    order = service.work_orders.get(order_id)
    try:
        review = service.reviews.review(order_id)
    except MaintenanceError as error:
        raise_for(error)
    assert order is not None  # the review found it
    pages = [page_in(request, service, who, lang) for lang in i18n.LANGS]
    html = orders.bilingual_review(pages, order, review)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
