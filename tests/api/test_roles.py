"""Every route has a decision on who may call it: an endpoint that changes something refuses
the role just below the one it needs, every endpoint but health refuses a request without a
token, and a technician acts only on the orders assigned to them. The matrix test calls every
route as every kind of caller and checks that a refused request changed nothing."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from facility_dispatch.kernel.clock import to_ms
from tests.api.test_work_orders_api import as_, manual, technician, token
from tests.builders import publisher, wait_until
from tests.services import Broker

pytestmark = pytest.mark.broker

# (method, path) -> the least role that may call it
NEEDS = {
    ("POST", "/api/v1/assets"): "planner",
    ("POST", "/api/v1/assets/import"): "planner",
    ("PUT", "/api/v1/assets/{site}/{asset}/register"): "planner",
    ("POST", "/api/v1/compliance"): "planner",
    ("POST", "/api/v1/compliance/done"): "planner",
    ("POST", "/api/v1/alarms/{alarm_id}/ack"): "technician",
    ("POST", "/api/v1/silences"): "planner",
    ("DELETE", "/api/v1/silences/{silence_id}"): "planner",
    ("POST", "/api/v1/work-orders"): "technician",
    ("POST", "/api/v1/work-orders/{order_id}/transition"): "technician",
    ("POST", "/api/v1/work-orders/{order_id}/assign"): "planner",
    ("POST", "/api/v1/work-orders/{order_id}/checklist/{item_id}"): "technician",
    ("POST", "/api/v1/work-orders/{order_id}/notes"): "technician",
    ("POST", "/api/v1/work-orders/{order_id}/parts"): "technician",
    ("POST", "/api/v1/work-orders/{order_id}/sign-off"): "technician",
    ("POST", "/api/v1/contractors"): "planner",
    ("PATCH", "/api/v1/contractors/{contractor_id}"): "planner",
    ("POST", "/api/v1/technicians"): "planner",
    ("PUT", "/api/v1/technicians/{technician_id}"): "planner",
    ("POST", "/api/v1/shifts"): "planner",
    ("POST", "/api/v1/absences"): "planner",
    ("PUT", "/api/v1/shifts/{shift_id}"): "planner",
    ("DELETE", "/api/v1/shifts/{shift_id}"): "planner",
    ("PUT", "/api/v1/absences/{absence_id}"): "planner",
    ("DELETE", "/api/v1/absences/{absence_id}"): "planner",
    ("PUT", "/api/v1/sites/{site}"): "planner",
    ("POST", "/api/v1/maintenance-plans"): "planner",
    ("DELETE", "/api/v1/maintenance-plans/{plan_id}"): "planner",
    ("PUT", "/api/v1/maintenance-plans/{plan_id}"): "planner",
    ("POST", "/api/v1/maintenance-plans/{plan_id}/resume"): "planner",
    ("POST", "/api/v1/maintenance-plans/{plan_id}/occurrences/{occurrence_id}/move"): "planner",
    ("POST", "/api/v1/parts"): "planner",
    ("POST", "/api/v1/parts/{part_id}/stock"): "planner",
    ("POST", "/api/v1/parts/{part_id}/adjust"): "planner",
    ("POST", "/api/v1/notices"): "planner",
    ("DELETE", "/api/v1/notices/{notice_id}"): "planner",
    ("POST", "/api/v1/tokens"): "admin",
    ("GET", "/api/v1/notify-config"): "admin",
    ("PUT", "/api/v1/notify-config"): "admin",
    ("GET", "/api/v1/tokens"): "admin",
    ("DELETE", "/api/v1/tokens/{token_id}"): "admin",
    ("POST", "/api/v1/requests"): "planner",
    ("POST", "/api/v1/requests/{request_id}/accept"): "planner",
    ("POST", "/api/v1/requests/{request_id}/reject"): "planner",
    ("POST", "/api/v1/requests/{request_id}/follow-up"): "planner",
    ("POST", "/api/v1/requests/{request_id}/phone"): "planner",
    ("POST", "/api/v1/complaint-reviews/{review_id}/close"): "planner",
    ("POST", "/api/v1/posts"): "planner",
    ("POST", "/api/v1/posts/{post_id}/roster-lines"): "planner",
    ("POST", "/api/v1/posts/{post_id}/covers"): "planner",
    ("PUT", "/api/v1/sites/{site}/holidays/{year}"): "planner",
    ("POST", "/api/v1/handovers"): "technician",
    ("POST", "/api/v1/handovers/{handover_id}/acknowledge"): "technician",
    ("POST", "/api/v1/routes"): "planner",
    ("POST", "/api/v1/routes/from-template"): "planner",
    ("DELETE", "/api/v1/routes/{route_id}"): "planner",
    ("POST", "/api/v1/routes/{route_id}/rounds"): "technician",
    ("POST", "/api/v1/rounds/{round_id}/visits"): "technician",
    ("POST", "/api/v1/rounds/{round_id}/visits/{checkpoint_id}/photos"): "technician",
}
# the residents' public endpoints take no token; they are rate limited instead (SPEC section 5)
PUBLIC_WRITES = {
    ("POST", "/api/v1/public/requests"),
    ("POST", "/api/v1/public/requests/{token}/feedback"),
}
# the changing endpoints on which a technician acts only if the order is assigned to them
OWNED = {
    ("POST", "/api/v1/work-orders/{order_id}/transition"),
    ("POST", "/api/v1/work-orders/{order_id}/checklist/{item_id}"),
    ("POST", "/api/v1/work-orders/{order_id}/notes"),
    ("POST", "/api/v1/work-orders/{order_id}/parts"),
}
# the changing endpoints that need a duty a token carries besides its role: only the site's
# safety manager signs an order off, whatever the rank of anyone else
SAFETY_MANAGER_ONLY = {("POST", "/api/v1/work-orders/{order_id}/sign-off")}
# the reading endpoints a technician may call only for an order assigned to them
OWNED_READS = {("GET", "/api/v1/requests/{request_id}/photos/{position}")}
# the reading endpoints (GET) -> the least role that may call them ("none": no token needed)
READS = {
    "/api/v1/health": "none",
    "/api/v1/health/live": "none",
    "/api/v1/health/ready": "none",
    "/api/v1/assets": "viewer",
    "/api/v1/assets/{site}/{asset}": "viewer",
    "/api/v1/assets/{site}/{asset}/telemetry": "viewer",
    "/api/v1/assets/{site}/{asset}/records": "viewer",
    "/api/v1/compliance": "viewer",
    "/api/v1/alarms": "viewer",
    "/api/v1/alarms/{alarm_id}": "viewer",
    "/api/v1/silences": "viewer",
    "/api/v1/work-orders": "viewer",
    "/api/v1/work-orders/{order_id}": "viewer",
    "/api/v1/technicians": "viewer",
    "/api/v1/technicians/{technician_id}": "viewer",
    "/api/v1/shifts": "viewer",
    "/api/v1/absences": "viewer",
    "/api/v1/sites": "viewer",
    "/api/v1/sites/{site}": "viewer",
    "/api/v1/notifications": "viewer",
    "/api/v1/maintenance-plans": "viewer",
    "/api/v1/maintenance-plans/templates": "viewer",
    "/api/v1/maintenance-plans/{plan_id}": "viewer",
    "/api/v1/maintenance-plans/{plan_id}/forecast": "viewer",
    "/api/v1/parts": "viewer",
    "/api/v1/parts/{part_id}": "viewer",
    "/api/v1/parts/{part_id}/ledger": "viewer",
    "/api/v1/work-orders/{order_id}/parts": "viewer",
    "/api/v1/notices": "viewer",
    "/api/v1/kpis": "viewer",
    "/api/v1/work-orders/{order_id}/review": "viewer",
    "/api/v1/work-orders/{order_id}/review.html": "viewer",
    "/api/v1/events": "viewer",
    "/api/v1/dead-letters": "viewer",
    "/api/v1/estates": "viewer",
    "/metrics": "viewer",
    "/api/v1/public/requests/{token}": "none",
    "/api/v1/requests": "planner",
    "/api/v1/requests/follow-ups": "planner",
    "/api/v1/requests/{request_id}": "planner",
    "/api/v1/requests/{request_id}/photos/{position}": "technician",
    "/api/v1/complaint-reviews": "planner",
    "/api/v1/sites/{site}/qr.svg": "viewer",
    "/api/v1/posts": "viewer",
    "/api/v1/posts/{post_id}/roster-lines": "viewer",
    "/api/v1/posts/{post_id}/substitutes": "viewer",
    "/api/v1/sites/{site}/coverage": "viewer",
    "/api/v1/sites/{site}/holidays/{year}": "viewer",
    "/api/v1/handovers": "viewer",
    "/api/v1/patrol-templates": "viewer",
    "/api/v1/routes": "viewer",
    "/api/v1/routes/{route_id}": "viewer",
    "/api/v1/rounds": "viewer",
    "/api/v1/rounds/{round_id}": "viewer",
    "/api/v1/rounds/{round_id}/photos/{key}": "viewer",
    "/api/v1/checkpoints/{token}": "technician",
    "/api/v1/patrol-kpis": "viewer",
    "/api/v1/contractors": "viewer",
    "/api/v1/contractors/{contractor_id}": "viewer",
}
BELOW = {"technician": "viewer", "planner": "technician", "admin": "planner"}
OPEN = {path for path, least in READS.items() if least == "none"}


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


def test_every_route_has_a_decision_and_every_decision_a_route(client: TestClient) -> None:
    routes = set(api_routes(client))
    assert routes >= PUBLIC_WRITES
    writes = {r for r in routes if (r[0] != "GET" or r in NEEDS) and r not in PUBLIC_WRITES}
    reads = {p for m, p in routes if m == "GET" and (m, p) not in NEEDS}
    assert writes == set(NEEDS), f"NEEDS: add {writes - set(NEEDS)}, drop {set(NEEDS) - writes}"
    assert reads == set(READS), f"READS: add {reads - set(READS)}, drop {set(READS) - reads}"
    assert set(NEEDS) >= OWNED


def test_the_role_just_below_is_refused(client: TestClient) -> None:
    secrets = {role: as_(token(client, role)) for role in ("viewer", "technician", "planner")}
    for (method, path), role in NEEDS.items():
        answer = client.request(method, concrete(path), headers=secrets[BELOW[role]], json={})
        assert answer.status_code == 403, (method, path, answer.status_code, answer.text)
        assert f"needs the {role} role" in answer.json()["detail"]


def test_nothing_but_health_answers_without_a_token(client: TestClient) -> None:
    for method, path in api_routes(client):
        if path in OPEN or (method, path) in PUBLIC_WRITES:
            continue
        answer = client.request(method, concrete(path), headers={"Authorization": ""}, json={})
        assert answer.status_code == 401, (method, path, answer.status_code)


def test_a_change_made_with_the_login_cookie_must_come_from_our_pages(client: TestClient) -> None:
    from tests.builders import ADMIN_TOKEN

    login = client.post(
        "/login",
        data={"token": ADMIN_TOKEN},
        headers={"Authorization": "", "Origin": "http://testserver"},
        follow_redirects=False,
    )
    session_id = login.cookies["facility_token"]  # the cookie holds a session, not the token
    client.cookies.clear()
    cookie_only = {"Authorization": "", "Cookie": f"facility_token={session_id}"}
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


# -- the authorization matrix: every route x every kind of caller ---------------------------------

# a caller -> its role; the two technicians differ in whether the order is assigned to them
CALLERS = {
    "none": "none",
    "viewer": "viewer",
    "technician-not-owner": "technician",
    "technician-owner": "technician",
    "planner": "planner",
    "admin": "admin",
    "safety-manager": "planner",
}
RANK = {"none": 0, "viewer": 1, "technician": 2, "planner": 3, "admin": 4}
# what may change while refused requests are sent: liveness, the event log, a token's last use
VOLATILE: dict[str, set[str] | None] = {
    "events": None,
    "dead_letters": None,
    "assets": {"online", "last_seen", "metrics", "metrics_at"},
    "api_tokens": {"last_used_at"},
    # the notifier follows the event log on its own: its cursor and the messages it records
    "notify_values": None,
    "notification_outbox": None,
    "notification_watches": None,
    # the leader records the routes' scheduled rounds (and flags missed ones), gaps and handovers
    "patrol_rounds": None,
    "roster_gap_flags": None,
    "roster_published": None,
    "shift_handovers": {"flagged_at"},
}


def least(method: str, path: str) -> str:
    if (method, path) in PUBLIC_WRITES:
        return "none"
    return READS[path] if method == "GET" and (method, path) not in NEEDS else NEEDS[(method, path)]


def allowed(method: str, path: str, caller: str) -> bool:
    if RANK[CALLERS[caller]] < RANK[least(method, path)]:
        return False
    if (method, path) in SAFETY_MANAGER_ONLY:
        return caller == "safety-manager"
    return not (caller == "technician-not-owner" and (method, path) in OWNED | OWNED_READS)


@dataclass
class World:
    """A site with a plumber (Li Na, who is given every order) and an electrician (Wang Wei,
    given none), a token for each kind of caller, and one of everything a path can name."""

    client: TestClient
    site: str
    li: int
    wang: int
    headers: dict[str, dict[str, str]]
    ids: dict[str, int | str]

    def fresh_order(self, priority: str = "P3") -> None:
        """A new order, assigned to Li Na by hand, with one checklist item."""
        body = {**manual(self.site), "priority": priority, "checklist": ["Check the valve"]}
        created = self.client.post("/api/v1/work-orders", json=body)
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        assigned = self.client.post(
            f"/api/v1/work-orders/{order_id}/assign", json={"technician_ids": [self.li]}
        )
        assert assigned.status_code == 200 and assigned.json()["assignees"] == [self.li]
        self.ids["order_id"] = order_id
        self.ids["item_id"] = assigned.json()["checklist"][0]["id"]

    def cancel_order(self) -> None:
        """Finished orders do not count against Li Na's cap of open orders."""
        self.client.post(
            f"/api/v1/work-orders/{self.ids['order_id']}/transition", json={"to": "cancelled"}
        )

    def path(self, template: str) -> str:
        return re.sub(r"\{([^}]+)\}", lambda m: str(self.ids[m.group(1)]), template)

    def snapshot(self) -> dict[str, list[str]]:
        """Every row of every table, but what changes on its own (VOLATILE)."""
        from facility_dispatch.kernel.db import Base

        service = self.client.app.state.service  # type: ignore[attr-defined]
        tables: dict[str, list[str]] = {}
        with service.db.connect() as connection:
            for table in Base.metadata.sorted_tables:
                skip = VOLATILE.get(table.name, set())
                if skip is None:
                    continue
                columns = [c for c in table.columns if c.name not in skip]
                rows = connection.execute(select(*columns)).all()
                tables[table.name] = sorted(repr(tuple(row)) for row in rows)
        return tables


