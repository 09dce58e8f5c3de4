"""``facility rules backtest`` over the public datasets and a CSV (SPEC section 3, issue 17):
deterministic lines, the label score, and the figures the built-in pack is held to."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from facility_dispatch.cli import main


def backtest(*args: str) -> list[str]:
    result = CliRunner().invoke(main, ["rules", "backtest", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def figures(line: str) -> dict[str, str]:
    return dict(re.findall(r"(\w+)=(\S+)", line))


def test_skab_backtest_is_deterministic_and_scores_all_34_episodes(datasets: Path) -> None:
    lines = backtest("--replay", "skab", "--datasets", str(datasets))
    assert backtest("--replay", "skab", "--datasets", str(datasets)) == lines
    summary = figures(lines[-1])
    assert list(summary) == [
        "episodes",
        "detected",
        "recall",
        "precision",
        "alarms",
        "false_alarms",
        "mean_delay_s",
    ]
    assert summary["episodes"] == "34"
    groups = {figures(line).get("group"): figures(line) for line in lines if "group=" in line}
    assert {g: v["episodes"] for g, v in groups.items()} == {
        "valve1": "16",
        "valve2": "4",
        "other": "14",
    }
    (fault_free,) = [figures(line) for line in lines if line.startswith("part=anomaly-free")]
    assert fault_free["work_orders"] == "0"
    # the pack's figures (README), each recording its own run, chosen on valve1 and the
    # fault-free recording only: a change of the pack that loses them fails here. valve2 and
    # other are held out; all 34 reach the goals (recall 28 of 34 = 0.824 >= 0.8,
    # precision 0.939 >= 0.9)
    assert (groups["valve1"]["detected"], groups["valve1"]["false_alarms"]) == ("15", "0")
    assert (groups["valve2"]["detected"], groups["valve2"]["false_alarms"]) == ("4", "0")
    assert (groups["other"]["detected"], groups["other"]["false_alarms"]) == ("9", "2")
    assert (summary["detected"], summary["alarms"]) == ("28", "33")
    assert (summary["recall"], summary["precision"]) == ("0.824", "0.939")
    assert float(summary["recall"]) >= 0.8 and float(summary["precision"]) >= 0.9
    assert fault_free["alarms"] == "0"
    alarms = [line for line in lines if line.startswith("alarm ")]
    assert len(alarms) == int(summary["alarms"])
    assert all("work_order=no" in line for line in alarms)


def test_uci_on_a_230_v_site_raises_no_swell(datasets: Path) -> None:
    at_230 = backtest("--replay", "uci", "--datasets", str(datasets), "--nominal-voltage-v", "230")
    assert not [line for line in at_230 if "fault=voltage_swell" in line]
    # judged against the default 220 V, the same data swell day after day (the defect)
    at_220 = backtest("--replay", "uci", "--datasets", str(datasets))
    assert len([line for line in at_220 if "fault=voltage_swell" in line]) > 20


def test_nab_machine_temperature_failures_are_detected(datasets: Path) -> None:
    lines = backtest(
        "--replay", "nab:machine_temperature_system_failure", "--datasets", str(datasets)
    )
    summary = figures(lines[-1])
    assert summary["episodes"] == "4" and summary["detected"] == "4"


def test_a_csv_with_a_label_column(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - id: low-pressure\n"
        "    kind: water\n"
        "    condition: {metric: pressure_bar, op: '<', value: 1.5}\n"
        "    for: 10s\n"
        "    severity: major\n"
        "    fault: low_pressure\n"
        "    work_order: {priority: P2, skill: plumbing}\n"
    )
    csv = tmp_path / "pump.csv"
    rows = ["when;pressure_bar;fault"]
    for t in range(300):
        low = 100 <= t < 160 or 250 <= t < 255  # a labelled fault, and a blip too short
        labelled = 95 <= t < 170
        rows.append(
            f"2026-11-27T02:{t // 60:02d}:{t % 60:02d}Z;{1.0 if low else 3.0};{int(labelled)}"
        )
    csv.write_text("\n".join(rows) + "\n")
    lines = backtest(
        *("--rules", str(rules), "--csv", str(csv), "--kind", "water", "--asset", "p1"),
        *("--time-column", "when", "--label-column", "fault"),
    )
    assert lines[0] == (
        "alarm site=estate-1 asset=p1 fault=low_pressure rule=low-pressure severity=major "
        "fired=2026-11-27T02:01:50.000Z resolved=2026-11-27T02:02:40.000Z work_order=yes"
    )
    assert lines[-1] == (
        "episodes=1 detected=1 recall=1.000 precision=1.000 alarms=1 false_alarms=0 "
        "mean_delay_s=15.0"
    )


def test_backtest_refusals(tmp_path: Path) -> None:
    runner = CliRunner()
    neither = runner.invoke(main, ["rules", "backtest"])
    assert neither.exit_code == 2 and "--replay DATASET or --csv FILE" in neither.output
    unknown = runner.invoke(main, ["rules", "backtest", "--replay", "nope"])
    assert unknown.exit_code == 1 and "unknown dataset 'nope'" in unknown.output
    no_kind = runner.invoke(main, ["rules", "backtest", "--csv", str(tmp_path / "x.csv")])
    assert no_kind.exit_code == 2 and "--kind and --asset" in no_kind.output
