"""SPEC section 1, decoding and validation: every accepted form and every refusal's reason."""

from __future__ import annotations

import math

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facility_dispatch.ingest import topics
from facility_dispatch.ingest.decoding import (
    MAX_PAYLOAD_BYTES,
    DecodePolicy,
    decode_status,
    decode_telemetry,
)
from facility_dispatch.kernel.readings import Presence, Rejection, RejectReason

NOW_MS = 1_795_746_200_000  # 2026-11-27T02:23:20Z
POLICY = DecodePolicy(max_future_ms=300_000, retention_ms=400 * 86_400_000)
WATER = topics.parse("facility/estate-1/water/pump-1/telemetry")
LIFT = topics.parse("facility/estate-1/elevator/lift-1/telemetry")


def decode(payload: object, device: topics.DeviceTopic = WATER) -> tuple[list, list]:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    result = decode_telemetry(device, raw, NOW_MS, POLICY)
    return list(result.readings), list(result.rejections)


@pytest.mark.parametrize(
    ("ts", "expected_ms"),
    [
        ("2026-11-27T02:23:00.456Z", 1_795_746_180_456),
        ("2026-11-27T10:23:00.456+08:00", 1_795_746_180_456),
        (1_795_746_180, 1_795_746_180_000),  # epoch seconds
        (1_795_746_180.5, 1_795_746_180_500),
        (1_795_746_180_456, 1_795_746_180_456),  # epoch milliseconds (> 1e12)
    ],
)
def test_timestamps_in_every_accepted_form(ts: object, expected_ms: int) -> None:
    readings, rejections = decode({"ts": ts, "metrics": {"pressure_bar": 3.2}})
    assert rejections == []
    assert readings[0].ts_ms == expected_ms
    assert readings[0].ts_given is True


def test_missing_ts_takes_the_time_of_receipt() -> None:
    readings, _ = decode({"seq": 4, "metrics": {"pressure_bar": 3.2}})
    assert readings[0].ts_ms == NOW_MS
    assert readings[0].ts_given is False
    assert readings[0].seq == 4


def test_thingsboard_form_is_the_same_reading() -> None:
    ours, _ = decode({"ts": 1_795_746_180_456, "metrics": {"pressure_bar": 3.2}})
    theirs, _ = decode({"ts": 1_795_746_180_456, "values": {"pressure_bar": 3.2}})
    assert ours == theirs


def test_array_keeps_the_good_readings_and_refuses_the_bad_one() -> None:
    readings, rejections = decode(
        [
            {"ts": 1_795_746_180_000, "metrics": {"pressure_bar": 3.1}},
            {"ts": 1_795_746_181_000, "metrics": {"pressure_bar": 99}},
            {"ts": 1_795_746_182_000, "metrics": {"pressure_bar": 3.3}},
        ]
    )
    assert [r.metrics["pressure_bar"] for r in readings] == [3.1, 3.3]
    assert rejections == [
        Rejection(RejectReason.OUT_OF_RANGE, "pressure_bar=99 outside 0..25 bar", 1)
    ]


def test_every_catalogue_type_is_accepted_at_its_edges() -> None:
    readings, rejections = decode(
        {
            "metrics": {
                "door_state": "obstructed",
                "car_floor": -2,
                "moving": False,
                "speed_mps": 12,
                "load_kg": 0,
                "vibration_mms": 100.0,
                "motor_temp_c": -40,
                "door_cycles": 0,
                "alarm_button": 1,  # 0/1 from devices that have no booleans
                "fault_code": None,  # null: the fault has cleared
                "firmware": "v2.1",  # not in the catalogue: kept as given
            }
        },
        LIFT,
    )
    assert rejections == []
    metrics = readings[0].metrics
    assert metrics["alarm_button"] is True
    assert metrics["fault_code"] == ""
    assert metrics["firmware"] == "v2.1"
    assert metrics["car_floor"] == -2


