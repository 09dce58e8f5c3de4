"""Scenario files: the built-ins load and play; bad files are refused naming step and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from facility_dispatch.simulators.errors import ScenarioError
from facility_dispatch.simulators.estate import Estate
from facility_dispatch.simulators.faults import Fault
from facility_dispatch.simulators.scenario import builtin_scenarios, load_scenario, parse_scenario
from tests.simulators.helpers import MORNING, decode_tick

REQUIRED = {
    "normal-day",
    "mains-failure",
    "elevator-entrapment",
    "pipe-burst",
    "camera-outage",
    "bearing-wear",
}


def test_the_builtin_set_is_there() -> None:
    names = builtin_scenarios()
    assert set(names) >= REQUIRED
    mains = load_scenario("mains-failure")
    assert mains.name == "mains-failure"
    assert [(s.at, s.fault, s.for_) for s in mains.steps] == [
        (timedelta(seconds=10), Fault.MAINS_FAILURE, timedelta(minutes=2))
    ]
    assert load_scenario("normal-day").steps == []
    assert load_scenario("generator-failure").steps[0].options == {"generator_fails": True}


@pytest.mark.parametrize("name", builtin_scenarios())
def test_every_builtin_plays_through_with_its_faults(name: str) -> None:
    scenario = load_scenario(name)
    estate = Estate.single("play", elevators=2, water=1, power=1, cctv=4, seed=3)
    estate.play(scenario)
    seen: set[Fault] = set()
    step = timedelta(seconds=5)
    for tick in estate.run(MORNING, scenario.length + timedelta(minutes=1), step):
        decode_tick(tick)
        for faults in estate.active_faults().values():
            seen.update(faults)
    assert seen == {s.fault for s in scenario.steps}
    if all(s.for_ is not None for s in scenario.steps):
        assert estate.active_faults() == {}  # every step with `for` has cleared


def test_a_scenario_file_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "drill.yaml"
    path.write_text(
        "name: drill\nsite: east\nsteps:\n"
        "  - {at: 1m, fault: voltage_sag, asset: board-1, for: 30s, voltage_v: 190}\n"
        "  - {at: 2m, fault: leak}\n"
    )
    scenario = load_scenario(str(path))
    assert scenario.site == "east"
    assert scenario.steps[0].options == {"voltage_v": 190}
    assert scenario.length == timedelta(minutes=2)


BAD = [
    ("steps:\n  - {at: 5s, fault: leak}\n", "field 'name'"),
    (
        "name: x\nsteps:\n  - {at: 5s, fault: leak}\n  - {at: 9s, fault: earthquake}\n",
        "step 1 (steps[1]), field 'fault': 'earthquake' is not a fault",
    ),
    ("name: x\nsteps:\n  - {at: soon, fault: leak}\n", "step 0 (steps[0]), field 'at'"),
    ("name: x\nsteps:\n  - {fault: leak}\n", "step 0 (steps[0]), field 'at': Field required"),
    ("name: x\nsteps:\n  - {at: 1s, fault: leak, for: -3s}\n", "step 0 (steps[0]), field 'for'"),
    (
        "name: x\nsteps:\n  - {at: 1s, fault: leak, asset: 'pump 1'}\n",
        "step 0 (steps[0]), field 'asset'",
    ),
    (
        "name: x\nsteps:\n  - {at: 1s, fault: mains_failure, generator_fail: true}\n",
        "step 0 (steps[0], mains_failure), field 'generator_fail': mains_failure has no option",
    ),
    (
        "name: x\nsteps:\n  - {at: 1s, fault: mains_failure, generator_fails: maybe}\n",
        "field 'generator_fails': mains_failure option generator_fails must be true or false",
    ),
    ("name: x\nstepz: []\n", "field 'stepz': Extra inputs are not permitted"),
    ("name: x\nsite: Big Site\nsteps: []\n", "field 'site'"),
    ("name: x\nsteps: {at: 1s}\n", "field 'steps'"),
    ("- just\n- a list\n", "a scenario is a mapping"),
    ("name: x\nsteps: [\n", "not valid YAML"),
]


@pytest.mark.parametrize(("text", "expected"), BAD, ids=[e for _, e in BAD])
def test_bad_scenarios_are_refused_naming_step_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as refused:
        load_scenario(str(path))
    message = str(refused.value)
    assert message.startswith(str(path))
    assert expected in message


def test_unknown_names_and_unplayable_targets_are_refused() -> None:
    with pytest.raises(ScenarioError, match=r"no scenario 'nope'.*mains-failure"):
        load_scenario("nope")
    scenario = parse_scenario(
        "name: typo\nsteps:\n  - {at: 1s, fault: leak}\n  - {at: 2s, fault: tamper, asset: cam-9}\n"
    )
    estate = Estate.single("targets", cctv=2)
    with pytest.raises(ScenarioError, match=r"step 1 \(steps\[1\], tamper\): no asset 'cam-9'"):
        estate.play(scenario)
    other_site = parse_scenario("name: s\nsite: elsewhere\nsteps:\n  - {at: 1s, fault: leak}\n")
    with pytest.raises(ScenarioError, match="no simulated site 'elsewhere'"):
        estate.play(other_site)


def test_a_looping_scenario_repeats_its_incidents() -> None:
    scenario = parse_scenario(
        "name: loop\nsteps:\n  - {at: 10s, fault: breaker_trip, asset: board-1, for: 20s}\n"
        "  - {at: 40s, fault: tamper, asset: cam-1}\n"
    )
    estate = Estate.single("loop", cctv=2, seed=1)
    estate.play(scenario, start=MORNING + timedelta(minutes=1), repeat_every=timedelta(minutes=1))
    tripped: list[int] = []
    tampered: list[int] = []
    for n in range(0, 240):
        tick = estate.step(MORNING + timedelta(seconds=n))
        if tick.reading("board-1").metrics["breaker_tripped"]:  # type: ignore[union-attr]
            tripped.append(n)
        if tick.reading("cam-1").metrics["tamper"]:  # type: ignore[union-attr]
            tampered.append(n)
    assert tripped == [*range(70, 90), *range(130, 150), *range(190, 210)]
    # a step without `for` lasts until its cycle ends, then starts again next cycle
    assert tampered == [*range(100, 120), *range(160, 180), *range(220, 240)]
