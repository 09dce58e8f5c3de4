"""Issue 17: related alarms are one incident, one crew. An alarm that a root cause inhibits
after it opened its own order hands that order to the root's order, unless work has begun."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from facility_dispatch.maintenance.dispatcher import Dispatcher
from facility_dispatch.rules.loader import load_default
from tests.maintenance.harness import PLANNER, Harness


@pytest.fixture
def h(database_url: str) -> Iterator[Harness]:
    harness = Harness(database_url)
    yield harness
    harness.close()


def fire(h: Harness, dispatcher: Dispatcher, asset: str, kind: str, fault: str, rule: str) -> int:
    alarm_id = h.fire(asset, kind, fault, rule)
    record = h.alarms.get(alarm_id)
    assert record is not None
    if not record.muted:
        dispatcher.handle("fired", record)
    return alarm_id


def order_of(h: Harness, alarm_id: int) -> int:
    record = h.alarms.get(alarm_id)
    assert record is not None and record.work_order_id is not None
    return record.work_order_id


def test_a_controller_faults_order_joins_the_entrapment_that_follows(h: Harness) -> None:
    h.technician("Wang Lei", "elevator")
    h.technician("Li Na", "elevator")
    dispatcher = Dispatcher(h.orders, load_default, alarms=h.alarms)
    fault = fire(
        h, dispatcher, "lift-1", "elevator", "controller_fault", "elevator-controller-fault"
    )
    own = order_of(h, fault)
    assert h.orders.get(own).status == "assigned"  # type: ignore[union-attr]

    trapped = fire(h, dispatcher, "lift-1", "elevator", "entrapment", "elevator-entrapment")
    root = order_of(h, trapped)
    assert root != own
    record = h.alarms.get(fault)
    assert record is not None and record.inhibited_by == trapped
    assert record.work_order_id == root  # the alarm now belongs to the incident's order

    handed = h.orders.get(own)
    assert handed is not None and handed.status == "cancelled"
    assert f"joined {h.orders.get(root).number}" in handed.timeline[-1].note  # type: ignore[union-attr]
    incident = h.orders.get(root)
    assert incident is not None and incident.priority == "P1"
    assert sorted(incident.alarm_ids) == sorted([fault, trapped])
    (joined,) = [e for e in incident.timeline if e.event == "joined"]
    assert handed.number in (joined.note or "")


def test_an_order_whose_work_has_started_stays_its_own(h: Harness) -> None:
    h.technician("Wang Lei", "elevator")
    h.technician("Li Na", "elevator")
    dispatcher = Dispatcher(h.orders, load_default, alarms=h.alarms)
    fault = fire(
        h, dispatcher, "lift-1", "elevator", "controller_fault", "elevator-controller-fault"
    )
    own = order_of(h, fault)
    for step in ("acknowledged", "in_progress"):
        h.orders.transition(own, step, PLANNER)

    trapped = fire(h, dispatcher, "lift-1", "elevator", "entrapment", "elevator-entrapment")
    assert order_of(h, trapped) != own
    assert order_of(h, fault) == own
    kept = h.orders.get(own)
    assert kept is not None and kept.status == "in_progress"
    assert not [e for e in kept.timeline if e.event == "transition" and e.to == "cancelled"]


def test_a_power_cut_takes_in_the_orders_of_what_it_stopped_at_the_site(h: Harness) -> None:
    h.technician("Zhao Gang", "plumbing")
    h.technician(
        "Sun Li",
        "electrical",
        certifications=[{"kind": "electrical", "number": "E-1", "expires_on": "2030-01-01"}],
    )
    dispatcher = Dispatcher(h.orders, load_default, alarms=h.alarms)
    pump = fire(h, dispatcher, "pump-1", "water", "pump_failure", "water-pump-failure")
    own = order_of(h, pump)
    mains = fire(h, dispatcher, "board-1", "power", "mains_failure", "power-mains-failure")
    assert order_of(h, pump) == order_of(h, mains) != own
    assert h.orders.get(own).status == "cancelled"  # type: ignore[union-attr]
