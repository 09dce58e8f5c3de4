"""Payload decoding and validation (SPEC section 1), as a pure function that never raises.

Two paths. Most messages pass :mod:`facility_dispatch.ingest.fastpath`, one pydantic-core pass over
the raw bytes. Whatever it refuses comes here, to checks written out by hand, which accept what the
SPEC allows beyond the fast path's strict types (``0``/``1`` for booleans, unknown metrics, the good
readings of an array that holds a bad one) and give each refusal its contract reason."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import pydantic_core
from pydantic import ValidationError

from facility_dispatch.ingest.catalogue import (
    CATALOGUE,
    MAX_INT64,
    MAX_STRING_LENGTH,
    MetricSpec,
    MetricType,
)
from facility_dispatch.ingest.fastpath import FAST_PATH
from facility_dispatch.ingest.topics import DeviceTopic
from facility_dispatch.kernel.clock import parse_rfc3339
from facility_dispatch.kernel.readings import (
    MetricValue,
    Presence,
    Reading,
    Rejection,
    RejectReason,
)

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES: Final = 64 * 1024
MAX_JSON_DEPTH: Final = 200
"""The parsers (pydantic-core's jiter, on both paths) refuse JSON nested deeper than this
while they read it, without recursion in Python: a reading needs four levels."""
# no leading underscore: InfluxDB keeps that namespace for itself
_METRIC_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_EPOCH_MS_THRESHOLD: Final = 1e12
_MAX_SEQ: Final = MAX_INT64


@dataclass(frozen=True, slots=True)
class DecodePolicy:
    """The limits that depend on configuration and on the moment of receipt."""

    max_future_ms: int = 5 * 60 * 1000
    retention_ms: int = 400 * 86_400_000
    max_metrics: int = 128
    """Metrics in one reading: a device that sends thousands is refused, not remembered."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """The good readings of a message and the refusals (whole message or per array element)."""

    readings: tuple[Reading, ...]
    rejections: tuple[Rejection, ...]


class _RefusedError(Exception):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail


def _refuse(reason: RejectReason, detail: str) -> Decoded:
    return Decoded((), (Rejection(reason, detail),))


def decode_telemetry(
    device: DeviceTopic,
    payload: bytes,
    received_ms: int,
    policy: DecodePolicy,
    *,
    fast: bool = True,
) -> Decoded:
    """Decode one telemetry message into readings; every refusal carries its reason.

    Never raises: a message that trips over a fault of ours is refused as ``unhandled``
    (and logged), so one message can never stop the write path behind it."""
    try:
        return _decode(device, payload, received_ms, policy, fast)
    except Exception as error:
        log.exception("decoding a message from %s/%s failed", device.site, device.asset)
        return _refuse(RejectReason.UNHANDLED, f"could not be decoded ({type(error).__name__})")


def _decode(
    device: DeviceTopic, payload: bytes, received_ms: int, policy: DecodePolicy, fast: bool
) -> Decoded:
    if len(payload) > MAX_PAYLOAD_BYTES:
        return _refuse(
            RejectReason.TOO_LARGE, f"{len(payload)} bytes, the limit is {MAX_PAYLOAD_BYTES}"
        )
    adapters = FAST_PATH.get(device.kind) if fast else None
    if adapters is not None:
        adapter = adapters[1] if payload.lstrip()[:1] == b"[" else adapters[0]
        try:
            validated = adapter.validate_json(payload)
        except ValidationError:
            pass  # the hand-written path decides, and says why
        else:
            if type(validated) is dict:
                reading = _checked_reading(device, validated, received_ms, policy)
                if reading is not None:
                    return Decoded((reading,), ())
                validated = [validated]
            elif validated:
                # a gateway's batch: every reading the common case, or the general path decides
                quick = [_checked_reading(device, item, received_ms, policy) for item in validated]
                if None not in quick:
                    return Decoded(tuple(quick), ())  # type: ignore[arg-type]
            decoded = _envelopes(device, validated, received_ms, policy, None, True)
            if decoded.readings or not validated:
                return decoded
    try:
        # jiter, not orjson: it keeps integers past 64 bits as integers (orjson turns them into
        # floats, so a range check could not see them), bounds the depth, and reads NaN and
        # Infinity so that the value checks can name the metric that carries one
        document = pydantic_core.from_json(payload, allow_inf_nan=True)
    except ValueError as error:
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(RejectReason.NOT_UTF8, "payload is not UTF-8")
        if "recursion limit" in str(error):
            return _refuse(RejectReason.TOO_DEEP, f"JSON nested deeper than {MAX_JSON_DEPTH}")
        return _refuse(RejectReason.INVALID_JSON, f"not JSON: {str(error)[:120]}")
    if isinstance(document, dict):
        items: list[Any] = [document]
        single = True
    elif isinstance(document, list):
        if not document:
            return _refuse(RejectReason.EMPTY, "empty array")
        items = document
        single = False
    else:
        return _refuse(
            RejectReason.BAD_SHAPE, f"payload is a JSON {type(document).__name__}, not an object"
        )
    return _envelopes(device, items, received_ms, policy, VALIDATORS.get(device.kind, {}), single)


def _envelopes(
    device: DeviceTopic,
    items: list[Any],
    received_ms: int,
    policy: DecodePolicy,
    checks: dict[str, Validator] | None,
    single: bool,
) -> Decoded:
    """Readings from envelopes; ``checks`` None when the fast path has checked the metrics."""
    if not items:
        return _refuse(RejectReason.EMPTY, "empty array")
    single = single and len(items) == 1
    readings: list[Reading] = []
    rejections: list[Rejection] = []
    for index, item in enumerate(items):
        try:
            readings.append(_reading(device, item, received_ms, policy, checks))
        except _RefusedError as refused:
            rejections.append(Rejection(refused.reason, refused.detail, None if single else index))
    return Decoded(tuple(readings), tuple(rejections))


def _checked_reading(
    device: DeviceTopic, item: dict[str, Any], received_ms: int, policy: DecodePolicy
) -> Reading | None:
    """The commonest case, inline: one reading, metrics already checked, epoch-ms or no ts.

    None when anything needs a closer look (the general path then decides)."""
    metrics = item.get("metrics")
    if not metrics or "values" in item:
        return None
    ts = item.get("ts")
    if ts is None:
        return Reading(
            device.site, device.kind, device.asset, received_ms, metrics, item.get("seq"), False
        )
    if type(ts) is not int or ts <= _EPOCH_MS_THRESHOLD:
        return None
    if ts > received_ms + policy.max_future_ms or ts < received_ms - policy.retention_ms:
        return None
    return Reading(device.site, device.kind, device.asset, ts, metrics, item.get("seq"), True)


def decode_status(device: DeviceTopic, payload: bytes, received_ms: int) -> Presence | Rejection:
    """``online`` or ``offline`` (a JSON string of either is accepted too)."""
    text = payload.decode("utf-8", errors="replace").strip().strip('"').lower()
    if text not in ("online", "offline"):
        return Rejection(RejectReason.BAD_STATUS, f"status {text[:40]!r} is not online/offline")
    return Presence(device.site, device.kind, device.asset, text == "online", received_ms)


def _reading(
    device: DeviceTopic,
    item: Any,
    received_ms: int,
    policy: DecodePolicy,
    checks: dict[str, Validator] | None,
) -> Reading:
    if not isinstance(item, dict):
        raise _RefusedError(RejectReason.BAD_SHAPE, f"a reading is a JSON {type(item).__name__}")
    metrics = item.get("metrics")
    values = item.get("values")
    if metrics is None:
        metrics = values  # ThingsBoard's {"ts": ms, "values": {...}}
    elif values is not None:
        raise _RefusedError(RejectReason.BAD_SHAPE, "both 'metrics' and 'values' given")
    if metrics is None:
        raise _RefusedError(RejectReason.BAD_SHAPE, "no 'metrics' (or ThingsBoard 'values') object")
    if not isinstance(metrics, dict):
        raise _RefusedError(RejectReason.BAD_SHAPE, "'metrics' must be an object")
    if not metrics:
        raise _RefusedError(RejectReason.EMPTY, "'metrics' is empty")
    if len(metrics) > policy.max_metrics:
        raise _RefusedError(
            RejectReason.TOO_MANY_METRICS,
            f"{len(metrics)} metrics in one reading, the limit is {policy.max_metrics}",
        )

    raw_ts = item.get("ts")
    if raw_ts is None:
        ts_ms, ts_given = received_ms, False
    else:
        ts_ms, ts_given = _timestamp(raw_ts), True
        if ts_ms > received_ms + policy.max_future_ms:
            raise _RefusedError(
                RejectReason.FUTURE_TIMESTAMP,
                f"ts is {(ts_ms - received_ms) / 1000:.0f}s ahead of the service clock",
            )
        if ts_ms < received_ms - policy.retention_ms:
            raise _RefusedError(RejectReason.TOO_OLD, "ts is older than the telemetry retention")

    seq = item.get("seq")
    if seq is not None and (
        type(seq) is not int or seq < 0 or seq > _MAX_SEQ  # bool is not a seq
    ):
        raise _RefusedError(
            RejectReason.BAD_SEQ, f"seq {str(seq)[:40]!r} is not a whole number >= 0"
        )

    if checks is None:
        return Reading(device.site, device.kind, device.asset, ts_ms, metrics, seq, ts_given)
    clean: dict[str, MetricValue] = {}
    for name, value in metrics.items():
        check = checks.get(name)
        if check is not None:
            clean[name] = check(value)
        elif _METRIC_NAME.fullmatch(name):
            clean[name] = _free_value(name, value)
        else:
            raise _RefusedError(RejectReason.BAD_METRIC_NAME, f"metric name {name[:70]!r}")
    return Reading(device.site, device.kind, device.asset, ts_ms, clean, seq, ts_given)


def _timestamp(raw: Any) -> int:
    if type(raw) is int or type(raw) is float:
        if not math.isfinite(raw) or raw <= 0:
            raise _RefusedError(RejectReason.BAD_TIMESTAMP, f"ts {raw!r} is not a positive epoch")
        return int(raw) if raw > _EPOCH_MS_THRESHOLD else int(raw * 1000)
    if isinstance(raw, str):
        try:
            parsed = parse_rfc3339(raw)
        except ValueError as error:
            raise _RefusedError(RejectReason.BAD_TIMESTAMP, f"ts: {error}") from None
        return int(parsed.timestamp() * 1000)
    raise _RefusedError(
        RejectReason.BAD_TIMESTAMP, f"ts must be RFC 3339 or epoch, not {raw!r}"[:80]
    )


Validator = Callable[[Any], MetricValue]


def _validator(spec: MetricSpec) -> Validator:
    """Compile one catalogue entry into a check, once, so the hot path does no dispatch."""
    name = spec.name
    if spec.type is MetricType.BOOL:

        def check_bool(value: Any) -> MetricValue:
            if type(value) is bool:
                return value
            if type(value) is int and value in (0, 1):
                return bool(value)
            raise _RefusedError(RejectReason.WRONG_TYPE, f"{name} must be true or false")

        return check_bool
    if spec.type is MetricType.ENUM:
        choices = frozenset(spec.choices)
        listed = ", ".join(spec.choices)

        def check_enum(value: Any) -> MetricValue:
            if type(value) is str and value in choices:
                return value
            raise _RefusedError(
                RejectReason.WRONG_TYPE, f"{name} must be one of {listed}, not {str(value)[:40]!r}"
            )

        return check_enum
    if spec.type is MetricType.STRING:

        def check_string(value: Any) -> MetricValue:
            if value is None:
                return ""  # fault_code: null means the fault has cleared
            if type(value) is str and len(value) <= MAX_STRING_LENGTH:
                return value
            raise _RefusedError(
                RejectReason.WRONG_TYPE, f"{name} must be a string of at most {MAX_STRING_LENGTH}"
            )

        return check_string
    low, high = spec.bounds
    integral = spec.type is MetricType.INTEGER
    low_text = "" if spec.low is None else f"{spec.low:g}"
    high_text = "" if spec.high is None else f"{spec.high:g}"
    span = f"{low_text}..{high_text}"

    def check_number(value: Any) -> MetricValue:
        vtype = type(value)
        if vtype is float:
            if not math.isfinite(value):
                raise _RefusedError(RejectReason.NOT_FINITE, f"{name} is {value}")
            if integral:
                if not value.is_integer():
                    raise _RefusedError(RejectReason.WRONG_TYPE, f"{name} must be a whole number")
                value = int(value)
        elif vtype is not int:
            raise _RefusedError(RejectReason.WRONG_TYPE, f"{name} must be a number")
        if value < low or value > high:
            raise _RefusedError(
                RejectReason.OUT_OF_RANGE,
                f"{name}={_shown(value)} outside {span} {spec.unit}".rstrip(),
            )
        result: MetricValue = value
        return result

    return check_number


def _shown(value: float) -> str:
    """A number for a message: an integer of thousands of digits is not printed whole (and
    Python refuses to convert one past 4,300 digits to text at all)."""
    if type(value) is int and value.bit_length() > 64:
        return f"<an integer of {value.bit_length()} bits>"
    return f"{value!r}"


VALIDATORS: Final[dict[str, dict[str, Validator]]] = {
    kind: {name: _validator(spec) for name, spec in specs.items()}
    for kind, specs in CATALOGUE.items()
}


def _free_value(name: str, value: Any) -> MetricValue:
    vtype = type(value)
    if vtype is bool or vtype is int:
        if vtype is int and abs(value) > _MAX_SEQ:
            raise _RefusedError(RejectReason.OUT_OF_RANGE, f"{name} does not fit in 64 bits")
        result: MetricValue = value
        return result
    if vtype is float:
        if not math.isfinite(value):
            raise _RefusedError(RejectReason.NOT_FINITE, f"{name} is {value}")
        if abs(value) > _MAX_SEQ:
            raise _RefusedError(RejectReason.OUT_OF_RANGE, f"{name} is beyond ±2^63")
        return float(value)
    if vtype is str and len(value) <= MAX_STRING_LENGTH:
        return str(value)
    raise _RefusedError(
        RejectReason.WRONG_TYPE,
        f"{name} must be a number, a boolean or a string of at most {MAX_STRING_LENGTH}",
    )
