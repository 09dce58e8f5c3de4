"""Each kind's model over long simulated runs: every reading valid, physics believable."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta
from statistics import mean

import pytest

from facility_dispatch.kernel.readings import Reading
from facility_dispatch.simulators.elevator import RATED_SPEED_MPS
from facility_dispatch.simulators.estate import Estate, SiteLayout
from facility_dispatch.simulators.scenario import load_scenario
from tests.simulators.helpers import NIGHT, CounterCheck, decode_tick

DAY = timedelta(days=1)


def run_day(layout: SiteLayout, step_s: float, seed: int = 11) -> list[Reading]:
    """A whole local day (from 03:00) on a simulated clock, every reading through the decoder."""
    estate = Estate(layout, seed=seed)
    check = CounterCheck()
    readings: list[Reading] = []
    for tick in estate.run(NIGHT, DAY, timedelta(seconds=step_s)):
        decoded = decode_tick(tick)
        check.feed(decoded)
        readings.extend(decoded)
    if layout.elevators or layout.water or layout.power:
        assert check.checked > 1000
    return readings


def local_hour(reading: Reading) -> float:
    return ((reading.ts_ms / 1000 + 8 * 3600) % 86400) / 3600


def series(readings: list[Reading], asset: str, metric: str) -> list[float]:
    return [float(r.metrics[metric]) for r in readings if r.asset == asset and metric in r.metrics]


def test_elevators_run_a_believable_day() -> None:
    readings = run_day(SiteLayout("lifts", elevators=1, water=0, power=0, cctv=0), step_s=3.0)
    assert len(readings) == 28_801
    lift = [r for r in readings if r.asset == "lift-1"]
    states = {r.metrics["door_state"] for r in lift}
    assert states == {"open", "closed", "opening", "closing"}
    moving = [r for r in lift if r.metrics["moving"]]
    assert 500 < len(moving) < len(lift) / 2
    speeds = [float(r.metrics["speed_mps"]) for r in moving]
    assert max(speeds) <= RATED_SPEED_MPS * 1.01  # cruise at rated speed, never above
    assert max(speeds) > RATED_SPEED_MPS * 0.98
    assert any(0.2 < s < 1.5 for s in speeds)  # accelerating and decelerating
    assert all(not r.metrics["moving"] for r in lift if r.metrics["door_state"] != "closed")
    assert {r.metrics["car_floor"] for r in lift} >= {-2, -1, 1, 10, 18}
    assert 0 not in {r.metrics["car_floor"] for r in lift}
    loads = [float(r.metrics["load_kg"]) for r in lift]
    assert max(loads) > 100 and min(loads) < 5
    assert all(r.metrics["occupied"] == (float(r.metrics["load_kg"]) > 20) for r in lift)
    vibration = series(readings, "lift-1", "vibration_mms")
    assert min(vibration) > 0.5 and max(vibration) < 4.5  # ISO 10816 zone A/B when healthy
    temps = series(readings, "lift-1", "motor_temp_c")
    assert min(temps) > 15 and max(temps) < 80
    assert not any(r.metrics["alarm_button"] for r in lift)
    assert all("fault_code" not in r.metrics for r in lift)
    morning = [r for r in moving if 7 <= local_hour(r) < 9]
    small_hours = [r for r in moving if 2 <= local_hour(r) < 4]
    assert len(morning) > 4 * max(1, len(small_hours))  # traffic follows the day
    door_cycles = series(readings, "lift-1", "door_cycles")
    assert door_cycles[-1] - door_cycles[0] > 100


def test_water_station_follows_the_daily_demand() -> None:
    readings = run_day(SiteLayout("water", elevators=0, water=1, power=0, cctv=0), step_s=5.0)
    station = [r for r in readings if r.asset == "pump-1"]
    pressure = [float(r.metrics["pressure_bar"]) for r in station]
    assert min(pressure) >= 3.0 and max(pressure) <= 4.5
    assert all(r.metrics["pump_running"] and not r.metrics["leak_detected"] for r in station)
    tank = [float(r.metrics["tank_level_pct"]) for r in station]
    assert min(tank) > 60
    flow_by_hour = defaultdict(list)
    for r in station:
        flow_by_hour[int(local_hour(r))].append(float(r.metrics["flow_m3h"]))
    assert mean(flow_by_hour[7]) > 3 * mean(flow_by_hour[3])  # morning peak vs night minimum
    assert mean(flow_by_hour[19]) > 3 * mean(flow_by_hour[3])  # evening peak
    current = [float(r.metrics["pump_current_a"]) for r in station]
    assert min(current) > 0
    assert (
        series(readings, "pump-1", "pump_run_hours")[-1]
        > series(readings, "pump-1", "pump_run_hours")[0] + 23.9
    )


def test_power_board_holds_220v_50hz_with_an_evening_peak() -> None:
    readings = run_day(SiteLayout("power", elevators=0, water=0, power=1, cctv=0), step_s=5.0)
    board = [r for r in readings if r.asset == "board-1"]
    volts = [float(r.metrics["voltage_v"]) for r in board]
    assert min(volts) > 198 and max(volts) < 242  # within ±10% of 220 V
    assert 215 < mean(volts) < 225
    hertz = [float(r.metrics["frequency_hz"]) for r in board]
    assert min(hertz) > 49.9 and max(hertz) < 50.1
    assert all(r.metrics["mains_ok"] and not r.metrics["breaker_tripped"] for r in board)
    assert all(not r.metrics["generator_running"] for r in board)
    assert all(float(r.metrics["ups_battery_pct"]) == 100.0 for r in board)
    by_hour = defaultdict(list)
    for r in board:
        by_hour[int(local_hour(r))].append(float(r.metrics["power_kw"]))
    assert mean(by_hour[20]) > 2 * mean(by_hour[4])
    for r in board:  # P = 3 V I pf per phase, as the board meters it
        p = float(r.metrics["power_kw"])
        v, i, pf = (float(r.metrics[k]) for k in ("voltage_v", "current_a", "power_factor"))
        assert p == pytest.approx(3 * v * i * pf / 1000, rel=0.01)
    energy = series(readings, "board-1", "energy_kwh")
    assert energy[-1] - energy[0] == pytest.approx(sum(mean(v) for v in by_hour.values()), 0.05)


def test_cameras_and_recorders_over_a_day_and_a_half() -> None:
    estate = Estate(SiteLayout("cctv", elevators=0, water=0, power=0, cctv=17), seed=3)
    readings: list[Reading] = []
    for tick in estate.run(NIGHT, 1.5 * DAY, timedelta(seconds=120)):
        readings.extend(decode_tick(tick))
    assets = {r.asset for r in readings}
    assert assets == {f"cam-{n}" for n in range(1, 18)} | {"nvr-1", "nvr-2"}
    cams = [r for r in readings if r.asset.startswith("cam-")]
    assert all(r.metrics["online"] and not r.metrics["tamper"] for r in cams)
    assert all(not r.metrics["video_loss"] for r in cams)
    assert all(15 <= float(r.metrics["fps"]) <= 30 for r in cams)
    assert all(float(r.metrics["packet_loss_pct"]) < 1.0 for r in cams)
    assert all(500 < float(r.metrics["bitrate_kbps"]) < 9000 for r in cams)
    used = series(readings, "nvr-1", "storage_used_pct")
    assert min(used) > 70 and max(used) < 90
    # the nightly recycle: the disk fills through the day and drops at 03:00
    assert any(b < a - 0.5 for a, b in itertools.pairwise(used))
    retention = series(readings, "nvr-1", "retention_days")
    assert min(retention) >= 30
    nvr = [r for r in readings if r.asset == "nvr-2"]
    assert all(r.metrics["recording"] and r.metrics["cameras_online"] == 1 for r in nvr)


def test_a_fault_heavy_run_stays_valid_and_counters_never_fall() -> None:
    """Thousands of steps with every fault coming and going: still no rejected reading."""
    estate = Estate.single("mixed", elevators=2, water=1, power=1, cctv=4, seed=5)
    estate.play(load_scenario("incident-tour"), repeat_every=timedelta(minutes=30))
    check = CounterCheck()
    seen_faults = set()
    count = 0
    for tick in estate.run(NIGHT, timedelta(minutes=35), timedelta(seconds=1)):
        decoded = decode_tick(tick)
        count += len(decoded)
        check.feed(decoded)
        for faults in estate.active_faults().values():
            seen_faults.update(faults)
    assert count > 15_000
    assert len(seen_faults) == 8
