"""Every page in Chinese holds no English the service generated: no sentence of the rule pack or
the playbooks, no note the service wrote for the API, and no Python ``True``, ``False`` or
``None``. What people typed (titles of manual orders, names) may be in any language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import orjson
import pytest

from facility_dispatch.api.dashboard.present import natural
from facility_dispatch.maintenance.playbooks import builtin
from facility_dispatch.notify import links
from facility_dispatch.rules.loader import load_default
from tests.builders import publisher, wait_until
from tests.dashboard.conftest import Estate
from tests.services import Broker

pytestmark = pytest.mark.broker

GENERATED = (
    "emergency playbook",
    "fired, value",
    "by hand",
    "skill plumbing",
    "on shift at",
    "the order stays open",
    "resolution deadline moved",
)
"""Pieces of the notes the service writes in English for the API."""


def english_sentences() -> set[str]:
    """The rule pack's descriptions, the playbooks' titles, steps and contacts: ASCII only."""
    found = {rule.description for rule in load_default().rules}
    for playbook in builtin().values():
        found |= {playbook.title, *playbook.contacts, *(step.text for step in playbook.steps)}
    return {s for s in found if s.isascii()}


def visible_text(html: str) -> str:
    """What a reader sees: no scripts, no tags, no attribute values."""
    html = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_no_generated_english_on_any_chinese_page(estate: Estate) -> None:
    admin = estate.admin
    entrapment = admin.post(
        "/api/v1/work-orders",
        json={
            "site": estate.site,
            "asset": "lift-1",
            "title": "困人 2 号梯",
            "priority": "P1",
            "skill": "elevator",
            "fault": "entrapment",
            "channel": "phone",
        },
    )
    assert entrapment.status_code == 201, entrapment.text
    p1 = entrapment.json()
    ticked = admin.post(
        f"/api/v1/work-orders/{p1['id']}/checklist/{p1['checklist'][0]['id']}",
        json={"result": "done"},
    )
    assert ticked.status_code == 200, ticked.text
    # residents' requests: one waiting (the page offers the open orders to join), one accepted
    # (an order whose source is "resident")
    requests = []
    for unit, description in (("1202", "楼道灯不亮"), ("0301", "水龙头滴水")):
        body = {
            "site": estate.site,
            "category": "repair",
            "building": "3",
            "unit": unit,
            "description": description,
            "phone": "13900001111",
            "channel": "walk_in",
        }
        answer = admin.post("/api/v1/requests", json=body)
        assert answer.status_code == 201, answer.text
        requests.append(answer.json())
    accepted = admin.post(f"/api/v1/requests/{requests[1]['id']}/accept", json={})
    assert accepted.status_code == 200, accepted.text
    resident = accepted.json()["work_order_id"]
    # the link a message carries to acknowledge the alarm's order
    leak = estate.orders["leak"]
    notifier = estate.app.state.service.notifier
    ack = links.sign(notifier._secret(), leak["id"], None, datetime.now(UTC), timedelta(hours=1))
    browser = estate.as_role("planner")
    browser.cookies.set("facility_lang", "zh")
    orders = [p1, *estate.orders.values()]
    paths = [
        "/",
        "/alarms?view=all",
        "/work-orders",
        "/work-orders?view=board",
        "/work-orders/new",
        *(f"/work-orders/{o['id']}" for o in orders),
        f"/assets/{estate.site}/tank-2",
        f"/assets/{estate.site}/lift-1",
        "/plans",
        "/people",
        "/parts",
        "/kpis",
        "/requests",
        "/work-orders?source=resident",
        f"/n/ack/{ack}",
        "/sites",
    ]
    sentences = english_sentences()
    assert len(sentences) > 40  # the pack and the playbooks, not an empty set
    leaks: dict[str, list[str]] = {}
    for path in paths:
        answer = browser.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        assert 'lang="zh-CN"' in answer.text, path
        text = visible_text(answer.text)
        found = [s for s in sentences if s in text]
        found += [g for g in GENERATED if g in text]
        found += re.findall(r"\b(?:True|False|None)\b", text)
        found += re.findall(r"\bpcs\b", text)  # the parts' default unit, worded 件
        if found:
            leaks[path] = found
    assert not leaks, leaks
    # and the Chinese is there: the playbook's title and the first step, ticked
    order_page = visible_text(browser.get(f"/work-orders/{p1['id']}").text)
    assert "电梯困人" in order_page and "通过轿厢对讲与被困乘客通话" in order_page
    assert "漏水传感器检测到水" in visible_text(browser.get("/alarms?view=all").text)
    # the alarm's order is worded in Chinese where it is named: the link's page, the requests
    # it may join
    worded = f"{leak['asset']}：漏水"
    assert worded in visible_text(browser.get(f"/n/ack/{ack}").text)
    assert worded in visible_text(browser.get("/requests").text)
    # the board filters by every source, the residents' one among them
    board = browser.get("/work-orders?source=resident").text
    assert '<option value="resident" selected>住户报事</option>' in board
    shown = re.findall(r'<tr[^>]*data-order-id="(\d+)"', board)
    assert shown == [str(resident)], shown


def test_a_parts_unit_the_system_sets_is_worded_and_one_typed_is_shown_as_typed(
    estate: Estate,
) -> None:
    """``pcs`` is the unit the API gives a part when none is typed: the console words it per
    language (件 / pcs). A unit a planner typed is free text, shown as typed in both."""
    admin, site = estate.admin, estate.site
    parts = {}
    for sku, name, unit, on_hand in (
        ("BULB-9", "LED bulb 9 W", None, 5),
        ("ROPE-8", "Rope", "m", 30),
    ):
        body = {"sku": sku, "name": name, "stock": [{"site": site, "on_hand": on_hand}]}
        answer = admin.post("/api/v1/parts", json=body if unit is None else {**body, "unit": unit})
        assert answer.status_code == 201, answer.text
        parts[sku] = answer.json()
    assert parts["BULB-9"]["unit"] == "pcs", "the unit the system sets"
    order = f"/work-orders/{estate.orders['li']['id']}"
    for lang, bulbs, rope in (
        ("zh", "(可用 5 件)", "(可用 30 m)"),
        ("en", "(5 pcs free)", "(30 m free)"),
    ):
        browser = estate.as_role("planner")
        browser.cookies.set("facility_lang", lang)
        page = visible_text(browser.get(order).text)
        assert f"BULB-9 · LED bulb 9 W {bulbs}" in page and f"ROPE-8 · Rope {rope}" in page, lang
        ledger = visible_text(browser.get(f"/parts/{parts['BULB-9']['id']}").text)
        assert ("5 件" if lang == "zh" else "5 pcs") in ledger, lang
    zh = estate.as_role("planner")
    zh.cookies.set("facility_lang", "zh")
    assert 'placeholder="件"' in zh.get("/parts").text, "left empty, the form sends pcs"


def test_the_browsers_favicon_request_is_answered(estate: Estate) -> None:
    answer = estate.browser().get("/favicon.ico")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in answer.content


def test_cameras_sort_as_people_count_them() -> None:
    names = ["cam-10", "cam-2", "cam-1", "nvr-1"]
    assert sorted(names, key=natural) == ["cam-1", "cam-2", "cam-10", "nvr-1"]


def test_the_assets_failing_most_are_named_with_their_site(estate: Estate) -> None:
    kpis = estate.as_role("viewer").get("/kpis").text
    assert f'href="/assets/{estate.site}/tank-2"' in kpis
    report = estate.admin.get("/api/v1/kpis", params={"site": estate.site}).json()
    assert {"site": estate.site, "asset": "tank-2"}.items() <= report["most_failing"][0].items()
    # the assets were first seen seconds ago: MTBF is not a month
    assert report["observed_s"] < 3600 and report["mtbf_s"] < 3600 * 3


def test_a_voltage_chart_draws_sag_and_swell_at_the_sites_voltage(
    estate: Estate, broker: Broker
) -> None:
    """The sag and swell rules name the site's nominal voltage: a 230 V site's chart draws them
    at 207 V and 253 V (the page once skipped such limits and drew none)."""
    admin, site = estate.admin, estate.site
    body = {"name": "Green Garden", "timezone": "Asia/Shanghai", "locale": "en"}
    answer = admin.put(f"/api/v1/sites/{site}", json={**body, "nominal_voltage_v": 230})
    assert answer.status_code == 200, answer.text
    with publisher(broker.url) as device:
        topic = f"facility/{site}/power/meter-7/telemetry"
        device.publish(topic, orjson.dumps({"metrics": {"voltage_v": 231.0}}))
    wait_until(lambda: admin.get(f"/api/v1/assets/{site}/meter-7").status_code == 200)
    page = estate.as_role("viewer").get(f"/assets/{site}/meter-7").text
    config = re.search(r'<script type="application/json" id="chart-config">(.*?)</script>', page)
    assert config is not None
    metrics = {m["name"]: m for m in orjson.loads(unescape(config.group(1)))["metrics"]}
    drawn = [line["value"] for line in metrics["voltage_v"]["limits"]]
    assert 207.0 in drawn and 253.0 in drawn, drawn
