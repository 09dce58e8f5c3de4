"""Issue 17: learned normals, limits that follow the site, robust rates, and judgement in the
readings' own time. Pure: the engine with readings and explicit times, no I/O."""

from __future__ import annotations

from typing import Any

import pytest

from facility_dispatch.rules.engine import RuleEngine
from facility_dispatch.rules.errors import RulesFileError
from facility_dispatch.rules.events import AlarmFired, AlarmPending, AlarmResolved, OpenAlarm
from facility_dispatch.rules.loader import parse
from tests.rules.helpers import T0, engine, kinds, reading, ruleset

NOISE = (0.0, 0.1, -0.1, 0.05, -0.05)


def deviation(**spec: Any) -> dict[str, Any]:
    return {
        "condition": {
            "metric": "flow_m3h",
            "deviation": {"z": 4, "window": "1m", "baseline": "5m", **spec},
        },
        "severity": "warning",
    }


def steady(machine: RuleEngine, start: int, seconds: int, level: float) -> list[Any]:
    """One reading a second around ``level``; the changes they cause."""
    changes: list[Any] = []
    for t in range(start, start + seconds):
        value = level + NOISE[t % len(NOISE)]
        changes += machine.evaluate(reading(t, flow_m3h=value))
    return changes


def test_deviation_is_not_judged_before_a_full_baseline() -> None:
    machine = engine(deviation())
    # a jump after 4 minutes: the 5-minute baseline is not yet held, so nothing is said
    assert steady(machine, 0, 240, 10.0) + steady(machine, 240, 60, 20.0) == []
    # the same jump once the baseline is held fires
    late = engine(deviation())
    changes = steady(late, 0, 420, 10.0) + steady(late, 420, 60, 20.0)
    assert kinds(changes) == ["Fired"]
    assert 420_000 <= changes[0].at_ms - T0 <= 440_000  # within the first buckets of the jump


@pytest.mark.parametrize(
    ("direction", "level", "fires"),
    [
        ("both", 12.0, True),
        ("both", 8.0, True),
        ("up", 12.0, True),
        ("up", 8.0, False),
        ("down", 8.0, True),
        ("down", 12.0, False),
        ("both", 10.1, False),  # inside the normal spread
    ],
)
def test_deviation_direction(direction: str, level: float, fires: bool) -> None:
    machine = engine(deviation(direction=direction))
    changes = steady(machine, 0, 420, 10.0) + steady(machine, 420, 120, level)
    assert (kinds(changes)[:1] == ["Fired"]) is fires


def test_min_change_ignores_a_deviation_smaller_than_it() -> None:
    flat = engine(deviation(min_change=3.0))
    assert steady(flat, 0, 420, 10.0) + steady(flat, 420, 120, 12.0) == []
    assert kinds(steady(flat, 540, 120, 18.0))[:1] == ["Fired"]


def test_a_flat_normal_fires_on_any_change_and_reports_a_finite_value() -> None:
    machine = engine(deviation())
    for t in range(420):
        machine.evaluate(reading(t, flow_m3h=32.0))
    changes = []
    for t in range(420, 480):
        changes += machine.evaluate(reading(t, flow_m3h=30.0))
    fired = [c for c in changes if isinstance(c, AlarmFired)]
    assert len(fired) == 1 and fired[0].value == -999.0  # JSON has no infinity


def test_learning_pauses_for_as_long_as_the_alarm_is_open() -> None:
    machine = engine(deviation())
    changes = steady(machine, 0, 420, 10.0) + steady(machine, 420, 240, 20.0)
    assert kinds(changes) == ["Fired"]
    back = steady(machine, 660, 120, 10.0)
    assert kinds(back) == ["Resolved"]
    # a fault three times as long as the 5-minute baseline (a valve left half closed) does
    # not become the normal: the alarm stays open until the level comes back (SPEC 2)
    lasting = engine(deviation())
    changes = steady(lasting, 0, 420, 10.0) + steady(lasting, 420, 900, 20.0)
    assert kinds(changes) == ["Fired"]
    assert kinds(steady(lasting, 1320, 120, 10.0)) == ["Resolved"]
    # and once quiet it learns again: the same fault fires again as the first did
    assert kinds(steady(lasting, 1440, 420, 10.0) + steady(lasting, 1860, 120, 20.0)) == ["Fired"]


