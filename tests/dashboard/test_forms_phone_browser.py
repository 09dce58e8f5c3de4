"""The console's forms on a phone in Chinese (390 px), in a browser whose clock is on UTC while
the estate is in Shanghai (a laptop left on UTC, a phone on roaming): a two-character Chinese
reason or title is taken, a time typed is the estate's time whatever the browser's zone, the
parts list says what is left after a part is used, and the pages keep to the phone's width."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
import pytest

from facility_dispatch.api.app import create_app
from facility_dispatch.service import build_service
from tests.api import serving
from tests.builders import ADMIN_TOKEN, make_settings, wait_until
from tests.dashboard.test_browser import Served, answered, browser, logged_in, shoot
from tests.services import Broker

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["browser"]
pytestmark = [pytest.mark.browser, pytest.mark.broker]
PHONE = {"width": 390, "height": 844}
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def two_estates(broker: Broker, tmp_path: Path) -> Iterator[tuple[Served, str]]:
    """The service taking two sites, both in Shanghai's zone; the second one's orders must not
    be offered to the first one's requests."""
    site, other = f"web-{uuid.uuid4().hex[:6]}", f"far-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path, broker.url, sites=[site, other])
    with serving.served(create_app(build_service(settings))) as url:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        try:
            wait_until(lambda: api.get("/api/v1/health").json()["broker"] == "connected")
            for key, name in ((site, "绿园"), (other, "东苑")):
                answered(
                    api.put(
                        f"/api/v1/sites/{key}", json={"name": name, "timezone": "Asia/Shanghai"}
                    ),
                    200,
                )
            yield Served(url, site, api), other
        finally:
            api.close()


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def valid(page: Page, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "el => el.checkValidity()"))


