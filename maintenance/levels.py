"""Maintenance levels that stack: one plan per lift, the level of each visit from its number.

TSG T5002-2017 (电梯维护保养规则) sets half-monthly, quarterly, half-yearly and yearly items, and
a visit of a higher level also does every item of the levels below (a yearly visit is also the
half-yearly, quarterly and half-monthly one). A "levels" plan runs every 15 days; the level of
a visit is decided by its number counted from the plan's start, not by the calendar:

* visit 0, 24, 48 ... yearly; 12, 36 ... half-yearly; 6, 18, 30 ... quarterly; the rest
  half-monthly.

Counting visits keeps the ladder exact whatever the time zone or daylight-saving rules (the
n-th visit is the n-th, wall clock or not), and every level comes at least as often as the
regulation asks: quarterly every 90 days, half-yearly every 180, yearly every 360 (a calendar
rule would have to pick which 15-day visit is "the" quarterly one and could let it slip past
the quarter). The price: the yearly visit moves 5 days earlier each calendar year. A plan
whose start is edited counts again from its new start (visit 0 of it is a yearly one).

Pure: plain data in, decisions out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Level:
    """One rung: every ``every``-th visit, its checklist template and its names."""

    name: str
    every: int
    template: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Ladder:
    """The levels of one regulation, highest first, and the base interval of its visits."""

    name: str
    base: str
    levels: tuple[Level, ...]

    def level(self, visit: int) -> Level:
        """The highest level due at visit number ``visit`` (0 is the first)."""
        for level in self.levels:
            if visit % level.every == 0:
                return level
        return self.levels[-1]

    def stacked(self, level: Level) -> tuple[Level, ...]:
        """The level and every level below it, lowest first (the order of the checklist)."""
        index = self.levels.index(level)
        return tuple(reversed(self.levels[index:]))


TSG_T5002: Final = Ladder(
    "tsg-t5002",
    "15d",
    (
        Level("yearly", 24, "tsg-t5002-yearly", "年度", "yearly"),
        Level("half-yearly", 12, "tsg-t5002-half-yearly", "半年", "half-yearly"),
        Level("quarterly", 6, "tsg-t5002-quarterly", "季度", "quarterly"),
        Level("half-monthly", 1, "tsg-t5002-half-monthly", "半月", "half-monthly"),
    ),
)
LADDERS: Final = {TSG_T5002.name: TSG_T5002}


class LevelsError(ValueError):
    """A plan's levels that cannot be used (an unknown ladder, a schedule it cannot count)."""


def ladder(name: str) -> Ladder:
    try:
        return LADDERS[name]
    except KeyError:
        raise LevelsError(
            f"no level ladder {name!r} (known: {', '.join(sorted(LADDERS))})"
        ) from None


def visit_number(start: datetime, due: datetime, base: timedelta, zone: ZoneInfo) -> int:
    """Which visit ``due`` is, counted in the site's wall-clock time like the schedule itself
    (:func:`.schedule.nth`), so a daylight-saving change shifts no visit to another level."""
    wall_start = start.astimezone(zone).replace(tzinfo=None)
    wall_due = due.astimezone(zone).replace(tzinfo=None)
    return round((wall_due - wall_start) / base)


def checklist(ladder: Ladder, level: Level, items_of: dict[str, list[str]]) -> list[str]:
    """The union of the stacked levels' items, lowest level first, each item once."""
    seen: dict[str, None] = {}
    for rung in ladder.stacked(level):
        for item in items_of[rung.template]:
            seen.setdefault(item, None)
    return list(seen)
