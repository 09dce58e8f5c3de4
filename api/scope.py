"""Callers limited to sites (``facility tokens create --sites a,b``), decided here, once.

A token made with ``sites`` sees and acts on those sites only, and a dashboard login made
with it likewise. No route checks this itself; the role dependencies
(:func:`facility_dispatch.api.deps.require`) and the dashboard's visitor dependency call
:func:`check_request` for every request, and :class:`ScopeFilter` reads every JSON answer:

* **Before the route runs**: a site named in the path (``{site}``), in the query (``?site=``)
  or anywhere in a JSON body (``site``, ``sites``), and the site of each resource named by id
  in the path, the query or the body (:data:`SITE_OF`: an alarm, a work order, a plan, a
  technician: ``technician_id``, ``technician_ids`` ...), must be one of the caller's.
  Otherwise the answer is 404, the same as for what does not exist (``no site b``, ``no
  alarm 7``): a limited caller cannot even learn that another site's resource exists, and a
  write is refused before anything changes. 404 also for a body naming another site.
* **Lists** the caller does not narrow by site: with a single site, ``?site=`` is filled in
  before the route reads it (so totals and paging are exact, and the dashboard's pages show
  only that site); with several, a dashboard page is shown for the first, a list whose items
  name their site is filtered on the way out, and any other route taking ``?site=`` (KPIs,
  shifts, rounds) answers 422 until one is named. :class:`ScopeFilter` drops from every JSON
  answer each list item of another site (``site`` outside the caller's, or ``sites`` none of
  which is), at any depth, and turns an answer about another site's object into 404.
* **The event stream** asks the event log for the caller's sites only (``EventLog.since``).

Company-wide settings (tokens, the notification config) need an admin limited to no site
(:func:`facility_dispatch.api.deps.require`): a limited admin cannot widen itself by making
itself a new token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final, get_args

import orjson
from fastapi import HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facility_dispatch.api.auth import Principal
from facility_dispatch.api.backend import Backend
from facility_dispatch.api.pagination import Page
from facility_dispatch.maintenance.contractor_sql import ContractorRow
from facility_dispatch.maintenance.roster_sql import (
    CheckpointRow,
    HandoverRow,
    PostRow,
    RoundRow,
    RouteRow,
)
from facility_dispatch.maintenance.sql import (
    AbsenceRow,
    NoticeRow,
    OccurrenceRow,
    PlanRow,
    ShiftRow,
    TechnicianRow,
    WorkOrderRow,
)
from facility_dispatch.residents.sql import RequestRow, ReviewRow
from facility_dispatch.rules.sql import AlarmRow, SilenceRow

STATE_KEY: Final = "site_scope"
"""Where :func:`check_request` leaves the caller's sites for :class:`ScopeFilter`."""


def _one(session: Session, column: Any, key: Any, value: int) -> set[str] | None:
    site = session.scalar(select(column).where(key == value))
    return None if site is None else {site}


def _technician(session: Session, technician_id: int) -> set[str] | None:
    sites = session.scalar(select(TechnicianRow.sites).where(TechnicianRow.id == technician_id))
    return None if sites is None else set(sites)


def _shift(session: Session, shift_id: int) -> set[str] | None:
    row = session.execute(
        select(ShiftRow.site, ShiftRow.technician_id).where(ShiftRow.id == shift_id)
    ).first()
    if row is None:
        return None
    return {row.site} if row.site else _technician(session, row.technician_id)


def _absence(session: Session, absence_id: int) -> set[str] | None:
    technician = session.scalar(select(AbsenceRow.technician_id).where(AbsenceRow.id == absence_id))
    return None if technician is None else _technician(session, technician)


def _round(session: Session, round_id: int) -> set[str] | None:
    site = session.scalar(
        select(RouteRow.site)
        .join(RoundRow, RoundRow.route_id == RouteRow.id)
        .where(RoundRow.id == round_id)
    )
    return None if site is None else {site}


def _contractor(session: Session, contractor_id: int) -> set[str] | None:
    """A contractor is seen where it works: its sites (none listed: it covers every site)."""
    sites = session.scalar(select(ContractorRow.sites).where(ContractorRow.id == contractor_id))
    return None if sites is None else set(sites)


def _occurrence(session: Session, occurrence_id: int) -> set[str] | None:
    site = session.scalar(
        select(PlanRow.site)
        .join(OccurrenceRow, OccurrenceRow.plan_id == PlanRow.id)
        .where(OccurrenceRow.id == occurrence_id)
    )
    return None if site is None else {site}


