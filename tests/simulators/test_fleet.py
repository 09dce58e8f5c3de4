"""Fleet mode: many devices over few connections, the rate it achieved, all of it delivered."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime

import paho.mqtt.client as paho
import pytest

from facility_dispatch.ingest.catalogue import counters
from facility_dispatch.simulators.estate import SiteLayout
from facility_dispatch.simulators.faults import Role
from facility_dispatch.simulators.fleet import (
    Fleet,
    FleetReport,
    _Device,
    _message,
    build_templates,
)
from tests.services import Broker
from tests.simulators.helpers import Subscriber, decode_all, now_ms, statuses


def test_fleet_messages_are_valid_batches_with_growing_seq_and_counters() -> None:
    templates = build_templates(3, 1.0, datetime(2026, 11, 27, 2, tzinfo=UTC), steps=120)
    assert {role: len(t) for role, t in templates.items()} == {
        **dict.fromkeys(Role, 4),
        Role.NVR: 2,
    }
    stamps = [f"2026-11-27T02:00:0{j}.000Z".encode() for j in range(5)]
    topics = {
        Role.LIFT: "facility/f/elevator/lift-1/telemetry",
        Role.PUMP: "facility/f/water/pump-1/telemetry",
        Role.BOARD: "facility/f/power/board-1/telemetry",
        Role.CAMERA: "facility/f/cctv/cam-1/telemetry",
        Role.NVR: "facility/f/cctv/nvr-1/telemetry",
    }
    received = int(datetime(2026, 11, 27, 2, 1, tzinfo=UTC).timestamp() * 1000)
    for role, topic in topics.items():
        template = max(templates[role], key=lambda t: min(t.span, default=0.0))
        assert all(grown > 0 for grown in template.span)  # every counter grows in the loop
        device = _Device(topic, template, offset=37, bases=template.start)
        last: dict[str, float] = {}
        seq = 0
        for _ in range(60):  # 300 readings: more than twice round the 120-step loop
            readings = decode_all(topic, _message(device, stamps), received)
            assert len(readings) == 5
            for reading in readings:
                assert reading.seq == seq + 1
                seq = reading.seq or 0
                for name in counters(reading.kind):
                    value = float(reading.metrics[name])
                    assert value >= last.get(name, 0.0)
                    last[name] = value
        assert set(last) == set(counters(readings[0].kind))


@pytest.mark.broker
@pytest.mark.slow
def test_fleet_holds_its_rate_and_the_broker_gets_every_reading(broker: Broker) -> None:
    layouts = [SiteLayout(f"fleet-{n}", elevators=40, water=40, power=40, cctv=40) for n in (1, 2)]
    per_asset: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()

    def record(message: paho.MQTTMessage) -> None:
        if message.topic.endswith("/telemetry"):
            readings = decode_all(message.topic, message.payload, now_ms())
            with lock:
                per_asset[message.topic].extend(r.seq or 0 for r in readings)

    subscriber = Subscriber(broker.port, "facility/+/+/+/+", on_message=record)
    fleet = Fleet(layouts, broker.url, rate=5.0, batch=5, connections=3, seed=2)
    assert fleet.devices == 2 * (40 * 4 + 3)
    intervals: list[FleetReport] = []
    report = fleet.run(3.0, report_every=1.0, on_report=intervals.append)
    assert report.target_rate == pytest.approx(fleet.devices * 5.0)
    assert report.achieved_rate == pytest.approx(report.target_rate, rel=0.05)
    assert report.acknowledged == report.messages and report.backlog == 0
    assert len(intervals) == 2
    assert "achieved" in report.line()

    def delivered(_m: object) -> int:
        with lock:
            return sum(len(s) for s in per_asset.values())

    subscriber.wait_for(lambda m: delivered(m) >= report.readings, timeout=15)
    with lock:
        assert len(per_asset) == fleet.devices
        for seqs in per_asset.values():
            assert seqs == list(range(1, len(seqs) + 1))  # in order, none lost

    def fleet_statuses(messages: list[tuple[str, bytes, bool]]) -> dict[str, str]:
        return {k: v for k, v in statuses(messages).items() if k.startswith("facility/fleet-")}

    final = subscriber.wait_for(
        lambda m: list(fleet_statuses(m).values()) == ["offline"] * fleet.devices, timeout=10
    )
    assert sum(p == b"online" for t, p, _ in final if t.startswith("facility/fleet-")) == (
        fleet.devices
    )
    subscriber.close()


def test_templates_reflect_the_time_of_day() -> None:
    night = build_templates(1, 1.0, datetime(2026, 11, 26, 19, tzinfo=UTC), steps=20)
    evening = build_templates(1, 1.0, datetime(2026, 11, 27, 12, tzinfo=UTC), steps=20)

    def flow(templates: dict[Role, list[object]]) -> float:
        body = templates[Role.PUMP][0].bodies[0]  # type: ignore[attr-defined]
        return float(body.split(b'"flow_m3h":')[1].split(b",")[0])

    assert flow(evening) > 2 * flow(night)  # type: ignore[arg-type]
