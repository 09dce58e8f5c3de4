"""The metric catalogue of SPEC section 1: known metrics are typed and range-checked.

Metrics not listed here are kept as given (a number, a boolean or a short string), so a device
that reports something new loses nothing; the rules loader uses this catalogue to refuse a rule
that watches a metric its kind does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

MAX_INT64: Final = 2**63 - 1
"""No metric value lies beyond ±2^63: the stores keep 64-bit integers (SQLite, InfluxDB's
``i`` fields, PostgreSQL's bigint), and a value they cannot hold must be refused at the door,
not found unwritable once it is in a batch with good readings."""


class MetricType(StrEnum):
    NUMBER = "number"
    INTEGER = "integer"
    BOOL = "bool"
    ENUM = "enum"
    STRING = "string"
    COUNTER = "counter"  # a number >= 0 that only grows, except when the device resets


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    type: MetricType
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    description: str = ""

    @property
    def bounds(self) -> tuple[float, float]:
        """The valid range; a side the SPEC leaves open ends at the 64-bit limit."""
        low = -MAX_INT64 if self.low is None else self.low
        high = MAX_INT64 if self.high is None else self.high
        return low, high

    @property
    def numeric(self) -> bool:
        return self.type in (MetricType.NUMBER, MetricType.INTEGER, MetricType.COUNTER)


NUM, INT, BOOL, ENUM, STR, COUNT = (
    MetricType.NUMBER,
    MetricType.INTEGER,
    MetricType.BOOL,
    MetricType.ENUM,
    MetricType.STRING,
    MetricType.COUNTER,
)

DOOR_STATES: Final = ("open", "closed", "opening", "closing", "obstructed")

_SPECS: Final[dict[str, tuple[MetricSpec, ...]]] = {
    "elevator": (
        MetricSpec("door_state", ENUM, choices=DOOR_STATES),
        # the tallest buildings have under 170 floors; basements go a few levels down
        MetricSpec("car_floor", INT, "floor", -20, 300),
        MetricSpec("moving", BOOL),
        MetricSpec("speed_mps", NUM, "m/s", 0, 12),
        MetricSpec("load_kg", NUM, "kg", 0, 5000),
        MetricSpec("vibration_mms", NUM, "mm/s", 0, 100, description="RMS velocity, ISO 10816"),
        MetricSpec("motor_temp_c", NUM, "°C", -40, 200),
        MetricSpec("door_cycles", COUNT, "cycles", 0),
        MetricSpec("run_hours", COUNT, "h", 0),
        MetricSpec("alarm_button", BOOL, description="a passenger pressed the car alarm"),
        MetricSpec("occupied", BOOL),
        MetricSpec("fault_code", STR, description="controller fault, e.g. 'E30 door lock'"),
        # beyond SPEC section 1, for the learned-normal rules of the built-in pack (issue 17)
        MetricSpec("machine_room_temp_c", NUM, "°C", -40, 100),
    ),
    "water": (
        MetricSpec("pressure_bar", NUM, "bar", 0, 25),
        MetricSpec("flow_m3h", NUM, "m³/h", 0, 5000),
        MetricSpec("pump_running", BOOL),
        MetricSpec("pump_current_a", NUM, "A", 0, 1000),
        MetricSpec("tank_level_pct", NUM, "%", 0, 100),
        MetricSpec("leak_detected", BOOL),
        MetricSpec("pump_run_hours", COUNT, "h", 0),
        # beyond SPEC section 1: a pump's health, as SKAB's testbed measures it (issue 17)
        MetricSpec("motor_temp_c", NUM, "°C", -40, 200, description="pump motor body"),
        MetricSpec("water_temp_c", NUM, "°C", -20, 150, description="water in the loop"),
        MetricSpec("vibration1_g", NUM, "g", 0, 50, description="RMS acceleration, sensor 1"),
        MetricSpec("vibration2_g", NUM, "g", 0, 50, description="RMS acceleration, sensor 2"),
        MetricSpec("motor_voltage_v", NUM, "V", 0, 1000, description="pump motor supply"),
    ),
    "power": (
        MetricSpec("voltage_v", NUM, "V", 0, 500, description="phase to neutral"),
        MetricSpec("current_a", NUM, "A", 0, 10000),
        MetricSpec("frequency_hz", NUM, "Hz", 40, 70),
        MetricSpec("power_kw", NUM, "kW"),
        MetricSpec("power_factor", NUM, "", 0, 1),
        MetricSpec("energy_kwh", COUNT, "kWh", 0),
        MetricSpec("mains_ok", BOOL),
        MetricSpec("generator_running", BOOL),
        MetricSpec("ups_battery_pct", NUM, "%", 0, 100),
        MetricSpec("breaker_tripped", BOOL),
    ),
    "cctv": (
        MetricSpec("online", BOOL),
        MetricSpec("fps", NUM, "frames/s", 0, 240),
        MetricSpec("bitrate_kbps", NUM, "kbit/s", 0),
        MetricSpec("packet_loss_pct", NUM, "%", 0, 100),
        MetricSpec("recording", BOOL),
        MetricSpec("storage_used_pct", NUM, "%", 0, 100),
        MetricSpec("retention_days", NUM, "d", 0),
        MetricSpec("video_loss", BOOL),
        MetricSpec("tamper", BOOL, description="view blocked or moved"),
    ),
}

CATALOGUE: Final[dict[str, dict[str, MetricSpec]]] = {
    kind: {spec.name: spec for spec in specs} for kind, specs in _SPECS.items()
}

MAX_STRING_LENGTH: Final = 128
"""A metric string longer than this is refused: the SPEC allows 'short strings' only."""


def spec_for(kind: str, metric: str) -> MetricSpec | None:
    return CATALOGUE.get(kind, {}).get(metric)


def counters(kind: str) -> list[str]:
    return [m for m, s in CATALOGUE.get(kind, {}).items() if s.type is MetricType.COUNTER]
