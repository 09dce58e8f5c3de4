"""Real-time publishing: step a source on the wall clock and send what it emits.

A source is anything with ``devices`` and ``step(now) -> Tick`` (an
:class:`~facility_dispatch.simulators.estate. Estate`, a replay). The runner gives every device its
own connection (with its retained last will), steps the source every ``interval`` seconds from a
background thread and publishes the tick. Start/stop from code (the demo, tests) or
:meth:`Runner.run` for a fixed duration (the CLI). Faults can be injected into an estate while it
runs: the estate is thread-safe."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from facility_dispatch.kernel.clock import Clock, SystemClock
from facility_dispatch.simulators.errors import BrokerUnavailableError, SimulatorError
from facility_dispatch.simulators.mqtt import DeviceLink, endpoint
from facility_dispatch.simulators.telemetry import DeviceId, Tick

log = logging.getLogger(__name__)


class TelemetrySource(Protocol):
    """What the runner publishes: a fixed set of devices, stepped on the clock it is given."""

    @property
    def devices(self) -> Sequence[DeviceId]: ...

    @property
    def finished(self) -> bool:
        """True once the source has nothing more to say (a replay at its end)."""
        ...

    def step(self, now: datetime) -> Tick:
        """Advance to ``now`` (an aware datetime) and return what is due."""
        ...


@dataclass(frozen=True, slots=True)
class RunReport:
    """What a run published."""

    devices: int
    readings: int
    seconds: float

    @property
    def rate(self) -> float:
        """Readings per second over the run."""
        return self.readings / self.seconds if self.seconds > 0 else 0.0


class Runner:
    """Publishes a source to a broker in real time from a background thread."""

    def __init__(
        self,
        source: TelemetrySource,
        broker: str,
        *,
        interval: float = 1.0,
        qos: int = 1,
        protocol: str = "5",
        client_prefix: str = "sim",
        clock: Clock | None = None,
    ) -> None:
        if interval <= 0:
            raise SimulatorError("the publishing interval must be positive")
        if qos not in (0, 1):
            raise SimulatorError("qos is 0 or 1")
        self.source = source
        self.interval = interval
        self._clock: Clock = clock or SystemClock()
        where = endpoint(broker)
        self._links = {
            device: DeviceLink(
                device,
                where,
                client_id=f"{client_prefix}-{device.site}-{device.asset}"[:128],
                protocol=protocol,
                qos=qos,
            )
            for device in source.devices
        }
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._started = 0.0
        self._stopped: float | None = None
        self.published = 0
        self.error: BaseException | None = None

    def start(self, connect_timeout: float = 10.0) -> None:
        """Connect every device, then start publishing; raise if the broker never answers."""
        for link in self._links.values():
            link.start()
        deadline = time.monotonic() + connect_timeout
        for link in self._links.values():
            if not link.wait_connected(max(0.0, deadline - time.monotonic())):
                break
        connected = sum(link.connected for link in self._links.values())
        if self._links and connected == 0:
            self._close_links(timeout=0.1)
            raise BrokerUnavailableError(f"no connection to the broker within {connect_timeout:g}s")
        if connected < len(self._links):
            log.warning(
                "%d of %d devices connected; the rest keep trying", connected, len(self._links)
            )
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="simulator-runner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        next_at = time.monotonic()
        try:
            while not self._stop.is_set():
                tick = self.source.step(self._clock.now())
                self._publish(tick)
                if self.source.finished:
                    break
                next_at += self.interval
                delay = next_at - time.monotonic()
                if delay < -self.interval:
                    next_at = time.monotonic()  # fell behind: step at the current time, no burst
                self._stop.wait(max(0.0, delay))
        except BaseException as error:  # a dying thread must not go unnoticed by the caller
            log.exception("simulator runner stopped")
            self.error = error
        finally:
            self._stopped = time.monotonic()

    def _publish(self, tick: Tick) -> None:
        for change in tick.presence:
            self._links[change.device].set_online(change.online)
        for reading in tick.readings:
            self._links[reading.device].publish(reading.topic, reading.payload())
        with self._lock:
            self.published += len(tick.readings)

    def request_stop(self) -> None:
        """Ask the publishing thread to end (safe from a signal handler); then call stop()."""
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the source is finished (or ``timeout``); True if it finished."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> RunReport:
        """Stop publishing, say ``offline`` for every device, disconnect."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close_links(timeout)
        end = self._stopped if self._stopped is not None else time.monotonic()
        return RunReport(len(self._links), self.published, max(0.0, end - self._started))

    def _close_links(self, timeout: float) -> None:
        # Two passes: paho's threads notice a disconnect within a second, all at once.
        deadline = time.monotonic() + timeout
        for link in self._links.values():
            link.disconnect(max(0.0, deadline - time.monotonic()))
        for link in self._links.values():
            link.join()

    def run(self, duration: float | None, connect_timeout: float = 10.0) -> RunReport:
        """Start, publish for ``duration`` seconds (None: until the source ends or Ctrl-C), stop."""
        self.start(connect_timeout)
        with contextlib.suppress(KeyboardInterrupt):
            self.wait(duration)
        report = self.stop()
        if self.error is not None:
            raise SimulatorError(f"publishing failed: {self.error}") from self.error
        return report