def build_world(client: TestClient, broker: Broker, site: str) -> World:
    li = technician(client, site, "Li Na", ["plumbing"])
    wang = technician(
        client,
        site,
        "Wang Wei",
        ["electrical"],
        certifications=[{"kind": "electrical", "number": "E-1", "expires_on": "2030-01-01"}],
    )
    headers = {
        "none": {"Authorization": ""},
        "viewer": as_(token(client, "viewer")),
        "technician-not-owner": as_(token(client, "technician", wang)),
        "technician-owner": as_(token(client, "technician", li)),
        "planner": as_(token(client, "planner")),
        "admin": {},  # the client's own admin token
        "safety-manager": as_(token(client, "planner", safety_manager=True)),
    }
    later = datetime.now(UTC) + timedelta(days=30)
    part = client.post(
        "/api/v1/parts",
        json={
            "sku": f"SEAL-{uuid.uuid4().hex[:6]}",
            "name": "Seal",
            "stock": [{"site": site, "on_hand": 10}],
        },
    )
    asset = client.post("/api/v1/assets", json={"site": site, "asset": "pump-9", "kind": "water"})
    silence = client.post(
        "/api/v1/silences",
        json={"site": site, "asset": "pump-9", "duration": "1h", "reason": "valve swap"},
    )
    plan = client.post(
        "/api/v1/maintenance-plans",
        json={
            "name": "Pump check",
            "site": site,
            "asset": "pump-9",
            "every": "30d",
            "starts_at": later.isoformat(),
            "lead_time": "31d",  # its first occurrence made at once: a slot to move
            "skill": "plumbing",
        },
    )
    spare = client.post("/api/v1/tokens", json={"name": "spare", "role": "viewer"})
    ahead = {"technician_id": wang, "starts_at": later.isoformat()}
    ahead["ends_at"] = (later + timedelta(hours=8)).isoformat()
    shift = client.post("/api/v1/shifts", json=ahead)
    absence = client.post("/api/v1/absences", json=ahead)
    contractor = client.post(
        "/api/v1/contractors",
        json={
            "name": f"Lift Care {site}",
            "phone_24h": "400-820-1234",
            "contract_start": "2026-01-01",
            "contract_end": "2027-12-31",
            "sites": [site],
            "kinds": ["elevator"],
        },
    )
    notice = client.post(
        "/api/v1/notices",
        json={"site": site, "service": "water", "starts_at": later.isoformat(),
              "reason_zh": "水箱清洗", "reason_en": "tank cleaning"},
    )  # fmt: skip
    for answer in (part, asset, silence, plan, spare, shift, absence, contractor, notice):
        assert answer.status_code in (200, 201), answer.text
    with publisher(broker.url) as device:
        reading = {"ts": to_ms(datetime.now(UTC)), "metrics": {"leak_detected": True}}
        device.publish(f"facility/{site}/water/pump-1/telemetry", orjson.dumps(reading))
    wait_until(lambda: client.get("/api/v1/alarms", params={"site": site}).json()["total"] == 1)
    alarm = client.get("/api/v1/alarms", params={"site": site}).json()["items"][0]
    ids: dict[str, int | str] = {
        "site": site,
        "asset": "pump-9",
        "alarm_id": alarm["id"],
        "part_id": part.json()["id"],
        "silence_id": silence.json()["id"],
        "plan_id": plan.json()["id"],
        "occurrence_id": plan.json()["occurrences"][0]["id"],
        "token_id": spare.json()["id"],
        "shift_id": shift.json()["id"],
        "absence_id": absence.json()["id"],
        "technician_id": wang,
        "contractor_id": contractor.json()["id"],
        "notice_id": notice.json()["id"],
        **resident_request(client, site, li),
        **roster_and_round(client, site, li),
    }
    return World(client, site, li, wang, headers, ids)


