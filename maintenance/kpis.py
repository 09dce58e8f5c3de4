"""KPIs of a site over a period, computed from stored history. Pure: facts in, figures out.

* MTTA: mean time from an order's creation to its acknowledgement (the response).
* MTTR: mean time from creation to resolution, for corrective work (alarms and requests).
* SLA compliance by priority: response and resolution deadlines kept; an order still open
  past its deadline counts as missed, one not yet due is not counted.
* PM compliance: preventive occurrences due in the period done by the end of their window;
  an occurrence skipped because the previous one was still open counts as not done.
* Backlog: orders open at the end of the period, by priority and age.
* MTBF: asset-time over failures (orders opened by alarms), and the assets failing most.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import mean
from typing import Any

from facility_dispatch.maintenance.sla import PRIORITIES

AGES = (
    ("under_1d", timedelta(days=1)),
    ("1d_to_3d", timedelta(days=3)),
    ("3d_to_7d", timedelta(days=7)),
    ("over_7d", timedelta.max),
)


@dataclass(frozen=True, slots=True)
class OrderFacts:
    id: int
    asset: str | None
    source: str
    priority: str
    status: str
    created_at: datetime
    respond_by: datetime
    resolve_by: datetime
    responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    due_at: datetime | None
    site: str = ""


def _seconds(values: Iterable[timedelta]) -> float | None:
    seconds = [v.total_seconds() for v in values]
    return round(mean(seconds), 1) if seconds else None


def _rate(kept: int, missed: int) -> float | None:
    return round(kept / (kept + missed), 4) if kept + missed else None


def compute(
    orders: list[OrderFacts],
    skipped_due: list[datetime],
    asset_count: int,
    start: datetime,
    end: datetime,
    now: datetime,
    observed_from: datetime | None = None,
) -> dict[str, Any]:
    """``observed_from``: when the assets were first seen. MTBF counts asset-time only while
    the assets were watched (two minutes after the first reading is not 30 days of uptime)."""
    judged_at = min(end, now)
    created = [o for o in orders if start <= o.created_at < end]
    corrective = [o for o in created if o.source in ("alarm", "manual")]

    mtta = _seconds(o.responded_at - o.created_at for o in created if o.responded_at)
    mttr = _seconds(o.resolved_at - o.created_at for o in corrective if o.resolved_at)

    sla: dict[str, dict[str, Any]] = {}
    for priority in PRIORITIES:
        subset = [o for o in created if o.priority == priority]
        counts: Counter[str] = Counter()
        for order in subset:
            for kind, done, due in (
                ("response", order.responded_at, order.respond_by),
                ("resolution", order.resolved_at, order.resolve_by),
            ):
                if done is not None and done <= min(due, judged_at):
                    counts[f"{kind}_kept"] += 1
                elif (done is not None and done > due) or (done is None and judged_at > due):
                    counts[f"{kind}_missed"] += 1
        sla[priority] = {
            "orders": len(subset),
            "response_kept": counts["response_kept"],
            "response_missed": counts["response_missed"],
            "response_rate": _rate(counts["response_kept"], counts["response_missed"]),
            "resolution_kept": counts["resolution_kept"],
            "resolution_missed": counts["resolution_missed"],
            "resolution_rate": _rate(counts["resolution_kept"], counts["resolution_missed"]),
        }

    preventive = [
        o for o in orders if o.source == "preventive" and o.due_at and start <= o.due_at < end
    ]
    on_time = sum(
        1 for o in preventive if o.resolved_at is not None and o.resolved_at <= o.resolve_by
    )
    late = sum(
        1
        for o in preventive
        if (o.resolved_at is not None and o.resolved_at > o.resolve_by)
        or (o.resolved_at is None and judged_at > o.resolve_by)
    )
    skipped = sum(1 for due in skipped_due if start <= due < end)
    pm = {
        "due": len(preventive) + skipped,
        "done_on_time": on_time,
        "late_or_not_done": late,
        "skipped": skipped,
        "rate": _rate(on_time, late + skipped),
    }

    backlog: dict[str, dict[str, int]] = {p: {age: 0 for age, _ in AGES} for p in PRIORITIES}
    for order in orders:
        finished_by_end = (
            order.closed_at and order.closed_at <= end
        ) or order.status == "cancelled"
        if order.created_at >= end or finished_by_end or order.status in ("closed", "cancelled"):
            continue
        if order.resolved_at is not None and order.resolved_at <= end:
            continue
        age = judged_at - order.created_at
        bucket = next(name for name, limit in AGES if age < limit)
        backlog[order.priority][bucket] += 1

    failures = Counter((o.site, o.asset) for o in created if o.source == "alarm" and o.asset)
    watched_from = max(start, observed_from) if observed_from else start
    period_s = max((judged_at - watched_from).total_seconds(), 0.0)
    total_failures = sum(failures.values())
    mtbf = round(asset_count * period_s / total_failures, 1) if total_failures else None
    return {
        "start": start,
        "end": end,
        "orders": len(created),
        "mtta_s": mtta,
        "mttr_s": mttr,
        "sla": sla,
        "pm_compliance": pm,
        "backlog": backlog,
        "mtbf_s": mtbf,
        "failures": total_failures,
        "observed_s": round(period_s, 1),
        "most_failing": [
            {"site": site, "asset": asset, "failures": count, "mtbf_s": round(period_s / count, 1)}
            for (site, asset), count in failures.most_common(10)
        ],
    }
