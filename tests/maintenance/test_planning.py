"""Preventive plans on SQLite and PostgreSQL: occurrences once, catch-up, skips, meters."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from facility_dispatch.kernel.readings import Reading
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.maintenance.planning import Planner
from facility_dispatch.maintenance.sql import OccurrenceRow, WorkOrderRow
from tests.maintenance.harness import PlanningHarness

SAFETY_MANAGER = Actor("An Quan", safety_manager=True)


@pytest.fixture
def h(database_url: str) -> Iterator[PlanningHarness]:
    harness = PlanningHarness(database_url)
    harness.technician("Wang Wei", "elevator")
    harness.technician("Li Na", "plumbing")
    harness.assets[("north", "elevator")] = ["lift-1", "lift-2"]
    harness.assets[("north", "water")] = ["pump-1"]
    yield harness
    harness.close()


def test_a_kind_plan_makes_one_order_per_asset_ahead_of_time(h: PlanningHarness) -> None:
    plan = h.plan()  # first due in 2 days, made 3 days ahead: now
    orders, total = h.orders.query(source="preventive")
    assert total == 2
    order = h.orders.get(orders[0].id)
    assert order is not None
    assert order.due_at == plan.starts_at
    assert order.resolve_by == plan.starts_at + timedelta(days=1.5)  # within its window
    assert order.status == "assigned" and order.skill == "elevator"
    assert len(order.checklist) == 31  # TSG T5002 half-monthly items
    assert order.checklist[0].text.startswith("机房、滑轮间环境")
    assert h.planner.run(plan.id) == 0  # again: nothing more


def test_each_occurrence_says_plan_due_once_with_its_order(h: PlanningHarness) -> None:
    """SPEC 6 routes ``plan.due`` to people: one event per order made, none on a rerun."""
    before = h.events.last_id()
    plan = h.plan()
    h.planner.run(plan.id)
    due = [e for e in h.events.since(before) if e.type == "plan.due"]
    orders, _ = h.orders.query(plan_id=plan.id)
    assert sorted(e.payload["work_order_id"] for e in due) == sorted(o.id for o in orders)
    assert {e.payload["asset"] for e in due} == {"lift-1", "lift-2"}
    assert all(e.payload["priority"] == "P3" and e.site == "north" for e in due)


def test_the_next_run_is_the_next_due_time_less_the_lead(h: PlanningHarness) -> None:
    plan = h.plan()
    assert h.planner.next_run(plan, h.clock.now()) == plan.starts_at + timedelta(
        days=15
    ) - timedelta(days=3)
    for order in h.orders.query(plan_id=plan.id)[0]:
        for step in ("acknowledged", "in_progress", "resolved"):
            h.orders.transition(order.id, step, Actor("planner"))
        h.orders.sign_off(order.id, SAFETY_MANAGER)  # lift work closes once signed off
        h.orders.transition(order.id, "closed", Actor("planner"))
    h.clock.advance(timedelta(days=14))
    assert h.planner.run(plan.id) == 2  # the second occurrence's orders


def test_catch_up_after_downtime_makes_one_and_records_the_rest_as_skipped(
    h: PlanningHarness,
) -> None:
    plan = h.plan(kind=None, asset="lift-1")
    h.clock.advance(timedelta(days=60))  # the service was down for two months
    made = h.planner.run_all()
    assert made == 0  # the first order (made at once) is still open: the rest are skipped
    occurrences = sorted(h.planner.occurrences(plan.id), key=lambda o: o.due_at)
    assert [o.status for o in occurrences] == ["generated"] + ["skipped"] * 4
    assert "still open" in (occurrences[1].reason or "")
    first = occurrences[0].work_order_id
    assert first is not None
    for step in ("acknowledged", "in_progress", "resolved"):
        h.orders.transition(first, step, Actor("planner"))
    h.clock.advance(timedelta(days=15))
    assert h.planner.run(plan.id) == 1  # done: the next one is made
    assert h.planner.skipped_due("north") != []


def test_two_schedulers_at_once_never_double_an_occurrence(h: PlanningHarness) -> None:
    plan = h.plan()
    other = Planner(
        h.sessions,
        h.orders,
        h.notices,
        lambda site, kind: ["lift-1", "lift-2"],
        h.clock,
        "Asia/Shanghai",
    )
    h.clock.advance(timedelta(days=100))
    results: list[int] = []
    barrier = threading.Barrier(4)

    def run(planner: Planner) -> None:
        barrier.wait()
        results.append(planner.run(plan.id))

    threads = [
        threading.Thread(target=run, args=(p,)) for p in (h.planner, other, h.planner, other)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with h.sessions() as session:
        keys = session.execute(
            select(OccurrenceRow.asset, OccurrenceRow.key, func.count()).group_by(
                OccurrenceRow.asset, OccurrenceRow.key
            )
        ).all()
        orders = session.scalar(
            select(func.count()).select_from(WorkOrderRow).where(WorkOrderRow.plan_id == plan.id)
        )
    assert all(count == 1 for _, _, count in keys)
    assert orders == 2  # one a lift; every later occurrence found its predecessor open


def test_a_meter_plan_follows_the_counter_across_a_reset(h: PlanningHarness) -> None:
    plan = h.plan(
        every=None,
        meter_metric="door_cycles",
        meter_every=50_000.0,
        template=None,
        kind=None,
        asset="lift-1",
    )
    base = int(h.clock.now().timestamp() * 1000)

    def cycles(value: float, n: int) -> None:
        h.planner.on_readings(
            [Reading("north", "elevator", "lift-1", base + n, {"door_cycles": value})]
        )

    cycles(100_000, 1)
    cycles(140_000, 2)
    cycles(2_000, 3)  # the controller was replaced: its counter starts again
    assert h.orders.query(plan_id=plan.id)[1] == 0
    cycles(12_000, 4)  # 40,000 + 2,000 + 10,000 = 52,000 since the start
    assert h.orders.query(plan_id=plan.id)[1] == 1
    h.planner.flush_meters()
    reloaded = Planner(h.sessions, h.orders, h.notices, lambda s, k: [], h.clock, "Asia/Shanghai")
    reloaded.load_meters()
    state = reloaded.meter(plan.id, "lift-1")
    assert state is not None and (state.cycles, state.usage) == (1, 2_000)
    cycles(13_000, 5)
    cycles(13_000, 6)
    assert h.orders.query(plan_id=plan.id)[1] == 1  # no double count


def test_works_that_cut_a_service_make_a_notice(h: PlanningHarness) -> None:
    h.plan(
        name="水箱清洗 Tank cleaning",
        kind=None,
        asset="pump-1",
        every="6mo",
        skill="plumbing",
        template="water-tank-cleaning",
        interrupts="water",
        duration_s=4 * 3600.0,
    )
    (notice,) = h.notices.query("north")
    assert notice.service == "water" and notice.planned
    assert notice.ends_at - notice.starts_at == timedelta(hours=4)
    assert notice.title_zh == "停水通知" and "暂停供水" in notice.body_zh
    assert "因水箱清洗，" in notice.body_zh and "because of tank cleaning," in notice.body_en
    assert not re.search(r"[A-Za-z]", notice.body_zh)  # each language its own reason
    assert not re.search(r"[\u4e00-\u9fff]", notice.body_en)
    # residents see it notice_before (24 h) ahead of the works, not when the order is made
    assert notice.publish_at == notice.starts_at - timedelta(hours=24)
    assert h.notices.query("north", h.clock.now()) == [] and h.published == []
    h.clock.set(notice.starts_at - timedelta(hours=24))
    assert h.notices.publish_due() == 1
    assert h.published[-1][0] == "facility/north/notices"


def test_works_with_no_lead_time_are_still_announced_notice_before_ahead(
    h: PlanningHarness,
) -> None:
    """The API's defaults (lead_time 0, notice_before 24 h): the occurrence, its order and its
    notice are made 24 h ahead of the works, not as they start."""
    starts = h.clock.now() + timedelta(days=2)
    plan = h.plan(
        name="水箱清洗 Tank cleaning",
        kind=None,
        asset="pump-1",
        every="6mo",
        starts_at=starts,
        lead_time_s=0.0,
        notice_before_s=timedelta(hours=24).total_seconds(),
        skill="plumbing",
        interrupts="water",
        duration_s=4 * 3600.0,
    )
    assert h.notices.query("north") == [] and h.orders.query(plan_id=plan.id)[1] == 0
    assert h.planner.next_run(plan, h.clock.now()) == starts - timedelta(hours=24)
    h.clock.set(starts - timedelta(hours=24))
    assert h.planner.sweep() == 1
    (notice,) = h.notices.query("north", h.clock.now())
    assert notice.starts_at == starts and notice.publish_at == starts - timedelta(hours=24)
    assert h.published[-1][0] == "facility/north/notices"
    # a plan that cuts nothing keeps its lead of 0
    quiet = h.plan(asset="lift-1", kind=None, starts_at=starts + timedelta(days=1), lead_time_s=0.0)
    assert h.planner.next_run(quiet, h.clock.now()) == starts + timedelta(days=1)


def test_plans_are_checked(h: PlanningHarness) -> None:
    from facility_dispatch.maintenance.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match="exactly one of every, cron or meter"):
        h.plan(cron="0 9 * * *")
    with pytest.raises(InvalidRequestError, match="no checklist template"):
        h.plan(template="nope")
    with pytest.raises(InvalidRequestError, match="shorter than an hour"):
        h.plan(every="10m")


def test_a_site_calendar_runs_on_its_own_local_time(h: PlanningHarness) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    h.people.put_site("north", name="North", timezone="Europe/London")
    zones = {"north": "Europe/London"}
    planner = Planner(
        h.sessions, h.orders, h.notices, lambda s, k: [], h.clock, "Asia/Shanghai", zones.get
    )
    start = datetime(2026, 11, 30, 9, 0, tzinfo=london)  # 09:00 in London
    plan = planner.create(
        "planner",
        name="Boiler check",
        site="north",
        asset="lift-1",
        kind="elevator",
        every="1mo",
        starts_at=start.astimezone(UTC),
        lead_time_s=0.0,
        priority="P4",
        skill="elevator",
        checklist=[],
        template=None,
    )
    following = planner.next_run(plan, start.astimezone(UTC) + timedelta(hours=1))
    assert following is not None and following.astimezone(london).strftime("%d %H:%M") == "30 09:00"


def test_the_calendar_sweep_makes_each_occurrence_once_and_survives_a_restart(
    h: PlanningHarness,
) -> None:
    """Driven by the pure next-run function, no stored job: a restart (a new planner, as a
    new process or a new leader has) and an edited plan miss nothing and double nothing."""
    plan = h.plan()  # its first orders are made on creation
    assert h.planner.sweep() == 0
    for order in h.orders.query(plan_id=plan.id)[0]:
        for step in ("acknowledged", "in_progress", "resolved"):
            h.orders.transition(order.id, step, Actor("planner"))
        h.orders.sign_off(order.id, SAFETY_MANAGER)  # lift work closes once signed off
        h.orders.transition(order.id, "closed", Actor("planner"))
    h.clock.advance(timedelta(days=13, hours=23))  # just short of the next run (day 14)
    assert h.planner.sweep() == 0
    h.clock.advance(timedelta(hours=2))
    assert h.planner.sweep() == 2  # the second occurrence, both lifts
    assert h.planner.sweep() == 0

    restarted = Planner(
        h.sessions,
        h.orders,
        h.notices,
        lambda site, kind: h.assets.get((site, kind), []),
        h.clock,
        "Asia/Shanghai",
    )
    assert restarted.sweep() == 0  # the first sweep of a process catches up: nothing is due
    h.planner.deactivate(plan.id)
    h.clock.advance(timedelta(days=30))
    assert restarted.sweep() == 0  # a stopped plan makes nothing
    assert h.orders.query(plan_id=plan.id)[1] == 4
