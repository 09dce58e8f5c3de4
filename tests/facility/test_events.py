"""The event log is an outbox numbered in commit order: a reader that follows it by id sees
every committed event once and in order, however writers interleave (on PostgreSQL ids are
handed out at insert, so with ids taken early a reader would pass over one that committed
late); an event of a rolled-back savepoint or transaction never appears."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from facility_dispatch.kernel.db import make_engine, make_sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.schema import migrate

WRITERS = 4
EACH = 150


@pytest.fixture
def log(database_url: str) -> Iterator[EventLog]:
    engine = make_engine(database_url)
    migrate(engine)
    yield EventLog(make_sessions(engine))
    engine.dispose()


def test_a_reader_sees_every_event_once_in_order_while_four_threads_write(
    log: EventLog,
) -> None:
    sessions = log._sessions
    done = threading.Event()
    seen: list[int] = []

    def write(writer: int) -> None:
        rng = random.Random(writer)
        for n in range(EACH):
            with sessions.begin() as session:
                log.record(session, "test.written", datetime.now(UTC), {"w": writer, "n": n}, None)
                session.flush()  # as the work-order service does, to learn its rows' ids
                time.sleep(rng.random() * 0.004)  # commit late, sometimes after a later one
            log.notify()

    def read() -> None:
        after = 0
        while True:
            finished = done.is_set()
            for event in log.since(after, 50):
                seen.append(event.id)
                after = event.id
            if finished:
                return
            time.sleep(0.001)

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(120)
    done.set()
    reader.join(30)

    stored = [event.id for event in log.since(0, 10_000)]
    assert len(stored) == WRITERS * EACH
    assert seen == stored  # none skipped, none twice, in order
    print(f"events: written {len(stored)}, streamed {len(seen)}, skipped {len(stored) - len(seen)}")


def test_events_of_what_rolled_back_never_appear(log: EventLog) -> None:
    sessions = log._sessions
    now = datetime.now(UTC)
    with sessions.begin() as session:
        log.record(session, "test.kept", now, {}, None)
        try:
            with session.begin_nested():
                log.record(session, "test.savepoint", now, {}, None)
                raise RuntimeError("the insert of a concurrent twin failed")
        except RuntimeError:
            pass
        log.record(session, "test.after", now, {}, None)
    with pytest.raises(RuntimeError), sessions.begin() as session:
        log.record(session, "test.rolled_back", now, {}, None)
        raise RuntimeError("the change failed")
    assert [e.type for e in log.since(0)] == ["test.kept", "test.after"]
