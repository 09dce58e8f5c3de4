"""MQTT in, readings stored once: through a real Mosquitto, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from facility_dispatch.api.asset_views import AssetViews
from facility_dispatch.kernel.clock import to_ms
from tests.builders import make_settings, publisher, running_service, wait_until
from tests.services import Broker

pytestmark = pytest.mark.broker


def stamp(offset_s: float = 0) -> str:
    when = datetime.now(UTC) - timedelta(seconds=60) + timedelta(seconds=offset_s)
    return when.isoformat().replace("+00:00", "Z")


VALID = {
    "elevator": {"door_state": "closed", "car_floor": 3, "moving": True, "speed_mps": 1.6},
    "water": {"pressure_bar": 3.4, "flow_m3h": 12.0, "pump_running": True},
    "power": {"voltage_v": 221.5, "frequency_hz": 50.01, "mains_ok": True, "energy_kwh": 1234.5},
    "cctv": {"online": True, "fps": 25, "storage_used_pct": 62.0, "retention_days": 31},
}


def test_each_kind_lands_once_and_bad_input_is_dead_lettered(
    broker: Broker, tmp_path: Path, database_url: str
) -> None:
    site = f"e2e-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, database_url, sites=[site])
    with running_service(settings) as service, publisher(broker.url) as device:
        for kind, metrics in VALID.items():
            topic = f"facility/{site}/{kind}/{kind}-1/telemetry"
            payload = orjson.dumps({"ts": stamp(), "seq": 1, "metrics": metrics})
            device.publish(topic, payload)
            device.publish(topic, payload)  # a device's own retry: the same reading again
        device.publish(f"facility/{site}/water/water-1/telemetry", b"{oops")
        device.publish(
            f"facility/{site}/water/water-1/telemetry",
            orjson.dumps({"ts": stamp(1), "metrics": {"pressure_bar": 99}}),
        )
        device.publish(f"facility/{site}/boiler/b-1/telemetry", b"{}")  # not a kind we know
        wait_until(lambda: service.dead_letters.list()[1] >= 3)
        wait_until(lambda: len(service.assets.query(site)[0]) == 4)

        for kind, metrics in VALID.items():
            record = service.assets.get(site, f"{kind}-1")
            assert record is not None and record.kind == kind
            points = service.store.history(
                site, f"{kind}-1", next(iter(metrics)), 0, to_ms(datetime.now(UTC))
            )
            assert len(points) == 1, kind  # the repeat was a duplicate
        letters, total = service.dead_letters.list()
        assert total == 3
        assert sorted(d.reason for d in letters) == ["bad_topic", "invalid_json", "out_of_range"]
        by_reason = {d.reason: d for d in letters}
        assert by_reason["out_of_range"].payload_head.startswith('{"ts"')
        assert "boiler" in by_reason["bad_topic"].detail


def test_strict_policy_takes_only_registered_assets(broker: Broker, tmp_path: Path) -> None:
    site = f"strict-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site], asset_policy="strict")
    with running_service(settings) as service, publisher(broker.url) as device:
        service.register_asset(site, "pump-1", "water", "Booster pump 1", "B3")
        for asset in ("pump-1", "pump-2"):
            device.publish(
                f"facility/{site}/water/{asset}/telemetry",
                orjson.dumps({"ts": stamp(), "metrics": {"pressure_bar": 3.0}}),
            )
        wait_until(lambda: service.dead_letters.list("unknown_asset")[1] == 1)
        wait_until(
            lambda: getattr(service.assets.get(site, "pump-1"), "last_seen", None) is not None
        )
        assert service.assets.get(site, "pump-2") is None
        letter = service.dead_letters.list("unknown_asset")[0][0]
        assert letter.topic.endswith("/pump-2/telemetry")
        assert "not registered" in letter.detail


def test_presence_from_the_status_topic(broker: Broker, tmp_path: Path) -> None:
    site = f"presence-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site])
    with running_service(settings) as service, publisher(broker.url) as device:
        device.publish(f"facility/{site}/cctv/cam-1/status", b"online")
        wait_until(lambda: getattr(service.assets.get(site, "cam-1"), "online", None) is True)
        device.publish(f"facility/{site}/cctv/cam-1/status", b"offline")
        wait_until(lambda: getattr(service.assets.get(site, "cam-1"), "online", None) is False)
        record = service.assets.get(site, "cam-1")
        assert record is not None
        assert AssetViews.of(service).status(record) == "offline"
        changes = [
            e.payload["online"]
            for e in service.events.since(0, site=site)
            if e.type == "asset.presence"
        ]
        assert changes == [True, False]  # the dashboard's tiles follow these live


def test_a_restart_in_the_middle_of_a_stream_loses_nothing(broker: Broker, tmp_path: Path) -> None:
    """Readings published while the service is down wait in its persistent session."""
    site = f"restart-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site])
    base = datetime.now(UTC) - timedelta(minutes=2)

    def batch(start: int, end: int) -> list[tuple[str, bytes]]:
        return [
            (
                f"facility/{site}/water/pump-{i % 5}/telemetry",
                orjson.dumps(
                    {
                        "ts": to_ms(base) + i,
                        "seq": i,
                        "metrics": {"pressure_bar": 3.0, "flow_m3h": float(i % 100)},
                    }
                ),
            )
            for i in range(start, end)
        ]

    def stored(service: object) -> int:
        return sum(
            len(service.store.history(site, f"pump-{p}", "flow_m3h", 0, 2**62))  # type: ignore[attr-defined]
            for p in range(5)
        )

    with publisher(broker.url) as device:
        with running_service(settings) as service:
            device.publish_many(batch(0, 1500))
        # the service is down: these wait in the broker for its session
        device.publish_many(batch(1500, 3000))
        with running_service(settings) as service:
            device.publish_many(batch(3000, 4000))
            wait_until(lambda: stored(service) == 4000, timeout=30)
            # the first run acknowledged what it stored: nothing came back as a duplicate
            duplicates = service.metrics_registry.get_sample_value(
                "facility_readings_duplicate_total"
            )
            assert duplicates == 0
        with running_service(settings) as service:
            assert stored(service) == 4000


def test_the_service_survives_a_broker_restart(own_broker: Broker, tmp_path: Path) -> None:
    site = f"brk-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, own_broker.url, sites=[site])
    base = to_ms(datetime.now(UTC) - timedelta(minutes=2))

    def message(i: int) -> tuple[str, bytes]:
        return (
            f"facility/{site}/power/board-1/telemetry",
            orjson.dumps({"ts": base + i, "seq": i, "metrics": {"voltage_v": 220.0}}),
        )

    def count(service: object) -> int:
        return len(service.store.history(site, "board-1", "voltage_v", 0, 2**62))  # type: ignore[attr-defined]

    with running_service(settings) as service:
        with publisher(own_broker.url) as device:
            device.publish_many([message(i) for i in range(200)])
        wait_until(lambda: count(service) == 200)
        own_broker.restart(pause=1.0)
        wait_until(lambda: service.mqtt.connected, timeout=40)
        with publisher(own_broker.url) as device:
            device.publish_many([message(i) for i in range(200, 400)])
        wait_until(lambda: count(service) == 400, timeout=20)
