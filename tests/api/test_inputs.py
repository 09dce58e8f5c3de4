"""Strict inputs: times are RFC 3339 with an offset (query and body), names are the topic
tree's, quantities are finite and bounded, ids fit the database. Each refusal is followed by
the good request, which works."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.broker

NOT_TIMES = ["0.5", "1700000000", "20261129T060000Z", "2026-W48-1", "2026-11-29T06:00:00", "now"]
TIMES = ["2026-11-29T06:00:00Z", "2026-11-29T14:00:00+08:00", "2026-11-29T06:00:00.123456789Z"]


def test_query_times_are_rfc3339_with_an_offset(client: TestClient, site: str) -> None:
    assert client.post(
        "/api/v1/assets", json={"site": site, "asset": "pump-1", "kind": "water"}
    ).is_success
    routes = [
        ("/api/v1/kpis", {}),
        ("/api/v1/shifts", {}),
        (f"/api/v1/assets/{site}/pump-1/telemetry", {"metric": "pressure_bar"}),
    ]
    for path, params in routes:
        for bad in NOT_TIMES:
            answer = client.get(path, params={**params, "start": bad})
            assert answer.status_code == 422, (path, bad, answer.text[:200])
            assert "RFC 3339" in answer.text, (path, bad)
        for good in TIMES:
            answer = client.get(path, params={**params, "start": good})
            assert answer.status_code == 200, (path, good, answer.text[:300])
    kpis = client.get("/api/v1/kpis", params={"start": "2026-11-29T14:00:00+08:00"}).json()
    assert kpis["start"].startswith("2026-11-29T06:00:00")


def test_body_times_are_rfc3339_strings_with_an_offset(client: TestClient, site: str) -> None:
    silence = {"site": site, "duration": "2h", "reason": "planned works"}
    for bad in [0.5, 1_700_000_000, *NOT_TIMES]:
        answer = client.post("/api/v1/silences", json={**silence, "starts_at": bad})
        assert answer.status_code == 422, (bad, answer.text[:200])
        answer = client.post(
            "/api/v1/tokens", json={"name": "t", "role": "viewer", "expires_at": bad}
        )
        assert answer.status_code == 422, (bad, answer.text[:200])
    created = client.post(
        "/api/v1/silences", json={**silence, "starts_at": "2030-01-01T08:00:00+08:00"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["starts_at"].startswith("2030-01-01T00:00:00")
    token = {"name": "t", "role": "viewer", "expires_at": "2030-01-01T00:00:00Z"}
    assert client.post("/api/v1/tokens", json=token).status_code == 201


@pytest.mark.parametrize(
    "asset",
    ["../../etc/passwd", "a\x00b", "+#", "x" * 5000, "a" * 65, "-lead", "with space", ""],
)
def test_register_asset_refuses_names_the_spec_forbids(
    client: TestClient, site: str, asset: str
) -> None:
    answer = client.post("/api/v1/assets", json={"site": site, "asset": asset, "kind": "water"})
    assert answer.status_code == 422, answer.text[:200]
    assert client.get("/api/v1/assets", params={"site": site}).json()["total"] == 0
    good = client.post(
        "/api/v1/assets", json={"site": site, "asset": "Lift_3.B-2", "kind": "water"}
    )
    assert good.status_code == 201, good.text


def test_register_asset_refuses_bad_sites_and_kinds(client: TestClient, site: str) -> None:
    for body in (
        {"site": "../x", "asset": "a", "kind": "water"},
        {"site": "Site", "asset": "a", "kind": "water"},
        {"site": "s" * 65, "asset": "a", "kind": "water"},
        {"site": site, "asset": "a", "kind": "lift"},
        {"site": site, "asset": "a", "kind": "WATER"},
    ):
        assert client.post("/api/v1/assets", json=body).status_code == 422, body
    assert client.post(
        "/api/v1/assets", json={"site": site, "asset": "a", "kind": "cctv"}
    ).is_success


def test_asset_paths_that_cannot_be_names_are_refused(client: TestClient, site: str) -> None:
    assert client.post(
        "/api/v1/assets", json={"site": site, "asset": "pump-1", "kind": "water"}
    ).is_success
    for path in (
        f"/api/v1/assets/{site}/a+b",
        f"/api/v1/assets/{site}/-x",
        f"/api/v1/assets/{site}/{'a' * 65}",
        "/api/v1/assets/Site/pump-1",
        f"/api/v1/assets/{site}/a%00b/telemetry?metric=m",
    ):
        assert client.get(path).status_code == 422, path
    assert client.get(f"/api/v1/assets/{site}/pump-9").status_code == 404  # a name, unknown
    assert client.get(f"/api/v1/assets/{site}/pump-1").status_code == 200


def test_part_quantities_are_finite_and_bounded(client: TestClient, site: str) -> None:
    part = {"sku": "SEAL-50", "name": "Pump seal", "stock": [{"site": site, "on_hand": 2}]}
    created = client.post("/api/v1/parts", json=part)
    assert created.status_code == 201
    part_id = created.json()["id"]
    for bad in ("1e309", "-1e309", "NaN", "Infinity", "0", "-1", "1000001", "1e300"):
        body = f'{{"site": "{site}", "quantity": {bad}}}'
        headers = {"Content-Type": "application/json"}
        answer = client.post(f"/api/v1/parts/{part_id}/stock", content=body, headers=headers)
        assert answer.status_code == 422, (bad, answer.text[:200])
    for bad_stock in ("1e309", "NaN", "-0.5", "2e6"):
        stock = f'[{{"site": "{site}", "on_hand": {bad_stock}}}]'
        body = f'{{"sku": "X", "name": "x", "stock": {stock}}}'
        answer = client.post("/api/v1/parts", content=body, headers=headers)
        assert answer.status_code == 422, (bad_stock, answer.text[:200])
    for _ in range(3):
        delivered = client.post(
            f"/api/v1/parts/{part_id}/stock", json={"site": site, "quantity": 1_000_000}
        )
        assert delivered.status_code == 200, delivered.text
    assert client.get(f"/api/v1/parts/{part_id}").json()["stock"] == 3_000_002


def test_ids_and_numbers_in_queries_fit_the_database(client: TestClient) -> None:
    for path, params in (
        ("/api/v1/work-orders", {"assignee": 2**31}),
        ("/api/v1/shifts", {"technician_id": 2**63}),
        ("/api/v1/assets", {"offset": 10**10}),
        ("/api/v1/alarms", {"limit": 10**4}),
    ):
        assert client.get(path, params=params).status_code == 422, (path, params)
    assert client.get("/api/v1/work-orders/2147483648").status_code == 422
    assert client.get("/api/v1/work-orders", params={"assignee": 2**31 - 1}).status_code == 200


@pytest.mark.parametrize("written", ["%0C1", "%201", "1%20", "1_0", "%D9%A1", "+1"])
def test_an_id_in_a_path_is_digits_only(client: TestClient, written: str) -> None:
    """schemathesis found GET /parts/%0C4 answering part 4: one resource, many addresses."""
    answer = client.get(f"/api/v1/work-orders/{written}")
    assert answer.status_code == 422, answer.text
    assert "digits" in answer.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/parts", {"sku": "S-1", "name": "Seal", "unit_cost": False}, "unit_cost"),
        ("/api/v1/parts", {"sku": "S-1", "name": "Seal", "unit_cost": "1.5"}, "unit_cost"),
        ("/api/v1/parts", {"sku": "S-1", "name": "Seal", "unit_cost": True}, "unit_cost"),
    ],
)
def test_json_types_are_taken_as_documented(
    client: TestClient, path: str, body: dict[str, object], field: str
) -> None:
    """pydantic's lax mode took true for a number and 1 for a boolean; the document says no."""
    answer = client.post(path, json=body)
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    good = client.post("/api/v1/parts", json={"sku": "S-2", "name": "Seal", "unit_cost": 2})
    assert good.status_code == 201 and good.json()["unit_cost"] == 2.0
