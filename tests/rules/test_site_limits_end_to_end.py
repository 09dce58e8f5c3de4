"""A site's nominal voltage, set through the API, is what the running service's sag and swell
limits follow (issue 17: a 230 V supply is not a swell)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from facility_dispatch.api.app import create_app
from facility_dispatch.kernel.clock import to_ms
from facility_dispatch.service import build_service
from tests.builders import ADMIN_TOKEN, make_settings, publisher, wait_until
from tests.services import Broker

pytestmark = pytest.mark.broker


def supply(site: str, volts: float, seconds_ago: float) -> tuple[str, bytes]:
    ts = to_ms(datetime.now(UTC) - timedelta(seconds=seconds_ago))
    payload = {"ts": ts, "metrics": {"voltage_v": volts, "mains_ok": True}}
    return f"facility/{site}/power/board-1/telemetry", orjson.dumps(payload)


def test_the_swell_limit_follows_the_sites_nominal_voltage(broker: Broker, tmp_path: Path) -> None:
    at_230, at_220 = (f"volts-{uuid.uuid4().hex[:6]}" for _ in range(2))
    settings = make_settings(tmp_path, broker.url, sites=[at_230, at_220])
    app = create_app(build_service(settings))
    with TestClient(app) as client, publisher(broker.url) as device:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        put = client.put(
            f"/api/v1/sites/{at_230}", json={"name": "Riverside", "nominal_voltage_v": 230}
        )
        assert put.status_code == 200 and put.json()["nominal_voltage_v"] == 230
        assert put.json()["nominal_frequency_hz"] == 50
        bad = client.put(f"/api/v1/sites/{at_230}", json={"name": "R", "nominal_voltage_v": -1})
        assert bad.status_code == 422 and "nominal_voltage_v" in bad.text
        service = app.state.service
        assert service.mqtt.wait_connected(10)
        # the runner reads the sites' parameters every few seconds
        wait_until(lambda: service.rules.engine.parameters(at_230)["nominal_voltage_v"] == 230)
        for site in (at_230, at_220):
            for second in range(30, -1, -1):  # 245 V for 30 s: +6.5% of 230, +11% of 220
                device.publish(*supply(site, 245.0, second))
        wait_until(
            lambda: client.get("/api/v1/alarms", params={"site": at_220}).json()["total"] == 1
        )
        (swell,) = client.get("/api/v1/alarms", params={"site": at_220}).json()["items"]
        assert swell["fault"] == "voltage_swell"
        assert client.get("/api/v1/alarms", params={"site": at_230}).json()["total"] == 0
