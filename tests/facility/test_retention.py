"""Retention prunes the event log and the embedded telemetry past their time, and only that."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from facility_dispatch.ingest.sqlite_store import SqliteTelemetryStore
from facility_dispatch.kernel.clock import ManualClock, to_ms
from facility_dispatch.kernel.db import make_engine, make_sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.kernel.readings import Reading
from facility_dispatch.retention import Retention
from facility_dispatch.schema import migrate


def test_what_is_past_its_time_goes_and_the_rest_stays(tmp_path: Path, database_url: str) -> None:
    clock = ManualClock()
    engine = make_engine(database_url)
    migrate(engine)
    events = EventLog(make_sessions(engine))
    store = SqliteTelemetryStore(tmp_path / "telemetry.db")
    now = clock.now()
    for age_days in (40, 31, 29, 1):
        events.publish("test.aged", now - timedelta(days=age_days), {}, None)
    store.write(
        [
            Reading("s", "water", "p1", to_ms(now - timedelta(days=age)), {"pressure_bar": 3.0})
            for age in (500, 401, 399, 0)
        ]
    )
    retention = Retention(
        events,
        store,
        clock,
        events_kept=timedelta(days=30),
        telemetry_kept=timedelta(days=400),
    )
    assert retention.prune() == (2, 2)
    assert len(events.since(0)) == 2
    assert store.count() == 2
    assert retention.prune() == (0, 0)
    store.close()
    engine.dispose()