SITE_OF: Final[dict[str, Callable[[Session, int], set[str] | None]]] = {
    "alarm_id": lambda s, i: _one(s, AlarmRow.site, AlarmRow.id, i),
    "order_id": lambda s, i: _one(s, WorkOrderRow.site, WorkOrderRow.id, i),
    "work_order_id": lambda s, i: _one(s, WorkOrderRow.site, WorkOrderRow.id, i),
    "plan_id": lambda s, i: _one(s, PlanRow.site, PlanRow.id, i),
    "request_id": lambda s, i: _one(s, RequestRow.site, RequestRow.id, i),
    "review_id": lambda s, i: _one(s, ReviewRow.site, ReviewRow.id, i),
    "silence_id": lambda s, i: _one(s, SilenceRow.site, SilenceRow.id, i),
    "post_id": lambda s, i: _one(s, PostRow.site, PostRow.id, i),
    "post": lambda s, i: _one(s, PostRow.site, PostRow.id, i),  # ?post= of /rosters/substitutes
    "handover_id": lambda s, i: _one(s, HandoverRow.site, HandoverRow.id, i),
    "route_id": lambda s, i: _one(s, RouteRow.site, RouteRow.id, i),
    "round_id": _round,
    "technician_id": _technician,
    "shift_id": _shift,
    "absence_id": _absence,
    "contractor_id": _contractor,
    "occurrence_id": _occurrence,
    "notice_id": lambda s, i: _one(s, NoticeRow.site, NoticeRow.id, i),
}
"""Path and query parameters that name a resource of a site: the site(s) of the one with that
id (None when there is none; the route answers its own 404). A technician belongs to the sites they
work at (none listed: every site)."""


CALLED: Final = {
    "order_id": "work order",
    "work_order_id": "work order",
    "review_id": "complaint review",
}
"""What the routes call a resource in their own 404 (``no work order 7``): the scope's 404 says
the same words, so it cannot be told from the answer for an id that does not exist."""


def _checkpoint(session: Session, token: str) -> set[str] | None:
    site = session.scalar(
        select(RouteRow.site)
        .join(CheckpointRow, CheckpointRow.route_id == RouteRow.id)
        .where(CheckpointRow.token == token)
    )
    return None if site is None else {site}


SITE_OF_KEY: Final[dict[str, Callable[[Session, str], set[str] | None]]] = {
    "token": _checkpoint,
}
"""Path parameters that name a resource of a site by a key, not an id: a checkpoint's code
(``/p/{token}``). The residents' tracking and the acknowledgement links also take a
``{token}``, but no login: they are never checked here."""

NOT_SITE_BOUND: Final = frozenset(
    {"part_id", "token_id", "item_id", "checkpoint_id", "position", "key", "year", "asset"}
)
"""Path parameters that need no check of their own: the parts catalogue and tokens are
company-wide (a part's stock at other sites is filtered from answers), and the others name
something inside a resource (an order's checklist item, a round's checkpoint, a photo) or
inside a site whose own parameter is checked."""


def _names(value: Any) -> Iterable[str]:
    """Every site named in a JSON body, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "site" and isinstance(item, str):
                yield item
            elif key == "sites" and isinstance(item, list):
                yield from (s for s in item if isinstance(s, str))
            else:
                yield from _names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _names(item)


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no {what}")


def resource_sites(service: Backend, param: str, value: int) -> set[str] | None:
    with service.sessions() as session:
        return SITE_OF[param](session, value)


def _visible(principal: Principal, sites: set[str]) -> bool:
    """A resource of several sites (a technician) is seen when one of them is the caller's;
    a technician of no listed site works everywhere."""
    return not sites or any(principal.sees(s) for s in sites)


def check_path(principal: Principal, service: Backend, path_params: dict[str, Any]) -> None:
    """404 unless every site and resource the path names is the caller's."""
    site = path_params.get("site")
    if isinstance(site, str) and not principal.sees(site):
        raise not_found(f"site {site}")
    for param, value in path_params.items():
        if param in SITE_OF_KEY and isinstance(value, str) and len(value) <= 64:
            with service.sessions() as session:
                sites = SITE_OF_KEY[param](session, value)
            if sites is not None and not _visible(principal, sites):
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no checkpoint has that code")
    check_references(principal, service, [(p, v) for p, v in path_params.items() if p in SITE_OF])


def check_references(
    principal: Principal, service: Backend, references: Iterable[tuple[str, Any]]
) -> None:
    """404 unless every resource named by id (``("technician_id", 7)``) is the caller's."""
    for param, value in references:
        try:
            ident = int(value)
        except (TypeError, ValueError):
            continue  # the route's own validation answers 422
        if not 1 <= ident <= 2**31 - 1:
            continue
        sites = resource_sites(service, param, ident)
        if sites is not None and not _visible(principal, sites):
            raise not_found(f"{CALLED.get(param, param.removesuffix('_id'))} {ident}")


