"""The simulators' MQTT edge: paho-mqtt 2 clients set up as devices should be.

Every client keeps an unbounded outgoing queue (``max_queued_messages_set(0)``): a QoS 1
reading published while the broker is away stays queued in paho and is sent again after the
reconnect, so a broker restart loses no reading. MQTT 5 is the default; ``protocol="3.1.1"``
is for brokers that speak only that (the demo's embedded amqtt).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from typing import Any, Final

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from facility_dispatch.kernel.endpoint import MqttEndpoint
from facility_dispatch.simulators.errors import SimulatorError
from facility_dispatch.simulators.telemetry import DeviceId

log = logging.getLogger(__name__)

PROTOCOLS: Final = ("5", "3.1.1")
KEEPALIVE_S: Final = 30


def endpoint(url: str) -> MqttEndpoint:
    """Parse ``mqtt://user:pass@host:1883`` (``mqtts://`` for TLS)."""
    try:
        return MqttEndpoint(url)
    except ValueError as error:
        raise SimulatorError(str(error)) from None


def make_client(
    where: MqttEndpoint,
    client_id: str,
    *,
    protocol: str = "5",
    will: tuple[str, bytes] | None = None,
) -> paho.Client:
    """A paho client with an unbounded queue, a retained last will and paho's reconnect."""
    if protocol not in PROTOCOLS:
        raise SimulatorError(f"MQTT protocol {protocol!r}: use 5 or 3.1.1")
    if protocol == "5":
        client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
        )
    else:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=True,
            protocol=MQTTProtocolVersion.MQTTv311,
        )
    if where.username:
        client.username_pw_set(where.username, where.password)
    if where.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    if will is not None:
        client.will_set(will[0], will[1], qos=1, retain=True)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    return client


class DeviceLink:
    """One simulated device's own connection.

    On every (re)connect it publishes its presence retained (``online``, or ``offline`` while
    the simulated device is down); its last will is a retained ``offline``, so a simulator
    that dies or loses the network shows as offline. A clean stop says ``offline`` itself.
    """

    def __init__(
        self,
        device: DeviceId,
        where: MqttEndpoint,
        *,
        client_id: str,
        protocol: str = "5",
        qos: int = 1,
    ) -> None:
        self.device = device
        self.online = True
        self._where = where
        self._qos = qos
        self._closing = False
        self._connected = threading.Event()
        self._client = make_client(
            where, client_id, protocol=protocol, will=(device.status_topic, b"offline")
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        """Connect in the background; paho's thread reconnects until :meth:`close`."""
        self._client.connect_async(self._where.host, self._where.port, keepalive=KEEPALIVE_S)
        self._client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=self._qos, retain=retain)

    def set_online(self, online: bool) -> None:
        """The simulated device came up or went down: say so on its status topic."""
        if online != self.online:
            self.online = online
            self._client.publish(self.device.status_topic, _presence(online), qos=1, retain=True)

    def close(self, timeout: float = 5.0) -> None:
        """Say ``offline``, let queued readings go out, disconnect, stop paho's thread."""
        self.disconnect(timeout)
        self.join()

    def disconnect(self, timeout: float = 5.0) -> None:
        """Say ``offline`` and disconnect, without waiting for paho's thread to end.

        A link that is reconnecting gets up to ``timeout`` to come back first, so the readings
        paho queued while the broker was away are delivered rather than dropped.
        """
        self._closing = True
        deadline = time.monotonic() + timeout
        self._connected.wait(timeout)
        info = self._client.publish(self.device.status_topic, b"offline", qos=1, retain=True)
        if self.connected:
            try:
                info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            except (RuntimeError, ValueError):
                log.warning("%s: offline status not confirmed before closing", self.device.asset)
        self._client.disconnect()

    def join(self) -> None:
        """Wait for paho's thread to end (after :meth:`disconnect`; up to a second)."""
        self._client.loop_stop()
        self._connected.clear()

    def _on_connect(
        self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("%s: broker refused the connection: %s", self.device.asset, reason)
            return
        client.publish(self.device.status_topic, _presence(self.online), qos=1, retain=True)
        self._connected.set()

    def _on_disconnect(
        self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if self._connected.is_set() and not self._closing:
            log.warning("%s: disconnected (%s); paho reconnects", self.device.asset, reason)
        self._connected.clear()


def _presence(online: bool) -> bytes:
    return b"online" if online else b"offline"
