"""Out-of-service slots: never two assets of one group stopped at overlapping times.

A group is the lifts of one building, or the pumps of one booster station (the asset
registry's ``building`` names either); assets whose building is unknown are one group: the
safe guess. Several plans may hit one building on one day (a half-monthly lift visit, a
yearly test of its neighbour): each new slot is placed after every slot already held in the
group, by any plan, whatever its interval. Pure: slots in, start times out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Slot:
    """An asset out of service from ``starts_at`` to ``ends_at`` (end excluded)."""

    asset: str
    starts_at: datetime
    ends_at: datetime

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        return self.starts_at < ends_at and starts_at < self.ends_at


def natural(name: str) -> tuple[tuple[int, int | str], ...]:
    """Name order with numbers as numbers: lift-2 before lift-10."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name)
    )


def clash(held: Iterable[Slot], starts_at: datetime, ends_at: datetime) -> Slot | None:
    """The first held slot that overlaps the wanted one, if any."""
    return min(
        (slot for slot in held if slot.overlaps(starts_at, ends_at)),
        key=lambda slot: slot.starts_at,
        default=None,
    )


def place(
    assets: Iterable[str], earliest: datetime, duration: timedelta, held: Sequence[Slot] = ()
) -> dict[str, datetime]:
    """Each asset's start, in name order: the earliest moment from ``earliest`` on at which
    its ``duration`` overlaps no slot held in the group nor one placed before it."""
    taken = list(held)
    starts: dict[str, datetime] = {}
    for asset in sorted(set(assets), key=natural):
        start = earliest
        while (other := clash(taken, start, start + duration)) is not None:
            start = other.ends_at
        starts[asset] = start
        taken.append(Slot(asset, start, start + duration))
    return starts
