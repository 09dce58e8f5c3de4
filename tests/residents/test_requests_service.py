"""The requests service against the real databases: two dispatchers answering one request at
the same moment open one order; a refused request keeps no photo behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from facility_dispatch.kernel.photos import PhotoStore
from facility_dispatch.maintenance.authority import Rank
from facility_dispatch.maintenance.errors import ConflictError, NotFoundError, NotYoursError
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.residents.model import RequestRefusedError
from facility_dispatch.residents.requests import ResidentRequests
from tests.maintenance.harness import Harness


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[tuple[Harness, ResidentRequests, Path]]:
    harness = Harness(database_url)
    harness.people.put_site("north", name="North Garden", buildings=["3"])
    harness.technician("Li Na", "general")
    photos = tmp_path / "photos"
    yield harness, ResidentRequests(
        harness.sessions, harness.events, harness.orders, harness.people, PhotoStore(photos),
        harness.clock,
    ), photos  # fmt: skip
    harness.close()


def test_two_dispatchers_accepting_at_once_open_one_order(
    world: tuple[Harness, ResidentRequests, Path],
) -> None:
    harness, residents, _ = world
    request = residents.submit("north", "repair", "3", "1202", "leak", "13800005678").request
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(name: str) -> None:
        start.wait()
        try:
            residents.accept(request.id, Actor(name))
            outcomes.append("accepted")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=accept, args=(n,)) for n in ("Wu", "Zhao")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["accepted", "conflict"]
    orders, total = harness.orders.query(source="resident")
    assert total == 1 and residents.get(request.id).work_order_id == orders[0].id  # type: ignore[union-attr]
    assert [e.type for e in harness.events.since(0)].count("request.accepted") == 1


def test_a_refused_request_keeps_no_photo(world: tuple[Harness, ResidentRequests, Path]) -> None:
    _, residents, photos = world
    image = photos.parent / "p.png"
    Image.new("RGB", (10, 10)).save(image)
    good, script = image.read_bytes(), b"\x89PNG\r\n\x1a\n<script>alert(1)</script>"
    with pytest.raises(NotFoundError):
        residents.submit("south", "repair", "3", "1", "leak", "13800005678", [good])
    with pytest.raises(RequestRefusedError, match=r"^photos: "):
        residents.submit("north", "repair", "3", "1", "leak", "13800005678", [good, script])
    with pytest.raises(RequestRefusedError, match=r"^building: "):
        residents.submit("north", "repair", "9", "1", "leak", "13800005678", [good])
    assert list(photos.rglob("*.jpg")) == []
    residents.submit("north", "repair", "3", "1", "leak", "13800005678", [good, good])
    assert len(list(photos.rglob("*.jpg"))) == 2


def test_joining_an_open_order_notes_it_and_answers_the_request_together(
    world: tuple[Harness, ResidentRequests, Path],
) -> None:
    harness, residents, _ = world
    order = harness.orders.create(
        Actor("Wu"),
        auto_assign=False,
        site="north",
        title="burst pipe, building 3",
        priority="P2",
        skill="general",
        source="manual",
    )
    request = residents.submit("north", "repair", "3", "1202", "leak", "13800005678").request
    # a technician not on the order may not note it: the join fails as a whole
    outsider = Actor("Zhou", technician_id=999, rank=Rank.TECHNICIAN)
    with pytest.raises(NotYoursError):
        residents.accept(request.id, outsider, work_order_id=order.id)
    unchanged = residents.get(request.id)
    assert unchanged is not None and unchanged.decision == "new"
    assert unchanged.work_order_id is None
    assert "request.accepted" not in [e.type for e in harness.events.since(0)]
    joined = residents.accept(request.id, Actor("Wu"), work_order_id=order.id)
    assert joined.decision == "accepted" and joined.work_order_id == order.id
    full = harness.orders.get(order.id)
    assert full is not None
    notes = [e.note for e in full.timeline if e.event == "note"]
    assert notes == [f"resident request {request.id} (3-1202) joined: leak"]
    assert [e.type for e in harness.events.since(0)].count("request.accepted") == 1
