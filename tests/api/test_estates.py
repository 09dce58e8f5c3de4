"""Estates: a token limited to sites sees and acts on those sites only (issue 19).

Two sites, A and B, each with one of everything a path can name (the role matrix's world); a
token for A then walks every route of the OpenAPI document with B's ids and B's name and must
learn nothing of B: 404 where a path or a body names B or one of B's resources, and no trace
of B's name in any answer. A new route that forgets the check fails here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from facility_dispatch.api.app import create_app
from facility_dispatch.api.scope import NOT_SITE_BOUND, SITE_OF, SITE_OF_KEY
from facility_dispatch.service import build_service
from tests.api.test_roles import (
    NEEDS,
    PUBLIC_WRITES,
    READS,
    World,
    api_routes,
    body_for,
    build_world,
)
from tests.api.test_work_orders_api import as_
from tests.builders import ADMIN_TOKEN, make_settings
from tests.services import Broker

pytestmark = pytest.mark.broker


@dataclass
class Estates:
    client: TestClient
    a: World
    b: World
    spare: str  # a known site with nothing in it

    def token(self, role: str, sites: list[str] | None, **extra: Any) -> dict[str, str]:
        body = {"name": f"{role}-{sites}", "role": role, "sites": sites, **extra}
        created = self.client.post("/api/v1/tokens", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["sites"] == (sorted(sites) if sites is not None else None)
        return as_(created.json()["token"])


@pytest.fixture
def estates(broker: Broker, tmp_path: Path, database_url: str) -> Iterator[Estates]:
    """One service (SQLite, then PostgreSQL) taking three sites: A and B fully seeded."""
    tag = uuid.uuid4().hex[:6]
    a, b, spare = f"east-{tag}", f"west-{tag}", f"north-{tag}"
    settings = make_settings(tmp_path, broker.url, database_url, sites=[a, b, spare])
    app = create_app(build_service(settings))
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        assert app.state.service.mqtt.wait_connected(10)
        assert client.put(f"/api/v1/sites/{spare}", json={"name": "North"}).status_code == 200
        worlds = [build_world(client, broker, site) for site in (a, b)]
        for world in worlds:
            world.fresh_order()
        yield Estates(client, *worlds, spare)


def _fill(template: str, ids: dict[str, int | str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(ids["checkpoint_token"] if name == "token" else ids[name])

    return re.sub(r"\{([^}]+)\}", one, template)


def test_every_path_parameter_is_checked_or_declared_not_site_bound(estates: Estates) -> None:
    """A new ``{something_id}`` must be added to SITE_OF (or, if it names nothing of a site,
    to NOT_SITE_BOUND): otherwise a limited token could reach another site through it."""
    spec = estates.client.get("/openapi.json").json()
    params = {p for path in spec["paths"] for p in re.findall(r"\{([^}]+)\}", path)}
    unknown = params - set(SITE_OF) - set(SITE_OF_KEY) - NOT_SITE_BOUND - {"site"}
    assert not unknown, f"add to facility_dispatch.api.scope.SITE_OF: {unknown}"


@pytest.mark.parametrize("several", [False, True], ids=["one-site", "two-sites"])
def test_a_token_for_site_a_learns_nothing_of_site_b_through_any_route(
    estates: Estates, several: bool
) -> None:
    a, b = estates.a, estates.b
    sites = [a.site, estates.spare] if several else [a.site]
    planner = estates.token("planner", sites)
    client = estates.client
    names = {b.site}
    for method, path in api_routes(client):
        if (method, path) in PUBLIC_WRITES or READS.get(path) == "none":
            continue
        if (method, path) in NEEDS and NEEDS[(method, path)] == "admin":
            continue  # company-wide: a limited token is refused (see the next test)
        if path == "/api/v1/events":
            continue  # a stream: test_the_event_stream_of_a_limited_token
        url = _fill(path, b.ids)
        body = body_for(b, method, path) if method != "GET" else None
        answer = client.request(method, url, headers=planner, json=body)
        named = set(re.findall(r"\{([^}]+)\}", path))
        bound = named & (set(SITE_OF) | set(SITE_OF_KEY) | {"site"})
        names_b = body is not None and (
            b.site in str(body) or any(k in SITE_OF or k.endswith("_ids") for k in body)
        )
        where = (method, path, answer.status_code, answer.text[:300])
        if bound or names_b:
            assert answer.status_code == 404, where
        if answer.status_code == 404 and answer.json()["detail"] == f"no site {b.site}":
            continue  # the caller's own words echoed: nothing learnt
        for name in names:
            assert name not in answer.text, where
        if method == "GET" and not bound:
            # the same route for A's own: answered (the scope does not lock A out)
            own = client.get(_fill(path, a.ids), headers=planner)
            if several and own.status_code == 422 and "name one" in own.text:
                own = client.get(_fill(path, a.ids), headers=planner, params={"site": a.site})
            assert own.status_code in (200, 404), (path, own.status_code, own.text[:300])


def test_single_resources_of_b_are_404_and_of_a_are_there(estates: Estates) -> None:
    a, b = estates.a, estates.b
    viewer = estates.token("viewer", [a.site])
    planner = estates.token("planner", [a.site])
    paths = [
        "/api/v1/assets/{site}/{asset}",
        "/api/v1/alarms/{alarm_id}",
        "/api/v1/work-orders/{order_id}",
        "/api/v1/maintenance-plans/{plan_id}",
        "/api/v1/technicians/{technician_id}",
        "/api/v1/routes/{route_id}",
        "/api/v1/rounds/{round_id}",
    ]
    for path in paths:
        assert estates.client.get(_fill(path, a.ids), headers=viewer).status_code == 200, path
        refused = estates.client.get(_fill(path, b.ids), headers=viewer)
        assert refused.status_code == 404, (path, refused.text)
        assert refused.json()["detail"].startswith("no "), refused.text
        # word for word what the route answers for an id that does not exist: nothing learnt
        if "{site}" not in path:
            missing = {k: 2**31 - 1 if isinstance(v, int) else v for k, v in b.ids.items()}
            absent = estates.client.get(_fill(path, missing), headers=viewer)
            assert absent.status_code == 404
            expected = absent.json()["detail"].replace(str(2**31 - 1), "{}")
            assert refused.json()["detail"] == expected.format(
                *re.findall(r"\d+$", refused.json()["detail"])
            ), path
    mine = estates.client.get(f"/api/v1/requests/{a.ids['request_id']}", headers=planner)
    assert mine.status_code == 200
    theirs = estates.client.get(f"/api/v1/requests/{b.ids['request_id']}", headers=planner)
    assert theirs.status_code == 404
    # an action on B's alarm changes nothing
    ack = estates.client.post(f"/api/v1/alarms/{b.ids['alarm_id']}/ack", headers=planner, json={})
    assert ack.status_code == 404
    assert (
        estates.client.get(f"/api/v1/alarms/{b.ids['alarm_id']}").json()["acknowledged_at"] is None
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/assets",
        "/api/v1/alarms",
        "/api/v1/work-orders",
        "/api/v1/maintenance-plans",
        "/api/v1/technicians",
        "/api/v1/silences",
        "/api/v1/requests",
        "/api/v1/complaint-reviews",
        "/api/v1/posts",
        "/api/v1/handovers",
        "/api/v1/routes",
        "/api/v1/parts",
        "/api/v1/sites",
    ],
)
def test_lists_hold_only_the_tokens_sites(estates: Estates, path: str) -> None:
    a, b = estates.a, estates.b
    for sites in ([a.site], [a.site, estates.spare]):
        planner = estates.token("planner", sites)
        everything = estates.client.get(path, params={"limit": 1000}).json()
        mine = estates.client.get(path, headers=planner, params={"limit": 1000})
        if path == "/api/v1/parts" and len(sites) > 1:  # stock summed over sites: name one
            assert mine.status_code == 422 and "name one" in mine.text
            mine = estates.client.get(path, headers=planner, params={"site": a.site})
        assert mine.status_code == 200, mine.text
        assert b.site in str(everything["items"])  # the admin sees B's rows ...
        assert b.site not in mine.text  # ... the token for A none of them
        assert a.site in str(mine.json()["items"]) or path == "/api/v1/parts"
        assert mine.json()["total"] >= len(mine.json()["items"])
        if len(sites) == 1:  # ?site= filled in, or B's rows taken out: the total is exact
            assert mine.json()["total"] == len(mine.json()["items"]), path
        asked = estates.client.get(path, headers=planner, params={"site": b.site})
        assert asked.status_code == 404 and asked.json()["detail"] == f"no site {b.site}"


def test_writes_naming_site_b_are_404_and_change_nothing(estates: Estates) -> None:
    a, b = estates.a, estates.b
    planner = estates.token("planner", [a.site])
    client = estates.client
    before = client.get("/api/v1/assets", params={"site": b.site}).json()["total"]
    made = client.post(
        "/api/v1/assets",
        headers=planner,
        json={"site": b.site, "asset": "lift-77", "kind": "elevator"},
    )
    assert made.status_code == 404 and made.json()["detail"] == f"no site {b.site}"
    assert client.get("/api/v1/assets", params={"site": b.site}).json()["total"] == before
    # a part's stock at B named inside the body
    part = client.post(
        "/api/v1/parts",
        headers=planner,
        json={"sku": "NUT-1", "name": "Nut", "stock": [{"site": b.site, "on_hand": 1}]},
    )
    assert part.status_code == 404
    # B's technician named by id in a body: a shift for them, or an assignment to A's order
    shifts_before = client.get("/api/v1/shifts", params={"technician_id": b.wang}).json()["total"]
    shift = {"technician_id": b.wang, "starts_at": "2099-01-05T08:00:00Z"}
    shift["ends_at"] = "2099-01-05T16:00:00Z"
    made_shift = client.post("/api/v1/shifts", headers=planner, json=shift)
    assert (
        made_shift.status_code == 404 and made_shift.json()["detail"] == f"no technician {b.wang}"
    )
    after = client.get("/api/v1/shifts", params={"technician_id": b.wang}).json()["total"]
    assert after == shifts_before
    order = a.ids["order_id"]
    assigned = client.post(
        f"/api/v1/work-orders/{order}/assign",
        headers=planner,
        json={"technician_ids": [a.li, b.li]},
    )
    assert assigned.status_code == 404, assigned.text
    assert b.li not in client.get(f"/api/v1/work-orders/{order}").json()["assignees"]
    seen = client.get("/api/v1/shifts", headers=planner, params={"technician_id": b.wang})
    assert seen.status_code == 404
    # and the same for A's own site works
    own = client.post(
        "/api/v1/assets",
        headers=planner,
        json={"site": a.site, "asset": "lift-77", "kind": "elevator"},
    )
    assert own.status_code == 201, own.text


def test_a_limited_admin_cannot_manage_tokens_or_company_settings(estates: Estates) -> None:
    admin_a = estates.token("admin", [estates.a.site])
    for method, path in [
        ("POST", "/api/v1/tokens"),
        ("GET", "/api/v1/tokens"),
        ("GET", "/api/v1/notify-config"),
        ("PUT", "/api/v1/notify-config"),
    ]:
        body = {"name": "wider", "role": "admin"} if path == "/api/v1/tokens" else None
        answer = estates.client.request(method, path, headers=admin_a, json=body)
        assert answer.status_code == 403, (method, path, answer.text)
        assert "company-wide" in answer.json()["detail"]
    # but acts on its own site as an admin would
    site = estates.a.site
    assert estates.client.get(f"/api/v1/sites/{site}/qr.svg", headers=admin_a).status_code == 200


def test_token_sites_must_be_known(estates: Estates) -> None:
    bad = estates.client.post(
        "/api/v1/tokens", json={"name": "typo", "role": "viewer", "sites": ["nowhere"]}
    )
    assert bad.status_code == 422 and "unknown site(s) nowhere" in bad.json()["detail"]
    assert estates.a.site in bad.json()["detail"]  # the known ones are named
    empty = estates.client.post("/api/v1/tokens", json={"name": "e", "role": "viewer", "sites": []})
    assert empty.status_code == 422
    listed = estates.client.get("/api/v1/tokens").json()["items"]
    assert all(t["name"] not in ("typo", "e") for t in listed)


def test_a_dashboard_login_made_with_a_limited_token_is_limited(estates: Estates) -> None:
    a, b = estates.a, estates.b
    secret = estates.client.post(
        "/api/v1/tokens", json={"name": "desk", "role": "planner", "sites": [a.site]}
    ).json()["token"]
    login = estates.client.post(
        "/login",
        data={"token": secret},
        headers={"Authorization": "", "Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert login.status_code == 303
    cookie = {"Authorization": "", "Cookie": f"facility_token={login.cookies['facility_token']}"}
    estates.client.cookies.clear()
    alarms = estates.client.get("/api/v1/alarms", headers=cookie)
    assert alarms.status_code == 200 and b.site not in alarms.text
    for page in ("/", "/alarms", "/work-orders", "/plans", "/people", "/requests", "/rounds"):
        shown = estates.client.get(page, headers=cookie)
        assert shown.status_code == 200, (page, shown.text[:300])
        assert b.site not in shown.text, page
        assert a.site in shown.text, page
    order_b = estates.client.get(f"/work-orders/{b.ids['order_id']}", headers=cookie)
    assert order_b.status_code == 404  # the console's own page, as for an order that is not there
    assert order_b.headers["content-type"].startswith("text/html")
    assert b.site not in order_b.text


@pytest.mark.parametrize("path", ["/api/v1/shifts", "/api/v1/rounds", "/api/v1/kpis"])
def test_rows_without_a_site_of_their_own_are_narrowed_before_the_route(
    estates: Estates, path: str
) -> None:
    """Shifts and rounds name a technician or a route, not a site, and KPIs are sums: they
    cannot be filtered afterwards. One site: ``?site=`` is filled in; several: name one."""
    a = estates.a
    one = estates.token("viewer", [a.site])
    mine = estates.client.get(path, headers=one)
    own = estates.client.get(path, params={"site": a.site})
    assert mine.status_code == 200, mine.text
    everything = estates.client.get(path).json()
    if "total" in everything:
        assert mine.json()["total"] == own.json()["total"] < everything["total"]
    else:
        assert mine.json()["site"] == a.site and mine.json()["assets"] == own.json()["assets"]
    two = estates.token("viewer", [a.site, estates.spare])
    unnamed = estates.client.get(path, headers=two)
    assert unnamed.status_code == 422 and "name one" in unnamed.json()["detail"]
    named = estates.client.get(path, headers=two, params={"site": a.site})
    assert named.status_code == 200
    stable = "total" if "total" in everything else "backlog"
    assert named.json()[stable] == own.json()[stable]


def test_the_event_stream_of_a_limited_token_carries_its_sites_events_only(
    broker: Broker, tmp_path: Path, database_url: str
) -> None:
    """Over a real server: B's notice is published first, A's second; once A's arrives, B's
    would have too (the stream is in event order), so its absence is the filter's doing."""
    import httpx

    from tests.api.serving import served
    from tests.api.test_events import Stream
    from tests.builders import wait_until

    tag = uuid.uuid4().hex[:6]
    a, b = f"east-{tag}", f"west-{tag}"
    app = create_app(build_service(make_settings(tmp_path, broker.url, database_url)))
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with served(app) as url, httpx.Client(base_url=url, headers=auth) as admin:
        for site in (a, b):
            assert admin.put(f"/api/v1/sites/{site}", json={"name": site}).status_code == 200
        made = admin.post("/api/v1/tokens", json={"name": "wall", "role": "viewer", "sites": [a]})
        secret = made.json()["token"]
        limited = Stream(url, Authorization=f"Bearer {secret}")
        everyone = Stream(url, Authorization=f"Bearer {ADMIN_TOKEN}")
        asked_for_b = httpx.get(
            f"{url}/api/v1/events",
            params={"site": b},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert asked_for_b.status_code == 404
        for site in (b, a):
            notice = {"site": site, "service": "water", "starts_at": "2030-01-01T01:00:00Z",
                      "reason": f"tank cleaning at {site}"}  # fmt: skip
            assert admin.post("/api/v1/notices", json=notice).status_code == 201
        wait_until(lambda: f"tank cleaning at {a}".encode() in limited.received, timeout=10)
        wait_until(lambda: f"tank cleaning at {a}".encode() in everyone.received, timeout=10)
        assert b.encode() not in limited.received
        assert f"tank cleaning at {b}".encode() in everyone.received  # B's event was there


def test_the_command_line_makes_a_token_limited_to_sites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    from click.testing import CliRunner
    from sqlalchemy import select

    from facility_dispatch.api.tokens import TokenRow, Tokens
    from facility_dispatch.cli import main
    from facility_dispatch.kernel.clock import SystemClock
    from facility_dispatch.kernel.db import make_engine, make_sessions
    from facility_dispatch.maintenance.sql import SiteRow
    from facility_dispatch.schema import migrate

    monkeypatch.chdir(tmp_path)  # no .env of this checkout
    monkeypatch.setenv("FACILITY_DATABASE_URL", database_url)
    engine = make_engine(database_url)
    migrate(engine)
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        session.add_all([SiteRow(site="east", name="East"), SiteRow(site="west", name="West")])
    made = CliRunner().invoke(
        main, ["tokens", "create", "--role", "planner", "--name", "Li Na", "--sites", "east, west"]
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[0]
    assert "sites east,west" in made.stderr
    principal = Tokens(sessions).verify(secret, SystemClock().now())
    assert principal is not None and principal.sites == frozenset({"east", "west"})

    refused = CliRunner().invoke(
        main, ["tokens", "create", "--role", "viewer", "--name", "typo", "--sites", "esat"]
    )
    assert refused.exit_code == 2
    assert (
        "--sites" in refused.output and "unknown site(s) esat; known: east, west" in refused.output
    )
    with sessions() as session:
        assert session.scalars(select(TokenRow.name)).all() == ["Li Na"]
    unlimited = CliRunner().invoke(main, ["tokens", "create", "--role", "viewer", "--name", "all"])
    assert unlimited.exit_code == 0
    everyone = Tokens(sessions).verify(unlimited.stdout.strip(), SystemClock().now())
    assert everyone is not None and everyone.sites is None
    engine.dispose()


def test_the_roll_up_lists_every_site_for_the_company_and_a_limited_token_its_own(
    estates: Estates,
) -> None:
    a, b = estates.a, estates.b
    company = estates.client.get("/api/v1/estates")
    assert company.status_code == 200, company.text
    by_site = {e["site"]: e for e in company.json()["items"]}
    assert {a.site, b.site, estates.spare} <= set(by_site)
    for world in (a, b):
        figures = by_site[world.site]
        alarms = estates.client.get(
            "/api/v1/alarms", params={"site": world.site, "state": "firing"}
        )
        assert sum(figures["firing"].values()) == alarms.json()["total"] == 1
        assets = estates.client.get("/api/v1/assets", params={"site": world.site}).json()
        assert sum(figures["assets"].values()) == assets["total"]
        open_orders = [
            o
            for o in estates.client.get("/api/v1/work-orders", params={"site": world.site}).json()[
                "items"
            ]
            if o["status"] not in ("closed", "cancelled")  # resolved: awaits closing, as on "/"
        ]
        assert sum(figures["open_orders"].values()) == len(open_orders) >= 1
    assert by_site[estates.spare]["assets"] == dict.fromkeys(
        ("ok", "alarm", "offline", "maintenance"), 0
    )
    limited = estates.client.get("/api/v1/estates", headers=estates.token("viewer", [a.site]))
    assert limited.status_code == 200
    assert [e["site"] for e in limited.json()["items"]] == [a.site]
    assert limited.json()["items"][0] == by_site[a.site]
    assert b.site not in limited.text


def _console_routes() -> list[Any]:
    """Every route of every module of the console (a new page module is walked too)."""
    import importlib
    import pkgutil

    from fastapi.routing import APIRoute

    import facility_dispatch.api.dashboard as console

    routes = []
    for module in pkgutil.iter_modules(console.__path__):
        router = getattr(
            importlib.import_module(f"{console.__name__}.{module.name}"), "router", None
        )
        routes += [r for r in getattr(router, "routes", []) if isinstance(r, APIRoute)]
    return routes


PUBLIC_PAGES = {"/r/{site}", "/r/t/{token}", "/n/ack/{token}", "/login", "/lang/{lang}"}
"""Pages anyone may open by design (a resident's QR page, a tracking or acknowledgement link
whose unguessable token is the permission), and the login itself."""


COMPANY_PAGES = {"/tokens"}
"""Company-wide pages (an admin limited to no site only): every limited login gets 403."""


def test_no_console_page_shows_a_limited_login_anything_of_another_site(estates: Estates) -> None:
    """Every page of the console, walked with B's names and ids by a login limited to A."""
    a, b = estates.a, estates.b
    client = estates.client
    secret = client.post(
        "/api/v1/tokens", json={"name": "east desk", "role": "planner", "sites": [a.site]}
    ).json()["token"]
    login = client.post(
        "/login",
        data={"token": secret},
        headers={"Authorization": "", "Origin": "http://testserver"},
        follow_redirects=False,
    )
    cookie = {"Authorization": "", "Cookie": f"facility_token={login.cookies['facility_token']}"}
    client.cookies.clear()
    ids = {**b.ids, "token": b.ids["checkpoint_token"]}
    pages = sorted(
        {
            (
                route.path,
                tuple(q.name for q in route.dependant.query_params if q.field_info.is_required()),
            )
            for route in _console_routes()
            if "GET" in (route.methods or ()) and route.path not in PUBLIC_PAGES
        }
    )
    paths = {path for path, _ in pages}
    assert {"/", "/estates", "/work-orders/{order_id}", "/inbox", "/parts/{part_id}"} <= paths
    for path, required in pages:
        for own in (False, True):
            chosen = a.ids if own else ids
            url = _fill(path, chosen)
            given = {**chosen, "post": chosen["post_id"], "day": "2099-01-05", "shift": "day"}
            query = {name: given[name.removeprefix("work_")] for name in required}
            shown = client.get(url, headers=cookie, params=query, follow_redirects=False)
            where = (own, url, shown.status_code, shown.text[:200])
            if path in COMPANY_PAGES:  # a limited login is refused these, as by the API
                assert shown.status_code == 403, where
            else:
                assert shown.status_code in ((200, 404, 409) if own else (404, 200)), where
            text = shown.text
            for echoed in (url, quote(url, safe=""), quote(url, safe="/")):
                text = text.replace(echoed, "")  # the visitor's own address, in the page's links
            assert b.site not in text, where
            if own and path not in (
                "/favicon.ico",
                "/inbox",
                *COMPANY_PAGES,
            ):  # the demo's inbox only
                assert shown.status_code in (200, 409), where  # 409: review of an open order


def test_a_company_part_shows_a_limited_token_its_own_stock_only(estates: Estates) -> None:
    a, b = estates.a, estates.b
    stock = [{"site": a.site, "on_hand": 3}, {"site": b.site, "on_hand": 40}]
    part = estates.client.post(
        "/api/v1/parts", json={"sku": "BELT-9", "name": "Belt", "stock": stock}
    )
    assert part.status_code == 201, part.text
    assert part.json()["stock"] == 43
    viewer = estates.token("viewer", [a.site])
    mine = estates.client.get(f"/api/v1/parts/{part.json()['id']}", headers=viewer)
    assert mine.status_code == 200
    assert mine.json()["stock"] == 3 and [s["site"] for s in mine.json()["sites"]] == [a.site]
    listed = estates.client.get("/api/v1/parts", headers=viewer).json()["items"]
    assert [p["stock"] for p in listed if p["sku"] == "BELT-9"] == [3]