def roster_and_round(client: TestClient, site: str, li: int) -> dict[str, int | str]:
    """A post Li Na is on, a handover for anyone, a route walked on demand and its round."""
    shifts = [{"name": "day", "starts": "08:00", "ends": "20:00", "headcount": 1}]
    post = client.post("/api/v1/posts", json={"site": site, "name": "Gate", "shifts": shifts})
    handover = client.post("/api/v1/handovers", json={"site": site, "notes": "quiet night"})
    points = [{"name": "Ramp", "items": [{"key": "lights", "text": "Lights on"}]}]
    route = client.post(
        "/api/v1/routes",
        json={"site": site, "name": "Car park", "times": [], "checkpoints": points},
    )
    for answer in (post, handover, route):
        assert answer.status_code == 201, answer.text
    walk = client.post(f"/api/v1/routes/{route.json()['id']}/rounds")
    assert walk.status_code == 201, walk.text
    point = route.json()["checkpoints"][0]
    return {
        "post_id": post.json()["id"],
        "handover_id": handover.json()["id"],
        "route_id": route.json()["id"],
        "round_id": walk.json()["id"],
        "checkpoint_id": point["id"],
        "checkpoint_token": point["token"],
        "year": 2026,
        "key": "0" * 32 + ".jpg",
    }


