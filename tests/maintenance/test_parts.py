"""Spare parts on SQLite and PostgreSQL: the ledger, costs, low stock, and no negative stock."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from facility_dispatch.maintenance.authority import Rank
from facility_dispatch.maintenance.errors import ConflictError, NotPermittedError, NotYoursError
from facility_dispatch.maintenance.orders import Actor
from tests.maintenance.harness import PLANNER, PlanningHarness


@pytest.fixture
def h(database_url: str) -> Iterator[PlanningHarness]:
    harness = PlanningHarness(database_url)
    yield harness
    harness.close()


@pytest.fixture
def li(h: PlanningHarness) -> Actor:
    """The site's only plumber: every order here is assigned to her."""
    return Actor("Li Na", h.technician("Li Na", "plumbing"), Rank.TECHNICIAN)


def order(h: PlanningHarness) -> int:
    return h.orders.create(
        PLANNER,
        site="north",
        asset="pump-1",
        title="Seal leaking",
        priority="P3",
        skill="plumbing",
        source="manual",
    ).id


def test_reserve_consume_return_and_the_cost(h: PlanningHarness, li: Actor) -> None:
    part = h.parts.add(
        "SEAL-40", "Mechanical seal 40 mm", "pcs", 85.0, {"north": (5, 2)}, "storekeeper"
    )
    wo = order(h)
    lines = h.parts.move(wo, part.id, "reserve", 2, li)
    assert (lines[0].reserved, lines[0].consumed) == (2, 0)
    stock = h.parts.get(part.id).stock[0]  # type: ignore[union-attr]
    assert (stock.on_hand, stock.reserved, stock.available) == (5, 2, 3)
    lines = h.parts.move(wo, part.id, "consume", 1, li)  # one of the two reserved
    assert (lines[0].reserved, lines[0].consumed, lines[0].cost) == (1, 1, 85.0)
    lines = h.parts.move(wo, part.id, "release", 1, li)
    assert lines[0].reserved == 0
    with pytest.raises(ConflictError, match="holds 0"):
        h.parts.move(wo, part.id, "release", 1, li)
    h.parts.move(wo, part.id, "consume", 1, li)
    lines = h.parts.move(wo, part.id, "return", 1, li)  # taken, not needed after all
    assert (lines[0].consumed, lines[0].cost) == (1, 85.0)
    assert h.orders.get(wo).cost == 85.0  # type: ignore[union-attr]
    stock = h.parts.get(part.id).stock[0]  # type: ignore[union-attr]
    assert (stock.on_hand, stock.reserved) == (4, 0)
    actions = [m["action"] for m in h.parts.ledger(part.id)]
    assert actions == ["return", "consume", "release", "consume", "reserve", "receive"]


def test_low_stock_is_announced_once_until_restocked(h: PlanningHarness, li: Actor) -> None:
    part = h.parts.add("FUSE-10", "Fuse 10 A", "pcs", 2.5, {"north": (4, 3)}, "storekeeper")
    wo = order(h)
    h.parts.move(wo, part.id, "consume", 1, li)  # 3 free: at the point, not under
    assert [e.type for e in h.events.since(0)].count("part.low_stock") == 0
    h.parts.move(wo, part.id, "consume", 1, li)
    h.parts.move(wo, part.id, "consume", 1, li)
    assert [e.type for e in h.events.since(0)].count("part.low_stock") == 1
    assert [p.sku for p in h.parts.catalogue("north", low=True)] == ["FUSE-10"]
    h.parts.receive(part.id, "north", 10, "storekeeper", "delivery 2026-11-28")
    assert h.parts.catalogue("north", low=True) == []
    with pytest.raises(ConflictError, match="not enough FUSE-10"):
        h.parts.move(wo, part.id, "consume", 12, li)


def test_stock_never_goes_negative_under_concurrent_use(h: PlanningHarness, li: Actor) -> None:
    part = h.parts.add(
        "VALVE-25", "Ball valve DN25", "pcs", 40.0, {"north": (10, 0)}, "storekeeper"
    )
    orders = [order(h) for _ in range(4)]
    taken: list[float] = []
    refused: list[str] = []
    barrier = threading.Barrier(16)

    def take(order_id: int) -> None:
        barrier.wait()
        try:
            h.parts.move(order_id, part.id, "consume", 1, li)
            taken.append(1)
        except ConflictError as error:
            refused.append(str(error))

    threads = [threading.Thread(target=take, args=(orders[n % 4],)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    stock = h.parts.get(part.id).stock[0]  # type: ignore[union-attr]
    assert len(taken) == 10 and len(refused) == 6
    assert stock.on_hand == 0
    assert "0 pcs free" in refused[0]


def test_parts_move_only_on_ones_own_order(h: PlanningHarness, li: Actor) -> None:
    part = h.parts.add("SEAL-40", "Mechanical seal 40 mm", "pcs", 85.0, {"north": (5, 0)}, "sk")
    wo = order(h)
    wang = Actor("Wang Wei", h.technician("Wang Wei", "electrical", shift=False), Rank.TECHNICIAN)
    for stranger in (wang, Actor("no-one", None, Rank.TECHNICIAN), Actor("v", None, Rank.VIEWER)):
        with pytest.raises(NotPermittedError):
            h.parts.move(wo, part.id, "consume", 1, stranger)
    with pytest.raises(NotYoursError, match="not assigned to Wang Wei"):
        h.parts.move(wo, part.id, "reserve", 1, wang)
    assert h.parts.for_order(wo) == [] and h.orders.get(wo).cost == 0  # type: ignore[union-attr]
    stock = h.parts.get(part.id).stock[0]  # type: ignore[union-attr]
    assert (stock.on_hand, stock.reserved) == (5, 0)
    assert [m["action"] for m in h.parts.ledger(part.id)] == ["receive"]
    h.parts.move(wo, part.id, "consume", 1, li)  # hers
    h.parts.move(wo, part.id, "consume", 1, PLANNER)  # a planner's on any order
    assert h.parts.get(part.id).stock[0].on_hand == 3  # type: ignore[union-attr]
