"""The company roll-up's sums, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from facility_dispatch.api.rollup import summarize
from facility_dispatch.maintenance.kpis import OrderFacts

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
START = NOW - timedelta(days=30)


def fact(site: str, created_days_ago: float, resolved_after_h: float | None) -> OrderFacts:
    created = NOW - timedelta(days=created_days_ago)
    return OrderFacts(
        id=1,
        asset=None,
        source="manual",
        priority="P2",
        status="resolved" if resolved_after_h is not None else "open",
        created_at=created,
        respond_by=created + timedelta(hours=1),
        resolve_by=created + timedelta(hours=8),
        responded_at=None,
        resolved_at=created + timedelta(hours=resolved_after_h) if resolved_after_h else None,
        closed_at=None,
        due_at=None,
        site=site,
    )


def test_each_site_gets_its_own_counts_and_the_most_urgent_comes_first() -> None:
    figures = summarize(
        {"east": "East Garden", "quiet": "Quiet Court"},
        [("east", "ok"), ("east", "alarm"), ("west", "offline"), ("west", "ok")],
        [("west", "critical"), ("east", "minor"), ("east", "minor")],
        [("east", "P1", False), ("east", "P3", True), ("west", "P2", False)],
        [
            fact("east", 2, 4),  # kept
            fact("east", 3, 12),  # missed
            fact("east", 1, None),  # open, past due: missed
            fact("east", 40, 12),  # before the period: not counted
            fact("west", 0.1, None),  # open, not yet due: not judged
        ],
        START,
        NOW,
    )
    assert [f.site for f in figures] == ["west", "east", "quiet"]  # critical, overdue, nothing
    west, east, quiet = figures
    assert west.name == "west"  # no record: its own name
    assert west.assets == {"ok": 1, "alarm": 0, "offline": 1, "maintenance": 0}
    assert west.firing["critical"] == 1 and west.sla_rate is None and west.sla_judged == 0
    assert east.name == "East Garden"
    assert east.firing == {"critical": 0, "major": 0, "minor": 2, "warning": 0}
    assert east.open_orders == {"P1": 1, "P2": 0, "P3": 1, "P4": 0} and east.overdue == 1
    assert east.sla_judged == 3 and east.sla_rate == 1 / 3
    assert quiet.assets == dict.fromkeys(("ok", "alarm", "offline", "maintenance"), 0)
    assert quiet.overdue == 0 and quiet.sla_rate is None


def test_no_sites_no_figures() -> None:
    assert summarize({}, [], [], [], [], START, NOW) == []