def resident_request(client: TestClient, site: str, li: int) -> dict[str, int | str]:
    """A resident's request with a photo, its order resolved and rated 1: a complaint review."""
    import io

    from PIL import Image

    photo = io.BytesIO()
    Image.new("RGB", (8, 8)).save(photo, "PNG")
    assert client.put(f"/api/v1/sites/{site}", json={"name": "Green Garden"}).status_code == 200
    form = {"site": site, "category": "repair", "building": "3", "unit": "1202",
            "description": "leak", "phone": "13800005678"}  # fmt: skip
    made = client.post(
        "/api/v1/public/requests", data=form, files=[("photos", ("a.png", photo.getvalue()))]
    )
    assert made.status_code == 201, made.text
    request_id, token = made.json()["id"], made.json()["tracking_url"].removeprefix("/r/t/")
    accepted = client.post(f"/api/v1/requests/{request_id}/accept", json={"skill": "cctv"})
    order = accepted.json()["work_order_id"]
    assigned = client.post(f"/api/v1/work-orders/{order}/assign", json={"technician_ids": [li]})
    assert assigned.status_code == 200, assigned.text
    for step in ("acknowledged", "in_progress", "resolved"):
        moved = client.post(f"/api/v1/work-orders/{order}/transition", json={"to": step})
        assert moved.status_code == 200, moved.text
    rated = client.post(f"/api/v1/public/requests/{token}/feedback", json={"rating": 1})
    assert rated.status_code == 200, rated.text
    review = client.get("/api/v1/complaint-reviews", params={"site": site}).json()["items"][0]
    return {"request_id": request_id, "token": token, "position": 0, "review_id": review["id"]}


