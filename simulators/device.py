"""What every device model shares: a clock of its own, a seeded random stream, its faults.

Models are pure state machines: ``step(t, supply)`` moves the physics to epoch seconds ``t``
and returns the reading the device would publish then (``None`` when it cannot publish). They
never read the wall clock or the global random generator, so one seed and one sequence of
``t`` always give the same stream.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from facility_dispatch.simulators.faults import FAULTS, ActiveFault, Fault, OptionValue, Role
from facility_dispatch.simulators.profiles import LocalTime
from facility_dispatch.simulators.telemetry import DeviceId, Metrics


@dataclass(frozen=True, slots=True)
class Supply:
    """The electricity a load sees: the mains, and whether the site's UPS still has charge."""

    mains: bool = True
    ups: bool = True

    def feeds(self, on_ups: bool) -> bool:
        return self.mains or (on_ups and self.ups)


MAINS: Supply = Supply()


class DeviceModel(ABC):
    """Base of the four kinds' models. Subclasses implement ``_advance`` and ``_metrics``."""

    role: ClassVar[Role]
    on_ups: bool = False
    """Whether the device rides through a mains failure on the site's UPS."""

    def __init__(self, device: DeviceId, rng: random.Random, clock: LocalTime) -> None:
        self.device = device
        self.rng = rng
        self.local = clock
        self.t: float | None = None
        self.faults: dict[Fault, ActiveFault] = {}
        self.powered = True

    @property
    def kind(self) -> str:
        return self.device.kind

    @property
    def asset(self) -> str:
        return self.device.asset

    def accepts(self, fault: Fault) -> bool:
        return self.role in FAULTS[fault].roles

    def inject(
        self, fault: Fault, t: float, options: Mapping[str, OptionValue], token: int = 0
    ) -> None:
        """Start ``fault`` at ``t`` (a fault already active is restarted with the new options)."""
        if self.t is None:
            self._begin(t)
        self.faults[fault] = ActiveFault(fault, t, dict(options), token)
        self._on_inject(self.faults[fault], t)

    def clear(self, fault: Fault, t: float, token: int | None = None) -> bool:
        """End ``fault`` (only the injection ``token`` set, when one is given)."""
        active = self.faults.get(fault)
        if active is None or (token is not None and active.token != token):
            return False
        del self.faults[fault]
        self._on_clear(active, t)
        return True

    def step(self, t: float, supply: Supply = MAINS) -> Metrics | None:
        """Advance to ``t`` and return this instant's reading, or None if it cannot publish."""
        if self.t is None:
            self._begin(t)
        assert self.t is not None
        dt = t - self.t if t > self.t else 0.0
        self.t = max(self.t, t)
        self.powered = supply.feeds(self.on_ups)
        self._advance(self.t, dt, supply)
        if not self.publishing:
            return None
        return self._metrics()

    @property
    def publishing(self) -> bool:
        """Whether the device is up and on the network (its status is ``online``)."""
        return True

    def _begin(self, t: float) -> None:
        """Set the initial state at the first instant the model sees."""
        self.t = t

    def _on_inject(self, fault: ActiveFault, t: float) -> None:
        """React to a fault starting (most models only read ``self.faults`` while stepping)."""
        return None

    def _on_clear(self, fault: ActiveFault, t: float) -> None:
        """React to a fault ending."""
        return None

    @abstractmethod
    def _advance(self, t: float, dt: float, supply: Supply) -> None:
        """Move the physics ``dt`` seconds forward, to ``t``."""

    @abstractmethod
    def _metrics(self) -> Metrics:
        """The reading at the current state."""
