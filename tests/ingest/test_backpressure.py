"""Under more load than the writer takes, the backlog waits in the broker, not in the process.

Mosquitto 2.0 does not hold to a subscriber's MQTT 5 Receive Maximum once messages for many
topics arrive while it is connected, so the service bounds its own queue: paho's thread waits
for room, stops reading the socket, and TCP pushes back to the broker. Nothing is lost, nothing
comes twice, and the connection (its keep-alive) survives the wait.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from facility_dispatch.kernel.clock import to_ms
from facility_dispatch.kernel.readings import Reading
from tests.builders import make_settings, publisher, running_service, wait_until
from tests.services import Broker

pytestmark = pytest.mark.broker


def test_a_slow_store_keeps_the_queue_bounded_and_loses_nothing(
    broker: Broker, tmp_path: Path
) -> None:
    site = f"bp-{uuid.uuid4().hex[:6]}"
    settings = make_settings(
        tmp_path, broker.url, sites=[site], ingest_max_queued=200, mqtt_receive_maximum=65535
    )
    readings, assets = 4000, 400
    start = datetime.now(UTC) - timedelta(minutes=10)
    with running_service(settings) as service:
        store = service.pipeline._store
        write = store.write

        def slow_write(batch: list[Reading]) -> list[Reading]:
            time.sleep(0.05)  # a slow disk: every batch takes 50 ms more
            return write(batch)

        store.write = slow_write  # type: ignore[method-assign]
        messages = [
            (
                f"facility/{site}/water/p{n % assets}/telemetry",
                orjson.dumps(
                    {
                        "ts": (start + timedelta(seconds=n // assets)).isoformat(),
                        "metrics": {"pressure_bar": 3.0 + (n % 7) / 10},
                    }
                ),
            )
            for n in range(readings)
        ]
        with publisher(broker.url) as device:
            device.publish_many(messages)
        stored = service.pipeline._metrics.stored
        wait_until(lambda: stored._value.get() >= readings, timeout=60)

        assert service.pipeline.peak_queue_depth <= 200
        assert service.pipeline._metrics.backpressure._value.get() > 0  # the bound was reached
        assert service.mqtt.connection == 1  # never reconnected: no keep-alive missed
        assert service.pipeline._metrics.duplicates._value.get() == 0
        now = to_ms(datetime.now(UTC))
        assert (
            sum(
                len(service.store.history(site, f"p{a}", "pressure_bar", 0, now))
                for a in range(assets)
            )
            == readings
        )


def test_a_burst_of_devices_coming_online_costs_few_commits(broker: Broker, tmp_path: Path) -> None:
    """5,000 devices announcing themselves at once once stalled ingest for a minute: one
    commit each for their presence events. A batch's presences now share one transaction."""
    site = f"online-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site])
    devices = 300
    with running_service(settings) as service:
        commits: list[str] = []  # made on the ingest thread (other workers commit on their own)
        service.sessions.listen(
            "after_commit",
            lambda _session: commits.append(threading.current_thread().name),
        )
        before = service.events.last_id()
        with publisher(broker.url) as device:
            device.publish_many(
                [(f"facility/{site}/cctv/cam-{n}/status", b"online") for n in range(devices)]
            )
        wait_until(lambda: len(service.events.since(before, limit=1000, site=site)) >= devices)
        presences = [e for e in service.events.since(before, limit=1000, site=site)]
        assert {e.type for e in presences} == {"asset.presence"}
        assert len({e.payload["asset"] for e in presences}) == devices
        assert 0 < commits.count("ingest-writer") < devices / 5