def body_for(world: World, method: str, path: str) -> dict[str, Any] | None:
    """A request that would succeed for a caller allowed to make it."""
    site, soon = world.site, datetime.now(UTC) + timedelta(days=2)
    later = (soon + timedelta(hours=3)).isoformat()
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/api/v1/assets"): {"site": site, "asset": "lift-9", "kind": "elevator"},
        ("PUT", "/api/v1/assets/{site}/{asset}/register"): {"maker": "Otis", "floor": "B1"},
        ("POST", "/api/v1/compliance"): {"site": site, "item": "drill", "due_on": "2099-01-10"},
        ("POST", "/api/v1/compliance/done"): {
            "site": site,
            "item": "drill",
            "done_on": "2026-11-01",
            "next_due": "2099-05-01",
        },
        ("POST", "/api/v1/alarms/{alarm_id}/ack"): {"note": "seen"},
        ("POST", "/api/v1/silences"): {"site": site, "duration": "1h", "reason": "works"},
        ("DELETE", "/api/v1/silences/{silence_id}"): {},
        ("POST", "/api/v1/work-orders"): {**manual(site), "skill": "cctv"},  # nobody: no load
        ("POST", "/api/v1/work-orders/{order_id}/transition"): {"to": "acknowledged"},
        ("POST", "/api/v1/work-orders/{order_id}/assign"): {"technician_ids": [world.li]},
        ("POST", "/api/v1/work-orders/{order_id}/checklist/{item_id}"): {"result": "done"},
        ("POST", "/api/v1/work-orders/{order_id}/notes"): {"note": "valve checked"},
        ("POST", "/api/v1/work-orders/{order_id}/parts"): {
            "part_id": world.ids["part_id"],
            "action": "consume",
            "quantity": 1,
        },
        # a plumbing order: the safety manager's sign-off is refused (409), not forbidden
        ("POST", "/api/v1/work-orders/{order_id}/sign-off"): {"note": "seen"},
        ("POST", "/api/v1/contractors"): {
            "name": f"Lift Care {uuid.uuid4().hex[:6]}",
            "phone_24h": "400-820-1234",
            "contract_start": "2026-01-01",
            "contract_end": "2027-12-31",
            "kinds": ["elevator"],
        },
        ("PATCH", "/api/v1/contractors/{contractor_id}"): {"response_minutes": 30},
        ("POST", "/api/v1/technicians"): {
            "name": "Zhou Min",
            "skills": ["cctv"],
            "seniority": "junior",
            "sites": [site],
        },
        ("PUT", "/api/v1/technicians/{technician_id}"): {
            "name": "Wang Wei",
            "skills": ["electrical"],
            "seniority": "senior",
            "sites": [site],
            "certifications": [{"kind": "electrical", "number": "E-1", "expires_on": "2030-01-01"}],
        },
        ("POST", "/api/v1/shifts"): {
            "technician_id": world.wang,
            "starts_at": soon.isoformat(),
            "ends_at": later,
        },
        ("POST", "/api/v1/absences"): {
            "technician_id": world.wang,
            "starts_at": soon.isoformat(),
            "ends_at": later,
        },
        ("PUT", "/api/v1/shifts/{shift_id}"): {
            "technician_id": world.wang,
            "starts_at": soon.isoformat(),
            "ends_at": later,
            "on_call": True,
        },
        ("DELETE", "/api/v1/shifts/{shift_id}"): {},
        ("PUT", "/api/v1/absences/{absence_id}"): {
            "technician_id": world.wang,
            "starts_at": soon.isoformat(),
            "ends_at": later,
            "reason": "training",
        },
        ("DELETE", "/api/v1/absences/{absence_id}"): {},
        ("PUT", "/api/v1/sites/{site}"): {"name": "Green Garden"},
        ("POST", "/api/v1/maintenance-plans"): {
            "name": "Tank check",
            "site": site,
            "asset": "pump-9",
            "every": "30d",
            "starts_at": (soon + timedelta(days=30)).isoformat(),
            "skill": "plumbing",
        },
        ("DELETE", "/api/v1/maintenance-plans/{plan_id}"): {},
        ("PUT", "/api/v1/maintenance-plans/{plan_id}"): {
            "name": "Tank check, monthly",
            "site": site,
            "asset": "pump-9",
            "every": "1mo",
            "starts_at": (soon + timedelta(days=30)).isoformat(),
            "skill": "plumbing",
        },
        ("POST", "/api/v1/maintenance-plans/{plan_id}/resume"): {},
        ("POST", "/api/v1/maintenance-plans/{plan_id}/occurrences/{occurrence_id}/move"): {
            "starts_at": (soon + timedelta(days=40)).isoformat()
        },
        ("POST", "/api/v1/parts"): {"sku": f"FUSE-{uuid.uuid4().hex[:6]}", "name": "Fuse"},
        ("POST", "/api/v1/parts/{part_id}/stock"): {"site": site, "quantity": 5},
        ("POST", "/api/v1/parts/{part_id}/adjust"): {
            "site": site,
            "on_hand": 7,
            "reason": "stock-take",
        },
        ("POST", "/api/v1/notices"): {
            "site": site,
            "service": "water",
            "starts_at": soon.isoformat(),
            "reason": "tank cleaning",
        },
        ("POST", "/api/v1/tokens"): {"name": "another", "role": "viewer"},
        ("PUT", "/api/v1/notify-config"): {"text": "receivers: []\nroutes: []\n"},
        ("DELETE", "/api/v1/tokens/{token_id}"): {},
        ("DELETE", "/api/v1/notices/{notice_id}"): {},
        ("POST", "/api/v1/public/requests"): {
            "site": site,
            "category": "suggestion",
            "building": "1",
            "unit": "101",
            "description": "more benches",
            "phone": "13900001111",
        },
        ("POST", "/api/v1/public/requests/{token}/feedback"): {"rating": 4},
        ("POST", "/api/v1/requests"): {
            "site": site,
            "category": "repair",
            "building": "1",
            "unit": "101",
            "description": "door lock",
            "phone": "13900001111",
            "channel": "walk_in",
        },
        ("POST", "/api/v1/requests/{request_id}/accept"): {},
        ("POST", "/api/v1/requests/{request_id}/reject"): {"reason": "not ours"},
        ("POST", "/api/v1/requests/{request_id}/follow-up"): {"note": "called, all fine"},
        ("POST", "/api/v1/requests/{request_id}/phone"): {},
        ("POST", "/api/v1/complaint-reviews/{review_id}/close"): {"outcome": "visited"},
        ("POST", "/api/v1/posts"): {
            "site": site,
            "name": "Lobby",
            "shifts": [{"name": "day", "starts": "07:00", "ends": "19:00", "headcount": 1}],
        },
        # far ahead: the leader writes only the coming week's rostered shifts to the shifts table
        ("POST", "/api/v1/posts/{post_id}/roster-lines"): {
            "technician_id": world.li,
            "pattern": ["day", "rest"],
            "anchor": "2099-01-05",
        },
        ("POST", "/api/v1/posts/{post_id}/covers"): {
            "day": "2099-01-06",
            "shift": "day",
            "technician_id": world.li,
        },
        ("PUT", "/api/v1/sites/{site}/holidays/{year}"): {
            "holidays": [{"day": "2026-10-01", "name": "National Day"}]
        },
        ("POST", "/api/v1/handovers"): {"site": site, "keys": "plant room key"},
        ("POST", "/api/v1/handovers/{handover_id}/acknowledge"): {},
        ("POST", "/api/v1/routes"): {
            "site": site,
            "name": "Roof",
            "times": ["22:00"],
            "checkpoints": [{"name": "Roof door", "items": [{"key": "shut", "text": "Shut"}]}],
        },
        ("POST", "/api/v1/routes/from-template"): {"site": site, "template": "plant_room"},
        ("DELETE", "/api/v1/routes/{route_id}"): {},
        ("POST", "/api/v1/routes/{route_id}/rounds"): {},
        ("POST", "/api/v1/rounds/{round_id}/visits"): {
            "token": world.ids["checkpoint_token"],
            "results": [{"key": "lights", "ok": True}],
        },
    }
    if method == "GET" or path in (PHOTO, IMPORT):
        return None
    return bodies[(method, path)]  # a new changing route needs a body here, and a decision


