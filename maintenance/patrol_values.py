"""Patrol routes, checkpoints, rounds and visits as values (read back from their rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from facility_dispatch.maintenance.roster_sql import CheckpointRow, VisitRow


@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: int
    position: int
    name: str
    building: str | None
    asset: str | None
    skill: str
    token: str
    items: tuple[dict[str, str], ...]


@dataclass(frozen=True, slots=True)
class Route:
    id: int
    site: str
    name: str
    template: str | None
    times: tuple[str, ...]
    window: timedelta
    active: bool
    checkpoints: tuple[Checkpoint, ...]


@dataclass(frozen=True, slots=True)
class Visit:
    checkpoint_id: int
    at: datetime
    by: str
    results: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Round:
    id: int
    route_id: int
    key: str
    starts_at: datetime
    due_by: datetime
    started_at: datetime | None
    started_by: str | None
    finished_at: datetime | None
    missed_at: datetime | None
    findings: int
    visits: tuple[Visit, ...]

    @property
    def visited(self) -> tuple[int, ...]:
        return tuple(v.checkpoint_id for v in self.visits)

    def state(self, now: datetime) -> str:
        """``done``, ``late`` (done after its deadline), ``missed``, ``walking``, ``due``."""
        if self.finished_at is not None:
            return "late" if self.finished_at > self.due_by else "done"
        if self.missed_at is not None or now > self.due_by:
            return "missed"
        return "walking" if self.visits else "due"


def checkpoint_of(row: CheckpointRow) -> Checkpoint:
    return Checkpoint(
        row.id,
        row.position,
        row.name,
        row.building,
        row.asset,
        row.skill,
        row.token,
        tuple(row.items or ()),
    )


def visit_of(row: VisitRow) -> Visit:
    return Visit(row.checkpoint_id, row.at, row.by, tuple(row.results or ()))
