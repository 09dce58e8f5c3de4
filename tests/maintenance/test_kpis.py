"""KPIs from order facts: each figure against a hand count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from facility_dispatch.maintenance.kpis import OrderFacts, compute

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
H = timedelta(hours=1)


def order(
    n: int,
    *,
    asset: str = "a",
    source: str = "alarm",
    priority: str = "P2",
    status: str = "closed",
    created: timedelta = timedelta(days=1),
    responded: timedelta | None = 0.5 * H,
    resolved: timedelta | None = 3 * H,
    due: datetime | None = None,
    resolve_by: timedelta = 24 * H,
) -> OrderFacts:
    at = START + created
    return OrderFacts(
        n,
        asset,
        source,
        priority,
        status,
        at,
        at + H,
        at + resolve_by,
        at + responded if responded is not None else None,
        at + resolved if resolved is not None else None,
        at + resolved if resolved is not None and status == "closed" else None,
        due,
    )


def test_mtta_mttr_sla_and_mtbf() -> None:
    orders = [
        order(1, asset="lift-1"),
        order(2, asset="lift-1", responded=2 * H, resolved=30 * H),  # both deadlines missed
        order(3, asset="pump-1", source="manual", responded=H, resolved=5 * H),
        order(
            4,
            status="in_progress",
            responded=0.25 * H,
            resolved=None,
            created=timedelta(days=29, hours=23),
        ),
        order(5, created=timedelta(days=40)),  # after the period
    ]
    report = compute(orders, [], asset_count=10, start=START, end=END, now=END)
    assert report["orders"] == 4
    assert report["mtta_s"] == (0.5 + 2 + 1 + 0.25) / 4 * 3600
    assert report["mttr_s"] == (3 + 30 + 5) / 3 * 3600  # order 4 is not resolved
    p2 = report["sla"]["P2"]
    assert (p2["response_kept"], p2["response_missed"]) == (3, 1)
    assert (p2["resolution_kept"], p2["resolution_missed"]) == (2, 1)  # order 4 not yet due
    assert report["failures"] == 3  # alarm orders: 1, 2, 4
    assert report["mtbf_s"] == round(10 * 30 * 86400 / 3, 1)
    assert report["most_failing"][0] == {
        "site": "",
        "asset": "lift-1",
        "failures": 2,
        "mtbf_s": 30 * 86400 / 2,
    }
    assert report["backlog"]["P2"]["under_1d"] == 1


def test_mtbf_counts_only_the_time_the_assets_were_watched() -> None:
    """Two minutes after the first reading, two failures are not 15 days apart."""
    now = START + timedelta(days=30)
    first_seen = now - timedelta(minutes=2)
    orders = [order(1, asset="lift-1", created=timedelta(days=30) - timedelta(minutes=1))]
    report = compute(orders, [], 1, START, END, now, observed_from=first_seen)
    assert report["observed_s"] == 120
    assert report["mtbf_s"] == 120
    # the end of the period in the future counts only until now
    report = compute(orders, [], 1, START, END + timedelta(days=5), now)
    assert report["observed_s"] == 30 * 86400


def test_pm_compliance_counts_skips_as_not_done() -> None:
    due = START + timedelta(days=5)
    orders = [
        order(1, source="preventive", due=due, resolved=20 * H),  # within its window
        order(2, source="preventive", due=due, resolved=60 * H),  # late
        order(3, source="preventive", status="assigned", due=due, responded=None, resolved=None),
    ]
    report = compute(orders, [due], asset_count=1, start=START, end=END, now=END)
    assert report["pm_compliance"] == {
        "due": 4,
        "done_on_time": 1,
        "late_or_not_done": 2,
        "skipped": 1,
        "rate": 0.25,
    }