def test_after_a_restart_the_readings_before_an_open_alarm_are_learned() -> None:
    # the alarm store holds a firing deviation alarm that began at 420 s; the stored readings
    # are replayed: those before 420 s are the normal, those after it the fault
    machine = engine(deviation())
    machine.restore(
        [
            OpenAlarm(
                "estate-1",
                "pump-1",
                "water",
                "fault_0",
                "rule-0",
                "warning",
                "firing",
                T0 + 420_000,
                T0 + 430_000,
                4.5,
            )
        ]
    )
    for t in range(540):
        machine.warm(reading(t, flow_m3h=(10.0 if t < 420 else 20.0) + NOISE[t % len(NOISE)]))
    assert kinds(machine.reconcile(T0 + 540_000)) == []  # still deviating: held, not resolved
    assert kinds(steady(machine, 540, 120, 10.0)) == ["Resolved"]


def test_each_rule_keeps_its_own_baseline() -> None:
    # two deviation rules on two metrics: both judged (a later look-up must find each rule's
    # own leaf, not a fresh one)
    machine = RuleEngine(
        ruleset(
            deviation(),
            {
                "condition": {
                    "metric": "pump_current_a",
                    "deviation": {"z": 4, "window": "1m", "baseline": "5m"},
                },
            },
        )
    )
    changes: list[Any] = []
    for t in range(600):
        flow = 10.0 + NOISE[t % 5] + (10.0 if t >= 420 else 0.0)
        current = 5.0 + NOISE[t % 5] + (5.0 if t >= 480 else 0.0)
        changes += machine.evaluate(reading(t, flow_m3h=flow, pump_current_a=current))
    assert sorted(c.fault for c in changes if isinstance(c, AlarmFired)) == ["fault_0", "fault_1"]


def test_deviation_is_the_same_however_far_the_data_are_shifted() -> None:
    def fired(shift_ms: int) -> list[int]:
        machine = engine(deviation())
        out = []
        for t in range(600):
            value = 10.0 + NOISE[t % 5] + (5.0 if t >= 431 else 0.0)
            shifted = reading(t, flow_m3h=value)._replace(ts_ms=T0 + t * 1000 + shift_ms)
            out += [c.at_ms - shift_ms for c in machine.evaluate(shifted)]
        return out

    assert fired(0) == fired(7_321) == fired(-13_000)


# -- site parameters -----------------------------------------------------------------------

SWELL = {
    "kind": "power",
    "condition": {
        "metric": "voltage_v",
        "op": ">",
        "value": {"site": "nominal_voltage_v", "times": 1.10},
    },
}


@pytest.mark.parametrize(
    ("nominal", "volts", "fires"),
    [(None, 243.0, True), (None, 241.0, False), (230.0, 243.0, False), (230.0, 253.5, True)],
)
def test_a_limit_follows_the_site_parameter(
    nominal: float | None, volts: float, fires: bool
) -> None:
    sites = {"estate-1": {"nominal_voltage_v": nominal}} if nominal else None
    machine = RuleEngine(ruleset(SWELL), sites)
    changes = machine.evaluate(reading(0, kind="power", voltage_v=volts))
    assert (kinds(changes) == ["Fired"]) is fires
    # the closures (rules with an open episode) agree with the generated screen
    assert (machine.open_alarms() != {}) is fires


def test_site_parameters_change_while_running() -> None:
    machine = RuleEngine(ruleset(SWELL))
    assert kinds(machine.evaluate(reading(0, kind="power", voltage_v=245.0))) == ["Fired"]
    machine.set_sites({"estate-1": {"nominal_voltage_v": 230.0}})
    assert kinds(machine.evaluate(reading(1, kind="power", voltage_v=245.0))) == ["Resolved"]
    assert machine.evaluate(reading(2, kind="power", voltage_v=250.0)) == []


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"metric": "mains_ok", "op": "==", "value": {"site": "nominal_voltage_v"}}, "value"),
        ({"metric": "voltage_v", "op": ">", "value": {"site": "nominal_phase"}}, "value"),
        ({"metric": "mains_ok", "deviation": {"z": 3}}, "condition.metric"),
        ({"metric": "voltage_v", "deviation": {"z": 3, "window": "1h", "baseline": "5m"}}, ""),
        ({"metric": "voltage_v", "deviation": {"z": 0}}, "z"),
        ({"metric": "voltage_v", "rate_per_min": {"op": "<", "value": -1}, "min_change": -1}, ""),
    ],
)
def test_bad_new_conditions_are_refused_naming_the_rule(
    condition: dict[str, Any], field: str
) -> None:
    with pytest.raises(RulesFileError) as refused:
        ruleset({"id": "bad-one", "kind": "power", "condition": condition})
    assert "bad-one" in str(refused.value) and field in str(refused.value)


