"""The terminal shows what happened: each committed event one line at INFO (an alarm fired, an
order assigned), a rolled-back one never, and the HTTP access log only when debugging."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from facility_dispatch import logs
from facility_dispatch.kernel.db import make_engine, make_sessions
from facility_dispatch.kernel.events import EventLog, describe
from facility_dispatch.schema import migrate

AT = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


@pytest.fixture
def events(tmp_path: Path) -> Iterator[EventLog]:
    engine = make_engine(f"sqlite:///{tmp_path / 'events.db'}")
    migrate(engine)
    yield EventLog(make_sessions(engine))
    engine.dispose()


class Lines(logging.Handler):
    """The records of one logger, held on the logger itself: pytest's capture sits on the root
    logger, whose handlers another test in the same process may have replaced
    (``logs.configure`` does, as ``facility`` does at start)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def event_lines() -> Iterator[Lines]:
    logger = logging.getLogger("facility_dispatch.events")
    lines, level, disabled = Lines(), logger.level, logger.disabled
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    logger.disabled = False
    try:
        yield lines
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
        logger.disabled = disabled


def test_committed_events_are_logged_at_info(events: EventLog, event_lines: Lines) -> None:
    payload = {"number": "WO-2026-000001", "site": "north", "actor": "dispatcher", "note": "x"}
    with events._sessions.begin() as session:
        events.record(session, "work_order.assigned", AT, payload, "north")
    with events._sessions.begin() as session:
        events.record(session, "asset.presence", AT, {"site": "north", "asset": "cam-1"}, None)
    with pytest.raises(RuntimeError), events._sessions.begin() as session:
        events.record(session, "work_order.cancelled", AT, payload, "north")
        raise RuntimeError("rolled back")
    lines = [r.getMessage() for r in event_lines.records]
    assert lines == [
        "work_order.assigned number=WO-2026-000001 site=north actor=dispatcher note='x'"
    ]
    assert all(r.levelno == logging.INFO for r in event_lines.records)


def test_describe_names_the_facts() -> None:
    line = describe("alarm.fired", {"site": "n", "asset": "pump-1", "fault": "leak", "x": 1})
    assert line == "alarm.fired site=n asset=pump-1 fault=leak"


@pytest.mark.parametrize(("level", "access"), [("INFO", logging.WARNING), ("DEBUG", 0)])
def test_the_access_log_is_for_debugging(level: str, access: int) -> None:
    root = logging.getLogger()
    handlers, before = root.handlers[:], root.level
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.setLevel(logging.NOTSET)
    try:
        logs.configure(level)
        assert uvicorn_access.level == access
    finally:
        root.handlers[:] = handlers
        root.setLevel(before)
        uvicorn_access.setLevel(logging.NOTSET)
