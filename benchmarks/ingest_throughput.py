"""Ingest throughput: facility's ingest end to end against a bare paho subscriber, same stream.

Method: the broker (our own Mosquitto, with the queue limits we ship) is preloaded with the
whole stream for a persistent session while the consumer is away; then the consumer connects
and drains it, and the clock runs from its connection to its last reading. Both consumers see
the same messages in the same broker state, and the publisher's speed is out of the figure.

(a) raw: a paho-mqtt 2 subscriber (MQTT 5, QoS 1, paho's defaults) that only counts readings;
(b) facility: the service's ingest (decode, validate, dedup, store in SQLite, ack after commit),
    counted by ``facility_readings_stored_total``, once with one reading per message and once
    with gateway batches of 50 readings per message.

Every run counts loss end to end (published, acknowledged by the broker, and then stored).
The machine's speed drifts from minute to minute, so raw and facility runs alternate over a
few rounds and the medians are reported (the ratio is the median of the rounds' ratios).
Last line:
``ingest_vs_raw_ratio=<float> cpu_vs_raw_ratio=<float> ingest_rate=<r/s> raw_rate=<r/s>
batched_rate=<r/s> cpu_us=<us> raw_cpu_us=<us> batched_cpu_us=<us> lost=<n>`` (CPU is this
process's, every thread, and paho's process when it has its own, a reading while it drained;
the broker's is not counted)
Usage: python benchmarks/ingest_throughput.py [--readings 200000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facility_dispatch.kernel.clock import to_ms  # noqa: E402
from facility_dispatch.service import build_service  # noqa: E402
from facility_dispatch.settings import Settings  # noqa: E402
from tests.services import Broker, running_broker  # noqa: E402

KIND_METRICS = {
    "elevator": lambda i: {
        "door_state": "closed" if i % 3 else "open",
        "car_floor": i % 20,
        "moving": i % 2 == 0,
        "speed_mps": (i % 17) / 10,
        "vibration_mms": 1.2 + (i % 7) / 10,
    },
    "water": lambda i: {
        "pressure_bar": 3.0 + (i % 10) / 10,
        "flow_m3h": 10.0 + i % 30,
        "pump_running": True,
        "tank_level_pct": 60.0 + i % 20,
    },
    "power": lambda i: {
        "voltage_v": 218.0 + i % 5,
        "frequency_hz": 50.0,
        "current_a": 100.0 + i % 50,
        "mains_ok": True,
        "energy_kwh": 1000.0 + i,
    },
    "cctv": lambda i: {
        "online": True,
        "fps": 25,
        "packet_loss_pct": (i % 5) / 10,
        "storage_used_pct": 60.0 + (i % 100) / 100,
    },
}
ASSETS_PER_KIND = 50


def stream(site: str, readings: int, per_message: int) -> list[tuple[str, bytes]]:
    """Mixed-kind readings for 200 assets, ``per_message`` readings of one asset a message."""
    base = to_ms(datetime.now(UTC) - timedelta(minutes=30))
    kinds = list(KIND_METRICS)
    assets = [(k, f"{k}-{n}") for k in kinds for n in range(ASSETS_PER_KIND)]
    messages: list[tuple[str, bytes]] = []
    per_asset = readings // len(assets)
    steps = per_asset // per_message
    for step in range(steps):
        for kind, asset in assets:
            batch = []
            for j in range(per_message):
                n = step * per_message + j
                batch.append({"ts": base + n * 5, "seq": n, "metrics": KIND_METRICS[kind](n)})
            body = batch[0] if per_message == 1 else batch
            messages.append((f"facility/{site}/{kind}/{asset}/telemetry", orjson.dumps(body)))
    return messages


def connect(client: paho.Client, broker: Broker, clean: bool, props: Properties | None) -> None:
    client.connect("127.0.0.1", broker.port, clean_start=clean, properties=props)


def persistent_props() -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    return props


def preload(broker: Broker, messages: list[tuple[str, bytes]]) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    connect(client, broker, True, None)
    client.loop_start()
    window = 20_000  # paho's message ids wrap at 65,535: never have more than that unacked
    for start in range(0, len(messages), window):
        infos = [client.publish(t, p, qos=1) for t, p in messages[start : start + window]]
        for info in infos:
            info.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()


def register_session(broker: Broker, client_id: str, topic: str) -> None:
    """Create the consumer's persistent session and subscription, then go away."""
    done = threading.Event()
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
    )
    client.on_subscribe = lambda *a: done.set()
    connect(client, broker, False, persistent_props())
    client.loop_start()
    client.subscribe(topic, qos=1)
    done.wait(10)
    client.disconnect()
    client.loop_stop()


class Run(NamedTuple):
    rate: float
    """Readings a second, 0 if any was lost."""
    cpu_us: float
    """CPU of this process (every thread, user and system) a reading while it drained."""
    lost: int


