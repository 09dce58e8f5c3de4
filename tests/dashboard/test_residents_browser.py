"""A resident's request in real browsers at phone width (390 px): the QR code's address is
opened, a problem reported with a photo, the dispatcher accepts it in the console, the order
appears, the technician resolves it from their phone, the resident rates it 1 star, and the
low rating opens a complaint review on the dispatcher's page. Then the rest of the quality
loop from the console: a request rejected with a reason the resident reads, a follow-up call
recorded three days after the work, a complaint review closed; and the resident's tracking and
rating pages in Chinese. Every page keeps to the Content-Security-Policy and shows the
resident's words escaped."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import segno
from PIL import Image

from facility_dispatch.api.app import create_app
from facility_dispatch.api.routers.requests import qr_svg
from facility_dispatch.kernel.clock import ManualClock
from facility_dispatch.service import build_service
from tests.api import serving
from tests.builders import ADMIN_TOKEN, make_settings, wait_until
from tests.dashboard.test_browser import (
    WAIT_MS,
    Served,
    answered,
    browser,  # noqa: F401  (fixture)
    plumber_on_shift,
    served,  # noqa: F401  (fixture)
    shoot,
)
from tests.services import Broker

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = [pytest.mark.browser, pytest.mark.broker]
PHONE = {"width": 390, "height": 844}
HTML = "<b>漏水</b><script>alert(1)</script>"


def phone(
    chromium: Browser, errors: list[str], locale: str = "zh-CN"
) -> tuple[BrowserContext, Page]:
    context = chromium.new_context(viewport=PHONE, locale=locale, is_mobile=True, has_touch=True)
    page = context.new_page()
    watch(page, errors)
    return context, page


def watch(page: Page, errors: list[str]) -> None:
    """Script errors, CSP refusals and stray dialogs end up in ``errors`` (the test wants none)."""
    page.set_default_timeout(WAIT_MS)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("dialog", lambda dialog: errors.append(f"unexpected dialog: {dialog.message}"))


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
    supervisor(api, site, "周敏")
    plumber = plumber_on_shift(api, site)
    tokens = {
        role: api.post("/api/v1/tokens", json=body).json()["token"]
        for role, body in (
            ("planner", {"name": "调度 Wu", "role": "planner"}),
            ("technician", {"name": "Li Na", "role": "technician", "technician_id": plumber}),
        )
    }
    errors: list[str] = []

    # the dispatcher prints the notice of building 3: its QR code holds the request page's
    # address with the building, the estate's own at qr.svg
    desk_context, desk = phone(browser, errors)
    log_in(desk, url, tokens["planner"], "/requests")
    desk.goto(f"{url}/requests/notice/{site}?building=3")
    scanned = desk.locator(".notice-url").inner_text().strip()
    assert scanned == f"{url}/r/{site}?building=3"
    assert desk.locator(".notice-qr svg").count() == 1
    assert "0571-8888 6666" in desk.locator(".notice-phones").inner_text()
    # the code drawn is segno's for exactly that address
    expected = segno.make(scanned, error="m").svg_inline(scale=8, border=4, omitsize=False)
    assert qr_svg(scanned) == expected
    assert expected in api.get(f"/requests/notice/{site}", params={"building": "3"}).text
    assert api.get(f"/api/v1/sites/{site}/qr.svg").text == qr_svg(f"{url}/r/{site}")
    shoot(desk, "residents-01-notice")

    # the resident scans it: the form in Chinese with building 3 chosen, then in English
    resident_context, resident = phone(browser, errors)
    resident.goto(scanned)
    assert resident.locator("h1").inner_text() == "报事报修"
    assert resident.locator('select[name="building"]').input_value() == "3"
    assert resident.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    resident.click("text=English")
    assert resident.locator("h1").inner_text() == "Report a problem"
    assert resident.locator('select[name="building"]').input_value() == "3"  # kept
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


def supervisor(api: httpx.Client, site: str, name: str) -> None:
    """The site's supervisor on the roster: whom a low rating's review names and notifies."""
    body = {"name": name, "skills": ["general"], "seniority": "senior", "sites": [site],
            "role": "supervisor"}  # fmt: skip
    answered(api.post("/api/v1/technicians", json=body))


@pytest.fixture
def clocked(broker: Broker, tmp_path: Path) -> Iterator[tuple[Served, ManualClock]]:
    """As ``served``, on a clock the test moves: a follow-up call falls due three days after
    the work is resolved."""
    clock = ManualClock(datetime.now(UTC))
    site = f"web-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site])
    app = create_app(build_service(settings, clock=clock))
    with serving.served(app) as url:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        try:
            wait_until(lambda: api.get("/api/v1/health").json()["broker"] == "connected")
            yield Served(url, site, api), clock
        finally:
            api.close()


def chinese_only(page: Page) -> str:
    """The resident's page below the language links: in Chinese, no English word in it."""
    text = page.locator("main").inner_text()
    assert re.search(r"[A-Za-z]", text) is None, text
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    return text


