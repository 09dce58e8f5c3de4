"""Collections answer ``{"items": [...], "total": n}`` and take ``limit`` and ``offset``."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


MAX_ID = 2**31 - 1
"""Row ids are 32-bit integers in PostgreSQL: a larger one is refused (422), not passed down."""

Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many items")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="skip this many items")]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
