"""The batched acknowledgement path is the one taken with the pinned paho: a batch of PUBACKs
wakes paho's network thread once, not once per message, and the broker takes them (it does
not deliver the messages again to the same session)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from facility_dispatch.ingest.mqtt import InboundMessage, MqttConnection
from facility_dispatch.kernel.endpoint import MqttEndpoint
from tests.builders import publisher, wait_until
from tests.services import Broker

pytestmark = pytest.mark.broker


class CountingWake:
    """Stands in front of paho's wake-up socket and counts the wake-ups."""

    def __init__(self, socket: Any) -> None:
        self._socket = socket
        self.sends = 0

    def send(self, data: bytes) -> int:
        self.sends += 1
        return int(self._socket.send(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._socket, name)


def test_a_batch_of_acks_wakes_paho_once_and_the_broker_takes_them(broker: Broker) -> None:
    client_id = f"acks-{uuid.uuid4().hex[:6]}"
    topic = f"facility/acks-{uuid.uuid4().hex[:6]}/water/p1/telemetry"
    received: list[InboundMessage] = []
    lock = threading.Lock()

    def sink(message: InboundMessage) -> None:
        with lock:
            received.append(message)

    def connect() -> MqttConnection:
        connection = MqttConnection(MqttEndpoint(broker.url), client_id, [topic], sink)
        connection.start()
        assert connection.wait_connected(10)
        return connection

    connection = connect()
    client = connection._client
    assert hasattr(client, "_out_packet") and hasattr(client, "_sockpairW")  # paho as pinned
    with publisher(broker.url) as device:
        for n in range(200):
            device.publish(topic, b'{"metrics": {"pressure_bar": %d}}' % n)
    wait_until(lambda: len(received) == 200)

    wake = CountingWake(client._sockpairW)
    client._sockpairW = wake
    connection.ack(list(received))
    assert wake.sends == 1  # one wake-up for 200 PUBACKs (paho's own ack wakes once each)
    client._sockpairW = wake._socket
    connection.stop()

    received.clear()
    again = connect()  # the same session: anything unacknowledged would come again
    try:
        with publisher(broker.url) as device:
            device.publish(topic, b'{"metrics": {"pressure_bar": 1}}')
        wait_until(lambda: len(received) >= 1)
        again.wait_connected(1)
        threading.Event().wait(0.5)  # time for any redelivery to arrive behind it
        assert [m.payload for m in received] == [b'{"metrics": {"pressure_bar": 1}}']
    finally:
        again.stop()
