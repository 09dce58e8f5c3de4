"""A secondary-water booster station (二次供水): break tank, variable-speed pump set, network.

The municipal supply fills the break tank through a float valve; the pumps hold the outlet at
a constant-pressure set point (3.6-4.0 bar) while the estate draws the daily demand curve
(morning and evening peaks, a 3 a.m. minimum night flow, local time). Pressure droops a little
as flow rises; pump current follows the hydraulic work; ``pump_run_hours`` only grows.

Faults: ``pipe_burst`` (flow surges to 2-3x what it was while pressure falls linearly, faster
than 1 bar/min, to a floor under 1 bar), ``leak`` (leak sensor wet, a little less pressure,
more flow, which shows most at night), ``pump_failure`` (pump stops, pressure sags to what the
mains bypass gives, under 1.5 bar, flow drops), ``dry_run`` (the tank runs empty while the pump
keeps turning on air: flow ~0, current well under normal). Losing the site's mains stops the
pump like ``pump_failure``; the station's controller and its telemetry are on battery.
"""

from __future__ import annotations

import math
import random
from typing import Final

from facility_dispatch.simulators.device import DeviceModel, Supply
from facility_dispatch.simulators.faults import ActiveFault, Fault, Role
from facility_dispatch.simulators.profiles import WATER_DEMAND, LocalTime, Wander, approach, clamp
from facility_dispatch.simulators.telemetry import DeviceId, Metrics

SUBSTEP_S: Final = 10.0
FLOAT_VALVE_LEVEL_PCT: Final = 90.0
BURST_FLOOR_BAR: Final = (0.35, 0.7)
"""Where pressure settles during a burst: the network bleeds out through the break."""
BYPASS_HEAD_BAR: Final = (0.5, 0.9)
"""What the municipal mains gives through the bypass when the pumps stand still."""


