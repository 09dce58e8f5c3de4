"""Recordings replayed through the running service at 100x raise exactly the alarms the
backtest raises from the same recordings (issue 17: judgement in the readings' own time).
Three SKAB recordings play side by side, each its own pump: the service keeps their learning
apart as the backtest's separate runs do."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from facility_dispatch.backtesting import series_readings
from facility_dispatch.kernel.clock import to_ms
from facility_dispatch.rules.backtest import run
from facility_dispatch.rules.loader import load_default
from facility_dispatch.simulators.replay import Replay, load_dataset
from tests.builders import make_settings, publisher, running_service, wait_until
from tests.services import Broker

SPEED = 100.0
# rotor imbalance (vibration), an inlet valve (flow held low 3 min), a valve that unloads the
# motor (its temperature falling): about 20 minutes each, played side by side
PARTS = ("skab:other/9.csv", "skab:valve1/3.csv", "skab:valve1/0.csv")


@pytest.mark.broker
def test_replay_at_100x_through_the_service_raises_the_backtests_alarms(
    broker: Broker, datasets: Path, tmp_path: Path
) -> None:
    series = [one for part in PARTS for one in load_dataset(part, datasets)]
    expected = {
        (
            one.asset,
            a.fault,
            a.rule_id,
            a.fired_ms - round(one.origin * 1000),
            (a.resolved_ms - round(one.origin * 1000)) if a.resolved_ms else None,
        )
        for one in series
        for a in run(load_default(), series_readings(one, "backtest"))
    }
    assert {e[0] for e in expected} == {"pump-other-9", "pump-valve1-3", "pump-valve1-0"}
    assert "water-pump-motor-temp-fall" in {e[2] for e in expected}

    site = f"replay-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site])
    with running_service(settings) as service, publisher(broker.url) as device:
        replay = Replay(series, site=site, speed=SPEED, start=datetime.now(UTC))
        first_ms = {one.asset: round(replay.timestamp(one, 0.0) * 1000) for one in series}
        while not replay.finished:
            tick = replay.step(datetime.now(UTC))
            device.publish_many([(r.topic, r.payload()) for r in tick.readings])
            time.sleep(0.02)

        def seen() -> set[tuple[str, str, str, int, int | None]]:
            alarms, _ = service.alarms.query(site=site, limit=1000)
            return {
                (
                    a.asset,
                    a.fault,
                    a.rule_id,
                    to_ms(a.fired_at) - first_ms[a.asset],
                    (to_ms(a.resolved_at) - first_ms[a.asset]) if a.resolved_at else None,
                )
                for a in alarms
                if a.fired_at is not None
            }

        # the last alarm resolves on the last readings: wait until they are judged
        try:
            wait_until(lambda: seen() == expected, timeout=30)
        except AssertionError:
            assert seen() == expected
        alarms, _ = service.alarms.query(site=site, limit=1000)
        assert all(a.resolved_at is None or a.resolved_at >= a.fired_at for a in alarms)
