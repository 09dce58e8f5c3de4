"""Due-time arithmetic: month ends, leap years, local time, cron, meters across resets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from facility_dispatch.maintenance.schedule import (
    Every,
    MeterState,
    ScheduleError,
    add_months,
    advance_meter,
    cron_times,
    due_times,
    nth,
    window,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


def shown(times: list[datetime], zone: ZoneInfo = SHANGHAI) -> list[str]:
    return [t.astimezone(zone).strftime("%Y-%m-%d %H:%M") for t in times]


@pytest.mark.parametrize(
    ("text", "months", "fixed"),
    [
        ("15d", 0, timedelta(days=15)),
        ("2w", 0, timedelta(weeks=2)),
        ("1mo", 1, timedelta(0)),
        ("3mo", 3, timedelta(0)),
        ("6mo", 6, timedelta(0)),
        ("1y", 12, timedelta(0)),
    ],
)
def test_intervals(text: str, months: int, fixed: timedelta) -> None:
    assert Every.parse(text) == Every(months, fixed)


@pytest.mark.parametrize("text", ["0mo", "soon", "10m", "-1d"])
def test_bad_intervals(text: str) -> None:
    with pytest.raises(ScheduleError):
        Every.parse(text)


def test_month_ends_are_clamped_and_the_day_comes_back() -> None:
    start = local(SHANGHAI, 2027, 1, 31, 9, 0)
    times = list(
        due_times(
            start,
            Every.parse("1mo"),
            SHANGHAI,
            start - timedelta(1),
            local(SHANGHAI, 2027, 5, 31, 10, 0),
        )
    )
    assert shown(times) == [
        "2027-01-31 09:00",
        "2027-02-28 09:00",
        "2027-03-31 09:00",
        "2027-04-30 09:00",
        "2027-05-31 09:00",
    ]


def test_leap_years() -> None:
    start = local(SHANGHAI, 2028, 2, 29, 9, 0)
    yearly = [nth(start, Every.parse("1y"), n, SHANGHAI) for n in range(5)]
    assert shown(yearly) == [
        "2028-02-29 09:00",
        "2029-02-28 09:00",
        "2030-02-28 09:00",
        "2031-02-28 09:00",
        "2032-02-29 09:00",
    ]
    assert add_months(datetime(2028, 1, 30), 1) == datetime(2028, 2, 29)  # noqa: DTZ001
    assert add_months(datetime(2027, 1, 30), 1) == datetime(2027, 2, 28)  # noqa: DTZ001


def test_stored_in_utc_kept_in_local_time() -> None:
    start = local(SHANGHAI, 2026, 12, 1, 9, 0)
    assert start == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai is 01:00 UTC
    half_monthly = [nth(start, Every.parse("15d"), n, SHANGHAI) for n in range(3)]
    assert shown(half_monthly) == ["2026-12-01 09:00", "2026-12-16 09:00", "2026-12-31 09:00"]


def test_wall_clock_time_survives_daylight_saving() -> None:
    start = local(LONDON, 2027, 3, 20, 9, 0)  # GMT; the clocks go forward on 28 March
    weekly = [nth(start, Every.parse("1w"), n, LONDON) for n in range(3)]
    assert shown(weekly, LONDON) == ["2027-03-20 09:00", "2027-03-27 09:00", "2027-04-03 09:00"]
    assert weekly[2] - weekly[1] == timedelta(days=7, hours=-1)  # an hour less in UTC


def test_due_times_window_is_after_exclusive_until_inclusive() -> None:
    start = local(SHANGHAI, 2026, 12, 1, 9, 0)
    every = Every.parse("15d")
    second = nth(start, every, 1, SHANGHAI)
    assert list(due_times(start, every, SHANGHAI, start, second)) == [second]
    assert list(due_times(start, every, SHANGHAI, second, second)) == []
    far = list(
        due_times(
            start, every, SHANGHAI, start + timedelta(days=3000), start + timedelta(days=3031)
        )
    )
    assert len(far) == 2 and all(f > start + timedelta(days=3000) for f in far)


def test_cron_in_local_time() -> None:
    start = local(SHANGHAI, 2026, 11, 27, 0, 0)
    times = list(cron_times("0 9 1 * *", start, SHANGHAI, start, local(SHANGHAI, 2027, 2, 1, 9, 0)))
    assert shown(times) == ["2026-12-01 09:00", "2027-01-01 09:00", "2027-02-01 09:00"]
    with pytest.raises(ScheduleError):
        list(cron_times("61 * * * *", start, SHANGHAI, start, start + timedelta(days=1)))


def test_window_of_compliance() -> None:
    assert window(Every.parse("15d")) == timedelta(days=1.5)
    assert window(Every.parse("1w")) == timedelta(days=1)  # at least a day


def test_meter_counts_usage_across_device_resets() -> None:
    state = MeterState()
    state, crossed = advance_meter(state, 120_000, 50_000)
    assert crossed == [] and state.usage == 0  # the first reading is the baseline
    state, crossed = advance_meter(state, 160_000, 50_000)
    assert crossed == [] and state.usage == 40_000
    state, crossed = advance_meter(state, 3_000, 50_000)  # controller swapped: counter restarts
    assert crossed == [] and state.usage == 43_000
    state, crossed = advance_meter(state, 10_000, 50_000)
    assert crossed == [1] and state.usage == 0 and state.cycles == 1
    state, crossed = advance_meter(state, 115_000, 50_000)  # a long gap: two cycles at once
    assert crossed == [2, 3] and state.usage == 5_000
