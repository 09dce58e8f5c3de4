"""The fault catalogue of SPEC section 3: which kind and devices each fault concerns, its options.

A fault is injected on a device model; the model turns it into the physical signature (and
the estate carries the knock-on effects to other devices of the site). Options tune a fault
from the API (``estate.inject("mains_failure", generator_fails=True)``) or from a scenario step
(``generator_fails: true`` beside ``fault:``); anything else is refused naming the option.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from facility_dispatch.kernel.durations import DurationError, parse_duration
from facility_dispatch.simulators.errors import FaultOptionError, UnknownFaultError


class Fault(StrEnum):
    ENTRAPMENT = "entrapment"
    DOOR_OBSTRUCTION = "door_obstruction"
    BEARING_WEAR = "bearing_wear"
    OVERSPEED = "overspeed"
    PIPE_BURST = "pipe_burst"
    LEAK = "leak"
    PUMP_FAILURE = "pump_failure"
    DRY_RUN = "dry_run"
    MAINS_FAILURE = "mains_failure"
    VOLTAGE_SAG = "voltage_sag"
    BREAKER_TRIP = "breaker_trip"
    CAMERA_OFFLINE = "camera_offline"
    STORAGE_FULL = "storage_full"
    TAMPER = "tamper"


class Role(StrEnum):
    """What a device is within its kind (cctv has two: cameras and their recorders)."""

    LIFT = "lift"
    PUMP = "pump"
    BOARD = "board"
    CAMERA = "camera"
    NVR = "nvr"


OptionValue = float | bool


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One option of a fault: ``kind`` is ``duration`` (seconds), ``number`` or ``flag``."""

    kind: str
    help: str
    low: float = -math.inf
    high: float = math.inf


@dataclass(frozen=True, slots=True)
class FaultSpec:
    fault: Fault
    kind: str
    roles: frozenset[Role]
    summary: str
    options: Mapping[str, OptionSpec] = field(default_factory=dict)


def _spec(
    fault: Fault, kind: str, roles: set[Role], summary: str, **options: OptionSpec
) -> FaultSpec:
    return FaultSpec(fault, kind, frozenset(roles), summary, options)


FAULTS: Final[Mapping[Fault, FaultSpec]] = {
    spec.fault: spec
    for spec in (
        _spec(
            Fault.ENTRAPMENT,
            "elevator",
            {Role.LIFT},
            "car stops between floors with passengers inside; they press the alarm",
        ),
        _spec(
            Fault.DOOR_OBSTRUCTION,
            "elevator",
            {Role.LIFT},
            "doors held obstructed at the landing (from arrival, if the car is running)",
        ),
        _spec(
            Fault.BEARING_WEAR,
            "elevator",
            {Role.LIFT},
            "machine vibration creeps from ~1.5 mm/s past 4.5 and 7.1 mm/s; the motor warms",
            ramp=OptionSpec("duration", "time to reach ~9 mm/s (compressed wear)", 1.0),
        ),
        _spec(
            Fault.OVERSPEED,
            "elevator",
            {Role.LIFT},
            "the drive cruises above 115% of rated speed",
            speed_mps=OptionSpec("number", "cruise speed while the fault lasts", 0.1, 12.0),
        ),
        _spec(
            Fault.PIPE_BURST,
            "water",
            {Role.PUMP},
            "flow surges to 2-3x normal while pressure falls >1 bar/min to under 1 bar",
            flow_factor=OptionSpec("number", "flow during the burst / flow before it", 1.5, 10),
            drop_bar_per_min=OptionSpec("number", "how fast pressure falls", 1.05, 30),
        ),
        _spec(
            Fault.LEAK,
            "water",
            {Role.PUMP},
            "leak sensor wet, pressure a little down, night flow up",
            flow_m3h=OptionSpec("number", "water lost through the leak", 0.1, 1000),
        ),
        _spec(
            Fault.PUMP_FAILURE,
            "water",
            {Role.PUMP},
            "pump stops (no current); pressure falls under 1.5 bar; flow drops",
        ),
        _spec(
            Fault.DRY_RUN,
            "water",
            {Role.PUMP},
            "break tank runs empty; the pump keeps running on air: no flow, low current",
            ramp=OptionSpec("duration", "time for the tank to run down", 1.0),
        ),
        _spec(
            Fault.MAINS_FAILURE,
            "power",
            {Role.BOARD},
            "utility supply lost: generator starts in 10-15 s, UPS drains, site loads stop",
            generator_fails=OptionSpec("flag", "the standby generator fails to start"),
        ),
        _spec(
            Fault.VOLTAGE_SAG,
            "power",
            {Role.BOARD},
            "supply voltage under 198 V (-10%); voltage_v above 242 makes it a swell",
            voltage_v=OptionSpec("number", "the voltage while the fault lasts", 100, 300),
        ),
        _spec(
            Fault.BREAKER_TRIP,
            "power",
            {Role.BOARD},
            "the board's outgoing breaker trips: no current, no power",
        ),
        _spec(
            Fault.CAMERA_OFFLINE,
            "cctv",
            {Role.CAMERA, Role.NVR},
            "the device drops off the network: status offline, no telemetry",
        ),
        _spec(
            Fault.STORAGE_FULL,
            "cctv",
            {Role.NVR},
            "recorder fills to 100%, stops recording; retention falls under 30 days",
            ramp=OptionSpec("duration", "time from the current fill to 100%", 1.0),
        ),
        _spec(
            Fault.TAMPER,
            "cctv",
            {Role.CAMERA},
            "view blocked: tamper flag, frame rate and bitrate drop, video loss follows",
            video_loss_after=OptionSpec("duration", "when video loss follows the tamper", 0.0),
        ),
    )
}


