"""Dispatch latency: alarm in over MQTT, assigned work order out through the API.

The real service (``facility run`` in its own process, embedded SQLite defaults) and its own
Mosquitto;
200 assets (50 of each kind), 50 technicians on shift, and 1,000 alarms: five faults per
asset, sent at a steady rate. For each alarm the clock runs from the moment its reading is
published to the moment the ``work_order.assigned`` event for that (asset, fault) arrives on
the API's server-sent event stream.
With ``--load-assets N`` the fleet simulator (its own process, one reading a message, QoS 1)
sends N other assets' readings at 1 Hz meanwhile, from 20 s before the first alarm to the
last order: dispatch while ingest is busy. The ingest rate the service achieved over the
alarms and its lag at the end are printed beside the latencies (a lag that stays near 0 means
the load was within what it can take; ``benchmarks/ingest_throughput.py`` gives the ceiling).
Last line: ``alarm_to_order_p99_ms=<float>`` (with p50 and the rest before it).
Usage: python benchmarks/dispatch.py [--alarms 1000] [--rate 20] [--load-assets 0]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facility_dispatch.ingest.catalogue import CATALOGUE, MetricType
from facility_dispatch.kernel.clock import to_ms
from facility_dispatch.rules.loader import default_rules_text
from tests.builders import Publisher
from tests.services import free_port, running_broker

SKILL = {"elevator": "elevator", "water": "plumbing", "power": "electrical", "cctv": "cctv"}
TOKEN = "bench-admin-" + uuid.uuid4().hex


def bench_rules() -> tuple[str, dict[str, list[tuple[str, object]]]]:
    """Five threshold rules a kind at the bench site, each its own fault, each opening a work
    order; beside the default pack, which judges the load's assets."""
    rules = []
    triggers: dict[str, list[tuple[str, object]]] = {}
    for kind, specs in CATALOGUE.items():
        picked = [s for s in specs.values() if s.type in (MetricType.NUMBER, MetricType.BOOL)][:5]
        triggers[kind] = []
        for spec in picked:
            if spec.type is MetricType.BOOL:
                condition, value = {"metric": spec.name, "op": "==", "value": True}, True
            else:
                high = spec.high if spec.high is not None else 1000.0
                condition = {"metric": spec.name, "op": ">", "value": high * 0.9}
                value = high * 0.95
            rules.append(
                {
                    "id": f"bench-{kind}-{spec.name}".replace("_", "-"),
                    "kind": kind,
                    "sites": ["bench"],
                    "condition": condition,
                    "severity": "major",
                    "fault": f"bench_{spec.name}",
                    "work_order": {"priority": "P2", "skill": SKILL[kind]},
                }
            )
            triggers[kind].append((spec.name, value))
    pack = yaml.safe_load(default_rules_text())
    for rule in pack["rules"]:
        rule["sites"] = ["demo-*"]  # the load's sites: the bench site keeps its five a kind
    pack["rules"] = [*pack["rules"], *rules]
    return yaml.safe_dump(pack), triggers


