"""The printable incident review (复盘, ``/api/v1/work-orders/{id}/review.html``) and the
maintenance record page say what the console says, in the reader's language: local times of the
site, key times in the order they happened, worded events, the cause and the action taken; no
ISO times, codes, locale keys or Python values. Each module gets its own estate: these tests
resolve its leak order."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from facility_dispatch.api.app import create_app
from tests.api import serving
from tests.builders import ADMIN_TOKEN
from tests.dashboard.conftest import Estate
from tests.dashboard.test_browser import browser, logged_in, shoot
from tests.dashboard.test_console_zh import (
    GENERATED,
    ISO_TIME,
    english_sentences,
    problems,
    text_nodes,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["browser"]
pytestmark = pytest.mark.broker
PHONE = {"width": 390, "height": 844}
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the estate's site
CAUSE, ACTION = "浮球阀卡死", "Float valve freed and tested"


def _resolved_leak(estate: Estate) -> dict[str, object]:
    """The estate's leak order (from the tank's alarm, given to a plumber by the rules) worked
    and resolved with its cause and action (once: the tests of a module share the estate)."""
    url = f"/api/v1/work-orders/{estate.orders['leak']['id']}"
    order = estate.admin.get(url).json()
    if order["status"] == "resolved":
        return dict(order)
    for step in ("acknowledged", "in_progress"):
        assert estate.admin.post(f"{url}/transition", json={"to": step}).status_code == 200
    done = estate.admin.post(
        f"{url}/transition", json={"to": "resolved", "cause": CAUSE, "action": ACTION}
    )
    assert done.status_code == 200, done.text
    return dict(done.json())


def test_the_printable_review_is_the_consoles_in_chinese_then_english(estate: Estate) -> None:
    order = _resolved_leak(estate)
    answer = estate.admin.get(f"/api/v1/work-orders/{order['id']}/review.html")
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert '<html lang="zh-CN">' in html
    halves = re.findall(r'<article class="half" lang="([^"]+)">(.*?)</article>', html, re.S)
    assert [lang for lang, _ in halves] == ["zh-CN", "en"]
    (_, chinese), (_, english) = halves
    for lang, half in (("zh", chinese), ("en", english)):
        text = " ".join(text_nodes(half))
        assert not problems(text), (lang, problems(text))
        # the cause and the action, as typed, in both halves
        assert re.search(rf'id="review-cause-{lang}">{CAUSE}<', half), lang
        assert re.search(rf'id="review-action-{lang}">{ACTION}<', half), lang
        # the key times in the order they happened, each in the site's local time
        table = re.search(rf'id="review-times-{lang}">(.*?)</table>', half, re.S)
        assert table is not None, lang
        rows = re.findall(
            r'<tr data-key="(\w+)">.*?<time datetime="([^"]+)"[^>]*>([^<]+)</time>',
            table.group(1),
            re.S,
        )
        keys = [key for key, _, _ in rows]
        assert {"alarm_fired", "order_created", "assigned", "resolved"} <= set(keys), keys
        moments = [datetime.fromisoformat(at) for _, at, _ in rows]
        assert moments == sorted(moments), keys
        for moment, (_, _, shown) in zip(moments, rows, strict=True):
            assert shown == moment.astimezone(SHANGHAI).strftime("%m-%d %H:%M"), (lang, shown)
    zh = " ".join(" ".join(text_nodes(chinese)).split())
    assert not [s for s in english_sentences() | set(GENERATED) if s in zh]
    # worded events and states, not the service's English note nor raw event names
    for words in ("告警触发", "工单创建", "按派单规则指派给", "漏水传感器", "状态 处理中 → 已完成"):
        assert words in zh, words
    en = " ".join(" ".join(text_nodes(english)).split())
    for words in ("alarm fired", "order created", "by the dispatch rules to", "Leak sensor"):
        assert words in en, words
    assert "wet" in en and "漏水" in zh  # the sensor's reading as a state, not True
    assert "transition" not in en  # the event's name, worded as "status"


def test_the_maintenance_record_page_is_worded_in_its_language(estate: Estate) -> None:
    """The record page of the tank in Chinese and in English: the timeline worded (not the
    service's English notes and raw event names), local times without the ISO "T", the cause
    and action under their names; the CSV keeps the service's own text for inspectors."""
    number = _resolved_leak(estate)["number"]
    url = f"/assets/{estate.site}/tank-2/records"
    for lang, words in (
        ("zh", ("创建 来源：告警", "告警并入", "按派单规则指派给", "状态 处理中 → 已完成", "原因")),
        ("en", ("created from: alarm", "by the dispatch rules to", "In progress → Resolved")),
    ):
        browser = estate.as_role("viewer")
        browser.cookies.set("facility_lang", lang)
        answer = browser.get(url)
        assert answer.status_code == 200, answer.text
        entry = re.search(rf'<section class="record-entry" data-order="{number}">(.*?)</section>',
                          answer.text, re.S)  # fmt: skip
        assert entry is not None, lang
        text = " ".join(" ".join(text_nodes(entry.group(1))).split())
        assert not problems(text), (lang, problems(text))
        for expected in (*words, CAUSE, ACTION):
            assert expected in text, (lang, expected, text)
        if lang == "zh":
            assert not [g for g in GENERATED if g in text], text
            assert "transition" not in text and "assigned open" not in text
    # the CSV keeps the service's own text (ISO times, event names) for inspectors' tools
    today = datetime.now(SHANGHAI).date().isoformat()
    csv = estate.admin.get(f"/api/v1{url}", params={"start": today, "end": today})
    assert csv.status_code == 200, csv.text
    assert number in csv.text and "resolved" in csv.text and ISO_TIME.search(csv.text)


@pytest.mark.browser
def test_the_bilingual_review_opens_from_the_order_and_fits_a_phone(
    estate: Estate, browser: Browser
) -> None:
    """In Chromium at 390 px, in Chinese: the order's "printable, bilingual" link opens the
    review with its Chinese half first and its English half after, nothing wider than the
    phone; printed, each half is there."""
    order = _resolved_leak(estate)
    app = create_app(estate.app.state.service, manage_service=False)
    with serving.served(app) as url:
        context, page = logged_in(
            browser, url, ADMIN_TOKEN, viewport=PHONE, is_mobile=True, locale="zh-CN"
        )
        page.goto(f"{url}/lang/zh?next=/work-orders/{order['id']}")
        page.locator(f'a[href="/api/v1/work-orders/{order["id"]}/review.html"]').click()
        page.wait_for_url(re.compile(r"/review\.html$"))
        halves = page.locator("article.half")
        assert [halves.nth(i).get_attribute("lang") for i in range(2)] == ["zh-CN", "en"]
        assert page.locator("#review-cause-zh").inner_text() == CAUSE
        assert page.locator("#review-action-en").inner_text() == ACTION
        page.locator("#review-times-zh", has_text="告警触发").wait_for()
        page.locator("#review-times-en", has_text="alarm fired").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shoot(page, "14-review-bilingual-phone")
        page.emulate_media(media="print")
        assert page.locator("#review-zh").is_visible() and page.locator("#review-en").is_visible()
        context.close()
