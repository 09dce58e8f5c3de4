"""Every endpoint that changes something refuses the role just below the one it needs, and
every endpoint but health refuses a request without a token."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.api.test_work_orders_api import as_, token

pytestmark = pytest.mark.broker

# (method, path) -> the least role that may call it
NEEDS = {
    ("POST", "/api/v1/assets"): "planner",
    ("POST", "/api/v1/alarms/{alarm_id}/ack"): "technician",
    ("POST", "/api/v1/silences"): "planner",
    ("DELETE", "/api/v1/silences/{silence_id}"): "planner",
    ("POST", "/api/v1/work-orders"): "technician",
    ("POST", "/api/v1/work-orders/{order_id}/transition"): "technician",
    ("POST", "/api/v1/work-orders/{order_id}/assign"): "planner",
    ("POST", "/api/v1/work-orders/{order_id}/checklist/{item_id}"): "technician",
    ("POST", "/api/v1/work-orders/{order_id}/notes"): "technician",
    ("POST", "/api/v1/work-orders/{order_id}/parts"): "technician",
    ("POST", "/api/v1/technicians"): "planner",
    ("PUT", "/api/v1/technicians/{technician_id}"): "planner",
    ("POST", "/api/v1/shifts"): "planner",
    ("POST", "/api/v1/absences"): "planner",
    ("PUT", "/api/v1/sites/{site}"): "planner",
    ("POST", "/api/v1/maintenance-plans"): "planner",
    ("DELETE", "/api/v1/maintenance-plans/{plan_id}"): "planner",
    ("POST", "/api/v1/parts"): "planner",
    ("POST", "/api/v1/parts/{part_id}/stock"): "technician",
    ("POST", "/api/v1/notices"): "planner",
    ("POST", "/api/v1/tokens"): "admin",
    ("GET", "/api/v1/tokens"): "admin",
    ("DELETE", "/api/v1/tokens/{token_id}"): "admin",
}
BELOW = {"technician": "viewer", "planner": "technician", "admin": "planner"}
OPEN = {"/api/v1/health", "/api/v1/health/live", "/api/v1/health/ready"}


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if path.startswith("/api/") or path == "/metrics"
        for method in operations
    ]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_changing_endpoint_has_a_known_role(client: TestClient) -> None:
    changing = {(m, p) for m, p in api_routes(client) if m != "GET"}
    assert changing <= set(NEEDS), f"add these to NEEDS: {changing - set(NEEDS)}"


def test_the_role_just_below_is_refused(client: TestClient) -> None:
    secrets = {role: as_(token(client, role)) for role in ("viewer", "technician", "planner")}
    for (method, path), role in NEEDS.items():
        answer = client.request(method, concrete(path), headers=secrets[BELOW[role]], json={})
        assert answer.status_code == 403, (method, path, answer.status_code, answer.text)
        assert f"needs the {role} role" in answer.json()["detail"]


def test_nothing_but_health_answers_without_a_token(client: TestClient) -> None:
    for method, path in api_routes(client):
        if path in OPEN:
            continue
        answer = client.request(method, concrete(path), headers={"Authorization": ""}, json={})
        assert answer.status_code == 401, (method, path, answer.status_code)


def test_a_change_made_with_the_login_cookie_must_come_from_our_pages(client: TestClient) -> None:
    from tests.builders import ADMIN_TOKEN

    cookie_only = {"Authorization": "", "Cookie": f"facility_token={ADMIN_TOKEN}"}
    body = {"name": "x", "role": "viewer"}
    assert client.get("/api/v1/alarms", headers=cookie_only).status_code == 200  # reading is fine
    forged = client.post(
        "/api/v1/tokens", json=body, headers={**cookie_only, "Origin": "https://evil.example"}
    )
    assert forged.status_code == 403 and "this site's pages" in forged.json()["detail"]
    assert (
        client.post("/api/v1/tokens", json=body, headers=cookie_only).status_code == 403
    )  # no origin
    own = client.post(
        "/api/v1/tokens", json=body, headers={**cookie_only, "Origin": "http://testserver"}
    )
    assert own.status_code == 201
    assert (
        client.post("/api/v1/tokens", json=body).status_code == 201
    )  # a bearer token: no cookie, no check
