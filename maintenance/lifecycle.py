"""The work-order lifecycle of SPEC section 4, as a pure state machine.

    open -> assigned -> acknowledged -> in_progress -> resolved -> closed
    on_hold (waiting for parts or access) from acknowledged or in_progress, back to in_progress
    cancelled from any state before resolved

Two steps beyond the SPEC's line, because the work needs them: ``resolved -> in_progress``
reopens an order whose fix did not hold (the alarm fired again, or the resident says no), and
``assigned -> open`` hands an order back when nobody who was assigned can take it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from facility_dispatch.maintenance.errors import IllegalTransitionError


class Status(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


S = Status
TRANSITIONS: Final[dict[Status, tuple[Status, ...]]] = {
    S.OPEN: (S.ASSIGNED, S.CANCELLED),
    S.ASSIGNED: (S.ACKNOWLEDGED, S.OPEN, S.CANCELLED),
    S.ACKNOWLEDGED: (S.IN_PROGRESS, S.ON_HOLD, S.CANCELLED),
    S.IN_PROGRESS: (S.ON_HOLD, S.RESOLVED, S.CANCELLED),
    S.ON_HOLD: (S.IN_PROGRESS, S.CANCELLED),
    S.RESOLVED: (S.CLOSED, S.IN_PROGRESS),
    S.CLOSED: (),
    S.CANCELLED: (),
}

FINISHED: Final = frozenset({S.CLOSED, S.CANCELLED})
"""No work is left: a new alarm of the same fault opens a new order."""
ACTIVE: Final = frozenset(s for s in Status if s not in FINISHED)
"""Alarms of the order's (asset, fault) join it, a resolved one included (the fix did not hold)."""
RESPONDED: Final = frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CLOSED})
DONE: Final = frozenset({S.RESOLVED, S.CLOSED})
WORKING: Final = frozenset({S.ASSIGNED, S.ACKNOWLEDGED, S.IN_PROGRESS, S.ON_HOLD})
"""An assignee is busy with it: it counts against their load."""


def allowed(current: Status) -> tuple[Status, ...]:
    return TRANSITIONS[current]


def check(current: Status | str, wanted: Status | str) -> Status:
    """The new status if the step is allowed; else :class:`IllegalTransitionError` naming the
    allowed steps."""
    current = Status(current)
    try:
        target = Status(wanted)
    except ValueError:
        raise IllegalTransitionError(current, str(wanted), tuple(allowed(current))) from None
    if target not in TRANSITIONS[current]:
        raise IllegalTransitionError(current, target, tuple(allowed(current)))
    return target
