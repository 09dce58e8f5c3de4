"""Work orders, people and roles over HTTP; an alarm over MQTT becomes an assigned order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from facility_dispatch.kernel.clock import to_ms
from tests.builders import publisher, wait_until
from tests.services import Broker

pytestmark = pytest.mark.broker


def token(client: TestClient, role: str, technician_id: int | None = None, **extra: Any) -> str:
    body = {"name": f"{role}-user", "role": role, "technician_id": technician_id, **extra}
    created = client.post("/api/v1/tokens", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["token"])


def as_(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def technician(client: TestClient, site: str, name: str, skills: list[str], **extra: Any) -> int:
    body = {"name": name, "skills": skills, "seniority": "senior", "sites": [site], **extra}
    created = client.post("/api/v1/technicians", json=body)
    assert created.status_code == 201, created.text
    tech_id = int(created.json()["id"])
    now = datetime.now(UTC)
    shift = {
        "technician_id": tech_id,
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=8)).isoformat(),
    }
    assert client.post("/api/v1/shifts", json=shift).status_code == 201
    return tech_id


def manual(site: str) -> dict[str, Any]:
    return {
        "site": site,
        "title": "Water dripping from the ceiling in 3-1202",
        "priority": "P3",
        "skill": "plumbing",
        "channel": "phone",
        "reporter": "Mr Chen, 139 0000 1234",
    }


def test_manual_order_lifecycle_and_409_naming_the_allowed_steps(
    client: TestClient, site: str
) -> None:
    tech = technician(client, site, "Li Na", ["plumbing"])
    created = client.post("/api/v1/work-orders", json=manual(site))
    assert created.status_code == 201
    order = created.json()
    assert order["number"].startswith("WO-") and len(order["number"]) == 14
    assert (order["source"], order["status"], order["assignees"]) == ("manual", "assigned", [tech])
    assert order["allowed"] == ["acknowledged", "open", "cancelled"]
    illegal = client.post(f"/api/v1/work-orders/{order['id']}/transition", json={"to": "closed"})
    assert illegal.status_code == 409
    assert illegal.json()["detail"]["allowed"] == ["acknowledged", "open", "cancelled"]
    for step in ("acknowledged", "in_progress", "resolved", "closed"):
        moved = client.post(
            f"/api/v1/work-orders/{order['id']}/transition", json={"to": step, "note": step}
        )
        assert moved.status_code == 200, moved.text
    detail = client.get(f"/api/v1/work-orders/{order['id']}").json()
    assert detail["status"] == "closed"
    entries = [(e["event"], e["from"], e["to"]) for e in detail["timeline"]]
    assert ("transition", "resolved", "closed") in entries
    assert set(detail["timeline"][0]) == {"at", "actor", "event", "from", "to", "note", "data"}
    listed = client.get("/api/v1/work-orders", params={"site": site, "status": ["closed", "open"]})
    assert listed.json()["total"] == 1
    assert (
        client.get("/api/v1/work-orders", params={"source": "alarm", "site": site}).json()["total"]
        == 0
    )
    assert client.get("/api/v1/work-orders/999999").status_code == 404


def test_roles_are_enforced(client: TestClient, site: str) -> None:
    li = technician(client, site, "Li Na", ["plumbing"])
    wang = technician(
        client,
        site,
        "Wang Wei",
        ["electrical"],
        certifications=[{"kind": "electrical", "number": "E-1", "expires_on": "2030-01-01"}],
    )
    order = client.post("/api/v1/work-orders", json=manual(site)).json()
    viewer = as_(token(client, "viewer"))
    assert client.get(f"/api/v1/work-orders/{order['id']}", headers=viewer).status_code == 200
    refused = client.post(
        f"/api/v1/work-orders/{order['id']}/transition", json={"to": "acknowledged"}, headers=viewer
    )
    assert refused.status_code == 403
    assert "technician role" in refused.json()["detail"]
    assert client.post("/api/v1/technicians", json={}, headers=viewer).status_code == 403
    not_hers = as_(token(client, "technician", wang))
    assert (
        client.post(
            f"/api/v1/work-orders/{order['id']}/transition",
            json={"to": "acknowledged"},
            headers=not_hers,
        ).status_code
        == 403
    )
    hers = as_(token(client, "technician", li))
    assert (
        client.post(
            f"/api/v1/work-orders/{order['id']}/transition",
            json={"to": "acknowledged"},
            headers=hers,
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/work-orders/{order['id']}/assign",
            json={"technician_ids": [wang]},
            headers=hers,
        ).status_code
        == 403
    )  # only planners override
    planner = as_(token(client, "planner"))
    assert client.post(
        f"/api/v1/work-orders/{order['id']}/assign",
        json={"technician_ids": [wang, li]},
        headers=planner,
    ).json()["assignees"] == [wang, li]
    assert (
        client.post(
            "/api/v1/tokens", json={"name": "x", "role": "admin"}, headers=planner
        ).status_code
        == 403
    )


def test_tokens_revoked_or_expired_are_refused(client: TestClient) -> None:
    secret = token(client, "viewer")
    assert client.get("/api/v1/alarms", headers=as_(secret)).status_code == 200
    listed = client.get("/api/v1/tokens").json()["items"]
    assert "token" not in listed[0] and "digest" not in listed[0]  # never shown again
    assert client.delete(f"/api/v1/tokens/{listed[0]['id']}").status_code == 200
    assert client.get("/api/v1/alarms", headers=as_(secret)).status_code == 401
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    expired = token(client, "viewer", expires_at=past)
    assert client.get("/api/v1/alarms", headers=as_(expired)).status_code == 401


def test_absence_reassigns_through_the_api(client: TestClient, site: str) -> None:
    li = technician(client, site, "Li Na", ["plumbing"])
    order = client.post("/api/v1/work-orders", json=manual(site)).json()
    wang = technician(client, site, "Wang Wei", ["plumbing"])
    assert order["assignees"] == [li]
    now = datetime.now(UTC)
    absence = client.post(
        "/api/v1/absences",
        json={
            "technician_id": li,
            "starts_at": (now - timedelta(minutes=5)).isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "reason": "sick",
        },
    )
    assert absence.status_code == 201 and absence.json()["reassigned"] == 1
    assert client.get(f"/api/v1/work-orders/{order['id']}").json()["assignees"] == [wang]
    people = client.get("/api/v1/technicians", params={"site": site}).json()["items"]
    assert {p["name"]: p["open_orders"] for p in people} == {"Li Na": 0, "Wang Wei": 1}


def test_checklist_and_sites(client: TestClient, site: str) -> None:
    technician(client, site, "Li Na", ["plumbing"])
    body = {**manual(site), "checklist": ["Isolate the riser", "Read the pressure"]}
    order = client.post("/api/v1/work-orders", json=body).json()
    items = order["checklist"]
    ticked = client.post(
        f"/api/v1/work-orders/{order['id']}/checklist/{items[1]['id']}",
        json={"result": "reading", "value": 3.4, "note": "bar at the riser"},
    )
    assert ticked.status_code == 200
    assert ticked.json()["checklist"][1]["value"] == 3.4
    bad = client.post(
        f"/api/v1/work-orders/{order['id']}/checklist/{items[1]['id']}", json={"result": "reading"}
    )
    assert bad.status_code == 422
    put = client.put(
        f"/api/v1/sites/{site}",
        json={
            "name": "Green Garden",
            "supervisor": "Mr Zhou",
            "contacts": {"lift contractor": "400-000-0000"},
            "service_levels": {"P1": {"respond_s": 600, "resolve_s": 7200}},
        },
    )
    assert put.status_code == 200 and put.json()["service_levels"]["P1"]["respond_s"] == 600
    urgent = client.post("/api/v1/work-orders", json={**manual(site), "priority": "P1"}).json()
    created = datetime.fromisoformat(urgent["created_at"])
    assert datetime.fromisoformat(urgent["respond_by"]) - created == timedelta(minutes=10)


def test_an_alarm_over_mqtt_becomes_an_assigned_order(
    client: TestClient, broker: Broker, site: str
) -> None:
    tech = technician(client, site, "Wang Wei", ["plumbing"])
    with publisher(broker.url) as device:
        payload = {"ts": to_ms(datetime.now(UTC)), "metrics": {"leak_detected": True}}
        device.publish(f"facility/{site}/water/pump-1/telemetry", orjson.dumps(payload))
    wait_until(
        lambda: client.get("/api/v1/work-orders", params={"site": site}).json()["total"] == 1
    )
    order = client.get("/api/v1/work-orders", params={"site": site}).json()["items"][0]
    assert (order["source"], order["fault"], order["priority"]) == ("alarm", "leak", "P2")
    assert order["assignees"] == [tech] and order["status"] == "assigned"
    alarm = client.get("/api/v1/alarms", params={"site": site}).json()["items"][0]
    assert alarm["work_order_id"] == order["id"] and order["alarm_ids"] == [alarm["id"]]
    metrics = client.get("/metrics").text
    assert "facility_work_orders_open" in metrics


def test_a_manual_order_that_cuts_a_service_tells_the_residents(
    client: TestClient, site: str
) -> None:
    technician(client, site, "Li Na", ["plumbing"])
    start = datetime.now(UTC) + timedelta(days=1)
    body = {
        **manual(site),
        "building": "3",
        "notice": {
            "service": "water",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=3)).isoformat(),
        },
    }
    order = client.post("/api/v1/work-orders", json=body).json()
    (notice,) = client.get("/api/v1/notices", params={"site": site}).json()["items"]
    assert notice["work_order_id"] == order["id"] and notice["building"] == "3"
    assert "3栋" in notice["zh"]["body"] and "building 3" in notice["en"]["body"]
    client.post(f"/api/v1/work-orders/{order['id']}/transition", json={"to": "cancelled"})
    assert client.get("/api/v1/notices", params={"site": site}).json()["total"] == 0
