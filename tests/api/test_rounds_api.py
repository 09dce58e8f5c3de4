"""Rosters, handovers and rounds through the API, with each role's refusals."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image


def _ok(answer: Any, expected: int = 200) -> Any:
    assert answer.status_code == expected, answer.text
    return answer.json()


def _as(client: TestClient, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_rosters_handovers_and_rounds_by_role(client: TestClient, site: str) -> None:
    guard = _ok(
        client.post(
            "/api/v1/technicians",
            json={
                "name": "Gao Feng",
                "skills": ["security", "general"],
                "seniority": "senior",
                "sites": [site],
            },
        ),
        201,
    )
    tokens = {
        role: _ok(
            client.post(
                "/api/v1/tokens",
                json={
                    "name": role,
                    "role": role,
                    "technician_id": guard["id"] if role == "technician" else None,
                },
            ),
            201,
        )["token"]
        for role in ("viewer", "technician")
    }
    viewer, technician = _as(client, tokens["viewer"]), _as(client, tokens["technician"])

    post = {
        "site": site,
        "name": "North gate",
        "skill": "security",
        "wanted_skills": ["first_aid"],
        "shifts": [
            {"name": "day", "starts": "08:00", "ends": "20:00", "headcount": 1},
            {
                "name": "night",
                "starts": "20:00",
                "ends": "08:00",
                "headcount": 1,
                "weekdays": [5, 1, 2, 3, 4],
            },
        ],
    }
    assert client.post("/api/v1/posts", json=post, headers=technician).status_code == 403
    sunday_eight = {**post, "shifts": [{**post["shifts"][0], "weekdays": [8]}]}  # type: ignore[dict-item]
    refused = client.post("/api/v1/posts", json=sunday_eight)
    assert refused.status_code == 422 and "weekdays" in refused.text
    created = _ok(client.post("/api/v1/posts", json=post), 201)
    assert [s["weekdays"] for s in created["shifts"]] == [[1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5]]
    assert created["wanted_skills"] == ["first_aid"]
    bad = client.post(
        f"/api/v1/posts/{created['id']}/roster-lines",
        json={"technician_id": guard["id"], "pattern": ["day", "late"], "anchor": "2026-11-30"},
    )
    assert bad.status_code == 422 and "pattern names late" in bad.text
    line = {"technician_id": guard["id"], "pattern": ["day"], "anchor": "2026-11-30"}
    _ok(client.post(f"/api/v1/posts/{created['id']}/roster-lines", json=line), 201)
    (listed,) = _ok(client.get("/api/v1/posts", params={"site": site}))["items"]
    assert listed["since"] == "2026-11-30"  # counted from its roster's first day
    holidays = {"holidays": [{"day": "2026-10-01", "name": "国庆节"}]}
    assert _ok(client.put(f"/api/v1/sites/{site}/holidays/2026", json=holidays))["holidays"]
    wrong_year = client.put(f"/api/v1/sites/{site}/holidays/2027", json=holidays)
    assert wrong_year.status_code == 422
    report = _ok(
        client.get(
            f"/api/v1/sites/{site}/coverage",
            params={"start": "2026-11-30", "end": "2026-12-06"},
            headers=viewer,
        )
    )
    # the nights, Monday to Friday, are empty; the weekend's nights are not needed
    assert report["gaps"] == 5 and report["coverage"] == 7 / 12
    too_long = client.get(
        f"/api/v1/sites/{site}/coverage", params={"start": "2026-01-01", "end": "2026-12-31"}
    )
    assert too_long.status_code == 422
    proposal = _ok(
        client.get(
            f"/api/v1/posts/{created['id']}/substitutes",
            params={"day": "2026-12-01", "shift": "night"},
        )
    )
    assert proposal["candidates"] == []  # the only guard has the day shift until 20:00
    assert proposal["refused"][0]["reason"].startswith("rest 0h before")
    assert proposal["refused"][0]["kind"] == "short_rest"

    # a post that is not this estate's (missing, or another site's) is refused, writing nothing
    elsewhere = _ok(
        client.post(
            "/api/v1/posts",
            json={**post, "site": "other-estate"},
        ),
        201,
    )
    for post_id in (elsewhere["id"], 999_999):
        refused = client.post(
            "/api/v1/handovers", json={"site": site, "keys": "k", "post_id": post_id}
        )
        assert refused.status_code == 404, refused.text
    assert _ok(client.get("/api/v1/handovers", params={"site": site}))["total"] == 0
    handover = _ok(
        client.post(
            "/api/v1/handovers",
            json={
                "site": site,
                "keys": "gate key",
                "incoming_technician_id": guard["id"],
                "post_id": created["id"],
            },
            headers=technician,
        ),
        201,
    )
    assert (
        client.post(f"/api/v1/handovers/{handover['id']}/acknowledge", headers=viewer).status_code
        == 403
    )
    # its writer cannot confirm it for the incoming shift: 409, with a code the console words
    own = client.post(f"/api/v1/handovers/{handover['id']}/acknowledge", headers=technician)
    assert own.status_code == 409 and own.json()["code"] == "own_handover"
    assert "written by technician" in own.json()["detail"]
    acknowledged = _ok(client.post(f"/api/v1/handovers/{handover['id']}/acknowledge"))
    assert acknowledged["state"] == "acknowledged"
    again = client.post(f"/api/v1/handovers/{handover['id']}/acknowledge")
    assert again.status_code == 409

    route = _ok(
        client.post(
            "/api/v1/routes/from-template",
            json={"site": site, "template": "fire_patrol", "lang": "en"},
        ),
        201,
    )
    assert all(c["token"] for c in route["checkpoints"])  # a planner prints the codes
    seen = _ok(client.get(f"/api/v1/routes/{route['id']}", headers=technician))
    assert all(c["token"] is None for c in seen["checkpoints"])  # others scan them
    assert client.post(f"/api/v1/routes/{route['id']}/rounds", headers=viewer).status_code == 403
    walk = _ok(client.post(f"/api/v1/routes/{route['id']}/rounds", headers=technician), 201)
    first = route["checkpoints"][0]
    found = _ok(client.get(f"/api/v1/checkpoints/{first['token']}", headers=technician))
    assert found["round"]["id"] == walk["id"] and found["checkpoint_id"] == first["id"]
    second = route["checkpoints"][1]
    out_of_order = client.post(
        f"/api/v1/rounds/{walk['id']}/visits",
        json={"token": second["token"], "results": []},
        headers=technician,
    )
    assert out_of_order.status_code == 409 and "number 1 comes next" in out_of_order.text
    results = [
        {"key": i["key"], "ok": i["key"] != "panel", "note": "zone 4 disabled"}
        for i in first["items"]
    ]
    visited = _ok(
        client.post(
            f"/api/v1/rounds/{walk['id']}/visits",
            json={"token": first["token"], "results": results},
            headers=technician,
        ),
        201,
    )
    assert visited["state"] == "walking" and visited["findings"] == 1
    assert visited["next_checkpoint_id"] == second["id"]
    (failed,) = [r for r in visited["visits"][0]["results"] if not r["ok"]]
    order = _ok(client.get(f"/api/v1/work-orders/{failed['work_order_id']}"))
    assert (order["source"], order["channel"]) == ("manual", "walk_round")
    photos = f"/api/v1/rounds/{walk['id']}/visits/{first['id']}/photos"
    refused = client.post(
        photos, params={"item": "panel"}, content=b"<svg/>", headers={"Content-Type": "image/png"}
    )
    assert refused.status_code == 422 and "not a JPEG or PNG" in refused.text
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "PNG")
    kept = _ok(
        client.post(
            photos,
            params={"item": "panel"},
            content=buffer.getvalue(),
            headers={"Content-Type": "image/png", **technician},
        ),
        201,
    )
    photo = client.get(kept["url"], headers=viewer)
    assert photo.status_code == 200 and photo.content[:3] == b"\xff\xd8\xff"  # re-encoded
    walked = _ok(client.get(f"/api/v1/rounds/{walk['id']}"))
    (panel,) = [r for r in walked["visits"][0]["results"] if r["key"] == "panel"]
    assert panel["photos"] == [kept["key"]]
    kpis = _ok(client.get("/api/v1/patrol-kpis", params={"site": site}))
    assert kpis["rounds"] == 0  # the round is not due yet: nothing judged
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    listed = _ok(client.get("/api/v1/rounds", params={"site": site, "since": since}))
    assert walk["id"] in [r["id"] for r in listed["items"]] and listed["total"] == 1
    posts = _ok(client.get("/api/v1/posts", params={"site": site, "limit": 1, "offset": 0}))
    assert posts["total"] == 1 and posts["next_offset"] is None
    handovers = _ok(client.get("/api/v1/handovers", params={"site": site, "state": "acknowledged"}))
    assert [h["id"] for h in handovers["items"]] == [handover["id"]]
