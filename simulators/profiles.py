"""The daily rhythm of an estate in its local time, and the noise that makes series look real.

Demand curves are piecewise linear over the local hour (Asia/Shanghai unless the site says
otherwise): water and lifts peak in the morning (people leaving) and the evening (people back,
cooking, bathing); the electrical load of a residential estate peaks in the evening.
"""

from __future__ import annotations

import bisect
import math
import random
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE: Final = "Asia/Shanghai"


class Curve:
    """A piecewise-linear function of the hour of day, given as (hour, value) points."""

    def __init__(self, points: tuple[tuple[float, float], ...]) -> None:
        if points[0][0] != 0 or points[-1][0] != 24:
            raise ValueError("a daily curve runs from hour 0 to hour 24")
        self._hours = [h for h, _ in points]
        self._values = [v for _, v in points]

    def at(self, hour: float) -> float:
        hour %= 24.0
        i = bisect.bisect_right(self._hours, hour) - 1
        h0, h1 = self._hours[i], self._hours[min(i + 1, len(self._hours) - 1)]
        v0, v1 = self._values[i], self._values[min(i + 1, len(self._values) - 1)]
        if h1 == h0:
            return v0
        return v0 + (v1 - v0) * (hour - h0) / (h1 - h0)


# Share of the peak hourly demand of a residential secondary-water system: the morning and
# evening peaks and the 3 a.m. minimum night flow (the basis of night-flow leak detection).
WATER_DEMAND: Final = Curve(
    (
        (0, 0.18), (3, 0.08), (5, 0.12), (6, 0.45), (7, 0.95), (8, 0.85), (9, 0.55),
        (11, 0.5), (12, 0.62), (13, 0.45), (15, 0.4), (17, 0.55), (18, 0.85), (19, 1.0),
        (20, 0.92), (21, 0.75), (22, 0.5), (23, 0.3), (24, 0.18),
    )
)  # fmt: skip

# Share of the peak electrical load of a residential estate (evening peak, night trough).
POWER_LOAD: Final = Curve(
    (
        (0, 0.45), (4, 0.34), (6, 0.4), (7, 0.6), (9, 0.52), (12, 0.62), (14, 0.55),
        (17, 0.7), (19, 0.95), (20, 1.0), (21, 0.96), (22, 0.8), (23, 0.6), (24, 0.45),
    )
)  # fmt: skip

# Calls per hour answered by one passenger lift of a residential tower.
LIFT_CALLS: Final = Curve(
    (
        (0, 1.5), (5, 2), (6, 10), (7, 32), (8, 40), (9, 20), (11, 15), (12, 24),
        (14, 12), (17, 26), (18, 40), (19, 34), (21, 18), (23, 5), (24, 1.5),
    )
)  # fmt: skip

# Scene activity seen by a camera (drives the encoder's bitrate): busy days, quiet nights.
SCENE_ACTIVITY: Final = Curve(
    ((0, 0.55), (5, 0.55), (7, 0.9), (9, 1.0), (18, 1.0), (21, 0.8), (23, 0.6), (24, 0.55))
)


class LocalTime:
    """Local hour of day of epoch seconds in one zone (the offset is cached per quarter hour)."""

    def __init__(self, zone: str = DEFAULT_TIMEZONE) -> None:
        self._zone = ZoneInfo(zone)
        self._bucket = -1
        self._offset = 0.0

    def offset(self, t: float) -> float:
        bucket = int(t // 900)
        if bucket != self._bucket:
            moment = datetime.fromtimestamp(bucket * 900, UTC).astimezone(self._zone)
            delta = moment.utcoffset()
            self._offset = delta.total_seconds() if delta is not None else 0.0
            self._bucket = bucket
        return self._offset

    def hour(self, t: float) -> float:
        return ((t + self.offset(t)) % 86400.0) / 3600.0

    def day(self, t: float) -> int:
        """The local calendar day number (days since the epoch, local midnight to midnight)."""
        return int((t + self.offset(t)) // 86400.0)


class Wander:
    """An Ornstein-Uhlenbeck process: noise that drifts and returns, exact for any time step.

    ``sigma`` is the stationary standard deviation, ``tau`` the correlation time in seconds.
    Sensors and demands wander like this; white noise on every reading would look fake and
    would make rate-of-change rules fire on nothing.
    """

    def __init__(self, rng: random.Random, sigma: float, tau: float) -> None:
        self._rng = rng
        self.sigma = sigma
        self.tau = tau
        self.value = rng.gauss(0.0, sigma)

    def step(self, dt: float) -> float:
        if dt > 0:
            rho = math.exp(-dt / self.tau)
            self.value = rho * self.value + self.sigma * math.sqrt(1.0 - rho * rho) * (
                self._rng.gauss(0.0, 1.0)
            )
        return self.value


def approach(value: float, target: float, dt: float, tau: float) -> float:
    """First-order lag: where ``value`` is after ``dt`` seconds heading for ``target``."""
    if dt <= 0:
        return value
    return target + (value - target) * math.exp(-dt / tau)


def clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value