def test_reject_with_a_reason_call_back_close_a_review_and_the_chinese_tracking_pages(
    clocked: tuple[Served, ManualClock],
    browser: Browser,  # noqa: F811
) -> None:
    served_, clock = clocked
    api, site, url = served_.api, served_.site, served_.url
    answered(
        api.put(f"/api/v1/sites/{site}", json={"name": "绿园小区", "buildings": ["1", "3"]}), 200
    )
    supervisor(api, site, "周敏")
    plumber = answered(
        api.post(
            "/api/v1/technicians",
            json={"name": "王伟", "skills": ["plumbing"], "seniority": "senior", "sites": [site]},
        )
    )["id"]
    now = datetime.now(UTC)
    shift = {"technician_id": plumber, "starts_at": (now - timedelta(hours=1)).isoformat(),
             "ends_at": (now + timedelta(hours=8)).isoformat()}  # fmt: skip
    answered(api.post("/api/v1/shifts", json=shift))
    planner = answered(api.post("/api/v1/tokens", json={"name": "调度 Wu", "role": "planner"}))
    worker = answered(
        api.post(
            "/api/v1/tokens",
            json={"name": "王伟", "role": "technician", "technician_id": plumber},
        )
    )
    technician = {"Authorization": f"Bearer {worker['token']}"}
    errors: list[str] = []

    # three requests: one through the Chinese form, two more the same way over the API
    resident_context, resident = phone(browser, errors)
    resident.goto(f"{url}/r/{site}?building=3")
    resident.fill('input[name="unit"]', "1202")
    resident.fill('textarea[name="description"]', "小区门口的路灯不亮")
    resident.fill('input[name="phone"]', "138 0000 5678")
    resident.click("button[type=submit]")
    resident.wait_for_url("**/r/t/**")
    streetlight = resident.url.split("?")[0]
    assert resident.locator("#request-status").inner_text() == "已收到，等待调度员处理"
    chinese_only(resident)

    def report(unit: str, phone_number: str, words: str) -> tuple[int, str]:
        body = {"site": site, "category": "repair", "building": "3", "unit": unit,
                "description": words, "phone": phone_number}  # fmt: skip
        made = answered(httpx.post(f"{url}/api/v1/public/requests", json=body))
        return int(made["id"]), url + made["tracking_url"]

    leak, leak_page = report("1202", "13911112222", "卫生间地漏返水")
    door, door_page = report("801", "13722223333", "单元门禁刷卡没反应")
    for request_id in (leak, door):  # the console's accept is the first test's
        accepted = answered(
            api.post(f"/api/v1/requests/{request_id}/accept", json={"skill": "plumbing"}), 200
        )
        for to in ("acknowledged", "in_progress", "resolved"):
            answered(
                api.post(
                    f"/api/v1/work-orders/{accepted['work_order_id']}/transition",
                    json={"to": to, "note": "疏通了地漏" if to == "resolved" else None},
                    headers=technician,
                ),
                200,
            )

    # the dispatcher rejects the street light with a reason (in the console, in Chinese)
    desk_context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    desk = desk_context.new_page()
    watch(desk, errors)

    def sign_in() -> None:
        desk.goto(f"{url}/login?next=/requests")
        desk.fill("#token", planner["token"])
        desk.click("button[type=submit]")
        desk.wait_for_url(f"{url}/requests")

    sign_in()
    (first,) = [
        int(r["id"]) for r in api.get("/api/v1/requests", params={"status": "new"}).json()["items"]
    ]
    card = desk.locator(f'#new-requests article[data-request-id="{first}"]')
    reason = "路灯归市政管理，请拨打市民热线12345"
    card.locator('input[name="reason"]').fill(reason)
    card.locator(f'button[data-reject="{first}"]').click()
    desk.locator(
        f'#recent-requests tr[data-request-id="{first}"][data-status="rejected"]'
    ).wait_for()
    assert reason in desk.locator(f'#recent-requests tr[data-request-id="{first}"]').inner_text()
    # a refusal in the console reads in Chinese too: building 9 is not one of this estate's
    take = desk.locator("#take-request form")
    take.locator('input[name="building"]').fill("9")
    take.locator('input[name="unit"]').fill("101")
    take.locator('input[name="phone"]').fill("136 3333 4444")
    take.locator('textarea[name="description"]').fill("楼道灯坏了")
    take.locator("button[type=submit]").click()
    refused = take.locator(".form-error")
    wait_until(lambda: refused.inner_text() != "")
    assert refused.inner_text() == "楼栋: 不是本小区的楼栋"
    shoot(desk, "residents-08-rejected")

    # the resident reads the reason on the tracking page, in Chinese, at phone width
    resident.goto(streetlight)
    assert resident.locator("#request-status").inner_text() == "未受理"
    assert resident.locator(".r-reason").inner_text() == f"原因： {reason}"
    chinese_only(resident)
    shoot(resident, "residents-09-rejected-zh")

    # the rating page in Chinese: the work is done, rated 2 stars, which opens a review
    resident.goto(leak_page)
    assert resident.locator("#request-status").inner_text() == "已处理完毕，请您评价"
    form = resident.locator("#rating-form")
    assert form.locator("h2").inner_text() == "请为本次服务评分"
    assert "不满意" in form.inner_text() and "非常满意" in form.inner_text()
    assert resident.locator("#done-note").inner_text() == "疏通了地漏"
    assert resident.locator("#technician").inner_text() == "王师傅"  # 王伟, as a resident calls him
    chinese_only(resident)
    shoot(resident, "residents-10-rating-zh")
    form.locator('input[name="rating"][value="2"]').check()
    form.locator('textarea[name="comment"]').fill("第二天又返水了")
    form.locator("button[type=submit]").click()
    resident.locator("#feedback").wait_for()
    assert resident.locator("#request-status").inner_text() == "已处理完毕，感谢您的评价"
    assert resident.locator(".r-stars").inner_text() == "★★☆☆☆"
    chinese_only(resident)

    # three days on, the door is resolved and unrated: a follow-up call is due; the
    # dispatcher calls and notes what the resident said, with their rating
    clock.advance(timedelta(days=3, minutes=1))
    sign_in()  # a new day's shift: yesterday's console session has ended
    call = desk.locator(f'#follow-ups article[data-request-id="{door}"]')
    assert "137****3333" in call.inner_text() and "13722223333" not in desk.content()
    # the number is masked; "拨打" asks for it in full (recorded) and makes it a tel: link
    call.locator("button[data-reveal]").click()
    dial = call.locator("a.req-tel")
    dial.wait_for()
    assert dial.get_attribute("href") == "tel:13722223333"
    assert dial.inner_text() == "13722223333"
    assert call.locator("button[data-reveal]").count() == 0
    assert desk.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shoot(desk, "residents-11a-call-revealed")
    call.locator('input[name="note"]').fill("住户说门禁已经好了，很满意")
    call.locator('select[name="rating"]').select_option("5")
    call.locator("button[type=submit]").click()
    call.wait_for(state="detached")
    assert desk.locator("#follow-ups .empty").inner_text() == "没有待回访的报事。"
    called = api.get(f"/api/v1/requests/{door}").json()
    assert called["follow_up_note"] == "调度 Wu: 住户说门禁已经好了，很满意"
    assert called["feedback"]["rating"] == 5 and called["followed_up_at"] is not None

    # the complaint review of the 2-star rating, for the site's supervisor: closed
    review = desk.locator("#complaint-reviews article.review")
    assert review.count() == 1
    assert "周敏" in review.inner_text() and "第二天又返水了" in review.inner_text()
    review.locator('input[name="outcome"]').fill("主管上门复查，更换地漏芯，住户确认不再返水")
    review.locator("button[type=submit]").click()
    review.first.wait_for(state="detached")
    assert desk.locator("#complaint-reviews .empty").inner_text() == "没有待复核的低分评价。"
    (closed,) = api.get("/api/v1/complaint-reviews", params={"open_only": False}).json()["items"]
    assert (closed["request_id"], closed["closed_by"]) == (leak, "调度 Wu")
    assert closed["outcome"].startswith("主管上门复查")
    assert desk.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shoot(desk, "residents-11-called-and-reviewed")

    # the request's own page: the phone masked again, its Call button, and its history
    # saying to whom the phone was shown and when (the reveal above, then this one)
    desk.goto(f"{url}/requests/{door}")
    assert desk.locator("h1").inner_text().startswith(f"报事 #{door}")
    revealed = desk.locator('#request-history li[data-event="request.phone_revealed"]')
    assert revealed.count() == 1
    assert "电话号码已向 调度 Wu（调度员）完整显示" in revealed.inner_text()
    kept = desk.locator("#request-history p.muted").inner_text()  # as long as the request
    assert kept == (
        "每次完整显示电话号码都有记录，与报事一同保存；其他处理记录保存30天（事件日志）。"
    )
    here = desk.locator(f"#request-{door}")
    assert "137****3333" in here.inner_text() and "13722223333" not in desk.content()
    assert here.locator("button[data-reveal]").inner_text() == "拨打"
    here.locator("button[data-reveal]").click()
    here.locator('a.req-tel[href="tel:13722223333"]').wait_for()
    assert desk.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shoot(desk, "residents-12-request-page-zh")
    desk.reload()
    assert revealed.count() == 2 and "13722223333" not in desk.content()
    assert desk.locator("#request-history li").first.inner_text().endswith("收到报事")

    # the resident whose call was noted sees the rating given on the phone
    resident.goto(door_page)
    assert resident.locator("#request-status").inner_text() == "已处理完毕，感谢您的评价"
    assert resident.locator(".r-stars").inner_text() == "★★★★★"
    chinese_only(resident)
    assert errors == []
    for context in (desk_context, resident_context):
        context.close()
