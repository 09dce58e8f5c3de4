"""Staggered works: the lifts of one building are never out of service at the same time.

A plan for every lift of a site, due at 10:00, would stop all six lifts of a tower at once (and
tell the residents six times, naming none). Pure arithmetic: within a building, assets in name
order (lift-2 before lift-10) start one works-duration after another; different buildings keep
the plan's time. Assets whose building is unknown are taken as one building: the safe guess.
The planner also keeps clear of the slots other plans hold (:func:`.slots.place`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from facility_dispatch.maintenance.slots import place


def stagger(
    assets: Iterable[str],
    building_of: Callable[[str], str | None],
    due: datetime,
    duration: timedelta,
) -> dict[str, datetime]:
    """Each asset's start: ``due`` for the first of its building, then one ``duration`` later
    for each next one."""
    buildings: dict[str | None, list[str]] = {}
    for asset in assets:
        buildings.setdefault(building_of(asset), []).append(asset)
    starts: dict[str, datetime] = {}
    for group in buildings.values():
        starts |= place(group, due, duration)
    return starts
