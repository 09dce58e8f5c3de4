"""The real-time runner against a real broker: live injection, clean stop, broker restarts."""

from __future__ import annotations

import time
from datetime import timedelta

import orjson
import pytest

from facility_dispatch.simulators.estate import Estate, SiteLayout
from facility_dispatch.simulators.runner import Runner
from tests.services import Broker
from tests.simulators.helpers import Subscriber, decode_all, now_ms, statuses


def telemetry(messages: list[tuple[str, bytes, bool]], asset: str) -> list[dict[str, object]]:
    return [
        dict(reading.metrics)
        for topic, payload, _ in messages
        if topic.endswith(f"/{asset}/telemetry")
        for reading in decode_all(topic, payload, now_ms())
    ]


@pytest.mark.broker
def test_faults_injected_while_running_reach_the_broker(broker: Broker) -> None:
    site = "runner-live"
    estate = Estate(SiteLayout(site, elevators=1, water=1, power=1, cctv=2), seed=9)
    subscriber = Subscriber(broker.port, f"facility/{site}/#")
    runner = Runner(estate, broker.url, interval=0.1, client_prefix="runner-test")
    runner.start()
    try:
        subscriber.wait_for(lambda m: len(telemetry(m, "board-1")) >= 3, timeout=10)
        estate.inject("breaker_trip", "board-1", duration=timedelta(seconds=1))
        estate.inject("camera_offline", "cam-2")
        seen = subscriber.wait_for(
            lambda m: (
                any(x["breaker_tripped"] for x in telemetry(m, "board-1"))
                and statuses(m).get(f"facility/{site}/cctv/cam-2") == "offline"
            ),
            timeout=10,
        )
        count, board = len(telemetry(seen, "cam-2")), len(telemetry(seen, "board-1"))
        later = subscriber.wait_for(lambda m: len(telemetry(m, "board-1")) >= board + 5, 10)
        assert len(telemetry(later, "cam-2")) == count  # five ticks on, the camera is silent
        estate.clear("camera_offline", "cam-2")
        subscriber.wait_for(
            lambda m: (
                statuses(m).get(f"facility/{site}/cctv/cam-2") == "online"
                and not telemetry(m, "board-1")[-1]["breaker_tripped"]
            ),
            timeout=10,
        )
    finally:
        report = runner.stop()
    assert runner.error is None
    assert report.devices == 6 and report.readings > 30
    final = subscriber.wait_for(
        lambda m: set(statuses(m).values()) == {"offline"} and len(statuses(m)) == 6, timeout=10
    )
    assert len(statuses(final)) == 6  # a clean stop says offline too
    subscriber.close()


@pytest.mark.broker
@pytest.mark.slow
def test_a_broker_restart_loses_no_reading(own_broker: Broker) -> None:
    """Readings published while the broker is down are queued by paho and sent afterwards."""
    site = "runner-restart"
    estate = Estate(SiteLayout(site, elevators=0, water=1, power=1, cctv=0), seed=1)
    subscriber = Subscriber(
        own_broker.port, f"facility/{site}/+/+/telemetry", client_id="restart-sub", persistent=True
    )
    runner = Runner(estate, own_broker.url, interval=0.05, client_prefix="restart")
    runner.start()
    before = len(subscriber.wait_for(lambda m: len(m) >= 20, timeout=10))
    own_broker.stop()
    deadline = time.monotonic() + 10
    while runner.published < before + 40 and time.monotonic() < deadline:
        time.sleep(0.05)  # the broker is down: the runner publishes into paho's queue
    queued = runner.published
    assert queued >= before + 40
    own_broker.start()
    subscriber.wait_for(lambda m: len(m) > queued, timeout=15)  # reconnected and flushed
    report = runner.stop(timeout=15)

    def seqs(messages: list[tuple[str, bytes, bool]]) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {"pump-1": set(), "board-1": set()}
        for topic, payload, _ in messages:
            out[topic.split("/")[3]].add(int(orjson.loads(payload)["seq"]))
        return out

    expected = report.readings // 2  # two devices, one reading each per tick
    final = subscriber.wait_for(
        lambda m: all(len(s) >= expected for s in seqs(m).values()), timeout=20
    )
    for asset, got in seqs(final).items():
        assert got == set(range(1, expected + 1)), (
            asset,
            sorted(set(range(1, expected + 1)) - got),
        )
    subscriber.close()
