"""Contractors over HTTP: the register, lift work dispatched to the covering contractor with its
response time, refusal of an expired contract, and the safety manager's sign-off before a lift
order closes (SQLite and PostgreSQL, as the client fixture runs)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_work_orders_api import as_, technician, token

pytestmark = pytest.mark.broker

LICENCE = {"kind": "elevator", "number": "TS3101-0007", "expires_on": "2030-06-30"}


def contract(site: str, **extra: Any) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "name": "Shanghai Lift Care Co.",
        "phone_24h": "400-820-1234",
        "contract_start": (today - timedelta(days=30)).isoformat(),
        "contract_end": (today + timedelta(days=335)).isoformat(),
        "sites": [site],
        "kinds": ["elevator"],
        "response_minutes": 30,
        **extra,
    }


def lift_order(site: str, priority: str = "P3") -> dict[str, Any]:
    return {
        "site": site,
        "asset": "lift-2",
        "kind": "elevator",
        "title": "Lift 2 stops between floors",
        "priority": priority,
        "skill": "elevator",
        "channel": "phone",
        "checklist": ["Brake checked", "Doors re-levelled"],
    }


def walk_to_resolved(client: TestClient, order_id: int, headers: dict[str, str]) -> None:
    for step in ("acknowledged", "in_progress", "resolved"):
        moved = client.post(
            f"/api/v1/work-orders/{order_id}/transition", json={"to": step}, headers=headers
        )
        assert moved.status_code == 200, moved.text


def test_the_register_creates_edits_lists_and_refuses_bad_fields(
    client: TestClient, site: str
) -> None:
    tech = technician(client, site, "Zhao Lei", ["elevator"], certifications=[LICENCE])
    body = contract(site, technicians=[{"technician_id": tech, "licence": "WB-2201"}])
    created = client.post("/api/v1/contractors", json=body)
    assert created.status_code == 201, created.text
    made = created.json()
    assert made["technicians"] == [{"technician_id": tech, "licence": "WB-2201"}]
    assert client.post("/api/v1/contractors", json=body).status_code == 409  # name taken
    backwards = contract(site, name="B", contract_end="2020-01-01", contract_start="2021-01-01")
    refused = client.post("/api/v1/contractors", json=backwards)
    assert refused.status_code == 422 and "contract_end" in refused.text
    unknown = contract(site, name="C", technicians=[{"technician_id": 999999, "licence": "x"}])
    assert client.post("/api/v1/contractors", json=unknown).status_code == 404
    edited = client.patch(
        f"/api/v1/contractors/{made['id']}", json={"response_minutes": None, "active": False}
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["response_minutes"], edited.json()["active"]) == (None, False)
    assert edited.json()["technicians"] == made["technicians"]  # not given: kept
    listed = client.get("/api/v1/contractors", params={"site": site}).json()
    assert [c["name"] for c in listed["items"]] == ["Shanghai Lift Care Co."]
    viewer = as_(token(client, "viewer"))
    assert client.get(f"/api/v1/contractors/{made['id']}", headers=viewer).status_code == 200
    denied = client.post("/api/v1/contractors", json=contract(site, name="D"), headers=viewer)
    assert denied.status_code == 403 and "needs the planner role" in denied.json()["detail"]


def test_lift_work_goes_to_the_contractor_with_its_stricter_response_time(
    client: TestClient, site: str
) -> None:
    ours = technician(client, site, "Wang Wei", ["elevator"], certifications=[LICENCE])
    theirs = technician(client, site, "Zhao Lei", ["elevator"], certifications=[LICENCE])
    body = contract(site, technicians=[{"technician_id": theirs, "licence": "WB-2201"}])
    contractor = client.post("/api/v1/contractors", json=body).json()
    created = client.post("/api/v1/work-orders", json=lift_order(site))
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["contractor_id"] == contractor["id"]
    assert order["assignees"] == [theirs]  # the contractor's own technician, not Wang (id ours)
    assert ours != theirs
    created_at = datetime.fromisoformat(order["created_at"])
    respond_by = datetime.fromisoformat(order["respond_by"])
    assert respond_by - created_at == timedelta(minutes=30)  # P3's 4 h held to the contract's 30
    entry = next(e for e in order["timeline"] if e["event"] == "contractor")
    assert "Shanghai Lift Care Co." in entry["note"] and "400-820-1234" in entry["note"]
    plumbing = client.post(
        "/api/v1/work-orders",
        json={**lift_order(site), "asset": None, "kind": "water", "skill": "plumbing"},
    )
    assert plumbing.json()["contractor_id"] is None


def test_an_expired_contract_is_refused_with_its_reason(client: TestClient, site: str) -> None:
    technician(client, site, "Wang Wei", ["elevator"], certifications=[LICENCE])
    expired = contract(site, contract_start="2024-01-01", contract_end="2025-12-31")
    contractor = client.post("/api/v1/contractors", json=expired).json()
    order = client.post("/api/v1/work-orders", json=lift_order(site)).json()
    assert order["contractor_id"] is None
    refusal = next(e for e in order["timeline"] if e["event"] == "contractor_refused")
    assert "contract ended on 2025-12-31" in refusal["note"]
    by_hand = client.post(
        f"/api/v1/work-orders/{order['id']}/assign", json={"contractor_id": contractor["id"]}
    )
    assert by_hand.status_code == 409
    assert "contract ended on 2025-12-31" in by_hand.json()["detail"]
    wide = client.post(
        "/api/v1/contractors", json=contract(site, name="Citywide Lifts", sites=[])
    ).json()
    chosen = client.post(
        f"/api/v1/work-orders/{order['id']}/assign", json={"contractor_id": wide["id"]}
    )
    assert chosen.status_code == 200 and chosen.json()["contractor_id"] == wide["id"]
    water = client.post("/api/v1/contractors", json=contract(site, name="W", kinds=["water"]))
    refused = client.post(
        f"/api/v1/work-orders/{order['id']}/assign", json={"contractor_id": water.json()["id"]}
    )
    assert refused.status_code == 409 and "does not cover elevator work" in refused.text


def test_a_lift_order_closes_only_after_the_safety_managers_sign_off(
    client: TestClient, site: str
) -> None:
    tech = technician(client, site, "Zhao Lei", ["elevator"], certifications=[LICENCE])
    client.post(
        "/api/v1/contractors",
        json=contract(site, technicians=[{"technician_id": tech, "licence": "WB-2201"}]),
    )
    order = client.post("/api/v1/work-orders", json=lift_order(site)).json()
    assert order["sign_off_required"] is True and order["sign_off"] is None
    url = f"/api/v1/work-orders/{order['id']}"
    owner = as_(token(client, "technician", tech))
    planner = as_(token(client, "planner"))
    manager = as_(token(client, "planner", safety_manager=True))
    for item in order["checklist"]:
        ticked = client.post(
            f"{url}/checklist/{item['id']}", json={"result": "done"}, headers=owner
        )
        assert ticked.status_code == 200
    assert client.post(f"{url}/notes", json={"note": "brake pads worn"}, headers=owner).status_code
    early = client.post(f"{url}/sign-off", json={}, headers=manager)
    assert early.status_code == 409 and "signed off once resolved" in early.json()["detail"]
    walk_to_resolved(client, order["id"], owner)
    for who in (owner, planner, {}):  # the technician, a planner, the admin
        refused = client.post(f"{url}/transition", json={"to": "closed"}, headers=who)
        assert refused.status_code == 403, refused.text
        assert "closing a lift order needs the safety manager's sign-off" in refused.text
        assert "safety manager" in refused.json()["detail"]
    not_manager = client.post(f"{url}/sign-off", json={}, headers=planner)
    assert not_manager.status_code == 403 and "safety manager" in not_manager.json()["detail"]
    assert "closed" not in client.get(url).json()["allowed"]  # awaiting the sign-off
    signed = client.post(f"{url}/sign-off", json={"note": "checked on site"}, headers=manager)
    assert signed.status_code == 200, signed.text
    sign_off = signed.json()["sign_off"]
    assert signed.json()["allowed"] == ["closed"]  # the record is sealed: only closing is left
    assert sign_off["signer"] == "planner-user"
    record = sign_off["record"]
    assert record["technicians"] == [
        {"technician_id": tech, "certificates": ["TS3101-0007"], "contract_licence": "WB-2201"}
    ]
    assert [c["result"] for c in record["checklist"]] == ["done", "done"]
    assert [n["note"] for n in record["notes"] if n["event"] == "note"] == ["brake pads worn"]
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert sign_off["digest"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert any(e["event"] == "signed_off" for e in signed.json()["timeline"])
    item = order["checklist"][0]["id"]
    sealed = client.post(f"{url}/checklist/{item}", json={"result": "not_done"}, headers=owner)
    assert sealed.status_code == 409 and "cannot change" in sealed.json()["detail"]
    assert client.post(f"{url}/notes", json={"note": "later"}, headers=owner).status_code == 409
    again = client.post(f"{url}/sign-off", json={}, headers=manager)
    assert again.status_code == 409
    reopen = client.post(f"{url}/transition", json={"to": "in_progress"}, headers=planner)
    assert reopen.status_code == 409
    closed = client.post(f"{url}/transition", json={"to": "closed"}, headers=owner)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert client.get(url).json()["sign_off"]["digest"] == sign_off["digest"]


def test_other_work_needs_no_sign_off_and_cannot_be_signed(client: TestClient, site: str) -> None:
    technician(client, site, "Li Na", ["plumbing"])
    body = {**lift_order(site), "asset": None, "kind": "water", "skill": "plumbing"}
    order = client.post("/api/v1/work-orders", json=body).json()
    assert order["sign_off_required"] is False
    walk_to_resolved(client, order["id"], {})
    manager = as_(token(client, "technician", safety_manager=True))
    refused = client.post(f"/api/v1/work-orders/{order['id']}/sign-off", json={}, headers=manager)
    assert refused.status_code == 409 and "only lift and electrical" in refused.json()["detail"]
    closed = client.post(f"/api/v1/work-orders/{order['id']}/transition", json={"to": "closed"})
    assert closed.status_code == 200


def test_a_safety_manager_token_says_so(client: TestClient) -> None:
    made = client.post(
        "/api/v1/tokens", json={"name": "wang", "role": "planner", "safety_manager": True}
    )
    assert made.status_code == 201 and made.json()["safety_manager"] is True
    plain = client.post("/api/v1/tokens", json={"name": "li", "role": "admin"}).json()
    assert plain["safety_manager"] is False
    listed = {t["name"]: t["safety_manager"] for t in client.get("/api/v1/tokens").json()["items"]}
    assert listed["wang"] is True and listed["li"] is False
