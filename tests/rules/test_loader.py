"""Rules files are refused as a whole, naming the rule and the field (SPEC section 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from facility_dispatch.cli import main
from facility_dispatch.rules.errors import RulesFileError
from facility_dispatch.rules.loader import load_default, load_file, parse

GOOD = """
rules:
  - id: water-low-pressure
    kind: water
    condition: {metric: pressure_bar, op: "<", value: 1.5}
    for: 2m
    clear: {metric: pressure_bar, op: ">=", value: 1.8}
    severity: major
    fault: low_pressure
    work_order: {priority: P2, skill: plumbing}
"""


def variant(**changes: str) -> str:
    text = GOOD
    for old, new in changes.items():
        text = text.replace(old.replace("_", " ") if old.startswith("_") else old, new)
    return text


def refusal(text: str) -> RulesFileError:
    with pytest.raises(RulesFileError) as caught:
        parse(text)
    return caught.value


@pytest.mark.parametrize(
    ("old", "new", "rule", "field", "words"),
    [
        (
            "metric: pressure_bar, op",
            "metric: presure_bar, op",
            "water-low-pressure",
            "condition.metric",
            "not a water metric",
        ),
        ('op: "<"', 'op: "=<"', "water-low-pressure", "condition.op", "Input should be"),
        ("for: 2m", "for: 2 minutes", "water-low-pressure", "for", "not a duration"),
        ("severity: major", "severity: urgent", "water-low-pressure", "severity", "critical"),
        ("kind: water", "kind: boiler", "water-low-pressure", "kind", "elevator"),
        ("priority: P2", "priority: P9", "water-low-pressure", "work_order.priority", "P1"),
        ("value: 1.5}", 'value: "low"}', "water-low-pressure", "condition.value", "is a number"),
        ("id: water-low-pressure", "id: Water_Low", "Water_Low", "id", "[a-z0-9-]+"),
        ("fault: low_pressure", "fault: low pressure", "water-low-pressure", "fault", "one word"),
        (
            "    for: 2m\n",
            "    for: 2m\n    colour: red\n",
            "water-low-pressure",
            "colour",
            "not permitted",
        ),
    ],
)
def test_each_mistake_is_named(old: str, new: str, rule: str, field: str, words: str) -> None:
    assert old in GOOD
    error = refusal(GOOD.replace(old, new))
    assert (error.rule, error.field) == (rule, field)
    assert words in str(error)


def test_duplicate_ids_are_refused() -> None:
    error = refusal(GOOD + GOOD.replace("rules:\n", ""))
    assert (error.rule, error.field) == ("water-low-pressure", "id")


@pytest.mark.parametrize(
    ("condition", "field", "words"),
    [
        ("{metric: pump_running, op: '<', value: true}", "condition.op", "use == or !="),
        ("{metric: pump_running, op: '==', value: 1}", "condition.value", "true or false"),
        ("{metric: pump_running, outside: [0, 1]}", "condition.metric", "not a number"),
        ("{metric: pressure_bar, outside: [3, 1]}", "condition.outside", "low < high"),
        (
            "{all: [{metric: pressure_bar, op: '<', value: 1}, {metric: nope, op: '<', value: 1}]}",
            "condition.all[1].metric",
            "not a water metric",
        ),
        ("{not: {silent_for: 0s}}", "condition.not.silent_for", "longer than 0s"),
        (
            "{metric: pressure_bar, window: 5m, agg: median, op: '>', value: 1}",
            "condition.agg",
            "mean",
        ),
        (
            "{metric: pump_running, window: 5m, agg: mean, op: '>', value: 1}",
            "condition.agg",
            "only agg 'count'",
        ),
    ],
)
def test_conditions_are_checked_against_the_catalogue(
    condition: str, field: str, words: str
) -> None:
    text = GOOD.replace('{metric: pressure_bar, op: "<", value: 1.5}', condition)
    error = refusal(text)
    assert error.field == field
    assert words in str(error)


def test_inhibition_must_name_a_fault_some_rule_raises() -> None:
    error = refusal(
        GOOD + "inhibit:\n  - source: {fault: mains_failure}\n    targets: {kinds: [cctv]}\n"
    )
    assert error.field == "inhibit[0].source.fault"


def test_not_yaml_and_not_a_mapping() -> None:
    assert "not valid YAML at line" in str(refusal("rules: [\n  - id: x\n   bad"))
    assert "mapping" in str(refusal("- just a list"))


def test_the_default_pack_loads_and_covers_every_kind() -> None:
    pack = load_default()
    assert {r.kind for r in pack.rules} == {"elevator", "water", "power", "cctv"}
    faults = {r.fault for r in pack.rules}
    for fault in (
        "entrapment",
        "door_obstruction",
        "overspeed",
        "vibration_high",
        "motor_overtemp",
        "controller_fault",
        "low_pressure",
        "high_pressure",
        "pipe_burst",
        "leak",
        "dry_run",
        "low_tank",
        "mains_failure",
        "voltage_sag",
        "voltage_swell",
        "frequency_deviation",
        "breaker_trip",
        "ups_low",
        "generator_failure",
        "camera_offline",
        "low_frame_rate",
        "packet_loss",
        "storage_full",
        "retention_short",
        "tamper",
        "video_loss",
        "not_recording",
    ):
        assert fault in faults
    mains = next(i for i in pack.inhibit if i.source.fault == "mains_failure")
    assert "entrapment" in mains.targets.except_faults  # a trapped passenger is never muted
    assert {i.scope for i in pack.inhibit} == {"site", "asset"}


def test_rules_check_command(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["rules", "check"])
    assert ok.exit_code == 0
    assert "elevator-entrapment: elevator:" in ok.output
    assert ok.output.rstrip().endswith("OK")
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("pressure_bar, op", "presure_bar, op"))
    refused = runner.invoke(main, ["rules", "check", str(bad)])
    assert refused.exit_code == 1
    assert "rule 'water-low-pressure', field 'condition.metric'" in refused.output
    missing = runner.invoke(main, ["rules", "check", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 1


def test_load_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD)
    assert load_file(path).rules[0].id == "water-low-pressure"
