"""Every firing alarm that asks for a work order ends up with exactly one, whatever happens
between the alarm and its order: ``kill -9`` of the service at random moments of that window,
20 times, on SQLite and PostgreSQL (PostgreSQL stopped while alarms fire is in
``test_faults.py``). Before the dispatch sweep, an order lost in that window was lost for good.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest

from facility_dispatch.kernel.clock import to_ms
from tests.builders import Publisher, wait_until
from tests.faults.processes import ServiceProcess
from tests.services import Broker, postgres_available, postgres_database

pytestmark = [pytest.mark.slow, pytest.mark.broker]

KILLS = 20


def leak(device: Publisher, site: str, asset: str) -> None:
    body = {"ts": to_ms(datetime.now(UTC)), "metrics": {"leak_detected": True}}
    device.publish(f"facility/{site}/water/{asset}/telemetry", orjson.dumps(body))


def orders_per_alarm(api: httpx.Client, site: str) -> tuple[int, int, int, int]:
    """(alarms firing, with an order, orders, assets with more than one order)."""
    alarms = api.get(
        "/api/v1/alarms", params={"site": site, "state": "firing", "limit": 1000}
    ).json()["items"]
    orders = api.get("/api/v1/work-orders", params={"site": site, "limit": 1000}).json()["items"]
    per_asset = Counter(o["asset"] for o in orders)
    linked = sum(1 for a in alarms if a["work_order_id"] is not None)
    return len(alarms), linked, len(orders), sum(1 for n in per_asset.values() if n > 1)


@pytest.mark.timeout(900)  # twenty restarts of a whole service; slow on loaded shared cores
@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_kill_9_between_an_alarm_and_its_order(
    database: str,
    own_broker: Broker,
    tmp_path: Path,
    report: list,  # type: ignore[type-arg]
) -> None:
    if database == "postgresql" and not postgres_available():
        pytest.skip("PostgreSQL is not running")
    site = f"kill-{uuid.uuid4().hex[:6]}"
    rng = random.Random(7)
    environment = {"FACILITY_MQTT_URL": own_broker.url, "FACILITY_SITES": site}
    with postgres_database() if database == "postgresql" else _no_database() as url:
        if url:
            environment["FACILITY_DATABASE_URL"] = url
        service = ServiceProcess(tmp_path, environment)
        device = Publisher(own_broker.url)
        try:
            for kill in range(KILLS):
                service.start()
                for n in range(3):  # three leaks a round: alarms fire, orders are on the way
                    leak(device, site, f"leak-{kill}-{n}")
                time.sleep(rng.uniform(0.0, 0.4))  # somewhere in the alarm -> order window
                service.kill()
            service.start()
            with service.api() as api:

                def settled() -> bool:
                    firing, linked, orders, _ = orders_per_alarm(api, site)
                    return firing == linked == orders == 3 * KILLS

                wait_until(settled, timeout=90, every=0.5)
                firing, linked, orders, doubled = orders_per_alarm(api, site)
        finally:
            device.close()
            service.stop()
    report.append(
        {
            "fault": f"kill -9 between alarm and order x{KILLS} ({database})",
            "sent": 3 * KILLS,
            "stored": orders,
            "lost": firing - linked,
            "doubled": doubled,
        }
    )
    assert (firing, linked, orders, doubled) == (3 * KILLS, 3 * KILLS, 3 * KILLS, 0)


class _no_database:  # noqa: N801  (reads as the context manager it stands in for)
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None
