"""Who may do what to a work order: pure, over plain data.

Planners and admins act on any order, and so does the service itself (the dispatcher, the
scheduler). A technician acts only on the orders assigned to them: lifecycle steps, checklist
items, notes, and the parts reserved and used on it. A viewer reads and changes nothing.

Two steps stay a planner's even on a technician's own order, for the priorities in
:data:`PLANNER_CONFIRMS` (P1 only): closing it (``resolved -> closed``) and cancelling it. A P1
is a trapped passenger, a burst main, a site without power; closing one says the hazard is gone
and cancelling one says there was none, and that is for a supervisor to say, not the person
whose work it judges. P2 to P4 stay as they were: the technician who did the work may close
or cancel it (the resident confirmed by phone, a duplicate report). Widen the set to add P2.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Final

from facility_dispatch.maintenance.errors import NeedsPlannerError, NotPermittedError, NotYoursError
from facility_dispatch.maintenance.lifecycle import Status

if TYPE_CHECKING:
    from facility_dispatch.maintenance.orders import Actor


class Rank(IntEnum):
    """The API's roles as work orders see them: an admin is a planner here."""

    VIEWER = 1
    TECHNICIAN = 2
    PLANNER = 3


class Act(StrEnum):
    """What may be done to an existing order."""

    MOVE = "move"  # a lifecycle step: which one is ``to``
    CHECKLIST = "checklist"  # tick an item
    NOTE = "note"
    PARTS = "parts"  # reserve, release, consume or return parts on it
    ASSIGN = "assign"  # choose who works on it


class Verdict(StrEnum):
    ALLOWED = "allowed"
    READ_ONLY = "read_only"  # a viewer
    NOT_ASSIGNED = "not_assigned"  # a technician, on an order not assigned to them
    NEEDS_PLANNER = "needs_planner"  # a planner's decision, whoever the order is assigned to


PLANNER_CONFIRMS: Final = frozenset({"P1"})
"""Priorities whose closing and cancelling need a planner (see the module's docstring)."""
PLANNER_STEPS: Final = frozenset({Status.CLOSED, Status.CANCELLED})


@dataclass(frozen=True, slots=True)
class OrderAccess:
    """What the decision needs to know of an order."""

    number: str
    priority: str
    assignees: Collection[int]


def verdict(actor: Actor, order: OrderAccess, act: Act, to: str | None = None) -> Verdict:
    """May ``actor`` do ``act`` (for a lifecycle step, to ``to``) on ``order``?"""
    if actor.rank >= Rank.PLANNER:
        return Verdict.ALLOWED
    if actor.rank < Rank.TECHNICIAN:
        return Verdict.READ_ONLY
    if act == Act.ASSIGN or (
        act == Act.MOVE and to in PLANNER_STEPS and order.priority in PLANNER_CONFIRMS
    ):
        return Verdict.NEEDS_PLANNER  # first: being assigned would not change it
    if actor.technician_id is None or actor.technician_id not in order.assignees:
        return Verdict.NOT_ASSIGNED
    return Verdict.ALLOWED


def check(actor: Actor, order: OrderAccess, act: Act, to: str | None = None) -> None:
    """Nothing if allowed; else a :class:`NotPermittedError` saying why and who may."""
    decided = verdict(actor, order, act, to)
    if decided == Verdict.ALLOWED:
        return
    doing = _doing(order, act, to)
    if decided == Verdict.NOT_ASSIGNED:
        raise NotYoursError(
            f"{order.number} is not assigned to {actor.name}: a technician acts only on the "
            f"orders assigned to them ({doing}); a planner may, or may assign it to them"
        )
    if decided == Verdict.NEEDS_PLANNER:
        why = (
            f"a {order.priority} order is closed or cancelled by a planner"
            if act == Act.MOVE
            else "a planner chooses who works on an order"
        )
        raise NeedsPlannerError(f"{doing} needs a planner: {why}")
    raise NotPermittedError(f"{actor.name} may read orders but not change them ({doing})")


def _doing(order: OrderAccess, act: Act, to: str | None) -> str:
    if act == Act.MOVE:
        verb = {"closed": "closing", "cancelled": "cancelling"}.get(to or "")
        return f"{verb} {order.number}" if verb else f"moving {order.number} to {to}"
    return {
        Act.CHECKLIST: f"ticking {order.number}'s checklist",
        Act.NOTE: f"adding a note to {order.number}",
        Act.PARTS: f"moving parts on {order.number}",
        Act.ASSIGN: f"assigning {order.number}",
    }[act]
