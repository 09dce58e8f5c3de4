"""The dashboard in a real browser: headless Chromium (Debian's) driven by Playwright, against
the real service served by uvicorn, fed over MQTT. Screenshots are kept in artifacts/dashboard.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest

from facility_dispatch.api.app import create_app
from facility_dispatch.service import build_service
from tests.api import serving
from tests.builders import ADMIN_TOKEN, make_settings, publisher, wait_until
from tests.services import ROOT, Broker

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = [pytest.mark.browser, pytest.mark.broker]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "artifacts" / "dashboard"
WAIT_MS = 15_000


@dataclass
class Served:
    url: str
    site: str
    api: httpx.Client


@pytest.fixture
def served(broker: Broker, tmp_path: Path) -> Iterator[Served]:
    """The whole service, with the dashboard, on a free local port (uvicorn in a thread)."""
    site = f"web-{uuid.uuid4().hex[:6]}"
    app = create_app(build_service(make_settings(tmp_path, broker.url, sites=[site])))
    with serving.served(app) as url:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        try:
            wait_until(lambda: api.get("/api/v1/health").json()["broker"] == "connected")
            yield Served(url, site, api)
        finally:
            api.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's Chromium; missing, the test fails saying how to install it (CI does)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: `.venv/bin/pip install -e '.[dev]'`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def logged_in(
    browser: Browser, url: str, token: str, **options: Any
) -> tuple[BrowserContext, Page]:
    """A new browser context (``options``: viewport, locale ...) logged in with ``token``;
    dialogs (confirms) are accepted."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{url}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return context, page


def answered(answer: httpx.Response, expected: int = 201) -> Any:
    """The JSON of an API answer that had to be ``expected`` (its text shown otherwise)."""
    assert answer.status_code == expected, answer.text
    return answer.json()


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def publish(broker: Broker, site: str, asset: str, readings: Any) -> None:
    with publisher(broker.url) as device:
        topic = f"facility/{site}/water/{asset}/telemetry"
        device.publish(topic, orjson.dumps(readings))


def last_hour() -> list[dict[str, Any]]:
    """A tank's past hour, a reading every two minutes: something for the charts to draw."""
    now = datetime.now(UTC)
    return [
        {
            "ts": (now - timedelta(minutes=60 - 2 * i)).isoformat(),
            "metrics": {"pressure_bar": round(3.0 + 0.3 * ((i % 7) - 3) / 3, 2)},
        }
        for i in range(30)
    ]


def plumber_on_shift(api: httpx.Client, site: str) -> int:
    body = {"name": "Li Na", "skills": ["plumbing"], "seniority": "senior", "sites": [site]}
    created = api.post("/api/v1/technicians", json=body)
    assert created.status_code == 201, created.text
    now = datetime.now(UTC)
    shift = {
        "technician_id": created.json()["id"],
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=8)).isoformat(),
    }
    assert api.post("/api/v1/shifts", json=shift).status_code == 201
    return int(created.json()["id"])


def planner_data(api: httpx.Client, site: str) -> None:
    plan = {
        "name": "Tank cleaning and disinfection",
        "site": site,
        "kind": "water",
        "every": "15d",
        "starts_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "skill": "plumbing",
    }
    assert api.post("/api/v1/maintenance-plans", json=plan).status_code == 201
    for sku, name, on_hand in (("SEAL-50", "Pump seal 50 mm", 1), ("VALVE-25", "Valve 25 mm", 9)):
        part = {
            "sku": sku,
            "name": name,
            "stock": [{"site": site, "on_hand": on_hand, "reorder_point": 2}],
        }
        assert api.post("/api/v1/parts", json=part).status_code == 201


def step(page: Page, order_id: int, to: str, then: str) -> None:
    """Click the card's lifecycle button and wait until the board shows it in ``then``."""
    page.locator(f'article[data-order-id="{order_id}"] button[data-to="{to}"]').click()
    page.locator(f'section[data-status="{then}"] article[data-order-id="{order_id}"]').wait_for(
        timeout=WAIT_MS
    )