def raw_run(broker: Broker, site: str, messages: list[tuple[str, bytes]], readings: int) -> Run:
    client_id = f"raw-{uuid.uuid4().hex[:6]}"
    topic = f"facility/{site}/+/+/telemetry"
    register_session(broker, client_id, topic)
    preload(broker, messages)
    counted = 0
    finished = threading.Event()

    def on_message(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        nonlocal counted
        counted += 1
        if counted >= len(messages):
            finished.set()

    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
    )
    client.on_message = on_message
    start, cpu = time.perf_counter(), time.process_time()
    connect(client, broker, False, persistent_props())
    client.loop_start()
    finished.wait(600)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    client.disconnect()
    client.loop_stop()
    lost = len(messages) - counted
    cpu_us = cpu / readings * 1e6
    print(f"raw: {counted} messages in {elapsed:.2f}s, {cpu_us:.1f} us CPU a reading, lost {lost}")
    return Run(readings / elapsed if not lost else 0.0, cpu_us, lost)


def child_cpu_seconds(pid: int) -> float:
    """User and system CPU of a running child process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def facility_run(
    broker: Broker, site: str, messages: list[tuple[str, bytes]], readings: int, label: str
) -> Run:
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            mqtt_url=broker.url,
            mqtt_client_id=f"facility-bench-{uuid.uuid4().hex[:6]}",
            data_dir=Path(data),
            sites=[site],
        )
        service = build_service(settings)
        service.mqtt.start()  # create the persistent session and subscription, then leave
        service.mqtt.wait_connected(10)
        time.sleep(0.5)
        service.mqtt.stop()
        service = build_service(settings)
        preload(broker, messages)
        stored = service.pipeline._metrics.stored  # the counter /metrics exposes
        start, cpu = time.perf_counter(), time.process_time()
        service.start()
        receiver = getattr(service.mqtt, "pid", None)  # paho's own process, when it has one
        deadline = time.monotonic() + 600
        last, still = -1.0, 0
        while stored._value.get() < readings and time.monotonic() < deadline:
            time.sleep(0.01)
            value = stored._value.get()
            still = still + 1 if value == last else 0
            last = value
            if still > 1000:  # nothing for 10 s: what is missing is lost
                break
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        cpu += child_cpu_seconds(receiver) if receiver else 0.0
        count = int(stored._value.get())
        service.stop()
        lost = readings - count
        cpu_us = cpu / max(count, 1) * 1e6
        print(
            f"facility {label}: {count} readings stored in {elapsed:.2f}s "
            f"({count / elapsed:,.0f}/s), {cpu_us:.1f} us CPU a reading, lost {lost}"
        )
        return Run(count / elapsed, cpu_us, lost)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--readings", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3, help="raw and facility, alternately")
    args = parser.parse_args()
    readings = args.readings - args.readings % (4 * ASSETS_PER_KIND * 50)
    raw: list[Run] = []
    single: list[Run] = []
    batched: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp, running_broker(Path(tmp) / "broker") as broker:
        print(
            f"stream: {readings} mixed-kind readings for 200 assets at QoS 1, {args.rounds} rounds"
        )
        # the machine's speed drifts: each round measures both side by side, medians are kept
        for round_ in range(args.rounds):
            site = f"bench-{round_}"
            raw.append(raw_run(broker, site, stream(site, readings, 1), readings))
            single.append(
                facility_run(
                    broker,
                    f"{site}-f",
                    stream(f"{site}-f", readings, 1),
                    readings,
                    "1 reading/message",
                )
            )
            batched.append(
                facility_run(
                    broker,
                    f"{site}-b",
                    stream(f"{site}-b", readings, 50),
                    readings,
                    "50 readings/message",
                )
            )
            print(
                f"round {round_ + 1}: ratio {single[-1].rate / raw[-1].rate:.3f}, "
                f"CPU ratio {single[-1].cpu_us / raw[-1].cpu_us:.2f}"
            )
        dropped = "Outgoing messages are being dropped" in broker.log
        print(f"broker log reports dropped messages: {dropped}")
    lost = sum(run.lost for run in single + batched)
    ratio = statistics.median(f.rate / r.rate for f, r in zip(single, raw, strict=True) if r.rate)
    cpu_ratio = statistics.median(f.cpu_us / r.cpu_us for f, r in zip(single, raw, strict=True))
    print(
        f"ingest_vs_raw_ratio={ratio:.3f} cpu_vs_raw_ratio={cpu_ratio:.2f} "
        f"ingest_rate={statistics.median(r.rate for r in single):.0f} "
        f"raw_rate={statistics.median(r.rate for r in raw):.0f} "
        f"batched_rate={statistics.median(r.rate for r in batched):.0f} "
        f"cpu_us={statistics.median(r.cpu_us for r in single):.1f} "
        f"raw_cpu_us={statistics.median(r.cpu_us for r in raw):.1f} "
        f"batched_cpu_us={statistics.median(r.cpu_us for r in batched):.1f} lost={lost}"
    )


if __name__ == "__main__":
    main()
