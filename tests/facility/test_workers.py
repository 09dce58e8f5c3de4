"""A service whose ingest thread has died says so: health degraded, not ready, and the
server stops (``facility run`` then exits 1) rather than answer health checks headless."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from facility_dispatch.api.app import create_app
from facility_dispatch.cli import _serve
from facility_dispatch.service import build_service
from tests.builders import make_settings, publisher, wait_until
from tests.services import Broker, free_port

pytestmark = [
    pytest.mark.broker,
    # the thread is meant to die here: pytest would report its exception as a warning
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]


def test_a_dead_ingest_thread_makes_health_degraded_and_the_server_stop(
    broker: Broker, tmp_path: Path
) -> None:
    site = "workers-1"
    service = build_service(make_settings(tmp_path, broker.url, sites=[site]))
    app = create_app(service)

    def fatal(_readings: object) -> None:
        raise SystemExit("a consumer that takes the thread down with it")

    with TestClient(app) as client:
        assert service.mqtt.wait_connected(10)
        assert client.get("/api/v1/health").json()["stopped_workers"] == []
        service.pipeline.on_readings(fatal)  # type: ignore[arg-type]
        with publisher(broker.url) as device:
            device.publish(
                f"facility/{site}/water/p1/telemetry",
                orjson.dumps({"metrics": {"pressure_bar": 3.0}}),
            )
        wait_until(lambda: not service.pipeline.alive, timeout=10)
        health = client.get("/api/v1/health").json()
        assert health["status"] == "degraded"
        assert health["stopped_workers"] == ["ingest"]
        assert client.get("/api/v1/health/ready").status_code == 503

        # the server's watch sees it within a few seconds and stops, reporting failure
        outcome: list[bool] = []
        watched = create_app(service, manage_service=False)
        server = threading.Thread(
            target=lambda: outcome.append(
                _serve(watched, "127.0.0.1", free_port(), service.stopped_workers)
            )
        )
        server.start()
        server.join(15)
        assert outcome == [False]
