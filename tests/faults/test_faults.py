"""Faults around the service, with real processes and services, each bounded in time.

Each test counts readings end to end: sent (acknowledged by the broker to the device),
stored (rows in the telemetry store), lost (sent and not stored) and doubled (stored twice).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from facility_dispatch.kernel.clock import to_ms
from tests.builders import Publisher, wait_until
from tests.faults.processes import ServiceProcess, private_postgres
from tests.services import Broker, running_broker

pytestmark = [pytest.mark.slow, pytest.mark.broker]


class Stream:
    """A device-side publisher sending ``count`` readings of a few assets at QoS 1, at a rate,
    in a thread; it keeps what it could not send while the broker is away (paho's queue)."""

    def __init__(self, broker: Broker, site: str, count: int, rate: float, assets: int = 5) -> None:
        self.site = site
        self.count = count
        self.rate = rate
        self.assets = assets
        self.sent = 0
        self._device = Publisher(broker.url)
        self._base = to_ms(datetime.now(UTC)) - count * 2
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._mids: list[int] = []
        self._acked: set[int] = set()
        self._device._client.on_publish = lambda _c, _u, mid, _rc, _p: self._acked.add(mid)

    def message(self, i: int) -> tuple[str, bytes]:
        asset = f"pump-{i % self.assets}"
        body = {"ts": self._base + i, "seq": i, "metrics": {"pressure_bar": 3.0 + (i % 10) / 10}}
        return f"facility/{self.site}/water/{asset}/telemetry", orjson.dumps(body)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        client = self._device._client
        started = time.monotonic()
        for i in range(self.count):
            delay = started + i / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            topic, payload = self.message(i)
            # while the broker is away paho queues the message and sends it on reconnect
            self._mids.append(client.publish(topic, payload, qos=1).mid)

    def finish(self, timeout: float = 60) -> int:
        """How many the broker acknowledged (PUBACK): the readings the service owes us."""
        self._thread.join(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not set(self._mids) <= self._acked:
            time.sleep(0.1)
        self.sent = sum(1 for mid in self._mids if mid in self._acked)
        self._device.close()
        return self.sent


def row(fault: str, sent: int, rows: int, distinct: int) -> dict[str, object]:
    return {
        "fault": fault,
        "sent": sent,
        "stored": distinct,
        "lost": sent - distinct,
        "doubled": rows - distinct,
    }


def test_kill_9_in_the_middle_of_a_stream(own_broker: Broker, tmp_path: Path, report: list) -> None:  # type: ignore[type-arg]
    site = f"kill-{uuid.uuid4().hex[:6]}"
    service = ServiceProcess(
        tmp_path, {"FACILITY_MQTT_URL": own_broker.url, "FACILITY_SITES": site}
    )
    service.start()
    stream = Stream(own_broker, site, count=6000, rate=1500)
    stream.start()
    wait_until(lambda: service.stored(site)[0] >= 2000, timeout=30)
    receiver = service.children()  # paho's own process
    assert len(receiver) == 1
    service.kill()  # mid-stream: batches in memory, messages unacknowledged
    # paho's process sees its pipe close and leaves, acknowledging nothing more
    wait_until(lambda: not Path(f"/proc/{receiver[0]}").exists(), timeout=10)
    time.sleep(1)
    service.start()
    sent = stream.finish()
    wait_until(lambda: service.stored(site)[1] >= sent, timeout=60)
    rows, distinct = service.stored(site)
    assert service.stop() == 0
    report.append(row("kill -9 of the service mid-stream (QoS 1)", sent, rows, distinct))
    assert sent == 6000 and distinct == sent and rows == distinct


def test_mosquitto_restarted_under_load(own_broker: Broker, tmp_path: Path, report: list) -> None:  # type: ignore[type-arg]
    site = f"brk-{uuid.uuid4().hex[:6]}"
    service = ServiceProcess(
        tmp_path, {"FACILITY_MQTT_URL": own_broker.url, "FACILITY_SITES": site}
    )
    service.start()
    stream = Stream(own_broker, site, count=6000, rate=1000)
    stream.start()
    wait_until(lambda: service.stored(site)[0] >= 1500, timeout=30)
    own_broker.restart(pause=2.0)  # SIGTERM: Mosquitto saves its sessions and queues
    sent = stream.finish(timeout=90)
    wait_until(lambda: service.stored(site)[1] >= sent, timeout=60)
    rows, distinct = service.stored(site)
    health = service.health()
    assert service.stop() == 0
    report.append(row("Mosquitto restarted under load", sent, rows, distinct))
    assert health["broker"] == "connected"
    assert sent == 6000 and distinct == sent and rows == distinct


OUTAGE = float(os.environ.get("FACILITY_TEST_OUTAGE_SECONDS", "20"))


@pytest.mark.timeout(int(OUTAGE) + 300)
def test_postgresql_stopped_under_load_while_alarms_fire(
    broker: Broker,
    tmp_path: Path,
    report: list,  # type: ignore[type-arg]
) -> None:
    """20 s here; ``FACILITY_TEST_OUTAGE_SECONDS=360`` outlasts what the dispatcher once
    retried (about 4.6 minutes): every alarm still gets exactly one order."""
    site = f"pg-{uuid.uuid4().hex[:6]}"
    with private_postgres(tmp_path / "pg") as postgres:
        service = ServiceProcess(
            tmp_path,
            {
                "FACILITY_MQTT_URL": broker.url,
                "FACILITY_SITES": site,
                "FACILITY_DATABASE_URL": postgres.url,
                "FACILITY_MQTT_CLIENT_ID": f"pg-{site}",
            },
        )
        service.start()
        api = service.api()
        api.post(
            "/api/v1/technicians",
            json={"name": "Li Na", "skills": ["plumbing"], "seniority": "senior", "sites": [site]},
        )
        stream = Stream(broker, site, count=3000, rate=100)
        stream.start()
        device = Publisher(broker.url)
        time.sleep(3)
        postgres.stop()
        stopped = time.monotonic()
        for n in range(5):  # leaks on five pumps while the database is down
            body = {"ts": to_ms(datetime.now(UTC)), "metrics": {"leak_detected": True}}
            device.publish(f"facility/{site}/water/leak-{n}/telemetry", orjson.dumps(body))
            time.sleep(2)
        time.sleep(max(0.0, OUTAGE - (time.monotonic() - stopped)))
        assert service.alive, service.log()[-3000:]  # no crash
        postgres.start()
        sent = stream.finish(timeout=60)
        device.close()
        api.close()
        api = service.api()
        wait_until(lambda: service.stored(site)[1] >= sent, timeout=60)
        wait_until(
            lambda: api.get("/api/v1/alarms", params={"site": site}).json()["total"] == 5,
            timeout=60,
        )
        wait_until(
            lambda: api.get("/api/v1/work-orders", params={"site": site}).json()["total"] == 5,
            timeout=60,
        )
        alarms = api.get("/api/v1/alarms", params={"site": site, "state": "firing"}).json()
        orders = api.get("/api/v1/work-orders", params={"site": site}).json()["items"]
        waiting = [
            line
            for line in api.get("/metrics").text.splitlines()
            if line.startswith("facility_alarms_waiting_for_dispatch ")
        ]
        rows, distinct = service.stored(site)
        api.close()
        assert service.stop() == 0
    report.append(row(f"PostgreSQL stopped for {OUTAGE:.0f} s under load", sent, rows, distinct))
    report.append(
        {
            "fault": "  ... its 5 alarms (fired while it was away)",
            "sent": 5,
            "stored": sum(1 for a in alarms["items"] if a["work_order_id"] is not None),
            "lost": sum(1 for a in alarms["items"] if a["work_order_id"] is None),
            "doubled": len(orders) - len({o["asset"] for o in orders}),
        }
    )
    assert distinct == sent == 3000 and rows == distinct
    assert len(orders) == len({o["asset"] for o in orders}) == 5  # one order per leak
    assert all(a["work_order_id"] is not None for a in alarms["items"])
    assert waiting == ["facility_alarms_waiting_for_dispatch 0.0"]


def test_two_workers_on_disjoint_sites_and_one_scheduler_leader(
    tmp_path: Path, report: list
) -> None:  # type: ignore[type-arg]
    sites = [f"w{n}-{uuid.uuid4().hex[:6]}" for n in (1, 2)]
    with (
        running_broker(tmp_path / "broker") as broker,
        private_postgres(tmp_path / "pg") as postgres,
    ):
        workers = []
        for n, site in enumerate(sites):
            directory = tmp_path / f"worker-{n}"
            directory.mkdir()
            workers.append(
                ServiceProcess(
                    directory,
                    {
                        "FACILITY_MQTT_URL": broker.url,
                        "FACILITY_SITES": site,
                        "FACILITY_DATABASE_URL": postgres.url,
                        "FACILITY_MQTT_CLIENT_ID": f"worker-{n}",
                    },
                )
            )
        for worker in workers:
            worker.start()
        leaders = [w.health()["scheduler_leader"] for w in workers]
        assert sorted(leaders) == [False, True]
        api = workers[0].api()
        for site in sites:
            api.post(
                "/api/v1/technicians",
                json={
                    "name": f"tech {site}",
                    "skills": ["plumbing"],
                    "seniority": "senior",
                    "sites": [site],
                },
            )
        streams = [Stream(broker, site, count=2000, rate=400) for site in sites]
        for stream in streams:
            stream.start()
        device = Publisher(broker.url)
        for site in sites:
            for n in range(3):  # the same leak three times: one order
                body = {"ts": to_ms(datetime.now(UTC)) + n, "metrics": {"leak_detected": n != 1}}
                device.publish(f"facility/{site}/water/tank-1/telemetry", orjson.dumps(body))
        device.close()
        sent = [s.finish() for s in streams]
        for worker, site, count in zip(workers, sites, sent, strict=True):
            wait_until(lambda w=worker, s=site, c=count: w.stored(s)[1] >= c, timeout=60)
        orders = [
            api.get("/api/v1/work-orders", params={"site": site}).json()["items"] for site in sites
        ]
        assert [len(o) for o in orders] == [1, 1]
        assert all(len(o[0]["alarm_ids"]) == 2 for o in orders)  # the second episode joined
        leader = workers[leaders.index(True)]
        follower = workers[leaders.index(False)]
        leader.kill()
        wait_until(lambda: follower.health()["scheduler_leader"], timeout=40)
        for worker, site, count in zip(workers, sites, sent, strict=True):
            rows, distinct = worker.stored(site)
            report.append(row(f"two workers, disjoint sites ({site[:2]})", count, rows, distinct))
            assert distinct == count and rows == distinct
        api.close()
        assert follower.stop() == 0


def test_telemetry_store_away_readings_spooled_and_drained(
    own_broker: Broker, tmp_path: Path, report: list
) -> None:  # type: ignore[type-arg]
    from tests.builders import make_settings, running_service
    from tests.faults.influx_standin import InfluxStandIn

    site = f"influx-{uuid.uuid4().hex[:6]}"
    influx = InfluxStandIn()
    influx.start()
    settings = make_settings(
        tmp_path,
        own_broker.url,
        sites=[site],
        telemetry_store="influxdb",
        influx_url=influx.url,
        influx_token="standin-token",
    )
    try:
        with running_service(settings) as service:
            stream = Stream(own_broker, site, count=3000, rate=500)
            stream.start()
            wait_until(lambda: len(influx.points) >= 500, timeout=30)
            influx.available = False  # InfluxDB away
            time.sleep(2)
            device = Publisher(own_broker.url)
            body = {"ts": to_ms(datetime.now(UTC)), "metrics": {"leak_detected": True}}
            device.publish(f"facility/{site}/water/tank-1/telemetry", orjson.dumps(body))
            device.close()
            # alarms are still judged and dispatched while readings wait on disk
            wait_until(lambda: service.alarms.query(site=site, fault="leak")[1] == 1, timeout=20)
            spooled = len(list((tmp_path / "spool").glob("*.lp")))
            time.sleep(3)
            influx.available = True
            sent = stream.finish()
            wait_until(
                lambda: len({k for k in influx.points if "pump-" in k[0]}) >= sent, timeout=60
            )
            assert service.store.healthy()
    finally:
        influx.stop()
    stream_points = [k for k in influx.arrivals if "pump-" in k[0]]
    distinct = len(set(stream_points))
    per_series: dict[str, list[int]] = {}
    for series, ts in stream_points:
        per_series.setdefault(series, []).append(ts)
    report.append(
        row("telemetry store (InfluxDB) away, spooled and drained", sent, distinct, distinct)
    )
    assert spooled > 0, "nothing was spooled: the outage was not seen"
    assert sent == 3000 and distinct == sent
    assert len(stream_points) == distinct  # nothing written twice
    assert all(ts == sorted(ts) for ts in per_series.values())  # the spool kept the order
