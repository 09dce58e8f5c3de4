"""CCTV: IP cameras and the network video recorders (NVRs) that record them.

Assets: each camera (``cam-N``) and each NVR (``nvr-N``) is its own asset of kind ``cctv``;
cameras are assigned to recorders sixteen to an NVR (cam-1..16 -> nvr-1, cam-17..32 ->
nvr-2, ...). A camera reports the stream it sends: ``online``, ``fps`` (25, PAL), ``bitrate_kbps``
(H.265, following scene activity: busy days, quiet nights), ``packet_loss_pct``, ``video_loss``,
``tamper``. An NVR reports the recording side: ``online``, ``recording``, ``storage_used_pct``,
``retention_days`` (days of footage held: the nightly 03:00 recycle deletes the oldest day past
the retention target, so the disk saws between ~80% and ~85%), ``bitrate_kbps`` (what it
ingests) and ``cameras_online``.

An offline device cannot speak: ``camera_offline`` (or losing power) makes the device stop
publishing and its status topic say ``offline``; ``online`` in telemetry is therefore always
true, and silence plus the status is the signal. Odd-numbered cameras (entrances, lobbies) and
every NVR are wired to the security room's UPS; even-numbered cameras go dark with the mains.

Faults: ``camera_offline`` (cameras or NVRs), ``tamper`` (view blocked: ``tamper``, the smart
codec halves the frame rate and the bitrate collapses, ``video_loss`` follows after 30 s),
``storage_full`` (the recycle job fails: the disk fills to 100% over the ``ramp``, the days
held fall under 30 as the recorder sheds footage, recording stops at full).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Final

from facility_dispatch.simulators.device import DeviceModel, Supply
from facility_dispatch.simulators.faults import ActiveFault, Fault, Role
from facility_dispatch.simulators.profiles import SCENE_ACTIVITY, LocalTime, Wander, clamp
from facility_dispatch.simulators.telemetry import DeviceId, Metrics

CAMERAS_PER_NVR: Final = 16
RECYCLE_HOUR: Final = 3.0
FULL_PCT: Final = 99.5


class Camera(DeviceModel):
    """One IP camera's stream."""

    role = Role.CAMERA

    def __init__(
        self, device: DeviceId, rng: random.Random, clock: LocalTime, *, on_ups: bool
    ) -> None:
        super().__init__(device, rng, clock)
        self.on_ups = on_ups
        self.nominal_fps = rng.choice((25.0, 25.0, 25.0, 20.0))
        self.nominal_kbps = rng.choice((2048.0, 4096.0, 4096.0, 6144.0))
        self.fps = self.nominal_fps
        self.bitrate = self.nominal_kbps
        self._rate_noise = Wander(rng, 0.08, 30.0)
        self._loss_noise = Wander(rng, 0.05, 60.0)
        self._tamper_fps = 0.5

    @property
    def publishing(self) -> bool:
        return self.powered and Fault.CAMERA_OFFLINE not in self.faults

    def _on_inject(self, fault: ActiveFault, t: float) -> None:
        if fault.fault is Fault.TAMPER:
            self._tamper_fps = self.rng.uniform(0.4, 0.6)

    def _advance(self, t: float, dt: float, supply: Supply) -> None:
        self._rate_noise.step(dt)
        self._loss_noise.step(dt)
        activity = SCENE_ACTIVITY.at(self.local.hour(t))
        tamper = self.faults.get(Fault.TAMPER)
        if tamper is not None:
            self.fps = self.nominal_fps * self._tamper_fps
            self.bitrate = self.nominal_kbps * 0.08 * (1.0 + 0.2 * self._rate_noise.value)
        else:
            jitter = 0.3 * abs(self._loss_noise.value)
            self.fps = self.nominal_fps - jitter
            self.bitrate = self.nominal_kbps * activity * (1.0 + self._rate_noise.value)

    def video_loss(self) -> bool:
        tamper = self.faults.get(Fault.TAMPER)
        if tamper is None or self.t is None:
            return False
        return tamper.elapsed(self.t) >= tamper.number("video_loss_after", 30.0)

    def _metrics(self) -> Metrics:
        loss = 0.04 + 1.2 * abs(self._loss_noise.value)
        return {
            "online": True,
            "fps": round(clamp(self.fps, 0.0, 240.0), 1),
            "bitrate_kbps": round(max(0.0, self.bitrate)),
            "packet_loss_pct": round(clamp(loss, 0.0, 100.0), 3),
            "video_loss": self.video_loss(),
            "tamper": Fault.TAMPER in self.faults,
        }


class Recorder(DeviceModel):
    """One NVR and the cameras it records."""

    role = Role.NVR
    on_ups = True

    def __init__(
        self,
        device: DeviceId,
        rng: random.Random,
        clock: LocalTime,
        cameras: Sequence[Camera],
    ) -> None:
        super().__init__(device, rng, clock)
        self.cameras = tuple(cameras)
        self.target_days = float(rng.choice((35, 45, 60)))
        self.fill_at_target = rng.uniform(78.0, 83.0)
        self.days_held = self.target_days
        self._recycle_day = 0
        self._full_from = (0.0, 0.0)
        self._full_to_days = 0.0

    @property
    def publishing(self) -> bool:
        return self.powered and Fault.CAMERA_OFFLINE not in self.faults

    def _recycle_index(self, t: float) -> int:
        return self.local.day(t - RECYCLE_HOUR * 3600.0)

    def _begin(self, t: float) -> None:
        super()._begin(t)
        since_recycle = (self.local.hour(t) - RECYCLE_HOUR) % 24.0
        self.days_held = self.target_days + since_recycle / 24.0
        self._recycle_day = self._recycle_index(t)

    def _on_inject(self, fault: ActiveFault, t: float) -> None:
        if fault.fault is Fault.STORAGE_FULL:
            self._full_from = (self.normal_used_pct(), self.days_held)
            self._full_to_days = self.rng.uniform(18.0, 25.0)

    def normal_used_pct(self) -> float:
        return self.days_held * self.fill_at_target / self.target_days

    def _advance(self, t: float, dt: float, supply: Supply) -> None:
        self.days_held += dt / 86400.0
        day = self._recycle_index(t)
        if day != self._recycle_day:
            recycles = day - self._recycle_day
            self._recycle_day = day
            if Fault.STORAGE_FULL not in self.faults:
                self.days_held = max(self.target_days, self.days_held - recycles)

    def _storage(self) -> tuple[float, float]:
        """(storage_used_pct, retention_days) now."""
        full = self.faults.get(Fault.STORAGE_FULL)
        if full is None or self.t is None:
            return self.normal_used_pct(), self.days_held
        progress = clamp(full.elapsed(self.t) / full.number("ramp", 120.0), 0.0, 1.0)
        used0, days0 = self._full_from
        used = used0 + (100.0 - used0) * progress
        days = days0 + (self._full_to_days - days0) * progress
        return used, days

    def _metrics(self) -> Metrics:
        used, days = self._storage()
        recording = used < FULL_PCT
        live = [c for c in self.cameras if c.publishing]
        ingest = sum(c.bitrate for c in live) if recording else 0.0
        return {
            "online": True,
            "recording": recording,
            "storage_used_pct": round(clamp(used, 0.0, 100.0), 2),
            "retention_days": round(math.floor(days * 10) / 10, 1),
            "bitrate_kbps": round(ingest),
            "cameras_online": len(live),
        }
