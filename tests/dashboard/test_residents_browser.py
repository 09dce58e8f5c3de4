"""A resident's request in real browsers at phone width (390 px): the QR code's address is
opened, a problem reported with a photo, the dispatcher accepts it in the console, the order
appears, the technician resolves it from their phone, the resident rates it 1 star, and the
low rating opens a complaint review on the dispatcher's page. Every page keeps to the
Content-Security-Policy and shows the resident's words escaped."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import segno
from PIL import Image

from facility_dispatch.api.routers.requests import qr_svg
from tests.builders import wait_until
from tests.dashboard.test_browser import (
    WAIT_MS,
    Served,
    browser,  # noqa: F401  (fixture)
    plumber_on_shift,
    served,  # noqa: F401  (fixture)
    shoot,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

PHONE = {"width": 390, "height": 844}
HTML = "<b>漏水</b><script>alert(1)</script>"


def phone(
    chromium: Browser, errors: list[str], locale: str = "zh-CN"
) -> tuple[BrowserContext, Page]:
    context = chromium.new_context(viewport=PHONE, locale=locale, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("dialog", lambda dialog: errors.append(f"unexpected dialog: {dialog.message}"))
    return context, page


def log_in(page: Page, url: str, token: str, target: str) -> None:
    page.goto(f"{url}{target}")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}{target}")


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_scan_report_with_a_photo_accept_resolve_rate_low_and_review(
    served: Served,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    api, site, url = served.api, served.site, served.url
    answer = api.put(
        f"/api/v1/sites/{site}",
        json={
            "name": "绿园小区",
            "supervisor": "周敏",
            "buildings": ["1", "3"],
            "contacts": {"物业服务中心 service desk": "0571-8888 6666"},
        },
    )
    assert answer.status_code == 200, answer.text
    plumber = plumber_on_shift(api, site)
    tokens = {
        role: api.post("/api/v1/tokens", json=body).json()["token"]
        for role, body in (
            ("planner", {"name": "调度 Wu", "role": "planner"}),
            ("technician", {"name": "Li Na", "role": "technician", "technician_id": plumber}),
        )
    }
    errors: list[str] = []

    # the dispatcher prints the notice of building 3: its QR code holds the request page's address
    desk_context, desk = phone(browser, errors)
    log_in(desk, url, tokens["planner"], "/requests")
    desk.goto(f"{url}/requests/notice/{site}?building=3")
    scanned = desk.locator(".notice-url").inner_text().strip()
    assert scanned == f"{url}/r/{site}"
    assert desk.locator(".notice-qr svg").count() == 1
    assert "0571-8888 6666" in desk.locator(".notice-phones").inner_text()
    # the code drawn is segno's for exactly that address, on the page and at qr.svg
    expected = segno.make(scanned, error="m").svg_inline(scale=8, border=4, omitsize=False)
    assert qr_svg(scanned) == expected == api.get(f"/api/v1/sites/{site}/qr.svg").text
    shoot(desk, "residents-01-notice")

    # the resident scans it: the form in Chinese, then in English
    resident_context, resident = phone(browser, errors)
    resident.goto(scanned)
    assert resident.locator("h1").inner_text() == "报事报修"
    assert resident.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    resident.click("text=English")
    assert resident.locator("h1").inner_text() == "Report a problem"
    resident.check('input[name="category"][value="repair"]')
    resident.select_option('select[name="building"]', "3")
    resident.fill('input[name="unit"]', "1202")
    resident.fill('textarea[name="description"]', HTML)
    resident.fill('input[name="phone"]', "138 0000 5678")
    resident.set_input_files(
        'input[name="photos"]',
        files=[{"name": "leak.png", "mimeType": "image/png", "buffer": png()}],
    )
    shoot(resident, "residents-02-form")
    resident.click("button[type=submit]")
    resident.wait_for_url("**/r/t/**")
    tracking = resident.url.split("?")[0]
    assert resident.locator("#request-status").get_attribute("data-status") == "new"
    assert resident.locator(".r-description").inner_text() == HTML  # shown as text, not markup
    shoot(resident, "residents-03-tracking")

    # the dispatcher sees it first in the queue, the phone masked, the photo shown; accepts it
    desk.goto(f"{url}/requests")
    card = desk.locator("#new-requests article.req-card").first
    assert "138****5678" in card.inner_text() and "5678" in card.inner_text()
    assert "0000" not in card.locator(".req-phone").inner_text()
    assert card.locator(".req-text").inner_text() == HTML
    assert card.locator(".req-photos img").evaluate("img => img.naturalWidth") == 640
    request_id = int(card.get_attribute("data-request-id") or 0)
    card.locator('select[name="skill"]').select_option("plumbing")
    shoot(desk, "residents-04-queue")
    card.locator("button[data-accept]").click()
    desk.locator(f'#recent-requests tr[data-request-id="{request_id}"]').wait_for()
    order_id = api.get(f"/api/v1/requests/{request_id}").json()["work_order_id"]
    order = api.get(f"/api/v1/work-orders/{order_id}").json()
    assert (order["source"], order["assignees"]) == ("resident", [plumber])
    desk.goto(f"{url}/work-orders")
    board = desk.locator(f'#board [data-order-id="{order_id}"]').first
    board.wait_for(state="attached")  # on the board (a card or a row, however it is drawn)
    assert board.get_attribute("data-number") == order["number"]

    resident.reload()
    assert resident.locator("#request-status").get_attribute("data-status") == "accepted"
    assert resident.locator("#technician").inner_text() == "Na"  # Li Na: her given name only

    # the technician works it from their phone
    tech_context, tech = phone(browser, errors)
    log_in(tech, url, tokens["technician"], f"/work-orders/{order_id}")
    # the resident's photo is on the order itself, drawn (not its address in the description)
    photo = tech.locator(f'.request-of-order[data-request="{request_id}"] img.thumb')
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 640
    assert "/photos/" not in order["description"]
    for to in ("acknowledged", "in_progress", "resolved"):
        tech.locator(f'button[data-to="{to}"]').first.click()
        if to == "resolved":  # the console asks the cause and the action taken
            tech.locator("#resolve-dialog textarea[name=cause]").fill("接头老化 joint worn")
            tech.locator("#resolve-dialog textarea[name=action]").fill("换了接头 joint replaced")
            tech.locator("#resolve-confirm").click()
        wait_until(lambda to=to: api.get(f"/api/v1/work-orders/{order_id}").json()["status"] == to)
        tech.reload()
    shoot(tech, "residents-05-technician")

    # the resident rates it: 1 star, with a comment in HTML; the dispatcher's open queue hears it
    desk.goto(f"{url}/requests")
    desk.locator('#live-state[data-state="on"]').wait_for()
    assert desk.locator("#queue-changed").is_hidden()
    resident.goto(f"{tracking}?lang=en")
    assert resident.locator("#request-status").get_attribute("data-status") == "done"
    resident.check('#rating-form input[name="rating"][value="1"]')
    resident.fill('#rating-form textarea[name="comment"]', HTML)
    resident.click("#rating-form button[type=submit]")
    resident.locator("#feedback").wait_for()
    assert resident.locator("#request-status").inner_text() == "Done: thank you for your rating"
    assert resident.locator("#done-note").inner_text() == "换了接头 joint replaced"  # the action
    assert resident.locator("#rating-form").count() == 0  # one rating per request
    shoot(resident, "residents-06-rated")

    # the low rating opens a complaint review for the site's supervisor
    desk.locator("#queue-changed").wait_for()  # told live, not reloaded under the dispatcher
    desk.locator("#queue-changed a").click()
    review = desk.locator("#complaint-reviews article.review")
    review.first.wait_for()  # on the page the link loaded
    assert review.count() == 1
    assert "周敏" in review.inner_text() and review.locator(".req-text").inner_text() == HTML
    assert desk.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shoot(desk, "residents-07-review")

    # a request taken by phone: the console shows its tracking link once, to send by SMS
    take = desk.locator("#take-request form")
    take.locator('input[name="building"]').fill("3")
    take.locator('input[name="unit"]').fill("801")
    take.locator('input[name="phone"]').fill("139 1111 2222")
    take.locator('textarea[name="description"]').fill("门禁坏了 the door entry is broken")
    take.locator("button[type=submit]").click()
    link = desk.locator("#taken-link [data-tracking-url]")
    link.wait_for()
    assert "短信" in desk.locator("#taken-link").inner_text()
    sent = link.get_attribute("href") or ""
    assert sent.startswith(f"{url}/r/t/") and link.inner_text() == sent
    assert desk.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    resident.goto(sent)
    assert resident.locator("#request-status").get_attribute("data-status") == "new"
    assert errors == []
    for context in (desk_context, resident_context, tech_context):
        context.close()
