"""The planner's side over HTTP: plans, planned works silencing their asset, notices, parts,
KPIs and the incident review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from facility_dispatch.kernel.clock import to_ms
from tests.api.test_work_orders_api import technician
from tests.builders import publisher, wait_until
from tests.services import Broker

pytestmark = pytest.mark.broker


def reading(site: str, kind: str, asset: str, **metrics: Any) -> tuple[str, bytes]:
    payload = {"ts": to_ms(datetime.now(UTC)), "metrics": metrics}
    return f"facility/{site}/{kind}/{asset}/telemetry", orjson.dumps(payload)


def move(client: TestClient, order_id: int, *steps: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for step in steps:
        answer = client.post(f"/api/v1/work-orders/{order_id}/transition", json={"to": step})
        assert answer.status_code == 200, answer.text
        body = answer.json()
    return body


def test_planned_works_silence_the_asset_while_in_progress(
    client: TestClient, broker: Broker, site: str
) -> None:
    technician(client, site, "Li Na", ["plumbing"])
    with publisher(broker.url) as device:
        device.publish(*reading(site, "water", "pump-1", pressure_bar=3.2))
        wait_until(lambda: client.get(f"/api/v1/assets/{site}/pump-1").status_code == 200)
        plan = client.post(
            "/api/v1/maintenance-plans",
            json={
                "name": "水箱清洗 Tank cleaning",
                "site": site,
                "asset": "pump-1",
                "every": "6mo",
                "starts_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
                "lead_time": "1d",
                "skill": "plumbing",
                "template": "water-tank-cleaning",
                "interrupts": "water",
                "duration": "4h",
            },
        )
        assert plan.status_code == 201, plan.text
        detail = plan.json()
        assert detail["kind"] == "water" and detail["occurrences"][0]["status"] == "generated"
        order_id = detail["occurrences"][0]["work_order_id"]
        order = client.get(f"/api/v1/work-orders/{order_id}").json()
        assert order["source"] == "preventive" and len(order["checklist"]) == 8
        notices = client.get("/api/v1/notices", params={"site": site}).json()["items"]
        assert notices[0]["zh"]["title"] == "停水通知" and notices[0]["work_order_id"] == order_id

        move(client, order_id, "acknowledged", "in_progress")
        assert client.get(f"/api/v1/assets/{site}/pump-1").json()["status"] == "maintenance"
        device.publish(*reading(site, "water", "pump-1", leak_detected=True))  # the tank is drained
        wait_until(lambda: client.get("/api/v1/alarms", params={"site": site}).json()["total"] == 1)
        alarm = client.get("/api/v1/alarms", params={"site": site}).json()["items"][0]
        assert alarm["silenced"] is True and alarm["work_order_id"] is None  # no ticket for it
        move(client, order_id, "resolved")
        wait_until(
            lambda: client.get(f"/api/v1/assets/{site}/pump-1").json()["status"] != "maintenance"
        )
        # the works are over and the sensor is still wet: now it is dispatched
        wait_until(
            lambda: client.get(f"/api/v1/alarms/{alarm['id']}").json()["work_order_id"] is not None,
            30,
        )


def test_parts_on_an_order_and_the_kpis(client: TestClient, site: str) -> None:
    technician(client, site, "Li Na", ["plumbing"])
    part = client.post(
        "/api/v1/parts",
        json={
            "sku": f"SEAL-{site}",
            "name": "Mechanical seal",
            "unit_cost": 85,
            "stock": [{"site": site, "on_hand": 2, "reorder_point": 1}],
        },
    ).json()
    order = client.post(
        "/api/v1/work-orders",
        json={
            "site": site,
            "title": "Pump seal leaking",
            "skill": "plumbing",
            "channel": "walk_round",
        },
    ).json()
    used = client.post(
        f"/api/v1/work-orders/{order['id']}/parts",
        json={"part_id": part["id"], "action": "consume", "quantity": 2},
    )
    assert used.status_code == 200 and used.json()["items"][0]["cost"] == 170
    refused = client.post(
        f"/api/v1/work-orders/{order['id']}/parts",
        json={"part_id": part["id"], "action": "consume", "quantity": 1},
    )
    assert refused.status_code == 409 and "0 pcs free" in refused.json()["detail"]
    low = client.get("/api/v1/parts", params={"site": site, "low": True}).json()
    assert [p["sku"] for p in low["items"]] == [f"SEAL-{site}"]
    assert client.get(f"/api/v1/work-orders/{order['id']}").json()["cost"] == 170
    move(client, order["id"], "acknowledged", "in_progress", "resolved")
    kpis = client.get("/api/v1/kpis", params={"site": site}).json()
    assert kpis["orders"] == 1 and kpis["mtta_s"] is not None and kpis["mttr_s"] is not None
    assert kpis["sla"]["P3"]["response_kept"] == 1
    assert (
        client.get(
            "/api/v1/kpis", params={"start": "2026-12-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
        ).status_code
        == 422
    )


def test_incident_review_of_an_entrapment(client: TestClient, broker: Broker, site: str) -> None:
    technician(
        client,
        site,
        "Wang Wei",
        ["elevator"],
        certifications=[{"kind": "elevator", "number": "TS-1", "expires_on": "2030-01-01"}],
    )
    with publisher(broker.url) as device:
        now = datetime.now(UTC)
        for second in (0, 11):
            device.publish(
                *(
                    f"facility/{site}/elevator/lift-1/telemetry",
                    orjson.dumps(
                        {
                            "ts": to_ms(now) - 20_000 + second * 1000,
                            "metrics": {
                                "alarm_button": True,
                                "moving": False,
                                "door_state": "closed",
                                "car_floor": 7,
                            },
                        }
                    ),
                )
            )
        wait_until(
            lambda: client.get("/api/v1/work-orders", params={"site": site}).json()["total"] == 1
        )
    order = client.get("/api/v1/work-orders", params={"site": site}).json()["items"][0]
    assert order["priority"] == "P1" and order["fault"] == "entrapment"
    # the residents' notice follows the order (written once the order has committed)
    wait_until(lambda: client.get("/api/v1/notices", params={"site": site}).json()["items"])
    notices = client.get("/api/v1/notices", params={"site": site}).json()["items"]
    assert notices[0]["planned"] is False and notices[0]["ends_at"] is None  # lift out, no end yet
    assert (
        client.get(f"/api/v1/work-orders/{order['id']}/review").status_code == 409
    )  # not finished
    move(client, order["id"], "acknowledged", "in_progress")
    detail = client.get(f"/api/v1/work-orders/{order['id']}").json()
    for key in ("arrival", "release"):
        item = next(i for i in detail["checklist"] if i["key"] == key)
        assert (
            client.post(
                f"/api/v1/work-orders/{order['id']}/checklist/{item['id']}", json={"result": "done"}
            ).status_code
            == 200
        )
    move(client, order["id"], "resolved")
    review = client.get(f"/api/v1/work-orders/{order['id']}/review").json()
    assert review["work_order"]["playbook"].startswith("Passenger trapped")
    assert review["key_times"]["arrived"] and review["key_times"]["released"]
    assert review["durations_s"]["to_arrive"] is not None
    assert review["targets"][0]["met"] is True  # arrived within the 30 minutes
    assert {e["source"] for e in review["events"]} == {"alarm", "order", "checklist"}
    assert "alarm_button" in review["readings"]
    page = client.get(f"/api/v1/work-orders/{order['id']}/review.html")
    assert page.status_code == 200 and order["number"] in page.text and "复盘" in page.text
    ended = client.get("/api/v1/notices", params={"site": site, "current": False}).json()["items"][
        0
    ]
    assert ended["ends_at"] is not None  # the lift is back: the notice has its end
