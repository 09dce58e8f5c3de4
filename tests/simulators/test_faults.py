"""Each fault produces the signature the rule pack detects (SPEC section 3 faults).

Table-driven: a fresh estate warms up a minute at 10:00 local time, the fault is injected for
``duration``, and the case's check sees the readings of the target asset before, during and
after the fault (stepped every second on a simulated clock).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import mean

import pytest

from facility_dispatch.kernel.readings import Reading
from facility_dispatch.simulators.elevator import RATED_SPEED_MPS
from facility_dispatch.simulators.errors import (
    FaultOptionError,
    FaultTargetError,
    UnknownFaultError,
)
from facility_dispatch.simulators.estate import Estate
from facility_dispatch.simulators.telemetry import PresenceChange
from tests.simulators.helpers import MORNING, NIGHT, decode_tick

WARMUP_S = 60


@dataclass
class Run:
    """The target asset's readings around one injected fault (t: seconds since injection)."""

    before: list[Reading]
    during: list[tuple[int, Reading]]
    after: list[tuple[int, Reading]]
    presence: list[tuple[int, PresenceChange]] = field(default_factory=list)

    def at(self, start: int, end: int | None = None) -> list[Reading]:
        return [r for t, r in self.during if t >= start and (end is None or t < end)]

    def values(self, metric: str, start: int = 0, end: int | None = None) -> list[float]:
        return [float(r.metrics[metric]) for r in self.at(start, end) if metric in r.metrics]


def inject_and_run(
    fault: str,
    asset: str,
    duration: int,
    options: Mapping[str, object],
    *,
    after: int = 90,
    start: datetime = MORNING,
    seed: int = 7,
) -> Run:
    estate = Estate.single("faults", elevators=2, water=1, power=1, cctv=4, seed=seed)
    before = []
    for tick in estate.run(start, timedelta(seconds=WARMUP_S)):
        before.extend(r for r in decode_tick(tick) if r.asset == asset)
    t0 = start + timedelta(seconds=WARMUP_S + 1)
    targets = estate.inject(fault, asset, duration=timedelta(seconds=duration), **options)
    assert [d.asset for d in targets] == [asset]
    run = Run(before, [], [])
    for n in range(duration + after + 1):
        tick = estate.step(t0 + timedelta(seconds=n))
        run.presence.extend((n, p) for p in tick.presence)
        mine = [(n, r) for r in decode_tick(tick) if r.asset == asset]
        (run.during if n < duration else run.after).extend(mine)
    return run


def entrapment(run: Run) -> None:
    for r in run.at(10):
        m = r.metrics
        assert m["moving"] is False and m["speed_mps"] == 0 and m["door_state"] == "closed"
        assert m["occupied"] is True and m["alarm_button"] is True
        assert str(m["fault_code"]).startswith("E50")
    released = [r.metrics for _, r in run.after]
    assert released[0]["fault_code"] == ""  # JSON null: the controller fault cleared
    assert not released[-1]["alarm_button"] and not released[-1]["occupied"]
    assert all("fault_code" not in m for m in released[1:])


def door_obstruction(run: Run) -> None:
    states = [r.metrics["door_state"] for r in run.at(0)]
    first = states.index("obstructed")  # from the next arrival when the car was running
    assert first < 60
    assert set(states[first:]) == {"obstructed"}
    assert not any(r.metrics["moving"] for r in run.at(first))
    assert "obstructed" not in {r.metrics["door_state"] for _, r in run.after[5:]}


def overspeed(run: Run) -> None:
    threshold = 1.15 * RATED_SPEED_MPS
    assert max(float(r.metrics["speed_mps"]) for r in run.before) < threshold
    fast = [r for r in run.at(0) if float(r.metrics["speed_mps"]) > threshold]
    assert len(fast) >= 10
    assert all(r.metrics["moving"] for r in fast)
    assert max(float(r.metrics["speed_mps"]) for _, r in run.after[40:]) < threshold


def bearing_wear(run: Run) -> None:
    vibration = run.values("vibration_mms")
    assert 0.8 < mean(vibration[:30]) < 2.2
    above_45 = next(n for n, v in enumerate(vibration) if v > 4.5)
    above_71 = next(n for n, v in enumerate(vibration) if v > 7.1)
    assert 120 < above_45 < above_71 < 600  # creeps through ISO 10816 zone C into D
    assert mean(vibration[-30:]) > 7.1
    temps = run.values("motor_temp_c")
    assert mean(temps[-30:]) > mean(temps[:30]) + 2.0
    assert mean(float(r.metrics["vibration_mms"]) for _, r in run.after) < 2.5  # replaced


