"""The one MQTT client of the service (paho-mqtt 2, MQTT 5, QoS 1, persistent session).

Messages are acknowledged by hand, after the readings they carry are stored: if the process
dies before that, the broker still holds them for our session and delivers them again when we
come back, and the store's idempotent write keeps each reading once. paho's own loop thread
reconnects with backoff; on every connect we subscribe again (the broker may have lost the
session), so the service never exits because the broker went away.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from facility_dispatch.kernel.endpoint import MqttEndpoint

log = logging.getLogger(__name__)


class InboundMessage(NamedTuple):
    """A paho message turned into a value at once: no consumer ever touches paho.

    A NamedTuple because paho's thread builds one per message and the frozen dataclass cost
    1.8 µs a message, on the thread that bounds the whole ingest rate.
    """

    topic: str
    payload: bytes
    qos: int
    mid: int
    received_ms: int
    connection: int  # which connection delivered it: an ack is only valid on that one


MessageSink = Callable[[InboundMessage], None]
StateHook = Callable[["bool | None", int, "str | None"], None]
"""Told (connected, connection number, last error): None at each connect (messages of that
connection may come at once, before the subscriptions are confirmed), True once they are,
False at each disconnect."""


class BrokerConnection(Protocol):
    """What the service asks of its MQTT connection, in-process or in a process of its own."""

    last_error: str | None

    @property
    def connected(self) -> bool: ...

    @property
    def connection(self) -> int: ...

    def deliver_to(self, sink: MessageSink) -> None: ...

    def start(self) -> None: ...

    def wait_connected(self, timeout: float) -> bool: ...

    def stop(self, timeout: float = 5.0) -> None: ...

    def ack(self, messages: Iterable[InboundMessage]) -> None: ...

    def publish(
        self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False
    ) -> bool: ...


class ConnectionState:
    """What both connections (in-process, or paho in a process of its own) say about
    themselves: where messages go, whether connected, and which connection this is (an
    acknowledgement is only valid on the connection that received the message)."""

    _sink: MessageSink | None
    _connected: threading.Event
    _connection: int

    def deliver_to(self, sink: MessageSink) -> None:
        """Where received messages go; set before ``start``."""
        self._sink = sink

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def connection(self) -> int:
        return self._connection

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)


class _Client(paho.Client):
    """paho's client, with one wake-up of its network thread for a whole batch of acks.

    paho queues each acknowledgement and writes a byte to a socket pair to wake its thread:
    one system call and one turn of the network loop per message, on the thread that bounds
    the ingest rate. :meth:`ack_all` queues the batch's PUBACKs, then wakes the thread once.
    It leans on two private attributes of paho 2 (``_out_packet``, ``_sockpairW``); without
    them it falls back to acknowledging one by one.
    """

    _batching = threading.local()

    def _packet_queue(
        self, command: int, packet: bytes | bytearray, mid: int, qos: int, info: Any = None
    ) -> Any:
        if getattr(self._batching, "active", False):
            self._out_packet.append(
                {
                    "command": command,
                    "mid": mid,
                    "qos": qos,
                    "pos": 0,
                    "to_process": len(packet),
                    "packet": packet,
                    "info": info,
                }
            )
            return paho.MQTT_ERR_SUCCESS
        return super()._packet_queue(command, packet, mid, qos, info)

    def ack_all(self, mids: list[int]) -> None:
        wake = getattr(self, "_sockpairW", None)
        if wake is None or not hasattr(self, "_out_packet"):
            for mid in mids:
                self.ack(mid, 1)
            return
        self._batching.active = True
        try:
            for mid in mids:
                self.ack(mid, 1)
        finally:
            self._batching.active = False
        with contextlib.suppress(BlockingIOError):  # the thread is awake already
            wake.send(b"0")


class MqttConnection(ConnectionState):
    """Connects, subscribes, hands each message to ``sink``, acknowledges when told to."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        client_id: str,
        subscriptions: list[str],
        sink: MessageSink | None = None,
        *,
        protocol: str = "5",
        session_expiry: int = 7 * 24 * 3600,
        receive_maximum: int = 2000,
        persistent: bool = True,
        ca_file: str | None = None,
        will: tuple[str, bytes] | None = None,
        manual_ack: bool = True,
    ) -> None:
        self._endpoint = endpoint
        self._subscriptions = subscriptions
        self._sink = sink
        self._v5 = protocol == "5"
        self._persistent = persistent
        self._connection = 0
        self._connected = threading.Event()
        self._closing = False
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self._state_hook: StateHook | None = None
        self._unconfirmed: set[int] = set()  # subscriptions the broker has not acknowledged
        if self._v5:
            self._client = _Client(
                CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=MQTTProtocolVersion.MQTTv5,
                manual_ack=manual_ack,
            )
        else:
            self._client = _Client(
                CallbackAPIVersion.VERSION2,
                client_id=client_id,
                clean_session=not persistent,
                protocol=MQTTProtocolVersion.MQTTv311,
                manual_ack=manual_ack,
            )
        self._connect_properties: Properties | None = None
        if self._v5:
            props = Properties(PacketTypes.CONNECT)
            if persistent:
                props.SessionExpiryInterval = session_expiry
            # How many unacknowledged QoS 1 messages the broker may have out to us: we ack after
            # the batch is stored, so this window must be wider than a batch.
            props.ReceiveMaximum = receive_maximum
            self._connect_properties = props
        if endpoint.username:
            self._client.username_pw_set(endpoint.username, endpoint.password)
        if endpoint.tls:
            self._client.tls_set(ca_certs=ca_file, cert_reqs=ssl.CERT_REQUIRED)
        if will:
            self._client.will_set(will[0], will[1], qos=1, retain=True)
        self._client.max_queued_messages_set(0)
        self._client.max_inflight_messages_set(1000)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def on_state(self, hook: StateHook) -> None:
        """Called from paho's thread at each connect (after subscribing) and disconnect."""
        self._state_hook = hook

    def start(self) -> None:
        """Connect in the background; paho's thread keeps reconnecting until :meth:`stop`."""
        if self._v5:
            self._client.connect_async(
                self._endpoint.host,
                self._endpoint.port,
                keepalive=30,
                clean_start=not self._persistent,
                properties=self._connect_properties,
            )
        else:
            self._client.connect_async(self._endpoint.host, self._endpoint.port, keepalive=30)
        self._client.loop_start()

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect once every queued packet is out: paho's ``loop_stop`` ends its thread
        without writing what is queued, so PUBACKs queued just before would be lost and the
        broker would deliver those messages again (measured: 40 of a batch of 200)."""
        self._closing = True
        try:
            connected = self._connected.is_set()
            self._client.disconnect()  # queued behind the acks: written after them
            deadline = time.monotonic() + timeout
            while connected and self._connected.is_set() and time.monotonic() < deadline:
                time.sleep(0.01)  # until on_disconnect: the socket closed after DISCONNECT
        finally:
            self._client.loop_stop()
            self._connected.clear()

    def ack(self, messages: Iterable[InboundMessage]) -> None:
        """Acknowledge messages, in the order received, if their connection is still the one."""
        current = self._connection
        mids = [m.mid for m in messages if m.qos == 1 and m.connection == current]
        if mids:
            self._client.ack_all(mids)

    def ack_mids(self, connection: int, mids: list[int]) -> None:
        """Acknowledge QoS 1 messages by id, in order, if ``connection`` is still the one."""
        if mids and connection == self._connection:
            self._client.ack_all(mids)

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> bool:
        """Queue a message for the broker; False if paho refused it outright."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        return bool(info.rc == paho.MQTT_ERR_SUCCESS or info.rc == paho.MQTT_ERR_NO_CONN)

    def _on_connect(
        self,
        client: paho.Client,
        _userdata: Any,
        flags: Any,
        reason_code: Any,
        _properties: Any,
    ) -> None:
        if reason_code.is_failure:
            self.last_error = f"broker refused the connection: {reason_code}"
            log.error("MQTT %r: %s", self._endpoint, self.last_error)
            if self._state_hook is not None:
                self._state_hook(False, self._connection, self.last_error)
            return
        with self._lock:
            self._connection += 1
        self.last_error = None
        if self._state_hook is not None:
            self._state_hook(None, self._connection, None)
        # connected once the broker has taken every subscription (SUBACK): a device that
        # publishes the moment we say so must reach us, not a topic nobody holds yet
        self._unconfirmed = {
            mid
            for mid in (client.subscribe(topic, qos=1)[1] for topic in self._subscriptions)
            if mid is not None  # None: paho could not even queue it; the next connect tries
        }
        if not self._unconfirmed:
            self._ready()
        log.info(
            "MQTT connected to %r (session present: %s), subscribed to %s",
            self._endpoint,
            getattr(flags, "session_present", None),
            ", ".join(self._subscriptions) or "nothing",
        )

    def _on_subscribe(
        self, _client: paho.Client, _userdata: Any, mid: int, reason_codes: Any, _props: Any
    ) -> None:
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            self.last_error = f"broker refused a subscription: {refused[0]}"
            log.error("MQTT %r: %s", self._endpoint, self.last_error)
        self._unconfirmed.discard(mid)
        if not self._unconfirmed:
            self._ready()

    def _ready(self) -> None:
        self._connected.set()
        if self._state_hook is not None:
            self._state_hook(True, self._connection, None)

    def _on_disconnect(
        self, _client: paho.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any
    ) -> None:
        self._connected.clear()
        if not self._closing:
            self.last_error = f"disconnected: {reason_code}"
            log.warning("MQTT %r disconnected (%s); paho reconnects", self._endpoint, reason_code)
        if self._state_hook is not None:
            self._state_hook(False, self._connection, self.last_error)

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        if self._sink is None:
            return
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = msg._topic.decode("utf-8", errors="replace")
        self._sink(
            InboundMessage(
                topic,
                bytes(msg.payload),
                msg.qos,
                msg.mid,
                time.time_ns() // 1_000_000,
                self._connection,
            )
        )
