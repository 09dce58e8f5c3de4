"""An order handed back (退回) in a real browser, in Chinese at phone width: the technician who
handed it back shows as not eligible, with why; the rules send it to someone else; choosing by
the rules again changes nothing and the page says so, with no second entry or message."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.builders import ADMIN_TOKEN, wait_until
from tests.dashboard.test_browser import Served, answered, browser, logged_in, served  # noqa: F401
from tests.dashboard.test_console import technician

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.broker]
PHONE = {"width": 390, "height": 844}


def test_a_handed_back_order_goes_to_someone_else_and_the_same_choice_changes_nothing(
    served: Served,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    api, site = served.api, served.site
    wang = technician(api, site, "王伟", "plumbing", on_shift=True)
    li = technician(api, site, "李娜", "plumbing", on_shift=True)
    body = {
        "site": site,
        "title": "5-101 漏水",
        "priority": "P3",
        "skill": "plumbing",
        "channel": "phone",
    }
    order = answered(api.post("/api/v1/work-orders", json=body))
    assert order["assignees"] == [wang]  # the less loaded, first among equals
    secret = answered(
        api.post(
            "/api/v1/tokens",
            json={"name": "wang", "role": "technician", "technician_id": wang},
        )
    )["token"]
    wang_api = {"Authorization": f"Bearer {secret}"}
    handed = api.post(
        f"/api/v1/work-orders/{order['id']}/transition", json={"to": "open"}, headers=wang_api
    )
    assert answered(handed, 200)["status"] == "open"

    context, page = logged_in(
        browser, served.url, ADMIN_TOKEN, viewport=PHONE, is_mobile=True, locale="zh-CN"
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{served.url}/lang/zh?next=/work-orders/{order['id']}")
    row = page.locator(f'#candidates tr[data-technician="{wang}"]')
    row.locator(".why-handed_back", has_text="已退回此工单").wait_for()
    assert row.get_attribute("data-eligible") == "no"
    assert row.locator('button[data-action="assign-to"]').count() == 0
    rules = page.locator('#candidates button[data-action="assign"]')
    rules.click()  # (the minute's sweep of unassigned orders may have been first: same answer)
    page.locator(".toast", has_text=order["number"]).first.wait_for()
    wait_until(lambda: api.get(f"/api/v1/work-orders/{order['id']}").json()["assignees"] == [li])

    page.reload()
    page.locator('#candidates button[data-action="assign"]').click()
    page.locator(".toast", has_text="派单规则选出的仍是原指派人员，未作更改").wait_for()
    timeline = answered(api.get(f"/api/v1/work-orders/{order['id']}"), 200)["timeline"]
    assigned = [e["data"]["assignees"] for e in timeline if e["event"] == "assigned"]
    assert assigned == [[wang], [li]]  # no second entry (nor message) for the same choice
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    assert not errors, errors
    context.close()
