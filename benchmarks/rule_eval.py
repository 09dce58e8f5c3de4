"""Rule evaluation: the default pack over readings of 10,000 assets, in process.

Each reading carries the full metric set of its kind with everyday values (a few assets
drift into alarm and back, so the alarm paths run too). Readings go round-robin across the
assets, one every 5 s of simulated time per asset, as a live estate sends them.
The machine's speed drifts (the same code measured 4.2 and 8.4 µs a reading an hour apart), so
the same run also times a floor: the least any stateful evaluator does with a reading (find the
asset's state, fold in the metrics, compare each number with one threshold). The ratio of the
two is the figure that travels between machines and moments.
Last line: ``rule_eval_us_per_reading=<float> readings_per_s=<float>``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facility_dispatch.kernel.readings import Reading
from facility_dispatch.rules.engine import RuleEngine
from facility_dispatch.rules.loader import load_default

T0 = 1_795_746_000_000


def metrics(kind: str, rng: random.Random, step: int, faulty: bool) -> dict[str, object]:
    if kind == "elevator":
        moving = step % 3 != 0
        return {
            "door_state": "closed" if moving else "open",
            "car_floor": step % 18,
            "moving": moving,
            "speed_mps": 1.6 if moving else 0.0,
            "load_kg": rng.uniform(0, 600),
            "vibration_mms": rng.uniform(0.8, 1.8) + (6.0 if faulty else 0.0),
            "motor_temp_c": rng.uniform(40, 60),
            "door_cycles": 10_000 + step,
            "alarm_button": False,
            "occupied": moving,
            "fault_code": "",
        }
    if kind == "water":
        return {
            "pressure_bar": rng.uniform(3.0, 4.0) - (2.5 if faulty else 0.0),
            "flow_m3h": rng.uniform(10, 30),
            "pump_running": True,
            "pump_current_a": rng.uniform(20, 30),
            "tank_level_pct": rng.uniform(60, 80),
            "leak_detected": False,
            # an instrumented pump (as in the SKAB data): what the deviation rules learn
            "motor_temp_c": rng.uniform(68, 72) + (8.0 if faulty else 0.0),
            "water_temp_c": rng.uniform(24, 26),
            "vibration1_g": rng.uniform(0.2, 0.3),
            "vibration2_g": rng.uniform(0.2, 0.3),
        }
    if kind == "power":
        return {
            "voltage_v": rng.uniform(216, 224) - (30 if faulty else 0),
            "current_a": rng.uniform(100, 200),
            "frequency_hz": rng.uniform(49.95, 50.05),
            "power_kw": rng.uniform(20, 40),
            "power_factor": 0.95,
            "energy_kwh": 1000.0 + step,
            "mains_ok": True,
            "generator_running": False,
            "ups_battery_pct": 100.0,
            "breaker_tripped": False,
        }
    return {
        "online": True,
        "fps": 25.0 if not faulty else 5.0,
        "bitrate_kbps": rng.uniform(1800, 2200),
        "packet_loss_pct": rng.uniform(0, 0.5),
        "video_loss": False,
        "tamper": False,
    }


def stream(assets: int, per_asset: int, seed: int = 7) -> list[Reading]:
    rng = random.Random(seed)
    kinds = ["elevator", "water", "power", "cctv"]
    fleet = [(kinds[i % 4], f"a{i}", f"site-{i % 20}") for i in range(assets)]
    readings = []
    for step in range(per_asset):
        for index, (kind, asset, site) in enumerate(fleet):
            faulty = index % 100 == 0 and (step // 20) % 2 == 1  # 1% of assets, on and off
            ts = T0 + step * 5000 + index % 5000
            readings.append(Reading(site, kind, asset, ts, metrics(kind, rng, step, faulty)))
    return readings


def floor_us_per_reading(readings: list[Reading]) -> float:
    """The floor: per reading, one state look-up, one merge, one comparison a number."""
    state: dict[tuple[str, str], dict[str, object]] = {}
    over = 0
    started = time.perf_counter()
    for reading in readings:
        key = (reading.site, reading.asset)
        latest = state.get(key)
        if latest is None:
            latest = state[key] = {}
        latest.update(reading.metrics)
        for value in reading.metrics.values():
            if type(value) is float and value > 1e9:
                over += 1
    elapsed = time.perf_counter() - started
    assert over == 0
    return elapsed / len(readings) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--per-asset", type=int, default=60)
    args = parser.parse_args()
    pack = load_default()
    readings = stream(args.assets, args.per_asset)
    engine = RuleEngine(pack)
    warm = args.assets * 2
    for reading in readings[:warm]:  # first sight of every asset: state is created
        engine.evaluate(reading)
    timed = readings[warm:]
    changes = 0
    started = time.perf_counter()
    for reading in timed:
        changes += len(engine.evaluate(reading))
    elapsed = time.perf_counter() - started
    tick_started = time.perf_counter()
    engine.tick(timed[-1].ts_ms + 1000)
    tick_ms = (time.perf_counter() - tick_started) * 1000
    size = engine.size()
    per_reading = elapsed / len(timed) * 1e6
    floor = floor_us_per_reading(timed)
    print(f"rules: {len(pack.rules)} (default pack); assets: {args.assets}; readings: {len(timed)}")
    print(f"alarm changes: {changes}; one tick over all assets: {tick_ms:.1f} ms")
    print(
        f"state: {size['assets']} assets, {size['samples']} window/rate samples "
        f"({size['samples'] / size['assets']:.1f} per asset), {size['rule_states']} rule states"
    )
    print(
        f"floor (state look-up, merge, one comparison a number): {floor:.3f} µs a reading; "
        f"the pack costs {per_reading / floor:.1f}x the floor"
    )
    print(f"rule_eval_us_per_reading={per_reading:.3f} readings_per_s={len(timed) / elapsed:.0f}")


if __name__ == "__main__":
    main()
