"""The overview's "Still needs people" list, as a browser gets the page: only orders someone
still has to take or finish, each line readable (its parts apart)."""

from __future__ import annotations

import re

import pytest

from tests.dashboard.conftest import Estate

pytestmark = pytest.mark.broker


def _line(page: str, order_id: int) -> str | None:
    found = re.search(rf'<li class="prio-\w+" data-order-id="{order_id}">(.*?)</li>', page, re.S)
    return found.group(1) if found else None


def test_still_needs_people_leaves_out_resolved_orders_and_spaces_its_parts(
    estate: Estate,
) -> None:
    admin, site = estate.admin, estate.site

    def order(title: str, skill: str) -> dict[str, object]:
        body = {"site": site, "title": title, "priority": "P2", "skill": skill, "channel": "phone"}
        answer = admin.post("/api/v1/work-orders", json=body)
        assert answer.status_code == 201, answer.text
        created: dict[str, object] = answer.json()
        return created

    fixed = order("Burst pipe in 2-301", "plumbing")  # the rules assign a plumber
    for step in ("acknowledged", "in_progress", "resolved"):
        moved = admin.post(f"/api/v1/work-orders/{fixed['id']}/transition", json={"to": step})
        assert moved.status_code == 200, moved.text
    waiting = order("Lights out in B2 car park", "electrical")  # no electrician: unassigned
    assert waiting["assignees"] == [] and waiting["status"] == "open"

    worded = (("en", "unassigned", r"\d+m \d+s left"), ("zh", "未派单", "剩余"))
    for lang, unassigned, left in worded:
        page = estate.as_role("viewer", **{"Accept-Language": lang}).get("/").text
        assert 'id="attention"' in page
        assert _line(page, int(str(fixed["id"]))) is None  # resolved: nobody is needed now
        line = _line(page, int(str(waiting["id"])))
        assert line is not None
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line))
        assert re.search(rf"{unassigned} {left}", text), text
