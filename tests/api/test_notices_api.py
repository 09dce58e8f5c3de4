"""Notices over HTTP: issued by hand with a reason in each language (or one text split by
language), urgent ones first, shown to residents on the public page ``/r/{site}`` in the
page's language and escaped, and withdrawn by a planner."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_work_orders_api import as_, token

pytestmark = pytest.mark.broker
ANYONE = {"Authorization": ""}
LATIN = re.compile(r"[A-Za-z]")
HAN = re.compile(r"[\u4e00-\u9fff]")


def notice(client: TestClient, site: str, **fields: Any) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(days=1)
    body = {"site": site, "service": "water", "starts_at": start.isoformat(), **fields}
    answer = client.post("/api/v1/notices", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_each_language_has_its_own_reason_and_urgent_notices_come_first(
    client: TestClient, site: str
) -> None:
    named = {"name": "绿园 Green Garden", "buildings": ["1", "3"]}
    assert client.put(f"/api/v1/sites/{site}", json=named).status_code == 200
    start = datetime.now(UTC) + timedelta(days=1)
    planned = notice(
        client, site, building="3", reason_zh="水箱清洗", reason_en="Tank cleaning",
        ends_at=(start + timedelta(hours=4)).isoformat(),
    )  # fmt: skip
    zh, en = planned["zh"]["body"], planned["en"]["body"]
    assert "因水箱清洗，3栋将于" in zh and zh.endswith("绿园物业服务中心")
    assert "because of tank cleaning, the water supply of building 3 will be off" in en
    assert en.endswith("Green Garden property management office")
    assert not LATIN.search(zh) and not HAN.search(en)
    urgent = notice(
        client, site, service="elevator", building="1", urgent=True,
        starts_at=datetime.now(UTC).isoformat(), reason="困人故障 a passenger trapped",
    )  # fmt: skip
    assert urgent["urgent"] is True and urgent["zh"]["title"] == "紧急：1栋电梯停运通知"
    assert "因困人故障，1栋电梯运行目前已暂停" in urgent["zh"]["body"]
    assert (
        "because of a passenger trapped, the lift of building 1 is off now"
        in (urgent["en"]["body"])
    )
    assert not LATIN.search(urgent["zh"]["body"]) and not HAN.search(urgent["en"]["body"])
    listed = client.get("/api/v1/notices", params={"site": site}).json()["items"]
    assert [n["id"] for n in listed] == [urgent["id"], planned["id"]]
    no_reason = {"site": site, "service": "water", "starts_at": start.isoformat()}
    assert client.post("/api/v1/notices", json=no_reason).status_code == 422


def test_residents_see_current_notices_on_the_public_page_urgent_first_and_escaped(
    client: TestClient, site: str
) -> None:
    assert client.put(f"/api/v1/sites/{site}", json={"name": "绿园"}).status_code == 200
    html = "<img src=x onerror=alert(1)>"
    planned = notice(
        client, site, building="3", reason_zh=f"水泵{html}更换", reason_en="pump change"
    )
    urgent = notice(
        client, site, service="power", urgent=True, starts_at=datetime.now(UTC).isoformat(),
        reason_zh="市政线路故障", reason_en=f"a fault {html} on the city line",
    )  # fmt: skip
    page = client.get(f"/r/{site}", headers=ANYONE)
    assert page.status_code == 200
    text = page.text
    shown = re.findall(r'data-notice-id="(\d+)"', text)
    assert shown == [str(urgent["id"]), str(planned["id"])]  # the outage first
    assert text.index('id="notices"') < text.index("<h1>")  # above the form
    assert "紧急：停电通知" in text and "3栋停水通知" in text and "Power cut" not in text
    assert html not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    english = client.get(f"/r/{site}", params={"lang": "en"}, headers=ANYONE).text
    assert "Urgent: Power cut" in english and "Water supply interruption: building 3" in english
    assert "停电通知" not in english and "because of pump change" in english
    assert html not in english
    # withdrawn: gone from the page and the list; a viewer may not withdraw one
    viewer = as_(token(client, "viewer"))
    assert client.delete(f"/api/v1/notices/{planned['id']}", headers=viewer).status_code == 403
    withdrawn = client.delete(f"/api/v1/notices/{planned['id']}")
    assert withdrawn.status_code == 200 and withdrawn.json()["cancelled_at"] is not None
    again = client.delete(f"/api/v1/notices/{planned['id']}")
    assert again.json()["cancelled_at"] == withdrawn.json()["cancelled_at"]  # once
    assert client.delete("/api/v1/notices/999999").status_code == 404
    listed = client.get("/api/v1/notices", params={"site": site}).json()["items"]
    assert [n["id"] for n in listed] == [urgent["id"]]
    after = client.get(f"/r/{site}", headers=ANYONE).text
    assert re.findall(r'data-notice-id="(\d+)"', after) == [str(urgent["id"])]
    assert "3栋停水通知" not in after


def test_no_notices_no_notice_section(client: TestClient, site: str) -> None:
    assert client.put(f"/api/v1/sites/{site}", json={"name": "绿园"}).status_code == 200
    page = client.get(f"/r/{site}", headers=ANYONE)
    assert page.status_code == 200 and 'id="notices"' not in page.text
