"""Rosters by post, pure: expansion in the site's zone, holidays, coverage, substitutes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from facility_dispatch.maintenance.assignment import Duty, Leave, Person
from facility_dispatch.maintenance.rosters import (
    ABSENT,
    ON_DUTY,
    SHORT_REST,
    Post,
    RosterError,
    RosterLine,
    ShiftDefinition,
    check_line,
    check_post,
    coverage,
    coverage_ratio,
    expand,
    gaps,
    slot_of,
    substitutes,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY = frozenset(date(2026, 10, d) for d in range(1, 8))
GATE = Post(
    1,
    "north",
    "North gate",
    "security",
    (
        ShiftDefinition("day", time(8), time(20), 1),
        ShiftDefinition("night", time(20), time(8), 1),
    ),
)
MONDAY_TO_FRIDAY = frozenset(range(1, 6))
CLEANING = Post(
    2,
    "north",
    "Cleaning, block 3",
    "cleaning",
    (ShiftDefinition("day", time(8), time(17), 2, 1, MONDAY_TO_FRIDAY),),
)
WEEKDAYS = ("day", "day", "day", "day", "day", "rest", "rest")
ROTATION = ("day", "day", "night", "night", "rest", "rest")


def _line(
    id_: int, post: Post, technician: int, pattern: tuple[str, ...], **kw: object
) -> RosterLine:
    anchor = date(2026, 9, 28)  # a Monday
    return RosterLine(id_, post.id, technician, pattern, anchor, anchor, **kw)  # type: ignore[arg-type]


def test_a_month_across_national_day_in_the_sites_zone() -> None:
    lines = [
        _line(1, GATE, 11, ROTATION),
        _line(2, CLEANING, 21, WEEKDAYS, off_on_holidays=True),
        _line(3, CLEANING, 22, WEEKDAYS, off_on_holidays=True),
    ]
    first, last = date(2026, 10, 1), date(2026, 10, 31)
    rostered = expand([GATE, CLEANING], lines, [], first, last, SHANGHAI, NATIONAL_DAY)
    cleaner = [r for r in rostered if r.technician_id == 21]
    # October 2026 has 22 weekdays; 1, 2, 5, 6 and 7 October are weekdays of the holiday
    assert len(cleaner) == 17
    assert min(r.slot.day for r in cleaner) == date(2026, 10, 8)
    guard = [r for r in rostered if r.technician_id == 11]
    # the rotation runs on through the holiday: 4 shifts in every 6 days from 28 September
    expected = [
        d
        for d in (first + timedelta(days=n) for n in range(31))
        if ROTATION[(d - date(2026, 9, 28)).days % 6] != "rest"
    ]
    assert [r.slot.day for r in guard] == expected
    night = next(r for r in guard if r.slot.shift == "night")
    assert night.slot.day == date(2026, 9, 30) + timedelta(days=1)  # 1 October: day 3 of cycle
    assert night.slot.starts_at == datetime(2026, 10, 1, 12, 0, tzinfo=UTC)  # 20:00 +08:00
    assert night.slot.ends_at == datetime(2026, 10, 2, 0, 0, tzinfo=UTC)  # 08:00 next day

    cells = coverage([GATE, CLEANING], rostered, [], first, last, SHANGHAI, NATIONAL_DAY)
    holiday = next(c for c in cells if c.slot.post_id == 2 and c.slot.day == date(2026, 10, 5))
    assert (holiday.needed, holiday.present, holiday.holiday) == (1, (), True)
    assert holiday.gap == 1  # the cleaners are off: the holiday's one cleaner is a gap
    working = next(c for c in cells if c.slot.post_id == 2 and c.slot.day == date(2026, 10, 8))
    assert (working.needed, working.present, working.gap) == (2, (21, 22), 0)
    weekend = next(c for c in cells if c.slot.post_id == 2 and c.slot.day == date(2026, 10, 10))
    assert (weekend.needed, weekend.gap) == (0, 0)  # Monday to Friday: the weekend is no gap
    guards = next(c for c in cells if c.slot.post_id == 1 and c.slot.day == date(2026, 10, 10))
    assert guards.needed == 1  # the gate is needed every day
    assert not [g for g in gaps(cells) if g.slot.post_id == 2 and g.slot.day.isoweekday() > 5]

    # a make-up working day (调休) on Saturday 10 October needs the cleaners, who come
    makeup = frozenset({date(2026, 10, 10)})
    worked = expand([CLEANING], lines[1:], [], first, last, SHANGHAI, NATIONAL_DAY, makeup)
    cells = coverage([CLEANING], worked, [], first, last, SHANGHAI, NATIONAL_DAY, makeup)
    saturday = next(c for c in cells if c.slot.day == date(2026, 10, 10))
    assert (saturday.needed, saturday.present, saturday.gap) == (2, (21, 22), 0)


def test_a_shift_needs_a_weekday() -> None:
    with pytest.raises(RosterError, match="weekdays"):
        check_post([ShiftDefinition("day", time(8), time(17), 1, None, frozenset())])
    with pytest.raises(RosterError, match="weekdays"):
        check_post([ShiftDefinition("day", time(8), time(17), 1, None, frozenset({0, 1}))])


def test_wall_clock_shifts_across_a_daylight_saving_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # summer time ends 25 October 2026, 03:00 -> 02:00
    night = slot_of(GATE, GATE.shifts[1], date(2026, 10, 24), berlin)
    assert night.ends_at - night.starts_at == timedelta(hours=13)
    day = slot_of(GATE, GATE.shifts[0], date(2026, 10, 25), berlin)
    assert day.starts_at == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # 08:00 CET
    assert slot_of(GATE, GATE.shifts[0], date(2026, 10, 24), berlin).starts_at.hour == 6


def test_an_absence_leaves_a_gap() -> None:
    lines = [_line(1, GATE, 11, ("day",)), _line(2, GATE, 12, ("night",))]
    day = date(2026, 11, 3)
    rostered = expand([GATE], lines, [], day, day, SHANGHAI)
    before = coverage([GATE], rostered, [], day, day, SHANGHAI)
    assert gaps(before) == [] and coverage_ratio(before) == 1.0
    sick = Leave(12, datetime(2026, 11, 3, 9, tzinfo=UTC), datetime(2026, 11, 4, 9, tzinfo=UTC))
    after = coverage([GATE], rostered, [sick], day, day, SHANGHAI)
    (gap,) = gaps(after)
    assert (gap.slot.shift, gap.absent, gap.present, gap.gap) == ("night", (12,), (), 1)
    assert coverage_ratio(after) == 0.5


def test_substitutes_respect_rest_and_share_the_hours() -> None:
    site = "north"
    slot = slot_of(GATE, GATE.shifts[0], date(2026, 11, 5), SHANGHAI)  # day, 08:00-20:00
    people = [
        Person(31, "Night guard", frozenset({"security"}), "senior", frozenset({site})),
        Person(32, "Busy guard", frozenset({"security"}), "senior", frozenset({site})),
        Person(33, "Fresh guard", frozenset({"security"}), "junior", frozenset({site})),
        Person(34, "Sick guard", frozenset({"security"}), "senior", frozenset({site})),
        Person(35, "Cleaner", frozenset({"cleaning"}), "senior", frozenset({site})),
        Person(36, "Back early", frozenset({"security"}), "senior", frozenset({site})),
    ]
    local = SHANGHAI

    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 11, day, hour, tzinfo=local).astimezone(UTC)

    duties = [
        Duty(31, at(4, 20), at(5, 8)),  # the night before: 0 h rest
        Duty(32, at(2, 8), at(2, 20)),
        Duty(32, at(3, 8), at(3, 20)),  # 24 h this week, rested 12 h
        Duty(33, at(3, 8), at(3, 20)),  # 12 h this week
        Duty(36, at(6, 2), at(6, 8)),  # starts 6 h after the slot ends
    ]
    leaves = [Leave(34, at(5, 0), at(6, 0))]
    found, refused = substitutes(slot, "security", site, people, duties, leaves, local)
    assert [c.name for c in found] == ["Fresh guard", "Busy guard"]
    assert found[0].week_hours == 12 and found[1].week_hours == 24
    codes = {r.name: (r.kind, r.side, r.rest, r.min_rest) for r in refused}
    assert codes == {
        "Night guard": (SHORT_REST, "before", timedelta(0), timedelta(hours=11)),
        "Back early": (SHORT_REST, "after", timedelta(hours=6), timedelta(hours=11)),
        "Sick guard": (ABSENT, None, None, None),
    }
    reasons = {r.name: r.reason for r in refused}  # the API's English wording of the codes
    assert reasons["Night guard"] == "rest 0h before the shift, under 11h"
    assert reasons["Back early"] == "rest 6h after the shift, under 11h"
    assert reasons["Sick guard"] == "absent"
    assert "Cleaner" not in reasons  # not a guard: not considered at all
    relaxed, _ = substitutes(
        slot, "security", site, people, duties, leaves, local, min_rest=timedelta(0)
    )
    # without the rest rule: fewest hours first, and of equal hours the longer rest
    assert [c.name for c in relaxed] == ["Back early", "Fresh guard", "Night guard", "Busy guard"]


def test_overtime_ranks_last() -> None:
    slot = slot_of(GATE, GATE.shifts[0], date(2026, 11, 7), SHANGHAI)
    people = [
        Person(41, "Long week", frozenset({"security"}), "senior", frozenset({"north"})),
    ]
    week = [
        Duty(41, datetime(2026, 11, d, 0, tzinfo=UTC), datetime(2026, 11, d, 10, tzinfo=UTC))
        for d in (2, 3, 4, 5)
    ]
    found, _ = substitutes(slot, None, "north", people, week, [], SHANGHAI)
    assert found[0].week_hours == 40
    assert "overtime: past 44 h that week" in found[0].reasons


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (("day", "evening"), "pattern names evening"),
        ((), "at least one entry"),
    ],
)
def test_a_pattern_names_the_posts_shifts(pattern: tuple[str, ...], message: str) -> None:
    with pytest.raises(RosterError, match=message):
        check_line(GATE, pattern)


def test_a_make_up_working_day_is_worked_by_those_off_on_holidays() -> None:
    saturday = date(2026, 10, 10)  # worked to bridge the National Day week (调休)
    lines = [
        _line(1, GATE, 11, ROTATION),
        _line(2, CLEANING, 21, WEEKDAYS, off_on_holidays=True),
    ]
    rostered = expand(
        [GATE, CLEANING], lines, [], saturday, saturday, SHANGHAI, NATIONAL_DAY, {saturday}
    )
    assert [(r.technician_id, r.slot.shift) for r in rostered if r.slot.post_id == 2] == [
        (21, "day")
    ]
    guard = [r.slot.shift for r in rostered if r.technician_id == 11]
    assert guard == ["day"]  # the rotation runs on: 12 days from its anchor, a day shift
    plain = expand([CLEANING], lines[1:], [], saturday, saturday, SHANGHAI, NATIONAL_DAY)
    assert plain == []  # without the calendar's working day, a Saturday off


def test_a_post_counts_from_its_rosters_start() -> None:
    """A post rostered from Wednesday needs nobody the Monday and Tuesday before: those days are
    not gaps, and the coverage KPI is present over needed from Wednesday on only."""
    monday, wednesday, sunday = date(2026, 11, 2), date(2026, 11, 4), date(2026, 11, 8)
    gate = Post(GATE.id, GATE.site, GATE.name, GATE.skill, GATE.shifts, since=wednesday)
    day_guard = RosterLine(1, gate.id, 11, ("day",), wednesday, wednesday)
    rostered = expand([gate], [day_guard], [], monday, sunday, SHANGHAI)
    sick = Leave(11, datetime(2026, 11, 5, tzinfo=UTC), datetime(2026, 11, 5, 12, tzinfo=UTC))
    cells = coverage([gate], rostered, [sick], monday, sunday, SHANGHAI)
    before = [c for c in cells if c.slot.day < wednesday]
    assert len(before) == 4 and all(c.needed == 0 and c.gap == 0 for c in before)
    # from Wednesday: 5 days x (day + night) needed, 4 day shifts present (Thursday's absent)
    assert [(c.slot.day, c.slot.shift) for c in gaps(cells) if c.slot.shift == "day"] == [
        (date(2026, 11, 5), "day")
    ]
    assert len(gaps(cells)) == 6  # Thursday's day shift and the five unrostered nights
    assert coverage_ratio(cells) == 4 / 10
    unbounded = coverage([GATE], rostered, [sick], monday, sunday, SHANGHAI)
    assert coverage_ratio(unbounded) == 4 / 14  # the rule's effect: Monday and Tuesday counted


def test_the_posts_wanted_skills_rank_a_substitute_after_the_hard_rules() -> None:
    """Of two rested guards, the one who also holds the post's wanted skills comes first even
    with more hours that week; the rest rule still refuses a first-aider just off a night, and
    overtime still comes last."""
    site = "north"
    slot = slot_of(GATE, GATE.shifts[0], date(2026, 11, 5), SHANGHAI)

    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 11, day, hour, tzinfo=SHANGHAI).astimezone(UTC)

    def guard(id_: int, name: str, *skills: str) -> Person:
        return Person(id_, name, frozenset({"security", *skills}), "senior", frozenset({site}))

    people = [
        guard(51, "Plain guard"),
        guard(52, "First-aider", "first_aid"),
        guard(53, "Both", "first_aid", "fire_control"),
        guard(54, "Tired medic", "first_aid", "fire_control"),
        guard(55, "Overworked medic", "first_aid", "fire_control"),
    ]
    duties = [
        Duty(52, at(3, 8), at(3, 20)),  # 12 h that week
        Duty(53, at(2, 8), at(2, 20)),
        Duty(53, at(3, 8), at(3, 20)),  # 24 h that week
        Duty(54, at(4, 20), at(5, 8)),  # just off a night: no rest
        *(Duty(55, at(d, 0), at(d, 10)) for d in (2, 3, 4)),
        Duty(55, at(4, 12), at(4, 16)),  # 34 h that week: 46 h with the slot, overtime
    ]
    wanted = ("first_aid", "fire_control")
    found, refused = substitutes(
        slot, "security", site, people, duties, [], SHANGHAI, wanted=wanted
    )
    # skills before the week's hours, overtime last whatever the skills
    assert [c.name for c in found] == ["Both", "First-aider", "Plain guard", "Overworked medic"]
    assert found[0].wanted_held == ("fire_control", "first_aid")
    assert "also holds fire_control, first_aid" in found[0].reasons
    assert [(r.name, r.kind) for r in refused] == [("Tired medic", SHORT_REST)]
    assert found[-1].overtime and not any(c.overtime for c in found[:-1])
    plain, _ = substitutes(slot, "security", site, people, duties, [], SHANGHAI)
    # a post that wants nothing more: fewest hours first, as before
    assert [c.name for c in plain] == ["Plain guard", "First-aider", "Both", "Overworked medic"]


def test_someone_on_duty_then_is_refused_with_the_code() -> None:
    slot = slot_of(GATE, GATE.shifts[0], date(2026, 11, 5), SHANGHAI)
    busy = Person(61, "Busy", frozenset({"security"}), "senior", frozenset({"north"}))
    on = Duty(61, slot.starts_at + timedelta(hours=2), slot.starts_at + timedelta(hours=4))
    _, refused = substitutes(slot, "security", "north", [busy], [on], [], SHANGHAI)
    assert [(r.kind, r.reason) for r in refused] == [(ON_DUTY, "on duty then")]