INVALID = [
    (b"\xff\xfe not utf-8", RejectReason.NOT_UTF8),
    (b"{not json", RejectReason.INVALID_JSON),
    (b'{"metrics": {"pressure_bar": NaN}}', RejectReason.NOT_FINITE),
    (b'{"metrics": {"pressure_bar": -Infinity}}', RejectReason.NOT_FINITE),
    (b"42", RejectReason.BAD_SHAPE),
    (b'"text"', RejectReason.BAD_SHAPE),
    (b"[]", RejectReason.EMPTY),
    (b"[42]", RejectReason.BAD_SHAPE),
    (b'{"ts": 1795746180}', RejectReason.BAD_SHAPE),
    (b'{"metrics": []}', RejectReason.BAD_SHAPE),
    (b'{"metrics": {}}', RejectReason.EMPTY),
    (b'{"metrics": {"a": 1}, "values": {"a": 1}}', RejectReason.BAD_SHAPE),
    (b'{"ts": "yesterday", "metrics": {"pressure_bar": 3}}', RejectReason.BAD_TIMESTAMP),
    (b'{"ts": "2026-11-27T02:23:00", "metrics": {"pressure_bar": 3}}', RejectReason.BAD_TIMESTAMP),
    (b'{"ts": true, "metrics": {"pressure_bar": 3}}', RejectReason.BAD_TIMESTAMP),
    (b'{"ts": -5, "metrics": {"pressure_bar": 3}}', RejectReason.BAD_TIMESTAMP),
    (b'{"ts": 1795746600000, "metrics": {"pressure_bar": 3}}', RejectReason.FUTURE_TIMESTAMP),
    (b'{"ts": "2020-01-01T00:00:00Z", "metrics": {"pressure_bar": 3}}', RejectReason.TOO_OLD),
    (b'{"seq": -1, "metrics": {"pressure_bar": 3}}', RejectReason.BAD_SEQ),
    (b'{"seq": 1.5, "metrics": {"pressure_bar": 3}}', RejectReason.BAD_SEQ),
    (b'{"seq": "7", "metrics": {"pressure_bar": 3}}', RejectReason.BAD_SEQ),
    (b'{"seq": true, "metrics": {"pressure_bar": 3}}', RejectReason.BAD_SEQ),
    (b'{"metrics": {"pressure_bar": "3.2"}}', RejectReason.WRONG_TYPE),
    (b'{"metrics": {"pressure_bar": true}}', RejectReason.WRONG_TYPE),
    (b'{"metrics": {"pump_running": "yes"}}', RejectReason.WRONG_TYPE),
    (b'{"metrics": {"pump_running": 2}}', RejectReason.WRONG_TYPE),
    (b'{"metrics": {"pressure_bar": -0.1}}', RejectReason.OUT_OF_RANGE),
    (b'{"metrics": {"pressure_bar": 25.01}}', RejectReason.OUT_OF_RANGE),
    (b'{"metrics": {"tank_level_pct": 100.5}}', RejectReason.OUT_OF_RANGE),
    (b'{"metrics": {"pump_run_hours": -1}}', RejectReason.OUT_OF_RANGE),
    (b'{"metrics": {"pressure_bar": 1e400}}', RejectReason.NOT_FINITE),
    (b'{"metrics": {"custom": 1e400}}', RejectReason.NOT_FINITE),
    (b'{"metrics": {"custom": {"nested": 1}}}', RejectReason.WRONG_TYPE),
    (b'{"metrics": {"custom": null}}', RejectReason.WRONG_TYPE),
    (b'{"metrics": {"bad name": 1}}', RejectReason.BAD_METRIC_NAME),
    (b'{"metrics": {"_hidden": 1}}', RejectReason.BAD_METRIC_NAME),
]


@pytest.mark.parametrize(("payload", "reason"), INVALID)
def test_each_invalid_form_is_refused_with_its_reason(payload: bytes, reason: RejectReason) -> None:
    readings, rejections = decode(payload)
    assert readings == []
    assert [r.reason for r in rejections] == [reason]
    assert rejections[0].detail  # says what is wrong, for the dead-letter list


def test_elevator_specific_checks() -> None:
    for metrics, reason in [
        ({"door_state": "ajar"}, RejectReason.WRONG_TYPE),
        ({"car_floor": 2.5}, RejectReason.WRONG_TYPE),
        ({"speed_mps": 12.5}, RejectReason.OUT_OF_RANGE),
        ({"fault_code": "x" * 200}, RejectReason.WRONG_TYPE),
    ]:
        readings, rejections = decode({"metrics": metrics}, LIFT)
        assert readings == [], metrics
        assert rejections[0].reason is reason, metrics


def test_oversized_payload_is_refused_before_parsing() -> None:
    payload = b'{"metrics": {"note": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}}'
    _, rejections = decode(payload)
    assert rejections[0].reason is RejectReason.TOO_LARGE


