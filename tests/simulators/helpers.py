"""Shared helpers for the simulator tests: the service's own validator, simulated clocks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from facility_dispatch.ingest import topics
from facility_dispatch.ingest.catalogue import counters
from facility_dispatch.ingest.decoding import DecodePolicy, decode_telemetry
from facility_dispatch.kernel.readings import Reading
from facility_dispatch.simulators.telemetry import Tick

MORNING = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
"""10:00 in Asia/Shanghai: lifts busy, water and power on their daytime curves."""
NIGHT = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)
"""03:00 in Asia/Shanghai: minimum night flow, lowest load."""


def decode_all(topic: str, payload: bytes, received_ms: int) -> list[Reading]:
    """Readings of one message through ``ingest.decoding``; any rejection fails the test."""
    decoded = decode_telemetry(topics.parse(topic), payload, received_ms, DecodePolicy())
    assert not decoded.rejections, (topic, payload[:300], decoded.rejections)
    return list(decoded.readings)


def decode_tick(tick: Tick) -> list[Reading]:
    """Every reading of a tick, decoded by the service as if received at the tick's time."""
    out: list[Reading] = []
    for message in tick.messages():
        if not message.retain:
            out.extend(decode_all(message.topic, message.payload, tick.ts_ms))
    return out


class CounterCheck:
    """Asserts that every counter metric of every asset never decreases."""

    def __init__(self) -> None:
        self.last: dict[tuple[str, str, str], float] = {}
        self.checked = 0

    def feed(self, readings: Iterable[Reading]) -> None:
        for reading in readings:
            for name in counters(reading.kind):
                if name in reading.metrics:
                    value = float(reading.metrics[name])
                    key = (reading.site, reading.asset, name)
                    assert value >= self.last.get(key, 0.0), (key, value, self.last.get(key))
                    self.last[key] = value
                    self.checked += 1


def every(start: datetime, seconds: float, step: float = 1.0) -> Iterable[datetime]:
    n = 0
    while n * step <= seconds:
        yield start + timedelta(seconds=n * step)
        n += 1


class Subscriber:
    """A raw paho subscriber that records what it gets (QoS 1, optionally a kept session)."""

    def __init__(
        self,
        port: int,
        topic: str,
        *,
        client_id: str | None = None,
        persistent: bool = False,
        on_message: Callable[[paho.MQTTMessage], None] | None = None,
    ) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._extra = on_message
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-sub-{time.time_ns()}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        props: Properties | None = None
        if persistent:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600
        self._props = props
        self._persistent = persistent
        self._topic = topic
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_args: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 2)
        self.client.connect_async("127.0.0.1", port, clean_start=not persistent, properties=props)
        self.client.loop_start()
        assert self._subscribed.wait(10), "subscriber did not subscribe"

    def _on_connect(self, client: paho.Client, *_args: Any) -> None:
        client.subscribe(self._topic, qos=1)

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))
        if self._extra is not None:
            self._extra(msg)

    def snapshot(self) -> list[tuple[str, bytes, bool]]:
        with self._lock:
            return list(self.messages)

    def wait_for(
        self, predicate: Callable[[list[tuple[str, bytes, bool]]], bool], timeout: float
    ) -> list[tuple[str, bytes, bool]]:
        """Poll the received messages until ``predicate`` holds (real network: must wait)."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.snapshot()
            if predicate(seen):
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; {len(seen)} messages received")
            time.sleep(0.05)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def statuses(messages: list[tuple[str, bytes, bool]]) -> dict[str, str]:
    """The last status payload per asset topic prefix."""
    out: dict[str, str] = {}
    for topic, payload, _retain in messages:
        if topic.endswith("/status"):
            out[topic.rsplit("/", 1)[0]] = payload.decode()
    return out


def now_ms() -> int:
    return time.time_ns() // 1_000_000
