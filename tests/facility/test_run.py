"""``facility run`` as operators start it: SIGTERM stores what is buffered and exits 0;
SIGHUP reloads the rules and the notifications file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest

from facility_dispatch.kernel.clock import to_ms
from tests.builders import publisher, wait_until
from tests.services import Broker, free_port

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def test_sigterm_flushes_and_exits_zero(broker: Broker, tmp_path: Path) -> None:
    site = f"run-{uuid.uuid4().hex[:6]}"
    port = free_port()
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - id: low\n    kind: water\n"
        "    condition: {metric: pressure_bar, op: '<', value: 1.0}\n"
        "    severity: major\n    fault: low_pressure\n"
    )
    notify = tmp_path / "notify.yaml"
    notify.write_text("routes:\n  - match: {priority: [P1]}\n    to: [assignees]\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FACILITY_")}
    environment.update(
        FACILITY_MQTT_URL=broker.url,
        FACILITY_MQTT_CLIENT_ID=f"run-{site}",
        FACILITY_SITES=site,
        FACILITY_HTTP_PORT=str(port),
        FACILITY_ADMIN_TOKEN="run-test-token",
        FACILITY_RULES=str(rules),
        FACILITY_NOTIFY=str(notify),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "facility_dispatch.cli", "run"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": "Bearer run-test-token"}
    )

    def up() -> bool:
        try:
            return api.get("/api/v1/health").json()["broker"] == "connected"
        except httpx.HTTPError:
            return False

    ending: list[str] = []

    def watch_events() -> None:
        """A dashboard's live stream, open across the shutdown."""
        try:
            with api.stream("GET", "/api/v1/events", timeout=None) as stream:
                for _ in stream.iter_lines():
                    pass
            ending.append("ended")  # the server finished the response
        except httpx.HTTPError as error:
            ending.append(f"cut off: {error!r}")

    watcher = threading.Thread(target=watch_events, daemon=True)
    try:
        wait_until(up, timeout=30)
        watcher.start()
        rules.write_text(rules.read_text().replace("value: 1.0", "value: 2.0"))
        notify.write_text(notify.read_text().replace("[P1]", "[P1, P2]"))
        process.send_signal(signal.SIGHUP)  # reload: pressure 1.5 now alarms
        time.sleep(3)
        in_force = lambda: api.get("/api/v1/notify-config").json()["text"]  # noqa: E731
        wait_until(lambda: "[P1, P2]" in in_force())  # the notifications file too
        notify.write_text(notify.read_text().replace("[assignees]", "[nobody]"))
        process.send_signal(signal.SIGHUP)  # a bad notifications file: refused, logged
        time.sleep(2)
        assert "[P1, P2]" in in_force() and "nobody" not in in_force()
        with publisher(broker.url) as device:
            device.publish_many(
                [
                    (
                        f"facility/{site}/water/pump-1/telemetry",
                        orjson.dumps(
                            {
                                "ts": to_ms(datetime.now(UTC)) - 1000 + i,
                                "seq": i,
                                "metrics": {"pressure_bar": 1.5},
                            }
                        ),
                    )
                    for i in range(500)
                ]
            )
        wait_until(lambda: api.get("/api/v1/alarms", params={"site": site}).json()["total"] == 1)
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    log = errors.decode()
    assert process.returncode == 0, log[-2000:]
    # the live stream was ended as the signal came, not cut off after the grace period
    watcher.join(10)
    assert ending == ["ended"], log[-2000:]
    assert "graceful shutdown exceeded" not in log
    assert "refused, the config in force stays: route #1, field to: unknown receiver" in log
    with sqlite3.connect(tmp_path / "data" / "telemetry.db") as db:
        assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 500
