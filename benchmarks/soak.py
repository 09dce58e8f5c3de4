"""Soak: a fleet at one reading a second per asset through the real service and Mosquitto.

Method: our own Mosquitto with the queue limits we ship; ``facility run`` as its own process
(SQLite under a temporary directory, the built-in rules); the fleet simulator as another
process, one reading a message at QoS 1, for the whole duration. Meanwhile the service's RSS is
sampled every 5 s and a dashboard reader asks the API twice a second (assets, alarms, work
orders, health). When the fleet stops, the service is given time to drain its backlog, then
the readings the broker acknowledged to the devices are compared with the readings stored.

Printed side by side, as ratios of what the issue asks:
``stored_over_acknowledged`` (1.0: nothing lost), ``rss_growth_after_first_minute`` (< 0.10),
``peak_rss_over_300mib`` (< 1), ``api_p95_over_200ms`` (< 1), plus the duplicate count, the
drain time and the silence alarms raised (0: the service's own lag never looks like devices'
silence). Last line: ``soak stored_over_acknowledged=... rss_growth=... peak_rss_mib=...
api_p95_ms=... duplicates=... silence_alarms=... drain_s=...``

Usage: python benchmarks/soak.py [--assets 10000] [--minutes 10] [--sites 20]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.services import free_port, running_broker  # noqa: E402

TOKEN = "soak-admin-token-0123456789abcdef"
READS = ("/api/v1/assets?limit=50", "/api/v1/alarms?limit=50", "/api/v1/work-orders?limit=50")


def rss_mib(pid: int) -> float:
    """The service's resident memory with its children's (paho's own process)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0
    for each in [pid, *map(int, children)]:
        with contextlib.suppress(FileNotFoundError):
            status = Path(f"/proc/{each}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return total / 1024


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} ([\d.e+]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def fleet_layout(assets: int, sites: int) -> list[str]:
    """Per site: lifts, pumps, boards and cameras in the proportions of a residential estate
    (cameras are a third of the fleet; the simulator adds one recorder per 16 cameras)."""
    per_site = max(assets // sites, 8)
    cameras = per_site * 38 // 100
    lifts = per_site * 30 // 100
    water = per_site * 12 // 100
    power = per_site - cameras - lifts - water - cameras // 16
    return [
        f"--sites={sites}",
        f"--elevators={lifts}",
        f"--water={water}",
        f"--power={max(power, 1)}",
        f"--cctv={cameras}",
    ]


class Reader(threading.Thread):
    """The engineer's dashboard: a few API reads every half second, their latencies kept."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.latencies_ms: list[float] = []
        self.stop = threading.Event()
        self._client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        )

    def run(self) -> None:
        n = 0
        while not self.stop.wait(0.5):
            path = READS[n % len(READS)]
            n += 1
            start = time.perf_counter()
            try:
                self._client.get(path).raise_for_status()
            except httpx.HTTPError:
                self.latencies_ms.append(30_000.0)  # an error counts as the worst answer
                continue
            self.latencies_ms.append((time.perf_counter() - start) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp, running_broker(Path(tmp) / "broker") as broker:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FACILITY_")}
        env.update(
            FACILITY_MQTT_URL=broker.url,
            FACILITY_HTTP_PORT=str(port),
            FACILITY_ADMIN_TOKEN=TOKEN,
            FACILITY_DATA_DIR=str(Path(tmp) / "data"),
        )
        log = (Path(tmp) / "service.log").open("wb")
        service = subprocess.Popen(
            [python, "-m", "facility_dispatch.cli", "run"], env=env, stdout=log, stderr=log
        )
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if api.get("/api/v1/health").json()["broker"] == "connected":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        seconds = args.minutes * 60
        fleet = subprocess.Popen(
            [
                python,
                "-m",
                "facility_dispatch.simulators.cli",
                f"--broker={broker.url}",
                "--fleet",
                "--batch=1",
                "--rate=1",
                "--connections=4",
                f"--duration={int(seconds)}s",
                *fleet_layout(args.assets, args.sites),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        reader = Reader(f"http://127.0.0.1:{port}")
        reader.start()
        samples: list[tuple[float, float]] = []
        lags: list[float] = []
        start = time.monotonic()
        while fleet.poll() is None:
            samples.append((time.monotonic() - start, rss_mib(service.pid)))
            with contextlib.suppress(httpx.HTTPError):
                lags.append(float(api.get("/api/v1/health").json().get("ingest_lag_seconds", 0)))
            time.sleep(5)
        output = fleet.stdout.read() if fleet.stdout else ""
        reader.stop.set()
        acknowledged = int(re.findall(r"acknowledged_readings=(\d+)", output)[-1])
        devices = re.findall(r"fleet: (\d+) devices", output)
        print(output.strip().splitlines()[-2])

        drain_start = time.monotonic()
        stored = 0.0
        while time.monotonic() - drain_start < args.drain_timeout:
            text = api.get("/metrics").text
            stored = metric(text, "facility_readings_stored_total")
            samples.append((time.monotonic() - start, rss_mib(service.pid)))
            if stored >= acknowledged:
                break
            time.sleep(2)
        drain_s = time.monotonic() - drain_start
        text = api.get("/metrics").text
        duplicates = metric(text, "facility_readings_duplicate_total")
        alarms = api.get("/api/v1/alarms", params={"limit": 500}).json()["items"]
        silence = sum(1 for a in alarms if "silent" in a["rule_id"] or a["fault"] == "offline")
        service.terminate()
        service.wait(60)

    after_minute = [rss for at, rss in samples if at >= 60] or [samples[-1][1]]
    growth = (after_minute[-1] - after_minute[0]) / after_minute[0]
    peak = max(rss for _, rss in samples)
    p95 = statistics.quantiles(reader.latencies_ms, n=20)[-1] if reader.latencies_ms else 0.0
    print(
        f"devices {devices[-1] if devices else '?'}, {args.minutes:g} min at 1 Hz: "
        f"acknowledged {acknowledged:,}, stored {stored:,.0f}, duplicates {duplicates:,.0f}, "
        f"drained in {drain_s:.0f} s; RSS first minute {after_minute[0]:.0f} MiB, end "
        f"{after_minute[-1]:.0f} MiB, peak {peak:.0f} MiB; API p95 {p95:.0f} ms over "
        f"{len(reader.latencies_ms)} reads; ingest lag max {max(lags, default=0):.0f} s; "
        f"silence alarms {silence}"
    )
    print(
        f"stored_over_acknowledged={stored / acknowledged:.4f} "
        f"rss_growth_after_first_minute={growth:.3f} peak_rss_over_300mib={peak / 300:.2f} "
        f"api_p95_over_200ms={p95 / 200:.2f}"
    )
    print(
        f"soak stored_over_acknowledged={stored / acknowledged:.4f} rss_growth={growth:.3f} "
        f"peak_rss_mib={peak:.0f} api_p95_ms={p95:.0f} duplicates={duplicates:.0f} "
        f"silence_alarms={silence} drain_s={drain_s:.0f}"
    )


if __name__ == "__main__":
    main()
