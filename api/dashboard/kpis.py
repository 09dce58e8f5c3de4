"""KPIs of a period: response and resolution times, SLA compliance, PM compliance, backlog."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from facility_dispatch.api.dashboard import present, rounds
from facility_dispatch.api.dashboard.pages import PageDep
from facility_dispatch.maintenance import kpis

router = APIRouter(include_in_schema=False)
AGES = tuple(name for name, _ in kpis.AGES)


def backlog_rows(backlog: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """One stacked bar per priority: its age buckets as shares of the largest backlog."""
    widest = max((sum(ages.values()) for ages in backlog.values()), default=0) or 1
    return [
        {
            "priority": priority,
            "total": sum(backlog.get(priority, {}).values()),
            "segments": [
                (age, count, 100 * count / widest)
                for age in AGES
                if (count := backlog.get(priority, {}).get(age, 0))
            ],
        }
        for priority in present.PRIORITIES
    ]


@router.get("/kpis", response_class=HTMLResponse)
def kpis_page(
    page: PageDep,
    site: str | None = None,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> HTMLResponse:
    """The same figures as ``GET /api/v1/kpis``, computed the same way, drawn as bars."""
    service = page.service
    end = page.now
    start = end - timedelta(days=days)
    assets, asset_count = service.assets.query(site or None)
    report = kpis.compute(
        service.work_orders.facts(site or None, end),
        service.planner.skipped_due(site or None),
        asset_count,
        start,
        end,
        page.now,
        observed_from=min((a.first_seen for a in assets if a.first_seen), default=None),
    )
    return page.render(
        "kpis.html",
        report=report,
        backlog=backlog_rows(report["backlog"]),
        ages=AGES,
        priorities=present.PRIORITIES,
        site=site or "",
        days=days,
        periods=(7, 30, 90),
        residents=service.residents.kpis(site or None, start, end),
        field=rounds.field_kpis(service, site or None, start, end),
    )
