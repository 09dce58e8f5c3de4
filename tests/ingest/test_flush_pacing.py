"""How the asset registry is flushed: every second for an estate, paced and in parts for a
fleet, the oldest changes first."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facility_dispatch.ingest.assets import AssetDirectory
from facility_dispatch.ingest.pipeline import (
    REGISTRY_FLUSH_MAX_SECONDS,
    REGISTRY_FLUSH_SECONDS,
    flush_interval,
)
from facility_dispatch.kernel.readings import Reading


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


def _seen(directory: AssetDirectory, *assets: str, at: int = 1_000) -> None:
    readings = [Reading("s", "water", a, at, {"pressure_bar": 3.0}) for a in assets]
    for reading in readings:
        assert directory.admit(reading, at) is None
    directory.saw(readings)


def _taken(directory: AssetDirectory, limit: int | None) -> list[str]:
    return [u.asset for u in directory.take_updates(limit)]


def test_a_flush_in_parts_takes_the_oldest_changes_first_and_every_new_asset() -> None:
    directory = AssetDirectory([], "auto")
    _seen(directory, "a", "b", "c", "d")
    directory.take_updates()  # all written once: none is new any more
    _seen(directory, "c", "a", "d", "b", at=2_000)
    assert _taken(directory, 2) == ["c", "a"]
    _seen(directory, "b", "c", "e", at=3_000)  # b waits where it was; e is new
    assert _taken(directory, 2) == ["d", "b", "e"]  # e now: an alarm may name it next
    assert not directory.has_new
    assert _taken(directory, 2) == ["c"]
    assert _taken(directory, 2) == []


def test_a_flush_without_a_limit_takes_everything_and_restore_gives_it_back() -> None:
    directory = AssetDirectory([], "auto")
    _seen(directory, *"abcde")
    updates = directory.take_updates()
    assert [u.asset for u in updates] == list("abcde")
    directory.restore(updates[:3])  # the database was away
    assert _taken(directory, None) == list("abc")
