"""422 answers in FastAPI's shape (a list of errors) that never echo much of what was sent.

FastAPI's own handler copies each error's ``input`` whole: a 42 MB string came back as a 42 MB
answer. Here each error keeps ``type``, ``loc``, ``msg`` and ``ctx``, its ``input`` is cut to
:data:`MAX_INPUT_CHARS` characters of its JSON, and at most :data:`MAX_ERRORS` are listed.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

MAX_ERRORS: Final = 20
MAX_INPUT_CHARS: Final = 200
MAX_TEXT_CHARS: Final = 500
"""A message or a location part longer than this (a key sent as a megabyte) is cut too."""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _json_safe(value: Any) -> Any:
    """Only what JSON holds, and small: a structure larger than the limit becomes the start of
    its JSON text (so the client still sees what it sent, not all of it)."""
    try:
        text = orjson.dumps(value, default=repr, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return _cut(repr(value), MAX_INPUT_CHARS)
    if len(text) <= MAX_INPUT_CHARS:
        return orjson.loads(text)
    return _cut(text.decode("utf-8", "replace"), MAX_INPUT_CHARS)


def bounded_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = []
    for error in errors[:MAX_ERRORS]:
        entry: dict[str, Any] = {
            "type": _cut(str(error.get("type", "value_error")), MAX_TEXT_CHARS),
            "loc": [
                part if isinstance(part, int) else _cut(str(part), MAX_TEXT_CHARS)
                for part in error.get("loc", ())
            ],
            "msg": _cut(str(error.get("msg", "")), MAX_TEXT_CHARS),
        }
        if "input" in error:
            entry["input"] = _json_safe(error["input"])
        ctx = error.get("ctx")
        if isinstance(ctx, dict):
            entry["ctx"] = {
                _cut(str(key), MAX_TEXT_CHARS): _json_safe(
                    value if isinstance(value, int | float | str | None) else str(value)
                )
                for key, value in ctx.items()
            }
        listed.append(entry)
    if len(errors) > MAX_ERRORS:
        listed.append(
            {
                "type": "too_many_errors",
                "loc": [],
                "msg": f"{len(errors) - MAX_ERRORS} more errors not listed; fix these first",
            }
        )
    return listed


async def validation_failed(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": bounded_errors(list(error.errors()))})
