"""Messages about events without an order read as the console words them, in the site's
language: an alarm by its rule's description, fault and severity, a request by its category,
building and channel, a part by what is left; never the payload's keys, codes or ISO times."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from facility_dispatch.api.dashboard.wording import event_wording
from facility_dispatch.notify.messages import Lang, render
from facility_dispatch.rules.loader import load_default

ZONE = ZoneInfo("Asia/Shanghai")
PACK = load_default()
LEAK = next(r for r in PACK.rules if r.fault == "leak")
WORDS = event_wording(PACK.by_id)

ALARM = {
    "id": 7,
    "rule_id": LEAK.id,
    "site": "green",
    "asset": "pump-1",
    "kind": "water",
    "fault": "leak",
    "severity": LEAK.severity,
    "state": "firing",
    "description": LEAK.description,
    "value": True,
    "started_at": "2026-11-29T10:00:00.000Z",
    "fired_at": "2026-11-29T10:00:05.000Z",
    "resolved_at": None,
    "silenced": False,
}
REQUEST = {
    "request_id": 3,
    "site": "green",
    "building": "3",
    "category": "repair",
    "channel": "walk_in",
    "decision": None,
    "work_order_id": None,
    "photos": 1,
}
LOW = {"part_id": 1, "sku": "SEAL-40", "site": "green", "available": 1.0, "reorder_point": 2.0}


def told(event: str, payload: dict[str, object], lang: Lang) -> str:
    message = render(
        event, lang, ZONE, None, payload, site_name="绿园", event_words=WORDS(event, payload, lang)
    )
    return f"{message.title}\n{message.body}"


def test_an_alarm_without_an_order_is_worded_in_each_language() -> None:
    zh, en = told("alarm.fired", ALARM, "zh"), told("alarm.fired", ALARM, "en")
    assert LEAK.description_zh and LEAK.description_zh in zh
    assert LEAK.description not in zh and "True" not in zh and "数值: 漏水" in zh, zh
    assert "2026-11-29 18:00 CST" in zh  # the site's time, not the payload's ISO time
    assert LEAK.description in en and "2026-11-29 18:00" in en and "Value: wet" in en, en
    for text in (zh, en):
        assert not re.search(r"\b(?:rule_id|fired_at|started_at|True|False|None)\b", text), text
        assert "T10:00" not in text


def test_a_request_and_a_low_part_are_worded_and_an_unknown_event_keeps_its_facts() -> None:
    zh = told("request.received", REQUEST, "zh")
    assert "3栋 报修" in zh and "walk_in" not in zh and "request_id" not in zh, zh
    en = told("request.received", REQUEST, "en")
    assert "Building 3" in en and "walk_in" not in en, en
    low = told("part.low_stock", LOW, "zh")
    assert "SEAL-40" in low and "可用 1" in low and "补货点 2" in low, low
    assert WORDS("made.up", {"x": 1}, "zh") is None
    bare = render("made.up", "zh", ZONE, None, {"x": 1})
    assert "x=1" in bare.body
