"""A notifier on a real database with a clock the test moves, real SMTP and webhook receivers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from facility_dispatch.api.dashboard.wording import order_words
from facility_dispatch.maintenance.authority import Rank
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.maintenance.people import Technician
from facility_dispatch.notify.apprise_sender import AppriseSender
from facility_dispatch.notify.outbox import Notifier
from tests.maintenance.harness import Harness
from tests.notify.receivers import SmtpInbox, Webhook

CONFIG = """
receivers:
  - name: duty-desk
    urls: ["{hook}"]
routes:
  - name: urgent
    match: {{priority: [P1], site: "*"}}
    to: [assignees, duty-desk]
    repeat: 5m
    escalate_after: 10m
    escalate_to: [supervisor]
  - match: {{event: [work_order.assigned]}}
    to: [assignees]
"""


class NotifyHarness(Harness):
    def __init__(self, url: str, smtp: SmtpInbox, hook: Webhook) -> None:
        super().__init__(url)
        self.smtp, self.hook = smtp, hook
        self.registry = CollectorRegistry()
        self.notifier = self.make_notifier(registry=self.registry)
        self.notifier.configure(CONFIG.format(hook=hook.url))
        self.notifier.step()  # the cursor starts here

    def make_notifier(self, **changes: Any) -> Notifier:
        """A notifier over this harness's database and clock, as the service builds one
        (``changes``: the keyword arguments a test sets otherwise)."""
        return Notifier(
            self.sessions,
            self.events,
            self.orders,
            self.people,
            self.clock,
            AppriseSender(),
            **{
                "secret": b"test-secret",
                "public_url": "http://dispatch.example",
                "timezone": "Asia/Shanghai",
                "wording": order_words,
                **changes,
            },
        )

    def person(self, name: str, mail: str, role: str = "technician", **extra: object) -> Technician:
        tech_id = self.technician(
            name, "elevator", contacts=[self.smtp.url(mail), "tel:13800000000"], role=role, **extra
        )
        found = self.people.technician(tech_id)
        assert found is not None
        return found

    def p1(self, asset: str = "lift-1") -> int:
        alarm = self.fire(asset, "elevator", "entrapment", "elevator-entrapment")
        order, _ = self.orders.open_from_alarm(alarm, "P1", "elevator", "Passenger trapped")
        return order.id

    def metric(self, name: str) -> float:
        """One sample as ``/metrics`` shows it (the route serves this registry's exposition)."""
        text = generate_latest(self.registry).decode()
        found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
        assert found is not None, f"{name} not in\n{text}"
        return float(found.group(1))

    def later(self, **delta: float) -> int:
        self.clock.advance(timedelta(**delta))
        return self.notifier.step()

    def acknowledge(self, order_id: int, technician: Technician) -> None:
        self.orders.transition(
            order_id, "acknowledged", Actor(technician.name, technician.id, Rank.TECHNICIAN)
        )


@pytest.fixture
def receivers() -> Iterator[tuple[SmtpInbox, Webhook]]:
    smtp, hook = SmtpInbox(), Webhook()
    smtp.start()
    hook.start()
    yield smtp, hook
    smtp.stop()
    hook.stop()


@pytest.fixture
def n(database_url: str, receivers: tuple[SmtpInbox, Webhook]) -> Iterator[NotifyHarness]:
    harness = NotifyHarness(database_url, *receivers)
    yield harness
    harness.close()
