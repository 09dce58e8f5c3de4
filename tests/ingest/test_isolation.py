"""One reading the store cannot keep never holds up the rest: the write path halves the batch
until it has found it, dead-letters it, and stores and acknowledges everything else."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import sessionmaker

from facility_dispatch.ingest.assets import AssetDirectory
from facility_dispatch.ingest.decoding import DecodePolicy
from facility_dispatch.ingest.metrics import IngestMetrics
from facility_dispatch.ingest.mqtt import InboundMessage
from facility_dispatch.ingest.pipeline import IngestPipeline
from facility_dispatch.ingest.sql import SqlAssetRegistry, SqlDeadLetters
from facility_dispatch.ingest.sqlite_store import SqliteTelemetryStore
from facility_dispatch.ingest.store import ReadingRefusedError
from facility_dispatch.kernel.db import make_engine, make_sessions
from facility_dispatch.kernel.readings import Reading
from facility_dispatch.schema import migrate

NOW_MS = 1_795_746_000_000


class PickyStore(SqliteTelemetryStore):
    """The real SQLite store, refusing readings that carry ``conflict`` as InfluxDB refuses a
    field whose type it has fixed otherwise; ``away`` failures stand for an outage."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes = 0
        self.away = 0

    def write(self, readings: Sequence[Reading]) -> list[Reading]:
        self.writes += 1
        if self.away:
            self.away -= 1
            raise sqlite3.OperationalError("database is locked")
        if any("conflict" in r.metrics for r in readings):
            raise ReadingRefusedError("field type conflict: conflict is a float")
        return super().write(readings)


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker]:  # type: ignore[type-arg]
    engine = make_engine(f"sqlite:///{tmp_path / 'facility.db'}")
    migrate(engine)
    yield make_sessions(engine)
    engine.dispose()


def pipeline_for(
    store: SqliteTelemetryStore,
    sessions: sessionmaker,  # type: ignore[type-arg]
    acked: list[int],
) -> tuple[IngestPipeline, SqlDeadLetters]:
    registry = SqlAssetRegistry(sessions)
    letters = SqlDeadLetters(sessions, 1000)
    pipeline = IngestPipeline(
        store,
        AssetDirectory([], "auto"),
        registry,
        letters,
        IngestMetrics(CollectorRegistry()),
        policy=DecodePolicy(),
        now_ms=lambda: NOW_MS,
        ack=lambda messages: acked.extend(m.mid for m in messages),
    )
    return pipeline, letters


def message(mid: int, metrics: dict[str, object], asset: str = "pump-1") -> InboundMessage:
    payload = orjson.dumps({"ts": NOW_MS - 60_000 + mid, "metrics": metrics})
    return InboundMessage(f"facility/s1/water/{asset}/telemetry", payload, 1, mid, NOW_MS, 1)


def test_a_refused_reading_is_found_dead_lettered_and_the_rest_stored(
    tmp_path: Path,
    sessions: sessionmaker,  # type: ignore[type-arg]
) -> None:
    store = PickyStore(tmp_path / "telemetry.db")
    acked: list[int] = []
    pipeline, letters = pipeline_for(store, sessions, acked)
    batch = [message(i, {"pressure_bar": 3.0}) for i in range(1, 101)]
    batch[17] = message(18, {"conflict": "text"})
    batch[80] = message(81, {"conflict": "text"}, asset="pump-2")

    stored = pipeline.process(batch)
    pipeline.flush_registry()

    assert len(stored) == 98
    assert store.count() == 98
    assert acked == list(range(1, 101))  # every message acknowledged, in order
    refused, total = letters.list("store_refused")
    assert total == 2
    assert {(d.topic.split("/")[3], "field type conflict" in d.detail) for d in refused} == {
        ("pump-1", True),
        ("pump-2", True),
    }
    # halving, not one write per reading: 2 poison readings in 100 cost a few dozen writes
    assert store.writes < 30


def test_an_outage_is_waited_out_not_dead_lettered(
    tmp_path: Path,
    sessions: sessionmaker,  # type: ignore[type-arg]
) -> None:
    store = PickyStore(tmp_path / "telemetry.db")
    store.away = 3
    acked: list[int] = []
    pipeline, letters = pipeline_for(store, sessions, acked)
    stored = pipeline.process([message(i, {"pressure_bar": 3.0}) for i in range(1, 11)])
    pipeline.flush_registry()
    assert len(stored) == 10
    assert letters.list()[1] == 0
    assert pipeline.store_healthy


def test_sqlite_refuses_what_it_cannot_hold_as_a_refusal_not_an_outage(tmp_path: Path) -> None:
    store = SqliteTelemetryStore(tmp_path / "telemetry.db")
    good = Reading("s1", "water", "p1", NOW_MS, {"pressure_bar": 3.0})
    huge = Reading("s1", "water", "p1", NOW_MS + 1, {"odd": 2**70})
    with pytest.raises(ReadingRefusedError, match="64-bit"):
        store.write([good, huge])
    assert store.count() == 0  # atomic: nothing of the batch
    assert store.write([good]) == [good]  # and the store is still usable
    store.close()


def test_a_fault_of_ours_dead_letters_the_message_and_ingest_goes_on(
    tmp_path: Path,
    sessions: sessionmaker,  # type: ignore[type-arg]
) -> None:
    """A consumer that fails is logged and skipped; a directory that throws on one reading
    makes that message unhandled, and the others of its batch are still stored."""
    store = SqliteTelemetryStore(tmp_path / "telemetry.db")
    acked: list[int] = []
    pipeline, letters = pipeline_for(store, sessions, acked)
    directory = pipeline._directory
    admit = directory.admit

    def flaky(reading: Reading, now_ms: int) -> object:
        if reading.asset == "bad":
            raise KeyError("a bug of ours")
        return admit(reading, now_ms)

    directory.admit = flaky  # type: ignore[method-assign]
    pipeline.on_readings(lambda readings: 1 / 0)  # type: ignore[arg-type,func-returns-value]
    pipeline.start()
    try:
        for i in range(1, 6):
            pipeline.submit(message(i, {"pressure_bar": 3.0}, asset="bad" if i == 3 else "ok"))
        pipeline.settle(5)
    finally:
        pipeline.stop()
    assert store.count() == 4
    assert acked == [1, 2, 3, 4, 5]
    assert letters.list("unhandled")[1] == 1
    assert not pipeline.alive  # stopped by us, not died
