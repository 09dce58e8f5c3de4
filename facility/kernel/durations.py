"""Durations as people write them in rules, plans and queries: ``30s``, ``5m``, ``2h``, ``1d``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


class DurationError(ValueError):
    """A duration that is not a number followed by ms, s, m, h, d or w."""


def parse_duration(text: str | int | float) -> timedelta:
    """Parse ``30s``, ``5m``, ``2h``, ``1d``, ``1h30m``; a bare number is seconds."""
    if isinstance(text, bool):
        raise DurationError(f"{text!r} is not a duration")
    if isinstance(text, int | float):
        if text < 0:
            raise DurationError(f"{text!r} is negative")
        return timedelta(seconds=text)
    value = text.strip().lower()
    if not value:
        raise DurationError("empty duration")
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return timedelta(seconds=float(value))
    pos = 0
    seconds = 0.0
    for match in _PART.finditer(value):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(value):
        raise DurationError(
            f"{text!r} is not a duration: write a number and a unit (30s, 5m, 2h, 1d)"
        )
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest exact form: ``90s`` -> ``90s``, ``3600s`` -> ``1h``."""
    seconds = delta.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
