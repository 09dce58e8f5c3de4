"""The company roll-up: every estate's figures side by side, for a property group's office.

:func:`summarize` is pure (plain rows in, one :class:`EstateFigures` per site out), tested
without a database; :func:`gather` reads the rows from the service, narrowed to the sites the
caller may see, for the API's ``GET /api/v1/estates`` and the console's ``/estates`` page,
which so show the same numbers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from facility_dispatch.api.asset_views import AssetViews
from facility_dispatch.api.backend import Backend
from facility_dispatch.maintenance import kpis
from facility_dispatch.maintenance.kpis import OrderFacts
from facility_dispatch.maintenance.lifecycle import ACTIVE

STATUSES = ("ok", "alarm", "offline", "maintenance")
SEVERITIES = ("critical", "major", "minor", "warning")
PRIORITIES = ("P1", "P2", "P3", "P4")
OPEN = sorted(s.value for s in ACTIVE)


@dataclass(frozen=True, slots=True)
class EstateFigures:
    """One site at a glance. ``sla_rate``: the share of the period's orders resolved within
    their SLA (kept / (kept + missed), as the KPIs count it); None when none was due yet."""

    site: str
    name: str
    assets: dict[str, int] = field(default_factory=dict)
    firing: dict[str, int] = field(default_factory=dict)
    open_orders: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    sla_rate: float | None = None
    sla_judged: int = 0

    @property
    def attention(self) -> int:
        """How urgently the office should look: critical alarms, then overdue orders, then P1
        orders, then any firing alarm."""
        return (
            self.firing.get("critical", 0) * 1_000_000
            + min(self.overdue, 99) * 10_000
            + min(self.open_orders.get("P1", 0), 99) * 100
            + min(sum(self.firing.values()), 99)
        )


def summarize(
    names: Mapping[str, str],
    asset_statuses: Iterable[tuple[str, str]],
    firing: Iterable[tuple[str, str]],
    open_orders: Iterable[tuple[str, str, bool]],
    facts: Iterable[OrderFacts],
    start: datetime,
    now: datetime,
) -> list[EstateFigures]:
    """``names``: site -> its display name (the sites on record); ``asset_statuses``: (site,
    status) per asset; ``firing``: (site, severity) per firing alarm; ``open_orders``: (site,
    priority, breached) per open order; ``facts``: the orders for the SLA share of [start,
    now). A site with assets or orders but no record is listed under its own name. Sorted
    by :attr:`EstateFigures.attention`, then by name."""
    assets: defaultdict[str, Counter[str]] = defaultdict(Counter)
    alarms: defaultdict[str, Counter[str]] = defaultdict(Counter)
    orders: defaultdict[str, Counter[str]] = defaultdict(Counter)
    overdue: Counter[str] = Counter()
    by_site: defaultdict[str, list[OrderFacts]] = defaultdict(list)
    for site, status in asset_statuses:
        assets[site][status] += 1
    for site, severity in firing:
        alarms[site][severity] += 1
    for site, priority, breached in open_orders:
        orders[site][priority] += 1
        overdue[site] += breached
    for fact in facts:
        by_site[fact.site].append(fact)
    sites = set(names) | set(assets) | set(alarms) | set(orders) | set(by_site)
    figures = []
    for site in sites:
        kept, missed = _resolution(by_site.get(site, []), start, now)
        figures.append(
            EstateFigures(
                site=site,
                name=names.get(site) or site,
                assets={s: assets[site][s] for s in STATUSES},
                firing={s: alarms[site][s] for s in SEVERITIES},
                open_orders={p: orders[site][p] for p in PRIORITIES},
                overdue=overdue[site],
                sla_rate=kept / (kept + missed) if kept + missed else None,
                sla_judged=kept + missed,
            )
        )
    return sorted(figures, key=lambda f: (-f.attention, f.name, f.site))


def _resolution(facts: list[OrderFacts], start: datetime, now: datetime) -> tuple[int, int]:
    """Resolution SLAs kept and missed, counted as the KPI report counts them."""
    if not facts:
        return 0, 0
    sla = kpis.compute(facts, [], 0, start, now, now)["sla"]
    kept = sum(int(sla[p]["resolution_kept"]) for p in sla)
    missed = sum(int(sla[p]["resolution_missed"]) for p in sla)
    return kept, missed


def gather(service: Backend, sees: Callable[[str], bool], days: int = 30) -> list[EstateFigures]:
    """The figures of every site ``sees`` admits, read from the service now."""
    now = service.clock.now()
    start = now - timedelta(days=days)
    names = {s.site: s.name for s in service.people.sites() if sees(s.site)}
    records, _ = service.assets.query()
    views = AssetViews.of(service).views([r for r in records if sees(r.site)])
    firing, _ = service.alarms.query(state="firing", limit=1_000_000)
    active, _ = service.work_orders.query(status=OPEN, limit=1_000_000)
    return summarize(
        names,
        [(str(v["site"]), str(v["status"])) for v in views],
        [(a.site, a.severity) for a in firing if sees(a.site)],
        [(o.site, o.priority, o.breached) for o in active if sees(o.site)],
        [f for f in service.work_orders.facts(None, now) if sees(f.site) and f.created_at >= start],
        start,
        now,
    )
