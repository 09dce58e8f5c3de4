"""Conditions compiled once into closures, and the bounded per-asset state they read.

Evaluation is three-valued: True, False, or None when the metrics it needs have not been seen
(or a window is not yet full). ``not`` of unknown stays unknown, so a rule like "not recording"
cannot fire for a camera that has never reported ``recording``. An alarm fires only on True and
clears only on False (or on its clear condition being True).

Rates and windows keep a deque of recent samples per asset, trimmed by time and capped at
:data:`MAX_SAMPLES`; identical leaves of different rules (same metric, span and aggregate)
share one deque.
"""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from facility_dispatch.rules.models import (
    AllOf,
    AnyOf,
    Band,
    Condition,
    Not,
    Rate,
    Silent,
    Threshold,
    Window,
)

MAX_SAMPLES: Final = 4096
"""Per window or rate, per asset: 10 minutes at 6 readings a second. Past it the oldest samples
go, which shortens the window rather than growing memory."""

OPS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}

Truth = bool | None
Evaluator = Callable[["AssetState", int], Truth]


@dataclass(slots=True)
class RuleState:
    """Where one rule stands on one asset: pending since, or firing since."""

    firing: bool
    since_ms: int
    value: Any = None


@dataclass(slots=True)
class FaultAlarm:
    """The open alarm of one fault on one asset, as the engine last reported it."""

    rule_id: str
    severity: str
    firing: bool
    started_ms: int
    value: Any = None


@dataclass(slots=True)
class AssetState:
    """Everything the engine keeps about one asset; bounded by the rules, not by time."""

    site: str
    kind: str
    asset: str
    latest: dict[str, Any] = field(default_factory=dict)
    last_ms: int = -1  # event time of the newest reading judged: readings are taken in order
    heard_ms: int = -1  # when the service last heard from it: silence is measured from here
    trackers: dict[int, Tracker] = field(default_factory=dict)
    values: dict[int, float | None] = field(default_factory=dict)
    rules: dict[int, RuleState] = field(default_factory=dict)
    alarms: dict[str, FaultAlarm] = field(default_factory=dict)


class Tracker:
    """Samples of one metric over a span, for one rate or window leaf of one asset."""

    __slots__ = ("first_ms", "samples", "span_ms", "squares", "total")

    def __init__(self, span_ms: int) -> None:
        self.samples: deque[tuple[int, float]] = deque()
        self.span_ms = span_ms
        self.first_ms = -1
        self.total = 0.0
        self.squares = 0.0

    def add(self, ts_ms: int, value: float) -> None:
        samples = self.samples
        if self.first_ms < 0:
            self.first_ms = ts_ms
        samples.append((ts_ms, value))
        self.total += value
        self.squares += value * value
        horizon = ts_ms - self.span_ms
        while samples and (samples[0][0] <= horizon or len(samples) > MAX_SAMPLES):
            _, old = samples.popleft()
            self.total -= old
            self.squares -= old * old


@dataclass(frozen=True, slots=True)
class Leaf:
    """A stateful leaf (rate or window): fed with each sample of its metric."""

    slot: int
    metric: str
    span_ms: int
    measure: Callable[[Tracker], float | None]


