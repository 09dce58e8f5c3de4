"""Editing a plan in the console keeps its kind of schedule: a crontab plan saved from the form,
in Chinese on a phone (390 px), is still the same crontab plan (the form offered only a list of
intervals, and saving turned it into one); an interval plan takes a free duration (45d); a meter
plan has its form. Headless Chromium against the real service (uvicorn)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.builders import ADMIN_TOKEN
from tests.dashboard.test_browser import WAIT_MS, Served, browser, served, shoot

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["browser", "served"]
pytestmark = [pytest.mark.browser, pytest.mark.broker]
PHONE = {"width": 390, "height": 844}


def _created(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post("/api/v1/maintenance-plans", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_a_cron_plan_edited_in_chinese_on_a_phone_keeps_its_cron(
    served: Served, browser: Browser
) -> None:
    api, site = served.api, served.site
    starts = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    common = {"site": site, "kind": "water", "starts_at": starts, "skill": "plumbing"}
    cron = _created(
        api,
        {
            **common,
            "name": "Monthly tank check",
            "cron": "0 10 1 * *",
            "lead_time": "2d",
            "notice_before": "48h",
            "interrupts": "water",
            "description": "Roof tanks",
            "checklist": ["Drain the tank"],
        },
    )
    interval = _created(api, {**common, "name": "Pump greasing", "every": "15d"})
    meter = _created(
        api, {**common, "name": "Pump seal", "meter": {"metric": "pump_run_hours", "every": 500}}
    )
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{served.url}/login")
        page.fill("#token", ADMIN_TOKEN)
        page.click("button[type=submit]")
        page.wait_for_url(f"{served.url}/")

        page.goto(f"{served.url}/plans/{cron['id']}")
        page.locator("#edit-plan summary").click()
        form = page.locator("#plan-form")
        assert form.locator("input[name=cron]").input_value() == "0 10 1 * *"
        assert form.locator("input[name=cron]").is_visible()
        assert not form.locator("input[name=every]").is_visible()
        words = form.locator(".cron-words").inner_text()
        assert "每月" in words and "0 10" not in words, words
        form.locator("input[name=name]").fill("每月水箱检查")
        form.locator("textarea[name=checklist]").fill("Drain the tank\n检查浮球阀")
        form.locator("textarea[name=description]").fill("屋顶水箱")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shoot(page, "plan-edit-cron-zh-390")
        form.locator("#save-plan").click()
        page.locator("h1", has_text="每月水箱检查").wait_for()
        saved = api.get(f"/api/v1/maintenance-plans/{cron['id']}").json()
        assert (saved["cron"], saved["every"], saved["meter"]) == ("0 10 1 * *", None, None)
        assert saved["checklist"] == ["Drain the tank", "检查浮球阀"]
        assert saved["description"] == "屋顶水箱"
        assert (saved["lead_time"], saved["notice_before"]) == ("2d", "2d")
        assert saved["interrupts"] == "water"

        page.goto(f"{served.url}/plans/{interval['id']}")
        page.locator("#edit-plan summary").click()
        page.locator("#plan-form input[name=every]").fill("45d")
        page.locator("#save-plan").click()
        page.locator(".schedule", has_text="45").wait_for()
        saved = api.get(f"/api/v1/maintenance-plans/{interval['id']}").json()
        assert (saved["every"], saved["cron"]) == ("45d", None)

        page.goto(f"{served.url}/plans/{meter['id']}")
        page.locator("#edit-plan summary").click()
        assert page.locator("#plan-form input[name=meter_metric]").input_value() == (
            "pump_run_hours"
        )
        assert page.locator("#plan-form input[name=meter_every]").input_value() == "500.0"
        assert errors == []
    finally:
        context.close()
