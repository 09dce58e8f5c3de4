"""One asset: its latest readings, a chart of each metric with its alarm episodes, its orders.

The charts are drawn in the browser (uPlot) from the JSON API (``/api/v1/assets/.../telemetry``
and ``/api/v1/alarms``): the page only says which metrics to draw and in which time zone.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from facility_dispatch.api.asset_views import AssetViews
from facility_dispatch.api.dashboard import present
from facility_dispatch.api.dashboard.i18n import Translator
from facility_dispatch.api.dashboard.pages import PageDep
from facility_dispatch.ingest.catalogue import CATALOGUE, spec_for
from facility_dispatch.maintenance import lifecycle

router = APIRouter(include_in_schema=False)
RANGES = ("1h", "6h", "24h", "7d", "30d")


def chart_metrics(kind: str, latest: dict[str, Any], t: Translator) -> list[dict[str, Any]]:
    """Numbers and booleans can be drawn (booleans as steps); text such as a door state can't.
    The catalogue's metrics come first, in its order, then any others the device reports."""
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
            "metrics": chart_metrics(record.kind, latest, page.t),
            "range": "24h",
        },
        ranges=RANGES,
        durations=("30m", "1h", "2h", "4h", "8h", "1d"),
    )