def fault_named(name: str | Fault) -> FaultSpec:
    """The catalogue entry of ``name``; :class:`UnknownFaultError` lists the valid names."""
    try:
        return FAULTS[Fault(name)]
    except ValueError:
        raise UnknownFaultError(
            f"unknown fault {name!r}: use one of {', '.join(f.value for f in Fault)}"
        ) from None


def validate_options(spec: FaultSpec, options: Mapping[str, object]) -> dict[str, OptionValue]:
    """Check and convert the options of one injection (durations become seconds)."""
    clean: dict[str, OptionValue] = {}
    for name, raw in options.items():
        option = spec.options.get(name)
        if option is None:
            allowed = ", ".join(spec.options) or "none"
            raise FaultOptionError(
                name, f"{spec.fault.value} has no option {name!r} (its options: {allowed})"
            )
        clean[name] = _convert(spec.fault, name, option, raw)
    return clean


def _convert(fault: Fault, name: str, option: OptionSpec, raw: object) -> OptionValue:
    if option.kind == "flag":
        if not isinstance(raw, bool):
            raise FaultOptionError(name, f"{fault.value} option {name} must be true or false")
        return raw
    if option.kind == "duration":
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise FaultOptionError(name, f"{fault.value} option {name} must be a duration (30s)")
        try:
            value = parse_duration(raw).total_seconds()
        except DurationError as error:
            raise FaultOptionError(name, f"{fault.value} option {name}: {error}") from None
    else:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise FaultOptionError(name, f"{fault.value} option {name} must be a number")
        value = float(raw)
    if not (option.low <= value <= option.high) or not math.isfinite(value):
        raise FaultOptionError(
            name,
            f"{fault.value} option {name}={raw!r} is outside {option.low:g}..{option.high:g}",
        )
    return value


@dataclass(slots=True)
class ActiveFault:
    """A fault on one device: since when, with which options, and which injection set it."""

    fault: Fault
    since: float
    options: Mapping[str, OptionValue]
    token: int = 0

    def elapsed(self, t: float) -> float:
        return max(0.0, t - self.since)

    def number(self, name: str, default: float) -> float:
        value = self.options.get(name)
        return default if value is None else float(value)

    def flag(self, name: str) -> bool:
        return bool(self.options.get(name, False))
