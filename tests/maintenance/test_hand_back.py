"""Handing an order back: the rules do not send it straight back to who handed it back, and an
assignment that changes nothing records nothing and tells nobody again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from facility_dispatch.maintenance.assignment import (
    Duty,
    Job,
    Person,
    TimelineEntry,
    assign,
    candidates,
    who_handed_back,
)
from facility_dispatch.maintenance.authority import Rank
from facility_dispatch.maintenance.orders import Actor
from tests.maintenance.harness import PLANNER, Harness

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)
PLUMBING = Job("north", "plumbing", "P3", "pump-1")
WANG = Person(1, "Wang Wei", frozenset({"plumbing"}), "senior", frozenset({"north"}))
LI = Person(2, "Li Na", frozenset({"plumbing"}), "senior", frozenset({"north"}))


def on_shift(id_: int) -> Duty:
    return Duty(id_, NOW - timedelta(hours=4), NOW + timedelta(hours=4))


@pytest.mark.parametrize(
    ("timeline", "returned"),
    [
        # the hand-back entry names who handed it back
        (
            [
                ("assigned", None, None, {"assignees": [1]}),
                ("transition", "assigned", "open", {"handed_back": [1]}),
            ],
            {1},
        ),
        # an older entry without the names: whoever the last assignment had assigned
        (
            [
                ("assigned", None, None, {"assignees": [2]}),
                ("assigned", None, None, {"assignees": [1, 3]}),
                ("transition", "assigned", "open", {}),
            ],
            {1, 3},
        ),
        # a substitute after an absence, then handed back by the substitute
        (
            [
                ("assigned", None, None, {"assignees": [1]}),
                ("reassigned", None, None, {"after": [2]}),
                ("transition", "assigned", "open", {}),
            ],
            {2},
        ),
        # two hand-backs by two people: both
        (
            [
                ("assigned", None, None, {"assignees": [1]}),
                ("transition", "assigned", "open", {"handed_back": [1]}),
                ("assigned", None, None, {"assignees": [2]}),
                ("transition", "assigned", "open", {"handed_back": [2]}),
            ],
            {1, 2},
        ),
        # acknowledged, never handed back: nobody
        (
            [
                ("assigned", "open", "assigned", {"assignees": [1]}),
                ("transition", "assigned", "acknowledged", {}),
            ],
            set(),
        ),
    ],
)
def test_who_handed_back_reads_the_timeline(
    timeline: list[TimelineEntry], returned: set[int]
) -> None:
    assert who_handed_back(timeline) == frozenset(returned)


def test_the_rules_pass_over_who_handed_it_back_and_say_so() -> None:
    duties = [on_shift(1), on_shift(2)]
    loads = {1: 0, 2: 3}  # Wang is the less loaded: without the hand-back he would go
    assert assign(PLUMBING, [WANG, LI], duties, [], loads, NOW, TODAY).assignees == (1,)
    decision = assign(
        PLUMBING, [WANG, LI], duties, [], loads, NOW, TODAY, handed_back=frozenset({1})
    )
    assert decision.assignees == (2,)
    assert "handed this order back: Wang Wei" in decision.reasons
    alone = assign(PLUMBING, [WANG], [on_shift(1)], [], {}, NOW, TODAY, handed_back=frozenset({1}))
    assert alone.assignees == () and alone.cause == "nobody_available"
    ranked = candidates(
        PLUMBING, [WANG, LI], duties, [], loads, NOW, TODAY, handed_back=frozenset({1})
    )
    assert [(c.person.name, c.eligible, c.why) for c in ranked] == [
        ("Li Na", True, ("on_shift",)),
        ("Wang Wei", False, ("handed_back", "on_shift")),
    ]


@pytest.fixture
def h(database_url: str) -> Iterator[Harness]:
    harness = Harness(database_url)
    yield harness
    harness.close()


def test_a_handed_back_order_goes_to_someone_else_and_a_same_choice_says_nothing(
    h: Harness,
) -> None:
    wang = h.technician("Wang Wei", "plumbing")
    order = h.orders.create(
        PLANNER, site="north", title="Leak in 5-101", priority="P3", skill="plumbing",
        source="manual",
    )  # fmt: skip
    assert order.assignees == (wang,)
    handed = h.orders.transition(order.id, "open", Actor("Wang Wei", wang, Rank.TECHNICIAN))
    assert handed.status == "open" and handed.timeline[-1].data["handed_back"] == [wang]
    # the sweep of unassigned orders does not send it straight back to him: nobody else can go
    assert h.escalation.retry_unassigned() == 0
    waiting = h.orders.get(order.id)
    assert waiting is not None and waiting.assignees == () and waiting.status == "open"
    assert [c.why for c in h.orders.candidates(order.id)] == [("handed_back", "on_shift")]
    li = h.technician("Li Na", "plumbing")
    assert h.escalation.retry_unassigned() == 1
    taken = h.orders.get(order.id)
    assert taken is not None and taken.assignees == (li,)
    assert "handed this order back: Wang Wei" in (taken.timeline[-1].note or "")
    # the rules again, or a planner naming the same person: nothing recorded, nobody told
    told = [e.type for e in h.events.since(0)].count("work_order.assigned")
    for again in (None, [li]):
        same = h.orders.assign(order.id, PLANNER, again)
        assert same.assignees == (li,) and same.timeline == taken.timeline
    assert [e.type for e in h.events.since(0)].count("work_order.assigned") == told
    # a different choice is recorded, and a planner may still choose who handed it back
    moved = h.orders.assign(order.id, PLANNER, [wang])
    assert moved.assignees == (wang,) and moved.timeline[-1].event == "assigned"
    assert [e.type for e in h.events.since(0)].count("work_order.assigned") == told + 1
