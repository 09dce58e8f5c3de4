"""Rosters, handovers and rounds in the console with the clock held still (issue 20's audit):
the substitutes page words every refusal in the reader's language; a handover written from the
console for a post waits for that post's next shift, and says until when; a missed round and an
overdue handover show as flagged, in Chinese and English; the KPI page counts a post's coverage
from its roster's first day only. Page tests through the TestClient, the handover form in
headless Chromium at phone width."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from facility_dispatch.api.app import create_app
from facility_dispatch.kernel.clock import ManualClock
from facility_dispatch.maintenance.authority import Rank
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.service import Service, build_service
from tests.api import serving
from tests.builders import ADMIN_TOKEN, make_settings
from tests.dashboard.test_browser import WAIT_MS, browser, shoot
from tests.services import Broker

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["browser"]
pytestmark = pytest.mark.broker
ORIGIN = "http://testserver"
PHONE = {"width": 390, "height": 844}
FRIDAY_SEVEN_PM = datetime(2026, 11, 27, 11, tzinfo=UTC)
"""Friday 27 November 2026, 19:00 in Shanghai (the sites' default zone): an hour before the
gate's night shift."""
SHIFTS = [
    {"name": "day", "starts": "08:00", "ends": "20:00", "headcount": 1},
    {"name": "night", "starts": "20:00", "ends": "08:00", "headcount": 1},
]


@dataclass
class Console:
    app: FastAPI
    service: Service
    clock: ManualClock
    site: str
    api: httpx.Client

    def page(self, path: str, lang: str) -> str:
        """The page as a logged-in planner's browser gets it in ``lang``."""
        client = TestClient(self.app, follow_redirects=False, headers={"Origin": ORIGIN})
        assert client.post("/login", data={"token": ADMIN_TOKEN}).status_code == 303
        client.get(f"/lang/{lang}")
        answer = client.get(path)
        assert answer.status_code == 200, answer.text
        return answer.text

    def off_sick(self, technician_id: int, day: str) -> None:
        """An absence for the whole of ``day`` in Shanghai."""
        following = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        absence = {
            "technician_id": technician_id,
            "starts_at": f"{day}T00:00:00+08:00",
            "ends_at": f"{following}T00:00:00+08:00",
            "reason": "sick",
        }
        _ok(self.api.post("/api/v1/absences", json=absence), 201)

    def technician(self, name: str, *skills: str) -> int:
        body = {"name": name, "skills": list(skills), "seniority": "senior", "sites": [self.site]}
        return int(_ok(self.api.post("/api/v1/technicians", json=body), 201)["id"])


def _ok(answer: httpx.Response, expected: int = 200) -> Any:
    assert answer.status_code == expected, answer.text
    return answer.json()


def _text(html: str) -> str:
    """What a reader sees: no scripts, no tags, spaces folded."""
    html = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _section(html: str, element_id: str) -> str:
    found = re.search(rf'<section class="panel" id="{element_id}">(.*?)</section>', html, re.S)
    assert found, element_id
    return found.group(1)


@pytest.fixture
def console(broker: Broker, tmp_path: Path) -> Iterator[Console]:
    site = f"duty-{uuid.uuid4().hex[:6]}"
    clock = ManualClock(FRIDAY_SEVEN_PM)
    service = build_service(make_settings(tmp_path, broker.url, sites=[site]), clock=clock)
    app = create_app(service)
    with TestClient(app) as api:
        api.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        _ok(api.put(f"/api/v1/sites/{site}", json={"name": "绿园", "supervisor": "Zhou Min"}))
        # the flag names the roster's supervisor of the site (whom handover.flagged reaches)
        body = {
            "name": "Zhou Min",
            "skills": ["general"],
            "seniority": "senior",
            "role": "supervisor",
            "sites": [site],
        }
        _ok(api.post("/api/v1/technicians", json=body), 201)
        yield Console(app, service, clock, site, api)


def test_the_substitutes_page_words_each_refusal_in_the_readers_language(
    console: Console,
) -> None:
    api, site = console.api, console.site
    post = _ok(
        api.post(
            "/api/v1/posts",
            json={
                "site": site,
                "name": "North gate",
                "skill": "security",
                "wanted_skills": ["first_aid"],
                "shifts": SHIFTS,
            },
        ),
        201,
    )
    gao = console.technician("Gao Feng", "security")
    nighty = console.technician("Night Guard", "security")
    spare = console.technician("Spare Guard", "security")
    medic = console.technician("Medic Guard", "security", "first_aid")
    for who, shift in ((gao, "day"), (nighty, "night")):
        line = {"technician_id": who, "pattern": [shift], "anchor": "2026-11-30"}
        _ok(api.post(f"/api/v1/posts/{post['id']}/roster-lines", json=line), 201)
    console.off_sick(gao, "2026-12-02")
    path = f"/rosters/substitutes?post={post['id']}&day=2026-12-02&shift=day"

    zh = _text(console.page(path, "zh"))
    assert "Gao Feng: 该时段请假" in zh
    # the night guard comes off at 08:00, the day shift's start, and is back at 20:00
    assert "Night Guard: 班前仅休息 0 小时，不足 11 小时" in zh
    assert zh.index("Medic Guard") < zh.index("Spare Guard")  # holds the wanted first aid
    assert "另有技能：first_aid" in zh
    assert zh.count("此前无班次") == 2  # neither candidate worked before
    for english in ("absent", "rest 0h", "under 11h", "no shift before", "— 小时", "rested"):
        assert english not in zh, english

    en = _text(console.page(path, "en"))
    assert "Gao Feng: absent then" in en
    assert "Night Guard: only 0 h rest before the shift, under 11 h" in en
    assert "also first_aid" in en and en.count("no earlier shift") == 2
    assert "—" not in en.split("Who could go")[1]
    assert [c["technician_id"] for c in _substitutes(api, post["id"])] == [medic, spare]


def _substitutes(api: httpx.Client, post_id: int) -> list[dict[str, Any]]:
    params = {"day": "2026-12-02", "shift": "day"}
    answer = _ok(api.get(f"/api/v1/posts/{post_id}/substitutes", params=params))
    return list(answer["candidates"])


def _a_round_walked_and_one_missed(console: Console) -> None:
    """A daily 09:00 pump-room round: Thursday's walked on time with a finding (the floor is
    wet), Friday's not walked at all; the clock left at Friday 19:00, the rounds swept."""
    api, site, service, clock = console.api, console.site, console.service, console.clock
    clock.set(datetime(2026, 11, 26, 0, 30, tzinfo=UTC))  # Thursday 08:30 in Shanghai
    route = _ok(
        api.post(
            "/api/v1/routes",
            json={
                "site": site,
                "name": "Pump room check",
                "times": ["09:00"],
                "window": "1h",
                "checkpoints": [
                    {"name": "Pump room", "items": [{"key": "dry", "text": "Floor dry"}]}
                ],
            },
        ),
        201,
    )
    service.patrols.schedule()
    (thursday,) = service.patrols.rounds(site, None, clock.now(), clock.now() + timedelta(hours=2))
    clock.advance(timedelta(minutes=45))  # 09:15: walked on time, the floor is wet
    token = route["checkpoints"][0]["token"]
    walker = Actor("Gao Feng", None, Rank.TECHNICIAN)
    service.patrols.visit(thursday.id, token, [{"key": "dry", "ok": False}], walker)
    clock.set(FRIDAY_SEVEN_PM)  # nobody walked Friday's 09:00 round; its hour ran out at 10:00
    service.patrols.sweep()


def test_a_missed_round_and_an_overdue_handover_show_flagged_in_both_languages(
    console: Console,
) -> None:
    site, service, clock = console.site, console.service, console.clock
    _a_round_walked_and_one_missed(console)
    service.handovers.write(site, Actor("Day guard", None, Rank.TECHNICIAN), keys="Gate key 2")
    clock.advance(timedelta(minutes=31))  # no post, nobody named: due half an hour after writing
    service.handovers.flag_overdue()
    friday = service.patrols.rounds(site, None, clock.now() - timedelta(hours=12), clock.now())
    assert [r.state(clock.now()) for r in friday] == ["missed"] and friday[0].missed_at

    for lang, missed, flagged, handover in (
        ("zh", "漏检", "漏检：已上报主管", "未按时确认：已上报 Zhou Min"),
        ("en", "missed", "Missed: flagged to the supervisor", "flagged to Zhou Min"),
    ):
        rounds = console.page(f"/rounds?site={site}", lang)
        item = re.search(
            rf'<li class="round state-missed" data-round-id="{friday[0].id}">(.*?)</li>',
            rounds,
            re.S,
        )
        assert item, rounds
        assert f'<span class="badge round-missed">{missed}</span>' in item.group(1)
        assert flagged in _text(item.group(1))
        rosters = console.page(f"/rosters?site={site}", lang)
        assert '<li class="handover state-flagged"' in rosters
        assert handover in _text(_section(rosters, "handovers"))


def test_the_kpi_page_counts_a_posts_coverage_from_its_roster(console: Console) -> None:
    """Made on Friday and rostered from Monday 23 November, the gate is counted for the five
    days to Friday, not the thirty of the KPI period: 4 of 5 day shifts covered (Wednesday's
    guard was off sick). One round walked on time with a finding, one missed."""
    api, site = console.api, console.site
    _a_round_walked_and_one_missed(console)

    day_shift = [SHIFTS[0]]
    post = _ok(
        api.post(
            "/api/v1/posts",
            json={"site": site, "name": "North gate", "skill": "security", "shifts": day_shift},
        ),
        201,
    )
    guard = console.technician("Gao Feng", "security")
    line = {"technician_id": guard, "pattern": ["day"], "anchor": "2026-11-23"}
    _ok(api.post(f"/api/v1/posts/{post['id']}/roster-lines", json=line), 201)
    console.off_sick(guard, "2026-11-25")

    for lang in ("en", "zh"):
        figures = _figures(console.page(f"/kpis?site={site}", lang))
        # covered, short, rounds due, on time, missed or late, findings per round
        assert list(figures.values()) == ["80.0%", "1", "2", "50.0%", "1", "1.0"], figures
    assert "posts covered" in _figures(console.page(f"/kpis?site={site}", "en"))


def _figures(html: str) -> dict[str, str]:
    """The field KPIs' counters: label to figure."""
    section = _section(html, "field-kpis")
    pairs = re.findall(r'<span class="n">(.*?)</span><span>(.*?)</span>', section, re.S)
    return {unescape(label): unescape(n).strip() for n, label in pairs}


@pytest.fixture
def served_console(broker: Broker, tmp_path: Path) -> Iterator[tuple[Console, str]]:
    site = f"hand-{uuid.uuid4().hex[:6]}"
    clock = ManualClock(FRIDAY_SEVEN_PM)
    service = build_service(make_settings(tmp_path, broker.url, sites=[site]), clock=clock)
    app = create_app(service)
    with serving.served(app) as url:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        try:
            _ok(api.put(f"/api/v1/sites/{site}", json={"name": "West Park", "locale": "en"}))
            yield Console(app, service, clock, site, api), url
        finally:
            api.close()


@pytest.mark.browser
def test_a_handover_for_a_post_waits_for_its_next_shift(
    served_console: tuple[Console, str], browser: Browser
) -> None:
    """Written at 19:00 for the gate, whose night shift comes at 20:00, with the next shift as
    the incoming one: due at 20:30, so not flagged at 19:31; flagged after 20:30."""
    console, url = served_console
    api, site, clock = console.api, console.site, console.clock
    gate = _ok(
        api.post(
            "/api/v1/posts",
            json={"site": site, "name": "North gate", "skill": "security", "shifts": SHIFTS},
        ),
        201,
    )
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{url}/login")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/rosters?site={site}")
    form = page.locator("#handover-form")
    assert form.locator('select[name="incoming"]').input_value() == ""  # the next shift
    form.locator('select[name="post"]').select_option(str(gate["id"]))
    form.locator('input[name="keys"]').fill("Gate key 2")
    form.locator('button[type="submit"]').click()
    waiting = page.locator("li.handover.state-waiting", has_text="Gate key 2")
    waiting.wait_for()
    (written,) = _ok(api.get("/api/v1/handovers", params={"site": site}))["items"]
    assert written["post_id"] == gate["id"] and written["incoming_technician_id"] is None
    assert written["acknowledge_by"] == "2026-11-27T12:30:00Z"  # 20:30 in Shanghai
    due = waiting.locator(".acknowledge-by time")
    assert due.get_attribute("datetime") == "2026-11-27T12:30:00.000Z"
    assert "20:30" in due.inner_text()  # the site's local time
    assert "North gate" in waiting.inner_text()
    # made this Friday with nobody rostered yet: Monday to Thursday were no gaps
    assert page.locator("td.cell.off", has_text="not rostered yet").count() == 8
    _fits(page)
    shoot(page, "27-handover-post-phone")

    clock.advance(timedelta(minutes=31))  # 19:31: the night shift is not in yet
    console.service.handovers.flag_overdue()
    page.reload()
    page.locator("li.handover.state-waiting", has_text="Gate key 2").wait_for()
    assert page.locator("li.handover.state-flagged").count() == 0

    clock.set(datetime(2026, 11, 27, 12, 31, tzinfo=UTC))  # 20:31: half an hour into the night
    console.service.handovers.flag_overdue()
    page.goto(f"{url}/lang/zh?next={quote(f'/rosters?site={site}')}")
    flagged = page.locator("li.handover.state-flagged", has_text="Gate key 2")
    flagged.wait_for()
    assert "已上报" in flagged.inner_text()
    _fits(page)
    # its writer cannot confirm it for the night shift: refused, said in the page's language
    flagged.locator('button[data-roster-action="acknowledge"]').click()
    page.locator(".toast-error", has_text="这份交接班记录由您本人填写，须由接班人员确认").wait_for()
    (still,) = _ok(api.get("/api/v1/handovers", params={"site": site}))["items"]
    assert still["state"] == "flagged" and still["acknowledged_by"] is None
    assert not errors, errors
    context.close()


def _fits(page: Page) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
