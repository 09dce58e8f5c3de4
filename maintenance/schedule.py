"""Due-time arithmetic of maintenance plans. Pure: it takes ``now`` and returns times.

Sites run on local time (Asia/Shanghai by default); times are stored in UTC. A plan's
occurrences are counted from its start, in local wall-clock time: the n-th is
``start + n x every``, never "the previous one plus every", so a plan started on 31 January
every month falls on 28/29 February and on 31 March again, and one at 09:00 stays at 09:00
across a daylight-saving change. Months and years are calendar units (``1mo``, ``3mo``,
``6mo``, ``1y``); days and weeks are fixed (``15d``: TSG T5002's half-monthly interval).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from facility_dispatch.kernel.durations import DurationError, parse_duration

_MONTHS: Final = re.compile(r"(\d+)\s*(mo|y)")


class ScheduleError(ValueError):
    """A plan interval or cron expression that cannot be used."""


@dataclass(frozen=True, slots=True)
class Every:
    """An interval: whole calendar months, or a fixed duration."""

    months: int = 0
    fixed: timedelta = timedelta(0)

    @classmethod
    def parse(cls, text: str) -> Every:
        value = text.strip().lower()
        match = _MONTHS.fullmatch(value)
        if match:
            count = int(match.group(1)) * (12 if match.group(2) == "y" else 1)
            if count <= 0:
                raise ScheduleError(f"{text!r} must be longer than zero")
            return cls(months=count)
        try:
            fixed = parse_duration(value)
        except DurationError as error:
            raise ScheduleError(f"{text!r}: {error} - or months and years: 1mo, 3mo, 1y") from None
        if fixed < timedelta(hours=1):
            raise ScheduleError(f"{text!r} is shorter than an hour: not a maintenance interval")
        return cls(fixed=fixed)

    def approximate(self) -> timedelta:
        return self.fixed if not self.months else timedelta(days=30.44 * self.months)


def add_months(local: datetime, months: int) -> datetime:
    """The same day and wall-clock time ``months`` later, the day clamped to the month's end."""
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def nth(start: datetime, every: Every, n: int, zone: ZoneInfo) -> datetime:
    """The n-th occurrence (0 is ``start``), in UTC."""
    local = start.astimezone(zone).replace(tzinfo=None)  # wall clock
    local = add_months(local, every.months * n) if every.months else local + every.fixed * n
    return local.replace(tzinfo=zone).astimezone(start.tzinfo)


def due_times(
    start: datetime, every: Every, zone: ZoneInfo, after: datetime, until: datetime
) -> Iterator[datetime]:
    """Occurrences with ``after < due <= until``, in order."""
    if until <= after:
        return
    step = every.approximate()
    n = max(0, int((after - start) / step) - 2) if after > start else 0
    while True:
        due = nth(start, every, n, zone)
        if due > until:
            return
        if due > after:
            yield due
        n += 1


def cron_times(
    expression: str, start: datetime, zone: ZoneInfo, after: datetime, until: datetime
) -> Iterator[datetime]:
    """Occurrences of a crontab expression (``min hour day month weekday``, local time)."""
    try:
        trigger = CronTrigger.from_crontab(expression, timezone=zone)
    except ValueError as error:
        raise ScheduleError(f"cron {expression!r}: {error}") from None
    previous: datetime | None = None
    now = max(after, start - timedelta(microseconds=1))
    while True:
        due = trigger.get_next_fire_time(previous, now + timedelta(microseconds=1))
        if due is None or due > until:
            return
        due = due.astimezone(start.tzinfo)
        if due > after and due >= start:
            yield due
        previous, now = due, due


def window(every: Every) -> timedelta:
    """How late after its due time an occurrence still counts as done on time (PM compliance):
    a tenth of the interval, at least a day."""
    return max(every.approximate() / 10, timedelta(days=1))


@dataclass(frozen=True, slots=True)
class MeterState:
    """Usage of one counter since a plan's last occurrence on one asset."""

    last_value: float | None = None
    usage: float = 0.0
    cycles: int = 0


def advance_meter(state: MeterState, value: float, every: float) -> tuple[MeterState, list[int]]:
    """Fold in a counter reading; the cycle numbers whose threshold it crossed.

    A counter that goes down has been reset by its device (a controller swap, a power loss):
    the new value is counted as usage since the reset, as Prometheus treats counter resets,
    so no usage is lost and none is counted twice."""
    if state.last_value is None:
        return MeterState(value, state.usage, state.cycles), []
    delta = value - state.last_value if value >= state.last_value else value
    usage = state.usage + delta
    crossed = []
    cycles = state.cycles
    while usage >= every:
        usage -= every
        cycles += 1
        crossed.append(cycles)
    return MeterState(value, usage, cycles), crossed
