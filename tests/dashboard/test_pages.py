"""The dashboard's pages as a browser gets them: login, roles, languages, live regions."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.builders import ADMIN_TOKEN
from tests.dashboard.conftest import Estate, actions_of_cards
from tests.dashboard.test_console_zh import english_sentences, visible_text

pytestmark = pytest.mark.broker

PAGES = [
    "/",
    "/alarms",
    "/work-orders",
    "/plans",
    "/people",
    "/parts",
    "/kpis",
    "/rosters",
    "/rounds",
]


def pages_of(estate: Estate) -> list[str]:
    return [
        *PAGES,
        f"/assets/{estate.site}/tank-2",
        f"/work-orders/{estate.orders['leak']['id']}",
        "/alarms?view=all",
    ]


def test_every_page_redirects_to_login_without_a_token(estate: Estate) -> None:
    anonymous = estate.browser()
    for path in pages_of(estate):
        answer = anonymous.get(path)
        assert answer.status_code == 303, path
        location = answer.headers["location"]
        assert location.startswith("/login"), path
        if path != "/":
            assert "next=" in location, path
    bad = estate.browser("fd_not-a-real-token")
    assert bad.get("/alarms").headers["location"] == "/login?next=/alarms"


def test_a_live_region_refresh_without_a_token_sends_the_window_to_login(
    estate: Estate,
) -> None:
    answer = estate.browser().get(
        "/work-orders",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/work-orders?mine=true"},
    )
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"] == "/login?next=/work-orders%3Fmine%3Dtrue"


def test_login_keeps_a_session_id_in_an_httponly_cookie_and_logout_ends_it(
    estate: Estate,
) -> None:
    client = estate.browser()
    form = client.get("/login?next=/alarms")
    assert form.status_code == 200 and 'name="token"' in form.text
    answer = client.post("/login", data={"token": ADMIN_TOKEN, "next": "/alarms"})
    assert answer.status_code == 303 and answer.headers["location"] == "/alarms"
    cookie = answer.headers["set-cookie"]
    session_id = cookie.split(";")[0].removeprefix("facility_token=")
    assert len(session_id) >= 43 and ADMIN_TOKEN not in cookie  # 256 random bits, not the token
    for attribute in ("HttpOnly", "SameSite=lax", "Path=/", f"Max-Age={7 * 86_400}"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http here; see the https case below
    assert stored_digests(estate) >= {hashlib.sha256(session_id.encode()).hexdigest()}
    assert not any(session_id in row or ADMIN_TOKEN in row for row in stored_rows(estate))
    assert client.get("/alarms").status_code == 200
    assert client.get("/login").headers["location"] == "/"  # already in: straight on
    out = client.post("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert 'facility_token=""' in out.headers["set-cookie"]
    assert hashlib.sha256(session_id.encode()).hexdigest() not in stored_digests(estate)
    # the server forgot the session: the old cookie, kept by a thief, opens nothing
    client.cookies.set("facility_token", session_id)
    assert client.get("/alarms").status_code == 303
    thief = {"Authorization": "", "Cookie": f"facility_token={session_id}"}
    assert estate.admin.get("/api/v1/alarms", headers=thief).status_code == 401
    client.cookies.clear()
    assert client.get("/alarms").status_code == 303

    secure = estate.browser(base_url="https://testserver")
    secure.base_url = secure.base_url.copy_with(scheme="https")
    answer = secure.post("/login", data={"token": ADMIN_TOKEN})
    assert "Secure" in answer.headers["set-cookie"]


def stored_rows(estate: Estate) -> list[str]:
    with estate.app.state.service.db.connect() as connection:
        rows = connection.execute(text("SELECT * FROM dashboard_sessions")).all()
    return [" ".join(str(value) for value in row) for row in rows]


def stored_digests(estate: Estate) -> set[str]:
    with estate.app.state.service.db.connect() as connection:
        return set(connection.scalars(text("SELECT digest FROM dashboard_sessions")))


def test_the_cookie_is_a_session_not_the_token(estate: Estate) -> None:
    """A raw token in the cookie (what the login used to store) no longer logs anyone in:
    only a session the login opened does."""
    raw = estate.browser()
    raw.cookies.set("facility_token", estate.tokens["viewer"])
    assert raw.get("/alarms").status_code == 303
    cookie_only = {"Authorization": "", "Cookie": f"facility_token={estate.tokens['viewer']}"}
    assert estate.admin.get("/api/v1/alarms", headers=cookie_only).status_code == 401
    assert estate.as_role("viewer").get("/alarms").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},  # neither Origin nor Referer
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/login"},
        {"Origin": "http://testserver.evil.example"},
    ],
)
def test_login_and_logout_come_only_from_our_own_pages(
    estate: Estate, headers: dict[str, str]
) -> None:
    """Login CSRF: another site must not post its own token to our login form (the victim
    would then work, unknowing, as the attacker), nor log the victim out."""
    foreign = TestClient(estate.app, follow_redirects=False, headers=headers)
    refused = foreign.post("/login", data={"token": ADMIN_TOKEN})
    assert refused.status_code == 403, refused.text
    assert "set-cookie" not in refused.headers and not foreign.cookies
    assert "this site's pages" in refused.json()["detail"]

    ours = estate.as_role("viewer")  # logged in from our page
    session_id = ours.cookies["facility_token"]
    foreign.cookies.set("facility_token", session_id)
    assert foreign.post("/logout").status_code == 403
    assert ours.get("/alarms").status_code == 200  # still logged in
    good = ours.post("/logout", headers={"Referer": "http://testserver/alarms"})
    assert good.status_code == 303
    assert ours.get("/alarms").status_code == 303


def test_revoking_a_token_ends_the_dashboard_sessions_opened_with_it(estate: Estate) -> None:
    body = {"name": "night-desk", "role": "viewer"}
    created = estate.admin.post("/api/v1/tokens", json=body).json()
    screen = estate.browser(created["token"])
    assert screen.get("/alarms").status_code == 200
    assert screen.get("/api/v1/alarms").status_code == 200  # the API takes the session too
    revoked = estate.admin.delete(f"/api/v1/tokens/{created['id']}")
    assert revoked.status_code == 200
    assert screen.get("/alarms").headers["location"] == "/login?next=/alarms"
    assert screen.get("/api/v1/alarms").status_code == 401
    relogin = screen.post("/login", data={"token": created["token"]})
    assert relogin.status_code == 200 and "set-cookie" not in relogin.headers
    assert estate.as_role("viewer").get("/alarms").status_code == 200  # others unaffected


def test_login_refuses_bad_tokens_and_foreign_next(estate: Estate) -> None:
    client = estate.browser(**{"Accept-Language": "en"})
    refused = client.post("/login", data={"token": "fd_wrong", "next": "/parts"})
    assert refused.status_code == 200 and "set-cookie" not in refused.headers
    assert "unknown, revoked or expired" in refused.text
    assert "/parts" in refused.text  # the form still goes back there after a good token
    assert "Paste a token first" in client.post("/login", data={"token": " "}).text
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil", "javascript:x"):
        answer = client.post("/login", data={"token": ADMIN_TOKEN, "next": target})
        assert answer.headers["location"] == "/", target


@pytest.mark.parametrize("path", [*PAGES, "asset", "order"])
def test_each_page_renders_for_a_viewer(estate: Estate, path: str) -> None:
    if path == "asset":
        path = f"/assets/{estate.site}/tank-2"
    elif path == "order":
        path = f"/work-orders/{estate.orders['leak']['id']}"
    answer = estate.as_role("viewer", **{"Accept-Language": "en"}).get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    html = answer.text
    assert html.startswith("<!doctype html>") and '<html lang="en">' in html
    assert "viewer-user" in html and 'action="/logout"' in html
    assert 'data-action="' not in html  # a viewer gets no buttons that change anything
    for static in re.findall(r'(?:src|href)="(/static/[^"?]+)', html):
        assert estate.browser().get(static).status_code == 200, static


def test_the_pages_show_the_estate(estate: Estate) -> None:
    viewer = estate.as_role("viewer", **{"Accept-Language": "en"})
    site = estate.site
    overview = viewer.get("/").text
    assert f'data-asset="{site}/tank-2" data-status="alarm"' in overview
    assert f'data-asset="{site}/pump-1" data-status="ok"' in overview
    assert "3.2 bar" in overview and "F3" in overview  # the tiles' headline readings
    alarms = viewer.get("/alarms").text
    assert f'data-alarm-id="{estate.alarm_id}" data-state="firing"' in alarms
    assert estate.orders["leak"]["number"] in alarms
    board = viewer.get("/work-orders").text
    for name in ("li", "wang", "leak"):
        assert f'data-order-id="{estate.orders[name]["id"]}"' in board
    assert "Li Na" in board and "Wang Wei" in board  # assignees by name, not by id
    asset = viewer.get(f"/assets/{site}/tank-2").text
    config = json.loads(re.findall(r'id="chart-config">(.*?)</script>', asset)[0])
    drawn = [(m["name"], m["label"], m["unit"], m["step"]) for m in config["metrics"]]
    assert drawn == [  # what the charts will draw, in the catalogue's order
        ("tank_level_pct", "Tank level", "%", False),
        ("leak_detected", "Leak sensor", "", True),
    ]
    assert config["zone"] == "Asia/Shanghai"
    assert "leak_detected" in asset and estate.orders["leak"]["number"] in asset
    plans = viewer.get("/plans").text
    assert "Tank cleaning" in plans and plans.count('class="badge oc-upcoming"') >= 2
    people = viewer.get("/people").text
    assert people.count('class="badge duty-on_shift"') == 2
    parts = viewer.get("/parts").text
    assert 'data-sku="SEAL-50" data-low="true"' in parts
    assert 'data-sku="VALVE-25" data-low="false"' in parts
    assert parts.index("SEAL-50") < parts.index("VALVE-25")  # low stock first
    kpis = viewer.get("/kpis").text
    assert 'id="sla-chart"' in kpis and 'id="backlog-chart"' in kpis
    assert 'data-priority="P2"' in kpis


def test_times_are_shown_in_the_sites_local_time(estate: Estate) -> None:
    html = estate.as_role("viewer").get("/alarms").text
    shown = re.findall(r'<time datetime="([^"]+)"[^>]*>([^<]+)</time>', html)
    assert shown
    for utc, local in shown:
        moment = datetime.fromisoformat(utc.replace("Z", "+00:00")) + timedelta(hours=8)
        assert local in (moment.strftime("%m-%d %H:%M"), moment.strftime("%Y-%m-%d %H:%M"))


def test_a_viewer_sees_no_lifecycle_buttons(estate: Estate) -> None:
    board = estate.as_role("viewer").get("/work-orders?view=board").text
    cards = actions_of_cards(board)
    assert len(cards) >= 3 and all(steps == [] for steps in cards.values())


def test_a_technician_gets_buttons_only_on_their_own_orders(estate: Estate) -> None:
    li, wang = estate.orders["li"]["id"], estate.orders["wang"]["id"]
    cards = actions_of_cards(estate.as_role("li").get("/work-orders?view=board").text)
    assert cards[li] == estate.orders["li"]["allowed"] == ["acknowledged", "open", "cancelled"]
    assert cards[wang] == []
    assigned = estate.admin.get(
        "/api/v1/work-orders", params={"assignee": estate.technicians["li"]}
    ).json()["items"]
    mine = estate.as_role("li").get("/work-orders?mine=true&view=board").text
    assert set(actions_of_cards(mine)) == {o["id"] for o in assigned} and li in set(
        actions_of_cards(mine)
    )
    page = estate.as_role("wang").get(f"/work-orders/{wang}").text
    assert 'data-to="acknowledged"' in page
    alarms = estate.as_role("li").get("/alarms").text
    assert f'data-action="ack" data-alarm="{estate.alarm_id}"' in alarms
    assert 'data-action="silence"' not in alarms  # silences are a planner's


def test_no_button_leads_to_a_refusal_on_a_p1(estate: Estate) -> None:
    """Cancelling (and closing) a P1 is a planner's even on the technician's own order: the
    technician does not get the button the API would refuse."""
    li = estate.technicians["li"]
    body = {
        "site": estate.site,
        "title": "Burst main in B3",
        "priority": "P1",
        "skill": "plumbing",
        "channel": "phone",
    }
    order = estate.admin.post("/api/v1/work-orders", json=body).json()
    assigned = estate.admin.post(
        f"/api/v1/work-orders/{order['id']}/assign", json={"technician_ids": [li]}
    ).json()
    assert "cancelled" in assigned["allowed"]
    cards = actions_of_cards(estate.as_role("li").get("/work-orders?view=board").text)
    assert "cancelled" not in cards[order["id"]] and "acknowledged" in cards[order["id"]]
    refused = estate.as_role("li").post(
        f"/api/v1/work-orders/{order['id']}/transition", json={"to": "cancelled"}
    )
    assert refused.status_code == 403
    planner = actions_of_cards(estate.as_role("planner").get("/work-orders?view=board").text)
    assert "cancelled" in planner[order["id"]]


def test_a_planner_gets_every_step_the_order_allows(estate: Estate) -> None:
    cards = actions_of_cards(estate.as_role("planner").get("/work-orders?view=board").text)
    for name in ("li", "wang", "leak"):
        order = estate.orders[name]
        assert cards[order["id"]] == order["allowed"]
    alarms = estate.as_role("planner").get("/alarms").text
    button = f'data-action="silence" data-site="{estate.site}" data-site-name="Green Garden"'
    assert f'{button} data-asset="tank-2"' in alarms


def test_language_follows_cookie_then_site_then_browser(estate: Estate) -> None:
    english = estate.as_role("viewer", **{"Accept-Language": "en-GB,en;q=0.9"}).get("/alarms")
    assert '<html lang="en">' in english.text and "Alarms" in english.text
    assert "告警" not in english.text
    chinese = estate.as_role("viewer", **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    page = chinese.get("/alarms").text
    assert '<html lang="zh-CN">' in page and "告警" in page and "漏水" in page
    switched = chinese.get("/lang/en?next=/alarms")
    assert switched.status_code == 303 and switched.headers["location"] == "/alarms"
    assert "facility_lang=en" in switched.headers["set-cookie"]
    assert '<html lang="en">' in chinese.get("/alarms").text  # the choice is remembered
    assert chinese.get("/lang/en?next=https://evil.example").headers["location"] == "/"

    # a zh-CN site is shown in Chinese whatever the browser prefers, unless chosen otherwise
    zh_site = f"{estate.site}-zh"
    estate.admin.put(f"/api/v1/sites/{zh_site}", json={"name": "绿园二期", "locale": "zh-CN"})
    browser = estate.as_role("viewer", **{"Accept-Language": "en"})
    assert '<html lang="zh-CN">' in browser.get(f"/?site={zh_site}").text
    assert '<html lang="en">' in browser.get(f"/?site={estate.site}").text
    browser.get("/lang/en")
    assert '<html lang="en">' in browser.get(f"/?site={zh_site}").text


def test_htmx_gets_only_the_live_region(estate: Estate) -> None:
    viewer = estate.as_role("viewer")
    for path, region in (("/", "overview"), ("/alarms", "alarm-list"), ("/work-orders", "board")):
        answer = viewer.get(path, headers={"HX-Request": "true"})
        assert answer.status_code == 200
        assert answer.text.lstrip().startswith(f'<div id="{region}" class="live" hx-get=')
        assert "<html" not in answer.text


def test_unknown_things_get_a_page_not_json(estate: Estate) -> None:
    viewer = estate.as_role("viewer", **{"Accept-Language": "en"})
    for path in (f"/assets/{estate.site}/nothing", "/work-orders/999999"):
        answer = viewer.get(path)
        assert answer.status_code == 404 and "<!doctype html>" in answer.text


def test_the_vendored_scripts_are_served_with_their_licences(estate: Estate) -> None:
    client = estate.browser()
    for path, needle in (
        ("/static/vendor/htmx/htmx.min.js", "htmx"),
        ("/static/vendor/htmx/LICENSE.txt", "Zero-Clause BSD"),
        ("/static/vendor/uplot/uPlot.iife.min.js", "uPlot"),
        ("/static/vendor/uplot/uPlot.min.css", ".uplot"),
        ("/static/vendor/uplot/LICENSE.txt", "MIT License"),
    ):
        answer = client.get(path)
        assert answer.status_code == 200 and needle in answer.text, path


def test_the_tokens_page_is_an_unlimited_admins_only(estate: Estate) -> None:
    """The nav entry and the page for an admin of every site; the API's refusal (403) for a
    planner and for an admin limited to a site, who has no nav entry either."""
    admin = estate.browser(ADMIN_TOKEN)
    page = admin.get("/tokens")
    assert page.status_code == 200
    assert 'href="/tokens"' in page.text and 'id="token-form"' in page.text
    assert f'value="{estate.site}"' in page.text  # a site to limit a new token to
    assert page.text.count('class="token-item') >= 3  # the estate's viewer, technician, planner
    limited_admin = estate.admin.post(
        "/api/v1/tokens", json={"name": "east admin", "role": "admin", "sites": [estate.site]}
    ).json()["token"]
    for visitor in (estate.as_role("planner"), estate.browser(limited_admin)):
        refused = visitor.get("/tokens")
        assert refused.status_code == 403
        assert 'id="token-form"' not in refused.text
        assert 'href="/tokens"' not in visitor.get("/").text
    assert estate.site in estate.browser(limited_admin).get("/tokens").text  # named in why


def test_the_tokens_page_in_chinese_has_no_english_sentence(estate: Estate) -> None:
    admin = estate.browser(ADMIN_TOKEN)
    admin.cookies.set("facility_lang", "zh")
    answer = admin.get("/tokens")
    assert answer.status_code == 200 and 'lang="zh-CN"' in answer.text
    text = visible_text(answer.text)
    assert "创建令牌" in text and "都不选：全部项目" in text
    assert not [s for s in english_sentences() if s in text]


def test_html_in_a_contractor_and_register_data_is_shown_as_text(estate: Estate) -> None:
    """What a planner types is never markup on another user's screen: a contractor's name and
    an asset's register fields written as HTML come back escaped; a good edit after them works."""
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    contractor = {
        "name": hostile,
        "phone_24h": "400-820-1234",
        "contract_start": "2026-01-01",
        "contract_end": "2027-12-31",
        "sites": [estate.site],
        "kinds": ["elevator"],
    }
    made = estate.admin.post("/api/v1/contractors", json=contractor)
    assert made.status_code == 201, made.text
    lift = {"site": estate.site, "asset": "lift-x", "kind": "elevator"}
    assert estate.admin.post("/api/v1/assets", json=lift).status_code in (200, 201)
    register = {"maker": hostile, "model": hostile, "registration_code": "31103101-X"}
    put = estate.admin.put(f"/api/v1/assets/{estate.site}/lift-x/register", json=register)
    assert put.status_code == 200, put.text
    admin = estate.browser(ADMIN_TOKEN)
    for path in ("/contractors", f"/assets/{estate.site}/lift-x"):
        page = admin.get(path)
        assert page.status_code == 200, path
        assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
    good = {**contractor, "name": "Lift Care Co."}
    assert estate.admin.post("/api/v1/contractors", json=good).status_code == 201
    assert "Lift Care Co." in admin.get("/contractors").text