def pipe_burst(run: Run) -> None:
    normal_flow = mean(float(r.metrics["flow_m3h"]) for r in run.before)
    pressure = run.values("pressure_bar")
    below = next(n for n, p in enumerate(pressure) if p < 1.0)
    assert below < 150
    for n in range(30, below + 1, 10):  # falling faster than 1 bar/min all the way down
        assert pressure[n - 30] - pressure[n] > 0.5
    assert max(pressure[below:]) < 1.0
    surge = run.values("flow_m3h", 20)
    assert 2.0 * normal_flow < min(surge) and max(surge) < 3.0 * normal_flow
    assert mean(float(r.metrics["pressure_bar"]) for _, r in run.after[-20:]) > 3.0


def leak(run: Run) -> None:
    assert all(r.metrics["leak_detected"] for r in run.at(0))
    assert not any(r.metrics["leak_detected"] for _, r in run.after)
    drop = mean(float(r.metrics["pressure_bar"]) for r in run.before) - mean(
        run.values("pressure_bar", 60)
    )
    assert 0.1 < drop < 0.6  # a slight drop
    assert mean(run.values("pressure_bar", 60)) > 3.0


def pump_failure(run: Run) -> None:
    normal_flow = mean(float(r.metrics["flow_m3h"]) for r in run.before)
    assert all(not r.metrics["pump_running"] for r in run.at(0))
    assert all(r.metrics["pump_current_a"] == 0 for r in run.at(0))
    assert max(run.values("pressure_bar", 45)) < 1.5
    assert mean(run.values("flow_m3h", 45)) < 0.7 * normal_flow
    assert all(r.metrics["pump_running"] for _, r in run.after)


def dry_run(run: Run) -> None:
    normal_current = mean(float(r.metrics["pump_current_a"]) for r in run.before)
    for r in run.at(40):
        m = r.metrics
        assert m["pump_running"] is True
        assert float(m["flow_m3h"]) < 0.5 and float(m["tank_level_pct"]) < 10
        assert float(m["pump_current_a"]) < 0.7 * normal_current


def mains_failure(run: Run) -> None:
    for r in run.at(0):
        assert r.metrics["mains_ok"] is False and float(r.metrics["voltage_v"]) < 1
        assert r.metrics["current_a"] == 0 and "frequency_hz" not in r.metrics
    assert not any(r.metrics["generator_running"] for r in run.at(0, 10))
    assert all(r.metrics["generator_running"] for r in run.at(16))
    ups = run.values("ups_battery_pct")
    assert ups[-1] < ups[0] - 3 and all(b <= a for a, b in itertools.pairwise(ups))
    after = [r.metrics for _, r in run.after]
    assert all(m["mains_ok"] for m in after) and 210 < float(after[0]["voltage_v"]) < 230
    assert after[0]["generator_running"] and not after[-1]["generator_running"]  # cool-down


def generator_fails(run: Run) -> None:
    assert all(not r.metrics["mains_ok"] for r in run.at(0))
    assert not any(r.metrics["generator_running"] for r in run.at(0))


def voltage_sag(run: Run) -> None:
    assert max(run.values("voltage_v")) < 198
    assert min(run.values("voltage_v")) > 150
    assert min(float(r.metrics["voltage_v"]) for _, r in run.after) > 205


def voltage_swell(run: Run) -> None:
    assert min(run.values("voltage_v")) > 242


def breaker_trip(run: Run) -> None:
    for r in run.at(0):
        assert r.metrics["breaker_tripped"] is True
        assert r.metrics["current_a"] == 0 and r.metrics["power_kw"] == 0
        assert float(r.metrics["voltage_v"]) > 200  # the incomer is still live
    assert all(float(r.metrics["current_a"]) > 0 for _, r in run.after)


def camera_offline(run: Run) -> None:
    assert run.during == []  # an offline camera says nothing
    assert [(n, p.asset, p.online) for n, p in run.presence] == [
        (0, "cam-1", False),
        (120, "cam-1", True),
    ]
    assert len(run.after) == 91


def storage_full(run: Run) -> None:
    assert (
        run.before[-1].metrics["recording"]
        and float(run.before[-1].metrics["storage_used_pct"]) < 90
    )
    ramping = [r.metrics for r in run.at(0, 120) if float(r.metrics["storage_used_pct"]) > 90]
    assert ramping and ramping[0]["recording"] is True  # filling past 90% while recording
    for r in run.at(125):
        assert float(r.metrics["storage_used_pct"]) >= 99.5
        assert r.metrics["recording"] is False
        assert float(r.metrics["retention_days"]) < 30
    assert all(r.metrics["recording"] for _, r in run.after)


