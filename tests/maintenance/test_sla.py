"""Service-level deadlines and breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from facility_dispatch.maintenance import sla

T = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("priority", "respond", "resolve"),
    [
        ("P1", timedelta(minutes=15), timedelta(hours=4)),
        ("P2", timedelta(hours=1), timedelta(hours=24)),
        ("P3", timedelta(hours=4), timedelta(days=3)),
        ("P4", timedelta(days=1), timedelta(days=14)),
    ],
)
def test_spec_defaults(priority: str, respond: timedelta, resolve: timedelta) -> None:
    assert sla.deadlines(priority, T) == (T + respond, T + resolve)


def test_a_site_contract_overrides_a_priority() -> None:
    levels = {**sla.DEFAULT_LEVELS, "P1": sla.Level(timedelta(minutes=30), timedelta(hours=2))}
    assert sla.deadlines("P1", T, levels) == (T + timedelta(minutes=30), T + timedelta(hours=2))


def test_breaches_at_their_edges() -> None:
    respond_by, resolve_by = sla.deadlines("P1", T)
    assert sla.breaches("assigned", respond_by, resolve_by, respond_by) == []
    late = sla.breaches("assigned", respond_by, resolve_by, respond_by + timedelta(seconds=1))
    assert [(b.kind, b.late_by) for b in late] == [("response", timedelta(seconds=1))]
    assert (
        sla.breaches("acknowledged", respond_by, resolve_by, respond_by + timedelta(hours=1)) == []
    )
    both = sla.breaches("open", respond_by, resolve_by, resolve_by + timedelta(minutes=1))
    assert [b.kind for b in both] == ["response", "resolution"]
    assert (
        sla.breaches(
            "open",
            respond_by,
            resolve_by,
            resolve_by + timedelta(1),
            frozenset({"response", "resolution"}),
        )
        == []
    )
    assert sla.breaches("resolved", respond_by, resolve_by, resolve_by + timedelta(1)) == []
    assert sla.breaches("cancelled", respond_by, resolve_by, resolve_by + timedelta(1)) == []


def test_met_for_the_kpis() -> None:
    respond_by, resolve_by = sla.deadlines("P2", T)
    assert sla.met(T + timedelta(minutes=30), None, respond_by, resolve_by) == {
        "response": True,
        "resolution": None,
    }
    assert sla.met(T + timedelta(hours=2), T + timedelta(days=2), respond_by, resolve_by) == {
        "response": False,
        "resolution": False,
    }
