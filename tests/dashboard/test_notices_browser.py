"""Notices to residents in real browsers at phone width (390 px): a planner issues a planned
water cut and an urgent lift outage from the console in Chinese, residents see both on the
QR code's page (the outage first) in Chinese and in English, the HTML typed into a reason
shows as text, the planner withdraws one and it is gone; a viewer gets no form, and the API
refuses the viewer's notice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from tests.dashboard.test_browser import (
    WAIT_MS,
    Served,
    answered,
    browser,  # noqa: F401  (fixture)
    served,  # noqa: F401  (fixture)
    shoot,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

PHONE = {"width": 390, "height": 844}
HTML = "<img src=x onerror=window.__xss=1>"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def phone(chromium: Browser, errors: list[str]) -> tuple[BrowserContext, Page]:
    """A phone in Shanghai (the times typed are the site's), Chinese first; confirms are
    accepted, page errors and CSP refusals collected."""
    context = chromium.new_context(
        viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("dialog", lambda dialog: dialog.accept())
    return context, page


def log_in(page: Page, url: str, token: str, target: str) -> None:
    page.goto(f"{url}{target}")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}{target}")


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def test_a_planner_issues_notices_in_the_console_and_residents_see_them(
    served: Served,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    from playwright.sync_api import expect  # the browser fixture says if it is missing

    api, site, url = served.api, served.site, served.url
    body = {"name": "绿园 Green Garden", "buildings": ["1", "3"]}
    answered(api.put(f"/api/v1/sites/{site}", json=body), 200)
    planner = answered(api.post("/api/v1/tokens", json={"name": "调度 Wu", "role": "planner"}))
    viewer = answered(api.post("/api/v1/tokens", json={"name": "Guest", "role": "viewer"}))
    errors: list[str] = []
    day = (datetime.now(SHANGHAI) + timedelta(days=2)).date()

    # the planner, in Chinese on a phone: a planned water cut in building 3, 09:00-13:00
    desk_context, desk = phone(browser, errors)
    log_in(desk, url, planner["token"], "/notices")
    assert desk.locator("h1").inner_text() == "住户通知"
    assert desk.locator("#current-notices .empty").inner_text() == "目前没有通知。"
    form = desk.locator("#notice-form")
    form.locator("select[name=site]").select_option(site)
    form.locator("select[name=service]").select_option("water")
    form.locator("input[name=building]").fill("3")
    form.locator("input[name=starts_at]").fill(f"{day.isoformat()}T09:00")
    form.locator("input[name=ends_at]").fill(f"{day.isoformat()}T13:00")
    form.locator("input[name=reason_zh]").fill(f"水箱清洗{HTML}")
    form.locator("input[name=reason_en]").fill("Tank cleaning")
    fits(desk)
    shoot(desk, "notices-01-form")
    form.locator("button[type=submit]").click()
    desk.wait_for_selector("#current-notices [data-notice-id]")
    planned = desk.locator("#current-notices [data-notice-id]").first
    assert planned.locator(".notice-title").inner_text() == "3栋停水通知"
    worded = planned.locator(".notice-body").inner_text()
    assert f"因水箱清洗{HTML}，3栋将于{day.month}月{day.day}日 09:00至13:00暂停供水" in worded
    assert desk.evaluate("window.__xss") is None  # the reason's HTML is text, not an image
    planned_id = planned.get_attribute("data-notice-id")

    # then an outage happening now: the lift of building 1 (urgent)
    form = desk.locator("#notice-form")
    form.locator("select[name=service]").select_option("elevator")
    form.locator("input[name=building]").fill("1")
    now = datetime.now(SHANGHAI)
    form.locator("input[name=starts_at]").fill(f"{now:%Y-%m-%dT%H:%M}")
    form.locator("input[name=reason_zh]").fill("电梯困人故障")
    form.locator("input[name=reason_en]").fill("a passenger trapped")
    form.locator("input[name=urgent]").check()
    form.locator("button[type=submit]").click()
    cards = desk.locator("#current-notices [data-notice-id]")
    expect(cards).to_have_count(2)  # the page reloaded with it (a script may not be eval'd)
    assert cards.first.get_attribute("data-urgent") == "true"  # the outage first
    assert cards.first.locator(".notice-title").inner_text() == "紧急：1栋电梯停运通知"
    fits(desk)
    shoot(desk, "notices-02-issued")

    # a resident opens the QR code's page: both notices above the form, the outage first
    resident_context, resident = phone(browser, errors)
    resident.goto(f"{url}/r/{site}")
    shown = resident.locator("#notices [data-notice-id]")
    assert shown.count() == 2 and shown.first.get_attribute("data-urgent") == "true"
    assert shown.first.locator("h3").inner_text() == "紧急：1栋电梯停运通知"
    assert "因电梯困人故障，1栋电梯运行目前已暂停" in shown.first.inner_text()
    assert shown.nth(1).locator("h3").inner_text() == "3栋停水通知"
    assert HTML in shown.nth(1).inner_text() and resident.locator("#notices img").count() == 0
    assert resident.evaluate("window.__xss") is None
    assert resident.locator("h1").inner_text() == "报事报修"  # the form is still there
    fits(resident)
    shoot(resident, "notices-03-resident-zh")
    resident.click("text=English")
    shown = resident.locator("#notices [data-notice-id]")
    assert shown.first.locator("h3").inner_text() == "Urgent: Lift out of service: building 1"
    english = shown.nth(1).inner_text()
    assert "because of tank cleaning, the water supply of building 3 will be off" in english
    assert "Green Garden property management office" in english
    assert "水箱" not in english and "停水" not in english
    fits(resident)
    shoot(resident, "notices-04-resident-en")

    # the planner withdraws the water cut: gone from the console and the residents' page
    desk.locator(f"button[data-withdraw='{planned_id}']").click()
    expect(desk.locator("#current-notices [data-notice-id]")).to_have_count(1)
    resident.reload()
    assert resident.locator("#notices [data-notice-id]").count() == 1
    assert desk.locator(f"[data-notice-id='{planned_id}']").count() == 0
    assert "Water supply interruption" not in resident.locator("body").inner_text()

    # a viewer sees the notices but no form nor button, and the API refuses their notice
    viewer_context, guest = phone(browser, errors)
    log_in(guest, url, viewer["token"], "/notices")
    assert guest.locator("#notices-read-only").count() == 1
    assert guest.locator("#notice-form").count() == 0
    assert guest.locator("button[data-withdraw]").count() == 0
    assert guest.locator("#current-notices [data-notice-id]").count() == 1
    refused = guest.evaluate(
        """async (site) => (await fetch("/api/v1/notices", {
            method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({site, service: "power", starts_at: new Date().toISOString(),
                                  reason_zh: "停电检修", reason_en: "repairs"}),
        })).status""",
        site,
    )
    assert refused == 403
    assert api.get("/api/v1/notices", params={"site": site}).json()["total"] == 1
    fits(guest)
    assert errors == []
    for context in (desk_context, resident_context, viewer_context):
        context.close()