QUERIES = {
    "/api/v1/assets/{site}/{asset}/telemetry": {"metric": "pressure_bar"},
    "/api/v1/events": {"since": 0},
    "/api/v1/sites/{site}/coverage": {"start": "2026-11-30", "end": "2026-12-06"},
    "/api/v1/posts/{post_id}/substitutes": {"day": "2026-12-01", "shift": "day"},
    "/api/v1/rounds/{round_id}/visits/{checkpoint_id}/photos": {"item": "lights"},
    "/api/v1/assets/{site}/{asset}/records": {"start": "2026-11-01", "end": "2026-11-30"},
}
PHOTO = "/api/v1/rounds/{round_id}/visits/{checkpoint_id}/photos"
"""The one changing route whose body is an image, not JSON."""
IMPORT = "/api/v1/assets/import"
"""The changing route whose body is a CSV file."""


def call(world: World, method: str, path: str, caller: str) -> int:
    url, body = world.path(path), body_for(world, method, path)
    headers, params = world.headers[caller], QUERIES.get(path)
    if path == "/api/v1/events":  # a live stream: the status is all there is to see
        with world.client.stream(method, url, headers=headers, params=params) as stream:
            return stream.status_code
    if path == PHOTO:
        import io

        from PIL import Image

        image = io.BytesIO()
        Image.new("RGB", (8, 8)).save(image, "PNG")
        photo = {**headers, "Content-Type": "image/png"}
        answer = world.client.request(
            method, url, headers=photo, params=params, content=image.getvalue()
        )
        return answer.status_code
    if path == IMPORT:
        sheet = f"site,asset,kind,maker\n{world.site},lift-8,elevator,Otis\n".encode()
        csv_headers = {**headers, "Content-Type": "text/csv"}
        return world.client.request(method, url, headers=csv_headers, content=sheet).status_code
    answer = world.client.request(method, url, headers=headers, params=params, json=body)
    return answer.status_code


