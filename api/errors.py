"""Domain errors to HTTP answers, and callers to domain actors."""

from __future__ import annotations

from typing import Any, NoReturn

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from facility_dispatch.api.auth import Principal, Role
from facility_dispatch.maintenance.authority import Rank
from facility_dispatch.maintenance.errors import (
    ConflictError,
    IllegalTransitionError,
    InvalidRequestError,
    NotFoundError,
    NotPermittedError,
)
from facility_dispatch.maintenance.orders import Actor

RANKS = {
    Role.VIEWER: Rank.VIEWER,
    Role.TECHNICIAN: Rank.TECHNICIAN,
    Role.PLANNER: Rank.PLANNER,
    Role.ADMIN: Rank.PLANNER,
}


class CodedHTTPException(HTTPException):
    """An error answer that says why by a code as well as in English: ``{"detail": ...,
    "code": ..., "params": {...}}`` (and ``field`` when a field is wrong). A page in another
    language shows its own text for the code (residents' refusals: ``r.refused.<code>``)."""

    def __init__(
        self, status_code: int, detail: str, code: str, params: dict[str, Any], field: str | None
    ) -> None:
        super().__init__(status_code, detail)
        self.code, self.params, self.field = code, params, field


def raise_for(error: Exception) -> NoReturn:
    code = getattr(error, "code", None)
    if isinstance(code, str) and isinstance(error, ConflictError | InvalidRequestError):
        status_code = 409 if isinstance(error, ConflictError) else 422
        params = dict(getattr(error, "params", None) or {})
        raise CodedHTTPException(
            status_code, str(error), code, params, getattr(error, "field", None)
        )
    if isinstance(error, IllegalTransitionError):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            {"message": str(error), "current": error.current, "allowed": list(error.allowed)},
        )
    if isinstance(error, NotPermittedError):
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(error))
    if isinstance(error, ConflictError):
        raise HTTPException(status.HTTP_409_CONFLICT, str(error))
    if isinstance(error, NotFoundError | LookupError):
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error).strip("'\""))
    if isinstance(error, InvalidRequestError):
        raise HTTPException(422, str(error))
    raise error


def actor_of(principal: Principal) -> Actor:
    """The caller as the work orders see them: what each rank may do is
    :mod:`facility_dispatch.maintenance.authority`'s to say."""
    return Actor(
        principal.name,
        principal.technician_id,
        RANKS[principal.role],
        principal.safety_manager,
    )


def install_handlers(app: FastAPI) -> None:
    """A value the database cannot hold (an id past 32 bits, a number past 64) is the caller's
    mistake: 422 naming it, not a 500. A coded refusal answers its code beside the detail."""

    async def out_of_range(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse(
            status_code=422, content={"detail": f"a value is out of range: {str(error)[:200]}"}
        )

    async def coded(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, CodedHTTPException)
        content: dict[str, Any] = {"detail": error.detail, "code": error.code}
        if error.field is not None:
            content["field"] = error.field
        content["params"] = error.params
        return JSONResponse(status_code=error.status_code, content=content)

    app.add_exception_handler(CodedHTTPException, coded)
    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(DataError, out_of_range)
