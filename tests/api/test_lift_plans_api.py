"""Lift plans by level over HTTP: the year's levels of each lift, and moving a slot (409 when
it would overlap another lift of the building)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_work_orders_api import technician


def lift_plan(client: TestClient, site: str, asset: str, starts_at: datetime) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/maintenance-plans",
        json={
            "name": f"电梯维保 Lift maintenance {asset}",
            "site": site,
            "asset": asset,
            "every": "15d",
            "levels": "tsg-t5002",
            "starts_at": starts_at.isoformat(),
            "lead_time": "3d",
            "skill": "elevator",
            "interrupts": "elevator",
            "duration": "2h",
        },
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_the_years_levels_and_a_slot_moved_or_refused(client: TestClient, site: str) -> None:
    technician(client, site, "Wang Wei", ["elevator"])
    for asset in ("lift-1", "lift-2"):
        made = client.post(
            "/api/v1/assets",
            json={"site": site, "asset": asset, "kind": "elevator", "building": "3"},
        )
        assert made.status_code in (200, 201), made.text
    starts = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    one = lift_plan(client, site, "lift-1", starts)
    two = lift_plan(client, site, "lift-2", starts)
    assert one["levels"] == "tsg-t5002"
    first, second = one["occurrences"][0], two["occurrences"][0]
    assert (first["level"], first["building"]) == ("yearly", "3")
    assert second["due_at"] == first["ends_at"]  # lift-2 after lift-1: one building

    year = client.get(f"/api/v1/maintenance-plans/{one['id']}/forecast", params={"days": 364})
    assert year.status_code == 200, year.text
    levels = Counter(v["level"] for v in year.json()["items"])
    assert levels == {"half-monthly": 20, "quarterly": 2, "half-yearly": 1, "yearly": 2}

    url = f"/api/v1/maintenance-plans/{two['id']}/occurrences/{second['id']}/move"
    clash = client.post(url, json={"starts_at": first["due_at"]})
    assert clash.status_code == 409, clash.text
    assert "lift-1 is out of service" in clash.json()["detail"]
    later = datetime.fromisoformat(first["due_at"]) + timedelta(days=1)
    moved = client.post(url, json={"starts_at": later.isoformat()})
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["due_at"]) == later
    order = client.get(f"/api/v1/work-orders/{second['work_order_id']}").json()
    assert datetime.fromisoformat(order["due_at"]) == later
    wrong = client.post(url, json={"starts_at": "9999-01-01T00:00:00Z"})
    assert wrong.status_code == 422
    elsewhere = client.post(
        f"/api/v1/maintenance-plans/{one['id']}/occurrences/{second['id']}/move",
        json={"starts_at": later.isoformat()},
    )
    assert elsewhere.status_code == 404
