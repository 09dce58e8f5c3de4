"""Conditions compiled once into closures, and the bounded per-asset state they read.

Evaluation is three-valued: True, False, or None when the metrics it needs have not been seen
(or a window is not yet full). ``not`` of unknown stays unknown, so a rule like "not recording"
cannot fire for a camera that has never reported ``recording``. An alarm fires only on True and
clears only on False (or on its clear condition being True).

Rates and windows keep the recent samples per asset (two flat arrays, :class:`Samples`),
trimmed by time and capped at :data:`MAX_SAMPLES`; identical leaves of different rules (same
metric, span and aggregate) share one buffer. A rate is the slope of a least-squares line
through those samples, kept as running sums. A deviation keeps running sums over time buckets
(:class:`Baseline`): O(1) a reading however long its baseline.

All times are the readings' own (event time, in ms): a silence is the time between an asset's
newest reading and the engine's "now", which is itself a reading time (see the engine).
"""

from __future__ import annotations

import math
import operator
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from facility_dispatch.rules.models import (
    SITE_DEFAULTS,
    AllOf,
    AnyOf,
    Band,
    Condition,
    Deviation,
    Not,
    Rate,
    Silent,
    SiteValue,
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
    fired_ms: int = -1  # an episode never resolves before this


@dataclass(slots=True)
class AssetState:
    """Everything the engine keeps about one asset; bounded by the rules, not by time."""

    site: str
    kind: str
    asset: str
    latest: dict[str, Any] = field(default_factory=dict)
    last_ms: int = -1  # event time of the newest reading judged: readings are taken in order
    heard_ms: int = -1  # time of its newest reading (or registry last-seen): silence starts here
    params: dict[str, float] = field(default_factory=lambda: dict(SITE_DEFAULTS))  # its site's
    screen: Any = None  # the screen of its kind at its site's parameters, once looked up
    screen_of: Any = None  # ... for these compiled rules (a reload compiles new ones)
    trackers: dict[int, Tracker | Baseline] = field(default_factory=dict)
    values: dict[int, float | None] = field(default_factory=dict)
    rules: dict[int, RuleState] = field(default_factory=dict)
    alarms: dict[str, FaultAlarm] = field(default_factory=dict)


class Samples:
    """A window's samples, oldest first: times and values in two flat arrays from ``head`` on.

    16 bytes a sample where a deque of (time, value) tuples took about 100: a fleet of 10,000
    assets at one reading a second holds millions of samples in its 10-minute and 5-minute
    windows (measured: the service's memory grew 1.2 MB a second until they filled). Taking
    from the front moves ``head``; the arrays are compacted once half of them is behind it."""

    __slots__ = ("head", "times", "values")

    def __init__(self) -> None:
        self.times = array("q")
        self.values = array("d")
        self.head = 0

    def __len__(self) -> int:
        return len(self.times) - self.head

    def __bool__(self) -> bool:
        return len(self.times) > self.head

    def __getitem__(self, index: int) -> tuple[int, float]:
        at = self.head + index if index >= 0 else len(self.times) + index
        if not self.head <= at < len(self.times):
            raise IndexError(index)
        return self.times[at], self.values[at]

    def __iter__(self) -> Iterator[tuple[int, float]]:
        head = self.head
        return zip(self.times[head:], self.values[head:], strict=True)

    def append(self, sample: tuple[int, float]) -> None:
        self.times.append(sample[0])
        self.values.append(sample[1])

    def popleft(self) -> tuple[int, float]:
        head = self.head
        if head >= len(self.times):
            raise IndexError("popleft from no samples")
        sample = self.times[head], self.values[head]
        self.head = head + 1
        self.compact()
        return sample

    def compact(self) -> None:
        """Drop what lies behind ``head`` once it is half the arrays (O(1) amortised)."""
        head = self.head
        if head >= 64 and head * 2 >= len(self.times):
            del self.times[:head]
            del self.values[:head]
            self.head = 0

    def first_time(self) -> int:
        return self.times[self.head]

    def last_time(self) -> int:
        return self.times[-1]


class Tracker:
    """Samples of one metric over a span, for one window leaf of one asset.

    Keeps the sums a mean and a standard deviation need, the squares relative to a reference
    value (the oldest sample at the last re-summing); the sums are rebuilt from the samples
    once as many have left as are held, so running sums stay exact enough over months, at
    O(1) amortised a sample."""

    __slots__ = ("first_ms", "ref_value", "removed", "samples", "span_ms", "squares", "total")

    def __init__(self, span_ms: int) -> None:
        self.samples = Samples()
        self.span_ms = span_ms
        self.first_ms = -1
        self.ref_value = 0.0
        self.removed = 0
        self.total = 0.0  # of the values themselves: a mean needs no reference
        self.squares = 0.0  # of (value - ref_value)

    def add(self, ts_ms: int, value: float) -> None:
        samples = self.samples
        if self.first_ms < 0:
            self.first_ms = ts_ms
            self.ref_value = value
        times, values = samples.times, samples.values
        times.append(ts_ms)
        values.append(value)
        ref_value = self.ref_value
        v = value - ref_value
        self.total += value
        self.squares += v * v
        horizon = ts_ms - self.span_ms
        head = samples.head
        end = len(times)
        while head < end and (times[head] <= horizon or end - head > MAX_SAMPLES):
            old = values[head]
            v = old - ref_value
            self.total -= old
            self.squares -= v * v
            self.removed += 1
            head += 1
        if head != samples.head:
            samples.head = head
            samples.compact()
        if self.removed >= len(samples):
            self._resum()

    def _resum(self) -> None:
        self.removed = 0
        samples = self.samples
        self.ref_value = samples[0][1] if samples else 0.0
        self.total = sum(v for _, v in samples)
        self.squares = sum((v - self.ref_value) ** 2 for _, v in samples)

    def variance(self) -> float:
        n = len(self.samples)
        mean = self.total / n - self.ref_value
        return max(self.squares / n - mean * mean, 0.0)


class Extreme(Tracker):
    """Samples of one metric over a window, for a ``min`` or ``max`` window leaf: with the
    sliding-window extreme kept as a monotonic deque, O(1) amortised a sample where a scan of
    the window (up to :data:`MAX_SAMPLES`) ran on every reading.

    ``kept`` holds (serial, sign x value) of the samples that may still become the extreme,
    strictly decreasing from the front; ``sign`` is 1 for max and -1 for min, so both are a
    max. Samples leave ``samples`` oldest first, so the front of ``kept`` leaves with its own."""

    __slots__ = ("added", "gone", "kept", "sign")

    def __init__(self, span_ms: int, sign: float) -> None:
        super().__init__(span_ms)
        self.sign = sign
        self.kept: deque[tuple[int, float]] = deque()
        self.added = 0  # serial of the next sample
        self.gone = 0  # samples that have left the window: their serials are below this

    def add(self, ts_ms: int, value: float) -> None:
        kept = self.kept
        signed = self.sign * value
        while kept and kept[-1][1] <= signed:
            kept.pop()  # never the extreme again: a newer sample is at least as far out
        kept.append((self.added, signed))
        self.added += 1
        held = len(self.samples) + 1
        super().add(ts_ms, value)
        self.gone += held - len(self.samples)
        while kept[0][0] < self.gone:
            kept.popleft()

    def extreme(self) -> float:
        return self.sign * self.kept[0][1]


class Line(Tracker):
    """Samples of one metric over a span, for one rate leaf: with the sums a least-squares
    slope needs, times in seconds since a reference time (re-based with the re-summing)."""

    __slots__ = ("ref_ms", "sum_t", "sum_tt", "sum_tv")

    def __init__(self, span_ms: int) -> None:
        super().__init__(span_ms)
        self.ref_ms = 0
        self.sum_t = 0.0
        self.sum_tt = 0.0
        self.sum_tv = 0.0  # t x (value - ref_value)

    def add(self, ts_ms: int, value: float) -> None:
        samples = self.samples
        if self.first_ms < 0:
            self.first_ms = self.ref_ms = ts_ms
            self.ref_value = value
        times, values = samples.times, samples.values
        times.append(ts_ms)
        values.append(value)
        ref_ms, ref_value = self.ref_ms, self.ref_value
        # the sums written out, not through a helper: this runs for every sample (issue 18)
        t = (ts_ms - ref_ms) / 1000.0
        v = value - ref_value
        self.total += value
        self.squares += v * v
        self.sum_t += t
        self.sum_tt += t * t
        self.sum_tv += t * v
        horizon = ts_ms - self.span_ms
        head = samples.head
        end = len(times)
        while head < end and (times[head] <= horizon or end - head > MAX_SAMPLES):
            t = (times[head] - ref_ms) / 1000.0
            old = values[head]
            v = old - ref_value
            self.total -= old
            self.squares -= v * v
            self.sum_t -= t
            self.sum_tt -= t * t
            self.sum_tv -= t * v
            self.removed += 1
            head += 1
        if head != samples.head:
            samples.head = head
            samples.compact()
        if self.removed >= len(samples):
            self._resum()

    def _resum(self) -> None:
        super()._resum()
        samples = self.samples
        self.ref_ms = samples[0][0] if samples else 0
        ref_ms, ref_value = self.ref_ms, self.ref_value
        self.sum_t = self.sum_tt = self.sum_tv = 0.0
        for ts_ms, value in samples:
            t = (ts_ms - ref_ms) / 1000.0
            self.sum_t += t
            self.sum_tt += t * t
            self.sum_tv += t * (value - ref_value)

    def slope_per_s(self) -> float | None:
        """Least-squares slope of value over time, per second; None for a vertical cloud."""
        n = len(self.samples)
        spread = n * self.sum_tt - self.sum_t * self.sum_t
        if spread <= 1e-9 * max(n * self.sum_tt, 1.0):
            return None
        return (n * self.sum_tv - self.sum_t * (self.total - n * self.ref_value)) / spread


class Baseline:
    """What a deviation leaf keeps of one asset's metric: the recent ``window`` and the learned
    ``baseline`` before it, as (count, sum, sum of squares) per time bucket of window/6.

    A bucket enters the baseline when it leaves the window, while learning; while the rule's
    alarm is open (pending or firing) learning pauses and the baseline stays as it was, for as
    long as the alarm stays open (SPEC section 2), so a fault does not become the new normal: a
    valve left half closed keeps its alarm until someone opens it. A change meant to last (a
    pump replaced, a valve set anew) keeps the alarm too, until the level comes back or the
    rule's window, baseline or min_change is changed (a new leaf, which learns afresh). The
    baseline holds the newest ``baseline`` of learned buckets; it is judged only once it holds
    them all (the warm-up).

    Buckets are kept flat in two ``array('d')``, ``recent`` four numbers a bucket (index, n,
    sum, squares), ``base`` three (n, sum, squares), oldest first: as lists and tuples of
    floats they took about 200 bytes a bucket, and a fleet of 10,000 assets with the pump
    pack's seven deviation rules held a million of them (measured: 186 of the engine's 320 MiB
    after ten minutes); as arrays 24 to 32 bytes."""

    __slots__ = (
        "base",
        "base_n",
        "base_s",
        "base_ss",
        "baseline_buckets",
        "bucket_ms",
        "dropped",
        "last_ms",
        "mean",
        "min_change",
        "origin_ms",
        "ready",
        "recent",
        "ref",
        "spread",
        "win_n",
        "win_s",
        "window_buckets",
    )

    def __init__(self, window_ms: int, baseline_ms: int, min_change: float = 0.0) -> None:
        self.min_change = min_change
        self.bucket_ms = max(window_ms // 6, 1)
        self.window_buckets = max(window_ms // self.bucket_ms, 1)
        self.baseline_buckets = max(baseline_ms // self.bucket_ms, 1)
        self.recent = array("d")  # index, n, sum, sum of squares: a bucket of the window
        self.base = array("d")  # n, sum, squares: a learned bucket
        self.win_n = 0.0
        self.win_s = 0.0
        self.base_n = 0.0
        self.base_s = 0.0
        self.base_ss = 0.0
        self.dropped = 0
        self.ref: float | None = None  # values are summed relative to the first one
        self.origin_ms = 0
        self.last_ms = -1  # the newest sample taken: a restart's replay skips what it saw
        # the baseline's mean and spread change only when a bucket is learned: kept, not
        # worked out for every reading; ready once the baseline is full (the warm-up)
        self.ready = False
        self.mean = 0.0
        self.spread = 0.0

    def add(self, ts_ms: int, value: float, learning: bool) -> float | None:
        """Take a sample; the score (see :meth:`score`) after it. A sample no newer than the
        last one taken (the stored readings replayed after a restart that the saved baseline
        had already seen) is not taken again."""
        if ts_ms <= self.last_ms:
            return self.score()
        self.last_ms = ts_ms
        ref = self.ref
        if ref is None:
            ref = self.ref = value
            self.origin_ms = ts_ms
        v = value - ref
        # buckets start at the first sample, not at epoch multiples: the same readings give
        # the same buckets however far in time a replay shifts them
        index = (ts_ms - self.origin_ms) // self.bucket_ms
        recent = self.recent
        if recent and recent[-4] == index:  # most samples: the bucket is still open
            recent[-3] += 1.0
            recent[-2] += v
            recent[-1] += v * v
            self.win_n += 1.0
            self.win_s += v
        else:  # a new bucket: only now can the oldest leave the window
            recent.extend((float(index), 1.0, v, v * v))
            self.win_n += 1.0
            self.win_s += v
            oldest = index - self.window_buckets
            while recent[0] <= oldest:
                n, total, squares = recent[1], recent[2], recent[3]
                del recent[:4]
                self.win_n -= n
                self.win_s -= total
                if learning:
                    self._learn(n, total, squares)
        if not self.ready:
            return None
        difference = self.win_s / self.win_n - self.mean
        if difference == 0.0 or abs(difference) < self.min_change:
            return 0.0
        if self.spread == 0.0:
            return math.copysign(math.inf, difference)  # a flat normal: any change is news
        return difference / self.spread

    def snapshot(self) -> dict[str, Any]:
        """Everything it has learned and holds, as plain JSON data (stored across restarts:
        a baseline frozen for hours under an open alarm cannot be rebuilt from an hour of
        stored readings). Bounded: ``window`` + ``baseline`` buckets of three numbers."""
        return {
            "ref": self.ref,
            "origin_ms": self.origin_ms,
            "last_ms": self.last_ms,
            "dropped": self.dropped,
            "recent": [list(self.recent[i : i + 4]) for i in range(0, len(self.recent), 4)],
            "base": [list(self.base[i : i + 3]) for i in range(0, len(self.base), 3)],
        }

    def restore(self, saved: Mapping[str, Any]) -> bool:
        """Take back a :meth:`snapshot` of the same leaf; False (and nothing taken) when it
        does not fit this leaf's bucket counts or is not well formed."""
        try:
            recent = [[float(x) for x in bucket] for bucket in saved["recent"]]
            base = [tuple(float(x) for x in bucket) for bucket in saved["base"]]
            ref = saved["ref"]
            ref = None if ref is None else float(ref)
            origin_ms, last_ms = int(saved["origin_ms"]), int(saved["last_ms"])
            dropped = int(saved["dropped"])
        except (KeyError, TypeError, ValueError):
            return False
        if (
            len(recent) > self.window_buckets + 1
            or len(base) > self.baseline_buckets
            or any(len(b) != 4 for b in recent)
            or any(len(b) != 3 for b in base)
            or not all(math.isfinite(x) for b in [*recent, *base] for x in b)
        ):
            return False
        self.ref, self.origin_ms, self.last_ms = ref, origin_ms, last_ms
        self.recent = array("d", (x for bucket in recent for x in bucket))
        self.win_n = sum(b[1] for b in recent)
        self.win_s = sum(b[2] for b in recent)
        self.base = array("d", (x for bucket in base for x in bucket))
        self.base_n = sum(b[0] for b in base)
        self.base_s = sum(b[1] for b in base)
        self.base_ss = sum(b[2] for b in base)
        self.dropped = dropped
        self._judge_baseline()
        return True

    def _learn(self, n: float, total: float, squares: float) -> None:
        base = self.base
        base.extend((n, total, squares))
        self.base_n += n
        self.base_s += total
        self.base_ss += squares
        if len(base) > 3 * self.baseline_buckets:
            old_n, old_s, old_ss = base[0], base[1], base[2]
            del base[:3]
            self.base_n -= old_n
            self.base_s -= old_s
            self.base_ss -= old_ss
            self.dropped += 1
            if self.dropped >= self.baseline_buckets:  # re-sum now and then: no drift
                self.dropped = 0
                self.base_n = sum(base[0::3])
                self.base_s = sum(base[1::3])
                self.base_ss = sum(base[2::3])
        self._judge_baseline()

    def _judge_baseline(self) -> None:
        base = self.base
        self.ready = len(base) >= 3 * self.baseline_buckets and self.base_n >= 2
        if self.ready:
            self.mean = self.base_s / self.base_n
            variance = max(self.base_ss / self.base_n - self.mean * self.mean, 0.0)
            spread = math.sqrt(variance)
            # below a billionth of the level it is rounding, not spread
            level = max(abs(self.mean + (self.ref or 0.0)), 1.0)
            self.spread = spread if spread > 1e-9 * level else 0.0

    def score(self) -> float | None:
        """How many baseline standard deviations the window's mean lies from the baseline's
        (signed); 0.0 when the means differ by less than ``min_change``; None while warming."""
        if not self.ready or self.win_n <= 0:
            return None
        difference = self.win_s / self.win_n - self.mean
        if difference == 0.0 or abs(difference) < self.min_change:
            return 0.0
        if self.spread == 0.0:
            return math.copysign(math.inf, difference)
        return difference / self.spread


@dataclass(frozen=True, slots=True)
class Leaf:
    """A stateful leaf (rate, window or deviation): fed with each sample of its metric.

    A deviation leaf belongs to one rule (``owner``, the rule's index): its learning pauses
    while that rule is open on the asset. Other leaves have owner -1 and are shared."""

    slot: int
    metric: str
    span_ms: int
    measure: Callable[[Any], float | None]
    owner: int = -1
    make: Callable[[], Tracker | Baseline] | None = None

    def tracker(self) -> Tracker | Baseline:
        return self.make() if self.make is not None else Tracker(self.span_ms)


def _rate(over_ms: int, min_change: float) -> Callable[[Line], float | None]:
    least = max(over_ms // 2, 1000)  # a line through a few seconds of noise means nothing

    def measure(tracker: Line) -> float | None:
        samples = tracker.samples
        if len(samples) < 2:
            return None
        spanned = samples.last_time() - samples.first_time()
        if spanned < least:
            return None
        slope = tracker.slope_per_s()
        if slope is None:
            return None
        if min_change and abs(slope * spanned / 1000) < min_change:
            return 0.0  # the line moves less than the least change that means anything
        return slope * 60

    return measure


def _warm(tracker: Tracker, window_ms: int) -> bool:
    """Whether the tracker has seen a whole window yet (judged only then)."""
    samples = tracker.samples
    return bool(samples) and samples.last_time() - tracker.first_ms >= window_ms


def _extreme(window_ms: int) -> Callable[[Extreme], float | None]:
    return lambda t: t.extreme() if _warm(t, window_ms) else None


def _aggregate(agg: str, window_ms: int) -> Callable[[Tracker], float | None]:
    def warm(tracker: Tracker) -> bool:
        return _warm(tracker, window_ms)

    if agg == "count":
        return lambda t: float(len(t.samples)) if warm(t) else None
    if agg == "mean":
        return lambda t: t.total / len(t.samples) if warm(t) else None

    def stddev(tracker: Tracker) -> float | None:
        if not warm(tracker):
            return None
        return math.sqrt(tracker.variance())

    return stddev


Stateful = Rate | Window | Deviation


class Compiler:
    """Compiles the conditions of one kind's rules, sharing identical stateful leaves.

    Set :attr:`owner` (the rule's index and id) before compiling a rule: its deviation leaves
    are its own, since their learning follows the rule's alarm."""

    def __init__(self) -> None:
        self.leaves: list[Leaf] = []
        self._keys: dict[tuple[Any, ...], Leaf] = {}
        self.owner: tuple[int, str] = (-1, "")
        self._owned: dict[int, Leaf] = {}  # id of a deviation condition -> its leaf

    def _leaf(
        self,
        key: tuple[Any, ...],
        metric: str,
        span_ms: int,
        measure: Any,
        owner: int = -1,
        make: Callable[[], Tracker | Baseline] | None = None,
    ) -> Leaf:
        leaf = self._keys.get(key)
        if leaf is None:
            leaf = Leaf(len(self.leaves), metric, span_ms, measure, owner, make)
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
        if isinstance(condition, Rate | Window | Deviation):
            slot = self._leaf_for(condition).slot

            def measured(state: AssetState) -> Any:
                value = state.values.get(slot)
                # JSON has no infinity: a deviation from a flat normal is reported as 999
                return (
                    value
                    if value is None or math.isfinite(value)
                    else (math.copysign(999.0, value))
                )

            return measured
        metric = condition.metric
        return lambda state: state.latest.get(metric)

    def slot_of(self, condition: Stateful) -> int:
        return self._leaf_for(condition).slot

    def _leaf_for(self, condition: Stateful) -> Leaf:
        if isinstance(condition, Rate):
            over = int(condition.over.total_seconds() * 1000)
            # the span includes the sample exactly ``over`` old: a slope needs both ends
            return self._leaf(
                ("rate", condition.metric, over, condition.min_change),
                condition.metric,
                over + 1,
                _rate(over, condition.min_change),
                make=lambda: Line(over + 1),
            )
        if isinstance(condition, Deviation):
            known = self._owned.get(id(condition))
            if known is not None:  # a later look-up (the screen's) finds the rule's own leaf
                return known
            spec = condition.deviation
            window = int(spec.window.total_seconds() * 1000)
            baseline = int(spec.baseline.total_seconds() * 1000)
            index, rule_id = self.owner
            leaf = self._owned[id(condition)] = self._leaf(
                ("deviation", condition.metric, window, baseline, spec.min_change, rule_id),
                condition.metric,
                window + baseline,
                lambda tracker: tracker.score(),
                index,
                lambda: Baseline(window, baseline, spec.min_change),
            )
            return leaf
        window = int(condition.window.total_seconds() * 1000)
        sign = {"max": 1.0, "min": -1.0}.get(condition.agg)
        return self._leaf(
            ("window", condition.metric, window, condition.agg),
            condition.metric,
            window,
            _aggregate(condition.agg, window) if sign is None else _extreme(window),
            make=None if sign is None else (lambda: Extreme(window, sign)),
        )

    def _compile(self, condition: Condition) -> Evaluator:
        if isinstance(condition, Threshold):
            if isinstance(condition.value, SiteValue):
                return _site_threshold(condition.metric, OPS[condition.op], condition.value)
            return _threshold(condition.metric, OPS[condition.op], condition.value)
        if isinstance(condition, Band):
            return _band(condition.metric, *condition.outside)
        if isinstance(condition, Rate):
            limit = condition.rate_per_min
            return _measured(self._leaf_for(condition).slot, OPS[limit.op], limit.value)
        if isinstance(condition, Window):
            return _measured(self._leaf_for(condition).slot, OPS[condition.op], condition.value)
        if isinstance(condition, Deviation):
            spec = condition.deviation
            return _deviated(self._leaf_for(condition).slot, spec.direction, spec.z)
        if isinstance(condition, Silent):
            return _silent(int(condition.silent_for.total_seconds() * 1000))
        if isinstance(condition, AllOf):
            return _all([self._compile(c) for c in condition.all])
        if isinstance(condition, AnyOf):
            return _any([self._compile(c) for c in condition.any])
        return _not(self._compile(condition.not_))


def deviates(score: float, direction: str, z: float) -> bool:
    """A deviation score against its limit, in the rule's direction."""
    if direction == "up":
        return score > z
    if direction == "down":
        return score < -z
    return abs(score) > z


def _deviated(slot: int, direction: str, z: float) -> Evaluator:
    def evaluate(state: AssetState, _now: int) -> Truth:
        score = state.values.get(slot)
        return None if score is None else deviates(score, direction, z)

    return evaluate


def _site_threshold(
    metric: str, compare: Callable[[Any, Any], bool], limit: SiteValue
) -> Evaluator:
    def evaluate(state: AssetState, _now: int) -> Truth:
        value = state.latest.get(metric)
        return None if value is None else compare(value, limit.at(state.params))

    return evaluate


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
