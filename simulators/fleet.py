"""Fleet mode: thousands of simulated devices from one process, over a few connections.

A load test needs many devices at a held rate, not one MQTT connection and one physics model
per device. So the fleet runs a handful of real models per role for a loop of steps first,
keeps their readings as pre-serialised JSON (counters apart), and then every fleet device
replays one of those loops from its own offset with its own ``seq``, timestamps and counters
(which keep growing across loops). Like a gateway, each message carries ``batch`` consecutive
readings of one device as a JSON array (SPEC section 1). One thread drives ``connections``
paho clients by hand (no loop threads, so no GIL ping-pong), sends messages on a schedule
that holds ``devices x rate`` readings/s, and reports the rate it actually achieved and what
the broker acknowledged. When the broker falls behind the backlog is capped and the achieved
rate drops, which the report shows.

Presence: a connection has one last will, so fleet devices have none; each device's status
is published retained ``online`` at the start and ``offline`` at a clean stop. Faults are not
simulated in fleet mode.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson
import paho.mqtt.client as paho

from facility_dispatch.simulators.errors import BrokerUnavailableError, SimulatorError
from facility_dispatch.simulators.estate import Estate, SiteLayout, roster
from facility_dispatch.simulators.faults import Role
from facility_dispatch.simulators.mqtt import KEEPALIVE_S, endpoint, make_client
from facility_dispatch.simulators.telemetry import rfc3339_ms

COUNTERS: Final[dict[Role, tuple[tuple[str, str], ...]]] = {
    Role.LIFT: (("door_cycles", "%d"), ("run_hours", "%.3f")),
    Role.PUMP: (("pump_run_hours", "%.3f"),),
    Role.BOARD: (("energy_kwh", "%.2f"),),
    Role.CAMERA: (),
    Role.NVR: (),
}
LOOP_STEPS: Final = 600
VARIANTS: Final = 4
SERVICE_EVERY: Final = 16
"""Messages between two turns of the sockets: PUBACKs must flow, as the broker allows only
~20 unacknowledged QoS 1 messages per connection (Mosquitto's receive maximum)."""


@dataclass(frozen=True, slots=True)
class Template:
    """A loop of one real model's readings, each a ready %-format of a whole reading.

    ``formats[i] % (ts, seq, *counters)`` is reading ``i``: its metrics are baked in, so a
    fleet reading costs one formatting operation. ``deltas[i]`` is how far the counters have
    grown since the loop's start, ``span`` how far they grow in one loop.
    """

    role: Role
    bodies: tuple[bytes, ...]
    formats: tuple[bytes, ...]
    deltas: tuple[tuple[float, ...], ...]
    span: tuple[float, ...]
    start: tuple[float, ...]


class _Device:
    __slots__ = ("bases", "count", "offset", "template", "topic")

    def __init__(self, topic: str, template: Template, offset: int, bases: tuple[float, ...]):
        self.topic = topic
        self.template = template
        self.offset = offset
        self.bases = bases
        self.count = 0


@dataclass(frozen=True, slots=True)
class FleetReport:
    """What a fleet run (or one reporting interval of it) achieved."""

    devices: int
    connections: int
    batch: int
    target_rate: float
    achieved_rate: float
    acknowledged_rate: float
    readings: int
    messages: int
    acknowledged: int
    seconds: float
    backlog: int

    def line(self) -> str:
        share = self.achieved_rate / self.target_rate * 100 if self.target_rate else 0.0
        return (
            f"fleet: {self.devices} devices over {self.connections} connections, batch "
            f"{self.batch}: target {self.target_rate:,.0f} readings/s, achieved "
            f"{self.achieved_rate:,.0f} ({share:.0f}%), acknowledged {self.acknowledged_rate:,.0f}"
            f" readings/s over {self.seconds:.1f}s"
        )


def build_templates(
    seed: int, step_seconds: float, start: datetime, steps: int = LOOP_STEPS
) -> dict[Role, list[Template]]:
    """Run a small estate of real models and keep ``VARIANTS`` loops per role."""
    layout = SiteLayout("template", elevators=VARIANTS, water=VARIANTS, power=VARIANTS, cctv=16 * 2)
    estate = Estate(layout, seed=seed)
    rows: dict[str, list[dict[str, Any]]] = {device.asset: [] for device in estate.devices}
    every = timedelta(seconds=step_seconds)
    for n in range(steps + 1):
        for reading in estate.step(start + n * every).readings:
            rows[reading.asset].append(dict(reading.metrics))
    templates: dict[Role, list[Template]] = {role: [] for role in Role}
    for device, role in roster(layout):
        if len(templates[role]) >= VARIANTS or len(rows[device.asset]) != steps + 1:
            continue
        templates[role].append(_template(role, rows[device.asset]))
    return templates


def _template(role: Role, rows: list[dict[str, Any]]) -> Template:
    names = [name for name, _ in COUNTERS[role]]
    first = [float(rows[0][name]) for name in names]
    bodies: list[bytes] = []
    deltas: list[tuple[float, ...]] = []
    for row in rows[:-1]:
        values = [float(row.pop(name)) for name in names]
        row.pop("fault_code", None)
        bodies.append(orjson.dumps(row)[1:-1])
        deltas.append(tuple(c - f for c, f in zip(values, first, strict=True)))
    span = tuple(float(rows[-1][name]) - f for name, f in zip(names, first, strict=True))
    counters = "".join(f',"{name}":{spec}' for name, spec in COUNTERS[role]).encode()
    formats = tuple(
        b'{"ts":"%s","seq":%d,"metrics":{' + body.replace(b"%", b"%%") + counters + b"}}"
        for body in bodies
    )
    return Template(role, tuple(bodies), formats, tuple(deltas), span, tuple(first))


class Fleet:
    """Many simulated devices over a few MQTT connections, at a held rate."""

    def __init__(
        self,
        layouts: Sequence[SiteLayout],
        broker: str,
        *,
        rate: float = 1.0,
        batch: int = 10,
        connections: int = 4,
        qos: int = 1,
        protocol: str = "5",
        seed: int = 0,
        client_prefix: str = "fleet",
        presence: bool = True,
        max_backlog: int = 4000,
    ) -> None:
        if rate <= 0 or batch < 1 or connections < 1:
            raise SimulatorError("rate must be positive, batch and connections at least 1")
        if qos not in (0, 1):
            raise SimulatorError("qos is 0 or 1")
        self.rate = rate
        self.batch = batch
        self.qos = qos
        self.presence = presence
        self.max_backlog = max_backlog
        self._where = endpoint(broker)
        self._protocol = protocol
        self._prefix = f"{client_prefix}-{os.getpid()}"
        self._connections = connections
        self._stop = threading.Event()
        rng = random.Random(f"{seed}/fleet")
        self._templates = build_templates(seed, 1.0 / rate, datetime.now(UTC))
        self._devices: list[_Device] = []
        self.statuses: list[str] = []
        for layout in layouts:
            for ident, role in roster(layout):
                variants = self._templates[role]
                template = variants[len(self._devices) % len(variants)]
                loop = len(template.bodies)
                bases = tuple(start + rng.uniform(0.0, 0.5) * start for start in template.start)
                if role is Role.LIFT:
                    bases = (float(int(bases[0])), bases[1])
                self._devices.append(
                    _Device(ident.telemetry_topic, template, rng.randrange(loop), bases)
                )
                self.statuses.append(ident.status_topic)
        self._clients: list[paho.Client] = []
        self._acked = [0] * connections
        self._sent = [0] * connections
        self._retry_at = [0.0] * connections

    @property
    def devices(self) -> int:
        return len(self._devices)

    @property
    def target_rate(self) -> float:
        """Readings per second the fleet is asked for."""
        return self.devices * self.rate

    def stop(self) -> None:
        """End :meth:`run` early (from another thread or a signal handler)."""
        self._stop.set()

    # -- connections ------------------------------------------------------------------------------

    def _connect(self, timeout: float) -> None:
        connected = [False] * self._connections
        for index in range(self._connections):
            client = make_client(self._where, f"{self._prefix}-{index}", protocol=self._protocol)
            client.on_connect = self._on_connect_factory(index, connected)
            client.on_publish = self._on_publish_factory(index)
            try:
                client.connect(self._where.host, self._where.port, keepalive=KEEPALIVE_S)
            except OSError as error:
                raise BrokerUnavailableError(f"cannot reach the broker: {error}") from None
            self._clients.append(client)
        deadline = time.monotonic() + timeout
        while not all(connected) and time.monotonic() < deadline:
            for client in self._clients:
                client.loop(0.01)
        if not all(connected):
            raise BrokerUnavailableError(
                f"the broker did not accept {self._connections} connections"
            )

    def _on_connect_factory(self, index: int, connected: list[bool]) -> Callable[..., None]:
        def on_connect(_c: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            connected[index] = not reason.is_failure

        return on_connect

    def _on_publish_factory(self, index: int) -> Callable[..., None]:
        acked = self._acked

        def on_publish(_c: paho.Client, _u: Any, _mid: int, _rc: Any, _p: Any) -> None:
            acked[index] += 1

        return on_publish

    def _service(self) -> None:
        """Turn every connection's socket once: read PUBACKs, write what paho holds, reconnect."""
        for index, client in enumerate(self._clients):
            rc = client.loop(0)
            if rc != paho.MQTT_ERR_SUCCESS and time.monotonic() >= self._retry_at[index]:
                self._retry_at[index] = time.monotonic() + 1.0
                with contextlib.suppress(OSError):
                    client.reconnect()

    @property
    def backlog(self) -> int:
        """Messages handed to paho and not yet acknowledged by the broker."""
        if self.qos == 0:
            return 0
        return sum(self._sent) - sum(self._acked)

    def _drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.backlog > 0 and time.monotonic() < deadline:
            self._service()
            time.sleep(0.001)

    def _announce(self, status: bytes, timeout: float) -> None:
        clients = self._clients
        for n, topic in enumerate(self.statuses):
            index = n % len(clients)
            clients[index].publish(topic, status, qos=1, retain=True)
            self._sent[index] += 1 if self.qos else 0
            if n % SERVICE_EVERY == 0:
                self._service()
        if self.qos == 0:
            for client in clients:
                client.loop(0.01)
        self._drain(timeout)

    # -- the run ----------------------------------------------------------------------------------

    def run(
        self,
        duration: float,
        *,
        report_every: float | None = 5.0,
        on_report: Callable[[FleetReport], None] | None = None,
        connect_timeout: float = 10.0,
    ) -> FleetReport:
        """Publish for ``duration`` seconds at the asked rate; the report says what was achieved."""
        self._connect(connect_timeout)
        try:
            if self.presence:
                self._announce(b"online", timeout=60.0)
            acked_before = sum(self._acked)
            seconds, messages, message_rate = self._publish_for(duration, report_every, on_report)
            self._drain(timeout=10.0)
            report = self._report(seconds, messages, sum(self._acked) - acked_before, message_rate)
            if self.presence:
                self._announce(b"offline", timeout=60.0)
            return report
        finally:
            for client in self._clients:
                client.disconnect()
                client.loop(0.01)

    def _publish_for(
        self,
        duration: float,
        report_every: float | None,
        on_report: Callable[[FleetReport], None] | None,
    ) -> tuple[float, int, float]:
        """Publish on schedule; (seconds, messages, messages/s asked)."""
        devices = self._devices
        clients = self._clients
        count = len(devices)
        connections = len(clients)
        batch = self.batch
        qos = self.qos
        sent = self._sent
        message_rate = count * self.rate / batch
        last_message = int(duration * message_rate) if math.isfinite(duration) else 2**62
        spacing_ms = 1000.0 / self.rate
        acked_base = sum(self._acked)
        messages = 0
        ts_ms_cached = -1
        stamps: list[bytes] = []
        start = time.monotonic()
        last_report = (start, 0, acked_base)
        next_report = start + report_every if report_every else math.inf
        while not self._stop.is_set():
            now = time.monotonic()
            elapsed = now - start
            if elapsed >= duration:
                break
            if now >= next_report and on_report is not None:
                acked_now = sum(self._acked)
                on_report(
                    self._report(
                        now - last_report[0],
                        messages - last_report[1],
                        acked_now - last_report[2],
                        message_rate,
                    )
                )
                last_report = (now, messages, acked_now)
                next_report = now + (report_every or math.inf)
            due = min(int(elapsed * message_rate) + 1, last_message)
            if self.backlog >= self.max_backlog:
                # The broker is behind: wait for its PUBACKs without spinning, which on a small
                # machine would take the CPU the broker needs to catch up.
                self._service()
                time.sleep(0.001)
                continue
            if messages >= due:
                self._service()
                wait = (messages + 1) / message_rate - elapsed
                if wait > 0.0005:
                    time.sleep(min(wait, 0.002))
                continue
            wall_ms = time.time_ns() // 1_000_000
            if wall_ms != ts_ms_cached:
                ts_ms_cached = wall_ms
                stamps = [
                    rfc3339_ms(wall_ms - int((batch - 1 - j) * spacing_ms)).encode()
                    for j in range(batch)
                ]
            for _ in range(min(due - messages, SERVICE_EVERY)):
                index = messages % count
                device = devices[index]
                connection = index % connections
                clients[connection].publish(device.topic, _message(device, stamps), qos=qos)
                sent[connection] += 1
                messages += 1
            self._service()
        return max(time.monotonic() - start, 1e-9), messages, message_rate

    def _report(
        self,
        seconds: float,
        messages: int,
        acked: int,
        message_rate: float,
    ) -> FleetReport:
        seconds = max(seconds, 1e-9)
        readings = messages * self.batch
        acked_readings = (acked if self.qos else messages) * self.batch
        return FleetReport(
            devices=self.devices,
            connections=len(self._clients),
            batch=self.batch,
            target_rate=message_rate * self.batch,
            achieved_rate=readings / seconds,
            acknowledged_rate=acked_readings / seconds,
            readings=readings,
            messages=messages,
            acknowledged=acked if self.qos else messages,
            seconds=seconds,
            backlog=self.backlog,
        )


def _message(device: _Device, stamps: list[bytes]) -> bytes:
    """``batch`` consecutive readings of one device as one JSON array."""
    template = device.template
    formats = template.formats
    deltas = template.deltas
    span = template.span
    bases = device.bases
    loop = len(formats)
    first = device.offset + device.count
    seq = device.count
    parts: list[bytes] = []
    append = parts.append
    if len(bases) == 2:
        base0, base1 = bases
        span0, span1 = span
        for j, stamp in enumerate(stamps):
            wraps, pos = divmod(first + j, loop)
            seq += 1
            delta = deltas[pos]
            append(
                formats[pos]
                % (stamp, seq, base0 + wraps * span0 + delta[0], base1 + wraps * span1 + delta[1])
            )
    elif bases:
        base0 = bases[0]
        span0 = span[0]
        for j, stamp in enumerate(stamps):
            wraps, pos = divmod(first + j, loop)
            seq += 1
            append(formats[pos] % (stamp, seq, base0 + wraps * span0 + deltas[pos][0]))
    else:
        for j, stamp in enumerate(stamps):
            seq += 1
            append(formats[(first + j) % loop] % (stamp, seq))
    device.count = seq
    return b"[" + b",".join(parts) + b"]"
