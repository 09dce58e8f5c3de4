"""The sign-off on a real database (SQLite and PostgreSQL): an alarm firing again after the
sign-off joins the order without reopening it, and nothing of the signed record changes, parts
included; an admin-ranked actor without the duty may not sign."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from facility_dispatch.maintenance.authority import Rank
from facility_dispatch.maintenance.errors import ConflictError, NotPermittedError
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.maintenance.parts import Parts
from facility_dispatch.rules.events import AlarmResolved
from tests.maintenance.harness import PLANNER, Harness

MANAGER = Actor("An Quan", rank=Rank.TECHNICIAN, safety_manager=True)


@pytest.fixture
def h(database_url: str) -> Iterator[Harness]:
    harness = Harness(database_url)
    yield harness
    harness.close()


def test_a_signed_lift_order_is_sealed_and_an_alarm_again_does_not_reopen_it(h: Harness) -> None:
    tech = h.technician("Wang Wei", "elevator")
    mine = Actor("Wang Wei", tech, Rank.TECHNICIAN)
    order, _ = h.orders.open_from_alarm(
        h.fire("lift-1", "elevator", "door_obstruction", "elevator-door-obstruction"),
        "P3",
        "elevator",
    )
    for step in ("acknowledged", "in_progress", "resolved"):
        h.orders.transition(order.id, step, mine, cause="sensor dirty", action="cleaned")
    with pytest.raises(NotPermittedError, match="needs the safety manager"):
        h.orders.sign_off(order.id, PLANNER)  # a planner's rank is no duty
    signed = h.orders.sign_off(order.id, MANAGER, "checked")
    assert signed.sign_off is not None and signed.sign_off.signer == "An Quan"
    resolving = [n for n in signed.sign_off.record["notes"] if n["event"] == "transition"]
    assert resolving[-1]["data"] == {"cause": "sensor dirty", "action": "cleaned"}
    assert signed.sign_off.record["technicians"][0]["certificates"] == ["TS-31-0001"]

    h.alarms.apply(
        [AlarmResolved("north", "lift-1", "elevator", "door_obstruction", "r", "major", None, 1, 1)]
    )
    again, created = h.orders.open_from_alarm(
        h.fire("lift-1", "elevator", "door_obstruction", "elevator-door-obstruction"),
        "P3",
        "elevator",
    )
    assert not created and again.id == order.id and again.status == "resolved"

    parts = Parts(h.sessions, h.events, h.clock, h.orders)
    with pytest.raises(ConflictError, match="cannot change"):
        h.orders.note(order.id, mine, "one more thing")
    with pytest.raises(ConflictError, match="cannot change"):
        parts.move(order.id, 1, "consume", 1, mine)
    with pytest.raises(ConflictError, match="signed off by An Quan"):
        h.orders.transition(order.id, "in_progress", PLANNER)
    closed = h.orders.transition(order.id, "closed", mine)  # a P3: its technician closes it
    assert closed.status == "closed" and closed.sign_off == signed.sign_off
