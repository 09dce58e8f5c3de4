"""Choosing a technician by hand: everyone ranked, each with why they can or cannot go; and the
cap of open orders, which counts reactive work only (planned checks never block a fault)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from facility_dispatch.maintenance.assignment import (
    Certificate,
    Duty,
    Job,
    Leave,
    Person,
    Policy,
    assign,
    candidates,
)
from tests.maintenance.harness import PLANNER, Harness

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)


def person(
    id_: int,
    name: str,
    skills: str = "cctv",
    sites: str = "north",
    certificates: tuple[Certificate, ...] = (),
) -> Person:
    return Person(
        id_, name, frozenset(skills.split(",")), "senior", frozenset(sites.split(",")), certificates
    )


def shift(id_: int, on_call: bool = False) -> Duty:
    return Duty(id_, NOW - timedelta(hours=4), NOW + timedelta(hours=4), on_call)


CCTV = Job("north", "cctv", "P2", "cam-1")


@pytest.mark.parametrize(
    ("reactive", "priority", "assigned", "said"),
    [
        # both at 8 open orders, all preventive: the fault is assigned (the cap counts reactive)
        ({1: 0, 2: 0}, "P2", (1,), "open orders: Zhao 8, Qian 8"),
        # reactive work fills the cap: nobody, and the reason names the cap
        ({1: 8, 2: 8}, "P2", (), "at the cap of 8 open reactive orders: Zhao, Qian"),
        # a P1 goes whatever the load
        ({1: 8, 2: 8}, "P1", (1,), "open orders: Zhao 8, Qian 8"),
        # one under the cap takes it
        ({1: 8, 2: 7}, "P2", (2,), "open orders: Qian 8"),
    ],
)
def test_the_cap_counts_reactive_orders(
    reactive: dict[int, int], priority: str, assigned: tuple[int, ...], said: str
) -> None:
    people = [person(1, "Zhao"), person(2, "Qian")]
    job = Job("north", "cctv", priority, "cam-1")
    decision = assign(
        job,
        people,
        [shift(1), shift(2)],
        (),
        {1: 8, 2: 8},
        NOW,
        TODAY,
        reactive_orders=reactive,
        policy=Policy(certificate_for_skill={}),
    )
    assert decision.assignees == assigned
    assert any(said in reason for reason in decision.reasons), decision.reasons
    assert (decision.cause is None) == bool(assigned)


def test_candidates_are_ranked_with_every_reason() -> None:
    people = [
        person(1, "Off duty"),
        person(2, "On call"),
        person(3, "Busy on shift"),
        person(4, "Free on shift"),
        person(5, "Plumber", skills="plumbing"),
        person(6, "Elsewhere", sites="south"),
        person(7, "Away"),
        person(8, "Full"),
        person(9, "Last on asset"),
    ]
    duties = [shift(2, on_call=True), shift(3), shift(4), shift(7), shift(8), shift(9)]
    leaves = [Leave(7, NOW - timedelta(days=1), NOW + timedelta(days=1))]
    ranked = candidates(
        CCTV,
        people,
        duties,
        leaves,
        {3: 2, 4: 0, 8: 9, 9: 2},
        NOW,
        TODAY,
        reactive_orders={8: 8},
        last_on_asset=9,
        policy=Policy(certificate_for_skill={}),
    )
    shown = [(c.person.name, c.eligible, c.why) for c in ranked]
    assert shown == [
        ("Free on shift", True, ("on_shift",)),
        ("Last on asset", True, ("on_shift", "last_on_asset")),
        ("Busy on shift", True, ("on_shift",)),
        ("On call", True, ("on_call",)),
        ("Off duty", True, ("off_duty",)),
        ("Away", False, ("absent", "on_shift")),
        ("Full", False, ("at_cap", "on_shift")),
        ("Plumber", False, ("no_skill", "off_duty")),
        ("Elsewhere", False, ("other_site", "off_duty")),
    ]
    assert [(c.open_orders, c.reactive_orders) for c in ranked][-3] == (9, 8)


def test_certificates_and_juniors_on_risky_work() -> None:
    lapsed = (Certificate("elevator", "T-2", date(2026, 11, 26)),)
    valid = (Certificate("elevator", "T-1", date(2028, 1, 1)),)
    people = [
        person(1, "Lapsed", skills="elevator", certificates=lapsed),
        Person(2, "Junior", frozenset({"elevator"}), "junior", frozenset({"north"}), valid),
    ]
    ranked = candidates(
        Job("north", "elevator", "P1", "lift-1"), people, [shift(1), shift(2)], (), {}, NOW, TODAY
    )
    assert [(c.person.name, c.eligible, c.why) for c in ranked] == [
        ("Junior", True, ("on_shift", "junior_on_risky_work")),
        ("Lapsed", False, ("no_certificate", "on_shift")),
    ]
    # nobody to pair the junior with: the rules send nobody, and say it as a code
    decision = assign(
        Job("north", "elevator", "P1", "lift-1"), people, [shift(2)], (), {}, NOW, TODAY
    )
    assert (decision.assignees, decision.cause) == ((), "only_juniors")


def test_camera_work_needs_no_certificate_by_default() -> None:
    ranked = candidates(CCTV, [person(1, "Zhao")], [shift(1)], (), {}, NOW, TODAY)
    assert (ranked[0].eligible, ranked[0].why) == (True, ("on_shift",))


def test_a_month_of_preventive_checks_does_not_keep_a_technician_from_a_fault(
    database_url: str,
) -> None:
    """Eight preventive orders at once (a monthly camera check made at start) fill the old
    cap; the fault that fires next still gets the camera technician, and the candidates show
    his load as 8 open, 0 reactive."""
    h = Harness(database_url)
    try:
        tech = h.technician("Zhou Min", "cctv")
        for number in range(8):
            h.orders.create(
                PLANNER,
                site="north",
                asset=f"cam-{number + 1}",
                title=f"Monthly camera check cam-{number + 1}",
                priority="P4",
                skill="cctv",
                source="preventive",
            )
        assert h.orders.load()[tech] == 8
        order, _ = h.orders.open_from_alarm(
            h.fire("cam-9", "cctv", "tamper", "cctv-tamper"), "P3", "cctv"
        )
        assert order.assignees == (tech,)
        (zhou,) = h.orders.candidates(order.id)
        assert (zhou.eligible, zhou.open_orders, zhou.reactive_orders) == (True, 9, 1)
    finally:
        h.close()