def test_chinese_forms_on_a_phone_whose_browser_is_on_utc(
    two_estates: tuple[Served, str], browser: Browser
) -> None:
    served, other = two_estates
    api, site, url = served.api, served.site, served.url
    person = {"name": "李娜", "skills": ["plumbing"], "seniority": "senior", "sites": [site]}
    li = answered(api.post("/api/v1/technicians", json=person))["id"]
    wang = answered(api.post("/api/v1/technicians", json={**person, "name": "王伟"}))["id"]
    now = datetime.now(UTC)
    for who, on_call in ((li, False), (wang, True)):
        shift = {
            "technician_id": who,
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=8)).isoformat(),
            "on_call": on_call,
        }
        answered(api.post("/api/v1/shifts", json=shift))
    stock = [{"site": site, "on_hand": 5, "reorder_point": 1}]
    body = {"sku": "SEAL-50", "name": "水泵密封件", "stock": stock}
    seal = answered(api.post("/api/v1/parts", json=body))
    long_title = "Monthly lift maintenance of the whole building: lift-2 (due 2026-12-01 09:00)"
    open_here = answered(
        api.post(
            "/api/v1/work-orders",
            json={
                "site": site,
                "title": long_title,
                "priority": "P3",
                "channel": "phone",
                "asset": "lift-2",
            },
        )
    )
    open_there = answered(
        api.post(
            "/api/v1/work-orders",
            json={"site": other, "title": "东苑 3 栋停电", "priority": "P3", "channel": "phone"},
        )
    )
    request = {
        "site": site,
        "category": "repair",
        "building": "3",
        "unit": "1202",
        "description": "厨房水管漏水",
        "phone": "139-1111-2222",
        "channel": "phone",
    }
    asked = answered(api.post("/api/v1/requests", json=request))

    context, page = logged_in(
        browser,
        url,
        ADMIN_TOKEN,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="UTC",
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{url}/lang/zh?next=/parts")
        page.wait_for_url(f"{url}/parts")

        # a stock count with the reason the placeholder suggests: 盘点
        row = page.locator('tr[data-sku="SEAL-50"]')
        row.locator('button[data-mode="adjust"]').click()
        page.fill("#stock-form input[name=on_hand]", "4")
        page.fill("#stock-form input[name=note]", "盘点")
        assert valid(page, "#stock-form input[name=note]")
        page.click("#stock-confirm")
        page.locator(".toast-ok", has_text="库存已调整").last.wait_for()
        wait_until(lambda: answered(api.get(f"/api/v1/parts/{seal['id']}"), 200)["stock"] == 4)

        # a new order titled 漏水 (a leak): two characters are a title
        page.goto(f"{url}/work-orders/new")
        page.select_option("#new-order-form select[name=site]", site)
        page.select_option("#new-order-form select[name=skill]", "plumbing")
        page.fill("#new-order-form input[name=title]", "漏水")
        assert valid(page, "#new-order-form input[name=title]")
        page.click("#create-order")
        page.wait_for_url(re.compile(rf"{re.escape(url)}/work-orders/\d+$"))
        leak_id = int(page.url.rsplit("/", 1)[1])
        assert answered(api.get(f"/api/v1/work-orders/{leak_id}"), 200)["title"] == "漏水"

        # a part used: the list then says what is left, without a reload
        chosen = f'#parts-form select[name=part_id] option[value="{seal["id"]}"]'
        assert "可用 4" in page.locator(chosen).inner_text()
        page.select_option("#parts-form select[name=part_id]", str(seal["id"]))
        page.fill("#parts-form input[name=quantity]", "1")
        page.select_option("#parts-form select[name=action]", "consume")
        page.click("#parts-form button[type=submit]")
        page.locator(chosen, has_text="可用 3").wait_for(state="attached")
        # the dispatch table's reasons stay whole words on the phone
        page.locator("#candidates .chip.why-on_call").first.wait_for()
        for chip in page.locator("#candidates .chip").all():
            box = chip.bounding_box()
            assert box is not None and box["height"] < 28, chip.inner_text()
        fits_the_phone(page)
        shoot(page, "forms-phone-order-zh")

        # a shift typed 08:00-20:00 is the estate's 08:00-20:00 (+08:00), not the browser's UTC
        day = (now.astimezone(SHANGHAI) + timedelta(days=2)).date()
        page.goto(f"{url}/people?site={site}")
        page.select_option("#shift-form select[name=technician_id]", str(li))
        page.fill("#shift-form input[name=starts_at]", f"{day}T08:00")
        page.fill("#shift-form input[name=ends_at]", f"{day}T20:00")
        page.click("#save-shift")
        page.locator(".toast-ok").last.wait_for()
        starts = datetime.combine(day, datetime.min.time().replace(hour=8), SHANGHAI)
        shifts = answered(api.get("/api/v1/shifts", params={"technician_id": li}), 200)["items"]
        typed = [s for s in shifts if datetime.fromisoformat(s["starts_at"]) == starts]
        assert len(typed) == 1, shifts
        assert datetime.fromisoformat(typed[0]["ends_at"]) == starts + timedelta(hours=12)
        line = page.locator(f'li.shift-row[data-shift="{typed[0]["id"]}"]')
        assert "08:00" in line.inner_text() and "20:00" in line.inner_text()
        assert (
            page.locator("table.roster span.shift", has_text="08:00\N{EN DASH}20:00").count() == 1
        )
        line.locator('button[data-action="edit-shift"]').click()
        assert page.input_value("#shift-form input[name=starts_at]") == f"{day}T08:00"
        assert page.input_value("#shift-form input[name=ends_at]") == f"{day}T20:00"

        # the request queue: the orders to join are this estate's, each short enough to read
        page.goto(f"{url}/requests")
        join = page.locator(f"#request-{asked['id']} select[name=work_order_id]")
        offered = join.locator("option").all_inner_texts()
        assert any(open_here["number"] in text and "lift-2" in text for text in offered), offered
        assert not any(open_there["number"] in text for text in offered), offered
        assert not any("due" in text for text in offered), offered
        box = join.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"]
        fits_the_phone(page)
        shoot(page, "forms-phone-requests-zh")
        assert errors == []
    finally:
        context.close()


def test_two_character_reasons_and_names_are_taken_by_the_api(
    two_estates: tuple[Served, str],
) -> None:
    """The API's minimum is the console's: a Chinese word of two characters."""
    served, _ = two_estates
    api, site = served.api, served.site
    stock = [{"site": site, "on_hand": 5, "reorder_point": 1}]
    part = answered(api.post("/api/v1/parts", json={"sku": "V-1", "name": "阀门", "stock": stock}))
    counted = api.post(
        f"/api/v1/parts/{part['id']}/adjust", json={"site": site, "on_hand": 3, "reason": "盘点"}
    )
    assert counted.status_code == 200, counted.text
    refused = api.post(
        f"/api/v1/parts/{part['id']}/adjust", json={"site": site, "on_hand": 3, "reason": "盘"}
    )
    assert refused.status_code == 422, refused.text
    answered(
        api.post(
            "/api/v1/work-orders",
            json={"site": site, "title": "漏水", "priority": "P3", "channel": "phone"},
        )
    )
    assert (
        api.post(
            "/api/v1/work-orders",
            json={"site": site, "title": "漏", "priority": "P3", "channel": "phone"},
        ).status_code
        == 422
    )
    silence = {"site": site, "asset": "pump-1", "duration": "2h", "reason": "检修"}
    assert api.post("/api/v1/silences", json=silence).status_code == 201, silence