# -- robust rate ---------------------------------------------------------------------------

BURST = {
    "condition": {
        "metric": "pressure_bar",
        "rate_per_min": {"op": "<", "value": -1.0},
        "min_change": 1.0,
    }
}


def test_one_coarse_gauge_step_is_not_a_burst() -> None:
    # a gauge reading in 0.33 bar steps: one step down, read once a second
    machine = engine(BURST)
    changes = []
    for t in range(120):
        changes += machine.evaluate(reading(t, pressure_bar=3.3 if t < 60 else 2.97))
    assert changes == []


def test_a_steady_fall_is_a_burst() -> None:
    machine = engine(BURST)
    changes = []
    for t in range(120):
        changes += machine.evaluate(reading(t, pressure_bar=4.0 - max(0, t - 30) * 0.05))
    fired = [c for c in changes if isinstance(c, AlarmFired)]
    assert len(fired) == 1 and fired[0].value < -1.0  # bar/min of the fitted line
    assert 30_000 < fired[0].at_ms - T0 < 60_000


# -- the readings' own time ----------------------------------------------------------------

HELD = {"condition": {"metric": "pressure_bar", "op": "<", "value": 1.5}, "for": "30s"}


def test_for_counts_data_time_not_the_clock_a_fast_replay_is_heard_at() -> None:
    machine = engine(HELD)
    clock = T0 + 3_600_000  # a replay at speed: heard long after the readings' own time
    changes = []
    for t in range(0, 10):  # ten seconds of low pressure
        changes += machine.evaluate(reading(t, pressure_bar=1.0), heard_ms=clock + t * 10)
        changes += machine.tick(clock + t * 10 + 5)
    assert kinds(changes) == ["Pending"]
    for t in range(10, 40):
        changes += machine.evaluate(reading(t, pressure_bar=1.0), heard_ms=clock + t * 10)
    fired = [c for c in changes if isinstance(c, AlarmFired)]
    assert [c.at_ms - T0 for c in fired] == [30_000]


def test_a_for_that_runs_out_between_readings_fires_when_it_ran_out() -> None:
    late = engine(HELD)
    late.evaluate(reading(0, pressure_bar=1.0))
    # the next reading comes 90 s later: the alarm fired at 30 s, not at 90 s
    changes = late.evaluate(reading(90, pressure_bar=2.0))
    assert kinds(changes) == ["Fired", "Resolved"]
    assert [c.at_ms - T0 for c in changes] == [30_000, 90_000]
    # a tick, however late, says the same
    ticked = engine(HELD)
    ticked.evaluate(reading(0, pressure_bar=1.0))
    changes = ticked.tick(T0 + 75_000)
    assert kinds(changes) == ["Fired"] and changes[0].at_ms == T0 + 30_000


def test_an_alarm_never_resolves_before_it_fired() -> None:
    machine = engine(HELD)
    machine.evaluate(reading(0, pressure_bar=1.0))
    machine.evaluate(reading(40, kind="water", asset="pump-2", pressure_bar=3.0))
    fired = machine.tick(T0 + 40_000)
    assert [c.at_ms - T0 for c in fired] == [30_000]
    # the asset's next reading is older than that firing (it came late): the episode ends,
    # but not before it began
    resolved = machine.evaluate(reading(20, pressure_bar=3.0))
    assert [type(c) for c in resolved] == [AlarmResolved]
    assert resolved[0].at_ms == fired[0].at_ms


SILENT = {"kind": "cctv", "condition": {"silent_for": "2m"}}


def test_silence_is_judged_against_how_far_the_estate_has_got() -> None:
    machine = engine(SILENT)
    clock = T0 + 600_000  # the service runs ten minutes behind: a backlog being worked off
    machine.evaluate(reading(0, kind="cctv", asset="cam-1", fps=25), heard_ms=clock)
    for t in range(0, 200, 10):  # cam-2 keeps talking; cam-1 said nothing after 0 s
        machine.evaluate(reading(t, kind="cctv", asset="cam-2", fps=25), heard_ms=clock + t)
        changes = machine.tick(clock + t + 1)
        if t < 120:
            assert changes == [], t  # the service's lag is not the cameras' silence
    fired = [c for c in machine.tick(clock + 201) if isinstance(c, AlarmFired)]
    assert fired == []  # fired already, once, at the data time it began
    alarms = machine.open_alarms()
    assert list(alarms) == [("estate-1", "cam-1", "fault_0")]
    assert alarms[("estate-1", "cam-1", "fault_0")].started_ms == T0 + 120_000


