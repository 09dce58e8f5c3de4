"""A low-voltage distribution board with its UPS and standby generator.

The board meters one three-phase incomer: phase-to-neutral ``voltage_v`` (220 V nominal, a
little droop under load), ``frequency_hz`` (50 Hz), per-phase ``current_a`` and ``power_kw``
following a residential daily load profile (evening peak, local time), ``power_factor`` and the
``energy_kwh`` counter. The UPS (``ups_battery_pct``) carries the security room (NVRs, the
cameras wired to it, the board's own meter); the standby generator feeds the life-safety bus
(fire pumps, smoke fans, emergency lighting), not the lifts, booster pumps or cameras.

Faults: ``mains_failure`` (``mains_ok`` false, 0 V on the mains side, no current; the
generator runs 10-15 s later unless ``generator_fails``; the UPS drains at ~2%/min; the
frequency and power factor of a dead supply are not reported), ``voltage_sag`` (under 198 V,
-10%; ``voltage_v`` over 242 makes it a swell), ``breaker_trip`` (``breaker_tripped``, no current
and no power through the board). When the mains return the generator runs on for a 30 s
cool-down and the UPS recharges at 0.5%/min.
"""

from __future__ import annotations

import random
from typing import Final

from facility_dispatch.simulators.device import DeviceModel, Supply
from facility_dispatch.simulators.faults import ActiveFault, Fault, Role
from facility_dispatch.simulators.profiles import POWER_LOAD, LocalTime, Wander, clamp
from facility_dispatch.simulators.telemetry import DeviceId, Metrics

NOMINAL_V: Final = 220.0
NOMINAL_HZ: Final = 50.0
SAG_V: Final = (186.0, 194.0)
"""Default sag depth: well under the -10% line (198 V) of GB/T 12325 supply-voltage limits."""
GENERATOR_START_S: Final = (10.0, 15.0)
GENERATOR_COOLDOWN_S: Final = 30.0
UPS_DRAIN_PCT_PER_S: Final = 2.0 / 60.0
UPS_CHARGE_PCT_PER_S: Final = 0.5 / 60.0


class DistributionBoard(DeviceModel):
    """One board: its incomer meter, its UPS and its generator."""

    role = Role.BOARD
    on_ups = True

    def __init__(self, device: DeviceId, rng: random.Random, clock: LocalTime) -> None:
        super().__init__(device, rng, clock)
        self.peak_kw = rng.uniform(250.0, 600.0)
        self.energy_kwh = round(rng.uniform(1e6, 5e6), 1)
        self.ups_pct = 100.0
        self.generator_running = False
        self.generator_start_at: float | None = None
        self.generator_stop_at: float | None = None
        self.power_kw = 0.0
        self.sag_v = 0.0
        self._load_noise = Wander(rng, 0.04, 600.0)
        self._volt_noise = Wander(rng, 0.8, 30.0)
        self._hz_noise = Wander(rng, 0.02, 20.0)
        self._pf_noise = Wander(rng, 0.01, 300.0)

    @property
    def mains_ok(self) -> bool:
        return Fault.MAINS_FAILURE not in self.faults

    @property
    def supply(self) -> Supply:
        """What the loads fed from this board see."""
        return Supply(mains=self.mains_ok, ups=self.ups_pct > 0.0)

    def _on_inject(self, fault: ActiveFault, t: float) -> None:
        if fault.fault is Fault.MAINS_FAILURE:
            self.generator_stop_at = None
            if fault.flag("generator_fails"):
                self.generator_start_at = None
            elif not self.generator_running:
                self.generator_start_at = t + self.rng.uniform(*GENERATOR_START_S)
        elif fault.fault is Fault.VOLTAGE_SAG:
            self.sag_v = fault.number("voltage_v", self.rng.uniform(*SAG_V))

    def _on_clear(self, fault: ActiveFault, t: float) -> None:
        if fault.fault is Fault.MAINS_FAILURE:
            self.generator_start_at = None
            if self.generator_running:
                self.generator_stop_at = t + GENERATOR_COOLDOWN_S

    def _advance(self, t: float, dt: float, supply: Supply) -> None:
        for noise in (self._load_noise, self._volt_noise, self._hz_noise, self._pf_noise):
            noise.step(dt)
        if self.generator_start_at is not None and t >= self.generator_start_at:
            self.generator_running, self.generator_start_at = True, None
        if self.generator_stop_at is not None and t >= self.generator_stop_at:
            self.generator_running, self.generator_stop_at = False, None
        if self.mains_ok:
            self.ups_pct = min(100.0, self.ups_pct + UPS_CHARGE_PCT_PER_S * dt)
        else:
            self.ups_pct = max(0.0, self.ups_pct - UPS_DRAIN_PCT_PER_S * dt)
        flowing = self.mains_ok and Fault.BREAKER_TRIP not in self.faults
        load = POWER_LOAD.at(self.local.hour(t)) * (1.0 + self._load_noise.value)
        self.power_kw = self.peak_kw * max(load, 0.05) if flowing else 0.0
        self.energy_kwh += self.power_kw * dt / 3600.0

    def voltage(self) -> float:
        if not self.mains_ok:
            return 0.0
        if Fault.VOLTAGE_SAG in self.faults:
            sagged = self.sag_v + 0.3 * self._volt_noise.value
            if self.sag_v < 198.0:
                return min(sagged, 197.0)
            return max(sagged, 243.0) if self.sag_v > 242.0 else sagged
        droop = 0.025 * self.power_kw / self.peak_kw
        return NOMINAL_V * (1.0 + 0.008 - droop) + self._volt_noise.value

    def _metrics(self) -> Metrics:
        volts = self.voltage()
        metrics: Metrics = {
            "voltage_v": round(volts, 1),
            "mains_ok": self.mains_ok,
            "generator_running": self.generator_running,
            "ups_battery_pct": round(self.ups_pct, 1),
            "breaker_tripped": Fault.BREAKER_TRIP in self.faults,
            "energy_kwh": round(self.energy_kwh, 2),
        }
        if self.mains_ok:
            metrics["frequency_hz"] = round(NOMINAL_HZ + self._hz_noise.value, 3)
        if self.power_kw > 0 and volts > 0:
            share = self.power_kw / self.peak_kw
            pf = clamp(0.88 + 0.08 * share + self._pf_noise.value, 0.7, 0.99)
            metrics["power_factor"] = round(pf, 3)
            metrics["power_kw"] = round(self.power_kw, 1)
            metrics["current_a"] = round(self.power_kw * 1000.0 / (3.0 * volts * pf), 1)
        else:
            metrics["power_kw"] = 0.0
            metrics["current_a"] = 0.0
        return metrics
