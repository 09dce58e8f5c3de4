"""The estates in a real browser (Debian's Chromium): the company roll-up at ``/estates`` for
the head office, in English on a desk, and a login limited to one site on a phone, in Chinese,
which sees its own estate only, live updates included. Screenshots in artifacts/dashboard."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import orjson
import pytest

from facility_dispatch.api.app import create_app
from facility_dispatch.kernel.clock import to_ms
from facility_dispatch.service import build_service
from tests.api import serving
from tests.builders import ADMIN_TOKEN, make_settings, publisher, wait_until
from tests.dashboard.test_browser import WAIT_MS, browser, shoot  # noqa: F401
from tests.services import Broker

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.broker]


@dataclass
class Estates:
    url: str
    east: str
    west: str
    api: httpx.Client
    broker: Broker

    def leak(self, site: str, asset: str) -> None:
        with publisher(self.broker.url) as device:
            reading = {"ts": to_ms(datetime.now(UTC)), "metrics": {"leak_detected": True}}
            device.publish(f"facility/{site}/water/{asset}/telemetry", orjson.dumps(reading))


@pytest.fixture
def estates(broker: Broker, tmp_path: Path) -> Iterator[Estates]:
    tag = uuid.uuid4().hex[:6]
    east, west = f"east-{tag}", f"west-{tag}"
    app = create_app(build_service(make_settings(tmp_path, broker.url, sites=[east, west])))
    with serving.served(app) as url:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        try:
            wait_until(lambda: api.get("/api/v1/health").json()["broker"] == "connected")
            for site, name in ((east, "East Garden 东苑"), (west, "West Garden 西苑")):
                assert api.put(f"/api/v1/sites/{site}", json={"name": name}).status_code == 200
                for asset, kind in (("lift-1", "elevator"), ("pump-1", "water")):
                    body = {"site": site, "asset": asset, "kind": kind}
                    assert api.post("/api/v1/assets", json=body).status_code == 201
            yield Estates(url, east, west, api, broker)
        finally:
            api.close()


def login(page: Page, url: str, token: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/*")


def firing(estates: Estates, site: str) -> int:
    params = {"site": site, "state": "firing"}
    return int(estates.api.get("/api/v1/alarms", params=params).json()["total"])


def test_head_office_sees_every_estate_and_a_site_login_its_own_even_live(
    estates: Estates,
    browser: Browser,  # noqa: F811
) -> None:
    estates.leak(estates.west, "pump-1")
    wait_until(lambda: firing(estates, estates.west) == 1, timeout=15)

    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    office = desk.new_page()
    errors: list[str] = []
    office.on("pageerror", lambda error: errors.append(str(error)))
    login(office, estates.url, ADMIN_TOKEN)
    office.goto(f"{estates.url}/lang/en?next=/estates")  # the sites' own language is Chinese
    office.locator("h1", has_text="All estates").wait_for()
    cards = office.locator(".estate-card")
    assert cards.count() == 2
    assert cards.nth(0).get_attribute("data-site") == estates.west  # its alarm puts it first
    west = office.locator(f'.estate-card[data-site="{estates.west}"]')
    # each estate named in the console's language: the English part of "West Garden 西苑"
    assert west.locator("h2").inner_text() == f"West Garden {estates.west}"
    firing_west = west.locator('[data-part="firing"] .chip.sev-critical, [data-part="firing"] b')
    assert sum(int(n) for n in firing_west.all_inner_texts() if n.strip().isdigit()) >= 1
    east = office.locator(f'.estate-card[data-site="{estates.east}"]')
    assert east.locator('[data-status="ok"] b').inner_text() + east.locator(
        '[data-status="offline"] b'
    ).inner_text() in ("02", "20", "11")  # two registered assets, none reporting yet
    shoot(office, "estates-01-roll-up-en")
    assert not errors, errors
    desk.close()

    made = estates.api.post(
        "/api/v1/tokens", json={"name": "East desk", "role": "planner", "sites": [estates.east]}
    )
    assert made.status_code == 201, made.text
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    mobile = phone.new_page()
    mobile.on("pageerror", lambda error: errors.append(str(error)))
    login(mobile, estates.url, made.json()["token"])
    mobile.goto(f"{estates.url}/lang/zh?next=/estates")
    mobile.locator("h1", has_text="全部项目").wait_for()
    assert mobile.locator(".estate-card").count() == 1
    assert mobile.locator(".estate-card").get_attribute("data-site") == estates.east
    assert mobile.locator(".estate-card h2").inner_text() == f"东苑 {estates.east}"  # Chinese
    fits = "document.querySelector('.estate-grid').scrollWidth <= window.innerWidth"
    assert mobile.evaluate(fits)
    shoot(mobile, "estates-02-one-site-phone-zh")
    for path in ("/estates", "/", "/alarms?view=all", "/work-orders", "/plans", "/sites", "/kpis"):
        mobile.goto(f"{estates.url}{path}")
        content = mobile.content()
        assert estates.west not in content and "西苑" not in content, path
        assert mobile.locator("select[name=site] option[value='']").count() == 0, path

    # live: a leak at the other estate, then one at this one; the page refreshes for its own
    mobile.goto(f"{estates.url}/alarms")
    mobile.locator('#live-state[data-state="on"]').wait_for(timeout=WAIT_MS)
    estates.leak(estates.west, "pump-2")
    wait_until(lambda: firing(estates, estates.west) == 2, timeout=15)
    estates.leak(estates.east, "pump-1")
    mobile.locator("li.alarm", has_text="pump-1").wait_for(timeout=WAIT_MS)
    content = mobile.content()
    assert estates.west not in content and "pump-2" not in content
    shoot(mobile, "estates-03-live-alarm-phone-zh")
    assert not errors, errors
    phone.close()
