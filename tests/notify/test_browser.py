"""The notifications console in headless Chromium at phone width, in Chinese and English: the
list with its filter, the file editor showing a refusal, the order page's panel, and the
acknowledgement link opened from the e-mail without a login. One page session."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from facility_dispatch.api.app import create_app
from facility_dispatch.notify.inbox import Inbox
from facility_dispatch.service import Service, build_service
from tests.api import serving
from tests.builders import ADMIN_TOKEN, make_settings, wait_until
from tests.dashboard.test_browser import (  # noqa: F401  (fixtures)
    WAIT_MS,
    Served,
    answered,
    browser,
    logged_in,
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
    # in Chinese, with the route's and field's names as the file writes them
    said = refusal.inner_text()
    assert said.startswith("路由 leaks 的字段 to：未知的接收人「duty-dsk」（已有：duty-desk, "), (
        said
    )
    assert "unknown receiver" not in said and "route leaks" not in said
    assert "duty-dsk" not in api.get("/api/v1/notify-config").json()["text"]
    shoot(page, "notify-02-refused-zh-phone")

    # a person's contacts and role, edited here (the whole record goes back through the API)
    person = page.locator(f'li[data-technician="{plumber}"]')
    person.locator("summary").click()
    person.locator("textarea").fill(f"{smtp.url('li@example.com')}\npigeon://loft/3")
    person.locator('button[type="submit"]').click()
    wrong = person.locator(".notify-contacts-error")
    wrong.wait_for(state="visible")
    # in Chinese, the field named as the API names it (not the API's English sentence)
    said = wrong.inner_text()
    unusable = "字段 contacts[1]：既不是 tel: 电话号码，也不是 Apprise 能用的 URL"
    assert said.startswith(unusable), said
    assert "neither" not in said and "Apprise can use" not in said
    person.locator("textarea").fill(f"{smtp.url('li@example.com')}\nmailto://李@example.com")
    person.locator('button[type="submit"]').click()
    person.locator(".notify-contacts-error", has_text="非 ASCII").wait_for()
    said = wrong.inner_text()
    assert said.startswith("字段 contacts[1]：应为 tel: 电话号码或 URL"), said
    assert "String should match" not in said
    refused = api.get(f"/api/v1/technicians/{plumber}").json()["contacts"]
    assert refused == [smtp.url("li@example.com")], "refused twice: the record is as it was"
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
    # the page in the site's language (Chinese): the order titled as the console titles it
    assert mail.locator("h1").inner_text() == "确认接单"
    assert mail.locator("#ack-title").inner_text() == "tank-1：漏水"
    assert mail.locator("#ack-button").inner_text() == "确认，我已收到"
    mail.click("#ack-button")
    mail.locator("#ack-done").wait_for()
    assert mail.locator("#ack-done").inner_text() == "已确认。提醒和升级已停止。"
    shoot(mail, "notify-04-acknowledged-by-link")
    assert api.get(f"/api/v1/work-orders/{order['id']}").json()["status"] == "acknowledged"
    mail.goto(f"{served.url}{link.group(1)}")  # opened again: nothing left to do
    assert mail.locator("#ack-done").inner_text() == "此工单已被确认，无需再次操作。"
    assert mail.locator("#ack-button").count() == 0
    # pressed again (the form sent twice), from the same phone
    again = stranger.request.post(
        f"{served.url}{link.group(1)}", headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    assert again.status == 409
    assert "工单当前状态为「已接单」，无法确认接单。" in again.text()
    assert "cannot go from" not in again.text(), "not the service's English"
    stranger.close()

    # a viewer sees the list but not the file
    viewer = api.post("/api/v1/tokens", json={"name": "v", "role": "viewer"}).json()["token"]
    # off the console first: its live refresh, answered 401 once the cookies are gone, sends
    # the page to the login itself, which would abort the navigation below
    page.goto("about:blank")
    phone.clear_cookies()
    page.goto(f"{served.url}/login?next=/notifications")
    page.fill("#token", viewer)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/notifications")
    assert page.locator("table.notifications").count() == 1
    assert page.locator("#notify-config-form").count() == 0
    assert not errors, errors
    phone.close()


@pytest.fixture
def with_inbox(broker: Broker, tmp_path: Path) -> Iterator[tuple[Served, Service, Inbox]]:
    """The service as ``facility demo`` has it: the dashboard's own inbox on (``/inbox``)."""
    site = f"inbox-{uuid.uuid4().hex[:6]}"
    service = build_service(make_settings(tmp_path, broker.url, sites=[site]))
    inbox = Inbox(uuid.uuid4().hex)
    service.notifier.inbox = inbox
    with serving.served(create_app(service)) as url:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        try:
            wait_until(lambda: api.get("/api/v1/health").json()["broker"] == "connected")
            yield Served(url, site, api), service, inbox
        finally:
            api.close()


