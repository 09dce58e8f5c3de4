"""Shifts and absences edited and cancelled through the API: what has ended is history (409),
and an absence cancelled leaves the orders it moved with their substitutes, saying so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.api.test_work_orders_api import manual, technician


def test_an_ended_shift_is_kept_and_a_coming_one_is_edited_then_cancelled(
    client: TestClient, site: str
) -> None:
    li = technician(client, site, "Li Na", ["plumbing"])
    now = datetime.now(UTC)
    span = {"technician_id": li, "on_call": False}
    past = {**span, "starts_at": (now - timedelta(hours=9)).isoformat()}
    past["ends_at"] = (now - timedelta(hours=1)).isoformat()
    ended = client.post("/api/v1/shifts", json=past).json()
    edit = {**span, "starts_at": (now - timedelta(hours=9)).isoformat(), "ends_at": now.isoformat()}
    refused = client.put(f"/api/v1/shifts/{ended['id']}", json=edit)
    assert refused.status_code == 409 and "has ended" in refused.json()["detail"]
    assert client.delete(f"/api/v1/shifts/{ended['id']}").status_code == 409

    soon = {**span, "starts_at": (now + timedelta(days=1)).isoformat()}
    soon["ends_at"] = (now + timedelta(days=1, hours=8)).isoformat()
    coming = client.post("/api/v1/shifts", json=soon).json()
    later = {**soon, "ends_at": (now + timedelta(days=1, hours=10)).isoformat(), "on_call": True}
    changed = client.put(f"/api/v1/shifts/{coming['id']}", json=later)
    assert changed.status_code == 200, changed.text
    assert changed.json()["on_call"] is True
    backwards = {**later, "ends_at": soon["starts_at"]}
    assert client.put(f"/api/v1/shifts/{coming['id']}", json=backwards).status_code == 422
    assert client.delete(f"/api/v1/shifts/{coming['id']}").status_code == 200
    listed = client.get("/api/v1/shifts", params={"technician_id": li}).json()["items"]
    assert ended["id"] in {s["id"] for s in listed}
    assert coming["id"] not in {s["id"] for s in listed}
    assert client.delete(f"/api/v1/shifts/{coming['id']}").status_code == 404


def test_an_absence_cancelled_leaves_its_moved_orders_with_the_substitute(
    client: TestClient, site: str
) -> None:
    li = technician(client, site, "Li Na", ["plumbing"])
    order = client.post("/api/v1/work-orders", json=manual(site)).json()
    assert order["assignees"] == [li]
    wang = technician(client, site, "Wang Wei", ["plumbing"])
    now = datetime.now(UTC)
    away = {
        "technician_id": li,
        "starts_at": (now - timedelta(minutes=5)).isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(),
        "reason": "sick",
    }
    absence = client.post("/api/v1/absences", json=away).json()
    assert absence["reassigned"] == 1
    edited = client.put(f"/api/v1/absences/{absence['id']}", json={**away, "reason": "flu"})
    assert edited.status_code == 200 and edited.json()["reason"] == "flu"

    cancelled = client.delete(f"/api/v1/absences/{absence['id']}")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["orders_stay"] is True
    assert "stay with them" in cancelled.json()["note"]
    assert client.get(f"/api/v1/work-orders/{order['id']}").json()["assignees"] == [wang]
    assert absence["id"] not in {a["id"] for a in client.get("/api/v1/absences").json()["items"]}

    past = {**away, "starts_at": (now - timedelta(days=2)).isoformat()}
    past["ends_at"] = (now - timedelta(days=1)).isoformat()
    over = client.post("/api/v1/absences", json=past).json()
    assert client.delete(f"/api/v1/absences/{over['id']}").status_code == 409
    assert client.put(f"/api/v1/absences/{over['id']}", json=past).status_code == 409
