"""What the simulators emit: readings and presence changes, and how they go on the wire.

A model produces metrics; the estate wraps them into :class:`Telemetry` (one reading of one
asset) and :class:`PresenceChange` (an asset starting or stopping to publish). Both know their
SPEC section 1 topic and payload, so the MQTT edge only moves bytes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import orjson

from facility_dispatch.ingest import topics
from facility_dispatch.kernel.readings import MetricValue

Metrics = dict[str, MetricValue | None]
"""Metric name -> value; ``None`` only for ``fault_code`` (JSON null: the fault has cleared)."""


class DeviceId(NamedTuple):
    """One simulated asset: where it is, what kind it is and its name."""

    site: str
    kind: str
    asset: str

    @property
    def telemetry_topic(self) -> str:
        return topics.telemetry(self.site, self.kind, self.asset)

    @property
    def status_topic(self) -> str:
        return topics.status(self.site, self.kind, self.asset)


def rfc3339_ms(ts_ms: int) -> str:
    """``2026-11-27T01:02:03.456Z``: the SPEC's timestamp form, in UTC."""
    seconds, millis = divmod(ts_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


class Telemetry(NamedTuple):
    """One reading of one asset, as a device would publish it."""

    site: str
    kind: str
    asset: str
    ts_ms: int
    seq: int
    metrics: Mapping[str, MetricValue | None]

    @property
    def device(self) -> DeviceId:
        return DeviceId(self.site, self.kind, self.asset)

    @property
    def topic(self) -> str:
        return topics.telemetry(self.site, self.kind, self.asset)

    def document(self) -> dict[str, object]:
        return {"ts": rfc3339_ms(self.ts_ms), "seq": self.seq, "metrics": dict(self.metrics)}

    def payload(self) -> bytes:
        """The JSON of SPEC section 1: ``{"ts": RFC 3339, "seq": n, "metrics": {...}}``."""
        return orjson.dumps(self.document())


class PresenceChange(NamedTuple):
    """An asset that started (``online``) or stopped (``offline``) publishing."""

    site: str
    kind: str
    asset: str
    online: bool

    @property
    def device(self) -> DeviceId:
        return DeviceId(self.site, self.kind, self.asset)

    @property
    def topic(self) -> str:
        return topics.status(self.site, self.kind, self.asset)

    def payload(self) -> bytes:
        return b"online" if self.online else b"offline"


class Message(NamedTuple):
    """Bytes for the broker: status messages are retained, telemetry is not."""

    topic: str
    payload: bytes
    retain: bool


@dataclass(frozen=True, slots=True)
class Tick:
    """Everything one step of a source produced: presence changes first, then readings."""

    ts_ms: int
    readings: tuple[Telemetry, ...]
    presence: tuple[PresenceChange, ...] = ()

    def messages(self) -> list[Message]:
        out = [Message(p.topic, p.payload(), True) for p in self.presence]
        out.extend(Message(r.topic, r.payload(), False) for r in self.readings)
        return out

    def reading(self, asset: str, site: str | None = None) -> Telemetry | None:
        """This tick's reading of ``asset`` (at ``site`` when several sites have one)."""
        for reading in self.readings:
            if reading.asset == asset and (site is None or reading.site == site):
                return reading
        return None

    def __iter__(self) -> Iterator[Telemetry]:
        return iter(self.readings)
