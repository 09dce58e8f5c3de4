"""Dispatch from the database: a firing alarm whose order was never opened (a crash between
the alarm and its order, an outage past the dispatcher's retries) gets exactly one order from
the sweep; muted alarms and rules without orders are left alone; the live path and the sweep
coming for the same alarm make one order and one timeline entry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from facility_dispatch.maintenance.dispatcher import Dispatcher
from facility_dispatch.rules.loader import RuleSet, load_default
from tests.maintenance.harness import Harness


@pytest.fixture
def h(database_url: str) -> Iterator[Harness]:
    harness = Harness(database_url)
    yield harness
    harness.close()


def dispatcher(h: Harness) -> Dispatcher:
    return Dispatcher(h.orders, load_default, alarms=h.alarms)


def test_the_sweep_opens_the_orders_a_crash_left_unopened(h: Harness) -> None:
    h.technician("Li Qiang", "plumbing")
    leak = h.fire("pump-1", "water", "leak", "water-leak")  # no dispatcher was listening
    burst = h.fire("pump-2", "water", "pipe_burst", "water-pipe-burst")
    sweeper = dispatcher(h)

    assert sweeper.sweep() == 2
    assert sweeper.waiting == 0
    for alarm_id in (leak, burst):
        record = h.alarms.get(alarm_id)
        assert record is not None and record.work_order_id is not None
        order = h.orders.get(record.work_order_id)
        assert order.alarm_ids == (alarm_id,)
        assert [t.event for t in order.timeline].count("alarm") == 1
    assert sweeper.sweep() == 0  # nothing twice
    assert h.orders.query()[1] == 2


def test_muted_alarms_and_rules_without_orders_are_left_alone(h: Harness) -> None:
    now = h.clock.now()
    h.alarms.add_silence("north", "pump-1", None, now, now + timedelta(hours=2), "works", "t")
    h.fire("pump-1", "water", "leak", "water-leak")
    h.fire("cam-1", "cctv", "low_frame_rate", "cctv-frame-rate-drop")
    default = load_default()
    watch_only = RuleSet(  # the frame-rate rule as a site might keep it: an alarm, no order
        tuple(
            r.model_copy(update={"work_order": None}) if r.id == "cctv-frame-rate-drop" else r
            for r in default.rules
        ),
        default.inhibit,
    )
    assert Dispatcher(h.orders, lambda: watch_only, alarms=h.alarms).sweep() == 0
    assert h.orders.query()[1] == 0
    assert dispatcher(h).sweep() == 1  # with the order it asks for, the camera gets it


def test_the_live_path_and_the_sweep_make_one_order_together(h: Harness) -> None:
    h.technician("Li Qiang", "plumbing")
    alarm_id = h.fire("pump-1", "water", "leak", "water-leak")
    record = h.alarms.get(alarm_id)
    assert record is not None
    live, sweeper = dispatcher(h), dispatcher(h)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(work: object) -> None:
        start.wait()
        try:
            work()  # type: ignore[operator]
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(lambda: live.handle("fired", record),)),
        threading.Thread(target=run, args=(sweeper.sweep,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    orders, total = h.orders.query()
    assert total == 1
    order = h.orders.get(orders[0].id)
    assert [t.event for t in order.timeline].count("alarm") == 1
