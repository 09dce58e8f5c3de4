"""Building a real service and real MQTT publishers for end-to-end tests."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from facility_dispatch.service import Service, build_service
from facility_dispatch.settings import Settings

ADMIN_TOKEN = "test-admin-token-0123456789"


def make_settings(
    data_dir: Path, mqtt_url: str, database_url: str | None = None, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "mqtt_url": mqtt_url,
        "mqtt_client_id": f"facility-test-{uuid.uuid4().hex[:8]}",
        "data_dir": data_dir,
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "http_port": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextmanager
def running_service(settings: Settings, **kwargs: Any) -> Iterator[Service]:
    service = build_service(settings, **kwargs)
    service.start()
    try:
        assert service.mqtt.wait_connected(10), "service did not connect to the broker"
        yield service
    finally:
        service.stop()


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s")


class Publisher:
    """A device-side MQTT client that waits for the broker's PUBACK of everything it sent."""

    def __init__(self, url: str, client_id: str | None = None) -> None:
        host, port = url.removeprefix("mqtt://").split(":")
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"device-{uuid.uuid4().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self._client.max_queued_messages_set(0)
        self._client.max_inflight_messages_set(100)
        self._connected = threading.Event()
        self._client.on_connect = lambda *a: self._connected.set()
        self._client.connect(host, int(port))
        self._client.loop_start()
        if not self._connected.wait(10):
            raise TimeoutError("publisher could not connect")

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(10)

    def publish_many(self, messages: Sequence[tuple[str, bytes]], qos: int = 1) -> None:
        window = 20_000  # paho's message ids wrap at 65,535
        for start in range(0, len(messages), window):
            infos = [
                self._client.publish(t, p, qos=qos) for t, p in messages[start : start + window]
            ]
            for info in infos:
                info.wait_for_publish(30)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@contextmanager
def publisher(url: str) -> Iterator[Publisher]:
    device = Publisher(url)
    try:
        yield device
    finally:
        device.close()
