"""A site's English name over HTTP, on SQLite and PostgreSQL: set, read back (one site and
the list), cleared by a blank; then shown where English readers look (the residents' page
brand, the console in English, a notice's sign-off) while Chinese readers get the Chinese
part, and the name's HTML stays text."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.broker
ANYONE = {"Authorization": ""}
HTML = "<b>Green</b> Garden"


def brand(client: TestClient, site: str, lang: str) -> str:
    page = client.get(f"/r/{site}", params={"lang": lang}, headers=ANYONE)
    assert page.status_code == 200, page.text
    found = re.search(r'<span class="r-brand">(.*?)</span>', page.text)
    assert found is not None, page.text
    return found.group(1)


def test_an_english_name_round_trips_and_a_blank_one_is_none(client: TestClient, site: str) -> None:
    saved = client.put(f"/api/v1/sites/{site}", json={"name": "绿园", "name_en": "Green Garden"})
    assert saved.status_code == 200, saved.text
    assert (saved.json()["name"], saved.json()["name_en"]) == ("绿园", "Green Garden")
    one = client.get(f"/api/v1/sites/{site}").json()
    assert one == saved.json()
    (listed,) = [s for s in client.get("/api/v1/sites").json()["items"] if s["site"] == site]
    assert listed["name_en"] == "Green Garden"
    # the whole record is PUT back with another English name, then with a blank one
    changed = client.put(f"/api/v1/sites/{site}", json={**one, "name_en": " Green Court "})
    assert changed.json()["name_en"] == "Green Court"
    cleared = client.put(f"/api/v1/sites/{site}", json={**one, "name_en": "   "})
    assert cleared.status_code == 200 and cleared.json()["name_en"] is None
    assert client.get(f"/api/v1/sites/{site}").json()["name_en"] is None
    # a client that knows nothing of it (SPEC's earlier body) is still answered
    older = client.put(f"/api/v1/sites/{site}", json={"name": "绿园 Green Garden"})
    assert older.status_code == 200 and older.json()["name_en"] is None
    too_long = client.put(f"/api/v1/sites/{site}", json={"name": "绿园", "name_en": "G" * 201})
    assert too_long.status_code == 422
    assert client.get(f"/api/v1/sites/{site}").json()["name"] == "绿园 Green Garden"
    assert client.get("/api/v1/sites/nowhere-at-all").status_code == 404


def test_residents_and_notices_read_the_name_in_their_language(
    client: TestClient, site: str
) -> None:
    # no English name: the English written into the name
    client.put(f"/api/v1/sites/{site}", json={"name": "绿园 Green Gdn"})
    assert (brand(client, site, "zh"), brand(client, site, "en")) == ("绿园", "Green Gdn")
    # the office's English name wins in English, and its HTML is text
    body = {"name": "绿园 Green Gdn", "name_en": HTML}
    assert client.put(f"/api/v1/sites/{site}", json=body).status_code == 200
    assert brand(client, site, "zh") == "绿园"
    assert brand(client, site, "en") == "&lt;b&gt;Green&lt;/b&gt; Garden"
    english = client.get(f"/r/{site}", params={"lang": "en"}, headers=ANYONE).text
    assert "<b>Green</b>" not in english and "Green Gdn" not in english
    body = {"name": "绿园", "name_en": "Green Garden", "buildings": ["3"]}
    assert client.put(f"/api/v1/sites/{site}", json=body).status_code == 200
    report = {"site": site, "category": "repair", "building": "3", "unit": "1202",
              "description": "水管漏水", "phone": "138 0000 5678"}  # fmt: skip
    made = client.post("/api/v1/public/requests", json=report, headers=ANYONE)
    assert made.status_code == 201, made.text
    for lang, shown in (("en", "Green Garden"), ("zh", "绿园")):  # the request's own page
        tracked = client.get(made.json()["tracking_url"], params={"lang": lang}, headers=ANYONE)
        assert f'<span class="r-brand">{shown}</span>' in tracked.text
    start = datetime.now(UTC) + timedelta(hours=1)
    issued = client.post(
        "/api/v1/notices",
        json={"site": site, "service": "power", "starts_at": start.isoformat(), "reason": "检修"},
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["zh"]["body"].endswith("绿园物业服务中心")
    assert issued.json()["en"]["body"].endswith("Green Garden property management office")


def test_the_console_names_the_site_in_its_language(client: TestClient, site: str) -> None:
    client.put(f"/api/v1/sites/{site}", json={"name": "绿园", "name_en": "Green Garden"})
    lobby = client.get(f"/requests/notice/{site}").text  # printed in both languages
    assert '<span lang="zh-CN">绿园</span> <span lang="en">Green Garden</span>' in lobby
    secret = client.post("/api/v1/tokens", json={"name": "desk", "role": "planner"}).json()
    login = client.post(
        "/login",
        data={"token": secret["token"]},
        headers={"Authorization": "", "Origin": "http://testserver"},
        follow_redirects=False,
    )
    session = f"facility_token={login.cookies['facility_token']}"
    client.cookies.clear()
    for lang, shown, other in (("en", "Green Garden", "绿园"), ("zh", "绿园", "Green Garden")):
        cookie = {"Authorization": "", "Cookie": f"{session}; facility_lang={lang}"}
        page = client.get("/sites", headers=cookie)
        assert page.status_code == 200, page.text
        heading = re.search(rf'id="site-{site}"[^>]*>\s*<h2>(.*?) <span', page.text)
        assert heading is not None and heading.group(1) == shown
        notices = client.get("/notices", headers=cookie).text
        assert f">{shown}</option>" in notices and f">{other}</option>" not in notices
