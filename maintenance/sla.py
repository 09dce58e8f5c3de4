"""Service levels: response and resolution deadlines per priority, and their breaches. Pure.

Defaults from SPEC section 4; a site's contract may set its own (DOMAIN: property service
levels differ by contract, e.g. level 1 asks for urgent repairs on site within 30 minutes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from facility_dispatch.maintenance.lifecycle import DONE, RESPONDED, Status

Priority = Literal["P1", "P2", "P3", "P4"]
PRIORITIES: Final = ("P1", "P2", "P3", "P4")


@dataclass(frozen=True, slots=True)
class Level:
    respond: timedelta
    resolve: timedelta


DEFAULT_LEVELS: Final[dict[str, Level]] = {
    "P1": Level(timedelta(minutes=15), timedelta(hours=4)),
    "P2": Level(timedelta(hours=1), timedelta(hours=24)),
    "P3": Level(timedelta(hours=4), timedelta(days=3)),
    "P4": Level(timedelta(days=1), timedelta(days=14)),
}


def deadlines(
    priority: str, created_at: datetime, levels: Mapping[str, Level] | None = None
) -> tuple[datetime, datetime]:
    """(respond_by, resolve_by) of an order created at ``created_at``."""
    level = (levels or DEFAULT_LEVELS)[priority]
    return created_at + level.respond, created_at + level.resolve


BreachKind = Literal["response", "resolution"]


@dataclass(frozen=True, slots=True)
class Breach:
    kind: BreachKind
    due: datetime
    late_by: timedelta


def breaches(
    status: Status | str,
    respond_by: datetime,
    resolve_by: datetime,
    now: datetime,
    already: frozenset[str] = frozenset(),
) -> list[Breach]:
    """The deadlines passed without the order getting there, not reported before."""
    status = Status(status)
    found = []
    if status in (Status.CANCELLED,):
        return []
    if "response" not in already and status not in RESPONDED and now > respond_by:
        found.append(Breach("response", respond_by, now - respond_by))
    if "resolution" not in already and status not in DONE and now > resolve_by:
        found.append(Breach("resolution", resolve_by, now - resolve_by))
    return found


def met(
    responded_at: datetime | None,
    resolved_at: datetime | None,
    respond_by: datetime,
    resolve_by: datetime,
) -> dict[str, bool | None]:
    """Whether each deadline was kept (None: not yet known), for the KPIs."""
    return {
        "response": None if responded_at is None else responded_at <= respond_by,
        "resolution": None if resolved_at is None else resolved_at <= resolve_by,
    }
