"""The telemetry store contract, run against every adapter (InfluxDB when one is configured)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from facility_dispatch.ingest.sqlite_store import SqliteTelemetryStore
from facility_dispatch.ingest.store import TelemetryStore
from facility_dispatch.kernel.readings import Reading

T0 = 1_795_746_000_000


def reading(
    asset: str, ts: int, seq: int | None = None, given: bool = True, **metrics: object
) -> Reading:
    return Reading("estate-1", "water", asset, ts, metrics or {"pressure_bar": 3.0}, seq, given)  # type: ignore[arg-type]


StoreOpener = Callable[[], TelemetryStore]


@pytest.fixture(params=["sqlite", pytest.param("influxdb", marks=pytest.mark.influx)])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreOpener]:
    """Opens the adapter on the same storage each time it is called: a restarted service."""
    opened: list[TelemetryStore] = []
    if request.param == "sqlite":

        def sqlite() -> TelemetryStore:
            opened.append(SqliteTelemetryStore(tmp_path / "telemetry.db"))
            return opened[-1]

        yield sqlite
    else:
        url = os.environ.get("FACILITY_TEST_INFLUX_URL")
        if not url:
            pytest.skip("FACILITY_TEST_INFLUX_URL is not set (docker-compose provides InfluxDB)")
        from facility_dispatch.ingest.influx_store import InfluxTelemetryStore

        def influx() -> TelemetryStore:
            opened.append(
                InfluxTelemetryStore(
                    url,
                    os.environ["FACILITY_TEST_INFLUX_TOKEN"],
                    os.environ.get("FACILITY_TEST_INFLUX_ORG", "facility"),
                    os.environ.get("FACILITY_TEST_INFLUX_BUCKET", "telemetry"),
                    spool_dir=tmp_path / "spool",
                )
            )
            return opened[-1]

        yield influx
    for each in opened:
        each.close()


@pytest.fixture
def store(open_store: StoreOpener) -> TelemetryStore:
    return open_store()


@pytest.fixture
def asset() -> str:
    return f"pump-{uuid.uuid4().hex[:8]}"  # InfluxDB keeps data between runs


def test_write_returns_new_readings_and_stores_each_once(store: TelemetryStore, asset: str) -> None:
    batch = [reading(asset, T0 + i * 1000, seq=i, pressure_bar=3.0 + i / 10) for i in range(5)]
    assert store.write(batch) == batch
    assert store.write(batch) == []  # a redelivered batch
    points = store.history("estate-1", asset, "pressure_bar", T0, T0 + 10_000)
    assert [p.ts_ms for p in points] == [T0 + i * 1000 for i in range(5)]
    assert [p.value for p in points] == pytest.approx([3.0, 3.1, 3.2, 3.3, 3.4])


def test_duplicate_by_time_within_one_batch(store: TelemetryStore, asset: str) -> None:
    first = reading(asset, T0, pressure_bar=3.0)
    again = reading(asset, T0, pressure_bar=3.0)
    assert store.write([first, again]) == [first]


def test_a_batch_of_new_and_stored_readings_returns_the_new_ones_in_order(
    store: TelemetryStore, asset: str
) -> None:
    """The writer hands on what the store returns, and only that, to the rules: a redelivered
    batch that overlaps what landed must give back exactly the new readings, in their order."""
    stored = [reading(asset, T0 + i * 1000, seq=i) for i in (1, 3)]
    assert store.write(stored) == stored
    batch = [reading(asset, T0 + i * 1000, seq=i) for i in (4, 3, 0, 1, 2)]
    assert store.write(batch) == [batch[0], batch[2], batch[4]]
    points = store.history("estate-1", asset, "pressure_bar", T0, T0 + 10_000)
    assert [p.ts_ms for p in points] == [T0 + i * 1000 for i in range(5)]


def test_duplicate_by_seq_when_the_device_sent_no_time(store: TelemetryStore, asset: str) -> None:
    first = reading(asset, T0, seq=7, given=False)
    redelivered = reading(asset, T0 + 4000, seq=7, given=False)  # received later
    assert store.write([first]) == [first]
    assert store.write([redelivered]) == []


def test_redelivery_after_a_restart_is_stored_once(open_store: StoreOpener, asset: str) -> None:
    """The broker delivers again what was stored but not acknowledged when the service died:
    readings with a time are the same points; readings with only a seq get new receipt times,
    and the restarted adapter must still know them (persistent idempotence)."""
    before = open_store()
    timed = [reading(asset, T0 + i * 1000, seq=i) for i in range(3)]
    untimed = [reading(asset, T0 + 5000 + i * 1000, seq=100 + i, given=False) for i in range(3)]
    assert before.write(timed + untimed) == timed + untimed
    before.close()

    after = open_store()  # a new process
    again = timed + [r._replace(ts_ms=r.ts_ms + 60_000) for r in untimed]  # received later
    assert after.write(again) == []
    newer = reading(asset, T0 + 70_000, seq=103, given=False)
    assert after.write([newer]) == [newer]
    points = after.history("estate-1", asset, "pressure_bar", T0, T0 + 200_000)
    assert len(points) == 7


def test_history_downsampled(store: TelemetryStore, asset: str) -> None:
    store.write([reading(asset, T0 + i * 10_000, pressure_bar=float(i)) for i in range(12)])
    points = store.history("estate-1", asset, "pressure_bar", T0, T0 + 120_000, every_ms=60_000)
    assert [p.value for p in points] == pytest.approx([2.5, 8.5])
    highest = store.history(
        "estate-1", asset, "pressure_bar", T0, T0 + 120_000, every_ms=60_000, agg="max"
    )
    assert [p.value for p in highest] == pytest.approx([5.0, 11.0])


def test_history_of_booleans_and_unknown_asset(store: TelemetryStore, asset: str) -> None:
    store.write([reading(asset, T0 + i * 1000, pump_running=i % 2 == 0) for i in range(3)])
    points = store.history("estate-1", asset, "pump_running", T0, T0 + 5000)
    assert [p.value for p in points] == [True, False, True]
    assert store.history("estate-1", "nobody", "pump_running", T0, T0 + 5000) == []


def test_since_replays_in_time_order(store: TelemetryStore, asset: str) -> None:
    store.write([reading(asset, T0 + i * 1000, seq=i, pressure_bar=float(i)) for i in (2, 0, 1)])
    replayed = [r for r in store.since(T0) if r.asset == asset]
    assert [r.ts_ms for r in replayed] == [T0 + 1000, T0 + 2000]
    assert replayed[0].metrics == {"pressure_bar": 1.0}


def test_sqlite_restarted_device_counter_is_not_a_duplicate(tmp_path: Path) -> None:
    store = SqliteTelemetryStore(tmp_path / "t.db")
    before = [reading("pump-1", T0 + i * 1000, seq=i) for i in range(3)]
    store.write(before)
    store.close()
    store = SqliteTelemetryStore(tmp_path / "t.db")  # the service restarted too
    after_reboot = [reading("pump-1", T0 + 10_000 + i * 1000, seq=i) for i in range(3)]
    assert store.write(after_reboot) == after_reboot
    assert store.write([before[1]]) == []  # an old redelivery is still a duplicate
    assert store.count() == 6  # type: ignore[attr-defined]
    store.close()


def test_sqlite_prune(tmp_path: Path) -> None:
    store = SqliteTelemetryStore(tmp_path / "t.db")
    store.write([reading("pump-1", T0 + i * 1000) for i in range(10)])
    assert store.prune(T0 + 5000) == 5
    assert store.count() == 5
    store.close()


def test_sqlite_keeps_each_value_exactly(tmp_path: Path) -> None:
    """The batch goes to SQLite as one JSON array: what comes back must be what went in, to the
    last bit of a float and the last escape of a string."""
    store = SqliteTelemetryStore(tmp_path / "t.db")
    values: list[dict[str, object]] = [
        {"pressure_bar": 1.2000000000000002, "flow_m3h": 5e-324},
        {"pressure_bar": -0.0, "flow_m3h": 1.7976931348623157e308},
        {"fault_code": 'E"\\/\u2028\u0000门', "pump_running": False},
        {"energy_kwh": 9_223_372_036_854_775_807, "car_floor": -9_223_372_036_854_775_808},
    ]
    batch = [reading("pump-1", T0 + i, **metrics) for i, metrics in enumerate(values)]
    assert store.write(batch) == batch
    back = list(store.since(T0 - 1))
    assert [r.metrics for r in back] == values
    assert [repr(v) for r in back for v in r.metrics.values()] == [
        repr(v) for m in values for v in m.values()
    ]
    store.close()
