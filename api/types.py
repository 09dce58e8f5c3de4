"""Input types the routers share: strict times, names of the topic tree, bounded numbers.

Each is written once here so that a query parameter and a JSON field of the same meaning are
checked the same way everywhere (and the OpenAPI document says so).
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, Field, model_validator

from facility_dispatch.ingest.topics import ASSET_PATTERN, KINDS, SITE_PATTERN
from facility_dispatch.kernel.clock import parse_rfc3339


def _rfc3339(value: object) -> datetime:
    """A time as the SPEC gives it: an RFC 3339 string with its offset, taken as UTC. Not a
    number (``start=0.5`` is not a time), not ISO 8601's other forms (``20261129T060000Z``,
    week dates), not a local time without an offset. Aware datetimes (from our own code)
    pass."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a time needs a UTC offset (RFC 3339, e.g. 2026-11-29T06:00:00Z)")
        parsed = value
    elif isinstance(value, str):
        parsed = parse_rfc3339(value)
    else:
        raise ValueError("a time is an RFC 3339 string, e.g. 2026-11-29T06:00:00Z")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first UTC instant we hold
        raise ValueError(f"{value!s:.40} is out of range") from None


UtcDateTime = Annotated[
    datetime, BeforeValidator(_rfc3339), Field(examples=["2026-11-29T06:00:00Z"])
]
"""A timezone-aware UTC datetime, given as an RFC 3339 string with a ``Z`` or an offset."""

SITE_REGEX: Final = f"^{SITE_PATTERN.pattern}$"
ASSET_REGEX: Final = f"^{ASSET_PATTERN.pattern}$"

SiteName = Annotated[str, Field(pattern=SITE_REGEX, examples=["green-garden"])]
AssetName = Annotated[str, Field(pattern=ASSET_REGEX, examples=["lift-1"])]
Kind = Literal["elevator", "water", "power", "cctv"]
if get_args(Kind) != KINDS:  # the topic tree (ingest/topics.py) is the one source
    raise RuntimeError(f"api.types.Kind {get_args(Kind)} differs from ingest.topics.KINDS")

SitePath = Annotated[str, Path(pattern=SITE_REGEX, description="a site name (SPEC section 1)")]
AssetPath = Annotated[str, Path(pattern=ASSET_REGEX, description="an asset name at its site")]
SiteQuery = Annotated[str | None, Query(pattern=SITE_REGEX, description="only this site")]
AssetQuery = Annotated[str | None, Query(pattern=ASSET_REGEX, description="only this asset")]

MAX_QUANTITY: Final = 1_000_000
"""Stock is counted in units a store room holds: no delivery or movement is larger."""


Quantity = Annotated[float, Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False)]
"""An amount of a part moved or delivered: more than 0, at most a million."""
StockAmount = Annotated[float, Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False)]
"""An amount on hand or a reorder point: 0 to a million."""

EVENT_ID_MAX: Final = 2**63 - 1
"""Event ids are 64-bit integers in the database."""


_NUMBERS: Final = {int: (int,), float: (int, float)}


class Input(BaseModel):
    """A request body: JSON types are taken as the document states them.

    pydantic's lax mode would take ``true`` or ``"5"`` for a number, ``5.0`` for an integer and
    ``1`` for a boolean, which the OpenAPI document says are wrong (schemathesis sends them);
    strict mode would refuse the RFC 3339 strings the time fields parse. So only these
    coercions are refused, here, once for every body model."""

    @model_validator(mode="before")
    @classmethod
    def _json_types(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            value = data.get(field.alias or name, None)
            if value is None:
                continue
            wanted = _wanted(field.annotation)
            if wanted is None:
                continue
            if type(value) not in wanted:
                kind = "true or false" if wanted == (bool,) else "a number"
                if wanted == (int,):
                    kind = "a whole number"
                raise ValueError(f"{name} must be {kind}, not {type(value).__name__}")
        return data


def _wanted(annotation: Any) -> tuple[type, ...] | None:
    """The JSON value types a field takes, where the lax mode would take more."""
    options = (
        [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) in (Union, UnionType)
        else [annotation]
    )
    if len(options) != 1:
        return None
    only = options[0]
    if only is bool:
        return (bool,)
    return _NUMBERS.get(only)
