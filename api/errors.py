"""Domain errors to HTTP answers, and callers to domain actors."""

from __future__ import annotations

from typing import NoReturn

from fastapi import HTTPException, status

from api.auth import Principal, Role
from maintenance.errors import (
    ConflictError,
    IllegalTransitionError,
    InvalidRequestError,
    NotFoundError,
    NotYoursError,
)
from maintenance.orders import Actor


def raise_for(error: Exception) -> NoReturn:
    if isinstance(error, IllegalTransitionError):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            {"message": str(error), "current": error.current, "allowed": list(error.allowed)},
        )
    if isinstance(error, NotYoursError):
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(error))
    if isinstance(error, ConflictError):
        raise HTTPException(status.HTTP_409_CONFLICT, str(error))
    if isinstance(error, NotFoundError | LookupError):
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error).strip("'\""))
    if isinstance(error, InvalidRequestError):
        raise HTTPException(422, str(error))
    raise error


def actor_of(principal: Principal) -> Actor:
    """Planners and admins act on any order; a technician only on the orders assigned to them."""
    return Actor(principal.name, principal.technician_id, principal.role >= Role.PLANNER)