def test_when_nothing_arrives_at_all_silence_runs_on_the_clock() -> None:
    machine = engine(SILENT)
    machine.evaluate(reading(0, kind="cctv", asset="cam-1", fps=25), heard_ms=T0 + 500)
    assert machine.tick(T0 + 100_000) == []
    changes = machine.tick(T0 + 121_000)
    assert kinds(changes) == ["Fired"] and changes[0].at_ms == T0 + 120_000


def test_a_restart_after_downtime_is_not_the_devices_silence() -> None:
    """The service was away ten minutes; the cameras' readings of that time wait in the broker.
    Silence runs on from where the data stopped, so nothing fires at the restart, and a camera
    that stays quiet is found once its silent_for has passed after it."""
    machine = engine(SILENT)
    machine.know("estate-1", "cam-1", "cctv", T0)
    machine.know("estate-1", "cam-2", "cctv", T0 + 30_000)
    restart = T0 + 600_000
    machine.resume(T0 + 30_000, restart)
    assert machine.reconcile(restart) == []
    assert machine.tick(restart + 60_000) == []  # the backlog is coming in
    machine.evaluate(reading(40, kind="cctv", asset="cam-2", fps=25), heard_ms=restart + 60_000)
    assert machine.tick(restart + 100_000) == []  # the data have reached T0 + 80 s
    changes = machine.tick(restart + 141_000)
    assert kinds(changes) == ["Fired"]  # cam-1 alone: quiet 2 minutes of the estate's data
    assert changes[0].asset == "cam-1" and changes[0].at_ms == T0 + 120_000


def test_a_gap_between_an_assets_readings_is_a_silence_even_without_a_tick() -> None:
    machine = engine(SILENT)
    machine.evaluate(reading(0, kind="cctv", asset="cam-1", fps=25))
    changes = machine.evaluate(reading(300, kind="cctv", asset="cam-1", fps=25))
    assert kinds(changes) == ["Fired", "Resolved"]
    assert [c.at_ms - T0 for c in changes] == [120_000, 300_000]


def test_pending_alarm_is_reported_at_its_own_time() -> None:
    machine = engine(HELD)
    (pending,) = machine.evaluate(reading(5, pressure_bar=1.0), heard_ms=T0 + 999_000)
    assert isinstance(pending, AlarmPending) and pending.at_ms == T0 + 5_000


def test_the_describe_line_of_the_new_forms() -> None:
    from facility_dispatch.rules.loader import describe

    rules = parse(
        """
rules:
  - id: a
    kind: water
    condition: {metric: flow_m3h, deviation: {z: 4, window: 2m, baseline: 10m, direction: down}}
    severity: warning
    fault: flow_abnormal
  - id: b
    kind: power
    condition: {metric: voltage_v, op: ">", value: {site: nominal_voltage_v, times: 1.1}}
    severity: major
    fault: voltage_swell
"""
    )
    assert describe(rules.rules[0].condition) == (
        "mean(flow_m3h, 2m) 4 sd below its own 10m before"
    )
    assert describe(rules.rules[1].condition) == "voltage_v > 1.1 x site nominal_voltage_v"


def test_a_reload_keeps_what_a_deviation_has_learned() -> None:
    machine = engine(deviation())
    steady(machine, 0, 420, 10.0)
    # the same rule in a new file, beside a new one: its baseline is kept, no new warm-up
    changes = machine.replace(
        ruleset(deviation(), {"condition": {"metric": "leak_detected", "op": "==", "value": True}}),
        T0 + 420_000,
    )
    assert changes == []
    assert kinds(steady(machine, 420, 60, 20.0)) == ["Fired"]


def test_a_device_whose_clock_runs_slow_is_not_taken_for_silent() -> None:
    machine = engine(SILENT)
    for t in range(0, 600, 10):
        # cam-1's clock is 4 minutes behind cam-2's (and the service's): it talks all along
        machine.evaluate(reading(t, kind="cctv", asset="cam-2", fps=25), heard_ms=T0 + t * 1000)
        slow = reading(t - 240, kind="cctv", asset="cam-1", fps=25)
        assert machine.evaluate(slow, heard_ms=T0 + t * 1000) == []
        assert machine.tick(T0 + t * 1000 + 500) == [], t
    # and when it does fall silent, it is found
    changes = []
    for t in range(600, 800, 10):
        machine.evaluate(reading(t, kind="cctv", asset="cam-2", fps=25), heard_ms=T0 + t * 1000)
        changes += machine.tick(T0 + t * 1000 + 500)
    assert [(c.asset, type(c).__name__) for c in changes] == [("cam-1", "AlarmFired")]
