"""Rosters and rounds in a real browser at phone width (390 px): a technician walks a plant room
round, scanning each checkpoint (opening its code's address), and a failed item opens an order;
a planner fills a roster gap left by an absence with the proposed substitute and acknowledges
the handover the technician wrote. Headless Chromium against the real service (uvicorn)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from facility_dispatch.api.app import create_app
from facility_dispatch.service import build_service
from tests.api import serving
from tests.builders import ADMIN_TOKEN, make_settings, wait_until
from tests.dashboard.test_browser import WAIT_MS, Served, browser, shoot
from tests.dashboard.test_browser import answered as _ok
from tests.services import Broker

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

__all__ = ["browser"]
pytestmark = [pytest.mark.browser, pytest.mark.broker]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def estate(broker: Broker, tmp_path: Path) -> Iterator[Served]:
    site = f"walk-{uuid.uuid4().hex[:6]}"
    app = create_app(build_service(make_settings(tmp_path, broker.url, sites=[site])))
    with serving.served(app) as url:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        try:
            yield Served(url, site, api)
        finally:
            api.close()


def _phone(browser: Browser, url: str, token: str) -> tuple[BrowserContext, Page, list[str]]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{url}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return context, page, errors


def _fits(page: Page) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_round_walked_on_a_phone_and_a_roster_gap_filled(
    estate: Served, browser: Browser, tmp_path: Path
) -> None:
    from PIL import Image

    snapshot = tmp_path / "leak.png"
    Image.new("RGB", (2400, 1800), (40, 90, 160)).save(snapshot)  # larger than the API takes
    api, site, url = estate.api, estate.site, estate.url
    _ok(api.put(f"/api/v1/sites/{site}", json={"name": "West Park", "locale": "en"}), 200)
    people = {
        name: _ok(
            api.post(
                "/api/v1/technicians",
                json={
                    "name": name,
                    "skills": ["security", "plumbing"],
                    "seniority": "senior",
                    "sites": [site],
                },
            )
        )["id"]
        for name in ("Gao Feng", "Spare Guard")
    }
    token = _ok(
        api.post(
            "/api/v1/tokens",
            json={"name": "gao", "role": "technician", "technician_id": people["Gao Feng"]},
        )
    )["token"]
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())

    # a planner sets up the post, its roster, the holidays and a built-in route in the console
    context, page, errors = _phone(browser, url, ADMIN_TOKEN)
    page.goto(f"{url}/rosters?site={site}")
    setup = page.locator("#post-form")
    setup.locator('input[name="name"]').fill("North gate")
    setup.locator('input[name="skill"]').fill("security")
    setup.locator('input[name="wanted_skills"]').fill("first_aid，fire_control")
    setup.locator('input[name="shift-name-0"]').fill("day")
    setup.locator('input[name="shift-starts-0"]').fill("08:00")
    setup.locator('input[name="shift-ends-0"]').fill("20:00")
    setup.locator('input[name="shift-headcount-0"]').fill("1")
    setup.locator('input[name="shift-weekdays-0"][value="7"]').uncheck()  # not on Sundays
    _fits(page)
    shoot(page, "19-roster-setup-phone")
    setup.locator("button[type=submit]").click()
    page.locator(".toast", has_text="Saved").wait_for()
    wait_until(lambda: _ok(api.get("/api/v1/posts", params={"site": site}), 200)["total"] == 1)
    page.reload()
    page.locator("#roster-setup > summary").click()  # the set-up folds away once posts exist
    page.locator("#line-form").wait_for()
    (post,) = _ok(api.get("/api/v1/posts", params={"site": site}), 200)["items"]
    assert post["shifts"][0]["starts"] == "08:00" and post["skill"] == "security"
    assert post["wanted_skills"] == ["fire_control", "first_aid"]
    assert post["shifts"][0]["weekdays"] == [1, 2, 3, 4, 5, 6]
    lines = page.locator("#line-form")
    lines.locator('select[name="technician"]').select_option(str(people["Gao Feng"]))
    lines.locator('input[name="pattern"]').fill("day")
    lines.locator('input[name="anchor"]').fill(monday.isoformat())
    lines.locator("button[type=submit]").click()
    page.locator(".toast", has_text="Saved").wait_for()
    wait_until(lambda: _ok(api.get(f"/api/v1/posts/{post['id']}/roster-lines"), 200)["total"] == 1)
    page.reload()
    page.locator("#roster-setup > summary").click()
    holidays = page.locator("#holiday-form")
    holidays.locator('input[name="year"]').fill("2026")
    holidays.locator('textarea[name="lines"]').fill("2026-10-01 国庆节\n2026-10-02 国庆节")
    holidays.locator('textarea[name="workdays"]').fill("2026-10-10 调休")
    holidays.locator("button[type=submit]").click()
    page.locator(".toast", has_text="Saved").wait_for()
    calendar = _ok(api.get(f"/api/v1/sites/{site}/holidays/2026"), 200)["holidays"]
    assert calendar == [
        {"day": "2026-10-01", "name": "国庆节", "workday": False},
        {"day": "2026-10-02", "name": "国庆节", "workday": False},
        {"day": "2026-10-10", "name": "调休", "workday": True},
    ]
    page.goto(f"{url}/rounds?site={site}")
    page.locator('button[data-template="plant_room"]').click()
    page.locator("li[data-route-id]").wait_for()
    page.locator("details.setup > summary").click()
    own = page.locator("#route-form")
    own.locator('input[name="name"]').fill("Car park night check")
    own.locator('input[name="times"]').fill("22:00")
    own.locator('textarea[name="checkpoints"]').fill(
        "Ramp B1: lights on; barrier works\nFire door 3: closed"
    )
    own.locator("button[type=submit]").click()
    page.locator("li[data-route-id]", has_text="Car park night check").wait_for()
    assert not errors, errors
    context.close()
    listed, custom = _ok(api.get("/api/v1/routes", params={"site": site}), 200)["items"]
    assert [c["name"] for c in custom["checkpoints"]] == ["Ramp B1", "Fire door 3"]
    assert [i["text"] for i in custom["checkpoints"][0]["items"]] == ["lights on", "barrier works"]
    assert custom["times"] == ["22:00"] and custom["window_s"] == 7200
    route = _ok(api.get(f"/api/v1/routes/{listed['id']}"), 200)
    context, page, errors = _phone(browser, url, ADMIN_TOKEN)
    page.goto(f"{url}/routes/{route['id']}/codes")  # printed and fixed on site
    assert page.locator("figure.code svg").count() == 2
    assert route["checkpoints"][0]["token"] in page.locator("figure.code .url").first.inner_text()
    shoot(page, "25-codes-phone")
    context.close()
    assert route["name"] == "Plant room round (pump room, switch room)"

    week = {"start": monday.isoformat(), "end": (monday + timedelta(days=6)).isoformat()}
    assert _ok(api.get(f"/api/v1/sites/{site}/coverage", params=week), 200)["gaps"] == 0
    absence = {  # Gao is off sick on Thursday: a gap the console shows
        "technician_id": people["Gao Feng"],
        "starts_at": f"{(monday + timedelta(days=3)).isoformat()}T00:00:00+08:00",
        "ends_at": f"{(monday + timedelta(days=4)).isoformat()}T00:00:00+08:00",
        "reason": "sick",
    }
    _ok(api.post("/api/v1/absences", json=absence))
    pumps, switch_room = route["checkpoints"]

    # the technician's phone: start a round, then scan each checkpoint in turn
    context, page, errors = _phone(browser, url, token)
    codes = page.goto(f"{url}/routes/{route['id']}/codes")
    assert codes is not None and codes.status == 403  # the codes are a planner's to print
    page.goto(f"{url}/rounds?site={site}")
    _fits(page)
    page.locator(
        f'li[data-route-id="{route["id"]}"] button[data-roster-action="start-round"]'
    ).click()
    page.wait_for_url(f"{url}/rounds/*")
    round_id = int(page.url.rsplit("/", 1)[1])
    page.locator("li.checkpoint.next", has_text="Domestic water pump room").wait_for()
    shoot(page, "20-round-started-phone")

    page.goto(f"{url}/p/{switch_room['token']}")  # out of order: the form is not offered
    page.locator("p.flag", has_text="scanned in order").wait_for()
    assert page.locator("form.visit-form").count() == 0

    page.goto(f"{url}/p/{pumps['token']}")
    form = page.locator("form.visit-form")
    form.wait_for()
    _fits(page)
    form.locator('fieldset[data-key="pumps"] input[value="fail"]').check()
    form.locator('input[name="pumps-note"]').fill("Pump 2 leaks at the gland")
    form.locator('input[name="pumps-photo"]').set_input_files(str(snapshot))
    shoot(page, "21-checkpoint-form-phone")
    form.locator("button[type=submit]").click()
    page.locator(".toast", has_text="1 finding,").wait_for()  # one, in the singular
    page.wait_for_url(f"{url}/rounds/{round_id}")
    finding = page.locator("li.checkpoint.done .results li.failed", has_text="Pump 2 leaks")
    finding.wait_for()
    number = finding.locator("a.order-link").inner_text()
    assert number.startswith("WO-")
    thumb = finding.locator("img.thumb")
    thumb.wait_for()
    wait_until(lambda: thumb.evaluate("img => img.complete && img.naturalWidth") == 1600)

    page.goto(f"{url}/p/{switch_room['token']}")
    page.locator("form.visit-form button[type=submit]").click()
    page.wait_for_url(f"{url}/rounds/{round_id}")
    page.locator("#round-state", has_text="done").wait_for()
    shoot(page, "22-round-done-phone")
    walked = _ok(api.get(f"/api/v1/rounds/{round_id}"), 200)
    assert (walked["state"], walked["findings"]) == ("done", 1)
    (failed,) = [r for v in walked["visits"] for r in v["results"] if not r["ok"]]
    order = _ok(api.get(f"/api/v1/work-orders/{failed['work_order_id']}"), 200)
    assert (order["number"], order["channel"], order["skill"]) == (number, "walk_round", "plumbing")

    # the technician sees the week's gap (no button to fill it) and hands over
    page.goto(f"{url}/rosters?site={site}&week={monday.isoformat()}")
    page.locator("td.gap").first.wait_for()
    _fits(page)  # the week's grid scrolls inside its panel, not the page
    assert page.locator("#gap-count").inner_text() == "1"
    sunday = (monday + timedelta(days=6)).isoformat()  # the post is not needed on Sundays
    assert page.locator("td.cell.off").evaluate_all("cs => cs.map(c => c.dataset.day)") == [sunday]
    handover = page.locator("#handover-form")
    handover.locator('input[name="keys"]').fill("Pump room key 2")
    handover.locator('button[type="submit"]').click()
    page.locator("li.handover.state-waiting", has_text="Pump room key 2").wait_for()
    shoot(page, "23-roster-phone")
    page.goto(f"{url}/lang/zh?next=/rounds/{round_id}")  # the same round, in Chinese
    page.locator("#round-state", has_text="已完成").wait_for()
    # the route's own words stay as the planner wrote them (here, the English template)
    page.locator("li.checkpoint .results li.failed", has_text="Pumps run without").wait_for()
    assert page.locator("p.muted.small", has_text="完成时限").count() == 1
    _fits(page)
    shoot(page, "26-round-done-phone-zh")
    assert not errors, errors
    context.close()

    # a planner proposes the spare guard for the gap, and acknowledges the handover
    context, page, errors = _phone(browser, url, ADMIN_TOKEN)
    page.goto(f"{url}/rosters?site={site}&week={monday.isoformat()}")
    page.locator("td.gap a.gap-badge").first.click()
    page.wait_for_url(f"{url}/rosters/substitutes*")
    spare = page.locator(f'li[data-technician-id="{people["Spare Guard"]}"]')
    spare.wait_for()
    _fits(page)
    shoot(page, "24-substitutes-phone")
    spare.locator('button[data-roster-action="cover"]').click()
    page.wait_for_url(f"{url}/rosters/substitutes*")
    wait_until(
        lambda: _ok(api.get(f"/api/v1/sites/{site}/coverage", params=week), 200)["gaps"] == 0
    )
    page.goto(f"{url}/rosters?site={site}&week={monday.isoformat()}")
    assert page.locator("#gap-count").inner_text() == "0"
    page.locator('button[data-roster-action="acknowledge"]').click()
    page.locator("li.handover.state-acknowledged").wait_for()
    assert not errors, errors
    context.close()