def counter(api: httpx.Client, name: str) -> float:
    found = re.search(rf"^{name} ([\d.e+]+)$", api.get("/metrics").text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def start_load(broker_url: str, assets: int) -> subprocess.Popen[bytes]:
    """The fleet simulator on sites of its own, one reading a message; 20 s to settle."""
    per_kind = max(assets // 4 // 10, 1)  # ten sites
    load = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "facility_dispatch.simulators.cli",
            f"--broker={broker_url}",
            "--fleet",
            "--batch=1",
            "--rate=1",
            "--connections=4",
            "--sites=10",
            f"--elevators={per_kind}",
            f"--water={per_kind}",
            f"--power={per_kind}",
            f"--cctv={per_kind}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(20)
    return load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alarms", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="alarms per second")
    parser.add_argument(
        "--load-assets", type=int, default=0, help="other assets reading at 1 Hz meanwhile"
    )
    args = parser.parse_args()
    site = "bench"
    with tempfile.TemporaryDirectory() as tmp, running_broker(Path(tmp) / "broker") as broker:
        rules_text, triggers = bench_rules()
        rules_path = Path(tmp) / "rules.yaml"
        rules_path.write_text(rules_text)
        port = free_port()
        environment = {
            **os.environ,
            "FACILITY_MQTT_URL": broker.url,
            "FACILITY_MQTT_CLIENT_ID": "bench-dispatch",
            "FACILITY_DATA_DIR": str(Path(tmp) / "data"),
            "FACILITY_RULES": str(rules_path),
            "FACILITY_ADMIN_TOKEN": TOKEN,
            "FACILITY_HTTP_PORT": str(port),
            "FACILITY_MAX_OPEN_ORDERS": "100",
            "FACILITY_LOG_LEVEL": "WARNING",
        }
        # the service in a process of its own, as it runs for real: the publisher and the
        # event reader of this benchmark do not share its interpreter
        service = subprocess.Popen(
            [sys.executable, "-m", "facility_dispatch.cli", "run"], env=environment, cwd=tmp
        )
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        while True:
            try:
                if api.get("/api/v1/health").json()["broker"] == "connected":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        now = datetime.now(UTC)
        for n in range(50):
            tech = api.post(
                "/api/v1/technicians",
                json={
                    "name": f"tech-{n}",
                    "skills": list(SKILL.values()),
                    "seniority": "senior",
                    "sites": [site],
                    "certifications": [
                        {"kind": "elevator", "number": f"L{n}", "expires_on": "2030-01-01"},
                        {"kind": "electrical", "number": f"E{n}", "expires_on": "2030-01-01"},
                    ],
                },
            ).json()
            api.post(
                "/api/v1/shifts",
                json={
                    "technician_id": tech["id"],
                    "starts_at": (now - timedelta(hours=1)).isoformat(),
                    "ends_at": (now + timedelta(hours=8)).isoformat(),
                },
            )

        assigned: dict[tuple[str, str], float] = {}
        ready = threading.Event()

        def listen() -> None:
            with (
                httpx.Client(base_url=api.base_url, headers=api.headers, timeout=None) as client,
                client.stream("GET", "/api/v1/events") as stream,
            ):
                ready.set()
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        event = orjson.loads(line[6:])
                        if event["type"] == "work_order.assigned":
                            key = (event["asset"], event["fault"])
                            assigned.setdefault(key, time.perf_counter())

        threading.Thread(target=listen, daemon=True).start()
        ready.wait(10)
        load = start_load(broker.url, args.load_assets) if args.load_assets else None
        stored_before = counter(api, "facility_readings_stored_total")
        load_started = time.perf_counter()
        assets = [(kind, f"{kind}-{i}") for kind in CATALOGUE for i in range(50)]
        plan = []
        for round_ in range(5):
            for kind, asset in assets:
                metric, value = triggers[kind][round_]
                plan.append((kind, asset, metric, value))
        plan = plan[: args.alarms]
        sent: dict[tuple[str, str], float] = {}
        device = Publisher(broker.url)
        interval = 1.0 / args.rate
        started = time.perf_counter()
        for index, (kind, asset, metric, value) in enumerate(plan):
            target = started + index * interval
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            payload = orjson.dumps({"ts": to_ms(datetime.now(UTC)), "metrics": {metric: value}})
            sent[(asset, f"bench_{metric}")] = time.perf_counter()
            device.publish(f"facility/{site}/{kind}/{asset}/telemetry", payload)
        deadline = time.perf_counter() + 60
        while len(assigned) < len(sent) and time.perf_counter() < deadline:
            time.sleep(0.05)
        ingest_rate = (counter(api, "facility_readings_stored_total") - stored_before) / (
            time.perf_counter() - load_started
        )
        lag = counter(api, "facility_ingest_lag_seconds")
        batches = counter(api, "facility_ingest_batch_readings_count")
        batch_mean = counter(api, "facility_ingest_batch_readings_sum") / max(batches, 1)
        if load is not None:
            load.terminate()
            load.wait(30)
        device.close()
        orders = api.get("/api/v1/work-orders", params={"site": site, "limit": 1}).json()["total"]
        metrics = api.get("/metrics").text
        stage = {
            line.split()[0]: float(line.split()[1])
            for line in metrics.splitlines()
            if line.startswith(("facility_dispatch_seconds_sum", "facility_dispatch_seconds_count"))
        }
        stopping = time.perf_counter()
        service.send_signal(signal.SIGTERM)
        service.wait(120)
        stop_s = time.perf_counter() - stopping
    latencies = sorted((assigned[k] - sent[k]) * 1000 for k in sent if k in assigned)
    missing = len(sent) - len(latencies)
    p50 = statistics.median(latencies)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(
        f"alarms sent: {len(sent)} at {args.rate:g}/s; orders: {orders}; never assigned: {missing}"
    )
    print(
        f"alarm_to_order_ms: p50={p50:.1f} p90={latencies[int(len(latencies) * 0.9)]:.1f} "
        f"max={latencies[-1]:.1f}"
    )
    in_dispatcher = (
        stage["facility_dispatch_seconds_sum"] / stage["facility_dispatch_seconds_count"]
    )
    print(f"mean time from alarm recorded to order assigned: {in_dispatcher * 1000:.1f} ms")
    print(
        f"ingest meanwhile: {ingest_rate:.0f} readings/s stored "
        f"({args.load_assets} assets at 1 Hz offered) in batches of {batch_mean:.0f} on "
        f"average; lag at the end {lag:.1f} s"
    )
    print(f"the service stopped {stop_s:.1f} s after SIGTERM")
    print(f"alarm_to_order_p50_ms={p50:.1f}")
    print(f"alarm_to_order_p99_ms={p99:.1f}")


if __name__ == "__main__":
    main()
