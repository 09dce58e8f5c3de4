"""Every page in Chinese holds no English the service generated: no sentence of the rule pack or
the playbooks, no note the service wrote for the API, no Python ``True``, ``False`` or ``None``,
no locale key, code or ISO time. What people typed (titles of manual orders, names) may be in
any language. The pages walked are every GET page the app has (found in its routes, so a new
page is walked by itself), filled with ids of what the test makes; one that cannot be filled
must be skipped by name, with why."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import orjson
import pytest
from fastapi import FastAPI, routing
from fastapi.responses import HTMLResponse

from facility_dispatch.api.app import create_app
from facility_dispatch.api.dashboard import i18n
from facility_dispatch.api.dashboard.present import natural
from facility_dispatch.maintenance.playbooks import builtin
from facility_dispatch.notify import links
from facility_dispatch.notify.config import ROUTABLE_EVENTS
from facility_dispatch.notify.inbox import Inbox
from facility_dispatch.rules.loader import load_default
from tests.api import serving
from tests.builders import ADMIN_TOKEN, publisher, wait_until
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
    """What a reader sees: no scripts, no styles, no tags, no attribute values; nor what is
    not in the page's language on purpose: a form's text area (the notifications file, in its
    own syntax), ``<code>`` (a file's column names), a part marked ``lang="en"`` (the English
    half of the bilingual review, the residents' notice's English lines)."""
    return " ".join(text_nodes(html))


def text_nodes(html: str, other: str = "en") -> list[str]:
    """The visible text (see :func:`visible_text`) piece by piece, as the tags cut it; parts
    marked in the ``other`` language (``lang="en"``, or ``lang="zh-CN"`` for an English page)
    left out."""
    html = re.sub(r"<(script|style|textarea|code)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(rf'<(\w+)\b[^>]*\blang="{other}"[^>]*>.*?</\1>', " ", html, flags=re.S)
    return [unescape(piece) for piece in re.split(r"<[^>]+>", html) if piece.strip()]


SKIPPED = {
    "/favicon.ico": "an image, not a page (test_the_browsers_favicon_request_is_answered)",
    "/lang/{lang}": "no page: it sets the language cookie and sends the browser back",
}
"""Console GET routes the walk does not render, each with why."""
ANONYMOUS = ("/login", "/r/{site}", "/r/t/{token}", "/n/ack/{token}")
"""Pages for people without a console login: walked by a browser with none (in Chinese)."""
CONSOLE = "facility_dispatch.api.dashboard"
ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
DOTTED = re.compile(r"\b([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)\b")
KEY_PREFIXES = {key.split(".")[0] for key in i18n.table("zh")} | {"notify"}
"""The first parts of the locale keys: a dotted word starting with one is a key shown raw."""
CODE = re.compile(r"(?<![\w/.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/.-])")
"""A code as the service stores it (``pipe_burst``, ``walk_in``): the page should name it."""
ENGLISH = re.compile(r"\b[A-Za-z][a-z]+(?: [a-z]{2,})+\b")
"""Two words or more of English in one piece of text: a sentence the service made up."""


def console_pages(app: FastAPI) -> set[str]:
    """Every page of the console, from the app's routes: the GET routes of the console's
    package, and the API's own HTML pages (the printable review). A new page is walked without
    anyone adding it to a list (FastAPI's docs are not the console's)."""
    walk = getattr(routing, "iter_route_contexts", None)  # FastAPI's includes are lazy
    routes = list(walk(app.routes)) if walk else list(app.routes)
    found = set()
    for route in routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None) or set()
        if path is None or "GET" not in methods:
            continue
        module = getattr(getattr(route, "endpoint", None), "__module__", "")
        html = getattr(route, "response_class", None) is HTMLResponse
        if module.startswith(CONSOLE) or (path.startswith("/api/") and html):
            found.add(path)
    return found


def problems(text: str) -> list[str]:
    """What no reader of either language should see: Python's True / False / None, a locale
    key, an ISO time, a code as stored."""
    found = re.findall(r"\b(?:True|False|None)\b", text)
    found += [m.group(0) for m in DOTTED.finditer(text) if m.group(1) in KEY_PREFIXES]
    return found + ISO_TIME.findall(text) + CODE.findall(text)


def leaks_in(pieces: list[str], sentences: set[str], typed: set[str]) -> list[str]:
    """What a Chinese page must not show: an English sentence of the rule pack or playbooks, a
    note the service wrote in English, Python's True / False / None, a locale key instead of
    its words, an ISO time (with its "T") instead of the site's local time, a code
    (``pipe_burst``) instead of its name, English words the service made up (what people
    typed, ``typed``, is theirs, in any language)."""
    text = " ".join(pieces)
    found = [s for s in sentences if s in text]
    found += [g for g in GENERATED if g in text]
    found += problems(text)
    found += re.findall(r"\bpcs\b", text)  # the parts' default unit, worded 件
    for piece in pieces:
        for own in sorted(typed, key=len, reverse=True):
            piece = piece.replace(own, " ")
        found += ENGLISH.findall(piece)
    return found


def _made(answer: Any, expected: int = 201) -> Any:
    assert answer.status_code == expected, answer.text
    return answer.json()


def _resolved_order(estate: Estate) -> dict[str, Any]:
    """A burst pipe at pump-1 phoned in, given by hand to Li Na, worked (first step ticked, a note)
    and resolved with its cause and action: an order with a review and a record."""
    admin = estate.admin
    body = {"site": estate.site, "asset": "pump-1", "title": "泵房爆管", "priority": "P2",
            "skill": "plumbing", "fault": "pipe_burst", "channel": "phone",
            "checklist": ["检查泵房地漏"]}  # fmt: skip
    order = _made(admin.post("/api/v1/work-orders", json=body))
    url = f"/api/v1/work-orders/{order['id']}"
    hand = {"technician_ids": [estate.technicians["li"]], "note": "离泵房最近"}
    _made(admin.post(f"{url}/assign", json=hand), 200)
    for step in ("acknowledged", "in_progress"):
        _made(admin.post(f"{url}/transition", json={"to": step}), 200)
    first = _made(admin.get(url), 200)["checklist"][0]
    _made(admin.post(f"{url}/checklist/{first['id']}", json={"result": "done"}), 200)
    _made(admin.post(f"{url}/notes", json={"note": "阀门已关"}), 200)
    done = {"to": "resolved", "cause": "法兰垫片老化", "action": "更换垫片，试压正常"}
    return dict(_made(admin.post(f"{url}/transition", json=done), 200))


def _rosters_rounds_and_more(estate: Estate) -> dict[str, Any]:
    """A post with Li Na on its roster, a handover, a patrol route walked once, a contractor, a
    compliance item due, a resident's request made on the public form: what the other pages
    show."""
    admin, site = estate.admin, estate.site
    shifts = [{"name": "day", "starts": "08:00", "ends": "20:00", "headcount": 2}]
    post = _made(admin.post("/api/v1/posts", json={"site": site, "name": "门岗", "shifts": shifts}))
    today = datetime.now(UTC).date()
    line = {"technician_id": estate.technicians["li"], "pattern": ["day", "rest"],
            "anchor": today.isoformat()}  # fmt: skip
    _made(admin.post(f"/api/v1/posts/{post['id']}/roster-lines", json=line))
    assert estate.app.state.service.rosters.flag_gaps() > 0  # two wanted, one rostered: told
    _made(admin.post("/api/v1/handovers", json={"site": site, "notes": "夜班平稳"}))
    points = [{"name": "车库坡道", "items": [{"key": "lights", "text": "照明正常"}]}]
    route = _made(
        admin.post(
            "/api/v1/routes",
            json={"site": site, "name": "车库", "times": ["22:00"], "checkpoints": points},
        )
    )
    _made(admin.post("/api/v1/routes/from-template", json={"site": site, "template": "plant_room"}))
    walk = _made(admin.post(f"/api/v1/routes/{route['id']}/rounds"))
    token = route["checkpoints"][0]["token"]
    found = {"token": token, "results": [{"key": "lights", "ok": False, "note": "两盏灯不亮"}]}
    _made(admin.post(f"/api/v1/rounds/{walk['id']}/visits", json=found))
    contractor = {"name": "迅达维保", "phone_24h": "400-820-1234", "contract_start": "2026-01-01",
                  "contract_end": "2099-12-31", "kinds": ["elevator"], "sites": [site]}  # fmt: skip
    _made(admin.post("/api/v1/contractors", json=contractor))
    _made(admin.post("/api/v1/compliance", json={"site": site, "item": "drill",
                                                   "due_on": today.isoformat()}), 200)  # fmt: skip
    form = {"site": site, "category": "repair", "building": "2", "unit": "0502",
            "description": "厨房水管漏水", "phone": "13800005678"}  # fmt: skip
    made = _made(admin.post("/api/v1/public/requests", json=form))
    # a resident unhappy with the work: accepted, resolved, rated 1 (a complaint to review)
    tracking = made["tracking_url"].removeprefix("/r/t/")
    taken = _made(admin.post(f"/api/v1/requests/{made['id']}/accept", json={}), 200)
    done = f"/api/v1/work-orders/{taken['work_order_id']}"
    _made(admin.post(f"{done}/assign", json={"technician_ids": [estate.technicians["li"]]}), 200)
    for step in ("acknowledged", "in_progress", "resolved"):
        _made(admin.post(f"{done}/transition", json={"to": step}), 200)
    _made(admin.post(f"/api/v1/public/requests/{tracking}/feedback", json={"rating": 1}), 200)
    return {
        "post": post["id"],
        "day": (today + timedelta(days=2)).isoformat(),
        "route": route["id"],
        "round": walk["id"],
        "checkpoint": route["checkpoints"][0]["token"],
        "tracking": tracking,
    }


def _absence_silence_parts_and_plan(estate: Estate, resolved: dict[str, Any]) -> None:
    """Wang Wei away (his orders move to Li Na), a silenced fault, a valve used on the resolved
    order, an order nobody can take (no CCTV technician), a lift plan from its TSG template."""
    admin, site = estate.admin, estate.site
    now = datetime.now(UTC)
    away = {"technician_id": estate.technicians["wang"], "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(hours=4)).isoformat(), "reason": "培训"}  # fmt: skip
    _made(admin.post("/api/v1/absences", json=away))
    moved = f"/api/v1/work-orders/{estate.orders['wang']['id']}"
    wait_until(lambda: estate.technicians["wang"] not in admin.get(moved).json()["assignees"])
    quiet = {
        "site": site,
        "asset": "pump-1",
        "fault": "leak",
        "duration": "2h",
        "reason": "泵房检修",
    }
    _made(admin.post("/api/v1/silences", json=quiet))
    valve = next(p for p in admin.get("/api/v1/parts").json()["items"] if p["sku"] == "VALVE-25")
    used = {"part_id": valve["id"], "action": "consume", "quantity": 1}
    _made(admin.post(f"/api/v1/work-orders/{resolved['id']}/parts", json=used), 200)
    camera = {"site": site, "asset": "cam-1", "title": "3 号楼监控黑屏", "priority": "P3",
              "skill": "cctv", "channel": "wechat"}  # fmt: skip
    _made(admin.post("/api/v1/work-orders", json=camera))
    lift_plan = {"name": "电梯半月保养", "site": site, "asset": "lift-1", "kind": "elevator",
                 "every": "15d", "starts_at": (now + timedelta(days=1)).isoformat(),
                 "lead_time": "3d", "skill": "elevator",
                 "template": "tsg-t5002-half-monthly"}  # fmt: skip
    plan = _made(admin.post("/api/v1/maintenance-plans", json=lift_plan))
    estate.app.state.service.planner.run(plan["id"])  # its first order, made ahead (if not yet)
    ahead = {"site": site, "source": "preventive", "asset": "lift-1"}
    assert admin.get("/api/v1/work-orders", params=ahead).json()["total"] == 1, plan


@contextmanager
def inbox_of(estate: Estate) -> Iterator[Inbox]:
    """The demo's inbox, for real: every routable event goes to a duty desk whose Apprise URL
    is this service's own inbox (served by uvicorn, as the demo is), so /inbox and
    /notifications hold messages that travelled the whole way."""
    service = estate.app.state.service
    inbox = Inbox(uuid.uuid4().hex)
    service.notifier.inbox = inbox
    try:
        with serving.served(create_app(service, manage_service=False)) as url:
            events = ", ".join(ROUTABLE_EVENTS)
            text = (
                f'receivers:\n  - name: duty-desk\n    urls: ["{inbox.url(url, "duty-desk")}"]\n'
                f"routes:\n  - name: all\n    match: {{event: [{events}]}}\n    to: [duty-desk]\n"
            )
            _made(estate.admin.put("/api/v1/notify-config", json={"text": text}), 200)
            yield inbox
    finally:
        _made(
            estate.admin.put("/api/v1/notify-config", json={"text": "receivers: []\nroutes: []\n"}),
            200,
        )
        service.notifier.inbox = None


def test_every_console_page_in_chinese_holds_no_generated_english(
    estate: Estate, broker: Broker
) -> None:
    """Walks every console page the app has (the list comes from its routes), in Chinese, with
    what each needs made first; a page that cannot be filled must be skipped by name. The
    console's pages are walked in English too, for what neither language may show."""
    admin, site = estate.admin, estate.site
    chinese_site = {"name": "绿园", "timezone": "Asia/Shanghai", "locale": "zh-CN"}
    _made(admin.put(f"/api/v1/sites/{site}", json=chinese_site), 200)
    try:
        with inbox_of(estate) as inbox:
            _walk(estate, inbox, broker)
    finally:
        english = {"name": "Green Garden", "timezone": "Asia/Shanghai", "locale": "en"}
        _made(admin.put(f"/api/v1/sites/{site}", json=english), 200)