def test_status_messages() -> None:
    device = topics.parse("facility/estate-1/cctv/cam-1/status")
    assert decode_status(device, b"offline", NOW_MS) == Presence(
        "estate-1", "cctv", "cam-1", False, NOW_MS
    )
    assert isinstance(decode_status(device, b'"online"', NOW_MS), Presence)
    refused = decode_status(device, b"sleeping", NOW_MS)
    assert isinstance(refused, Rejection) and refused.reason is RejectReason.BAD_STATUS


@pytest.mark.parametrize(
    "topic",
    [
        "facility/Estate/water/p1/telemetry",  # upper case site
        "facility/estate/boiler/p1/telemetry",  # unknown kind
        "facility/estate/water/-p1/telemetry",  # asset must start alphanumeric
        "facility/estate/water/p1/readings",
        "facility/estate/water/telemetry",
        "other/estate/water/p1/telemetry",
        "facility/" + "s" * 65 + "/water/p1/telemetry",
    ],
)
def test_bad_topics_are_refused(topic: str) -> None:
    with pytest.raises(topics.TopicError):
        topics.parse(topic)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
metric_names = st.sampled_from(
    ["pressure_bar", "flow_m3h", "pump_running", "door_state", "car_floor", "fault_code", "x"]
)
readings_like = st.fixed_dictionaries(
    {},
    optional={
        "ts": json_values | st.integers(min_value=0, max_value=2 * NOW_MS),
        "seq": json_values,
        "metrics": st.dictionaries(metric_names | st.text(max_size=10), json_values, max_size=6),
        "values": json_values,
    },
)


@settings(max_examples=400, deadline=None)
@given(
    document=readings_like | st.lists(readings_like, max_size=4) | json_values,
    kind=st.sampled_from(topics.KINDS),
)
def test_decoder_never_raises_on_json(document: object, kind: str) -> None:
    device = topics.DeviceTopic("estate-1", kind, "a1", "telemetry")
    try:
        raw = orjson.dumps(document)
    except (TypeError, orjson.JSONEncodeError):
        raw = repr(document).encode()
    result = decode_telemetry(device, raw, NOW_MS, POLICY)
    for reading in result.readings:  # what passes is what the SPEC allows
        assert reading.metrics
        for value in reading.metrics.values():
            assert isinstance(value, bool | int | float | str)
            assert not (isinstance(value, float) and not math.isfinite(value))


@settings(max_examples=400, deadline=None)
@given(topic=st.text(max_size=120), payload=st.binary(max_size=300))
def test_nothing_raises_on_arbitrary_topics_and_bytes(topic: str, payload: bytes) -> None:
    try:
        device = topics.parse(topic)
    except topics.TopicError:
        return
    decode_telemetry(device, payload, NOW_MS, POLICY)
    decode_status(device, payload, NOW_MS)


@settings(max_examples=400, deadline=None)
@given(
    document=readings_like | st.lists(readings_like, min_size=1, max_size=4),
    kind=st.sampled_from(topics.KINDS),
)
def test_fast_path_and_checks_by_hand_agree(document: object, kind: str) -> None:
    """The pydantic fast path may only ever take what the hand-written checks take."""
    device = topics.DeviceTopic("estate-1", kind, "a1", "telemetry")
    try:
        raw = orjson.dumps(document)
    except (TypeError, orjson.JSONEncodeError):
        return
    fast = decode_telemetry(device, raw, NOW_MS, POLICY)
    slow = decode_telemetry(device, raw, NOW_MS, POLICY, fast=False)
    assert fast.readings == slow.readings
    assert [r.reason for r in fast.rejections] == [r.reason for r in slow.rejections]


def test_fast_path_takes_a_typical_reading() -> None:
    from facility_dispatch.ingest.fastpath import FAST_PATH

    payload = orjson.dumps(
        {"ts": NOW_MS, "seq": 1, "metrics": {"pressure_bar": 3.2, "pump_running": True}}
    )
    assert FAST_PATH["water"][0].validate_json(payload)["metrics"]["pressure_bar"] == 3.2


def test_subscriptions_for_scale_out() -> None:
    assert topics.subscriptions([]) == ["facility/+/+/+/telemetry", "facility/+/+/+/status"]
    assert topics.subscriptions(["north"]) == [
        "facility/north/+/+/telemetry",
        "facility/north/+/+/status",
    ]
    shared = topics.subscriptions([], "ingest")
    assert shared[0] == "$share/ingest/facility/+/+/+/telemetry"
