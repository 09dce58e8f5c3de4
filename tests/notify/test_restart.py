"""kill -9 of ``facility run`` with messages waiting in the outbox: after the restart they are
sent, and nothing is sent twice (a real SMTP server and webhook; the webhook is away until the
service has been killed)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.builders import wait_until
from tests.faults.processes import ServiceProcess
from tests.notify.receivers import SmtpInbox, Webhook
from tests.services import Broker

pytestmark = [pytest.mark.slow, pytest.mark.broker]

FILE = """receivers:
  - name: duty-desk
    urls: ["{hook}"]
  - name: duty-mail
    urls: ["{mail}"]
routes:
  - match: {{event: [work_order.opened]}}
    to: [duty-desk, duty-mail]
retry_after: 0.2s
retry_max: 1s
"""


def p1(api: httpx.Client, site: str, title: str) -> int:
    body = {"site": site, "title": title, "priority": "P1", "skill": "general", "channel": "phone"}
    created = api.post("/api/v1/work-orders", json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def outbox(api: httpx.Client, **query: object) -> list[dict[str, object]]:
    answer = api.get("/api/v1/notifications", params=query)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, object]] = answer.json()["items"]
    return items


def test_kill_9_with_messages_pending_sends_them_after_the_restart_once(
    own_broker: Broker, tmp_path: Path
) -> None:
    site = f"notify-{uuid.uuid4().hex[:6]}"
    smtp, hook = SmtpInbox(), Webhook()
    smtp.start()  # the webhook stays away until the service is killed
    (tmp_path / "notify.yaml").write_text(
        FILE.format(hook=hook.url, mail=smtp.url("duty@example.com")), encoding="utf-8"
    )
    service = ServiceProcess(
        tmp_path,
        {
            "FACILITY_MQTT_URL": own_broker.url,
            "FACILITY_SITES": site,
            "FACILITY_NOTIFY": str(tmp_path / "notify.yaml"),
        },
    )
    try:
        service.start()
        with service.api() as api:
            first = p1(api, site, "Passenger trapped in lift 2")
            wait_until(lambda: len(smtp.mails) == 1)
            wait_until(lambda: any(int(n["attempts"]) >= 2 for n in outbox(api, status="pending")))
            waiting = outbox(api, status="pending")
            assert [n["receiver"] for n in waiting] == ["duty-desk"] and waiting[0]["last_error"]
        service.kill()  # the webhook's message is in the outbox, unsent

        hook.start()
        service.start()
        with service.api() as api:
            wait_until(lambda: len(hook.received) == 1, timeout=60)  # a claim runs 30 s
            # a later message through the same outbox: once it has arrived, anything sent
            # again before it (the outbox sends in order) would have arrived too
            second = p1(api, site, "Burst pipe in the basement")
            wait_until(lambda: len(hook.received) == 2 and len(smtp.mails) == 2, timeout=30)
            wait_until(lambda: len(outbox(api, status="sent")) == 4)
            assert outbox(api, status="pending") == []
            sent = outbox(api, status="sent")
            numbers = [
                api.get(f"/api/v1/work-orders/{o}").json()["number"] for o in (first, second)
            ]
        assert service.stop() == 0
    finally:
        if service.alive:
            service.kill()
        smtp.stop()
        hook.stop()
    titles = [m["title"] for m in hook.received]
    assert len(titles) == 2 and numbers[0] in titles[0] and numbers[1] in titles[1], "none twice"
    assert [len(smtp.to("duty@example.com"))] == [2]
    by_order = {(n["work_order_id"], n["receiver"]) for n in sent}
    assert by_order == {(o, r) for o in (first, second) for r in ("duty-desk", "duty-mail")}
