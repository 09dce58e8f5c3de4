"""Notifications through the running service: the notifications file over the API, an alarm
over MQTT reaching a real SMTP server and webhook within seconds, the list, the metrics, and the
acknowledgement link in the message."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import orjson
import pytest
from fastapi.testclient import TestClient

from facility_dispatch.kernel.clock import to_ms
from facility_dispatch.notify import links
from facility_dispatch.notify.outbox import ACK_TTL
from tests.api.conftest import client, site  # noqa: F401  (fixtures)
from tests.api.test_work_orders_api import manual, technician
from tests.builders import publisher, wait_until
from tests.notify.receivers import SmtpInbox, Webhook
from tests.services import Broker

pytestmark = pytest.mark.broker
LICENCE = [{"kind": "elevator", "number": "TS-31-0001", "expires_on": "2030-06-30"}]
GOOD = """
receivers:
  - name: duty-desk
    urls: ["{hook}"]
routes:
  - name: urgent
    match: {{priority: [P1]}}
    to: [assignees, duty-desk]
    repeat: 5m
"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_p1_alarm_reaches_mail_and_webhook_and_the_link_acknowledges_it(
    client: TestClient,  # noqa: F811
    broker: Broker,
    site: str,  # noqa: F811
    receivers: tuple[SmtpInbox, Webhook],
) -> None:
    smtp, hook = receivers
    good = GOOD.format(hook=hook.url)
    refusals = {
        good.replace("to: [assignees, duty-desk]", "to: [assignees, duty-dsk]"): (
            "route urgent, field to: unknown receiver 'duty-dsk'"
        ),
        good.replace(hook.url, "hook://nowhere"): "receiver 'duty-desk', field urls[0]",
        good.replace("repeat: 5m", "repeat: 5 minutes"): "route urgent, field repeat",
        good.replace("[P1]", "[P9]"): "route urgent, field match.priority",
    }
    for text, named in refusals.items():
        answer = client.put("/api/v1/notify-config", json={"text": text})
        assert answer.status_code == 422 and named in answer.json()["detail"], answer.text
        # the same, as data a client words in its own language: where, field, why
        parts = answer.json()["refusal"]
        where = f"route {parts['name']}" if parts["part"] == "route" else parts["name"]
        assert where in named and f"field {parts['field']}" in named, parts
    unknown = client.put("/api/v1/notify-config", json={"text": next(iter(refusals))})
    known = "duty-desk, assignees, supervisor, on_call, contractor"
    assert unknown.json()["refusal"] == {
        "part": "route",
        "name": "urgent",
        "field": "to",
        "reason": "unknown_receiver",
        "values": {"target": "duty-dsk", "known": known},
    }, unknown.text
    assert client.get("/api/v1/notify-config").json()["text"] == "", "the old config stays"
    answer = client.put("/api/v1/notify-config", json={"text": good})
    assert answer.status_code == 200, answer.text
    assert answer.json()["routes"][0]["repeat"] == 300

    bad = {"contacts": ["pigeon://loft/3"], "certifications": LICENCE}
    refused = client.post(
        "/api/v1/technicians",
        json={"name": "X", "skills": ["elevator"], "seniority": "senior", "sites": [site], **bad},
    )
    assert refused.status_code == 422 and "contacts[0]" in refused.text
    # the refusal as data too, for the console to say it in its own language
    (why,) = refused.json()["detail"]
    assert (why["type"], why["ctx"]) == ("contact_unusable", {"position": 0}), why
    wang = technician(
        client,
        site,
        "Wang Wei",
        ["elevator"],
        certifications=LICENCE,
        contacts=[smtp.url("wang@example.com"), "tel:13800000000"],
    )
    assert client.get(f"/api/v1/technicians/{wang}").json()["contacts"][1] == "tel:13800000000"

    with publisher(broker.url) as device:
        payload = {"ts": to_ms(datetime.now(UTC)), "metrics": {"speed_mps": 2.6}}
        device.publish(f"facility/{site}/elevator/lift-1/telemetry", orjson.dumps(payload))
    wait_until(lambda: len(hook.received) == 1 and len(smtp.to("wang@example.com")) == 1)
    # the receiver has it before the row says so (marked sent once the receiver answered)
    sent = {"status": "sent"}
    wait_until(lambda: client.get("/api/v1/notifications", params=sent).json()["total"] == 2)
    order = client.get("/api/v1/work-orders", params={"site": site}).json()["items"][0]
    assert order["priority"] == "P1" and order["number"] in hook.received[0]["title"]

    listed = client.get("/api/v1/notifications", params={"work_order_id": order["id"]}).json()
    assert listed["total"] == 2
    assert {n["status"] for n in listed["items"]} == {"sent"}
    assert {n["receiver"] for n in listed["items"]} == {"Wang Wei", "duty-desk"}
    assert all(n["attempts"] == 1 and n["last_error"] is None for n in listed["items"])
    assert client.get("/api/v1/notifications", params={"status": "pending"}).json()["total"] == 0
    metrics = client.get("/metrics").text
    assert re.search(r"^facility_notifications_sent_total 2\.0$", metrics, re.M), metrics
    assert re.search(r"^facility_notifications_pending 0\.0$", metrics, re.M)

    link = re.search(r"http://[^/]+(/n/ack/[0-9a-f.]+)", smtp.to("wang@example.com")[0].body)
    assert link is not None
    anonymous = {"Authorization": ""}
    page = client.get(link.group(1), headers=anonymous)
    assert page.status_code == 200 and 'id="ack-button"' in page.text
    assert client.get(f"/api/v1/work-orders/{order['id']}").json()["status"] == "assigned"
    done = client.post(link.group(1), headers=anonymous)
    assert done.status_code == 200 and 'id="ack-done"' in done.text, done.text
    after = client.get(f"/api/v1/work-orders/{order['id']}").json()
    assert after["status"] == "acknowledged"
    assert after["timeline"][-1]["actor"] == "Wang Wei"
    forged = link.group(1)[:-4] + "0000"
    assert client.get(forged, headers=anonymous).status_code == 403

    # the duty desk's webhook is read by whoever is there: it gets the order's page (a login),
    # no link that acknowledges; and a link signed for nobody acknowledges nothing
    desk = hook.received[0]["message"]
    assert "/n/ack/" not in desk and f"/work-orders/{order['id']}" in desk, desk
    notifier = client.app.state.service.notifier  # type: ignore[attr-defined]
    secret = bytes.fromhex(notifier.kept_secret("link_secret"))
    second = client.post("/api/v1/work-orders", json=manual(site)).json()
    for nobody in (None, 999_999):
        token = links.sign(secret, second["id"], nobody, datetime.now(UTC), ACK_TTL)
        refused = client.post(f"/n/ack/{token}", headers=anonymous)
        assert refused.status_code == 403 and 'id="ack-done"' not in refused.text
    after_refusal = client.get(f"/api/v1/work-orders/{second['id']}").json()
    assert after_refusal["status"] == second["status"]


