"""Value objects of ingestion: what a device said, once it has been checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

MetricValue = float | int | bool | str


class Reading(NamedTuple):
    """One validated reading of one asset at one instant.

    ``ts_ms`` is epoch milliseconds (UTC); ``ts_given`` is False when the device sent no time
    and the time of receipt stands in for it (then only ``seq`` can spot a redelivery).
    A NamedTuple, not a frozen dataclass: it is built for every reading on the hot path, and
    a frozen dataclass costs 1.9 µs to construct here against 0.3 µs for the tuple.
    """

    site: str
    kind: str
    asset: str
    ts_ms: int
    metrics: Mapping[str, MetricValue]
    seq: int | None = None
    ts_given: bool = True


class RejectReason(StrEnum):
    """Why a message or reading was refused: the ``reason`` label of the rejected counter."""

    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    INVALID_JSON = "invalid_json"
    BAD_TOPIC = "bad_topic"
    BAD_SHAPE = "bad_shape"
    EMPTY = "empty"
    BAD_TIMESTAMP = "bad_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    TOO_OLD = "too_old"
    BAD_SEQ = "bad_seq"
    BAD_METRIC_NAME = "bad_metric_name"
    WRONG_TYPE = "wrong_type"
    OUT_OF_RANGE = "out_of_range"
    NOT_FINITE = "not_finite"
    UNKNOWN_ASSET = "unknown_asset"
    KIND_MISMATCH = "kind_mismatch"
    BAD_STATUS = "bad_status"
    TOO_DEEP = "too_deep"
    TOO_MANY_METRICS = "too_many_metrics"
    METRIC_LIMIT = "metric_limit"
    ASSET_LIMIT = "asset_limit"
    STORE_REFUSED = "store_refused"
    UNHANDLED = "unhandled"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused message (``index`` None) or one refused reading of an array."""

    reason: RejectReason
    detail: str
    index: int | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """What is kept of a refused message so that someone can find the device at fault."""

    received_ms: int
    topic: str
    payload_head: str
    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True)
class Presence:
    """A device's ``online``/``offline`` status message."""

    site: str
    kind: str
    asset: str
    online: bool
    received_ms: int
