"""Collection pages have a size in bytes as well as a limit: a page stops adding items at the
budget (always one item), says where the next starts, and paging on finds every item once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facility_dispatch.api.app import create_app
from facility_dispatch.service import build_service
from tests.builders import ADMIN_TOKEN, make_settings
from tests.services import Broker

pytestmark = pytest.mark.broker
BUDGET = 4096


@pytest.fixture
def client(broker: Broker, tmp_path: Path, site: str, database_url: str) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path, broker.url, database_url, sites=[site], max_page_bytes=BUDGET
    )
    with TestClient(create_app(build_service(settings))) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client


def all_pages(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        answer = client.get(path, params={**params, "offset": offset})
        assert answer.status_code == 200, answer.text
        assert len(answer.content) <= BUDGET, len(answer.content)
        pages.append(answer.json())
        offset = pages[-1]["next_offset"]
        assert len(pages) < 100
    return pages


def test_a_page_stops_at_its_byte_budget_and_paging_on_finds_every_item(
    client: TestClient, site: str
) -> None:
    for i in range(30):
        body = {"site": site, "asset": f"pump-{i:02}", "kind": "water", "name": "n" * 200}
        assert client.post("/api/v1/assets", json=body).status_code == 201
    first = client.get("/api/v1/assets", params={"site": site, "limit": 1000})
    page = first.json()
    assert page["total"] == 30 and 1 < len(page["items"]) < 30
    assert page["next_offset"] == len(page["items"])
    assert len(first.content) <= BUDGET

    pages = all_pages(client, "/api/v1/assets", site=site, limit=1000)
    names = [a["asset"] for p in pages for a in p["items"]]
    assert names == sorted(names) and len(names) == len(set(names)) == 30
    assert all(p["total"] == 30 for p in pages) and pages[-1]["next_offset"] is None

    limited = client.get("/api/v1/assets", params={"site": site, "limit": 2}).json()
    assert len(limited["items"]) == 2 and limited["next_offset"] == 2  # the limit cut it short
    last = client.get("/api/v1/assets", params={"site": site, "offset": 29}).json()
    assert len(last["items"]) == 1 and last["next_offset"] is None


def test_an_item_larger_than_the_budget_still_comes_alone(client: TestClient, site: str) -> None:
    for title in ("first", "second"):
        body = {
            "site": site,
            "title": f"{title} leak",
            "description": "d" * 5000,
            "channel": "phone",
            "checklist": ["c" * 200] * 5,
        }
        assert client.post("/api/v1/work-orders", json=body).status_code == 201
    answer = client.get("/api/v1/work-orders", params={"site": site})
    page = answer.json()
    assert len(answer.content) > BUDGET  # one item is more than the budget: it comes anyway
    assert len(page["items"]) == 1 and page["total"] == 2 and page["next_offset"] == 1
    rest = client.get("/api/v1/work-orders", params={"site": site, "offset": 1}).json()
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    assert {page["items"][0]["title"], rest["items"][0]["title"]} == {"first leak", "second leak"}


def test_every_collection_takes_limit_and_offset(client: TestClient, site: str) -> None:
    for sku in ("A-1", "B-2", "C-3"):
        body = {"sku": sku, "name": sku, "stock": [{"site": site, "on_hand": 5}]}
        assert client.post("/api/v1/parts", json=body).status_code == 201
    middle = client.get("/api/v1/parts", params={"limit": 1, "offset": 1}).json()
    assert [p["sku"] for p in middle["items"]] == ["B-2"]
    assert middle["total"] == 3 and middle["next_offset"] == 2
    for name in ("one", "two"):
        assert client.post("/api/v1/tokens", json={"name": name, "role": "viewer"}).is_success
    tokens = client.get("/api/v1/tokens", params={"limit": 1, "offset": 1}).json()
    assert [t["name"] for t in tokens["items"]] == ["two"] and tokens["next_offset"] is None
    for path in ("/api/v1/notices", "/api/v1/absences", "/api/v1/sites", "/api/v1/notifications"):
        answer = client.get(path, params={"limit": 1, "offset": 0})
        assert answer.status_code == 200 and "next_offset" in answer.json(), path
        assert client.get(path, params={"limit": 0}).status_code == 422, path
