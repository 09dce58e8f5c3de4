"""paho in a process of its own (ingest/receiver.py), against the real broker: messages reach
the service in the order the broker sent them, only what the service acknowledged is taken
off the broker, the child goes when it is told or when the service dies, and a child that
dies is replaced without losing a reading."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest

from facility_dispatch.ingest.mqtt import InboundMessage
from facility_dispatch.ingest.receiver import GENERATION, ReceiverProcess
from facility_dispatch.kernel.endpoint import MqttEndpoint
from tests.builders import make_settings, publisher, running_service, wait_until
from tests.services import Broker

pytestmark = pytest.mark.broker


class Inbox:
    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self._lock = threading.Lock()

    def __call__(self, message: InboundMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def payloads(self) -> list[bytes]:
        with self._lock:
            return [m.payload for m in self.messages]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie until its parent waits for it: gone all the same
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:  # reaped while we read: ENOENT, or ESRCH from the read itself
        return True


def receiver(broker: Broker, client_id: str, topic: str, inbox: Inbox) -> ReceiverProcess:
    connection = ReceiverProcess(MqttEndpoint(broker.url), client_id, [topic], inbox)
    connection.start()
    assert connection.wait_connected(10)
    return connection


def test_messages_come_in_order_and_only_the_unacknowledged_come_again(broker: Broker) -> None:
    client_id = f"recv-{uuid.uuid4().hex[:6]}"
    site = f"recv-{uuid.uuid4().hex[:6]}"
    topic = f"facility/{site}/+/+/telemetry"
    inbox = Inbox()
    first = receiver(broker, client_id, topic, inbox)
    child = first.pid
    assert child is not None and child != os.getpid()
    sent = [b'{"seq": %d}' % n for n in range(300)]
    with publisher(broker.url) as device:
        for n, payload in enumerate(sent):
            device.publish(f"facility/{site}/water/pump-{n % 3}/telemetry", payload)
    wait_until(lambda: len(inbox.payloads()) == 300)
    assert inbox.payloads() == sent  # one publisher: the broker keeps its order, and so do we
    os.kill(child, signal.SIGTERM)  # a supervisor's SIGTERM to the group: left to the service
    time.sleep(0.3)
    assert not gone(child) and first.connected
    first.ack(inbox.messages[:150])
    first.stop()
    assert gone(child)

    again = Inbox()
    second = receiver(broker, client_id, topic, again)
    try:
        wait_until(lambda: len(again.payloads()) >= 150)
        time.sleep(0.5)  # anything acknowledged coming again would arrive by now
        assert again.payloads() == sent[150:]
    finally:
        second.stop()


def test_the_child_publishes_for_the_service(broker: Broker) -> None:
    site = f"recv-{uuid.uuid4().hex[:6]}"
    topic = f"facility/{site}/water/pump-1/alarm"
    heard = Inbox()
    listener = receiver(broker, f"listen-{uuid.uuid4().hex[:6]}", topic, heard)
    speaker = receiver(broker, f"speak-{uuid.uuid4().hex[:6]}", f"facility/{site}/nothing", Inbox())
    try:
        assert speaker.publish(topic, b'{"state": "firing"}')
        wait_until(lambda: heard.payloads() == [b'{"state": "firing"}'])
    finally:
        speaker.stop()
        listener.stop()
    assert not speaker.publish(topic, b"{}")  # stopped: refused, not lost in a dead pipe


def test_a_child_that_dies_is_replaced_and_no_reading_is_lost(
    broker: Broker, tmp_path: Path
) -> None:
    site = f"recv-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site])
    with running_service(settings) as service, publisher(broker.url) as device:

        def send(first: int, count: int) -> None:
            for n in range(first, first + count):
                device.publish(
                    f"facility/{site}/water/pump-{n % 4}/telemetry",
                    b'{"ts": %d, "metrics": {"pressure_bar": 3.2}}' % (1_795_746_000_000 + n),
                )

        stored = service.pipeline._metrics.stored
        send(0, 200)
        wait_until(lambda: stored._value.get() >= 200)
        child = service.mqtt.pid  # type: ignore[attr-defined]
        os.kill(child, signal.SIGKILL)
        wait_until(lambda: gone(child))
        send(200, 200)  # while the service has no child: the broker keeps them
        wait_until(lambda: service.mqtt.connected and service.mqtt.pid not in (None, child))  # type: ignore[attr-defined]
        send(400, 200)
        wait_until(lambda: stored._value.get() >= 600)
        assert service.mqtt.connection > GENERATION  # a new child, a new connection
        assert service.store.count() == 600  # type: ignore[attr-defined]


def test_the_in_process_connection_is_still_there(broker: Broker, tmp_path: Path) -> None:
    """FACILITY_MQTT_RECEIVER_PROCESS=false: paho on a thread of the service's own process."""
    site = f"recv-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site], mqtt_receiver_process=False)
    with running_service(settings) as service, publisher(broker.url) as device:
        assert not hasattr(service.mqtt, "pid")
        for n in range(50):
            device.publish(
                f"facility/{site}/water/pump-1/telemetry",
                b'{"ts": %d, "metrics": {"pressure_bar": 3.2}}' % (1_795_746_000_000 + n),
            )
        wait_until(lambda: service.pipeline._metrics.stored._value.get() >= 50)


def test_messages_waiting_at_a_reconnection_are_acknowledged_on_it(own_broker: Broker) -> None:
    """After the broker restarts, the session's queued messages come right after CONNACK,
    before the SUBACK that says the connection is ready. The service stores and acknowledges
    them at once (here: the moment they arrive); each must be acknowledged on the connection
    that brought it, or the broker keeps it in flight and, its window full, sends nothing
    more (the soak stalled so after a reconnect)."""
    client_id = f"recv-{uuid.uuid4().hex[:6]}"
    site = f"recv-{uuid.uuid4().hex[:6]}"
    topic = f"facility/{site}/+/+/telemetry"
    inbox = Inbox()
    holder: list[ReceiverProcess] = []

    def store_and_ack(message: InboundMessage) -> None:
        inbox(message)
        holder[0].ack([message])

    first = ReceiverProcess(MqttEndpoint(own_broker.url), client_id, [topic], store_and_ack)
    holder.append(first)
    first.start()
    assert first.wait_connected(10)
    own_broker.stop()  # the session (with its subscription) is persisted
    own_broker.start()
    sent = [b'{"seq": %d}' % n for n in range(300)]
    with publisher(own_broker.url) as device:  # before paho is back: they wait in the session
        for n, payload in enumerate(sent):
            device.publish(f"facility/{site}/water/pump-{n % 3}/telemetry", payload)
    wait_until(lambda: len(inbox.payloads()) >= 300 and first.connected, timeout=60)
    assert first.connection == 2
    time.sleep(0.5)  # the acknowledgements on their way out
    first.stop()

    again = Inbox()
    second = receiver(own_broker, client_id, topic, again)
    try:
        time.sleep(1.0)  # anything left unacknowledged would come again by now
        assert again.payloads() == []
    finally:
        second.stop()
