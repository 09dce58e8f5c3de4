"""A resident's low rating reaches the site's supervisor: the ``request.feedback_low`` event goes
through a route ``to: [supervisor]`` and the real notifier into the outbox and out by SMTP, and
the complaint review names the same people the notification reached (the roster's supervisors
of the site, not the site record's ``supervisor`` text)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from facility_dispatch.kernel.photos import PhotoStore
from facility_dispatch.maintenance.authority import Rank
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.notify.sql import OutboxRow
from facility_dispatch.residents.requests import ResidentRequests
from tests.notify.conftest import CONFIG, NotifyHarness

LOW_RATINGS = """
  - name: low ratings
    match: {event: [request.feedback_low]}
    to: [supervisor]
"""
DISPATCHER = Actor("调度 Wu", None, Rank.PLANNER)


@pytest.fixture
def residents(n: NotifyHarness, tmp_path: Path) -> Iterator[ResidentRequests]:
    n.people.put_site(
        "north", name="North Garden", timezone="Asia/Shanghai", supervisor="Zhou Min (office)"
    )
    n.notifier.configure(CONFIG.format(hook=n.hook.url) + LOW_RATINGS)
    yield ResidentRequests(
        n.sessions, n.events, n.orders, n.people, PhotoStore(tmp_path / "photos"), n.clock
    )


def rated(n: NotifyHarness, residents: ResidentRequests, rating: int) -> int:
    """A request reported, accepted, worked by the plumber on shift and rated; its id."""
    plumber = n.technician("Sun Li", "plumbing", contacts=[n.smtp.url("sun@example.com")])
    submitted = residents.submit("north", "repair", "3", "1202", "厨房漏水", "13800005678")
    accepted = residents.accept(submitted.request.id, DISPATCHER, skill="plumbing")
    assert accepted.work_order_id is not None
    worker = Actor("Sun Li", plumber, Rank.TECHNICIAN)
    for step in ("acknowledged", "in_progress", "resolved"):
        n.orders.transition(accepted.work_order_id, step, worker, action="换了接头")
    n.notifier.step()  # what the order itself sent so far is not this test's business
    residents.feedback(submitted.token, rating, "还是漏")
    n.notifier.step()
    return submitted.request.id


def low_rating_outbox(n: NotifyHarness) -> list[OutboxRow]:
    with n.sessions() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.event == "request.feedback_low"))
        return list(rows)


def test_a_rating_of_2_reaches_the_sites_supervisor_whom_the_review_names(
    n: NotifyHarness, residents: ResidentRequests
) -> None:
    n.person("Li Na", "li@example.com", role="supervisor", shift=False)
    n.person("Wang Fang", "wang@example.com", role="supervisor", shift=False, sites="south")
    n.person("Gao Yi", "gao@example.com", role="supervisor", shift=False, active=False)
    request_id = rated(n, residents, 2)

    entries = low_rating_outbox(n)
    assert [(e.receiver, e.site, e.status) for e in entries] == [("Li Na", "north", "sent")]
    (mail,) = n.smtp.to("li@example.com")
    assert "住户差评" in entries[0].title and "North Garden" in mail.body, mail.body
    assert "13800005678" not in mail.body  # the resident's phone is nobody's business here
    for nobody in ("wang@example.com", "gao@example.com"):  # another site's, and one who left
        assert n.smtp.to(nobody) == []

    (review,) = residents.reviews("north")
    assert (review.request_id, review.rating) == (request_id, 2)
    assert review.supervisor == "Li Na"  # the one told, not the site record's "Zhou Min (office)"


def test_a_rating_of_3_tells_nobody_and_no_supervisor_on_the_roster_is_named_as_nobody(
    n: NotifyHarness, residents: ResidentRequests
) -> None:
    rated(n, residents, 3)
    assert low_rating_outbox(n) == [] and residents.reviews("north") == []

    second = residents.submit("north", "repair", "3", "801", "门禁坏了", "13911112222")
    order = residents.accept(second.request.id, DISPATCHER, skill="plumbing").work_order_id
    assert order is not None
    found = n.orders.get(order)
    assert found is not None and found.assignees
    worker = Actor("Sun Li", found.assignees[0], Rank.TECHNICIAN)
    for step in ("acknowledged", "in_progress", "resolved"):
        n.orders.transition(order, step, worker)
    n.notifier.step()
    residents.feedback(second.token, 1)
    n.notifier.step()
    # no supervisor of the site on the roster: the notification reaches nobody, and the review
    # does not pretend the site record's name was told
    assert low_rating_outbox(n) == []
    (review,) = residents.reviews("north")
    assert review.supervisor is None
