"""The work-order lifecycle, exhaustively: every pair of states."""

from __future__ import annotations

import itertools

import pytest

from facility_dispatch.maintenance import lifecycle
from facility_dispatch.maintenance.errors import IllegalTransitionError
from facility_dispatch.maintenance.lifecycle import Status

LEGAL = {
    ("open", "assigned"),
    ("open", "cancelled"),
    ("assigned", "acknowledged"),
    ("assigned", "open"),
    ("assigned", "cancelled"),
    ("acknowledged", "in_progress"),
    ("acknowledged", "on_hold"),
    ("acknowledged", "cancelled"),
    ("in_progress", "on_hold"),
    ("in_progress", "resolved"),
    ("in_progress", "cancelled"),
    ("on_hold", "in_progress"),
    ("on_hold", "cancelled"),
    ("resolved", "closed"),
    ("resolved", "in_progress"),
}


@pytest.mark.parametrize(("current", "wanted"), list(itertools.product(Status, Status)))
def test_every_pair_of_states(current: Status, wanted: Status) -> None:
    if (current.value, wanted.value) in LEGAL:
        assert lifecycle.check(current, wanted) is wanted
        return
    with pytest.raises(IllegalTransitionError) as refused:
        lifecycle.check(current, wanted)
    error = refusal = refused.value
    assert error.allowed == lifecycle.allowed(current)
    assert f"cannot go from {current} to {wanted}" in str(refusal)
    for option in error.allowed:
        assert option in str(refusal)


def test_the_spec_line_is_walkable_and_finished_states_are_final() -> None:
    path = ["open", "assigned", "acknowledged", "in_progress", "resolved", "closed"]
    for current, wanted in itertools.pairwise(path):
        lifecycle.check(current, wanted)
    for state in ("open", "assigned", "acknowledged", "in_progress", "on_hold"):
        lifecycle.check(state, "cancelled")  # cancelled from any state before resolved
    assert lifecycle.allowed(Status.CLOSED) == () == lifecycle.allowed(Status.CANCELLED)
    with pytest.raises(IllegalTransitionError, match="none"):
        lifecycle.check("closed", "open")


def test_an_unknown_state_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(IllegalTransitionError) as refused:
        lifecycle.check("open", "done")
    assert refused.value.allowed == (Status.ASSIGNED, Status.CANCELLED)