SECRETS = """
receivers:
  - name: duty-desk
    urls: ["json://hooks.example.com/desk/693a91f67b2c4d9ea1c30f5e8d7b6a42"]
  - name: mail
    urls:
      - "mailtos://ops:Pa55-w0rd-9@mail.example.com/?to=a@example.com"
      - "mailtos://ops:Other-pa55@mail.example.com/?to=b@example.com"
routes:
  - match: {priority: [P1]}
    to: [duty-desk, mail]
"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_file_is_shown_with_secrets_masked_and_a_masked_url_keeps_its_secret(
    client: TestClient,  # noqa: F811
) -> None:
    secrets = ("693a91f67b2c4d9ea1c30f5e8d7b6a42", "Pa55-w0rd-9", "Other-pa55")
    assert client.put("/api/v1/notify-config", json={"text": SECRETS}).status_code == 200
    shown = client.get("/api/v1/notify-config")
    assert shown.headers["cache-control"] == "no-store"
    text = shown.json()["text"]
    assert "*****" in text and not any(s in text for s in secrets), text
    page = client.get("/notifications").text
    assert "*****" in page and not any(s in page for s in secrets)

    # sent back as shown, with a route changed: the secrets in force stay
    again = client.put("/api/v1/notify-config", json={"text": text.replace("P1]", "P1, P2]")})
    assert again.status_code == 200, again.text
    assert again.headers["cache-control"] == "no-store"
    kept = client.app.state.service.notifier.config()  # type: ignore[attr-defined]
    assert kept.receivers == {
        "duty-desk": ("json://hooks.example.com/desk/693a91f67b2c4d9ea1c30f5e8d7b6a42",),
        "mail": (
            "mailtos://ops:Pa55-w0rd-9@mail.example.com/?to=a@example.com",
            "mailtos://ops:Other-pa55@mail.example.com/?to=b@example.com",
        ),
    }
    moved = text.replace("hooks.example.com", "hooks.example.org")
    refused = client.put("/api/v1/notify-config", json={"text": moved})
    assert refused.status_code == 422 and "receiver 'duty-desk', field urls[0]" in refused.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_acknowledging_by_the_link_stops_the_repeats(
    client: TestClient,  # noqa: F811
    site: str,  # noqa: F811
    receivers: tuple[SmtpInbox, Webhook],
) -> None:
    """Real time, a route repeating every 2 s: the reminders come until the person opens the
    link in the mail and presses the button; after it, none (the route would have sent two
    or three more meanwhile)."""
    smtp, _hook = receivers
    often = "routes:\n  - match: {priority: [P1]}\n    to: [assignees]\n    repeat: 2s\n"
    assert client.put("/api/v1/notify-config", json={"text": often}).status_code == 200
    wang = technician(
        client, site, "Wang Wei", ["plumbing"], contacts=[smtp.url("wang@example.com")]
    )
    order = client.post("/api/v1/work-orders", json={**manual(site), "priority": "P1"}).json()
    assert order["assignees"] == [wang]
    wait_until(lambda: len(smtp.to("wang@example.com")) >= 2)  # the first and a reminder
    link = re.search(r"http://[^/]+(/n/ack/[0-9a-f.]+)", smtp.to("wang@example.com")[-1].body)
    assert link is not None
    done = client.post(link.group(1), headers={"Authorization": ""})
    assert done.status_code == 200 and 'id="ack-done"' in done.text, done.text
    assert client.get(f"/api/v1/work-orders/{order['id']}").json()["status"] == "acknowledged"
    time.sleep(1.5)  # a round recorded just before the acknowledgement may still go out
    told = len(smtp.to("wang@example.com"))
    time.sleep(6)  # three repeat periods
    assert len(smtp.to("wang@example.com")) == told, "no reminder after the acknowledgement"
    listed = client.get("/api/v1/notifications", params={"work_order_id": order["id"]}).json()
    assert listed["total"] == told and {n["status"] for n in listed["items"]} == {"sent"}