def _walk(estate: Estate, inbox: Inbox, broker: Broker) -> None:
    admin, site = estate.admin, estate.site
    # a lift contractor whose contract has ended: lift orders say why they were not sent to it
    ended = {"name": "奥的斯维保", "phone_24h": "400-820-0000", "contract_start": "2020-01-01",
             "contract_end": "2021-12-31", "kinds": ["elevator"], "sites": [site]}  # fmt: skip
    _made(admin.post("/api/v1/contractors", json=ended))
    # a leak at the pump: an alarm, its order, and their messages to the duty desk
    with publisher(broker.url) as device:
        topic = f"facility/{site}/water/pump-1/telemetry"
        device.publish(topic, orjson.dumps({"metrics": {"leak_detected": True}}))
    entrapment = admin.post(
        "/api/v1/work-orders",
        json={
            "site": site,
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
            "site": site,
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
    revealed = admin.post(f"/api/v1/requests/{requests[1]['id']}/phone", json={})
    assert revealed.status_code == 200, revealed.text  # the request's page then says who saw it
    resolved = _resolved_order(estate)
    more = _rosters_rounds_and_more(estate)
    _absence_silence_parts_and_plan(estate, resolved)
    # the link a message carries to acknowledge the alarm's order
    leak = estate.orders["leak"]
    notifier = estate.app.state.service.notifier
    ack = links.sign(notifier._secret(), leak["id"], None, datetime.now(UTC), timedelta(hours=1))
    plans = admin.get("/api/v1/maintenance-plans", params={"site": site}).json()["items"]
    parts = admin.get("/api/v1/parts").json()["items"]
    messages = estate.app.state.service.notifier

    def sent(event: str) -> bool:
        rows, _ = messages.query(None, None, limit=500)
        return any(r.event == event and r.status == "sent" for r in rows)

    wait_until(lambda: all(map(sent, ("alarm.fired", "work_order.assigned", "roster.gap"))))
    orders = admin.get("/api/v1/work-orders", params={"limit": 200}).json()["items"]
    finished = [o["id"] for o in orders if o["status"] in ("resolved", "closed")]
    assert resolved["id"] in finished
    # what people typed (names, titles) may be English; the test's own typing is Chinese
    typed = {t["name"] for t in admin.get("/api/v1/technicians").json()["items"]}
    typed |= {o["title"] for o in admin.get("/api/v1/work-orders").json()["items"]}
    typed |= {p["name"] for p in admin.get("/api/v1/parts").json()["items"]}
    typed |= {p["name"] for p in admin.get("/api/v1/maintenance-plans").json()["items"]}
    filled: dict[str, list[str]] = {
        "/alarms": ["/alarms", "/alarms?view=all"],
        "/work-orders": ["/work-orders", "/work-orders?view=board", "/work-orders?source=resident"],
        "/work-orders/{order_id}": [f"/work-orders/{o['id']}" for o in orders],
        "/work-orders/{order_id}/review": [f"/work-orders/{i}/review" for i in finished],
        "/api/v1/work-orders/{order_id}/review.html": [
            f"/api/v1/work-orders/{i}/review.html" for i in finished
        ],
        "/assets/{site}/{asset}": [f"/assets/{site}/{a}" for a in ("tank-2", "lift-1", "pump-1")],
        "/assets/{site}/{asset}/records": [
            f"/assets/{site}/{a}/records" for a in ("tank-2", "lift-1", "pump-1")
        ],
        "/plans": ["/plans", "/plans?view=week"],
        "/plans/{plan_id}": [f"/plans/{plan['id']}" for plan in plans],
        "/parts/{part_id}": [f"/parts/{part['id']}" for part in parts],
        "/notifications/panel": [f"/notifications/panel?work_order_id={p1['id']}"],
        "/n/ack/{token}": [f"/n/ack/{ack}"],
        "/r/{site}": [f"/r/{site}"],
        "/r/t/{token}": [f"/r/t/{more['tracking']}"],
        "/requests/notice/{site}": [f"/requests/notice/{site}"],
        "/requests/{request_id}": [f"/requests/{r['id']}" for r in requests],
        "/rosters/substitutes": [
            f"/rosters/substitutes?post={more['post']}&day={more['day']}&shift=day"
        ],
        "/rounds/{round_id}": [f"/rounds/{more['round']}"],
        "/p/{token}": [f"/p/{more['checkpoint']}"],
        "/routes/{route_id}/codes": [f"/routes/{more['route']}/codes"],
    }
    pages = console_pages(estate.app)
    assert {"/", "/work-orders/{order_id}/review", "/inbox", "/rounds"} <= pages  # found
    assert set(SKIPPED) <= pages, set(SKIPPED) - pages  # no skip outlives its page
    unfilled = {p for p in pages - set(SKIPPED) - set(filled) if "{" in p}
    assert not unfilled, f"pages the walk cannot fill: fill them above or skip them: {unfilled}"
    assert set(filled) <= pages, set(filled) - pages
    console = estate.browser(ADMIN_TOKEN)
    stranger = estate.browser()
    for client in (console, stranger):
        client.cookies.set("facility_lang", "zh")
    sentences = english_sentences()
    assert len(sentences) > 40  # the pack and the playbooks, not an empty set
    leaks: dict[str, list[str]] = {}
    walked = 0
    for route in sorted(pages - set(SKIPPED)):
        client = stranger if route in ANONYMOUS else console
        for path in filled.get(route, [route]):
            answer = client.get(path)
            walked += 1
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
            if "<html" in answer.text:
                assert 'lang="zh-CN"' in answer.text, path
            found = leaks_in(text_nodes(answer.text), sentences, typed)
            if found:
                leaks[path] = sorted(set(found))
    assert walked >= len(pages) - len(SKIPPED)
    # in English too, no Python values, locale keys, ISO times or codes (the console's pages)
    console.cookies.set("facility_lang", "en")
    for route in sorted(pages - set(SKIPPED) - set(ANONYMOUS)):
        for path in filled.get(route, [route]):
            answer = console.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            found = problems(" ".join(text_nodes(answer.text, other="zh-CN")))
            if found:
                leaks[f"{path} (en)"] = sorted(set(found))
    # and the Chinese is there: the playbook's title and the first step, ticked
    browser = estate.as_role("planner")
    browser.cookies.set("facility_lang", "zh")
    order_page = visible_text(browser.get(f"/work-orders/{p1['id']}").text)
    assert "电梯困人" in order_page and "通过轿厢对讲与被困乘客通话" in order_page
    assert "无有效合同：奥的斯维保 的合同已于 2021-12-31 到期" in order_page  # worded, not English
    # a TSG template's items ("中文 / English") in the page's language only
    (half_monthly,) = [o for o in orders if o["source"] == "preventive" and o["asset"] == "lift-1"]
    checklist = visible_text(browser.get(f"/work-orders/{half_monthly['id']}").text)
    assert "驱动主机：运行时无异常振动和异常声响" in checklist
    assert "Drive machine runs without abnormal vibration" not in checklist
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
    from_residents = {str(o["id"]) for o in orders if o["source"] == "resident"}
    assert str(resident) in shown and set(shown) <= from_residents, (shown, from_residents)
    # what the service wrote on orders, worded: a resident's order's title and reporter, where
    # an order came from, a round finding's description, an alarm's value (the titles are in
    # ``typed`` above, so the walk alone would let their English through)
    of_resident = visible_text(browser.get(f"/work-orders/{resident}").text)
    assert "报修 3-0301: 水龙头滴水" in of_resident and "repair" not in of_resident
    assert f"3-0301（报事 #{requests[1]['id']}） · 上门" in of_resident
    assert "来源：上门" in of_resident and "request" not in of_resident
    assert "来源：计划保养" in checklist and "(due " not in checklist  # the title's due time too
    (finding,) = [o for o in orders if o["channel"] == "walk_round"]
    found = visible_text(browser.get(f"/work-orders/{finding['id']}").text)
    assert f"车库，第 {more['round']} 次巡查发现。 两盏灯不亮" in found and "round" not in found
    leaked = visible_text(browser.get(f"/work-orders/{leak['id']}").text)
    assert "数值 漏水" in leaked and "数值 是" not in leaked
    chart = browser.get(f"/assets/{site}/pump-1").text
    config = re.search(r'<script type="application/json" id="chart-config">(.*?)</script>', chart)
    assert config is not None and orjson.loads(unescape(config.group(1)))["time_label"] == "时间"
    # last, so that the checks above run whatever the walk found
    assert not leaks, "\n".join(f"{path}: {found}" for path, found in leaks.items())


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
        other = "en" if lang == "zh" else "zh-CN"  # the page's own language only
        page = " ".join(text_nodes(browser.get(order).text, other=other))
        assert f"BULB-9 · LED bulb 9 W {bulbs}" in page and f"ROPE-8 · Rope {rope}" in page, lang
        ledger = " ".join(text_nodes(browser.get(f"/parts/{parts['BULB-9']['id']}").text, other))
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


def test_sites_roles_zones_and_certificates_are_named_not_keyed(estate: Estate) -> None:
    """Where a page names a site, it gives the site's name in the page's language, not its key
    (the silence and stock dialogs, the ack link's page, /tokens and /people); a safety
    manager's token reads as such; the roster's zone is worded (北京时间); an operator
    certificate's kind is worded (电梯), its number as issued."""
    admin, site = estate.admin, estate.site
    named = {"name": "绿园 Green Garden", "timezone": "Asia/Shanghai", "locale": "zh-CN"}
    _made(admin.put(f"/api/v1/sites/{site}", json=named), 200)
    try:
        expires = (datetime.now(UTC).date() + timedelta(days=20)).isoformat()
        licence = {"kind": "elevator", "number": "TS3101-0001", "expires_on": expires}
        body = {"name": "陈刚 Chen Gang", "skills": ["elevator"], "seniority": "senior",
                "sites": [site], "phone": "139 0000 0001", "certifications": [licence]}  # fmt: skip
        _made(admin.post("/api/v1/technicians", json=body))
        signer = {"name": "王安全", "role": "technician", "safety_manager": True, "sites": [site]}
        _made(admin.post("/api/v1/tokens", json=signer))
        leak = estate.orders["leak"]
        notifier = estate.app.state.service.notifier
        ack = links.sign(
            notifier._secret(), leak["id"], None, datetime.now(UTC), timedelta(hours=1)
        )
        for lang, name, zone, manager, kind in (
            ("zh", "绿园", "北京时间", "安全管理员", "电梯"),
            ("en", "Green Garden", "China time (UTC+8)", "Safety manager", "lifts"),
        ):
            browser = estate.as_role("admin")
            browser.cookies.set("facility_lang", lang)
            tokens = browser.get("/tokens").text
            assert re.search(
                rf"<strong>王安全</strong> · <span class=\"token-role\">{manager}<", tokens
            )
            assert f"<dd>{name}</dd>" in tokens and f"<dd>{site}</dd>" not in tokens, lang
            people = browser.get("/people").text
            assert f"<td>{name}</td>" in people and f"<td>{site}</td>" not in people, lang
            assert f'<small class="muted" id="roster-zone">{zone}</small>' in people, lang
            compliance = browser.get(f"/compliance?site={site}").text
            assert f'<small class="muted certificate">{kind} TS3101-0001</small>' in compliance
            assert f'data-site-name="{name}"' in browser.get(f"/assets/{site}/pump-1").text
            assert f'data-site-name="{name}"' in browser.get("/parts").text
            stranger = estate.browser()
            stranger.cookies.set("facility_lang", lang)
            where = stranger.get(f"/n/ack/{ack}").text
            assert f'<p class="muted" id="ack-where">{name} / {leak["asset"]}' in where, lang
    finally:
        english = {"name": "Green Garden", "timezone": "Asia/Shanghai", "locale": "en"}
        _made(admin.put(f"/api/v1/sites/{site}", json=english), 200)
