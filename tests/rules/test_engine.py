"""Each condition form at its edges, ``for``, hysteresis, silence, and the episode rules."""

from __future__ import annotations

import pytest

from facility_dispatch.rules.engine import RuleEngine
from facility_dispatch.rules.events import AlarmFired, OpenAlarm
from tests.rules.helpers import T0, engine, feed, kinds, reading, ruleset

LOW = {"condition": {"metric": "pressure_bar", "op": "<", "value": 1.5}}


@pytest.mark.parametrize(
    ("op", "value", "fires"),
    [
        ("<", 1.51, False),
        ("<", 1.5, False),
        ("<", 1.49, True),
        ("<=", 1.5, True),
        (">", 1.5, False),
        (">", 1.51, True),
        (">=", 1.5, True),
        ("==", 1.5, True),
        ("!=", 1.5, False),
    ],
)
def test_threshold_just_under_at_and_over(op: str, value: float, fires: bool) -> None:
    machine = engine({"condition": {"metric": "pressure_bar", "op": op, "value": 1.5}})
    assert feed(machine, (0, {"pressure_bar": value})) == (["Fired"] if fires else [])


@pytest.mark.parametrize(
    ("value", "fires"), [(49.5, False), (49.49, True), (50.5, False), (50.51, True)]
)
def test_band_edges(value: float, fires: bool) -> None:
    machine = engine(
        {"kind": "power", "condition": {"metric": "frequency_hz", "outside": [49.5, 50.5]}}
    )
    assert feed(machine, (0, {"frequency_hz": value}), kind="power") == (["Fired"] if fires else [])


def test_for_one_tick_short_and_long_enough() -> None:
    machine = engine({**LOW, "for": "2m"})
    assert feed(machine, (0, {"pressure_bar": 1.4})) == ["Pending"]
    assert feed(machine, (119.999, {"pressure_bar": 1.4})) == []
    assert feed(machine, (120, {"pressure_bar": 1.4})) == ["Fired"]


def test_pending_that_does_not_last_is_discarded() -> None:
    machine = engine({**LOW, "for": "2m"})
    assert feed(machine, (0, {"pressure_bar": 1.4}), (60, {"pressure_bar": 1.6})) == [
        "Pending",
        "Discarded",
    ]
    assert machine.open_alarms() == {}


def test_for_runs_out_on_a_tick_when_the_device_reports_only_on_change() -> None:
    machine = engine({**LOW, "for": "2m"})
    feed(machine, (0, {"pressure_bar": 1.4}))
    assert kinds(machine.tick(T0 + 119_000)) == []
    assert kinds(machine.tick(T0 + 120_000)) == ["Fired"]


def test_hysteresis_between_the_thresholds() -> None:
    machine = engine({**LOW, "clear": {"metric": "pressure_bar", "op": ">=", "value": 1.8}})
    assert feed(
        machine,
        (0, {"pressure_bar": 1.4}),
        (1, {"pressure_bar": 1.6}),  # above the alarm level, below the clear level
        (2, {"pressure_bar": 1.79}),
        (3, {"pressure_bar": 1.4}),  # no second alarm in the same episode
        (4, {"pressure_bar": 1.8}),
    ) == ["Fired", "Resolved"]


def test_without_clear_the_alarm_ends_when_the_condition_stops() -> None:
    machine = engine(LOW)
    assert feed(machine, (0, {"pressure_bar": 1.4}), (1, {"pressure_bar": 1.5})) == [
        "Fired",
        "Resolved",
    ]


def test_rate_per_minute_edges() -> None:
    rule = {"condition": {"metric": "pressure_bar", "rate_per_min": {"op": "<", "value": -1.0}}}
    exactly = engine(rule)
    assert feed(exactly, (0, {"pressure_bar": 3.0}), (60, {"pressure_bar": 2.0})) == []
    faster = engine(rule)
    assert feed(faster, (0, {"pressure_bar": 3.0}), (60, {"pressure_bar": 1.98})) == ["Fired"]
    # a line through less than half the span is noise, not a rate
    noisy = engine(rule)
    assert feed(noisy, (0, {"pressure_bar": 3.0}), (5, {"pressure_bar": 2.0})) == []


