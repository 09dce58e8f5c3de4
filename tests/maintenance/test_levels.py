"""Lift plans by level (TSG T5002) and out-of-service slots: pure arithmetic, no I/O."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facility_dispatch.maintenance.levels import TSG_T5002, checklist, visit_number
from facility_dispatch.maintenance.plan_values import templates
from facility_dispatch.maintenance.schedule import Every, due_times
from facility_dispatch.maintenance.slots import Slot, place

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("visit", "level"),
    [
        (0, "yearly"),
        (1, "half-monthly"),
        (5, "half-monthly"),
        (6, "quarterly"),
        (12, "half-yearly"),
        (18, "quarterly"),
        (23, "half-monthly"),
        (24, "yearly"),
        (30, "quarterly"),
        (36, "half-yearly"),
        (48, "yearly"),
    ],
)
def test_the_highest_level_due_at_each_visit(visit: int, level: str) -> None:
    assert TSG_T5002.level(visit).name == level


def year_of_levels(zone: str, start: datetime) -> list[tuple[datetime, str]]:
    """A year of a 15-day plan's visits and their levels, as the planner counts them."""
    tz = ZoneInfo(zone)
    dues = due_times(
        start, Every.parse("15d"), tz, start - timedelta(seconds=1), start + timedelta(days=365)
    )
    return [(due, TSG_T5002.level(visit_number(start, due, 15 * DAY, tz)).name) for due in dues]


EXPECTED_YEAR = (
    ["yearly"]
    + ["half-monthly"] * 5
    + ["quarterly"]
    + ["half-monthly"] * 5
    + ["half-yearly"]
    + ["half-monthly"] * 5
    + ["quarterly"]
    + ["half-monthly"] * 5
    + ["yearly"]  # visit 24, day 360: the yearly items within a year of the last
    + ["half-monthly"]  # visit 25, day 375 > 365: not in the year
)[:25]


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        # no daylight saving: 09:00 in Shanghai
        ("Asia/Shanghai", datetime(2026, 1, 5, 1, 0, tzinfo=UTC)),
        # daylight saving twice in the year (March and November): 09:00 in New York
        ("America/New_York", datetime(2026, 1, 5, 14, 0, tzinfo=UTC)),
        # southern hemisphere, starting in summer time: 09:00 in Sydney
        ("Australia/Sydney", datetime(2026, 1, 4, 22, 0, tzinfo=UTC)),
    ],
)
def test_a_year_of_visits_has_the_right_level_on_each_date(zone: str, start: datetime) -> None:
    year = year_of_levels(zone, start)
    assert [level for _, level in year] == EXPECTED_YEAR
    tz = ZoneInfo(zone)
    first = start.astimezone(tz)
    for n, (due, _) in enumerate(year):
        local = due.astimezone(tz)
        assert (local.hour, local.minute) == (9, 0)  # the wall clock holds across DST
        assert local.date() == first.date() + n * 15 * DAY
    # each level at least as often as TSG T5002 asks: quarterly within 92 days, and so on
    days = {level: [d for d, x in year if x in higher] for level, higher in (
        ("quarterly", {"quarterly", "half-yearly", "yearly"}),
        ("half-yearly", {"half-yearly", "yearly"}),
        ("yearly", {"yearly"}),
    )}  # fmt: skip
    limits = {"quarterly": 92 * DAY, "half-yearly": 183 * DAY, "yearly": 365 * DAY}
    for level, dates in days.items():
        assert all(b - a <= limits[level] for a, b in itertools.pairwise(dates)), level


def test_a_yearly_visit_does_every_item_of_the_levels_below() -> None:
    items_of = {name: list(t["items"]) for name, t in templates().items()}
    yearly = checklist(TSG_T5002, TSG_T5002.level(0), items_of)
    quarterly = checklist(TSG_T5002, TSG_T5002.level(6), items_of)
    half_monthly = checklist(TSG_T5002, TSG_T5002.level(1), items_of)
    assert len(half_monthly) == 31
    assert len(quarterly) == 31 + len(items_of["tsg-t5002-quarterly"])
    assert half_monthly == yearly[:31] and quarterly == yearly[: len(quarterly)]
    assert len(yearly) == sum(len(items_of[level.template]) for level in TSG_T5002.levels)
    assert yearly[-1] == items_of["tsg-t5002-yearly"][-1]
    assert all(" / " in item for item in yearly)  # Chinese and English


TEN = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_a_slot_goes_after_the_slots_held_in_its_building() -> None:
    held = [Slot("lift-1", TEN, TEN + 2 * HOUR), Slot("lift-3", TEN + 3 * HOUR, TEN + 4 * HOUR)]
    assert place(["lift-2"], TEN, HOUR, held) == {"lift-2": TEN + 2 * HOUR}  # fits the gap
    assert place(["lift-2"], TEN, 2 * HOUR, held) == {"lift-2": TEN + 4 * HOUR}  # does not
    assert place(["lift-10", "lift-2"], TEN, HOUR) == {"lift-2": TEN, "lift-10": TEN + HOUR}


moments = st.integers(min_value=0, max_value=48 * 60).map(lambda m: TEN + timedelta(minutes=m))
lengths = st.integers(min_value=1, max_value=8 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def held_slots(draw: st.DrawFn) -> list[Slot]:
    """Slots already held in a building: apart from each other, as the planner keeps them."""
    wanted = draw(st.lists(st.tuples(moments, lengths), max_size=8))
    slots: list[Slot] = []
    for n, (start, length) in enumerate(wanted):
        starts = place([f"held-{n}"], start, length, slots)
        slots.append(Slot(f"held-{n}", starts[f"held-{n}"], starts[f"held-{n}"] + length))
    return slots


@given(
    held=held_slots(),
    assets=st.lists(
        st.sampled_from(["lift-1", "lift-2", "lift-10", "pump-a", "pump-b"]), max_size=5
    ),
    earliest=moments,
    duration=lengths,
)
def test_no_two_slots_of_a_group_ever_overlap(
    held: list[Slot], assets: list[str], earliest: datetime, duration: timedelta
) -> None:
    starts = place(assets, earliest, duration, held)
    assert set(starts) == set(assets)
    assert all(start >= earliest for start in starts.values())
    every = held + [Slot(a, s, s + duration) for a, s in starts.items()]
    for i, a in enumerate(every):
        for b in every[i + 1 :]:
            assert not a.overlaps(b.starts_at, b.ends_at), (a, b)
    for asset, start in starts.items():  # as early as it can: the moment before would clash
        if start > earliest:
            before = start - timedelta(minutes=1)
            others = [s for s in every if s.asset != asset]
            assert any(s.overlaps(before, before + duration) for s in others)
