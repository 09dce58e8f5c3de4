"""The InfluxDB adapter's line protocol, Flux and spool, checked without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from facility_dispatch.ingest.influx_store import flux_string, history_query, line, since_query
from facility_dispatch.ingest.spool import DiskSpool, SpoolFullError
from facility_dispatch.kernel.readings import Reading


def test_line_protocol_types_and_escaping() -> None:
    reading = Reading(
        "estate 1",
        "elevator",
        "lift,1=a",
        1_795_746_000_123,
        {"speed_mps": 2, "moving": True, "door_state": 'say "hi"\nnow', "car_floor": 3},
        42,
    )
    assert line(reading) == (
        "telemetry,site=estate\\ 1,kind=elevator,asset=lift\\,1\\=a "
        'speed_mps=2.0,moving=true,door_state="say \\"hi\\" now",car_floor=3i,reading_seq=42i '
        "1795746000123"
    )


def test_flux_strings_cannot_break_out() -> None:
    assert flux_string('a"b') == '"a\\"b"'
    assert flux_string("${secret}") == '"\\${secret}"'
    assert flux_string("back\\slash") == '"back\\\\slash"'


def test_history_query_shapes() -> None:
    raw = history_query("tele", "estate-1", "pump-1", "pressure_bar", 0, 60_000, None, "mean", 50)
    assert 'r.site == "estate-1" and r.asset == "pump-1" and r._field == "pressure_bar"' in raw
    assert "aggregateWindow" not in raw
    assert raw.rstrip().endswith("tail(n: 50)")
    down = history_query("tele", "e", "p", "pressure_bar", 0, 60_000, 60_000, "max", 50)
    assert "aggregateWindow(every: 60000ms, fn: max" in down
    # booleans and strings cannot be averaged: the last value of each bucket stands
    flags = history_query("tele", "e", "p", "pump_running", 0, 60_000, 60_000, "mean", 50)
    assert "fn: last" in flags
    assert 'range(start: time(v: "1970-01-01T00:00:00.001000Z"))' in since_query("tele", 0)


def test_spool_keeps_order_and_survives_a_restart(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path)
    for n in range(3):
        spool.append(f"batch {n}")
    reopened = DiskSpool(tmp_path)
    assert len(reopened) == 3
    sent: list[str] = []

    def flaky(text: str) -> None:
        if text == "batch 1" and "fail" not in sent:
            sent.append("fail")
            raise ConnectionError("store away")
        sent.append(text)

    with pytest.raises(ConnectionError):
        reopened.drain(flaky)
    assert len(reopened) == 2  # batch 0 went, batch 1 stays first in line
    assert reopened.drain(flaky) == 2
    assert sent == ["batch 0", "fail", "batch 1", "batch 2"]
    assert len(reopened) == 0 and reopened.bytes == 0


def test_spool_refuses_past_its_bound(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, max_bytes=10)
    spool.append("12345")
    with pytest.raises(SpoolFullError):
        spool.append("1234567")


class RefusedError(Exception):
    status = 400


def test_a_spooled_batch_the_store_refuses_is_set_aside_and_the_drain_goes_on(
    tmp_path: Path,
) -> None:
    spool = DiskSpool(tmp_path)
    for n in range(3):
        spool.append(f"batch {n}")
    sent: list[str] = []

    def send(text: str) -> None:
        if text == "batch 1":
            raise RefusedError("partial write: field type conflict")
        sent.append(text)

    assert spool.drain(send, refused=lambda error: getattr(error, "status", 0) == 400) == 2
    assert sent == ["batch 0", "batch 2"]
    assert len(spool) == 0 and spool.bytes == 0
    assert [p.read_text() for p in (tmp_path / "refused").iterdir()] == ["batch 1"]
    assert len(DiskSpool(tmp_path)) == 0  # set aside for good, not drained again