@pytest.mark.parametrize(
    ("agg", "op", "limit", "fires"),
    [
        ("mean", ">", 2.0, False),  # mean of 1, 2, 3 is 2
        ("mean", ">=", 2.0, True),
        ("max", ">", 2.99, True),
        ("min", "<", 1.01, True),
        ("count", ">=", 3, True),
        ("count", ">", 3, False),
        ("stddev", ">", 0.81, True),  # population stddev of 1, 2, 3 is 0.816
        ("stddev", ">", 0.82, False),
    ],
)
def test_window_aggregates(agg: str, op: str, limit: float, fires: bool) -> None:
    machine = engine(
        {
            "condition": {
                "metric": "pressure_bar",
                "window": "1m",
                "agg": agg,
                "op": op,
                "value": limit,
            }
        }
    )
    # the window at t=120 is (60 s, 120 s]: 1, 2 and 3; the 9.0 of t=0 has fallen out
    feed(
        machine,
        (0, {"pressure_bar": 9.0}),
        (61, {"pressure_bar": 1.0}),
        (90, {"pressure_bar": 2.0}),
        (120, {"pressure_bar": 3.0}),
    )
    assert bool(machine.open_alarms()) is fires


def test_window_is_not_judged_before_it_is_full() -> None:
    machine = engine(
        {
            "condition": {
                "metric": "pressure_bar",
                "window": "10m",
                "agg": "mean",
                "op": "<",
                "value": 2,
            }
        }
    )
    assert feed(machine, (0, {"pressure_bar": 1.0}), (599, {"pressure_bar": 1.0})) == []
    assert feed(machine, (600, {"pressure_bar": 1.0})) == ["Fired"]


def test_silent_device() -> None:
    machine = engine({"condition": {"silent_for": "5m"}, "kind": "cctv"})
    feed(machine, (0, {"fps": 25}), kind="cctv")
    assert kinds(machine.tick(T0 + 299_999)) == []
    assert kinds(machine.tick(T0 + 300_000)) == ["Fired"]
    assert kinds(machine.tick(T0 + 400_000)) == []  # still the same episode
    assert feed(machine, (401, {"fps": 25}), kind="cctv") == ["Resolved"]


def test_silent_device_known_only_from_the_registry() -> None:
    machine = engine({"condition": {"silent_for": "5m"}, "kind": "cctv"})
    machine.know("estate-1", "cam-9", "cctv", T0)
    assert [c.asset for c in machine.tick(T0 + 300_000)] == ["cam-9"]


def test_three_valued_logic_never_fires_on_what_was_not_reported() -> None:
    machine = engine(
        {"kind": "cctv", "condition": {"not": {"metric": "recording", "op": "==", "value": True}}},
        {
            "kind": "cctv",
            "condition": {
                "any": [
                    {"metric": "online", "op": "==", "value": False},
                    {"metric": "fps", "op": "<", "value": 5},
                ]
            },
        },
        {
            "kind": "cctv",
            "condition": {
                "all": [
                    {"metric": "tamper", "op": "==", "value": True},
                    {"metric": "fps", "op": "<", "value": 5},
                ]
            },
        },
    )
    assert feed(machine, (0, {"fps": 25}), kind="cctv") == []
    assert feed(machine, (1, {"recording": False}), kind="cctv") == ["Fired"]
    assert feed(machine, (2, {"online": False}), kind="cctv") == ["Fired"]
    assert feed(machine, (3, {"tamper": True, "fps": 2}), kind="cctv") == ["Fired"]


def test_two_rules_of_one_fault_make_one_episode_that_escalates() -> None:
    machine = engine(
        {
            "condition": {"metric": "pressure_bar", "op": "<", "value": 1.5},
            "severity": "minor",
            "fault": "low",
        },
        {
            "condition": {"metric": "pressure_bar", "op": "<", "value": 1.0},
            "severity": "critical",
            "fault": "low",
        },
    )
    assert feed(
        machine,
        (0, {"pressure_bar": 1.4}),
        (1, {"pressure_bar": 0.9}),
        (2, {"pressure_bar": 1.2}),  # the critical rule clears, the minor one still holds
        (3, {"pressure_bar": 2.0}),
    ) == ["Fired", "Escalated", "Resolved"]


