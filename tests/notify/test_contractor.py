"""Lift work dispatched to a maintenance contractor reaches the contractor's receiver: the
target ``contractor`` resolves, at send time, to the receiver the order's contractor names
(a real webhook, a real database, SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from facility_dispatch.maintenance.contractors import ContractTechnician
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.notify.config import parse
from facility_dispatch.notify.targets import Roster, addresses
from tests.notify.conftest import NotifyHarness
from tests.notify.receivers import Webhook

CONFIG = """
receivers:
  - name: lift-care
    urls: ["{contractor}"]
  - name: duty-desk
    urls: ["{desk}"]
routes:
  - match: {{event: [work_order.assigned]}}
    to: [assignees, contractor]
"""


def test_the_contractor_covering_the_site_hears_of_lift_work_and_others_do_not(
    n: NotifyHarness,
) -> None:
    company = Webhook()
    company.start()
    try:
        n.notifier.configure(CONFIG.format(contractor=company.url, desk=n.hook.url))
        wang = n.person("Wang Wei", "wang@example.com")
        contractor = n.orders.contractors.create(
            n.clock.now(),
            "planner",
            name="Lift Care",
            phone_24h="400-820-1234",
            contract_start=date(2026, 1, 1),
            contract_end=date(2026, 12, 31),
            sites=["north"],
            kinds=["elevator"],
            response_minutes=30,
            receiver="lift-care",
            technicians=[ContractTechnician(wang.id, "WB-2201")],
        )
        order_id = n.p1()
        order = n.orders.get(order_id)
        assert order is not None and order.contractor_id == contractor.id
        n.notifier.step()

        assert len(company.received) == 1, "the contractor's desk hears once"
        message = company.received[0]
        assert order.number in message["title"]
        assert "lift-1" in message["message"]
        assert "/n/ack/" not in message["message"], "a shared desk gets no personal ack link"
        assert len(n.smtp.to("wang@example.com")) == 1
        assert n.hook.received == [], "the duty desk is not on this route"
        rows, _ = n.notifier.query(work_order_id=order_id)
        assert {r.receiver for r in rows} == {"Wang Wei", "lift-care"}

        # a plumbing order has no contractor: the target resolves to nobody
        n.technician("Li Na", "plumbing", contacts=[n.smtp.url("li@example.com")])
        leak = n.orders.create(
            Actor("planner"),
            site="north",
            title="Leak in 3-1202",
            priority="P3",
            skill="plumbing",
            source="manual",
        )
        n.notifier.step()
        assert leak.contractor_id is None
        assert len(company.received) == 1
        assert len(n.smtp.to("li@example.com")) == 1
    finally:
        company.stop()


FILE = """
receivers:
  - {name: lift-care, urls: ["json://127.0.0.1:9/lift", "tel:4008201234"]}
routes:
  - match: {event: [work_order.assigned]}
    to: [contractor]
"""


@pytest.mark.parametrize(
    ("contractor", "found"),
    [
        (None, []),  # the order has no contractor
        ((4, None), []),  # its contractor names no receiver
        ((4, "gone"), []),  # the receiver it names is not in the file (any more)
        ((4, "lift-care"), [("lift-care", "contractor:4", "json://127.0.0.1:9/lift")]),
    ],
)
def test_the_contractor_target_is_the_receiver_its_contract_names(
    contractor: tuple[int, str | None] | None, found: list[tuple[str, str, str]]
) -> None:
    config = parse(FILE, lambda url: url.startswith(("json://", "tel:")))
    roster = Roster((), (), frozenset(), contractor)
    got = addresses("contractor", "north", config, roster, lambda url: url.startswith("json://"))
    assert [(a.receiver, a.key, a.url) for a in got] == found
    assert all(a.technician_id is None for a in got), "a shared desk: no personal ack link"
