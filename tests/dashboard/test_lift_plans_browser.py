"""A lift plan's year by level and moving a slot, in the console on a phone (390 px), in
Chinese and in English: the year shows each visit's level, a move onto the other lift of the
building is refused naming it, a free time is taken. Headless Chromium against the real
service (uvicorn)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from tests.builders import ADMIN_TOKEN
from tests.dashboard.test_browser import WAIT_MS, Served, browser, served, shoot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["browser", "served"]
pytestmark = [pytest.mark.browser, pytest.mark.broker]
PHONE = {"width": 390, "height": 844}
SHANGHAI = ZoneInfo("Asia/Shanghai")
TIMES = "\N{MULTIPLICATION SIGN}"  # the count beside each level


def lift_plan(served: Served, asset: str, starts_at: datetime) -> dict[str, Any]:
    answer = served.api.post(
        "/api/v1/maintenance-plans",
        json={
            "name": f"电梯维保 {asset}",
            "site": served.site,
            "asset": asset,
            "every": "15d",
            "levels": "tsg-t5002",
            "starts_at": starts_at.isoformat(),
            "lead_time": "3d",
            "skill": "elevator",
            "interrupts": "elevator",
            "duration": "2h",
        },
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def signed_in(browser: Browser, served: Served, locale: str) -> Page:
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale=locale, timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{served.url}/login")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/")
    return page


def local(moment: str | datetime) -> str:
    """An instant as a datetime-local field takes it, in the browser's (Shanghai) time."""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return when.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def test_the_years_levels_and_moving_a_slot_on_a_phone(served: Served, browser: Browser) -> None:
    for asset in ("lift-1", "lift-2"):
        made = served.api.post(
            "/api/v1/assets",
            json={"site": served.site, "asset": asset, "kind": "elevator", "building": "3"},
        )
        assert made.status_code in (200, 201), made.text
    starts = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    one, two = lift_plan(served, "lift-1", starts), lift_plan(served, "lift-2", starts)
    first, second = one["occurrences"][0], two["occurrences"][0]

    page = signed_in(browser, served, "zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{served.url}/plans/{one['id']}")
        year = page.locator("#year")
        assert "未来一年" in year.locator("h2").inner_text()
        counts = {
            badge.get_attribute("data-level"): badge.inner_text()
            for badge in year.locator(".level-counts .badge").all()
        }
        assert counts == {
            "yearly": f"年度保养 {TIMES} 2",
            "half-yearly": f"半年保养 {TIMES} 1",
            "quarterly": f"季度保养 {TIMES} 2",
            "half-monthly": f"半月保养 {TIMES} 20",
        }
        visits = year.locator("li")
        assert visits.count() == 25
        assert visits.first.get_attribute("data-level") == "yearly"
        assert visits.nth(6).get_attribute("data-level") == "quarterly"
        assert visits.nth(12).get_attribute("data-level") == "half-yearly"
        assert "分级保养" in page.locator("dd.levels").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shoot(page, "lift-plan-year-zh-390")

        page.goto(f"{served.url}/plans/{two['id']}")
        row = page.locator(f"li.occurrence[data-occurrence='{second['id']}']")
        assert "3栋" in row.inner_text() and "年度保养" in row.inner_text()
        field = row.locator("form.move-slot input[name=starts_at]")
        assert field.input_value() == local(second["due_at"])  # its own slot, lift-1's after
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        field.fill(local(first["due_at"]))  # onto lift-1's slot: refused, naming it
        row.locator("button[type=submit]").click()
        refusal = page.locator(".toast-error", has_text="lift-1 is out of service")
        refusal.wait_for()
        shoot(page, "lift-plan-move-refused-zh-390")
        unchanged = served.api.get(f"/api/v1/maintenance-plans/{two['id']}").json()
        assert unchanged["occurrences"][0]["due_at"] == second["due_at"]

        later = datetime.fromisoformat(first["due_at"]) + timedelta(days=1)
        field.fill(local(later))
        row.locator("button[type=submit]").click()
        page.locator(".toast-ok", has_text="时段已调整").wait_for()
        page.wait_for_load_state("load")
        moved = served.api.get(f"/api/v1/maintenance-plans/{two['id']}").json()["occurrences"][0]
        assert datetime.fromisoformat(moved["due_at"]) == later
        order = served.api.get(f"/api/v1/work-orders/{second['work_order_id']}").json()
        assert datetime.fromisoformat(order["due_at"]) == later
        assert errors == []
    finally:
        page.context.close()

    page = signed_in(browser, served, "en-US")
    try:
        page.goto(f"{served.url}/plans/{one['id']}")
        year = page.locator("#year")
        assert year.locator("h2").inner_text() == "The coming year"
        assert (
            year.locator(".level-counts .badge[data-level=yearly]").inner_text()
            == f"Yearly {TIMES} 2"
        )
        row = page.locator(f"li.occurrence[data-occurrence='{first['id']}']")
        assert "building 3" in row.inner_text() and "Yearly" in row.inner_text()
        assert row.locator("button[type=submit]").inner_text() == "Move slot"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shoot(page, "lift-plan-year-en-390")

        # a new lift's plan by level, from the planner's form
        page.goto(f"{served.url}/plans")
        page.locator("#new-plan summary").click()
        form = page.locator("#plan-form")
        form.locator("input[name=name]").fill("Lift 3 maintenance")
        form.locator("input[name=asset]").fill("lift-1")
        form.locator("input[name=every]").fill("15d")
        form.locator("input[name=starts_at]").fill(local(starts + timedelta(days=5)))
        form.locator("select[name=skill]").select_option("elevator")
        form.locator("select[name=template]").select_option("")
        form.locator("select[name=levels]").select_option("tsg-t5002")
        form.locator("select[name=interrupts]").select_option("elevator")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        form.locator("#create-plan").click()
        page.locator("dd.levels").wait_for()
        created = [p for p in served.api.get("/api/v1/maintenance-plans").json()["items"]
                   if p["name"] == "Lift 3 maintenance"]  # fmt: skip
        assert [(p["levels"], p["every"], p["asset"]) for p in created] == [
            ("tsg-t5002", "15d", "lift-1")
        ]
        assert page.locator("#year .level-counts .badge").count() == 4
    finally:
        page.context.close()
