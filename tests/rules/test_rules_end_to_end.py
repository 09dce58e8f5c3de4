"""Readings over MQTT become alarms: stored, published retained, listed, acknowledged, and
neither lost nor doubled by a restart; rules reload while running."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import paho.mqtt.client as paho
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from facility_dispatch.api.app import create_app
from facility_dispatch.kernel.clock import to_ms
from facility_dispatch.service import build_service
from tests.builders import ADMIN_TOKEN, make_settings, publisher, running_service, wait_until
from tests.services import Broker

pytestmark = pytest.mark.broker


def now_ms(offset_s: float = 0) -> int:
    return to_ms(datetime.now(UTC) + timedelta(seconds=offset_s))


def leak(site: str, wet: bool, offset_s: float = 0) -> tuple[str, bytes]:
    payload = {"ts": now_ms(offset_s), "metrics": {"leak_detected": wet, "pressure_bar": 3.2}}
    return f"facility/{site}/water/pump-1/telemetry", orjson.dumps(payload)


def retained(broker: Broker, topic: str) -> list[dict[str, object]] | None:
    got: list[bytes] = []
    done = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2)

    def on_message(_c: object, _u: object, msg: paho.MQTTMessage) -> None:
        got.append(msg.payload)
        done.set()

    client.on_message = on_message
    client.connect("127.0.0.1", broker.port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    done.wait(5)
    client.loop_stop()
    client.disconnect()
    return orjson.loads(got[-1]) if got else None


def test_alarm_from_mqtt_to_api_and_back_out_on_mqtt(broker: Broker, tmp_path: Path) -> None:
    site = f"rules-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site])
    app = create_app(build_service(settings))
    with TestClient(app) as client, publisher(broker.url) as device:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        assert app.state.service.mqtt.wait_connected(10)
        device.publish(*leak(site, True))
        wait_until(lambda: client.get("/api/v1/alarms", params={"site": site}).json()["total"] == 1)
        alarm = client.get("/api/v1/alarms", params={"site": site, "state": "firing"}).json()[
            "items"
        ][0]
        assert (alarm["fault"], alarm["severity"], alarm["rule_id"]) == (
            "leak",
            "major",
            "water-leak",
        )
        assert alarm["value"] is True
        detail = client.get(f"/api/v1/assets/{site}/pump-1")
        assert detail.json().get("status") == "alarm", detail.text
        # the state is published after the alarm is committed: it may reach the broker a moment
        # after the API has it
        topic = f"facility/{site}/water/pump-1/alarm"
        wait_until(lambda: [a["fault"] for a in retained(broker, topic) or []] == ["leak"])

        acked = client.post(f"/api/v1/alarms/{alarm['id']}/ack", json={"note": "plumber called"})
        assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "admin"
        again = client.post(f"/api/v1/alarms/{alarm['id']}/ack")
        assert again.status_code == 409
        assert client.post("/api/v1/alarms/999999/ack").status_code == 404

        device.publish(*leak(site, False, 1))
        wait_until(
            lambda: client.get(f"/api/v1/alarms/{alarm['id']}").json()["state"] == "resolved"
        )
        wait_until(lambda: retained(broker, topic) == [])
        metrics = client.get("/metrics").text
        assert "facility_alarms_firing 0.0" in metrics
        assert 'facility_alarm_changes_total{change="firing"} 1.0' in metrics


def test_events_stream_and_resume_by_id(broker: Broker, tmp_path: Path) -> None:
    site = f"sse-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site])
    app = create_app(build_service(settings))
    with TestClient(app) as client, publisher(broker.url) as device:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        assert app.state.service.mqtt.wait_connected(10)
        device.publish(*leak(site, True))
        device.publish(*leak(site, False, 1))
        wait_until(lambda: len(app.state.service.events.since(0)) >= 2)
        with client.stream("GET", "/api/v1/events", params={"since": 0}) as stream:
            lines: list[str] = []
            for line in stream.iter_lines():
                lines.append(line)
                if sum(1 for x in lines if x.startswith("data: ")) == 2:
                    break
        ids = [int(x.removeprefix("id: ")) for x in lines if x.startswith("id: ")]
        assert [x.removeprefix("event: ") for x in lines if x.startswith("event: ")] == [
            "alarm.fired",
            "alarm.resolved",
        ]
        with client.stream(
            "GET", "/api/v1/events", headers={"Last-Event-ID": str(ids[0])}
        ) as stream:
            for line in stream.iter_lines():
                if line.startswith("id: "):
                    assert int(line.removeprefix("id: ")) == ids[1]  # resumes without a gap
                    break
        assert client.get("/api/v1/events", headers={"Authorization": ""}).status_code == 401


def test_restart_restores_firing_alarms_without_firing_twice(
    broker: Broker, tmp_path: Path
) -> None:
    site = f"restore-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site])
    with publisher(broker.url) as device:
        with running_service(settings) as service:
            device.publish(*leak(site, True))
            wait_until(lambda: service.alarms.query(site=site, state="firing")[1] == 1)
        with running_service(settings) as service:
            device.publish(*leak(site, True, 1))  # still wet: the same episode
            wait_until(lambda: service.directory.latest(site, "pump-1") is not None)
            wait_until(lambda: service.pipeline.queue_depth == 0)
            assert service.alarms.query(site=site)[1] == 1
            device.publish(*leak(site, False, 2))
            wait_until(lambda: service.alarms.query(site=site, state="resolved")[1] == 1)
            assert service.alarms.query(site=site)[1] == 1


def test_an_alarm_whose_change_was_lost_fires_on_restart(broker: Broker, tmp_path: Path) -> None:
    """The reading was stored but the process died before the alarm was written."""
    site = f"lost-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site])
    with running_service(settings) as service:
        service.alarms.apply = lambda changes: []  # type: ignore[method-assign]  # the crash
        with publisher(broker.url) as device:
            device.publish(*leak(site, True))
        wait_until(lambda: service.directory.latest(site, "pump-1") is not None)
    with running_service(settings) as service:
        assert service.alarms.query(site=site, state="firing")[1] == 1


def test_rules_reload_on_change_and_a_bad_file_is_refused(broker: Broker, tmp_path: Path) -> None:
    site = f"reload-{uuid.uuid4().hex[:6]}"
    rules_file = tmp_path / "rules.yaml"
    rule = (
        "rules:\n  - id: low\n    kind: water\n"
        "    condition: {metric: pressure_bar, op: '<', value: %s}\n"
        "    severity: major\n    fault: low_pressure\n"
    )
    rules_file.write_text(rule % "1.5")
    settings = make_settings(tmp_path, broker.url, sites=[site], rules=rules_file)
    with running_service(settings) as service, publisher(broker.url) as device:
        rules_file.write_text(
            "rules:\n  - id: low\n    kind: water\n    condition: {metric: nope}\n"
        )
        service.rules.request_reload()
        wait_until(lambda: service.rules.last_refusal is not None)
        assert "rule 'low'" in service.rules.last_refusal  # type: ignore[operator]
        payload = {"ts": now_ms(), "metrics": {"pressure_bar": 1.0}}
        device.publish(f"facility/{site}/water/pump-1/telemetry", orjson.dumps(payload))
        wait_until(lambda: service.alarms.query(site=site, state="firing")[1] == 1)  # old rules
        rules_file.write_text(rule % "0.5")  # the file watcher picks this up by itself
        wait_until(lambda: service.rules.engine.ruleset.rules[0].condition.value == 0.5)  # type: ignore[union-attr]
        wait_until(lambda: service.alarms.query(site=site, state="resolved")[1] == 1)
