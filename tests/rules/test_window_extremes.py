"""A window's min and max kept as monotonic deques (O(1) amortised a sample) give what a scan
of the window gives. Pure: the tracker fed samples, compared with a naive computation."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facility_dispatch.rules.conditions import MAX_SAMPLES, Extreme


def naive(fed: list[tuple[int, float]], span_ms: int) -> tuple[float, float]:
    """Min and max of what the window holds after the last sample: newer than ``span_ms``
    before it, and no more than the newest MAX_SAMPLES."""
    now = fed[-1][0]
    held = [v for ts, v in fed if ts > now - span_ms][-MAX_SAMPLES:]
    return min(held), max(held)


def check(steps: list[tuple[int, float]], span_ms: int) -> None:
    low, high = Extreme(span_ms, -1.0), Extreme(span_ms, 1.0)
    fed: list[tuple[int, float]] = []
    ts = 0
    for gap, value in steps:
        ts += gap
        fed.append((ts, value))
        low.add(ts, value)
        high.add(ts, value)
        assert (low.extreme(), high.extreme()) == naive(fed, span_ms)


@pytest.mark.parametrize(
    ("steps", "span_ms"),
    [
        ([(1000, 5.0)], 60_000),  # one sample
        ([(1000, v) for v in (1, 2, 3, 4, 5, 6)], 3_000),  # rising: the max is always the newest
        ([(1000, v) for v in (6, 5, 4, 3, 2, 1)], 3_000),  # falling: the max leaves with time
        ([(1000, v) for v in (3, 3, 3, 1, 3, 3)], 2_500),  # equal values, one dip leaving
        ([(1000, 1.0), (10_000, 9.0), (1000, 2.0)], 5_000),  # a gap empties the window
        ([(1000, -2.0), (1000, 7.5), (1000, -2.0), (1000, 0.0)], 1_500),  # negative values
    ],
)
def test_extremes_match_a_scan(steps: list[tuple[int, float]], span_ms: int) -> None:
    check(steps, span_ms)


def test_extremes_when_the_window_is_cut_at_max_samples() -> None:
    rng = random.Random(17)
    steps = [(1, rng.uniform(-5, 5)) for _ in range(MAX_SAMPLES + 300)]
    steps[10] = (1, 100.0)  # the max of all, cut off by the count long before its time
    low, high = Extreme(3_600_000, -1.0), Extreme(3_600_000, 1.0)
    for ts, (_, value) in enumerate(steps, start=1):
        low.add(ts, value)
        high.add(ts, value)
    held = [v for _, v in steps][-MAX_SAMPLES:]
    assert (low.extreme(), high.extreme()) == (min(held), max(held))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 4000), st.integers(-20, 20).map(float)), min_size=1, max_size=80
    ),
    st.integers(1, 12_000),
)
def test_extremes_match_a_scan_for_any_samples(
    steps: list[tuple[int, float]], span_ms: int
) -> None:
    check(steps, span_ms)
