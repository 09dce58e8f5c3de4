"""The register, its import, the maintenance record and the compliance list in real Chromium at
phone width (390 px), in English and in Chinese: a planner edits a lift's register, imports a
GBK spreadsheet (a bad one first: nothing imported, the row and column shown), opens the lift's
record for a date range (print button, CSV link), and records a drill done on the compliance list.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from facility_dispatch.api.app import create_app
from facility_dispatch.service import build_service
from tests.api import serving
from tests.builders import ADMIN_TOKEN, make_settings, wait_until
from tests.dashboard.test_browser import WAIT_MS, Served, answered, browser, shoot
from tests.services import Broker

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["browser"]
pytestmark = [pytest.mark.browser, pytest.mark.broker]
PHONE = {"width": 390, "height": 844}
WORDS = {
    "en": {"saved": "Saved", "nothing": "Nothing imported", "imported": "2 assets imported",
           "overdue": "Overdue", "ok": "In order", "record": "Maintenance record"},
    "zh": {"saved": "已保存", "nothing": "未导入任何数据", "imported": "已导入 2 台设备",
           "overdue": "已逾期", "ok": "正常", "record": "电梯维护保养记录"},
}  # fmt: skip


@pytest.fixture
def estate(broker: Broker, tmp_path: Path) -> Iterator[Served]:
    site = f"rec-{uuid.uuid4().hex[:6]}"
    app = create_app(build_service(make_settings(tmp_path, broker.url, sites=[site])))
    with serving.served(app) as url:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        try:
            yield Served(url, site, api)
        finally:
            api.close()


def _ok(answer: httpx.Response, expected: int = 200) -> Any:
    return answered(answer, expected)


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_register_import_record_and_compliance_on_a_phone(
    estate: Served, browser: Browser, tmp_path: Path, lang: str
) -> None:
    api, site, url, words = estate.api, estate.site, estate.url, WORDS[lang]
    _ok(
        api.put(
            f"/api/v1/sites/{site}",
            json={"name": "West Park", "locale": "zh-CN" if lang == "zh" else "en"},
        )
    )
    _ok(api.post("/api/v1/assets", json={"site": site, "asset": "lift-1", "kind": "elevator"}), 201)
    order = _ok(
        api.post(
            "/api/v1/work-orders",
            json={"site": site, "asset": "lift-1", "title": "Door <b>sticks</b>",
                  "channel": "phone", "checklist": ["Door sill cleaned"]},
        ),
        201,
    )  # fmt: skip
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN" if lang == "zh" else "en-US"
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{url}/login")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/lang/{lang}?next=/")

    # the register on the lift's page: edited, saved, shown
    page.goto(f"{url}/assets/{site}/lift-1")
    page.locator(".register-edit > summary").click()
    form = page.locator("#register-form")
    form.locator('input[name="maker"]').fill("迅达")
    form.locator('input[name="install_date"]').fill("2019-05-20")
    form.locator('input[name="registration_code"]').fill("梯11沪A0001")
    form.locator('input[name="building"]').fill("3")
    _fits(page)
    form.locator("button[type=submit]").click()
    page.locator(".toast", has_text=words["saved"]).wait_for()
    wait_until(lambda: api.get(f"/api/v1/assets/{site}/lift-1").json()["maker"] == "迅达")
    shown = api.get(f"/api/v1/assets/{site}/lift-1").json()
    assert (shown["building"], shown["install_date"]) == ("3", "2019-05-20")
    page.locator('#register dd[data-field="registration_code"]', has_text="梯11沪A0001").wait_for()

    # a GBK file with a bad row: nothing imported, the row and the column shown
    heading = "站点,设备编号,类型,制造单位,安装日期,楼栋\n"
    bad = tmp_path / "bad.csv"
    rows = f"{site},lift-2,电梯,奥的斯,2020-01-01,1\n{site},lift-3,电梯,奥的斯,2020-13-01,1\n"
    bad.write_bytes((heading + rows).encode("gbk"))
    page.goto(f"{url}/assets/import")
    page.set_input_files('#import-form input[name="file"]', str(bad))
    page.locator("#import-form button[type=submit]").click()
    page.locator("#import-result .error", has_text=words["nothing"]).wait_for()
    cells = page.locator("#import-result table.import-errors tbody tr td").all_inner_texts()
    assert cells[:2] == ["3", "install_date"]
    assert api.get(f"/api/v1/assets/{site}/lift-2").status_code == 404
    _fits(page)
    shoot(page, f"19-register-import-refused-{lang}")
    good = tmp_path / "good.csv"
    rows = f"{site},lift-2,电梯,奥的斯,2020-01-01,1\n{site},lift-3,电梯,奥的斯,2020-1-2,2\n"
    good.write_bytes((heading + rows).encode("gbk"))
    page.set_input_files('#import-form input[name="file"]', str(good))
    page.locator("#import-form button[type=submit]").click()
    page.locator("#import-result .import-ok", has_text=words["imported"]).wait_for()
    assert api.get(f"/api/v1/assets/{site}/lift-3").json()["building"] == "2"

    # the record of lift-1 for today: the order, escaped, a print button and the CSV link
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    page.goto(f"{url}/assets/{site}/lift-1/records?start={today}&end={today}")
    page.locator(".record-sheet h1", has_text=words["record"]).wait_for()
    entry = page.locator(".record-entry", has_text=order["number"])
    assert "Door <b>sticks</b>" in entry.locator("h2").inner_text()  # shown as text, not markup
    assert page.locator('[data-records-action="print"]').is_visible()
    link = page.locator("#records-csv").get_attribute("href") or ""
    csv = page.request.get(f"{url}{link.replace('&amp;', '&')}")
    assert csv.status == 200 and order["number"] in csv.body().decode("utf-8-sig")
    _fits(page)
    page.emulate_media(media="print")
    assert not page.locator("#records-range").is_visible()  # the form does not print
    shoot(page, f"19-records-print-{lang}")
    page.emulate_media(media="screen")

    # the compliance list: an overdue drill, recorded done, no longer overdue
    _ok(
        api.post("/api/v1/compliance", json={"site": site, "item": "drill", "due_on": "2026-01-01"})
    )
    page.goto(f"{url}/compliance?site={site}")
    row = page.locator('#compliance-list tr[data-item="drill"]')
    row.locator(".stage-badge", has_text=words["overdue"]).wait_for()
    _fits(page)
    shoot(page, f"19-compliance-{lang}")
    row.locator('[data-records-action="fill-done"]').click()
    page.locator("#done-form button[type=submit]").click()
    page.locator(".toast", has_text=words["saved"]).wait_for()
    page.locator(
        '#compliance-list tr[data-item="drill"] .stage-badge', has_text=words["ok"]
    ).wait_for()
    (drill,) = _ok(api.get("/api/v1/compliance", params={"site": site}))["items"]
    assert (drill["last_done_on"], drill["stage"]) == (today, "ok")
    assert not errors, errors
    context.close()
