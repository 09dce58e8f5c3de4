"""One asset: its latest readings, a chart of each metric with its alarm episodes, its orders.

The charts are drawn in the browser (uPlot) from the JSON API (``/api/v1/assets/.../telemetry``
and ``/api/v1/alarms``): the page only says which metrics to draw and in which time zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from facility_dispatch.api.asset_views import AssetViews
from facility_dispatch.api.dashboard import present
from facility_dispatch.api.dashboard.i18n import Translator
from facility_dispatch.api.dashboard.limits import limits
from facility_dispatch.api.dashboard.pages import PageDep, aware
from facility_dispatch.ingest.catalogue import CATALOGUE, spec_for
from facility_dispatch.kernel.clock import to_ms
from facility_dispatch.maintenance import lifecycle

router = APIRouter(include_in_schema=False)
RANGES = ("1h", "6h", "24h", "7d", "30d")
SPANS: Final = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(days=1)}


def first_range(first_seen: datetime | None, now: datetime) -> str:
    """The range a chart opens on: the shortest that holds everything since the asset was
    first seen (a fresh asset's half hour is not one dot in 24 hours), at most a day."""
    if first_seen is None:
        return "1h"
    age = now - aware(first_seen)
    return next((name for name, span in SPANS.items() if age <= span), "24h")


def chart_metrics(
    kind: str,
    latest: dict[str, Any],
    t: Translator,
    lines: dict[str, list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """Numbers and booleans can be drawn (booleans as steps, labelled with the states they
    mean: wet / dry); text such as a door state can't. Each with the rules' limits to draw.
    The catalogue's metrics come first, in its order, then any others the device reports."""
    lines = lines or {}
    names = [m for m in CATALOGUE.get(kind, {}) if m in latest]
    names += sorted(m for m in latest if m not in names)
    drawn = []
    for name in names:
        value = latest[name]
        if isinstance(value, str):
            continue
        spec = spec_for(kind, name)
        drawn.append(
            {
                "name": name,
                "label": t.get(f"metric.{name}") or name,
                "unit": spec.unit if spec else "",
                "step": isinstance(value, bool),
                "states": [
                    present.value_text(kind, name, False, t.get),
                    present.value_text(kind, name, True, t.get),
                ],
                "limits": lines.get(name, []),
            }
        )
    return drawn


@router.get("/assets/{site}/{asset}", response_class=HTMLResponse)
def asset_page(site: str, asset: str, page: PageDep) -> HTMLResponse:
    service = page.service
    record = service.assets.get(site, asset)
    if record is None:
        return page.not_found(page.t("missing.asset", site=site, asset=asset))
    view = AssetViews.of(service).view(record)
    latest: dict[str, Any] = view["metrics"] or {}
    open_alarms, _ = service.alarms.query(site=site, asset=asset, states=("pending", "firing"))
    past_alarms, _ = service.alarms.query(site=site, asset=asset, state="resolved", limit=20)
    open_orders, _ = service.work_orders.query(
        site=site, asset=asset, status=sorted(s.value for s in lifecycle.ACTIVE), limit=100
    )
    past_orders, _ = service.work_orders.query(
        site=site, asset=asset, status=list(present.FINISHED), limit=20
    )
    names = {t.id: t.name for t in service.people.technicians()[0]}
    known = service.people.site(site)
    params = known.parameters if known is not None else None
    lines = limits(service.alarms.rules(), record.kind, site, params)
    return page.render(
        "asset.html",
        "_asset.html",
        view=view,
        readings=[
            (name, present.value_text(record.kind, name, value, page.t.get))
            for name, value in sorted(latest.items())
        ],
        open_alarms=present.alarm_order(open_alarms),
        past_alarms=past_alarms,
        open_orders=open_orders,
        past_orders=past_orders,
        names=names,
        numbers={o.id: o.number for o in (*open_orders, *past_orders)},
        chart={
            "site": site,
            "asset": asset,
            "zone": page.zone(site).key,
            "time_label": page.t("asset.chart_time"),  # the legend's first column (uPlot: Time)
            "metrics": chart_metrics(record.kind, latest, page.t, lines),
            "range": first_range(record.first_seen, page.now),
            "since": to_ms(record.first_seen) if record.first_seen else None,
        },
        ranges=RANGES,
        durations=("30m", "1h", "2h", "4h", "8h", "1d"),
    )