class BoosterStation(DeviceModel):
    """One booster station: its tank, its duty pump and the network it feeds."""

    role = Role.PUMP

    def __init__(self, device: DeviceId, rng: random.Random, clock: LocalTime) -> None:
        super().__init__(device, rng, clock)
        self.peak_flow = rng.uniform(30.0, 60.0)  # m³/h at the evening peak
        self.setpoint = rng.uniform(3.6, 4.0)  # bar
        self.tank_m3 = self.peak_flow * 3.0
        self.full_load_a = rng.uniform(18.0, 30.0)
        self.bypass_bar = rng.uniform(*BYPASS_HEAD_BAR)
        self.tank_pct = rng.uniform(86.0, 92.0)
        self.pressure = self.setpoint
        self.flow = 0.0
        self.current = 0.0
        self.pump_running = True
        self.run_hours = round(rng.uniform(8_000, 40_000), 3)
        self._demand_noise = Wander(rng, 0.06, 900.0)
        self._pressure_noise = Wander(rng, 0.025, 40.0)
        self._current_noise = Wander(rng, 0.015, 30.0)
        self._burst_base = 0.0
        self._burst_from = 0.0
        self._dry_from = 0.0

    def demand(self, t: float) -> float:
        """What the estate draws now (m³/h), before faults."""
        return self.peak_flow * WATER_DEMAND.at(self.local.hour(t)) * (1 + self._demand_noise.value)

    def _begin(self, t: float) -> None:
        super()._begin(t)
        self.flow = self.demand(t)

    def _on_inject(self, fault: ActiveFault, t: float) -> None:
        if fault.fault is Fault.PIPE_BURST:
            self._burst_base = self.flow  # the signature is relative: 2-3x what flowed before
            self._burst_from = self.pressure
            fault.options = {
                "flow_factor": fault.number("flow_factor", self.rng.uniform(2.2, 2.8)),
                "drop_bar_per_min": fault.number("drop_bar_per_min", self.rng.uniform(1.6, 2.2)),
                "floor": self.rng.uniform(*BURST_FLOOR_BAR),
                **fault.options,
            }
        elif fault.fault is Fault.DRY_RUN:
            self._dry_from = self.tank_pct
            fault.options = {"floor": self.rng.uniform(3.0, 7.0), **fault.options}
        elif fault.fault is Fault.LEAK and "flow_m3h" not in fault.options:
            fault.options = {"flow_m3h": self.peak_flow * self.rng.uniform(0.08, 0.14)}

    def _advance(self, t: float, dt: float, supply: Supply) -> None:
        start = t - dt
        remaining = dt
        while remaining > 1e-9:
            h = min(SUBSTEP_S, remaining)
            remaining -= h
            self._tick(start + dt - remaining, h)
        if dt == 0:
            self._tick(t, 0.0)

    def _tick(self, t: float, h: float) -> None:
        faults = self.faults
        self._demand_noise.step(h)
        self._pressure_noise.step(h)
        self._current_noise.step(h)
        demand = self.demand(t)
        leak = faults.get(Fault.LEAK)
        leak_flow = leak.number("flow_m3h", 0.0) if leak else 0.0
        burst = faults.get(Fault.PIPE_BURST)
        dry = faults.get(Fault.DRY_RUN)
        self.pump_running = self.powered and Fault.PUMP_FAILURE not in faults
        full = self.full_load_a
        if not self.pump_running:
            self.pressure = approach(self.pressure, self.bypass_bar, h, 25.0)
            self.flow = (demand + leak_flow) * 0.8 * math.sqrt(self.pressure / self.setpoint)
            self.current = 0.0
        elif dry is not None:
            floor = dry.number("floor", 5.0)
            progress = clamp(dry.elapsed(t) / dry.number("ramp", 30.0), 0.0, 1.0)
            self.tank_pct = min(self.tank_pct, self._dry_from + (floor - self._dry_from) * progress)
            suction = clamp((self.tank_pct - floor) / 10.0, 0.0, 1.0)
            self.flow = max(0.15 + 0.1 * self._pressure_noise.value, demand * suction)
            self.pressure = approach(self.pressure, 0.25 + 3.0 * suction, h, 15.0)
            self.current = full * (0.22 + 0.3 * suction)
        elif burst is not None:
            elapsed = burst.elapsed(t)
            factor = burst.number("flow_factor", 2.5)
            surge = clamp(elapsed / 15.0, 0.0, 1.0)
            self.flow = demand + leak_flow + (factor * self._burst_base - demand) * surge
            drop = burst.number("drop_bar_per_min", 2.0) * elapsed / 60.0
            self.pressure = max(burst.number("floor", 0.5), self._burst_from - drop)
            self.current = full * 1.05
        else:
            self.flow = demand + leak_flow
            share = self.flow / self.peak_flow
            target = self.setpoint - 0.3 * share * share - (0.25 if leak else 0.0)
            self.pressure = approach(self.pressure, target, h, 8.0)
            self.current = full * (0.4 + 0.5 * share * self.pressure / self.setpoint)
        if self.pump_running:
            self.run_hours += h / 3600.0
        self._fill_tank(h, dry is not None)

    def _fill_tank(self, h: float, inlet_failed: bool) -> None:
        if h <= 0:
            return
        opening = 0.0 if inlet_failed else clamp((FLOAT_VALVE_LEVEL_PCT - self.tank_pct) / 5, 0, 1)
        inflow = 1.3 * self.peak_flow * opening
        outflow = self.flow if self.pump_running else 0.0
        change = (inflow - outflow) * h / 3600.0 / self.tank_m3 * 100.0
        self.tank_pct = clamp(self.tank_pct + change, 0.0, 100.0)

    def _metrics(self) -> Metrics:
        pressure = self.pressure + self._pressure_noise.value * (1.0 if self.pump_running else 0.3)
        current = self.current * (1.0 + self._current_noise.value) if self.pump_running else 0.0
        return {
            "pressure_bar": round(clamp(pressure, 0.0, 25.0), 2),
            "flow_m3h": round(max(0.0, self.flow), 2),
            "pump_running": self.pump_running,
            "pump_current_a": round(max(0.0, current), 1),
            "tank_level_pct": round(self.tank_pct, 1),
            "leak_detected": Fault.LEAK in self.faults,
            "pump_run_hours": round(self.run_hours, 3),
        }