@pytest.mark.slow
def test_every_route_every_caller_allowed_or_refused_and_refused_changes_nothing(
    client: TestClient, broker: Broker, site: str
) -> None:
    world = build_world(client, broker, site)
    for method, path in api_routes(client):
        if "{order_id}" in path:
            world.fresh_order()
        refused = [c for c in CALLERS if not allowed(method, path, c)]
        before = world.snapshot()
        for caller in refused:
            status = call(world, method, path, caller)
            expected = 401 if caller == "none" else 403
            assert status == expected, (method, path, caller, status)
        assert world.snapshot() == before, (method, path, "a refused request changed something")
        for caller in CALLERS:
            if caller not in refused:
                status = call(world, method, path, caller)
                assert status not in (401, 403, 422), (method, path, caller, status)
        if "{order_id}" in path:
            world.cancel_order()


@pytest.mark.parametrize("step", ["closed", "cancelled"])
def test_a_technician_cannot_finish_or_cancel_their_own_p1(
    client: TestClient, broker: Broker, site: str, step: str
) -> None:
    world = build_world(client, broker, site)
    world.fresh_order("P1")
    url = world.path("/api/v1/work-orders/{order_id}/transition")
    owner, planner = world.headers["technician-owner"], world.headers["planner"]
    if step == "closed":
        for earlier in ("acknowledged", "in_progress", "resolved"):
            assert client.post(url, json={"to": earlier}, headers=owner).status_code == 200
    before = world.snapshot()
    refused = client.post(url, json={"to": step, "note": "all fine"}, headers=owner)
    assert refused.status_code == 403
    verb = {"closed": "closing", "cancelled": "cancelling"}[step]
    assert refused.json()["detail"].startswith(f"{verb} WO-")
    assert (
        "needs a planner: a P1 order is closed or cancelled by a planner"
        in (refused.json()["detail"])
    )
    assert world.snapshot() == before
    done = client.post(url, json={"to": step}, headers=planner)
    assert done.status_code == 200 and done.json()["status"] == step


