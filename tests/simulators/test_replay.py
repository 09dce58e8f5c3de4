"""Replay of the public datasets: valid readings of the right kind, never ahead of the clock."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from facility_dispatch.ingest.catalogue import CATALOGUE
from facility_dispatch.simulators.errors import DatasetError
from facility_dispatch.simulators.replay import Replay, datasets_root, load_dataset
from tests.simulators.helpers import decode_tick

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

EXPECTED = {
    # each recording its own pump (46,806 rows in all, as when they played back to back)
    "skab": {
        ("water", "pump-anomaly-free"): 9_405,
        ("water", "pump-valve1-0"): 1_147,
        ("water", "pump-valve1-1"): 1_145,
        ("water", "pump-valve1-2"): 1_075,
        ("water", "pump-valve1-3"): 1_148,
        ("water", "pump-valve1-4"): 1_095,
        ("water", "pump-valve1-5"): 1_154,
        ("water", "pump-valve1-6"): 1_154,
        ("water", "pump-valve1-7"): 1_094,
        ("water", "pump-valve1-8"): 1_144,
        ("water", "pump-valve1-9"): 1_148,
        ("water", "pump-valve1-10"): 1_146,
        ("water", "pump-valve1-11"): 1_141,
        ("water", "pump-valve1-12"): 1_140,
        ("water", "pump-valve1-13"): 1_140,
        ("water", "pump-valve1-14"): 1_139,
        ("water", "pump-valve1-15"): 1_150,
        ("water", "pump-valve2-0"): 1_125,
        ("water", "pump-valve2-1"): 1_063,
        ("water", "pump-valve2-2"): 1_129,
        ("water", "pump-valve2-3"): 995,
        ("water", "pump-other-1"): 745,
        ("water", "pump-other-2"): 780,
        ("water", "pump-other-3"): 1_137,
        ("water", "pump-other-4"): 1_191,
        ("water", "pump-other-5"): 1_155,
        ("water", "pump-other-6"): 1_147,
        ("water", "pump-other-7"): 1_090,
        ("water", "pump-other-8"): 1_147,
        ("water", "pump-other-9"): 1_144,
        ("water", "pump-other-10"): 1_327,
        ("water", "pump-other-11"): 1_190,
        ("water", "pump-other-12"): 1_048,
        ("water", "pump-other-13"): 923,
        ("water", "pump-other-14"): 905,
    },
    "uci": {("power", "board-1"): 15_920},
    "nab": {
        ("elevator", "lift-1"): 22_695 - 12,  # an hour that repeats
        ("elevator", "lift-2"): 7_267,
        ("cctv", "cam-1"): 4_032,
        ("cctv", "cam-2"): 4_730 - 11,  # 2014-03-09 03:00 twelve times (US DST)
        ("cctv", "cam-3"): 1_243,
        ("cctv", "nvr-1"): 4_730 - 11,
        ("cctv", "nvr-2"): 4_032,
        ("cctv", "vms-1"): 4_032 - 11,
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_dataset_replays_as_valid_readings_of_its_kind(datasets: Path, name: str) -> None:
    series = load_dataset(name, datasets)
    assert {(s.kind, s.asset): len(s.rows) for s in series} == EXPECTED[name]
    replay = Replay(series, site="replay", speed=1e9, start=NOW)
    tick = replay.step(NOW + timedelta(seconds=1))  # at this speed everything is due at once
    assert replay.finished
    assert {(p.kind, p.asset, p.online) for p in tick.presence} == {
        (kind, asset, True) for kind, asset in EXPECTED[name]
    }
    readings = decode_tick(tick)  # the service's own validator refuses nothing
    assert len(readings) == sum(EXPECTED[name].values())
    for reading in readings:
        assert reading.ts_ms <= tick.ts_ms
        known = set(reading.metrics) & set(CATALOGUE[reading.kind])
        assert known or reading.asset in ("lift-2", "vms-1")
    by_asset: dict[str, list[int]] = {}
    for reading in readings:
        by_asset.setdefault(reading.asset, []).append(reading.ts_ms)
    for stamps in by_asset.values():
        assert all(a < b for a, b in itertools.pairwise(stamps))
        assert stamps[-1] == pytest.approx(tick.ts_ms - 1000, abs=50)  # ends "now"


def test_skab_mapping_converts_units_and_clips_to_the_spec(datasets: Path) -> None:
    (series,) = load_dataset("skab:other/12.csv", datasets)  # tank drained to cavitation
    first = series.rows[0][1]
    assert first["flow_m3h"] == pytest.approx(76.0197 * 0.06, abs=1e-3) or first["flow_m3h"] > 0
    pressures = [float(m["pressure_bar"]) for _, m in series.rows]
    assert min(pressures) >= 0.0
    everything = [m for one in load_dataset("skab", datasets) for _, m in one.rows]
    assert min(float(m["pressure_bar"]) for m in everything) >= 0.0
    assert max(float(m["flow_m3h"]) for m in everything) < 10  # 133.7 L/min = 8 m³/h
    assert {m["pump_running"] for m in everything} == {True, False}


def test_each_skab_recording_is_its_own_pump_from_its_own_start(datasets: Path) -> None:
    """State must not carry from one recording to the next: each is its own asset, its times
    its own, with its one labelled fault in its own offsets."""
    series = load_dataset("skab", datasets)
    assert len(series) == 35 and len({s.asset for s in series}) == 35
    assert [s.group for s in series].count("valve1") == 16
    for one in series:
        assert one.rows[0][0] == 0.0
        assert len(one.episodes) == (0 if one.group == "anomaly-free" else 1)
        for episode in one.episodes:
            assert 0 < episode.start < episode.end <= one.span
    (valve, free) = (
        load_dataset(f"skab:{p}", datasets)[0]
        for p in ("valve1/3.csv", "anomaly-free/anomaly-free.csv")
    )
    assert (valve.asset, free.asset) == ("pump-valve1-3", "pump-anomaly-free")


def test_nab_temperatures_are_celsius_and_bytes_become_kbps(datasets: Path) -> None:
    (machine,) = load_dataset("nab:machine_temperature_system_failure", datasets)
    temps = [float(m["motor_temp_c"]) for _, m in machine.rows]
    assert min(temps) > -20 and max(temps) < 45  # 2..108 °F
    assert machine.rows[1][0] - machine.rows[0][0] == 300  # 5-minute spacing kept
    (network,) = load_dataset("nab:ec2_network_in_257a54.csv", datasets)
    assert max(float(m["bitrate_kbps"]) for _, m in network.rows) == pytest.approx(
        245126000 * 8 / 300 / 1000, rel=1e-4
    )


def test_replay_at_speed_keeps_spacing_and_never_runs_ahead(datasets: Path) -> None:
    series = load_dataset("uci", datasets)
    replay = Replay(series, site="replay", speed=60.0, start=NOW)  # a minute a second
    published = []
    for n in range(0, 121):
        now = NOW + timedelta(seconds=n)
        tick = replay.step(now)
        for reading in tick.readings:
            assert reading.ts_ms <= tick.ts_ms  # never in the future
        published.extend(tick.readings)
    assert len(published) == 121  # one row a second
    gaps = {b.ts_ms - a.ts_ms for a, b in itertools.pairwise(published)}
    assert gaps == {60_000}  # the data's own one-minute spacing
    assert [r.seq for r in published] == list(range(1, 122))


def test_replay_at_real_speed_is_live(datasets: Path) -> None:
    (series,) = load_dataset("skab:valve1/0.csv", datasets)
    replay = Replay([series], site="replay", speed=1.0, start=NOW)
    tick = replay.step(NOW + timedelta(seconds=30))
    assert tick.readings
    assert tick.readings[-1].ts_ms > int((NOW + timedelta(seconds=27)).timestamp() * 1000)


def test_missing_or_unknown_datasets_say_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(DatasetError, match="use one of skab, nab, uci"):
        load_dataset("weather", tmp_path)
    with pytest.raises(DatasetError, match="--datasets PATH or set FACILITY_DATASETS"):
        load_dataset("skab", tmp_path)
    monkeypatch.setenv("FACILITY_DATASETS", str(tmp_path / "elsewhere"))
    assert datasets_root() == tmp_path / "elsewhere"
    assert datasets_root(tmp_path) == tmp_path
    monkeypatch.delenv("FACILITY_DATASETS")
    assert datasets_root().parts[-2:] == ("shared", "datasets")


def test_unknown_parts_are_refused(datasets: Path) -> None:
    with pytest.raises(DatasetError, match="no SKAB file"):
        load_dataset("skab:valve9/1.csv", datasets)
    with pytest.raises(DatasetError, match="no NAB series 'cpu'"):
        load_dataset("nab:cpu", datasets)
