"""One order per (asset, fault) when alarms arrive at once on many threads: the database's
constraint decides, on PostgreSQL and on SQLite."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from facility_dispatch.kernel.clock import from_ms
from facility_dispatch.maintenance.sql import WorkOrderRow
from facility_dispatch.rules.sql import AlarmRow
from tests.maintenance.harness import Harness

THREADS = 12


@pytest.fixture
def h(database_url: str) -> Iterator[Harness]:
    harness = Harness(database_url)
    yield harness
    harness.close()


def test_concurrent_alarms_of_one_fault_make_one_order(h: Harness) -> None:
    h.technician("Li Na", "plumbing")
    with h.sessions.begin() as session:
        rows = [
            AlarmRow(
                rule_id="water-leak",
                site="north",
                asset="pump-1",
                kind="water",
                fault="leak",
                severity="major",
                state="resolved",
                description="",
                started_at=from_ms(n),
                silenced=False,
            )
            for n in range(THREADS)
        ]
        session.add_all(rows)
        session.flush()
        ids = [r.id for r in rows]
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def dispatch(alarm_id: int) -> None:
        barrier.wait()
        try:
            order, created = h.orders.open_from_alarm(alarm_id, "P2", "plumbing")
            results.append((order.id, created))
        except BaseException as error:  # a failure must show in the assertion below
            errors.append(error)

    threads = [threading.Thread(target=dispatch, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len({order_id for order_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    with h.sessions() as session:
        assert session.scalar(select(func.count()).select_from(WorkOrderRow)) == 1
        linked = session.scalars(select(AlarmRow.work_order_id).where(AlarmRow.id.in_(ids))).all()
    assert set(linked) == {results[0][0]}
    order = h.orders.get(results[0][0])
    assert order is not None and order.number == "WO-2026-000001"  # no number lost to a retry
    assert len(order.alarm_ids) == THREADS
