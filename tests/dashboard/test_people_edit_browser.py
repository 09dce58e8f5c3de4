"""Shifts and absences edited and cancelled from the people page, in Chromium: a planner in
Chinese on a phone (390 px) edits a coming shift and cancels another, and in English at desktop
width edits an absence and cancels it (the message says the orders it moved stay with their
substitutes); a viewer sees no such buttons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from tests.dashboard.test_browser import Served, browser, served, shoot
from tests.dashboard.test_browser import answered as _ok
from tests.dashboard.test_browser import logged_in as _open

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["browser", "served"]
pytestmark = [pytest.mark.browser, pytest.mark.broker]


def test_shifts_and_absences_edited_and_cancelled_in_both_languages(
    served: Served, browser: Browser
) -> None:
    api, site, now = served.api, served.site, datetime.now(UTC)
    body = {"name": "Li Na", "skills": ["plumbing"], "seniority": "senior", "sites": [site]}
    li = _ok(api.post("/api/v1/technicians", json=body))["id"]
    wang = _ok(api.post("/api/v1/technicians", json={**body, "name": "Wang Wei"}))["id"]
    for who in (li, wang):
        on = {"technician_id": who, "starts_at": (now - timedelta(hours=1)).isoformat()}
        _ok(
            api.post(
                "/api/v1/shifts", json={**on, "ends_at": (now + timedelta(hours=8)).isoformat()}
            )
        )
    tomorrow = now + timedelta(days=1)
    kept, dropped = (
        _ok(
            api.post(
                "/api/v1/shifts",
                json={
                    "technician_id": li,
                    "starts_at": (tomorrow + timedelta(hours=h)).isoformat(),
                    "ends_at": (tomorrow + timedelta(hours=h + 4)).isoformat(),
                },
            )
        )
        for h in (0, 6)
    )
    order = {"site": site, "title": "Tap dripping", "priority": "P3", "skill": "plumbing"}
    order_id = _ok(api.post("/api/v1/work-orders", json={**order, "channel": "phone"}))["id"]
    assert _ok(api.get(f"/api/v1/work-orders/{order_id}"), 200)["assignees"] == [li]
    away = {
        "technician_id": li,
        "starts_at": (now - timedelta(minutes=5)).isoformat(),
        "ends_at": (now + timedelta(days=2)).isoformat(),
        "reason": "sick",
    }
    absence = _ok(api.post("/api/v1/absences", json=away))
    assert absence["reassigned"] == 1
    viewer = _ok(api.post("/api/v1/tokens", json={"name": "v", "role": "viewer"}))["token"]
    planner = _ok(api.post("/api/v1/tokens", json={"name": "p", "role": "planner"}))["token"]

    # a planner, in Chinese on a phone: a shift made on call, another cancelled
    context, page = _open(
        browser,
        served.url,
        planner,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    try:
        page.goto(f"{served.url}/people")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        page.locator(f'#shifts [data-action="edit-shift"][data-shift="{kept["id"]}"]').click()
        form = page.locator("#shift-form")
        form.locator("input[name=on_call]").check()
        form.locator("#save-shift").click()
        page.locator(f'#shifts li[data-shift="{kept["id"]}"]', has_text="备班").wait_for()
        assert _ok(api.get("/api/v1/shifts", params={"technician_id": li}), 200)["total"] == 3
        page.locator(f'#shifts [data-action="cancel-shift"][data-shift="{dropped["id"]}"]').click()
        page.locator(".toast", has_text="班次已取消").wait_for()
        assert page.locator(f'#shifts li[data-shift="{dropped["id"]}"]').count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(page, "people-shifts-zh-390")
    finally:
        context.close()
    shifts = _ok(api.get("/api/v1/shifts", params={"technician_id": li}), 200)["items"]
    assert [s["on_call"] for s in shifts if s["id"] == kept["id"]] == [True]
    assert dropped["id"] not in {s["id"] for s in shifts}

    # the same planner in English at desktop width: the absence edited, then cancelled
    context, page = _open(browser, served.url, planner, locale="en-US")
    try:
        page.goto(f"{served.url}/lang/en?next=/people")
        assert page.locator("html").get_attribute("lang") == "en"
        row = page.locator(f'#absences [data-absence="{absence["id"]}"]')
        row.locator('[data-action="edit-absence"]').click()
        page.locator("#absence-form input[name=reason]").fill("flu")
        page.locator("#save-absence").click()
        row.filter(has_text="flu").wait_for()
        row.locator('[data-action="cancel-absence"]').click()
        page.locator(".toast", has_text="stay with their substitutes").wait_for()
        assert page.locator(f'#absences [data-absence="{absence["id"]}"]').count() == 0
        shoot(page, "people-absence-cancelled-en")
    finally:
        context.close()
    assert _ok(api.get(f"/api/v1/work-orders/{order_id}"), 200)["assignees"] == [wang]

    # a viewer sees the shifts but may not change them
    context, page = _open(browser, served.url, viewer, locale="en-US")
    try:
        page.goto(f"{served.url}/people")
        page.locator(f'#shifts li[data-shift="{kept["id"]}"]').wait_for()
        assert (
            page.locator('[data-action="edit-shift"], [data-action="cancel-absence"]').count() == 0
        )
    finally:
        context.close()
