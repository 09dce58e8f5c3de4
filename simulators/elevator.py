"""A traction passenger lift in a residential tower.

The car answers calls drawn from the site's daily traffic (a morning down-peak, an evening
up-peak, quiet nights, in local time): it runs to the caller's landing, cycles its doors
(opening, open, closing), carries the riders to their floor with a trapezoidal speed profile
(accelerate at 0.8 m/s², cruise at the rated 1.75 m/s, decelerate) and waits closed at the
landing. Motor temperature follows the duty (a first-order thermal model); vibration is the
machine's RMS velocity, which wear raises; ``door_cycles`` and ``run_hours`` only grow.

Faults: ``entrapment`` stops the car where it is (a car standing at a landing is taken to
have just left it), with riders who press the alarm; ``door_obstruction`` holds the doors
``obstructed`` at the landing (from the next arrival if the car is running); ``overspeed``
makes the drive cruise above 115% of rated (the governor is taken not to trip, so the
monitoring sees it); ``bearing_wear`` makes vibration grow exponentially (ISO 10816 zones:
past 4.5, then 7.1 mm/s, over the ``ramp`` of compressed time) and the motor warm.
Losing the mains stops the car like an entrapment (a car with riders gives the same
signature); the remote-monitoring unit has its own battery and keeps publishing.
"""

from __future__ import annotations

import math
import random
from enum import StrEnum
from typing import Final, NamedTuple

from facility_dispatch.simulators.device import DeviceModel, Supply
from facility_dispatch.simulators.faults import ActiveFault, Fault, Role
from facility_dispatch.simulators.profiles import LIFT_CALLS, LocalTime, Wander, approach, clamp
from facility_dispatch.simulators.telemetry import DeviceId, Metrics

FLOORS: Final = (-2, -1, *range(1, 19))
"""Two parking levels and eighteen storeys; Chinese numbering has no floor 0."""
LOBBY: Final = FLOORS.index(1)
FLOOR_HEIGHT_M: Final = 3.0
RATED_SPEED_MPS: Final = 1.75
ACCEL_MPS2: Final = 0.8
LEVELLING_SPEED_MPS: Final = 0.3
RATED_LOAD_KG: Final = 1000.0
MAX_RIDERS: Final = 13
DOOR_OPENING_S: Final = 2.0
DOOR_CLOSING_S: Final = 2.8
OVERSPEED_MPS: Final = 2.2
OVERSPEED_CALLS_PER_HOUR: Final = 120.0
"""While overspeed lasts the car is kept busy, so the fault shows on runs even at night."""
BEARING_ALARM_MMS: Final = 9.0
"""Where ``bearing_wear`` takes the vibration at the end of its ramp (ISO 10816 zone D)."""
SUBSTEP_S: Final = 0.5
ENTRAPMENT_CODE: Final = "E50 stopped between floors"
TRAPPED_AT_LANDING_CODE: Final = "E51 car stopped, doors will not open"


class Phase(StrEnum):
    IDLE = "idle"  # at a landing, doors closed
    OPENING = "opening"
    OPEN = "open"
    CLOSING = "closing"
    RUNNING = "running"
    HELD = "held"  # doors held obstructed at a landing
    STUCK = "stuck"  # stopped with doors closed: entrapment, or power lost
    DARK_OPEN = "dark_open"  # power lost with the doors open at a landing
    LEVELLING = "levelling"  # slow run to the nearest landing to release riders


_DOOR_STATE: Final = {
    Phase.IDLE: "closed",
    Phase.OPENING: "opening",
    Phase.OPEN: "open",
    Phase.CLOSING: "closing",
    Phase.RUNNING: "closed",
    Phase.HELD: "obstructed",
    Phase.STUCK: "closed",
    Phase.DARK_OPEN: "open",
    Phase.LEVELLING: "closed",
}


class Stop(NamedTuple):
    floor: int  # index into FLOORS
    board: int  # riders who get in here
    alight: bool  # everybody gets out here


class Trip:
    """A trapezoidal (or, for short hops, triangular) speed profile from one height to another."""

    __slots__ = ("accel", "cruise", "direction", "distance", "elapsed", "start", "t_acc", "total")

    def __init__(self, start: float, end: float, vmax: float, accel: float) -> None:
        self.start = start
        self.distance = abs(end - start)
        self.direction = 1.0 if end >= start else -1.0
        self.accel = accel
        if self.distance >= vmax * vmax / accel:
            self.cruise = vmax
            self.t_acc = vmax / accel
            self.total = 2 * self.t_acc + (self.distance - vmax * vmax / accel) / vmax
        else:
            self.cruise = math.sqrt(accel * self.distance)
            self.t_acc = self.cruise / accel
            self.total = 2 * self.t_acc
        self.elapsed = 0.0

    @property
    def done(self) -> bool:
        return self.elapsed >= self.total

    def speed(self) -> float:
        t = self.elapsed
        if t <= 0 or t >= self.total:
            return 0.0
        if t < self.t_acc:
            return self.accel * t
        if t > self.total - self.t_acc:
            return self.accel * (self.total - t)
        return self.cruise

    def travelled(self) -> float:
        t = min(self.elapsed, self.total)
        a, v, ta = self.accel, self.cruise, self.t_acc
        if t < ta:
            return 0.5 * a * t * t
        if t <= self.total - ta:
            return 0.5 * a * ta * ta + v * (t - ta)
        rest = self.total - t
        return self.distance - 0.5 * a * rest * rest

    def position(self) -> float:
        return self.start + self.direction * self.travelled()


