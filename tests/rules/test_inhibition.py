"""Which firing alarms can inhibit a new one: pure, on the default pack."""

from __future__ import annotations

from facility_dispatch.rules.inhibition import FiringAlarm, inhibitor, source_faults
from facility_dispatch.rules.loader import load_default


def test_only_the_faults_that_target_a_kind_are_looked_up() -> None:
    rules = load_default().inhibit
    assert source_faults("elevator", rules) == {"entrapment", "mains_failure"}
    assert source_faults("cctv", rules) == {"mains_failure"}
    assert source_faults("power", rules) == set()  # nothing mutes the mains themselves


def test_the_look_up_finds_what_the_inhibitor_would() -> None:
    rules = load_default().inhibit
    camera = FiringAlarm(2, "north", "cam-1", "cctv", "camera_offline")
    firing = [
        FiringAlarm(1, "north", "board-1", "power", "mains_failure"),
        FiringAlarm(3, "north", "lift-1", "elevator", "entrapment"),
    ]
    kept = [a for a in firing if a.fault in source_faults(camera.kind, rules)]
    assert inhibitor(camera, kept, rules) == inhibitor(camera, firing, rules) == firing[0]