def test_readings_older_than_the_last_one_are_not_judged() -> None:
    machine = engine(LOW)
    assert feed(machine, (10, {"pressure_bar": 3.0}), (5, {"pressure_bar": 1.0})) == []
    assert feed(machine, (10, {"pressure_bar": 1.0})) == []  # a duplicate time, too


def test_sites_globs_select_assets() -> None:
    machine = engine({**LOW, "sites": ["north-*"]})
    assert kinds(machine.evaluate(reading(0, site="south-1", pressure_bar=1.0))) == []
    assert kinds(machine.evaluate(reading(0, site="north-2", pressure_bar=1.0))) == ["Fired"]


def test_fired_alarm_carries_the_triggering_value_and_times() -> None:
    machine = engine({**LOW, "for": "10s"})
    feed(machine, (0, {"pressure_bar": 1.4}))
    (fired,) = machine.evaluate(reading(10, pressure_bar=1.2))
    assert isinstance(fired, AlarmFired)
    assert fired.value == 1.2
    assert (fired.started_ms, fired.at_ms) == (T0, T0 + 10_000)


def test_restore_then_reconcile_fires_nothing_twice() -> None:
    rules = ruleset(LOW)
    first = RuleEngine(rules)
    (fired,) = first.evaluate(reading(0, pressure_bar=1.0))
    restarted = RuleEngine(rules)
    restarted.restore(
        [
            OpenAlarm(
                "estate-1",
                "pump-1",
                "water",
                fired.fault,
                fired.rule_id,
                "major",
                "firing",
                T0,
                T0,
                1.0,
            )
        ]
    )
    restarted.seed("estate-1", "pump-1", "water", {"pressure_bar": 1.0})
    assert restarted.reconcile(T0 + 5000) == []
    assert feed(restarted, (6, {"pressure_bar": 1.1})) == []
    assert feed(restarted, (7, {"pressure_bar": 3.0})) == ["Resolved"]


def test_reconcile_fires_what_a_crash_lost_and_resolves_what_ended() -> None:
    rules = ruleset(LOW, {"condition": {"metric": "tank_level_pct", "op": "<", "value": 20}})
    machine = RuleEngine(rules)
    machine.restore(
        [
            OpenAlarm(
                "estate-1", "pump-1", "water", "fault_1", "rule-1", "major", "firing", T0, T0, 10
            )
        ]
    )
    machine.warm(reading(1, pressure_bar=1.0, tank_level_pct=80))
    assert sorted(kinds(machine.reconcile(T0 + 2000))) == ["Fired", "Resolved"]


def test_reload_keeps_open_episodes_of_faults_that_remain() -> None:
    machine = engine(LOW, {"condition": {"metric": "tank_level_pct", "op": "<", "value": 20}})
    feed(machine, (0, {"pressure_bar": 1.0, "tank_level_pct": 10}))
    assert len(machine.open_alarms()) == 2
    changed = ruleset({**LOW, "condition": {"metric": "pressure_bar", "op": "<", "value": 1.2}})
    assert kinds(machine.replace(changed, T0 + 1000)) == ["Resolved"]  # fault_1 left the file
    assert list(machine.open_alarms()) == [("estate-1", "pump-1", "fault_0")]


def test_state_per_asset_is_bounded() -> None:
    machine = engine(
        {
            "condition": {
                "metric": "pressure_bar",
                "window": "10m",
                "agg": "mean",
                "op": "<",
                "value": 0,
            }
        }
    )
    for second in range(0, 3600):
        machine.evaluate(reading(second, pressure_bar=3.0))
    assert machine.size()["samples"] == 600  # ten minutes at one reading a second, not an hour


def test_a_gateway_catching_up_on_old_readings_is_not_silent() -> None:
    machine = engine({"condition": {"silent_for": "2m"}, "kind": "cctv"})
    now = T0 + 3_600_000
    for second in range(0, 600, 10):  # half an hour old, arriving now
        assert machine.evaluate(reading(second, kind="cctv", fps=25), heard_ms=now + second) == []
        assert kinds(machine.tick(now + second + 1000)) == []
    assert kinds(machine.tick(now + 600_000 + 120_000)) == ["Fired"]  # then it goes quiet