def test_the_demo_inbox_on_a_phone_in_chinese_and_english(
    with_inbox: tuple[Served, Service, Inbox],
    browser: Browser,  # noqa: F811
    broker: Broker,
) -> None:
    """Messages that went the whole way (outbox, Apprise, HTTP) into /inbox, each in its site's
    language (a zh-CN estate's in Chinese: the order's title and fault too), the page around
    them in the reader's, at 390 px without sideways scrolling."""
    here, service, inbox = with_inbox
    api, site = here.api, here.site
    desk = inbox.url(here.url, "duty-desk")
    text = FILE.format(hook=desk)
    assert api.put("/api/v1/notify-config", json={"text": text}).is_success
    body = {"name": "李娜 Li Na", "skills": ["plumbing"], "seniority": "senior", "sites": [site]}
    plumber = answered(api.post("/api/v1/technicians", json=body))
    got = answered(api.get(f"/api/v1/technicians/{plumber['id']}"), 200)
    record = {k: v for k, v in got.items() if k not in ("id", "open_orders")}
    record["contacts"] = [inbox.url(here.url, f"t{plumber['id']}")]
    answered(api.put(f"/api/v1/technicians/{plumber['id']}", json=record), 200)
    shift = {
        "technician_id": plumber["id"],
        "starts_at": "2020-01-01T00:00:00Z",
        "ends_at": "2099-01-01T00:00:00Z",
    }
    answered(api.post("/api/v1/shifts", json=shift))
    service.people.put_site(site, locale="zh-CN")
    publish(broker, site, "tank-1", {"metrics": {"leak_detected": True, "pressure_bar": 2.4}})
    wait_until(lambda: len(inbox.messages()) == 2)
    service.people.put_site(site, locale="en-GB")  # the estate's language changed: English now
    publish(broker, site, "tank-2", {"metrics": {"leak_detected": True, "pressure_bar": 2.4}})
    wait_until(lambda: len(inbox.messages()) == 4)

    mailbox = f"t{plumber['id']}"
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    context, page = logged_in(browser, here.url, ADMIN_TOKEN, locale="zh-CN", **phone)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    fits = "document.documentElement.scrollWidth <= window.innerWidth + 1"
    for lang, heading, to in (("zh", "演示收件箱", "收件人"), ("en", "Demo inbox", "to")):
        page.goto(f"{here.url}/lang/{lang}?next=/inbox")
        page.wait_for_url(f"{here.url}/inbox")
        assert page.locator("h1").inner_text() == heading
        messages = page.locator("li.inbox-message")
        assert messages.count() == 4
        assert f" {to} " in messages.first.locator("div.muted").inner_text()
        desk_mail = page.locator('li.inbox-message[data-mailbox="duty-desk"]')
        english, chinese = (desk_mail.nth(i).inner_text() for i in (0, 1))  # newest first
        assert "tank-1：漏水" in chinese and "故障: 漏水" in chinese, chinese
        assert "A leak sensor" not in chinese and "Fault" not in chinese
        assert "tank-2: A leak sensor is wet" in english and "Fault: Leak" in english, english
        assert (
            "李娜 Li Na"
            in page.locator(f'li.inbox-message[data-mailbox="{mailbox}"]').first.inner_text()
        )
        assert page.evaluate(fits), f"/inbox fits a phone's width ({lang})"
        shoot(page, f"notify-05-inbox-{lang}-phone")
    assert not errors, errors
    context.close()
