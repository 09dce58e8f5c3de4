"""Time as an injectable dependency: pure logic takes ``now``; edges ask a clock for it."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

_RFC3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
)


class Clock(Protocol):
    """Where the service learns the time. Always timezone-aware UTC."""

    def now(self) -> datetime: ...

    def now_ms(self) -> int:
        """Epoch milliseconds: the hot path compares integers, not datetimes."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that only moves when told to: tests move time instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")

    def now(self) -> datetime:
        return self._now

    def now_ms(self) -> int:
        return to_ms(self._now)

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


def to_ms(when: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int(when.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """Aware UTC datetime of epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def rfc3339(when: datetime | None) -> str | None:
    """RFC 3339 in UTC with a ``Z``, as every API answer gives times."""
    if when is None:
        return None
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 date-time with its offset, and nothing else.

    ``datetime.fromisoformat`` takes far more of ISO 8601 (``20261129T060000Z``, week dates,
    no offset at all); a device or a client that sends those gets told, not guessed at.
    Fractions beyond microseconds are cut, as RFC 3339 leaves their precision open.
    Raises ValueError saying what was expected.
    """
    if len(text) > 40 or not _RFC3339.fullmatch(text):
        raise ValueError(f"{text[:40]!r} is not an RFC 3339 date-time (e.g. 2026-11-29T06:00:00Z)")
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]:0<6}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a valid date-time (month 13, hour 25...)") from None
    return parsed