class Elevator(DeviceModel):
    """One lift car and its machine."""

    role = Role.LIFT

    def __init__(self, device: DeviceId, rng: random.Random, clock: LocalTime) -> None:
        super().__init__(device, rng, clock)
        self.rated_speed = RATED_SPEED_MPS
        self.position_m = FLOOR_HEIGHT_M * rng.choice((LOBBY, LOBBY, 0, rng.randrange(20)))
        self.phase = Phase.IDLE
        self.phase_left = 0.0
        self.plan: list[Stop] = []
        self.riders: list[float] = []
        self.trip: Trip | None = None
        self.door_cycles = rng.randint(150_000, 900_000)
        self.run_hours = round(rng.uniform(3_000, 25_000), 3)
        self.duty = rng.uniform(0.05, 0.15)
        self.vibration_base = rng.uniform(0.9, 1.6)
        self.motor_temp = 0.0
        self.alarm_at: float | None = None
        self.fault_code: str | None = None
        self._announce_clear = False
        self._had_power = True
        self._load_offset = Wander(rng, 1.2, 120.0)
        self._vib_noise = Wander(rng, 0.04, 20.0)
        self._temp_noise = Wander(rng, 0.25, 60.0)

    # -- geometry ---------------------------------------------------------------------------------

    @property
    def landing(self) -> int:
        """Index into FLOORS of the landing nearest the car."""
        return int(clamp(round(self.position_m / FLOOR_HEIGHT_M), 0, len(FLOORS) - 1))

    @property
    def between_floors(self) -> bool:
        return abs(self.position_m - self.landing * FLOOR_HEIGHT_M) > 0.05

    @property
    def moving(self) -> bool:
        return self.phase in (Phase.RUNNING, Phase.LEVELLING)

    @property
    def speed(self) -> float:
        return self.trip.speed() if self.trip is not None and self.moving else 0.0

    @property
    def load_kg(self) -> float:
        return sum(self.riders)

    # -- lifecycle --------------------------------------------------------------------------------

    def _begin(self, t: float) -> None:
        super()._begin(t)
        self.motor_temp = self._machine_room(t) + 40 * self.duty

    def _machine_room(self, t: float) -> float:
        hour = self.local.hour(t)
        return 25.0 + 4.0 * math.cos((hour - 15.0) / 24.0 * 2 * math.pi)

    def _advance(self, t: float, dt: float, supply: Supply) -> None:
        if self.powered != self._had_power:
            self._had_power = self.powered
            if self.powered:
                self._power_back(t)
            else:
                self._power_lost(t)
        start = t - dt
        remaining = dt
        while remaining > 1e-9:
            h = min(SUBSTEP_S, remaining)
            remaining -= h
            self._tick(start + dt - remaining, h)
        self._thermal(t, dt)
        self._vib_noise.step(dt)
        self._temp_noise.step(dt)
        self._load_offset.step(dt)
        if self.phase is Phase.STUCK and self.riders and self.alarm_at is None:
            self.alarm_at = t + self.rng.uniform(2.0, 8.0)

    def _tick(self, t: float, h: float) -> None:
        phase = self.phase
        if phase in (Phase.RUNNING, Phase.LEVELLING):
            assert self.trip is not None
            self.run_hours += h / 3600.0
            self.trip.elapsed += h
            self.position_m = self.trip.position()
            if self.trip.done:
                self._arrive(t)
        elif phase in (Phase.OPENING, Phase.OPEN, Phase.CLOSING):
            self.phase_left -= h
            if self.phase_left <= 0:
                self._doors_done(t)
        elif phase is Phase.IDLE and self.powered:
            if self.plan:
                self._serve(t)
            elif self.powered and self.rng.random() < self._call_probability(t, h):
                self._call(t)
                self._serve(t)
        elif phase is Phase.DARK_OPEN and self.riders and self.rng.random() < h / 4.0:
            self.riders.pop()  # riders step out of a dark car one by one

    def _call_probability(self, t: float, h: float) -> float:
        per_hour = LIFT_CALLS.at(self.local.hour(t))
        if Fault.OVERSPEED in self.faults:
            per_hour = max(per_hour, OVERSPEED_CALLS_PER_HOUR)
        return 1.0 - math.exp(-per_hour * h / 3600.0)

    def _call(self, t: float) -> None:
        hour = self.local.hour(t)
        rng = self.rng
        upper = range(LOBBY + 1, len(FLOORS))
        ground = (0, 1, LOBBY, LOBBY, LOBBY)
        peak = 6.5 <= hour < 9.5 or 17 <= hour < 20.5
        if 6 <= hour < 10 and rng.random() < 0.7:
            pickup, dest = rng.choice(upper), rng.choice(ground)
        elif 16 <= hour < 21 and rng.random() < 0.7:
            pickup, dest = rng.choice(ground), rng.choice(upper)
        else:
            pickup, dest = rng.sample(range(len(FLOORS)), 2)
        if Fault.OVERSPEED in self.faults and abs(dest - pickup) < 8:
            dest = pickup + 10 if pickup + 10 < len(FLOORS) else pickup - 10
        riders = 1 + min(int(rng.expovariate(1 / (1.4 if peak else 0.35))), MAX_RIDERS - 1)
        self.plan = [Stop(pickup, riders, False), Stop(dest, 0, True)]

    def _serve(self, t: float) -> None:
        target = self.plan[0].floor
        if target == self.landing and not self.between_floors:
            self._open(t)
        else:
            self._run_to(target * FLOOR_HEIGHT_M, self._cruise_speed(), Phase.RUNNING)

    def _cruise_speed(self) -> float:
        overspeed = self.faults.get(Fault.OVERSPEED)
        if overspeed is not None:
            return overspeed.number("speed_mps", OVERSPEED_MPS) + self.rng.uniform(-0.02, 0.02)
        return self.rated_speed + self.rng.uniform(-0.01, 0.005)

    def _run_to(self, height: float, vmax: float, phase: Phase) -> None:
        accel = ACCEL_MPS2 if phase is Phase.RUNNING else 0.3
        self.trip = Trip(self.position_m, height, vmax, accel)
        self.phase = phase

    def _arrive(self, t: float) -> None:
        assert self.trip is not None
        self.position_m = round(self.position_m / FLOOR_HEIGHT_M) * FLOOR_HEIGHT_M
        self.trip = None
        if not self.plan or self.plan[0].floor != self.landing:
            self.plan.insert(0, Stop(self.landing, 0, True))
        self._open(t)

    def _open(self, t: float) -> None:
        if Fault.DOOR_OBSTRUCTION in self.faults:
            self._hold(t)
            return
        self.phase, self.phase_left = Phase.OPENING, DOOR_OPENING_S

    def _hold(self, t: float) -> None:
        if self.plan and self.plan[0].alight:
            self.riders.clear()
        self.phase = Phase.HELD

    def _doors_done(self, t: float) -> None:
        if self.phase is Phase.OPENING:
            stop = self.plan[0] if self.plan else Stop(self.landing, 0, True)
            if stop.alight:
                self.riders.clear()
            for _ in range(stop.board):
                if len(self.riders) < MAX_RIDERS:
                    self.riders.append(clamp(self.rng.gauss(65.0, 12.0), 30.0, 120.0))
            self.phase = Phase.OPEN
            self.phase_left = self.rng.uniform(3.0, 6.0) + 0.4 * stop.board
        elif self.phase is Phase.OPEN:
            if Fault.DOOR_OBSTRUCTION in self.faults:
                self.phase = Phase.HELD
                return
            self.phase, self.phase_left = Phase.CLOSING, DOOR_CLOSING_S
        else:
            self.door_cycles += 1
            if self.plan:
                self.plan.pop(0)
            self.phase = Phase.IDLE

    # -- faults and power -------------------------------------------------------------------------

    def _on_inject(self, fault: ActiveFault, t: float) -> None:
        name = fault.fault
        if name is Fault.ENTRAPMENT:
            self._strike(t)
        elif name is Fault.DOOR_OBSTRUCTION and self.phase in (
            Phase.IDLE,
            Phase.OPENING,
            Phase.OPEN,
            Phase.CLOSING,
        ):
            self._hold(t)

    def _strike(self, t: float) -> None:
        """Stop the car off a landing with riders inside (the entrapment signature)."""
        if not self.between_floors or abs(self.position_m - self.landing * FLOOR_HEIGHT_M) < 0.6:
            step = 1.2 if self.landing < len(FLOORS) - 1 else -1.2
            if self.trip is not None and self.trip.direction < 0 and self.landing > 0:
                step = -1.2
            self.position_m = self.landing * FLOOR_HEIGHT_M + step
        if not self.riders:
            for _ in range(self.rng.randint(1, 3)):
                self.riders.append(clamp(self.rng.gauss(65.0, 12.0), 30.0, 120.0))
        self.trip = None
        self.plan = []
        self.phase = Phase.STUCK
        self.alarm_at = t + self.rng.uniform(1.0, 5.0)
        self.fault_code = ENTRAPMENT_CODE

    def _on_clear(self, fault: ActiveFault, t: float) -> None:
        name = fault.fault
        if name is Fault.ENTRAPMENT and self.phase is Phase.STUCK and self.powered:
            self._release(t)
        elif name is Fault.DOOR_OBSTRUCTION and self.phase is Phase.HELD:
            self.phase, self.phase_left = Phase.CLOSING, DOOR_CLOSING_S

    def _release(self, t: float) -> None:
        """After a rescue (or power back): level to the nearest landing and let riders out."""
        self.alarm_at = None
        if self.fault_code is not None:
            self.fault_code = None
            self._announce_clear = True
        self.plan = [Stop(self.landing, 0, True)]
        if self.between_floors:
            self._run_to(self.landing * FLOOR_HEIGHT_M, LEVELLING_SPEED_MPS, Phase.LEVELLING)
        else:
            self._open(t)

    def _power_lost(self, t: float) -> None:
        if self.phase in (Phase.RUNNING, Phase.LEVELLING) or (
            self.phase is Phase.IDLE and self.riders
        ):
            self.trip = None
            self.plan = []
            self.phase = Phase.STUCK
            if self.riders:
                self.fault_code = (
                    ENTRAPMENT_CODE if self.between_floors else TRAPPED_AT_LANDING_CODE
                )
        elif self.phase in (Phase.OPENING, Phase.OPEN, Phase.CLOSING, Phase.HELD):
            self.phase = Phase.DARK_OPEN
            self.plan = [Stop(self.landing, 0, True)]

    def _power_back(self, t: float) -> None:
        if self.phase is Phase.STUCK and Fault.ENTRAPMENT not in self.faults:
            self._release(t)
        elif self.phase is Phase.DARK_OPEN:
            if Fault.DOOR_OBSTRUCTION in self.faults:
                self.phase = Phase.HELD
            else:
                self.phase, self.phase_left = Phase.CLOSING, DOOR_CLOSING_S

    # -- wear and heat ----------------------------------------------------------------------------

    def vibration_level(self, t: float) -> float:
        """Machine vibration (mm/s RMS) from wear: slow with run hours, fast with a bad bearing."""
        base = self.vibration_base * (1.0 + self.run_hours / 400_000.0)
        wear = self.faults.get(Fault.BEARING_WEAR)
        if wear is None:
            return base
        ramp = wear.number("ramp", 600.0)
        growth = math.log(BEARING_ALARM_MMS / base) / ramp
        return min(base * math.exp(growth * wear.elapsed(t)), 16.0)

    def _thermal(self, t: float, dt: float) -> None:
        running = 1.0 if self.moving else 0.0
        self.duty = approach(self.duty, running, dt, 900.0)
        base = self.vibration_base
        friction = 12.0 * clamp(
            (self.vibration_level(t) - base) / (BEARING_ALARM_MMS - base), 0, 1.5
        )
        target = self._machine_room(t) + 40.0 * self.duty + friction
        self.motor_temp = approach(self.motor_temp, target, dt, 600.0)

    # -- the reading ------------------------------------------------------------------------------

    def _metrics(self) -> Metrics:
        assert self.t is not None
        t = self.t
        stuck_with_riders = self.phase is Phase.STUCK and bool(self.riders)
        alarm = stuck_with_riders and self.alarm_at is not None and t >= self.alarm_at
        vibration = self.vibration_level(t) * (1.12 if self.moving else 1.0)
        vibration *= 1.0 + self._vib_noise.value
        metrics: Metrics = {
            "door_state": _DOOR_STATE[self.phase],
            "car_floor": FLOORS[self.landing],
            "moving": self.moving,
            "speed_mps": round(self.speed, 2),
            "load_kg": round(max(0.0, self.load_kg + self._load_offset.value), 1),
            "vibration_mms": round(clamp(vibration, 0.0, 100.0), 2),
            "motor_temp_c": round(self.motor_temp + self._temp_noise.value, 1),
            "door_cycles": self.door_cycles,
            "run_hours": round(self.run_hours, 3),
            "alarm_button": alarm,
            "occupied": bool(self.riders),
        }
        if self.fault_code is not None and stuck_with_riders:
            metrics["fault_code"] = self.fault_code
        elif self._announce_clear or self.fault_code is not None:
            metrics["fault_code"] = None  # JSON null: the controller fault has cleared
            self._announce_clear = False
            self.fault_code = None
        return metrics
