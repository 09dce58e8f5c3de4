"""The statutory items' arithmetic: due dates moved by a year or six months, the stage of an item
on each day of a year, once per cycle, leap days and the site's own calendar day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from facility_dispatch.maintenance.compliance import (
    Obligation,
    add_months,
    inspection_kind,
    local_day,
    next_due,
    reminders,
    stage,
)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 15), 6, date(2026, 7, 15)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),  # February is shorter
        (date(2027, 8, 31), 6, date(2028, 2, 29)),  # a leap year's February
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # the leap day's anniversary
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2026, 12, 31), 1, date(2027, 1, 31)),
        (date(2026, 7, 1), 6, date(2027, 1, 1)),  # across the year
        (date(2026, 10, 31), 12, date(2027, 10, 31)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


def test_next_due_after_an_inspection_a_drill_and_a_certificate() -> None:
    assert next_due("inspection", date(2026, 3, 10)) == date(2027, 3, 10)
    assert next_due("drill", date(2026, 3, 10)) == date(2026, 9, 10)
    assert next_due("certificate", date(2026, 3, 10)) is None  # the renewal says when


def test_every_day_of_a_year_has_the_right_stage() -> None:
    """Due 2027-03-01 (after a February of 28 days), lead 30 days: ok up to 30 days before,
    due_soon from then through the day itself, overdue the day after."""
    due = date(2027, 3, 1)
    day = date(2026, 9, 1)
    seen = {"ok": 0, "due_soon": 0, "overdue": 0}
    while day < date(2027, 9, 1):
        got = stage(due, day, 30)
        expected = "overdue" if day > due else "due_soon" if day >= date(2027, 1, 30) else "ok"
        assert got == expected, day
        seen[got] += 1
        day += timedelta(days=1)
    assert seen == {"ok": 151, "due_soon": 31, "overdue": 183}


def _lift(due: date, key: str = "inspection:a:lift-1") -> Obligation:
    return Obligation(key, "a", "lift-1", "inspection", due)


def test_a_reminder_goes_once_per_item_due_date_and_stage_over_a_year_of_sweeps() -> None:
    """A sweep each day for a year: one due_soon reminder, one overdue; recorded done, the due
    date moves and the next cycle reminds again."""
    sent: set[tuple[str, date, str]] = set()
    due = date(2027, 1, 10)
    log = []
    day = date(2026, 6, 1)
    while day < date(2027, 6, 1):
        if day == date(2027, 1, 20):  # the inspection is held, late: due again in a year
            due = next_due("inspection", day) or due
        for reminder in reminders([_lift(due)], {"a": day}, 30, sent):
            sent.add((reminder.obligation.key, reminder.obligation.due_on, reminder.stage))
            log.append((day, reminder.stage, reminder.obligation.due_on, reminder.days_left))
        day += timedelta(days=1)
    assert log == [
        (date(2026, 12, 11), "due_soon", date(2027, 1, 10), 30),
        (date(2027, 1, 11), "overdue", date(2027, 1, 10), -1),
    ]
    assert due == date(2028, 1, 20)  # and it is not due_soon before 2027-12-21: nothing more


def test_an_item_first_seen_overdue_gets_only_the_overdue_reminder() -> None:
    found = reminders([_lift(date(2026, 1, 1))], {"a": date(2026, 3, 1)}, 30, set())
    assert [(r.stage, r.days_left) for r in found] == [("overdue", -59)]


def test_the_day_is_the_sites_local_day() -> None:
    """23:30 UTC on the 1st is already the 2nd in Shanghai, still the 1st in London."""
    now = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert local_day(now, "Asia/Shanghai") == date(2026, 3, 2)
    assert local_day(now, "Europe/London") == date(2026, 3, 1)
    assert local_day(now, "America/New_York") == date(2026, 3, 1)
    # a drill due on the 1st is overdue in Shanghai at 00:00 local on the 2nd (16:00 UTC)
    due = date(2026, 3, 1)
    before = datetime(2026, 3, 1, 15, 59, tzinfo=UTC)
    after = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert stage(due, local_day(before, "Asia/Shanghai"), 30) == "due_soon"
    assert stage(due, local_day(after, "Asia/Shanghai"), 30) == "overdue"


@pytest.mark.parametrize(
    ("installed", "due", "kind"),
    [
        (date(2020, 6, 1), date(2021, 6, 1), "inspection"),  # year 1
        (date(2020, 6, 1), date(2022, 6, 1), "self_test"),  # year 2
        (date(2020, 6, 1), date(2024, 6, 1), "inspection"),  # year 4
        (date(2020, 6, 1), date(2024, 5, 31), "self_test"),  # still year 3 the day before
        (date(2020, 6, 1), date(2035, 6, 1), "inspection"),  # year 15
        (date(2020, 6, 1), date(2034, 6, 1), "self_test"),  # year 14
        (date(2000, 6, 1), date(2026, 6, 1), "inspection"),  # past 15 years: every year
        (None, date(2026, 6, 1), "inspection"),  # age unknown: the stricter
    ],
)
def test_inspection_or_self_test_by_the_lifts_age(
    installed: date | None, due: date, kind: str
) -> None:
    assert inspection_kind(installed, due) == kind
