"""The OpenAPI document says what each operation answers when it refuses, as it is sent.

FastAPI documents only the success and a 422 whose ``detail`` is a list; the routes also answer
401/403 (authentication and roles), 404, 409 (a lifecycle step names the allowed ones), 413 (the
body limit), 400 (an unreadable body), and 422 with a sentence when a check needs more than one
field. :func:`document_errors` adds them once, for every operation, from what the operation is:
secured or not, with path parameters or a body, and which refusals its endpoint raises (an endpoint
that hands domain errors to :func:`facility_dispatch.api.errors.raise_for` answers what that
sends)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from types import CodeType
from typing import Any, Final

import fastapi.routing
from starlette.routing import BaseRoute

Schema = dict[str, Any]
_route_contexts: Callable[[Sequence[BaseRoute]], Iterator[Any]] = getattr(
    fastapi.routing, "iter_route_contexts", iter
)
"""Every route with its full path: FastAPI 0.16x keeps an included router's routes in it."""

ERROR: Final[Schema] = {
    "title": "Error",
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "what was wrong, in words"}},
    "required": ["detail"],
}
ILLEGAL_TRANSITION: Final[Schema] = {
    "title": "IllegalTransition",
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "current": {"type": "string", "description": "the order's status now"},
        "allowed": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the statuses it may move to from there",
        },
    },
    "required": ["message", "current", "allowed"],
}
CODED: Final[Schema] = {
    "code": {
        "type": "string",
        "description": "why, as a code a page says in its own language (a resident's request: "
        "r.refused.<code>); the detail says it in English",
    },
    "field": {"type": "string", "description": "the field the code is about, when one is"},
    "params": {"type": "object", "description": "the values the code's words name"},
}
"""Optional beside ``detail`` when a refusal carries a code (api.errors.CodedHTTPException)."""
CONFLICT: Final[Schema] = {
    "title": "Conflict",
    "type": "object",
    "properties": {
        "detail": {
            "anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/IllegalTransition"}]
        },
        **CODED,
    },
    "required": ["detail"],
}
VALIDATION_DETAIL: Final[Schema] = {
    "title": "Detail",
    "description": "the errors, each naming where (at most 20 and a note of the rest; each "
    "input cut to 200 characters), or a sentence when the check spans several fields",
    "anyOf": [
        {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
        {"type": "string"},
    ],
}

ANSWERS: Final[dict[int, tuple[str, str]]] = {
    400: ("Error", "the body could not be read"),
    401: ("Error", "no token, or one that is unknown, revoked or expired (or an ended login)"),
    403: (
        "Error",
        "the caller's role or ownership does not allow it, or a change made with the login "
        "cookie did not come from this site's pages",
    ),
    404: ("Error", "no such thing"),
    409: ("Conflict", "it conflicts with the current state (a lifecycle step names the allowed)"),
    413: ("Error", "the request body is larger than the server takes"),
    429: ("Error", "too many requests from this address or phone: wait Retry-After seconds"),
}

_REFUSALS: Final[dict[str, set[int]]] = {
    "raise_for": {403, 404, 409, 422},
    "HTTP_403_FORBIDDEN": {403},
    "HTTP_404_NOT_FOUND": {404},
    "HTTP_409_CONFLICT": {409},
    "HTTP_503_SERVICE_UNAVAILABLE": {503},
    "HTTP_429_TOO_MANY_REQUESTS": {429},
    "too_many": {429},
}


def _codes(code: CodeType) -> Iterator[CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _codes(const)


def raised_statuses(endpoint: Callable[..., Any]) -> set[int]:
    """The refusals an endpoint's own code names: ``raise_for``, ``status.HTTP_4xx`` names,
    or a literal status given to HTTPException."""
    code = getattr(endpoint, "__code__", None)
    if code is None:
        return set()
    found: set[int] = set()
    for part in _codes(code):
        for name in part.co_names:
            found |= _REFUSALS.get(name, set())
        found |= {c for c in part.co_consts if type(c) is int and c in (400, 404, 409, 422)}
    return found


def document_errors(document: Schema, routes: Sequence[BaseRoute]) -> Schema:
    """Add the error answers to every operation of ``document`` (in place), and return it."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["IllegalTransition"] = ILLEGAL_TRANSITION
    schemas["Conflict"] = CONFLICT
    if "HTTPValidationError" in schemas:
        schemas["HTTPValidationError"]["properties"]["detail"] = VALIDATION_DETAIL
        schemas["HTTPValidationError"]["properties"].update(CODED)
        schemas["HTTPValidationError"]["required"] = ["detail"]
    endpoints: dict[tuple[str, str], Callable[..., Any]] = {}
    for route in _route_contexts(routes):
        path, endpoint = getattr(route, "path_format", None), getattr(route, "endpoint", None)
        if path is not None and endpoint is not None:
            for method in getattr(route, "methods", None) or ():
                endpoints[(path, method.lower())] = endpoint
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            statuses = {413} | raised_statuses(endpoints.get((path, method), lambda: None))
            if operation.get("security"):
                statuses |= {401, 403}
            parameters = operation.get("parameters", [])
            if any(p.get("in") == "path" for p in parameters):
                statuses.add(404)
            if "requestBody" in operation:
                statuses.add(400)
            if parameters or "requestBody" in operation:
                statuses.add(422)
            _add(operation, statuses)
    return document


def _add(operation: Schema, statuses: set[int]) -> None:
    responses = operation.setdefault("responses", {})
    for status in sorted(statuses):
        key = str(status)
        if status == 422:
            responses[key] = {
                "description": "the input is not valid",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/HTTPValidationError"}
                    }
                },
            }
        elif status == 503 and "200" in responses:
            responses.setdefault(key, {**responses["200"], "description": "not ready"})
        elif status in ANSWERS:
            schema, description = ANSWERS[status]
            answer: Schema = {
                "description": description,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                },
            }
            if status == 401:
                answer["headers"] = {
                    "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}
                }
            if status == 429:
                answer["headers"] = {
                    "Retry-After": {"schema": {"type": "string"}, "description": "seconds"}
                }
            responses.setdefault(key, answer)
