"""The pure core of notifications: which routes an event takes, when repeats and escalation
fall due, and how long to wait before trying a failing receiver again.

Everything here takes plain data and an explicit ``now`` and returns decisions; the outbox
(:mod:`facility_dispatch.notify.outbox`) records them and the Apprise adapter sends them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from facility_dispatch.maintenance import lifecycle
from facility_dispatch.maintenance.orders import WorkOrder
from facility_dispatch.notify.config import MatchSpec, NotifyConfig, Route

EVENT_NAMES: Final = {
    "alarm.fired": "alarm.fired",
    "work_order.created": "work_order.opened",
    "work_order.assigned": "work_order.assigned",
    "work_order.escalated": "work_order.escalated",
    "work_order.breached": "work_order.breached",
    "request.received": "request.received",
    "request.feedback_low": "request.feedback_low",
    "part.low_stock": "part.low_stock",
    "plan.due": "plan.due",
    "handover.flagged": "handover.flagged",
    "round.missed": "round.missed",
    "roster.gap": "roster.gap",
    "compliance.due_soon": "compliance.due_soon",
    "compliance.overdue": "compliance.overdue",
}
"""The event log's types (kernel/events.py) that can be routed, and their SPEC names: the log
says ``work_order.created`` where SPEC section 6 says ``work_order.opened``."""


@dataclass(frozen=True, slots=True)
class Happening:
    """What a route matches on, taken from one event of the log."""

    event: str
    site: str | None
    priority: str | None = None
    kind: str | None = None
    severity: str | None = None
    work_order_id: int | None = None


def happening_of(type_: str, payload: dict[str, Any], site: str | None) -> Happening | None:
    """The routable view of a logged event, or None for an event no route can match."""
    name = EVENT_NAMES.get(type_)
    if name is None:
        return None
    order = payload.get("work_order_id")
    return Happening(
        name,
        site or payload.get("site"),
        payload.get("priority"),
        payload.get("kind"),
        payload.get("severity"),
        order if isinstance(order, int) else None,
    )


def _field(wanted: tuple[str, ...] | None, value: str | None) -> bool:
    return wanted is None or "*" in wanted or value in wanted


def matches(match: MatchSpec, happening: Happening) -> bool:
    sites = (match.site,) if isinstance(match.site, str) else match.site
    return (
        _field(match.event, happening.event)
        and _field(match.priority, happening.priority)
        and _field(sites, happening.site)
        and _field(match.kind, happening.kind)
        and _field(match.severity, happening.severity)
    )


def routes_for(config: NotifyConfig, happening: Happening) -> tuple[Route, ...]:
    """The routes ``happening`` takes: the first that matches, and after it the next ones as
    long as each matched route says ``continue`` (Alertmanager's routing tree, flattened)."""
    taken: list[Route] = []
    for route in config.routes:
        if matches(route.match, happening):
            taken.append(route)
            if not route.continue_:
                break
    return tuple(taken)


@dataclass(frozen=True, slots=True)
class Round:
    """One sending of a watched event: round 0 is the first message, then repeats and the
    escalation in time order."""

    number: int
    at: datetime
    targets: tuple[str, ...]
    escalation: bool


def schedule(route: Route, started: datetime) -> Iterator[Round]:
    """Every round of ``route`` for an event at ``started``, in time order, until the repeat
    limit. Once escalated, each repeat goes to ``escalate_to`` as well: the supervisor keeps
    hearing about it until someone acknowledges. An escalation that falls on a repeat is one
    round, so nobody gets two messages at once."""
    yield Round(0, started, route.to, False)
    escalate_at = started + route.escalate_after if route.escalate_after is not None else None
    repeats = (
        [started + route.repeat * k for k in range(1, route.repeat_limit + 1)]
        if route.repeat is not None
        else []
    )
    times = sorted(set(repeats) | ({escalate_at} if escalate_at is not None else set()))
    if repeats:  # after the last repeat nothing more is sent, escalation included
        times = [t for t in times if t <= repeats[-1]]
    number = 1
    for at in times:
        targets: list[str] = list(route.to) if at in repeats else []
        escalated = escalate_at is not None and at >= escalate_at
        if escalated:
            targets += [t for t in route.escalate_to if t not in targets]
        yield Round(number, at, tuple(targets), at == escalate_at)
        number += 1


def due_rounds(route: Route, started: datetime, next_round: int, now: datetime) -> list[Round]:
    """The rounds from ``next_round`` on that are due at ``now`` (the caller records them and
    moves its ``next_round`` past them)."""
    due = []
    for round_ in schedule(route, started):
        if round_.at > now:
            break
        if round_.number >= next_round:
            due.append(round_)
    return due


def finished(route: Route, started: datetime, next_round: int) -> bool:
    """Whether every round of the route has been recorded."""
    return next_round > max((r.number for r in schedule(route, started)), default=0)


def acknowledged(order: WorkOrder) -> bool:
    """Whether someone took the order on (or it is over): repeats and escalation stop."""
    return order.responded_at is not None or order.status in {s.value for s in lifecycle.FINISHED}


def retry_at(attempts: int, now: datetime, first: timedelta, cap: timedelta) -> datetime:
    """When to try a failing receiver again after ``attempts`` failed attempts: doubling from
    ``first``, never more than ``cap`` apart (a receiver back after an outage hears within
    ``cap``)."""
    exponent = min(max(attempts - 1, 0), 30)
    wait: timedelta = min(first * (2**exponent), cap)
    return now + wait


def gives_up(created: datetime, now: datetime, give_up_after: timedelta) -> bool:
    """A message still failing this long after it was recorded is marked failed: news of a
    trapped passenger a day late helps nobody, and the receiver's owner sees the error."""
    return now - created >= give_up_after
