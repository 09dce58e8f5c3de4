"""The OpenAPI document tells the truth about refusals: each error the service really sends
is documented for its operation, with a schema its body matches."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from httpx import Response
from schemathesis import BaseSchema

pytestmark = pytest.mark.broker


def conforms(
    schema: BaseSchema, document: dict[str, Any], method: str, path: str, answer: Response
) -> None:
    documented = document["paths"][path][method.lower()]["responses"]
    assert str(answer.status_code) in documented, (method, path, answer.status_code)
    schema[path][method].validate_response(answer)  # raises naming what does not match


def test_every_operation_documents_its_refusals(client: TestClient) -> None:
    document: dict[str, Any] = client.get("/openapi.json").json()
    validation = document["components"]["schemas"]["HTTPValidationError"]["properties"]
    assert {s.get("type") for s in validation["detail"]["anyOf"]} == {"array", "string"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "413" in responses, (method, path)
            if operation.get("security"):
                assert {"401", "403"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if operation.get("parameters") or "requestBody" in operation:
                assert "422" in responses, (method, path)
    transition = document["paths"]["/api/v1/work-orders/{order_id}/transition"]["post"]
    conflict = transition["responses"]["409"]["content"]["application/json"]["schema"]
    assert conflict == {"$ref": "#/components/schemas/Conflict"}


def test_the_errors_sent_match_the_document(client: TestClient, site: str) -> None:
    order = client.post(
        "/api/v1/work-orders",
        json={"site": site, "title": "Door sticks", "channel": "phone", "skill": "general"},
    )
    assert order.status_code == 201, order.text
    transition = "/api/v1/work-orders/{order_id}/transition"
    illegal_step = f"/api/v1/work-orders/{order.json()['id']}/transition"
    viewer = client.post("/api/v1/tokens", json={"name": "v", "role": "viewer"}).json()["token"]
    json_body = {"Content-Type": "application/json"}
    cases = [
        ("GET", "/api/v1/alarms", 401, client.get("/api/v1/alarms", headers={"Authorization": ""})),
        (
            "POST",
            "/api/v1/assets",
            403,
            client.post(
                "/api/v1/assets",
                json={"site": site, "asset": "a", "kind": "water"},
                headers={"Authorization": f"Bearer {viewer}"},
            ),
        ),
        ("GET", "/api/v1/alarms/{alarm_id}", 404, client.get("/api/v1/alarms/999")),
        (
            "POST",
            transition,
            409,
            client.post(illegal_step, json={"to": "closed"}),
        ),
        (
            "POST",
            "/api/v1/assets",
            413,
            client.post("/api/v1/assets", content=b"x" * 2_000_000, headers=json_body),
        ),
        (
            "POST",
            "/api/v1/assets",
            400,
            client.post("/api/v1/assets", content=b'{"site": "\xff"}', headers=json_body),
        ),
        ("GET", "/api/v1/assets", 422, client.get("/api/v1/assets", params={"limit": 0})),
        (
            "GET",
            "/api/v1/kpis",
            422,
            client.get(
                "/api/v1/kpis",
                params={"start": "2026-11-29T00:00:00Z", "end": "2026-11-28T00:00:00Z"},
            ),
        ),
    ]
    document = client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)  # from_asgi would run the app's lifespan
    for method, path, status, answer in cases:
        assert answer.status_code == status, (method, path, answer.status_code, answer.text[:200])
        conforms(schema, document, method, path, answer)
    illegal = cases[3][3].json()["detail"]
    assert illegal["current"] == "assigned" or illegal["current"] == "open"
    assert "cancelled" in illegal["allowed"]
    assert isinstance(cases[-1][3].json()["detail"], str)  # a sentence, as documented