def test_a_technician_closes_their_own_p3_and_consumes_parts_but_not_stock(
    client: TestClient, broker: Broker, site: str
) -> None:
    world = build_world(client, broker, site)
    world.fresh_order("P3")
    owner, stranger = world.headers["technician-owner"], world.headers["technician-not-owner"]
    parts = world.path("/api/v1/work-orders/{order_id}/parts")
    use = {"part_id": world.ids["part_id"], "action": "consume", "quantity": 2}
    not_his = client.post(parts, json=use, headers=stranger)
    assert (
        not_his.status_code == 403
        and "is not assigned to technician-user" in (not_his.json()["detail"])
    )
    assert client.post(parts, json=use, headers=owner).status_code == 200
    stock = world.path("/api/v1/parts/{part_id}/stock")
    refused = client.post(stock, json={"site": site, "quantity": 100}, headers=owner)
    assert refused.status_code == 403 and "needs the planner role" in refused.json()["detail"]
    part = client.get(world.path("/api/v1/parts/{part_id}")).json()
    assert part["stock"] == 8  # 10, less the 2 she used; the delivery was refused
    url = world.path("/api/v1/work-orders/{order_id}/transition")
    for step in ("acknowledged", "in_progress", "resolved", "closed"):
        assert client.post(url, json={"to": step}, headers=owner).status_code == 200
