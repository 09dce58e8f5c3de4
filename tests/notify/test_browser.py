"""The notifications console in headless Chromium at phone width, in Chinese and English: the
list with its filter, the file editor showing a refusal, the order page's panel, and the
acknowledgement link opened from the e-mail without a login. One page session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.builders import ADMIN_TOKEN, wait_until
from tests.dashboard.test_browser import (  # noqa: F401  (fixtures)
    WAIT_MS,
    Served,
    browser,
    publish,
    served,
    shoot,
)
from tests.notify.receivers import SmtpInbox, Webhook
from tests.services import Broker

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.broker]

FILE = """receivers:
  - name: duty-desk
    urls: ["{hook}"]
routes:
  - name: leaks
    match: {{event: [work_order.opened]}}
    to: [assignees, duty-desk]
"""


@pytest.fixture
def inbox() -> Iterator[tuple[SmtpInbox, Webhook]]:
    smtp, hook = SmtpInbox(), Webhook()
    smtp.start()
    hook.start()
    yield smtp, hook
    smtp.stop()
    hook.stop()


def test_the_notifications_console_on_a_phone(
    served: Served,  # noqa: F811
    browser: Browser,  # noqa: F811
    broker: Broker,
    inbox: tuple[SmtpInbox, Webhook],
) -> None:
    smtp, hook = inbox
    api, site = served.api, served.site
    assert api.put("/api/v1/notify-config", json={"text": FILE.format(hook=hook.url)}).is_success
    body = {
        "name": "Li Na",
        "skills": ["plumbing"],
        "seniority": "senior",
        "sites": [site],
        "contacts": [smtp.url("li@example.com")],
    }
    plumber = api.post("/api/v1/technicians", json=body).json()["id"]
    shift = {
        "technician_id": plumber,
        "starts_at": "2020-01-01T00:00:00Z",
        "ends_at": "2099-01-01T00:00:00Z",
    }
    assert api.post("/api/v1/shifts", json=shift).status_code == 201
    publish(broker, site, "tank-1", {"metrics": {"leak_detected": True, "pressure_bar": 2.4}})
    wait_until(lambda: len(hook.received) == 1 and len(smtp.to("li@example.com")) == 1)
    sent = {"status": "sent"}
    wait_until(lambda: api.get("/api/v1/notifications", params=sent).json()["total"] == 2)
    order = api.get("/api/v1/work-orders", params={"site": site}).json()["items"][0]

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = phone.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{served.url}/login?next=/notifications")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/notifications")
    page.goto(f"{served.url}/lang/zh?next=/notifications")

    rows = page.locator("table.notifications tbody tr")
    assert rows.count() == 2
    assert page.locator('tr[data-receiver="duty-desk"] .notify-badge').inner_text() == "已发送"
    assert page.locator("h1").inner_text() == "通知发送记录"
    fits = "document.documentElement.scrollWidth <= window.innerWidth + 1"
    assert page.evaluate(fits), "the page fits a phone's width (the table scrolls in itself)"
    shoot(page, "notify-01-list-zh-phone")

    # filter by the order's number, and by a status nothing has
    page.fill('input[name="order"]', order["number"])
    page.click('form.filters button[type="submit"]')
    page.wait_for_url(re.compile(r"order=WO-"))
    assert rows.count() == 2
    page.select_option('select[name="status"]', "failed")
    page.locator("p.empty").wait_for()

    # the editor refuses a bad file and says where; the file in force stays
    editor = page.locator("#notify-config-text")
    editor.fill(FILE.format(hook=hook.url).replace("duty-desk]", "duty-dsk]"))
    page.click('#notify-config-form button[type="submit"]')
    refusal = page.locator("#notify-config-error")
    refusal.wait_for(state="visible")
    assert "route leaks, field to: unknown receiver 'duty-dsk'" in refusal.inner_text()
    assert "duty-dsk" not in api.get("/api/v1/notify-config").json()["text"]
    shoot(page, "notify-02-refused-zh-phone")

    # a person's contacts and role, edited here (the whole record goes back through the API)
    person = page.locator(f'li[data-technician="{plumber}"]')
    person.locator("summary").click()
    person.locator("textarea").fill(f"{smtp.url('li@example.com')}\npigeon://loft/3")
    person.locator('button[type="submit"]').click()
    wrong = person.locator(".notify-contacts-error")
    wrong.wait_for(state="visible")
    assert "contacts[1]" in wrong.inner_text()
    person.locator("textarea").fill(f"{smtp.url('li@example.com')}\ntel:13800000000")
    person.locator("select").select_option("supervisor")
    person.locator('button[type="submit"]').click()
    page.locator(".toast", has_text="联系方式已保存").wait_for()
    saved = api.get(f"/api/v1/technicians/{plumber}").json()
    assert (saved["role"], saved["contacts"][1], saved["skills"]) == (
        "supervisor",
        "tel:13800000000",
        ["plumbing"],
    )

    # in English, the order's page has the same messages in its panel
    page.goto(f"{served.url}/lang/en?next=/work-orders/{order['id']}")
    panel = page.locator("#order-notifications")
    panel.locator("table.notifications tbody tr").first.wait_for()
    assert panel.locator("h2").inner_text() == "Notifications"
    assert panel.locator("tbody tr").count() == 2
    shoot(page, "notify-03-order-panel-en-phone")

    # the link in the e-mail, opened on the phone without a login: one button acknowledges
    link = re.search(r"http://[^/]+(/n/ack/[0-9a-f.]+)", smtp.to("li@example.com")[0].body)
    assert link is not None
    stranger = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    mail = stranger.new_page()
    mail.goto(f"{served.url}{link.group(1)}")
    assert api.get(f"/api/v1/work-orders/{order['id']}").json()["status"] == "assigned"
    mail.click("#ack-button")
    mail.locator("#ack-done").wait_for()
    shoot(mail, "notify-04-acknowledged-by-link")
    assert api.get(f"/api/v1/work-orders/{order['id']}").json()["status"] == "acknowledged"
    stranger.close()

    # a viewer sees the list but not the file
    viewer = api.post("/api/v1/tokens", json={"name": "v", "role": "viewer"}).json()["token"]
    phone.clear_cookies()
    page.goto(f"{served.url}/login?next=/notifications")
    page.fill("#token", viewer)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/notifications")
    assert page.locator("table.notifications").count() == 1
    assert page.locator("#notify-config-form").count() == 0
    assert not errors, errors
    phone.close()
