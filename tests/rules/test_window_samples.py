"""A window's samples in flat arrays (rules/conditions.Samples) hold what a list of the
window's samples holds, through trimming and compaction, and the running sums of the mean,
the spread and a rate's line stay those of the samples held. Pure: compared with a naive
computation over what was fed."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facility_dispatch.rules.conditions import MAX_SAMPLES, Line, Samples, Tracker


def held(fed: list[tuple[int, float]], span_ms: int) -> list[tuple[int, float]]:
    now = fed[-1][0]
    return [(ts, v) for ts, v in fed if ts > now - span_ms][-MAX_SAMPLES:]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5000), st.floats(-1e6, 1e6, allow_nan=False)),
        min_size=1,
        max_size=400,
    ),
    st.integers(1, 20_000),
)
def test_a_window_holds_what_a_list_of_its_samples_holds(
    steps: list[tuple[int, float]], span_ms: int
) -> None:
    mean, line = Tracker(span_ms), Line(span_ms)
    fed: list[tuple[int, float]] = []
    ts = 0
    for gap, value in steps:
        ts += gap
        fed.append((ts, value))
        mean.add(ts, value)
        line.add(ts, value)
        window = held(fed, span_ms)
        assert list(mean.samples) == window == list(line.samples)
        assert (mean.samples[0], mean.samples[-1]) == (window[0], window[-1])
        values = [v for _, v in window]
        average = math.fsum(values) / len(values)
        spread = math.fsum((v - average) ** 2 for v in values) / len(values)
        # the running sums carry the rounding of every value fed since the last re-summing
        # (the squares relative to a sample that may have left): bounded by the largest
        fed_scale = max(abs(v) for _, v in fed)
        assert mean.total / len(values) == pytest.approx(average, abs=1e-9 * (1 + fed_scale))
        assert mean.variance() == pytest.approx(spread, rel=1e-6, abs=1e-9 * (1 + fed_scale**2))


def test_samples_compact_behind_the_head_and_refuse_what_they_do_not_hold() -> None:
    samples = Samples()
    for n in range(1000):
        samples.append((n, float(n)))
    for n in range(700):
        assert samples.popleft() == (n, float(n))
    assert len(samples) == 300 and samples[0] == (700, 700.0) and samples[-1] == (999, 999.0)
    assert len(samples.times) < 1000  # what lay behind the head went
    assert list(samples)[:2] == [(700, 700.0), (701, 701.0)]
    with pytest.raises(IndexError):
        samples[300]
    with pytest.raises(IndexError):
        samples[-301]
    while samples:
        samples.popleft()
    with pytest.raises(IndexError):
        samples.popleft()
