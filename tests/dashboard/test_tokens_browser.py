"""The tokens screen in Chromium: an admin, in Chinese on a phone (390 px), makes a token
limited to one site with the safety manager duty; its secret is shown once; a login with it
works and sees that site only; the admin revokes it (after a confirm) and it no longer logs
in; a planner opening /tokens is refused, and has no nav entry for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.builders import ADMIN_TOKEN
from tests.dashboard.test_browser import WAIT_MS, Served, browser, served, shoot
from tests.dashboard.test_browser import answered as _ok
from tests.dashboard.test_browser import logged_in as _open

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["browser", "served"]
pytestmark = [pytest.mark.browser, pytest.mark.broker]

PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN"}


def _login_refused(browser: Browser, url: str, token: str) -> bool:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{url}/login")
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.locator("p.error[role=alert]").wait_for()  # the login's refusal
        return page.url.startswith(f"{url}/login")
    finally:
        context.close()


def _no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_an_admin_makes_a_site_token_with_the_safety_duty_and_revokes_it(
    served: Served, browser: Browser
) -> None:
    api, site, url = served.api, served.site, served.url
    other = f"{site}-other"
    _ok(api.put(f"/api/v1/sites/{site}", json={"name": "绿苑"}), 200)
    _ok(api.put(f"/api/v1/sites/{other}", json={"name": "北区"}), 200)

    context, page = _open(browser, url, ADMIN_TOKEN, **PHONE)
    try:
        page.goto(f"{url}/lang/zh?next=/tokens")
        assert page.locator('nav.nav a[href="/tokens"]').inner_text() == "令牌"
        form = page.locator("#token-form")
        form.locator("input[name=name]").fill("王安全")
        form.locator("select[name=role]").select_option("planner")
        form.locator(f'input[name=sites][value="{site}"]').check()
        form.locator("input[name=safety_manager]").check()
        form.locator("input[name=expiry_days]").fill("30")
        assert _no_sideways_scroll(page)
        form.locator("button[type=submit]").click()
        box = page.locator("#token-secret")
        box.wait_for()
        assert "不会再次显示" in box.inner_text()
        secret = page.locator("#token-secret-value").input_value()
        assert len(secret) >= 20
        assert _no_sideways_scroll(page)
        shoot(page, "tokens-created-zh-phone")

        made = [t for t in _ok(api.get("/api/v1/tokens"), 200)["items"] if t["name"] == "王安全"]
        assert len(made) == 1
        token = made[0]
        assert token["sites"] == [site]
        assert token["safety_manager"] is True
        assert token["role"] == "planner"
        assert token["expires_at"] is not None

        # the list, as reloaded, has it without the secret
        page.reload()
        item = page.locator(f'li.token-item[data-token="{token["id"]}"]')
        assert "绿苑" in item.inner_text() and site not in item.inner_text()  # named, not keyed
        assert "是" in item.inner_text()
        assert item.locator(".token-role").inner_text() == "调度员 · 安全管理员"  # both
        assert secret not in page.content()
        assert _no_sideways_scroll(page)

        # the token logs in and sees its own site only
        limited, limited_page = _open(browser, url, secret, **PHONE)
        try:
            limited_page.goto(f"{url}/sites")
            limited_page.locator(f"#site-{site}").wait_for()
            assert limited_page.locator(f"#site-{other}").count() == 0
            assert limited_page.locator('nav.nav a[href="/tokens"]').count() == 0
            assert limited_page.goto(f"{url}/tokens").status == 403  # type: ignore[union-attr]
        finally:
            limited.close()

        # revoked, after the confirm (accepted): it no longer logs in
        item.locator("button[data-action=revoke-token]").click()
        item.locator("button[data-action=revoke-token]").wait_for(state="detached")
        assert item.locator(".token-revoked").inner_text() != "否"
        shoot(page, "tokens-revoked-zh-phone")
    finally:
        context.close()
    listed = {t["id"]: t for t in _ok(api.get("/api/v1/tokens"), 200)["items"]}
    assert listed[token["id"]]["revoked_at"] is not None
    assert _login_refused(browser, url, secret)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{url}/api/v1/sites", headers=bearer).status_code == 401


def test_a_planner_is_refused_the_tokens_screen(served: Served, browser: Browser) -> None:
    planner = _ok(served.api.post("/api/v1/tokens", json={"name": "Li Na", "role": "planner"}))
    context, page = _open(browser, served.url, planner["token"], locale="en-US")
    try:
        assert page.locator('nav.nav a[href="/tokens"]').count() == 0
        answer = page.goto(f"{served.url}/tokens")
        assert answer is not None and answer.status == 403
        assert page.locator("#token-form").count() == 0
        assert "admin" in page.locator("main").inner_text()
    finally:
        context.close()