def _references(value: Any) -> Iterable[tuple[str, Any]]:
    """Every resource a JSON body names by id, at any depth: ``technician_id: 7`` and
    ``technician_ids: [7, 8]`` (a shift for, or an assignment of, another site's technician)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in SITE_OF and isinstance(item, int) and not isinstance(item, bool):
                yield key, item
            elif key.endswith("_ids") and key[:-1] in SITE_OF and isinstance(item, list):
                yield from ((key[:-1], i) for i in item if isinstance(i, int))
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _filtered_on_the_way_out(model: Any) -> bool:
    """Whether :class:`ScopeFilter` can take another site's rows out of this route's answer:
    a page of items that always name their site (or sites; a shift of no site cannot be
    told), or the event stream (filtered by the log; it has no response model)."""
    if model is None:
        return True
    if not (isinstance(model, type) and issubclass(model, Page)):
        return False
    item = model.model_fields["items"].annotation
    fields = getattr(get_args(item)[0] if get_args(item) else item, "model_fields", {})
    site, sites = fields.get("site"), fields.get("sites")
    if site is not None and site.annotation is str:
        return True
    named = get_args(sites.annotation) if sites is not None else ()
    return len(named) == 1 and str in (named[0], *get_args(named[0]))  # list[str | SiteName]


def _fill_site(request: Request, principal: Principal, dashboard: bool) -> None:
    """``?site=`` set for a caller of one site (or, on a dashboard page, the first of several)
    when the route takes it and it was not given. A caller of several sites must name one
    for a summary (KPIs); a list is filtered on the way out instead."""
    assert principal.sites is not None
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not any(p.name == "site" for p in dependant.query_params):
        return
    if len(principal.sites) != 1 and not dashboard:
        if _filtered_on_the_way_out(getattr(route, "response_model", None)):
            return
        raise HTTPException(  # a summary (KPIs), or a list of rows that carry no site
            422, f"site: this token is limited to {', '.join(sorted(principal.sites))}; name one"
        )
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "site"]
    params.append(("site", sorted(principal.sites)[0]))
    query = str(QueryParams(params)).encode()
    request.scope["query_string"] = query
    request._query_params = QueryParams(query)  # read by FastAPI after the dependencies


async def check_request(
    request: Request, service: Backend, principal: Principal, dashboard: bool = False
) -> None:
    """Every check made before a route runs, for a caller limited to sites (see the module)."""
    if principal.sites is None:
        return
    request.scope.setdefault("state", {})[STATE_KEY] = principal.sites
    await run_in_threadpool(check_path, principal, service, dict(request.path_params))
    queried = [(k, v) for k, v in request.query_params.multi_items() if k in SITE_OF]
    if queried:  # ?work_order_id=, ?technician_id= ...
        await run_in_threadpool(check_references, principal, service, queried)
    asked = [s for s in request.query_params.getlist("site") if s]
    for site in asked:  # every value: a route might read the first, the last, or all
        if not principal.sees(site):
            raise not_found(f"site {site}")
    if not asked:
        _fill_site(request, principal, dashboard)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return  # the route's validation answers 422
        for given in _names(body):
            if not principal.sees(given):
                raise not_found(f"site {given}")
        references = list(_references(body))
        if references:
            await run_in_threadpool(check_references, principal, service, references)


class _ForeignError(Exception):
    """An object of another site outside any list: the whole answer is about it."""


def visible_only(value: Any, sites: frozenset[str]) -> tuple[Any, int]:
    """``value`` without the objects of other sites in its lists, and how many were dropped
    from the top-level ``items`` (a page's ``total`` is lowered by as many); None when an
    object of another site is not in a list (the answer is about it: 404)."""
    dropped = 0

    def keep(item: Any) -> bool:
        if not isinstance(item, dict):
            return True
        site = item.get("site")
        if isinstance(site, str) and site not in sites:
            return False
        named = [s for s in item.get("sites") or () if isinstance(s, str)]
        return not named or any(s in sites for s in named)

    def walk(node: Any, top: bool) -> Any:
        nonlocal dropped
        if isinstance(node, dict):
            if not keep(node):
                raise _ForeignError
            return {k: walk(v, top and k == "items") for k, v in node.items()}
        if isinstance(node, list):
            kept = [walk(item, False) for item in node if keep(item)]
            if top:
                dropped += len(node) - len(kept)
            return kept
        return node

    try:
        return walk(value, True), dropped
    except _ForeignError:
        return None, 0


class ScopeFilter:
    """ASGI middleware: a JSON answer to a caller limited to sites loses every object of
    another site (a single one becomes 404). The routes' own checks come first
    (:func:`check_request`); this is the net under every list, so a new list that forgets to
    narrow by site still shows nothing of another site."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def filtering(message: Message) -> None:
            nonlocal start
            sites = scope.get("state", {}).get(STATE_KEY)
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                json = headers.get(b"content-type", b"").startswith(b"application/json")
                if sites is None or not json:
                    await send(message)
                    return
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await send_filtered(start, b"".join(chunks), sites)

        async def send_filtered(first: Message, body: bytes, sites: frozenset[str]) -> None:
            status_code = first["status"]
            try:
                value = orjson.loads(body)
            except orjson.JSONDecodeError:
                value = None
            else:
                value, dropped = visible_only(value, sites)
                if value is None:
                    status_code = 404
                    value = {"detail": "not found"}
                elif dropped and isinstance(value, dict) and isinstance(value.get("total"), int):
                    value["total"] = max(value["total"] - dropped, len(value.get("items", [])))
                body = orjson.dumps(value)
            headers = [
                (k, v) for k, v in first.get("headers", []) if k.lower() != b"content-length"
            ]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**first, "status": status_code, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, filtering)