def tamper(run: Run) -> None:
    nominal_fps = mean(float(r.metrics["fps"]) for r in run.before)
    assert all(r.metrics["tamper"] for r in run.at(0))
    assert not any(r.metrics["video_loss"] for r in run.at(0, 29))
    assert all(r.metrics["video_loss"] for r in run.at(31))
    assert max(run.values("fps")) < 0.7 * nominal_fps
    assert not any(r.metrics["tamper"] or r.metrics["video_loss"] for _, r in run.after)


@dataclass(frozen=True)
class Case:
    fault: str
    asset: str
    duration: int
    check: Callable[[Run], None]
    options: Mapping[str, object] = field(default_factory=dict)
    start: datetime = MORNING


CASES = [
    Case("entrapment", "lift-1", 120, entrapment),
    Case("door_obstruction", "lift-1", 150, door_obstruction),
    Case("overspeed", "lift-2", 240, overspeed),
    Case("bearing_wear", "lift-1", 720, bearing_wear, {"ramp": "10m"}),
    Case("pipe_burst", "pump-1", 240, pipe_burst),
    Case("leak", "pump-1", 180, leak),
    Case("pump_failure", "pump-1", 120, pump_failure),
    Case("dry_run", "pump-1", 120, dry_run),
    Case("mains_failure", "board-1", 120, mains_failure),
    Case("mains_failure", "board-1", 60, generator_fails, {"generator_fails": True}),
    Case("voltage_sag", "board-1", 120, voltage_sag),
    Case("voltage_sag", "board-1", 30, voltage_swell, {"voltage_v": 250}),
    Case("breaker_trip", "board-1", 60, breaker_trip),
    Case("camera_offline", "cam-1", 120, camera_offline),
    Case("storage_full", "nvr-1", 180, storage_full),
    Case("tamper", "cam-2", 90, tamper),
    Case("pipe_burst", "pump-1", 200, pipe_burst, start=NIGHT),
]


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.fault}-{c.check.__name__}-{c.start.hour}" for c in CASES]
)
def test_fault_signature(case: Case) -> None:
    run = inject_and_run(case.fault, case.asset, case.duration, case.options, start=case.start)
    assert run.before, "the asset published nothing before the fault"
    case.check(run)


def test_leak_raises_the_minimum_night_flow() -> None:
    """A twin estate (same seed, no leak) gives the flow the leak adds at 03:00."""
    leaking = Estate.single("twin", seed=21)
    healthy = Estate.single("twin", seed=21)
    leaking.inject("leak", "pump-1")
    flows: dict[str, list[float]] = {"leak": [], "healthy": []}
    for n in range(0, 600, 5):
        now = NIGHT + timedelta(seconds=n)
        for name, estate in (("leak", leaking), ("healthy", healthy)):
            reading = estate.step(now).reading("pump-1")
            assert reading is not None
            flows[name].append(float(reading.metrics["flow_m3h"]))
    assert mean(flows["leak"]) > 1.5 * mean(flows["healthy"])


def test_injection_errors_name_what_is_wrong() -> None:
    estate = Estate.single("errors", elevators=1, water=1, power=1, cctv=2)
    with pytest.raises(UnknownFaultError, match="entrapment, door_obstruction"):
        estate.inject("earthquake")
    with pytest.raises(FaultTargetError, match=r"no asset 'lift-9'.*lift-1"):
        estate.inject("entrapment", "lift-9")
    with pytest.raises(FaultTargetError, match="does not concern pump-1"):
        estate.inject("entrapment", "pump-1")
    with pytest.raises(FaultTargetError, match="does not concern cam-1"):
        estate.inject("storage_full", "cam-1")
    with pytest.raises(FaultOptionError, match="has no option 'generator_fail'"):
        estate.inject("mains_failure", generator_fail=True)
    with pytest.raises(FaultOptionError, match="must be true or false"):
        estate.inject("mains_failure", generator_fails="yes")
    with pytest.raises(FaultOptionError, match="ramp"):
        estate.inject("bearing_wear", "lift-1", ramp="soon")
    with pytest.raises(FaultTargetError, match="no simulated site"):
        estate.inject("leak", site="elsewhere")


def test_clear_ends_a_fault_and_faults_without_asset_hit_every_device() -> None:
    estate = Estate.single("clear", elevators=3, water=1, power=1, cctv=2)
    hit = estate.inject("entrapment")
    assert sorted(d.asset for d in hit) == ["lift-1", "lift-2", "lift-3"]
    tick = estate.step(MORNING)
    assert all(tick.reading(f"lift-{n}").metrics["occupied"] for n in (1, 2, 3))  # type: ignore[union-attr]
    estate.clear("entrapment", "lift-2")
    estate.step(MORNING + timedelta(seconds=1))
    assert set(estate.active_faults()) == {d for d in hit if d.asset != "lift-2"}
    estate.clear()
    estate.step(MORNING + timedelta(seconds=2))
    assert estate.active_faults() == {}
