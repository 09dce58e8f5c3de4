"""The fast path of decoding: one pydantic-core pass over the raw bytes for the common case.

pydantic validates a typical reading straight from JSON in about 3 µs here, against about 11 µs
for orjson plus the hand-written checks of :mod:`ingest.decoding`. It is built from the same
catalogue and is at least as strict: anything it refuses (an unknown metric, ``0``/``1`` for a
boolean, ``null`` for a fault code, a bad value) falls back to the hand-written path, which has
the final word and names the reason. So the two can never disagree about what is stored.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, TypeAdapter
from typing_extensions import TypedDict

from ingest.catalogue import CATALOGUE, MAX_STRING_LENGTH, MetricSpec, MetricType

_MAX_SEQ: Final = 2**63 - 1


def _field_type(spec: MetricSpec) -> Any:
    if spec.type is MetricType.BOOL:
        return StrictBool
    if spec.type is MetricType.ENUM:
        return Literal[spec.choices]
    if spec.type is MetricType.STRING:
        return Annotated[StrictStr, Field(max_length=MAX_STRING_LENGTH)]
    if spec.type is MetricType.INTEGER:
        return Annotated[StrictInt, Field(ge=spec.low, le=spec.high)]
    # strict float takes JSON integers too; a union of int and float would cost 3x as much
    return Annotated[float, Field(strict=True, allow_inf_nan=False, ge=spec.low, le=spec.high)]


def _adapters(kind: str) -> tuple[TypeAdapter[Any], TypeAdapter[Any]]:
    fields = {name: _field_type(spec) for name, spec in CATALOGUE[kind].items()}
    metrics = TypedDict(f"{kind.title()}Metrics", fields, total=False)  # type: ignore[misc]
    metrics.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]

    class Envelope(TypedDict, total=False):
        ts: Any  # str or number: checked and converted by the decoder
        seq: Annotated[StrictInt, Field(ge=0, le=_MAX_SEQ)]
        metrics: metrics
        values: metrics

    return TypeAdapter(Envelope), TypeAdapter(list[Envelope])


FAST_PATH: Final[dict[str, tuple[TypeAdapter[Any], TypeAdapter[Any]]]] = {
    kind: _adapters(kind) for kind in CATALOGUE
}
"""kind -> (adapter for one reading, adapter for an array); a union of both is slower."""
