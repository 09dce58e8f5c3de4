"""Security against real services: per-site ACL on a real Mosquitto with the compose config,
and injection attempts through the API that must change nothing."""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from tests.services import ROOT, Broker, running_broker

DEPLOY = ROOT / "deploy" / "mosquitto"


@pytest.fixture
def secured_broker(tmp_path: Path) -> Broker:  # type: ignore[misc]
    passwords = tmp_path / "passwd"
    subprocess.run(
        ["sh", str(DEPLOY / "init.sh")],
        check=True,
        env={
            **os.environ,
            "PASSWORD_FILE": str(passwords),
            "FACILITY_MQTT_PASSWORD": "service-secret",
            "FACILITY_DEVICE_CREDENTIALS": "estate-a:a-secret,estate-b:b-secret",
        },
        stdout=subprocess.DEVNULL,
    )
    with running_broker(tmp_path / "broker", secured=(passwords, DEPLOY / "acl")) as broker:
        yield broker


def mqtt_client(broker: Broker, user: str | None, password: str | None) -> tuple[paho.Client, int]:
    done = threading.Event()
    outcome: list[int] = []
    c = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"sec-{uuid.uuid4().hex[:6]}",
        protocol=MQTTProtocolVersion.MQTTv311,
    )
    if user:
        c.username_pw_set(user, password)

    def on_connect(_c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        outcome.append(int(reason.value))  # type: ignore[attr-defined]
        done.set()

    c.on_connect = on_connect
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    done.wait(5)
    return c, outcome[0] if outcome else -1


@pytest.mark.broker
def test_a_device_publishes_only_under_its_own_site(secured_broker: Broker) -> None:
    received: list[str] = []
    service, code = mqtt_client(secured_broker, "facility", "service-secret")
    assert code == 0
    subscribed = threading.Event()
    service.on_message = lambda _c, _u, msg: received.append(msg.topic)
    service.on_subscribe = lambda *_a: subscribed.set()
    service.subscribe("facility/+/+/+/telemetry", qos=1)
    assert subscribed.wait(5)
    device, code = mqtt_client(secured_broker, "estate-a", "a-secret")
    assert code == 0
    device.publish(
        "facility/estate-a/water/pump-1/telemetry", b'{"metrics": {"pressure_bar": 3}}', qos=1
    ).wait_for_publish(5)
    device.publish(
        "facility/estate-b/water/pump-1/telemetry", b'{"metrics": {"pressure_bar": 0}}', qos=1
    ).wait_for_publish(5)
    device.publish("facility/estate-a/water/pump-1/alarm", b"[]", qos=1).wait_for_publish(
        5
    )  # not theirs to say
    marker, _ = mqtt_client(secured_broker, "estate-b", "b-secret")
    marker.publish("facility/estate-b/water/end/telemetry", b"{}", qos=1).wait_for_publish(5)
    deadline = threading.Event()
    deadline.wait(1.5)
    assert "facility/estate-a/water/pump-1/telemetry" in received
    assert "facility/estate-b/water/end/telemetry" in received  # estate-b's own account may
    assert "facility/estate-b/water/pump-1/telemetry" not in received  # estate-a's may not
    anonymous, code = mqtt_client(secured_broker, None, None)
    assert code != 0  # no anonymous access
    wrong, code = mqtt_client(secured_broker, "estate-a", "guess")
    assert code != 0
    for c in (service, device, marker, anonymous, wrong):
        c.loop_stop()
        c.disconnect()


@pytest.mark.broker
def test_injection_attempts_through_the_api_change_nothing(client: TestClient, site: str) -> None:
    before = {
        path: client.get(path).json()["total"]
        for path in ("/api/v1/assets", "/api/v1/alarms", "/api/v1/work-orders")
    }
    attempts = [
        ("/api/v1/assets", {"site": "x' OR '1'='1"}),
        ("/api/v1/alarms", {"site": "'; DROP TABLE alarms; --"}),
        ("/api/v1/work-orders", {"asset": "1 OR 1=1", "site": 'x"; DELETE FROM work_orders; --'}),
        ("/api/v1/dead-letters", {"reason": "' UNION SELECT * FROM api_tokens --"}),
    ]
    for path, params in attempts:
        answer = client.get(path, params=params)
        assert answer.status_code in (200, 422), answer.text
        if answer.status_code == 200:
            assert answer.json()["total"] == 0
    for path in (
        "/api/v1/assets/..%2F..%2Fetc/passwd",
        "/api/v1/assets/%2e%2e/%2e%2e/telemetry?metric=x",
        "/api/v1/work-orders/1%20OR%201=1",
        "/static/..%2F..%2Ffacility%2Fsettings.py",
    ):
        assert client.get(path).status_code in (404, 405, 422), path
    created = client.post(
        "/api/v1/work-orders",
        json={
            "site": site,
            "title": "'); DROP TABLE work_orders; --",
            "channel": "app",
            "skill": "general",
        },
    )
    assert created.status_code == 201
    assert (
        client.get(f"/api/v1/work-orders/{created.json()['id']}").json()["title"]
        == "'); DROP TABLE work_orders; --"
    )
    after = {
        path: client.get(path).json()["total"]
        for path in ("/api/v1/assets", "/api/v1/alarms", "/api/v1/work-orders")
    }
    assert after == {**before, "/api/v1/work-orders": before["/api/v1/work-orders"] + 1}
