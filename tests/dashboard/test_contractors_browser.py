"""Contractors and the safety manager's sign-off in Chromium: a planner adds a contractor with
its technician's licence on the contractors screen (English, desktop); lift work then goes to
that contractor; the planner sends it to another (an expired contract is refused, saying
why); a planner who is no safety manager sees no sign button and is refused closing
the resolved order; the safety manager, in Chinese on a phone (390 px), signs it off and sees
the signature and its digest; then the order closes."""

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


def test_a_contractor_added_and_a_lift_order_signed_off_in_both_languages(
    served: Served, browser: Browser
) -> None:
    api, site, now = served.api, served.site, datetime.now(UTC)
    licence = {"kind": "elevator", "number": "TS3101-0007", "expires_on": "2030-06-30"}
    body = {"name": "Zhao Lei", "skills": ["elevator"], "seniority": "senior", "sites": [site]}
    zhao = _ok(api.post("/api/v1/technicians", json={**body, "certifications": [licence]}))["id"]
    on = {"technician_id": zhao, "starts_at": (now - timedelta(hours=1)).isoformat()}
    _ok(api.post("/api/v1/shifts", json={**on, "ends_at": (now + timedelta(hours=8)).isoformat()}))
    _ok(api.put(f"/api/v1/sites/{site}", json={"name": "Green Garden", "locale": "en"}), 200)
    planner = _ok(api.post("/api/v1/tokens", json={"name": "Li Na", "role": "planner"}))["token"]
    manager = _ok(
        api.post(
            "/api/v1/tokens", json={"name": "王安全", "role": "planner", "safety_manager": True}
        )
    )["token"]
    end = (now + timedelta(days=300)).date().isoformat()

    # the planner adds the contractor on the contractors screen, in English
    context, page = _open(browser, served.url, planner, locale="en-US")
    try:
        page.goto(f"{served.url}/lang/en?next=/contractors")
        form = page.locator("#contractor-form-new")
        form.locator("input[name=name]").fill("Lift Care Co.")
        form.locator("input[name=phone_24h]").fill("400-820-1234")
        form.locator("input[name=contract_end]").fill(end)
        form.locator("input[name=response_minutes]").fill("30")
        form.locator(f'input[name=sites][value="{site}"]').check()
        form.locator(f'input[name=technician][value="{zhao}"]').check()
        form.locator(f"input[name=licence-{zhao}]").fill("WB-2201")
        form.locator("button[type=submit]").click()
        page.locator("section.contractor", has_text="Lift Care Co.").wait_for()
        page.locator(".ctr-licences", has_text="WB-2201").wait_for()
        shoot(page, "contractors-en")
    finally:
        context.close()
    contractor = _ok(api.get("/api/v1/contractors"), 200)["items"][0]
    assert contractor["technicians"] == [{"technician_id": zhao, "licence": "WB-2201"}]

    order = _ok(
        api.post(
            "/api/v1/work-orders",
            json={
                "site": site,
                "asset": "lift-2",
                "kind": "elevator",
                "title": "Lift 2 stops between floors",
                "priority": "P3",
                "skill": "elevator",
                "channel": "phone",
            },
        )
    )
    assert order["contractor_id"] == contractor["id"] and order["assignees"] == [zhao]
    order_page = f"{served.url}/work-orders/{order['id']}"
    other = {"phone_24h": "400-100-2000", "kinds": ["elevator"], "sites": []}
    old = {**other, "name": "Old Lifts", "contract_start": "2024-01-01"}
    _ok(api.post("/api/v1/contractors", json={**old, "contract_end": "2025-12-31"}))
    wide = {**other, "name": "Citywide Lifts", "contract_start": "2026-01-01"}
    citywide = _ok(api.post("/api/v1/contractors", json={**wide, "contract_end": end}))

    # the planner sends the lift work to another contractor: the expired one is refused
    context, page = _open(browser, served.url, planner, locale="en-US")
    try:
        page.goto(order_page)
        page.wait_for_load_state("networkidle")  # the refresh on the stream's connection
        page.evaluate(
            """() => {
              window.swapsOffered = 0;
              document.addEventListener("htmx:beforeSwap", () => { window.swapsOffered += 1; });
            }"""
        )
        page.locator("#contractor-choice").select_option(label="Old Lifts")
        # another user's note arrives meanwhile: the region is offered a redraw and keeps the
        # choice being made instead of taking it away
        note = {"note": "tenant called again"}
        _ok(api.post(f"/api/v1/work-orders/{order['id']}/notes", json=note), 200)
        page.wait_for_function("() => window.swapsOffered > 0")
        chosen = page.locator("#contractor-choice option:checked").inner_text()
        assert chosen.strip() == "Old Lifts"
        page.locator('[data-action="dispatch-contractor"]').click()
        page.locator(".toast", has_text="contract ended on 2025-12-31").wait_for()
        page.locator("#contractor-choice").select_option(label="Citywide Lifts")
        page.locator('[data-action="dispatch-contractor"]').click()
        page.locator("#order-contractor", has_text="Citywide Lifts").wait_for()
    finally:
        context.close()
    dispatched = _ok(api.get(f"/api/v1/work-orders/{order['id']}"), 200)
    assert dispatched["contractor_id"] == citywide["id"]
    for step in ("acknowledged", "in_progress", "resolved"):
        _ok(api.post(f"/api/v1/work-orders/{order['id']}/transition", json={"to": step}), 200)

    # a planner who is no safety manager: no sign button, and closing is refused
    context, page = _open(browser, served.url, planner, locale="en-US")
    try:
        page.goto(order_page)
        page.locator("#sign-off-needed").wait_for()
        assert page.locator('[data-action="sign-off"]').count() == 0
        assert page.locator('button[data-to="closed"]').count() == 0  # the sign-off is awaited
    finally:
        context.close()
    assert _ok(api.get(f"/api/v1/work-orders/{order['id']}"), 200)["status"] == "resolved"

    # the safety manager signs it off in Chinese on a phone
    context, page = _open(
        browser,
        served.url,
        manager,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    try:
        page.goto(f"{served.url}/lang/zh?next=/contractors")
        page.locator("section.contractor", has_text="维保人员及证书编号").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(page, "contractors-zh-390")
        page.goto(f"{served.url}/work-orders/{order['id']}")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        page.locator("#sign-off-needed", has_text="安全管理员").wait_for()
        page.locator("#sign-off-note").fill("现场核查")
        page.locator('[data-action="sign-off"]').click()
        page.locator("#sign-off-signer", has_text="王安全").wait_for()
        digest = page.locator("#sign-off-digest").inner_text()
        assert page.locator("#sign-off", has_text="TS3101-0007").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(page, "sign-off-zh-390")
        # the signed record is sealed: closing is the only step left, and it is offered
        page.locator('button[data-to="closed"]').first.wait_for()
        assert page.locator('button[data-to="in_progress"]').count() == 0
        page.locator('button[data-to="closed"]').first.click()
        page.locator('.order-head[data-status="closed"]').wait_for()
    finally:
        context.close()
    signed = _ok(api.get(f"/api/v1/work-orders/{order['id']}"), 200)
    assert signed["sign_off"]["digest"] == digest and signed["sign_off"]["note"] == "现场核查"
    assert signed["status"] == "closed"
