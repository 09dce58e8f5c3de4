"""How the dashboard shows domain values: orders of severity, headline metrics, SLA clocks.

Pure functions over the service's values, so the pages stay thin and this stays testable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from facility_dispatch.ingest.catalogue import spec_for
from facility_dispatch.maintenance import lifecycle
from facility_dispatch.maintenance.orders import WorkOrder
from facility_dispatch.rules.alarms import AlarmRecord

KINDS: Final = ("elevator", "water", "power", "cctv")
STATUSES: Final = ("ok", "alarm", "offline", "maintenance")
SEVERITIES: Final = ("critical", "major", "minor", "warning")
PRIORITIES: Final = ("P1", "P2", "P3", "P4")
BOARD_COLUMNS: Final = ("open", "assigned", "acknowledged", "in_progress", "on_hold", "resolved")
FINISHED: Final = ("closed", "cancelled")

HEADLINE: Final[dict[str, tuple[str, ...]]] = {
    "elevator": ("car_floor", "door_state"),
    "water": ("pressure_bar", "tank_level_pct"),
    "power": ("voltage_v", "ups_battery_pct"),
    "cctv": ("fps", "storage_used_pct"),
}
"""The one or two readings a tile shows: what an engineer checks first on that kind."""


def value_text(
    kind: str, metric: str, value: Any, words: Callable[[str], str | None] | None = None
) -> str:
    """A reading with its unit, in the visitor's words when ``words`` (a translator's ``get``)
    is given: a boolean as the state it means (a leak sensor "wet" or "dry", ``state.<metric>``,
    else yes / no), an enumeration's value (``enum.<metric>.<value>``), the unit
    (``unit_of.<unit>``); numbers to two decimals."""
    say = words or (lambda _key: None)
    if isinstance(value, bool):
        key = "true" if value else "false"
        return (
            say(f"state.{metric}.{key}")
            or say(f"value.{'yes' if value else 'no'}")
            or ("✓" if value else "✗")
        )
    spec = spec_for(kind, metric)
    unit = spec.unit if spec else ""
    if metric == "car_floor" and isinstance(value, int | float):
        floor = int(value)
        return f"F{floor}" if floor > 0 else f"B{-floor}" if floor < 0 else "G"
    if isinstance(value, str):
        return say(f"enum.{metric}.{value}") or value
    text = f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    unit = (say(f"unit_of.{unit}") or unit) if unit else ""
    return f"{text} {unit}".strip() if unit and unit != "floor" else text


def plain_value(value: Any) -> str:
    """A value whose metric is not at hand (an alarm's): booleans as JSON writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def headline(view: dict[str, Any], words: Callable[[str], str | None] | None = None) -> list[str]:
    metrics = view.get("metrics") or {}
    return [
        value_text(view["kind"], name, metrics[name], words)
        for name in HEADLINE.get(view["kind"], ())
        if metrics.get(name) is not None
    ]


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def alarm_order(alarms: Iterable[AlarmRecord]) -> list[AlarmRecord]:
    """Firing before pending, then the worst first, then the newest."""
    return sorted(
        alarms,
        key=lambda a: (
            a.state != "firing",
            severity_rank(a.severity),
            -a.started_at.timestamp(),
        ),
    )


@dataclass(frozen=True, slots=True)
class SlaClock:
    """The deadline an order is working against now, and whether it was missed."""

    due: datetime
    kind: str  # "respond" or "resolve"
    breached: bool


def sla_clock(order: WorkOrder, now: datetime) -> SlaClock | None:
    """Before someone responds, the response deadline; then the resolution deadline; none once
    resolved. Red (breached) as soon as the deadline passes, before the escalation job notes it."""
    if order.status in ("resolved", "closed", "cancelled"):
        return None
    if order.responded_at is None:
        return SlaClock(order.respond_by, "respond", order.breached or now > order.respond_by)
    return SlaClock(order.resolve_by, "resolve", order.breached or now > order.resolve_by)


NEAR_BREACH: Final = timedelta(minutes=30)
"""An order whose deadline is this close shows on the overview among what needs people."""


STILL_NEEDED: Final = frozenset(
    s.value for s in lifecycle.Status if s not in lifecycle.DONE | lifecycle.FINISHED
)
"""Someone still has to take or finish the order: open, assigned, acknowledged, in progress or
on hold. A resolved order waits only for its confirmation; a closed or cancelled one for nobody."""


def needs_people(order: WorkOrder, clock: SlaClock | None, now: datetime) -> bool:
    """P1 and P2 orders someone still has to take or finish, and any such order past or near its
    deadline: what the overview keeps showing once the alarms are quiet."""
    if order.status not in STILL_NEEDED:
        return False
    return order.priority in ("P1", "P2") or (clock is not None and clock.due - now <= NEAR_BREACH)


UNACCEPTED: Final = ("open", "assigned")
"""Nobody has accepted the order yet (it is not acknowledged)."""


def unacknowledged(order: WorkOrder, clock: SlaClock | None, now: datetime) -> bool:
    """Needs people and nobody has accepted it yet: the overview's "not yet accepted" counter
    and the list it links to count with this one test, so the two cannot disagree."""
    return order.status in UNACCEPTED and needs_people(order, clock, now)


def needing_people(
    orders: Iterable[WorkOrder], clocks: dict[int, SlaClock | None], now: datetime
) -> list[WorkOrder]:
    """What still needs people once the alarms are quiet (``needs_people``); P1 first, then
    the nearer deadline."""
    found = [o for o in orders if needs_people(o, clocks.get(o.id), now)]
    return sorted(
        found, key=lambda o: (o.priority, o.respond_by if o.responded_at is None else o.resolve_by)
    )


def choice(value: str, allowed: Iterable[str]) -> str:
    """A filter's value if it is one the page offers, else "" (all)."""
    return value if value in allowed else ""


def overdue(order: WorkOrder, clock: SlaClock | None) -> bool:
    """Missed a deadline, or past one before the escalation job has noted it."""
    return order.breached or (clock is not None and clock.breached)


def natural(name: str) -> tuple[Any, ...]:
    """Sort key that reads numbers as numbers: cam-2 before cam-10."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def by_status(orders: Iterable[WorkOrder]) -> dict[str, list[WorkOrder]]:
    """Board columns, each with the most urgent first (priority, then the nearer deadline)."""
    columns: dict[str, list[WorkOrder]] = {status: [] for status in BOARD_COLUMNS}
    for order in orders:
        if order.status in columns:
            columns[order.status].append(order)
    for cards in columns.values():
        cards.sort(key=urgency)
    return columns


def urgency(order: WorkOrder) -> tuple[str, datetime]:
    """P1 first, then the nearer deadline: the order of every list of work orders."""
    return (order.priority, order.resolve_by)


def ranks(orders: Iterable[WorkOrder]) -> dict[int, int]:
    """Order id -> place in one list of all the board's cards, most urgent first: on a phone
    the columns give way to this one list, so a P1 is on the first screen whatever its status
    (the cards stay in their columns in the page; the style sheet orders them by rank)."""
    return {o.id: place for place, o in enumerate(sorted(orders, key=urgency))}


def certificate_state(expires_on: str, today: str, soon: str) -> str:
    """``expired``, ``expiring`` (before ``soon``) or ``valid``: ISO dates compare as text."""
    if expires_on < today:
        return "expired"
    if expires_on < soon:
        return "expiring"
    return "valid"
