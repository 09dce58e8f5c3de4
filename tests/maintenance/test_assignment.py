"""Automatic assignment, as pure logic: each case with its explanation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from facility_dispatch.maintenance.assignment import (
    Certificate,
    Duty,
    Job,
    Leave,
    Person,
    Policy,
    assign,
)

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)
LICENCE = (Certificate("elevator", "TS-001", date(2028, 1, 1)),)
EXPIRED = (Certificate("elevator", "TS-002", date(2026, 11, 26)),)


def person(
    id_: int,
    name: str,
    skills: str,
    seniority: str = "senior",
    sites: str = "north",
    certificates: tuple[Certificate, ...] = (),
) -> Person:
    return Person(
        id_,
        name,
        frozenset(skills.split(",")),
        seniority,  # type: ignore[arg-type]
        frozenset(sites.split(",")),
        certificates,
    )


def shift(id_: int, on_call: bool = False, site: str | None = None) -> Duty:
    return Duty(id_, NOW - timedelta(hours=4), NOW + timedelta(hours=4), on_call, site)


def run(
    job: Job,
    people: list[Person],
    duties: list[Duty],
    leaves: tuple[Leave, ...] = (),
    load: dict[int, int] | None = None,
    **kw: object,
):  # type: ignore[no-untyped-def]
    return assign(job, people, duties, leaves, load or {}, NOW, TODAY, **kw)  # type: ignore[arg-type]


PLUMBING = Job("north", "plumbing", "P2", "pump-1")
LIFT = Job("north", "elevator", "P2", "lift-1")


def test_nobody_has_the_skill() -> None:
    result = run(PLUMBING, [person(1, "Li", "electrical")], [shift(1)])
    assert result.assignees == ()
    assert result.escalation == "no plumbing technician available at north"
    assert "skill plumbing: nobody" in result.reasons


def test_fewest_open_orders_wins_and_it_is_explained() -> None:
    people = [person(1, "Li", "plumbing"), person(2, "Wang", "plumbing")]
    result = run(PLUMBING, people, [shift(1), shift(2)], load={1: 3, 2: 1})
    assert result.assignees == (2,)
    assert "open orders: Wang 1, Li 3" in result.reasons
    assert result.reasons[-1] == "assigned Wang"


def test_continuity_breaks_a_tie() -> None:
    people = [person(1, "Li", "plumbing"), person(2, "Wang", "plumbing")]
    result = run(PLUMBING, people, [shift(1), shift(2)], last_on_asset=2)
    assert result.assignees == (2,)
    assert "Wang last worked on pump-1" in result.reasons


def test_on_call_only_when_nobody_is_on_shift() -> None:
    people = [person(1, "Li", "plumbing"), person(2, "Wang", "plumbing")]
    assert run(PLUMBING, people, [shift(1, on_call=True), shift(2)]).assignees == (2,)
    called = run(PLUMBING, people, [shift(1, on_call=True)])
    assert called.assignees == (1,)
    assert any(r.startswith("on call (nobody on shift)") for r in called.reasons)


def test_off_shift_people_are_not_sent() -> None:
    late = Duty(1, NOW + timedelta(hours=1), NOW + timedelta(hours=9))
    assert run(PLUMBING, [person(1, "Li", "plumbing")], [late]).assignees == ()


def test_an_expired_licence_keeps_a_technician_off_lift_work() -> None:
    people = [
        person(1, "Li", "elevator", certificates=EXPIRED),
        person(2, "Wang", "elevator", certificates=LICENCE),
    ]
    result = run(LIFT, people, [shift(1), shift(2)], load={2: 5})
    assert result.assignees == (2,)
    assert "valid elevator certificate: Wang; without a valid one: Li" in result.reasons
    nobody = run(LIFT, people[:1], [shift(1)])
    assert nobody.assignees == () and nobody.escalation


def test_a_junior_on_lift_work_is_paired_with_a_senior() -> None:
    people = [
        person(1, "Zhao", "elevator", "junior", certificates=LICENCE),
        person(2, "Qian", "elevator", "senior", certificates=LICENCE),
    ]
    result = run(LIFT, people, [shift(1), shift(2)], load={2: 2})
    assert result.assignees == (1, 2)
    assert "Zhao is junior on risky work: paired with Qian (senior)" in result.reasons


def test_a_junior_on_p1_plumbing_is_paired_too_from_on_call_if_need_be() -> None:
    job = Job("north", "plumbing", "P1", "pump-1")
    people = [person(1, "Zhao", "plumbing", "junior"), person(2, "Qian", "plumbing", "senior")]
    result = run(job, people, [shift(1), shift(2, on_call=True)])
    assert result.assignees == (1, 2)
    routine = run(Job("north", "plumbing", "P3"), people, [shift(1), shift(2, on_call=True)])
    assert routine.assignees == (1,)  # routine plumbing: a junior goes alone


def test_only_juniors_for_risky_work_is_escalated_not_sent_alone() -> None:
    people = [person(1, "Zhao", "elevator", "junior", certificates=LICENCE)]
    result = run(LIFT, people, [shift(1)])
    assert result.assignees == ()
    assert result.escalation == "only junior elevator technicians available for P2 work"


def test_absence_takes_a_technician_out_and_the_substitute_goes() -> None:
    people = [person(1, "Li", "plumbing"), person(2, "Wang", "plumbing")]
    leave = Leave(1, NOW - timedelta(hours=1), NOW + timedelta(days=1))
    result = run(PLUMBING, people, [shift(1), shift(2)], (leave,), load={2: 4})
    assert result.assignees == (2,)
    assert "absent now: Li" in result.reasons
    excluded = run(PLUMBING, people, [shift(1), shift(2)], exclude=frozenset({1}))
    assert excluded.assignees == (2,)


def test_two_sites_keep_their_people_and_site_bound_shifts() -> None:
    people = [
        person(1, "Li", "plumbing", sites="north"),
        person(2, "Wang", "plumbing", sites="north,south"),
    ]
    south = Job("south", "plumbing", "P2")
    assert run(south, people, [shift(1), shift(2)]).assignees == (2,)
    # Wang works both sites but today's shift is at north
    assert run(south, people, [shift(1), shift(2, site="north")]).assignees == ()
    assert run(PLUMBING, people, [shift(1), shift(2, site="north")], load={1: 9}).assignees == (2,)


def test_the_cap_of_open_orders_but_not_for_p1() -> None:
    people = [person(1, "Li", "plumbing")]
    policy = Policy(max_open_orders=3)
    assert run(PLUMBING, people, [shift(1)], load={1: 3}, policy=policy).assignees == ()
    urgent = Job("north", "plumbing", "P1")
    assert run(urgent, people, [shift(1)], load={1: 3}, policy=policy).assignees == (1,)


def test_inactive_people_are_never_chosen() -> None:
    gone = Person(
        1, "Li", frozenset({"plumbing"}), "senior", frozenset({"north"}), (), active=False
    )
    assert run(PLUMBING, [gone], [shift(1)]).assignees == ()
