"""The lifts of one building are never planned out of service at the same time, and each
notice to the residents names its lift."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from facility_dispatch.maintenance.planning import Planner
from facility_dispatch.maintenance.stagger import stagger
from tests.maintenance.harness import PlanningHarness

TEN = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("buildings", "starts"),
    [
        # one tower: one after the other, in the order people count them
        (
            {"lift-1": "T1", "lift-2": "T1", "lift-10": "T1"},
            {"lift-1": TEN, "lift-2": TEN + HOUR, "lift-10": TEN + 2 * HOUR},
        ),
        # two towers: each starts at the plan's time
        (
            {"lift-1": "T1", "lift-2": "T2", "lift-3": "T1"},
            {"lift-1": TEN, "lift-2": TEN, "lift-3": TEN + HOUR},
        ),
        # buildings unknown: taken as one, the safe guess
        ({"lift-a": None, "lift-b": None}, {"lift-a": TEN, "lift-b": TEN + HOUR}),
        ({"lift-1": "T1"}, {"lift-1": TEN}),
    ],
)
def test_stagger(buildings: dict[str, str | None], starts: dict[str, datetime]) -> None:
    assert stagger(buildings, buildings.get, TEN, HOUR) == starts


@pytest.fixture
def h(database_url: str) -> Iterator[PlanningHarness]:
    harness = PlanningHarness(database_url)
    harness.technician("Wang Wei", "elevator")
    harness.assets[("north", "elevator")] = ["lift-1", "lift-2", "lift-3"]
    buildings = {"lift-1": "Tower 1", "lift-2": "Tower 1", "lift-3": "Tower 2"}
    harness.planner = Planner(
        harness.sessions,
        harness.orders,
        harness.notices,
        lambda site, kind: harness.assets.get((site, kind), []),
        harness.clock,
        "Asia/Shanghai",
        None,
        lambda site, asset: buildings.get(asset),
    )
    yield harness
    harness.close()


def test_a_site_wide_lift_plan_takes_one_lift_of_a_tower_at_a_time(h: PlanningHarness) -> None:
    plan = h.plan(interrupts="elevator", duration_s=2 * 3600.0)
    orders, total = h.orders.query(source="preventive")
    assert total == 3
    due = {o.asset: o.due_at for o in orders}
    assert due == {
        "lift-1": plan.starts_at,
        "lift-2": plan.starts_at + timedelta(hours=2),  # after lift-1, same tower
        "lift-3": plan.starts_at,  # the other tower
    }
    notices = h.notices.query("north")
    assert sorted((n.starts_at - plan.starts_at) for n in notices) == [
        timedelta(0),
        timedelta(0),
        timedelta(hours=2),
    ]
    for notice in notices:  # each names its lift, by its number, not by its id
        assert notice.asset and notice.asset not in notice.body_zh + notice.body_en
        number = notice.asset.removeprefix("lift-")
        assert f"{number}号电梯" in notice.body_zh and f"lift {number} of" in notice.body_en
    assert h.planner.run(plan.id) == 0  # once only
