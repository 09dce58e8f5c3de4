"""How often the asset registry is flushed: every second for an estate, paced for a fleet."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facility_dispatch.ingest.pipeline import (
    REGISTRY_FLUSH_MAX_SECONDS,
    REGISTRY_FLUSH_SECONDS,
    flush_interval,
)


def test_an_estate_is_flushed_every_second() -> None:
    assert flush_interval(0.0) == 1.0
    assert flush_interval(0.004) == 1.0  # a few hundred assets


def test_a_long_flush_is_paced_to_a_twentieth_of_the_writers_time() -> None:
    # 10,000 assets took 0.17 s a flush: every 3.4 s instead of every second
    assert flush_interval(0.17) == pytest.approx(3.4)
    assert flush_interval(0.5) == pytest.approx(10.0)


def test_last_seen_never_lags_more_than_ten_seconds() -> None:
    assert flush_interval(2.0) == 10.0
    assert flush_interval(60.0) == 10.0


@given(st.floats(0, 1e6), st.floats(0, 1e6))
def test_a_longer_flush_never_comes_sooner(a: float, b: float) -> None:
    shorter, longer = sorted((a, b))
    assert flush_interval(shorter) <= flush_interval(longer)
    assert REGISTRY_FLUSH_SECONDS <= flush_interval(a) <= REGISTRY_FLUSH_MAX_SECONDS