def _rate(over_ms: int) -> Callable[[Tracker], float | None]:
    least = max(over_ms // 6, 1000)  # a slope over a few seconds of noise means nothing

    def measure(tracker: Tracker) -> float | None:
        samples = tracker.samples
        if len(samples) < 2:
            return None
        t0, v0 = samples[0]
        t1, v1 = samples[-1]
        if t1 - t0 < least:
            return None
        return (v1 - v0) * 60_000 / (t1 - t0)

    return measure


def _aggregate(agg: str, window_ms: int) -> Callable[[Tracker], float | None]:
    def warm(tracker: Tracker) -> bool:
        samples = tracker.samples
        return bool(samples) and samples[-1][0] - tracker.first_ms >= window_ms

    if agg == "count":
        return lambda t: float(len(t.samples)) if warm(t) else None
    if agg == "mean":
        return lambda t: t.total / len(t.samples) if warm(t) else None
    if agg == "min":
        return lambda t: min(v for _, v in t.samples) if warm(t) else None
    if agg == "max":
        return lambda t: max(v for _, v in t.samples) if warm(t) else None

    def stddev(tracker: Tracker) -> float | None:
        if not warm(tracker):
            return None
        n = len(tracker.samples)
        mean = tracker.total / n
        return math.sqrt(max(tracker.squares / n - mean * mean, 0.0))

    return stddev


class Compiler:
    """Compiles the conditions of one kind's rules, sharing identical stateful leaves."""

    def __init__(self) -> None:
        self.leaves: list[Leaf] = []
        self._keys: dict[tuple[Any, ...], Leaf] = {}

    def _leaf(self, key: tuple[Any, ...], metric: str, span_ms: int, measure: Any) -> Leaf:
        leaf = self._keys.get(key)
        if leaf is None:
            leaf = Leaf(len(self.leaves), metric, span_ms, measure)
            self.leaves.append(leaf)
            self._keys[key] = leaf
        return leaf

    def leaf_keys(self) -> dict[tuple[Any, ...], int]:
        """Leaf identity -> slot: a reload keeps the samples of leaves that did not change."""
        return {key: leaf.slot for key, leaf in self._keys.items()}

    def compile(self, condition: Condition) -> tuple[Evaluator, Callable[[AssetState], Any]]:
        """The evaluator, and how to read the value worth reporting (the first leaf's)."""
        return self._compile(condition), self._value(condition)

    def _value(self, condition: Condition) -> Callable[[AssetState], Any]:
        if isinstance(condition, AllOf):
            return self._value(condition.all[0])
        if isinstance(condition, AnyOf):
            return self._value(condition.any[0])
        if isinstance(condition, Not):
            return self._value(condition.not_)
        if isinstance(condition, Silent):
            return lambda state: None
        if isinstance(condition, Rate | Window):
            slot = self._leaf_for(condition).slot
            return lambda state: state.values.get(slot)
        metric = condition.metric
        return lambda state: state.latest.get(metric)

    def slot_of(self, condition: Rate | Window) -> int:
        return self._leaf_for(condition).slot

    def _leaf_for(self, condition: Rate | Window) -> Leaf:
        if isinstance(condition, Rate):
            over = int(condition.over.total_seconds() * 1000)
            # the span includes the sample exactly ``over`` old: a slope needs both ends
            return self._leaf(
                ("rate", condition.metric, over), condition.metric, over + 1, _rate(over)
            )
        window = int(condition.window.total_seconds() * 1000)
        return self._leaf(
            ("window", condition.metric, window, condition.agg),
            condition.metric,
            window,
            _aggregate(condition.agg, window),
        )

    def _compile(self, condition: Condition) -> Evaluator:
        if isinstance(condition, Threshold):
            return _threshold(condition.metric, OPS[condition.op], condition.value)
        if isinstance(condition, Band):
            return _band(condition.metric, *condition.outside)
        if isinstance(condition, Rate):
            limit = condition.rate_per_min
            return _measured(self._leaf_for(condition).slot, OPS[limit.op], limit.value)
        if isinstance(condition, Window):
            return _measured(self._leaf_for(condition).slot, OPS[condition.op], condition.value)
        if isinstance(condition, Silent):
            return _silent(int(condition.silent_for.total_seconds() * 1000))
        if isinstance(condition, AllOf):
            return _all([self._compile(c) for c in condition.all])
        if isinstance(condition, AnyOf):
            return _any([self._compile(c) for c in condition.any])
        return _not(self._compile(condition.not_))


def _threshold(metric: str, compare: Callable[[Any, Any], bool], limit: Any) -> Evaluator:
    def evaluate(state: AssetState, _now: int) -> Truth:
        value = state.latest.get(metric)
        return None if value is None else compare(value, limit)

    return evaluate


def _band(metric: str, low: float, high: float) -> Evaluator:
    def evaluate(state: AssetState, _now: int) -> Truth:
        value = state.latest.get(metric)
        return None if value is None else (value < low or value > high)

    return evaluate


def _measured(slot: int, compare: Callable[[Any, Any], bool], limit: float) -> Evaluator:
    def evaluate(state: AssetState, _now: int) -> Truth:
        value = state.values.get(slot)
        return None if value is None else compare(value, limit)

    return evaluate


def _silent(quiet_ms: int) -> Evaluator:
    def evaluate(state: AssetState, now: int) -> Truth:
        if state.heard_ms < 0:
            return None
        return now - state.heard_ms >= quiet_ms

    return evaluate


def _all(parts: list[Evaluator]) -> Evaluator:
    def evaluate(state: AssetState, now: int) -> Truth:
        unknown = False
        for part in parts:
            result = part(state, now)
            if result is False:
                return False
            if result is None:
                unknown = True
        return None if unknown else True

    return evaluate


def _any(parts: list[Evaluator]) -> Evaluator:
    def evaluate(state: AssetState, now: int) -> Truth:
        unknown = False
        for part in parts:
            result = part(state, now)
            if result is True:
                return True
            if result is None:
                unknown = True
        return None if unknown else False

    return evaluate


def _not(part: Evaluator) -> Evaluator:
    def evaluate(state: AssetState, now: int) -> Truth:
        result = part(state, now)
        return None if result is None else not result

    return evaluate
