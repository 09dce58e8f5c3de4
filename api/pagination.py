"""Collections answer ``{"items": [...], "total": n}`` and take ``limit`` and ``offset``.

A page also has a size in bytes: :func:`page` stops adding items once the page's JSON would
pass the budget (``FACILITY_MAX_PAGE_BYTES``), and ``next_offset`` says where the next page
starts, so a client pages on whether ``limit`` or the budget cut this one short.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Final, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import to_json

T = TypeVar("T")

ENVELOPE_BYTES: Final = 128
"""``{"items":[],"total":...,"next_offset":...}`` around the items, generously."""


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="items in the whole collection (with the filters given)")
    next_offset: int | None = Field(
        default=None,
        description="the offset of the next page; null on the last page. A page may hold "
        "fewer than limit items when their size reached the server's page budget",
    )


def page(items: Sequence[T], total: int, offset: int, budget: int) -> Page[T]:
    """``items`` (the collection from ``offset`` on) as a page of at most ``budget`` bytes of
    JSON, give or take the envelope; always at least one item, however large."""
    kept: list[T] = []
    size = ENVELOPE_BYTES
    for item in items:
        size += len(to_json(item, by_alias=True)) + 1
        if kept and size > budget:
            break
        kept.append(item)
    following = offset + len(kept)
    return Page[T](items=kept, total=total, next_offset=following if following < total else None)


MAX_ID = 2**31 - 1
"""Row ids are 32-bit integers in PostgreSQL: a larger one is refused (422), not passed down."""

Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many items")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="skip this many items")]


def _digits(value: object) -> object:
    """A path id is digits, nothing else: pydantic's lax integers would take " 4", "\\f4" or
    "4_000" as a number, so one order had many addresses (and a typo found another one)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("an id is a whole number written in digits")
    return value


Id = Annotated[int, Path(ge=1, le=MAX_ID), BeforeValidator(_digits)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