def test_an_alarm_arrives_live_is_acknowledged_and_its_order_worked_from_the_page(
    served: Served, browser: Browser, broker: Broker
) -> None:
    site = served.site
    plumber = plumber_on_shift(served.api, site)
    publish(broker, site, "tank-1", last_hour())
    publish(broker, site, "tank-1", {"metrics": {"pressure_bar": 3.1, "leak_detected": False}})
    wait_until(lambda: served.api.get("/api/v1/assets", params={"site": site}).json()["total"])

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # the Content-Security-Policy lets the dashboard's own scripts and styles do all they do
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("dialog", lambda dialog: dialog.accept())

    # log in: the token once, then the cookie
    page.goto(f"{served.url}/alarms")
    assert "/login?next=/alarms" in page.url
    shoot(page, "01-login")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/alarms")
    cookie = next(c for c in context.cookies() if c["name"] == "facility_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert cookie["value"] != ADMIN_TOKEN and len(cookie["value"]) >= 43  # a session id
    page.locator('#live-state[data-state="on"]').wait_for()

    # a leak over MQTT shows up on the open page, without reloading it
    publish(broker, site, "tank-1", {"metrics": {"leak_detected": True, "pressure_bar": 2.4}})
    alarm = page.locator('li.alarm[data-state="firing"]', has_text="tank-1")
    alarm.wait_for()
    shoot(page, "02-alarm-live")

    # acknowledge it from the page
    alarm.locator('button[data-action="ack"]').click()
    page.locator(".toast", has_text="Alarm acknowledged").wait_for()
    page.locator("li.alarm .acked", has_text="acknowledged by admin").wait_for()
    assert alarm.locator('button[data-action="ack"]').count() == 0
    shoot(page, "03-alarm-acknowledged")
    alarms = served.api.get("/api/v1/alarms", params={"site": site}).json()["items"]
    assert alarms[0]["acknowledged_by"] == "admin"
    order_id = alarms[0]["work_order_id"]
    order = served.api.get(f"/api/v1/work-orders/{order_id}").json()
    assert (order["priority"], order["assignees"]) == ("P2", [plumber])

    # the estate: the tank's tile is red
    page.goto(f"{served.url}/")
    page.locator(f'a.tile[data-asset="{site}/tank-1"][data-status="alarm"]').wait_for()
    shoot(page, "04-overview")

    # the board: the order assigned to the plumber, moved along by its buttons
    page.goto(f"{served.url}/work-orders?view=board")
    card = page.locator(f'section[data-status="assigned"] article[data-order-id="{order_id}"]')
    card.wait_for()
    assert "Li Na" in card.inner_text()
    shoot(page, "05-board")
    step(page, order_id, "acknowledged", "acknowledged")

    # a second screen whose board went stale (no event stream) offers a step no longer allowed:
    # the API's 409 names the allowed ones, and the page shows it
    stale = context.new_page()
    stale.set_default_timeout(WAIT_MS)
    stale.route("**/api/v1/events*", lambda route: route.abort())
    stale.goto(f"{served.url}/work-orders?view=board")
    step(page, order_id, "in_progress", "in_progress")
    stale.locator(f'article[data-order-id="{order_id}"] button[data-to="in_progress"]').click()
    refusal = stale.locator(".toast-error")
    refusal.wait_for()
    assert "cannot go from in_progress to in_progress" in refusal.inner_text()
    assert "allowed from in_progress: on_hold, resolved, cancelled" in refusal.inner_text()
    shoot(stale, "06-illegal-step-409")
    stale.close()

    # resolving asks for the cause and the action taken
    page.locator(f'article[data-order-id="{order_id}"] button[data-to="resolved"]').click()
    page.fill("#resolve-form textarea[name=cause]", "Float valve stuck open")
    page.fill("#resolve-form textarea[name=action]", "Valve freed and tested")
    page.click("#resolve-confirm")
    page.locator(f'section[data-status="resolved"] article[data-order-id="{order_id}"]').wait_for()
    page.locator(f'article[data-order-id="{order_id}"] button[data-to="closed"]').click()
    page.locator("details.finished").wait_for()
    wait_until(lambda: page.locator(f'article[data-order-id="{order_id}"]').count() == 0)
    final = served.api.get(f"/api/v1/work-orders/{order_id}").json()
    assert final["status"] == "closed"
    transitions = [(e["from"], e["to"]) for e in final["timeline"] if e["event"] == "transition"]
    assert transitions[-4:] == [
        ("assigned", "acknowledged"),
        ("acknowledged", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    shoot(page, "07-board-closed")

    # the asset page: a chart per metric, the leak episode shaded
    # a fresh asset opens on the range its data fills (the last hour: raw readings), not 24 h
    page.goto(f"{served.url}/assets/{site}/tank-1")
    page.locator('#charts[data-loaded="1h"]').wait_for()
    assert page.locator('#chart-ranges [data-range="1h"][aria-selected="true"]').count() == 1
    leak = page.locator('figure[data-metric="leak_detected"]')
    assert int(leak.get_attribute("data-bands") or 0) >= 1
    assert page.locator("figure.chart canvas").count() >= 2
    assert int(leak.get_attribute("data-points") or 0) == 2
    pressure = page.locator('figure[data-metric="pressure_bar"]')
    assert int(pressure.get_attribute("data-points") or 0) > 30
    # the rules' limits are drawn (low 1.5 bar, high 6 bar), and hovering shows the value
    assert int(pressure.get_attribute("data-limits") or 0) >= 2
    pressure.scroll_into_view_if_needed()
    box = pressure.locator("canvas").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
    legend = pressure.locator(".u-legend .u-series").nth(1).locator(".u-value")
    wait_until(lambda: legend.inner_text().endswith(" bar"))
    # a leak sensor reads as a state (wet / dry), not a tick or a 1
    leak.scroll_into_view_if_needed()
    box = leak.locator(".u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.98, box["y"] + box["height"] / 2)
    state = leak.locator(".u-legend .u-series").nth(1).locator(".u-value")
    wait_until(lambda: state.inner_text() in ("wet", "dry"))
    page.locator("#readings, .readings").first.wait_for()
    assert "wet" in page.locator('dd[data-metric="leak_detected"]').inner_text()
    page.click('#chart-ranges [data-range="24h"]')  # downsampled
    page.locator('#charts[data-loaded="24h"]').wait_for()
    shoot(page, "08-asset")
    # the legend's time column in the page's language (uPlot's own label is English "Time")
    time_label = pressure.locator(".u-legend .u-series").nth(0).locator(".u-label")
    assert time_label.inner_text() == "Time"
    page.goto(f"{served.url}/lang/zh?next=/assets/{site}/tank-1")
    page.locator('#charts[data-loaded="1h"]').wait_for()
    assert time_label.inner_text() == "时间"
    page.goto(f"{served.url}/lang/en?next=/assets/{site}/tank-1")
    page.locator('#charts[data-loaded="1h"]').wait_for()

    # the planner's pages
    planner_data(served.api, site)
    for path, name, ready in (
        ("/plans", "11-plans", "li .badge.oc-upcoming"),
        ("/people", "12-people", ".badge.duty-on_shift"),
        ("/parts", "13-parts", 'tr[data-sku="SEAL-50"][data-low="true"]'),
        ("/kpis", "14-kpis", '#sla-chart [data-priority="P2"]'),
    ):
        page.goto(f"{served.url}{path}")
        page.locator(ready).first.wait_for()
        shoot(page, name)

    # Chinese, remembered
    page.click('.topbar .lang-switch a[href^="/lang/zh"]')
    page.locator('html[lang="zh-CN"]').wait_for()
    page.goto(f"{served.url}/")
    page.locator("h1", has_text="项目总览").wait_for()
    shoot(page, "09-overview-zh")
    assert not errors, errors
    context.close()

    # a technician's phone
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    mobile = phone.new_page()
    mobile.goto(f"{served.url}/login")
    mobile.fill("#token", ADMIN_TOKEN)
    mobile.click("button[type=submit]")
    mobile.wait_for_url(f"{served.url}/")
    mobile.goto(f"{served.url}/alarms?view=all")
    mobile.locator("li.alarm").first.wait_for()
    shoot(mobile, "10-phone-alarms")
    phone.close()
