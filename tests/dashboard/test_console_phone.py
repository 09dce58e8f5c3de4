"""The order actions the English desk pass of test_console does, now in Chinese on a phone
(390 px, one browser context): the overview's counters against the lists they open, the board
as one list with the P1 on the first screen, "Dispatch" that finds nobody saying why, the table's
search and filters clicked through, a note, a part used, a playbook step ticked, resolving with
cause and action, closing a P1 with unticked steps with a reason; then a technician, who has no
silence button and whom the API refuses when the page tries anyway.

Set-up and helpers are test_console's and test_browser's; screenshots go to artifacts/console.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pytest
from sqlalchemy import create_engine, update

from facility_dispatch.maintenance.sql import WorkOrderRow
from tests.builders import publisher, wait_until
from tests.dashboard.test_browser import Served, browser, served  # noqa: F401
from tests.dashboard.test_console import created, log_in, settled, shoot, technician, toast, token
from tests.services import Broker

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.broker]
PHONE = {"width": 390, "height": 844}


def rows(page: Page) -> set[str]:
    """The order ids the table shows (none when it says nothing matches)."""
    page.locator("#order-count, .empty").first.wait_for()
    return {
        r.get_attribute("data-order-id") or ""
        for r in page.locator("table.orders-table tbody tr").all()
    }


def listed(page: Page, url: str, href: str) -> int:
    """How many things the list at ``href`` shows: tiles, alarms or work orders."""
    page.goto(url + href)
    page.locator("main").wait_for()
    if href.startswith("/alarms"):
        return page.locator("li.alarm").count()
    if href.startswith("/work-orders"):
        return len(rows(page))
    return page.locator(".tiles a.tile").count()


def test_the_order_actions_in_chinese_on_a_phone(
    served: Served,  # noqa: F811
    browser: Browser,  # noqa: F811
    broker: Broker,
    tmp_path: Path,
) -> None:
    api, site, url = served.api, served.site, served.url
    created(api.put(f"/api/v1/sites/{site}", json={"name": "绿园", "timezone": "Asia/Shanghai"}))
    li = technician(api, site, "Li Na", "plumbing", on_shift=True)
    stock = [{"site": site, "on_hand": 5, "reorder_point": 1}]
    seal = created(
        api.post("/api/v1/parts", json={"sku": "SEAL-50", "name": "水泵密封件", "stock": stock})
    )
    planner = token(api, "planner")
    li_token = created(
        api.post("/api/v1/tokens", json={"name": "li", "role": "technician", "technician_id": li})
    )["token"]

    # a leak (an alarm, its order) and a tank that is fine: tiles of two statuses
    with publisher(broker.url) as device:
        for asset, metrics in (
            ("tank-9", {"leak_detected": True}),
            ("tank-1", {"pressure_bar": 3.1}),
        ):
            topic = f"facility/{site}/water/{asset}/telemetry"
            device.publish(topic, orjson.dumps({"metrics": metrics}))
    wait_until(
        lambda: created(api.get("/api/v1/work-orders", params={"source": "alarm"}))["total"] == 1
    )
    leak = created(api.get("/api/v1/work-orders", params={"source": "alarm"}))["items"][0]
    burst = created(
        api.post(
            "/api/v1/work-orders",
            json={
                "site": site,
                "title": "5 栋地下室爆管",
                "priority": "P1",
                "skill": "plumbing",
                "fault": "pipe_burst",
                "channel": "phone",
            },
        )
    )
    assert burst["assignees"] == [li] and burst["checklist"]
    camera = created(
        api.post(
            "/api/v1/work-orders",
            json={
                "site": site,
                "title": "3 号门摄像头黑屏",
                "priority": "P2",
                "skill": "cctv",
                "channel": "phone",
            },
        )
    )
    lamps = [
        created(
            api.post(
                "/api/v1/work-orders",
                json={
                    "site": site,
                    "title": f"{n} 栋楼道灯不亮",
                    "priority": "P4",
                    "channel": "walk_round",
                },
            )
        )
        for n in range(1, 15)
    ]
    # one was reported long ago: its response deadline passed an hour back
    engine = create_engine(f"sqlite:///{tmp_path / 'facility.db'}")
    with engine.begin() as connection:
        connection.execute(
            update(WorkOrderRow)
            .where(WorkOrderRow.id == lamps[0]["id"])
            .values(respond_by=datetime.now(UTC) - timedelta(hours=1))
        )
    engine.dispose()

    phone = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page = phone.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, url, planner)
    page.goto(f"{url}/lang/zh?next=/")
    page.locator('html[lang="zh-CN"]').wait_for()

    # every counter counts what the list behind it shows
    counters = [
        (c.get_attribute("href") or "", int(c.locator(".n").inner_text()))
        for c in page.locator(".counters a.counter").all()
    ]
    assert len(counters) == 8, counters
    shoot(page, "p01-phone-overview-zh")
    for href, number in counters:
        assert listed(page, url, href) == number, (href, number)
    counted = dict(counters)
    assert counted["/alarms?view=firing"] == 1
    assert counted["/?status=alarm"] == 1
    unaccepted = "/work-orders?unacknowledged=true"
    assert listed(page, url, unaccepted) == counted[unaccepted]
    shown = rows(page)
    # the P1 and P2 nobody has accepted, assigned or not, and the lamp past its deadline
    assert {str(burst["id"]), str(camera["id"]), str(lamps[0]["id"])} <= shown
    assert str(lamps[1]["id"]) not in shown  # a P4 with time to spare
    shoot(page, "p02-phone-unaccepted-zh")

    # the board on a phone: one list, the P1 first on the first screen, not a wall of P4 cards
    page.goto(f"{url}/work-orders?view=board")
    settled(page)
    cards = page.evaluate(
        """() => [...document.querySelectorAll('.board .card')]
            .filter((card) => card.offsetParent !== null)
            .map((card) => [card.dataset.orderId, card.getBoundingClientRect().top])
            .sort((a, b) => a[1] - b[1])"""
    )
    assert cards[0][0] == str(burst["id"]) and cards[0][1] < PHONE["height"], cards[:3]
    assert len(cards) == 12  # the rest a tap away in the table
    assert page.locator("#board-more").inner_text() == "已显示 17 张中的 12 张：在表格中查看全部"
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3_400, height  # 17 cards uncut: about 3,900 px
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shoot(page, "p03-phone-board-zh")

    # "Dispatch" and nobody can go: the message says why, in Chinese
    page.goto(f"{url}/work-orders/{camera['id']}")
    settled(page)
    page.click('.order-head button[data-to="assigned"]')
    toast(page, f"{camera['number']} 仍未派出：无人可派：没有当班或值班的弱电监控技术员", "error")
    assert "拒绝" not in page.locator(".toast-error").last.inner_text()  # answered, not refused
    shoot(page, "p04-phone-nobody-zh")

    # the table: search, then each filter clicked through
    page.goto(f"{url}/work-orders")
    page.fill("#order-filters input[name=q]", "爆管")
    page.press("#order-filters input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"q=%E7%88%86%E7%AE%A1"))
    assert rows(page) == {str(burst["id"])}
    his = created(api.get("/api/v1/work-orders", params={"assignee": li}))["items"]
    assert {o["id"] for o in his} == {burst["id"], leak["id"]}  # the leak went to him too
    for name, value, expected in (
        ("technician", str(li), {str(burst["id"]), str(leak["id"])}),
        ("priority", "P1", {str(burst["id"])}),
        ("source", "alarm", {str(leak["id"])}),
    ):
        page.goto(f"{url}/work-orders")
        page.select_option(f"#order-filters select[name={name}]", value)
        page.wait_for_url(re.compile(rf"{name}={value}"))
        assert rows(page) == expected, name
    page.goto(f"{url}/work-orders")
    page.click("#order-filters input[name=overdue]")
    page.wait_for_url(re.compile(r"overdue=true"))
    assert rows(page) == {str(lamps[0]["id"])}
    shoot(page, "p05-phone-overdue-zh")

    # the P1: a note (shown as typed, markup and all), a seal used, the arrival step ticked
    page.goto(f"{url}/work-orders/{burst['id']}")
    settled(page)
    page.fill("#note-form textarea", "地下室立管接头破裂 <b>已关阀</b>")
    page.click("#note-form button[type=submit]")
    note = page.locator('.timeline li[data-event="note"]', has_text="<b>已关阀</b>")
    note.wait_for()
    page.select_option("#parts-form select[name=part_id]", str(seal["id"]))
    page.fill("#parts-form input[name=quantity]", "1")
    page.click("#parts-form button[type=submit]")
    page.locator('tr[data-part="SEAL-50"] td.consumed', has_text="1").wait_for()
    arrival = page.locator(".checklist li").first
    assert "水工到场" in arrival.inner_text()
    arrival.locator('button[data-result="done"]').click()
    page.locator(".checklist li").first.and_(page.locator('[data-result="done"]')).wait_for()
    shoot(page, "p06-phone-order-worked-zh")

    # resolved with cause and action, then closed with its other steps unticked: a reason
    for to in ("acknowledged", "in_progress"):
        page.click(f'.order-head button[data-to="{to}"]')
        page.locator(f'.order-head[data-status="{to}"]').wait_for()
    page.click('.order-head button[data-to="resolved"]')
    page.locator("#resolve-dialog[open]", has_text="处理措施").wait_for()
    page.fill("#resolve-form textarea[name=cause]", "立管接头锈蚀")
    page.fill("#resolve-form textarea[name=action]", "更换接头，恢复供水")
    page.click("#resolve-confirm")
    page.locator('.order-head[data-status="resolved"]').wait_for()
    page.locator(".timeline li", has_text="立管接头锈蚀").wait_for()
    page.click('.order-head button[data-to="closed"]')
    page.locator("#reason-dialog[open]", has_text="关闭前请说明原因").wait_for()
    shoot(page, "p07-phone-close-reason-zh")
    page.fill("#reason-form textarea[name=note]", "其余步骤由物业经理现场确认")
    page.click("#reason-confirm")
    page.locator('.order-head[data-status="closed"]').wait_for()
    done = created(api.get(f"/api/v1/work-orders/{burst['id']}"))
    resolution = next(e for e in done["timeline"] if e["to"] == "resolved")
    assert (resolution["data"]["cause"], resolution["data"]["action"]) == (
        "立管接头锈蚀",
        "更换接头，恢复供水",
    )
    assert done["timeline"][-1]["note"] == "其余步骤由物业经理现场确认"
    assert done["checklist"][0]["result"] == "done"
    part = created(api.get(f"/api/v1/parts/{seal['id']}"))["sites"][0]
    assert part["on_hand"] == 4
    shoot(page, "p08-phone-closed-zh")

    # a technician in the same browser: the leak is listed without a silence button, and the
    # API refuses a silence the page would send (off the console first: its live refresh,
    # answered 401 once the cookies are gone, would send the page to the login itself)
    page.goto("about:blank")
    phone.clear_cookies()
    log_in(page, url, li_token)
    page.goto(f"{url}/lang/zh?next=/alarms")
    page.locator("li.alarm", has_text="tank-9").wait_for()
    assert page.locator('button[data-action="silence"], #silence-form').count() == 0
    refused = page.evaluate(
        """async (site) => (await fetch('/api/v1/silences', {
              method: 'POST', credentials: 'same-origin',
              headers: {'Content-Type': 'application/json'},
              body: JSON.stringify({site, asset: 'tank-9', duration: '1h', reason: '试'}),
            })).status""",
        site,
    )
    assert refused == 403
    shoot(page, "p09-phone-technician-alarms-zh")
    assert not errors, errors
    phone.close()
