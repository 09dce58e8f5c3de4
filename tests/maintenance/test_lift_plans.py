"""Lift plans by level on SQLite and PostgreSQL: a year of visits, two lifts of one building
never out of service together (whatever plans they come from), deadlines from the due time,
and the planner's move of a slot."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from facility_dispatch.kernel.clock import to_ms
from facility_dispatch.kernel.readings import Reading
from facility_dispatch.maintenance.errors import ConflictError, InvalidRequestError
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.maintenance.planning import Planner
from tests.maintenance.harness import PlanningHarness

BUILDINGS = {
    "lift-1": "T1", "lift-2": "T1", "lift-3": "T2", "pump-1": "Station A", "pump-2": "Station A"
}  # fmt: skip
PLANNER = Actor("planner")
SAFETY_MANAGER = Actor("An Quan", safety_manager=True)


@pytest.fixture
def h(database_url: str) -> Iterator[PlanningHarness]:
    harness = PlanningHarness(database_url)
    harness.wang = harness.technician("Wang Wei", "elevator")  # type: ignore[attr-defined]
    harness.assets[("north", "elevator")] = ["lift-1", "lift-2", "lift-3"]
    harness.planner = Planner(
        harness.sessions,
        harness.orders,
        harness.notices,
        lambda site, kind: harness.assets.get((site, kind), []),
        harness.clock,
        "Asia/Shanghai",
        None,
        lambda site, asset: BUILDINGS.get(asset),
        events=harness.events,
    )
    yield harness
    harness.close()


def lift_plan(h: PlanningHarness, asset: str, **fields: Any) -> Any:
    values: dict[str, Any] = {
        "name": f"Lift maintenance {asset}",
        "kind": "elevator",
        "asset": asset,
        "template": None,
        "levels": "tsg-t5002",
        "interrupts": "elevator",
        "duration_s": 2 * 3600.0,
        "lead_time_s": timedelta(days=3).total_seconds(),
    }
    values.update(fields)
    return h.plan(**values)


def finish_all(h: PlanningHarness) -> None:
    for order in h.orders.query(source="preventive", limit=1000)[0]:
        if order.status == "open":  # no one on shift at that hour: the planner assigns it
            h.orders.assign(order.id, PLANNER, [h.wang])  # type: ignore[attr-defined]
        if order.status in ("open", "assigned"):
            for step in ("acknowledged", "in_progress", "resolved"):
                h.orders.transition(order.id, step, PLANNER)
            h.orders.sign_off(order.id, SAFETY_MANAGER)  # lift work closes once signed off
            h.orders.transition(order.id, "closed", PLANNER)


def test_a_year_of_a_lifts_visits_has_the_right_level_and_items(h: PlanningHarness) -> None:
    plan = lift_plan(h, "lift-1")
    for _ in range(26):  # a year and a visit: each order done before the next is made
        finish_all(h)
        h.clock.advance(timedelta(days=15))
        h.planner.run(plan.id)
    occurrences = sorted(h.planner.occurrences(plan.id), key=lambda o: o.due_at)
    year = [o for o in occurrences if o.due_at < plan.starts_at + timedelta(days=365)]
    assert [o.status for o in year] == ["generated"] * 25
    levels = [o.level for o in year]
    assert levels[0] == levels[24] == "yearly"
    assert levels[12] == "half-yearly" and levels[6] == levels[18] == "quarterly"
    assert levels.count("half-monthly") == 20
    for n, occurrence in enumerate(year):
        assert occurrence.due_at == plan.starts_at + n * timedelta(days=15)  # no DST here
    orders = {o.id: o for o in h.orders.query(plan_id=plan.id, limit=100)[0]}
    yearly = h.orders.get(year[0].work_order_id or 0)
    half_monthly = h.orders.get(year[1].work_order_id or 0)
    quarterly = h.orders.get(year[6].work_order_id or 0)
    assert yearly is not None and half_monthly is not None and quarterly is not None
    assert "年度保养 / yearly maintenance" in yearly.title
    assert "半月保养 / half-monthly maintenance" in half_monthly.title
    # residents read the visit's level in their own language only (not the order's title)
    by_order = {n.work_order_id: n for n in h.notices.query("north", limit=500)}
    notice = by_order[yearly.id]
    assert "因年度保养，" in notice.body_zh and "maintenance" not in notice.body_zh
    assert "because of lift maintenance lift-1 (yearly maintenance)," in notice.body_en
    assert "年度" not in notice.body_en
    assert len(half_monthly.checklist) == 31
    assert 31 < len(quarterly.checklist) < len(yearly.checklist)
    assert [c.text for c in yearly.checklist][:31] == [c.text for c in half_monthly.checklist]
    assert len(orders) >= 25


def test_two_lifts_of_one_building_never_overlap_over_a_year(h: PlanningHarness) -> None:
    """One plan per lift, same start: the second lift of the tower waits for the first; the
    other tower's lift does not; and a site-wide yearly test due on a visit day goes after
    every slot already held in each tower."""
    plans = [lift_plan(h, asset) for asset in ("lift-1", "lift-2", "lift-3")]
    extra = h.plan(
        name="Load test",
        kind="elevator",
        template=None,
        every="1y",
        interrupts="elevator",
        duration_s=3 * 3600.0,
        lead_time_s=timedelta(days=3).total_seconds(),
        starts_at=plans[0].starts_at + timedelta(days=30),
    )
    for _ in range(25):
        finish_all(h)
        h.clock.advance(timedelta(days=15))
        h.planner.run_all()
    slots = [
        (o.asset, o.due_at, o.ends_at, o.building)
        for p in (*plans, extra)
        for o in h.planner.occurrences(p.id, limit=500)
        if o.status == "generated"
    ]
    assert len(slots) > 70
    for a, b in itertools.combinations(slots, 2):
        if a[3] == b[3]:
            assert a[2] is not None and b[2] is not None
            assert not (a[1] < b[2] and b[1] < a[2]), (a, b)
    first = {o.asset: o.due_at for p in plans for o in h.planner.occurrences(p.id, limit=500)
             if o.due_at < plans[0].starts_at + timedelta(days=1)}  # fmt: skip
    assert first == {
        "lift-1": plans[0].starts_at,
        "lift-2": plans[0].starts_at + timedelta(hours=2),  # after lift-1, same tower
        "lift-3": plans[0].starts_at,  # another tower
    }
    tests = sorted(h.planner.occurrences(extra.id), key=lambda o: o.asset)
    by_due = {o.asset: o.due_at - extra.starts_at for o in tests}
    # the same day as the lifts' third visit (day 30): T1's lifts hold 10:00-14:00 and T2's
    # 10:00-12:00, so the test takes lift-1 at 14:00, lift-2 after it at 17:00, lift-3 at 12:00
    hours = timedelta(hours=1)
    assert by_due == {"lift-1": 4 * hours, "lift-2": 7 * hours, "lift-3": 2 * hours}


def test_a_preventive_orders_deadlines_count_from_its_due_time(h: PlanningHarness) -> None:
    plan = lift_plan(h, "lift-1")  # made 3 days ahead of its due time
    (order,) = h.orders.query(plan_id=plan.id)[0]
    assert order.due_at == plan.starts_at
    assert order.respond_by == plan.starts_at + timedelta(hours=4)  # P3, from the due time
    assert order.resolve_by == plan.starts_at + timedelta(days=1.5)


def test_a_levels_plan_needs_its_base_interval(h: PlanningHarness) -> None:
    with pytest.raises(InvalidRequestError, match="every=15d"):
        lift_plan(h, "lift-1", every="1mo")
    with pytest.raises(InvalidRequestError, match="no level ladder"):
        lift_plan(h, "lift-1", levels="gb-9999")
    with pytest.raises(InvalidRequestError, match="template"):
        lift_plan(h, "lift-1", template="tsg-t5002-half-monthly")


def test_a_slot_moves_unless_it_would_overlap_its_neighbour(h: PlanningHarness) -> None:
    one, two = lift_plan(h, "lift-1"), lift_plan(h, "lift-2")
    (first,) = h.planner.occurrences(one.id)
    (second,) = h.planner.occurrences(two.id)
    assert second.due_at == first.due_at + timedelta(hours=2)
    with pytest.raises(ConflictError, match=r"lift-1 is out of service 2026-11-29 10:00"):
        h.planner.move(two.id, second.id, first.due_at + timedelta(hours=1), PLANNER)
    later = first.due_at + timedelta(days=1)
    moved = h.planner.move(two.id, second.id, later, PLANNER)
    assert (moved.due_at, moved.ends_at) == (later, later + timedelta(hours=2))
    order = h.orders.get(moved.work_order_id or 0)
    assert order is not None and order.due_at == later
    assert order.respond_by == later + timedelta(hours=4)
    notices = [n for n in h.notices.query("north") if n.asset == "lift-2"]
    assert [n.starts_at for n in notices] == [later]  # the old one cancelled
    # the freed time is free again: lift-1 may take it
    h.planner.move(one.id, first.id, second.due_at, PLANNER)
    with pytest.raises(ConflictError, match="only the slot of an open order"):
        finish_all(h)
        h.planner.move(one.id, first.id, first.due_at, PLANNER)


def test_pumps_of_one_station_never_stop_together_across_plans(h: PlanningHarness) -> None:
    """A tank cleaning on pump-1 and a counter-driven pump service on pump-2 of the same
    booster station (the registry's building) on one morning: the second waits."""
    h.technician("Li Na", "plumbing")
    cleaning = h.plan(
        name="Tank cleaning",
        kind="water",
        asset="pump-1",
        every="6mo",
        template="water-tank-cleaning",
        skill="plumbing",
        interrupts="water",
        duration_s=4 * 3600.0,
        lead_time_s=timedelta(days=3).total_seconds(),
    )
    (held,) = h.planner.occurrences(cleaning.id)
    assert held.building == "Station A" and held.ends_at == held.due_at + timedelta(hours=4)
    service = h.plan(
        name="Pump service",
        kind="water",
        asset="pump-2",
        every=None,
        meter_metric="pump_run_hours",
        meter_every=500.0,
        template=None,
        skill="plumbing",
        interrupts="water",
        duration_s=2 * 3600.0,
    )
    at = held.due_at + timedelta(hours=1)  # the counter crosses 500 during the cleaning
    for value in (100.0, 700.0):
        h.planner.on_readings(
            [Reading("north", "water", "pump-2", to_ms(at), {"pump_run_hours": value})]
        )
    (made,) = h.planner.occurrences(service.id)
    assert made.due_at == held.ends_at  # after the cleaning, not during it
    assert made.ends_at == held.ends_at + timedelta(hours=2)
