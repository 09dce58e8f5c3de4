"""The estate overview (every asset a tile coloured by status) and the live alarm list."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from facility_dispatch.api.asset_views import AssetViews
from facility_dispatch.api.dashboard import present
from facility_dispatch.api.dashboard.pages import PageDep
from facility_dispatch.maintenance import lifecycle

router = APIRouter(include_in_schema=False)
Kind = Literal["elevator", "water", "power", "cctv"]
Severity = Literal["critical", "major", "minor", "warning"]
ACTIVE = sorted(s.value for s in lifecycle.ACTIVE)


@router.get("/", response_class=HTMLResponse)
def overview(
    page: PageDep, site: str | None = None, kind: str = "", status: str = ""
) -> HTMLResponse:
    """Sites by kinds; each tile shows the asset's status and its headline readings. A filter
    left at "all" arrives empty (and an unknown one is ignored). Each counter links to the list
    of what it counts: the status counters to these tiles of that ``status`` only, the order
    counters to the work-order list with the filter that counts the same orders."""
    service = page.service
    kind = present.choice(kind, present.KINDS)
    status = present.choice(status, present.STATUSES)
    records, _ = service.assets.query(site or None, kind or None)
    views = AssetViews.of(service).views(records)
    open_alarms = service.alarms.open_states_by_asset()
    estate: dict[str, dict[str, list[dict[str, object]]]] = {}
    for view in views:
        if status and view["status"] != status:
            continue
        key = (view["site"], view["asset"])
        tile = {
            **view,
            "headline": present.headline(view, page.t.get),
            "alarms": [a for a in open_alarms.get(key, []) if a.state == "firing"],
        }
        estate.setdefault(view["site"], {}).setdefault(view["kind"], []).append(tile)
    for by_kind in estate.values():  # cam-2 before cam-10
        for tiles in by_kind.values():
            tiles.sort(key=lambda tile: present.natural(str(tile["asset"])))
    statuses = Counter(view["status"] for view in views)
    site = site or None
    active, open_orders = service.work_orders.query(status=ACTIVE, site=site, limit=1000)
    clocks = {o.id: present.sla_clock(o, page.now) for o in active}
    attention = present.needing_people(active, clocks, page.now)
    # counted with the tests the work-order list filters with (overdue, unacknowledged)
    breached = sum(1 for o in active if present.overdue(o, clocks[o.id]))
    unacknowledged = sum(1 for o in active if present.unacknowledged(o, clocks[o.id], page.now))
    return page.render(
        "overview.html",
        "_overview.html",
        estate=estate,
        kinds=present.KINDS,
        statuses={s: statuses.get(s, 0) for s in present.STATUSES},
        firing=service.alarms.query(state="firing", site=site, limit=1)[1],
        status=status,
        status_links={s: _overview_link(site, kind, s) for s in ("", *present.STATUSES)},
        open_orders=open_orders,
        breached=breached,
        attention=attention,
        clocks=clocks,
        unacknowledged=unacknowledged,
        notices=service.notices.query(site, page.now),
        site=site or "",
        kind=kind,
    )


def _overview_link(site: str | None, kind: str, status: str) -> str:
    """The overview with these filters (those left at "all" left out)."""
    query = urlencode({k: v for k, v in (("site", site), ("kind", kind), ("status", status)) if v})
    return f"/?{query}" if query else "/"


@router.get("/alarms", response_class=HTMLResponse)
def alarms(
    page: PageDep,
    view: Literal["open", "firing", "resolved", "all"] = "open",
    site: str | None = None,
    severity: str = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 300,
) -> HTMLResponse:
    """Open alarms worst first (firing, severity, newest), or the firing ones only (what the
    overview's counter counts); resolved or all newest first."""
    service = page.service
    severity = present.choice(severity, present.SEVERITIES)
    states = {
        "open": ("pending", "firing"),
        "firing": ("firing",),
        "resolved": ("resolved",),
        "all": None,
    }[view]
    records, total = service.alarms.query(
        states=states, site=site or None, severity=severity or None, limit=limit
    )
    if view in ("open", "firing"):
        records = present.alarm_order(records)
    orders, _ = service.work_orders.query(site=site or None, limit=1000)
    open_now, _ = service.alarms.query(states=("pending", "firing"), site=site or None, limit=5000)
    counts = Counter(a.severity for a in open_now)
    silences, _ = service.alarms.silences().query(site or None, page.now, 200, 0)
    return page.render(
        "alarms.html",
        "_alarms.html",
        alarms=records,
        total=total,
        numbers={o.id: o.number for o in orders},
        counts={s: counts.get(s, 0) for s in present.SEVERITIES},
        view=view,
        site=site or "",
        severity=severity,
        severities=present.SEVERITIES,
        durations=("30m", "1h", "2h", "4h", "8h", "1d"),
        silences=sorted(silences, key=lambda s: (s.site, s.asset or "", s.fault or "")),
    )
