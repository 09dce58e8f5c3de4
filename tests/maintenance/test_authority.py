"""Who may do what to an order: every action x rank x own or other order x priority."""

from __future__ import annotations

import itertools

import pytest

from facility_dispatch.maintenance import authority
from facility_dispatch.maintenance.authority import Act, OrderAccess, Rank, Verdict
from facility_dispatch.maintenance.errors import NeedsPlannerError, NotPermittedError, NotYoursError
from facility_dispatch.maintenance.lifecycle import Status
from facility_dispatch.maintenance.orders import DISPATCHER, SCHEDULER, Actor

A, N = Verdict.ALLOWED, Verdict.NEEDS_PLANNER
ME = 7
PRIORITIES = ("P1", "P2", "P3", "P4")

# What a technician may do on an order assigned to them: (at P1, at P2 to P4).
OWN: dict[tuple[Act, Status | None], tuple[Verdict, Verdict]] = {
    (Act.MOVE, Status.OPEN): (A, A),  # hand it back
    (Act.MOVE, Status.ASSIGNED): (A, A),
    (Act.MOVE, Status.ACKNOWLEDGED): (A, A),
    (Act.MOVE, Status.IN_PROGRESS): (A, A),  # reopen too: the fix did not hold
    (Act.MOVE, Status.ON_HOLD): (A, A),
    (Act.MOVE, Status.RESOLVED): (A, A),
    (Act.MOVE, Status.CLOSED): (N, A),
    (Act.MOVE, Status.CANCELLED): (N, A),
    (Act.CHECKLIST, None): (A, A),
    (Act.NOTE, None): (A, A),
    (Act.PARTS, None): (A, A),
    (Act.ASSIGN, None): (N, N),
}


def test_the_table_covers_every_action_and_step() -> None:
    moves = {to for act, to in OWN if act == Act.MOVE}
    assert moves == set(Status)
    assert {act for act, _ in OWN} == set(Act)


def expected(rank: Rank, own: bool, priority: str, act: Act, to: Status | None) -> Verdict:
    if rank == Rank.VIEWER:
        return Verdict.READ_ONLY
    if rank == Rank.PLANNER:
        return Verdict.ALLOWED
    decided = OWN[(act, to)][0 if priority == "P1" else 1]
    if decided == Verdict.ALLOWED and not own:
        return Verdict.NOT_ASSIGNED
    return decided  # a planner's decision stays one whoever the order is assigned to


CASES = [
    (rank, own, priority, act, to)
    for (act, to), rank, own, priority in itertools.product(OWN, Rank, (True, False), PRIORITIES)
]


@pytest.mark.parametrize(("rank", "own", "priority", "act", "to"), CASES)
def test_every_action_rank_owner_and_priority(
    rank: Rank, own: bool, priority: str, act: Act, to: Status | None
) -> None:
    actor = Actor("Li Na", ME, rank)
    order = OrderAccess("WO-2026-000001", priority, (ME, 9) if own else (9,))
    decided = authority.verdict(actor, order, act, to)
    assert decided == expected(rank, own, priority, act, to)
    if decided == Verdict.ALLOWED:
        authority.check(actor, order, act, to)
    else:
        with pytest.raises(NotPermittedError):
            authority.check(actor, order, act, to)


@pytest.mark.parametrize("act", list(Act))
def test_a_technician_token_for_no_technician_acts_on_no_order(act: Act) -> None:
    order = OrderAccess("WO-2026-000001", "P3", (ME,))
    assert authority.verdict(Actor("kiosk", None, Rank.TECHNICIAN), order, act) in (
        Verdict.NOT_ASSIGNED,
        Verdict.NEEDS_PLANNER,
    )


@pytest.mark.parametrize("actor", [DISPATCHER, SCHEDULER, Actor("planner")])
def test_the_service_and_planners_act_on_any_order(actor: Actor) -> None:
    order = OrderAccess("WO-2026-000001", "P1", ())
    for act, to in OWN:
        assert authority.verdict(actor, order, act, to) == Verdict.ALLOWED


def test_refusals_say_why_and_who_may() -> None:
    p1 = OrderAccess("WO-2026-000001", "P1", (ME,))
    technician = Actor("Li Na", ME, Rank.TECHNICIAN)
    stranger = Actor("Zhao", 8, Rank.TECHNICIAN)
    with pytest.raises(NotYoursError) as not_hers:
        authority.check(stranger, p1, Act.PARTS)
    assert str(not_hers.value) == (
        "WO-2026-000001 is not assigned to Zhao: a technician acts only on the orders assigned "
        "to them (moving parts on WO-2026-000001); a planner may, or may assign it to them"
    )
    with pytest.raises(NeedsPlannerError) as closing:
        authority.check(technician, p1, Act.MOVE, "closed")
    assert str(closing.value) == (
        "closing WO-2026-000001 needs a planner: a P1 order is closed or cancelled by a planner"
    )
    with pytest.raises(NeedsPlannerError, match=r"^cancelling WO-2026-000001 needs a planner"):
        authority.check(stranger, p1, Act.MOVE, "cancelled")
    with pytest.raises(NeedsPlannerError, match="a planner chooses who works on an order"):
        authority.check(technician, p1, Act.ASSIGN)
    with pytest.raises(NotPermittedError, match="may read orders but not change them"):
        authority.check(Actor("screen", None, Rank.VIEWER), p1, Act.NOTE)
    with pytest.raises(NotYoursError, match=r"\(moving WO-2026-000001 to done\)"):
        authority.check(stranger, p1, Act.MOVE, "done")  # not a status: still refused, and said
