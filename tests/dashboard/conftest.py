"""A running service with a small estate in it, and browsers-without-a-browser to look at it.

One service per test module (building one takes a second; the page tests only read): a site,
two plumbers on shift, readings over MQTT (a leak among them, so an alarm and its order), a
manual order for each plumber, a preventive plan, parts (one under its reorder point), and a
token per role.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from facility_dispatch.api.app import create_app
from facility_dispatch.service import build_service
from tests.builders import ADMIN_TOKEN, make_settings, publisher, wait_until
from tests.services import Broker

ORIGIN = "http://testserver"
"""What a browser sends as ``Origin`` from the TestClient's pages."""


@dataclass
class Estate:
    app: FastAPI
    admin: TestClient
    site: str
    tokens: dict[str, str] = field(default_factory=dict)
    technicians: dict[str, int] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    alarm_id: int = 0

    def browser(self, token: str | None = None, **headers: str) -> TestClient:
        """A client that behaves like a browser: no bearer header, our pages' Origin on what
        it sends, logged in with ``token`` if given (the cookie holds the session the login
        opened; a token the login refuses is put in the cookie as is, as a forged or stale
        cookie would be), redirects not followed (so tests see them). It shares the running
        service."""
        client = TestClient(self.app, follow_redirects=False, headers={"Origin": ORIGIN, **headers})
        if token is not None:
            answer = client.post("/login", data={"token": token})
            if answer.status_code != 303:
                client.cookies.set("facility_token", token)
        return client

    def as_role(self, role: str, **headers: str) -> TestClient:
        return self.browser(self.tokens[role], **headers)


def _post(client: TestClient, path: str, body: dict[str, Any], expected: int = 201) -> Any:
    answer = client.post(path, json=body)
    assert answer.status_code == expected, answer.text
    return answer.json()


def _technician(client: TestClient, site: str, name: str) -> int:
    created = _post(
        client,
        "/api/v1/technicians",
        {
            "name": name,
            "skills": ["plumbing"],
            "seniority": "senior",
            "sites": [site],
            "phone": "139 0000 0000",
        },
    )
    now = datetime.now(UTC)
    shift = {
        "technician_id": created["id"],
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=8)).isoformat(),
    }
    _post(client, "/api/v1/shifts", shift)
    return int(created["id"])


def _order(client: TestClient, site: str, title: str, technician: int) -> dict[str, Any]:
    body = {"site": site, "title": title, "priority": "P3", "skill": "plumbing", "channel": "phone"}
    order = _post(client, "/api/v1/work-orders", body)
    assigned = _post(
        client, f"/api/v1/work-orders/{order['id']}/assign", {"technician_ids": [technician]}, 200
    )
    assert assigned["assignees"] == [technician]
    return dict(assigned)


def _seed(estate: Estate, broker: Broker) -> None:
    admin, site = estate.admin, estate.site
    answer = admin.put(
        f"/api/v1/sites/{site}",
        json={"name": "Green Garden", "timezone": "Asia/Shanghai", "locale": "en"},
    )
    assert answer.status_code == 200, answer.text
    estate.technicians = {
        "li": _technician(admin, site, "Li Na"),
        "wang": _technician(admin, site, "Wang Wei"),
    }
    estate.orders["li"] = _order(admin, site, "Tap dripping in 3-1202", estate.technicians["li"])
    estate.orders["wang"] = _order(admin, site, "Drain blocked at B2", estate.technicians["wang"])
    for role, technician in (("viewer", None), ("li", "li"), ("wang", "wang"), ("planner", None)):
        body = {
            "name": f"{role}-user",
            "role": role if technician is None else "technician",
            "technician_id": estate.technicians[technician] if technician else None,
        }
        estate.tokens[role] = _post(admin, "/api/v1/tokens", body)["token"]
    estate.tokens["admin"] = ADMIN_TOKEN
    with publisher(broker.url) as device:
        for kind, asset, metrics in (
            ("water", "pump-1", {"pressure_bar": 3.2, "leak_detected": False}),
            ("elevator", "lift-1", {"car_floor": 3, "door_state": "closed", "speed_mps": 0.0}),
            ("water", "tank-2", {"tank_level_pct": 71.5, "leak_detected": True}),
        ):
            topic = f"facility/{site}/{kind}/{asset}/telemetry"
            device.publish(topic, orjson.dumps({"metrics": metrics}))

    def leak_alarm() -> bool:
        items = admin.get("/api/v1/alarms", params={"site": site}).json()["items"]
        return any(a["fault"] == "leak" and a["work_order_id"] for a in items)

    wait_until(leak_alarm, timeout=15)
    alarm = admin.get("/api/v1/alarms", params={"site": site, "fault": "leak"}).json()["items"][0]
    estate.alarm_id = alarm["id"]
    estate.orders["leak"] = admin.get(f"/api/v1/work-orders/{alarm['work_order_id']}").json()
    wait_until(lambda: admin.get("/api/v1/assets", params={"site": site}).json()["total"] == 3)
    _post(
        admin,
        "/api/v1/maintenance-plans",
        {
            "name": "Tank cleaning",
            "site": site,
            "kind": "water",
            "every": "15d",
            "starts_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            "skill": "plumbing",
        },
    )
    for sku, name, on_hand in (("SEAL-50", "Pump seal 50 mm", 1), ("VALVE-25", "Valve 25 mm", 9)):
        stock = [{"site": site, "on_hand": on_hand, "reorder_point": 2}]
        _post(admin, "/api/v1/parts", {"sku": sku, "name": name, "stock": stock})


@pytest.fixture(scope="module")
def estate(broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    site = f"dash-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path_factory.mktemp("dashboard"), broker.url, sites=[site])
    app = create_app(build_service(settings))
    with TestClient(app) as admin:
        admin.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        assert app.state.service.mqtt.wait_connected(10)
        estate = Estate(app, admin, site)
        _seed(estate, broker)
        yield estate


def actions_of_cards(html: str) -> dict[int, list[str]]:
    """Work-order id -> the lifecycle steps its card offers (``data-to`` of its buttons)."""
    card = r'<article class="card[^"]*" data-order-id="(\d+)"(.*?)</article>'
    cards = re.findall(card, html, re.S)
    return {int(order): re.findall(r'data-to="([a-z_]+)"', body) for order, body in cards}
