"""An estate: the simulated devices of one or more sites, stepped together on one clock.

``Estate.step(now)`` moves every device to ``now`` and returns a :class:`Tick` (the readings
and the presence changes due then). Faults are injected and cleared by the API or by scenario
players, through one time-ordered queue, so a scenario and a test that injects by hand behave
alike. Knock-on effects live here because they cross devices: each load of a site is fed from
one of the site's distribution boards (device ``n`` of a kind from board
``(n - 1) % boards + 1``); a board without mains stops the lifts, booster pumps and
non-UPS cameras it feeds, and NVRs and UPS cameras follow when the UPS runs flat. A site with
no simulated board can still lose its mains (``inject("mains_failure", site=...)``).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from facility_dispatch.ingest.topics import SITE_PATTERN
from facility_dispatch.simulators.cctv import CAMERAS_PER_NVR, Camera, Recorder
from facility_dispatch.simulators.device import MAINS, DeviceModel, Supply
from facility_dispatch.simulators.elevator import Elevator
from facility_dispatch.simulators.errors import FaultTargetError, ScenarioError, SimulatorError
from facility_dispatch.simulators.faults import (
    Fault,
    OptionValue,
    Role,
    fault_named,
    validate_options,
)
from facility_dispatch.simulators.power import DistributionBoard
from facility_dispatch.simulators.profiles import DEFAULT_TIMEZONE, LocalTime
from facility_dispatch.simulators.scenario import PlannedFault, Scenario, ScenarioPlayer
from facility_dispatch.simulators.telemetry import DeviceId, PresenceChange, Telemetry, Tick
from facility_dispatch.simulators.water import BoosterStation

ASSET_PREFIX: dict[Role, str] = {
    Role.LIFT: "lift",
    Role.PUMP: "pump",
    Role.BOARD: "board",
    Role.CAMERA: "cam",
    Role.NVR: "nvr",
}


@dataclass(frozen=True, slots=True)
class SiteLayout:
    """How many devices of each kind a site has (``cctv`` counts cameras; NVRs are added)."""

    site: str
    elevators: int = 2
    water: int = 1
    power: int = 1
    cctv: int = 4
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        if not SITE_PATTERN.fullmatch(self.site):
            raise SimulatorError(f"site {self.site!r} must match [a-z0-9][a-z0-9_-]{{0,63}}")
        for kind in ("elevators", "water", "power", "cctv"):
            if getattr(self, kind) < 0:
                raise SimulatorError(f"{kind} must be 0 or more")

    @property
    def recorders(self) -> int:
        return math.ceil(self.cctv / CAMERAS_PER_NVR)


def roster(layout: SiteLayout) -> list[tuple[DeviceId, Role]]:
    """Every device of a site, in the order an estate builds and steps them."""
    site = layout.site
    counts = (
        (Role.BOARD, "power", layout.power),
        (Role.LIFT, "elevator", layout.elevators),
        (Role.PUMP, "water", layout.water),
        (Role.CAMERA, "cctv", layout.cctv),
        (Role.NVR, "cctv", layout.recorders),
    )
    return [
        (DeviceId(site, kind, f"{ASSET_PREFIX[role]}-{n}"), role)
        for role, kind, count in counts
        for n in range(1, count + 1)
    ]


@dataclass(order=True)
class _Action:
    at: float
    order: int
    inject: bool = field(compare=False)
    fault: Fault | None = field(compare=False)
    targets: tuple[DeviceId, ...] | None = field(compare=False)  # None: every match
    outage_sites: tuple[str, ...] = field(compare=False, default=())
    options: Mapping[str, OptionValue] = field(compare=False, default_factory=dict)
    duration: float | None = field(compare=False, default=None)
    token: int | None = field(compare=False, default=None)
    site: str | None = field(compare=False, default=None)
    asset: str | None = field(compare=False, default=None)


class Estate:
    """The simulated devices of one or more sites, with faults and scenarios."""

    def __init__(self, sites: SiteLayout | Sequence[SiteLayout], *, seed: int = 0) -> None:
        layouts = [sites] if isinstance(sites, SiteLayout) else list(sites)
        names = [layout.site for layout in layouts]
        if len(set(names)) != len(names):
            raise SimulatorError(f"site names must be unique: {names}")
        self.seed = seed
        self.layouts = tuple(layouts)
        self._models: dict[DeviceId, DeviceModel] = {}
        self._boards: dict[str, list[DistributionBoard]] = {}
        self._feeder: dict[DeviceId, DistributionBoard | None] = {}
        self._order: list[DeviceModel] = []
        for layout in layouts:
            self._build_site(layout)
        self._seq: dict[DeviceId, int] = dict.fromkeys(self._models, 0)
        self._online: dict[DeviceId, bool] = {}
        self._outages: dict[str, int] = {}  # site -> token of a site-wide mains failure
        self._queue: list[_Action] = []
        self._players: list[ScenarioPlayer] = []
        self._order_counter = itertools.count()
        self._tokens = itertools.count(1)
        self._lock = threading.RLock()
        self._last_t: float | None = None

    @classmethod
    def single(
        cls,
        site: str = "demo",
        *,
        elevators: int = 2,
        water: int = 1,
        power: int = 1,
        cctv: int = 4,
        seed: int = 0,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> Estate:
        """An estate of one site."""
        return cls(SiteLayout(site, elevators, water, power, cctv, timezone), seed=seed)

    def _build_site(self, layout: SiteLayout) -> None:
        clock = LocalTime(layout.timezone)
        boards: list[DistributionBoard] = []
        cameras: list[Camera] = []
        # The roster lists boards first (loads need their feeder) and cameras before NVRs (an
        # NVR reports what its cameras sent in the same tick).
        for ident, role in roster(layout):
            rng = random.Random(f"{self.seed}/{ident.site}/{ident.asset}")
            number = int(ident.asset.rsplit("-", 1)[1])
            model: DeviceModel
            if role is Role.BOARD:
                model = DistributionBoard(ident, rng, clock)
                boards.append(model)
            elif role is Role.LIFT:
                model = Elevator(ident, rng, clock)
            elif role is Role.PUMP:
                model = BoosterStation(ident, rng, clock)
            elif role is Role.CAMERA:
                # Odd cameras (entrances, lobbies) are wired to the security room's UPS.
                model = Camera(ident, rng, clock, on_ups=number % 2 == 1)
                cameras.append(model)
            else:
                group = cameras[(number - 1) * CAMERAS_PER_NVR : number * CAMERAS_PER_NVR]
                model = Recorder(ident, rng, clock, group)
            self._models[ident] = model
            self._order.append(model)
            if role is not Role.BOARD:
                self._feeder[ident] = boards[(number - 1) % len(boards)] if boards else None
        self._boards[layout.site] = boards

    # -- what is simulated ------------------------------------------------------------------------

    @property
    def devices(self) -> tuple[DeviceId, ...]:
        return tuple(model.device for model in self._order)

    @property
    def finished(self) -> bool:
        """An estate runs until it is stopped."""
        return False

    @property
    def sites(self) -> tuple[str, ...]:
        return tuple(layout.site for layout in self.layouts)

    def model(self, asset: str, site: str | None = None) -> DeviceModel:
        """The model of ``asset`` (at ``site``; the first site that has it when not given)."""
        for ident, model in self._models.items():
            if ident.asset == asset and (site is None or ident.site == site):
                return model
        raise FaultTargetError(f"no simulated asset {asset!r}" + (f" at {site}" if site else ""))

    def active_faults(self) -> dict[DeviceId, list[Fault]]:
        """The faults active on each device (site-wide outages appear as site-level entries)."""
        with self._lock:
            out = {ident: list(m.faults) for ident, m in self._models.items() if m.faults}
            for site in self._outages:
                out[DeviceId(site, "power", "*")] = [Fault.MAINS_FAILURE]
            return out

    # -- faults -----------------------------------------------------------------------------------

    def inject(
        self,
        fault: str | Fault,
        asset: str | None = None,
        *,
        site: str | None = None,
        at: datetime | None = None,
        duration: timedelta | None = None,
        **options: object,
    ) -> list[DeviceId]:
        """Inject ``fault`` at the next step (or at ``at``); returns the devices it hits.

        ``asset`` None means every device of the site(s) the fault concerns; ``duration`` None
        means until cleared. Options are the fault's (see ``simulators.faults.FAULTS``), e.g.
        ``inject("mains_failure", generator_fails=True)``.
        """
        spec = fault_named(fault)
        clean = validate_options(spec, options)
        targets, outage_sites = self._resolve(spec.fault, asset, site)
        seconds = None if duration is None else duration.total_seconds()
        with self._lock:
            self._enqueue(
                _Action(
                    at.timestamp() if at is not None else -math.inf,
                    next(self._order_counter),
                    True,
                    spec.fault,
                    targets,
                    outage_sites,
                    clean,
                    seconds,
                )
            )
        return list(targets)

    def clear(
        self,
        fault: str | Fault | None = None,
        asset: str | None = None,
        *,
        site: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Clear ``fault`` (every fault when None) on ``asset`` (every asset when None)."""
        name = fault_named(fault).fault if fault is not None else None
        with self._lock:
            self._enqueue(
                _Action(
                    at.timestamp() if at is not None else -math.inf,
                    next(self._order_counter),
                    False,
                    name,
                    None,
                    site=site,
                    asset=asset,
                )
            )

    def play(
        self,
        scenario: Scenario,
        *,
        start: datetime | None = None,
        repeat_every: timedelta | None = None,
        site: str | None = None,
    ) -> ScenarioPlayer:
        """Play ``scenario`` from ``start`` (default: the next step), looping if asked.

        Every step's target is checked now; a step this estate cannot play raises
        :class:`ScenarioError` naming it.
        """
        player = ScenarioPlayer(
            scenario,
            start=start.timestamp() if start is not None else None,
            repeat=repeat_every.total_seconds() if repeat_every is not None else None,
            site=site,
        )
        for planned in player.planned():
            try:
                self._resolve(planned.fault, planned.asset, planned.site)
            except SimulatorError as error:
                raise ScenarioError(
                    f"scenario {scenario.name}: step {planned.index} "
                    f"(steps[{planned.index}], {planned.fault.value}): {error}"
                ) from None
        with self._lock:
            self._players.append(player)
        return player

    def _resolve(
        self, fault: Fault, asset: str | None, site: str | None
    ) -> tuple[tuple[DeviceId, ...], tuple[str, ...]]:
        spec = fault_named(fault)
        if site is not None and site not in self.sites:
            raise FaultTargetError(f"no simulated site {site!r} (sites: {', '.join(self.sites)})")
        sites = [site] if site is not None else list(self.sites)
        concerned = [
            m
            for m in self._order
            if m.device.site in sites and m.kind == spec.kind and m.role in spec.roles
        ]
        if asset is not None:
            named = [m for m in self._order if m.asset == asset and m.device.site in sites]
            if not named:
                listed = ", ".join(m.asset for m in concerned) or "none"
                raise FaultTargetError(
                    f"no asset {asset!r} at {', '.join(sites)} for {fault.value} "
                    f"(its {spec.kind} assets: {listed})"
                )
            wrong = [m for m in named if m not in concerned]
            if wrong:
                raise FaultTargetError(
                    f"{fault.value} does not concern {asset} (a {wrong[0].kind} "
                    f"{wrong[0].role.value}); it concerns {spec.kind} "
                    f"{'/'.join(sorted(r.value for r in spec.roles))} devices"
                )
            return tuple(m.device for m in named), ()
        outage_sites: list[str] = []
        if fault is Fault.MAINS_FAILURE:
            outage_sites = [s for s in sites if not self._boards.get(s)]
        if not concerned and not outage_sites:
            raise FaultTargetError(f"no {spec.kind} device at {', '.join(sites)} for {fault.value}")
        return tuple(m.device for m in concerned), tuple(outage_sites)

    def _enqueue(self, action: _Action) -> None:
        heapq.heappush(self._queue, action)

    def _apply(self, action: _Action, t: float) -> None:
        if action.inject:
            assert action.fault is not None
            token = next(self._tokens)
            for ident in action.targets or ():
                self._models[ident].inject(action.fault, t, action.options, token)
            for site in action.outage_sites:
                self._outages[site] = token
            if action.duration is not None:
                self._enqueue(
                    _Action(
                        t + action.duration,
                        next(self._order_counter),
                        False,
                        action.fault,
                        action.targets,
                        action.outage_sites,
                        token=token,
                    )
                )
            return
        if action.targets is not None:
            for ident in action.targets:
                if action.fault is not None:
                    self._models[ident].clear(action.fault, t, action.token)
            for site in action.outage_sites:
                if self._outages.get(site) == action.token:
                    del self._outages[site]
            return
        for ident, model in self._models.items():
            if (action.site is None or ident.site == action.site) and (
                action.asset is None or ident.asset == action.asset
            ):
                for name in [action.fault] if action.fault is not None else list(model.faults):
                    model.clear(name, t)
        if action.asset is None and action.fault in (None, Fault.MAINS_FAILURE):
            for site in list(self._outages):
                if action.site is None or site == action.site:
                    del self._outages[site]

    def _plan(self, planned: PlannedFault) -> None:
        targets, outage_sites = self._resolve(planned.fault, planned.asset, planned.site)
        self._enqueue(
            _Action(
                planned.at,
                next(self._order_counter),
                True,
                planned.fault,
                targets,
                outage_sites,
                planned.options,
                planned.duration,
            )
        )

    # -- time -------------------------------------------------------------------------------------

    def step(self, now: datetime) -> Tick:
        """Move every device to ``now`` (timezone-aware) and return what they publish."""
        if now.tzinfo is None:
            raise SimulatorError("Estate.step needs a timezone-aware datetime (UTC)")
        t = now.timestamp()
        with self._lock:
            if self._last_t is not None and t < self._last_t:
                t = self._last_t  # the wall clock stepped back: hold, never run time backwards
            self._last_t = t
            for player in self._players:
                for planned in player.due(t):
                    self._plan(planned)
            self._players = [p for p in self._players if not p.finished]
            while self._queue and self._queue[0].at <= t:
                action = heapq.heappop(self._queue)
                self._apply(action, action.at if math.isfinite(action.at) else t)
            return self._step_devices(t)

    def _step_devices(self, t: float) -> Tick:
        ts_ms = round(t * 1000)
        readings: list[Telemetry] = []
        presence: list[PresenceChange] = []
        for model in self._order:
            ident = model.device
            metrics = model.step(t, self._supply(ident, model))
            online = metrics is not None
            if self._online.get(ident) is not online:
                self._online[ident] = online
                presence.append(PresenceChange(ident.site, ident.kind, ident.asset, online))
            if metrics is not None:
                self._seq[ident] += 1
                readings.append(
                    Telemetry(ident.site, ident.kind, ident.asset, ts_ms, self._seq[ident], metrics)
                )
        return Tick(ts_ms, tuple(readings), tuple(presence))

    def _supply(self, ident: DeviceId, model: DeviceModel) -> Supply:
        if isinstance(model, DistributionBoard):
            return model.supply
        if ident.site in self._outages:
            return Supply(mains=False, ups=True)  # a site without a simulated board or UPS meter
        board = self._feeder.get(ident)
        return board.supply if board is not None else MAINS

    def run(
        self, start: datetime, duration: timedelta, every: timedelta = timedelta(seconds=1)
    ) -> Iterator[Tick]:
        """Step on a simulated clock from ``start`` for ``duration``: no waiting, no wall clock."""
        if every <= timedelta():
            raise SimulatorError("the step must be positive")
        steps = int(duration / every)
        for n in range(steps + 1):
            yield self.step(start + n * every)
