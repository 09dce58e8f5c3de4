"""No message stops ingestion: hostile payloads through the real broker into ``facility run``.

Each hostile message is followed by a good reading (a wet leak sensor) that must be stored and
judged (its alarm fires) within seconds, with health ``ok``; then the service is stopped, more
hostile messages wait in the broker's queue for it, and after the restart (the broker delivers
them first) a good reading is still stored and judged. Before this suite, a 64-bit overflow in
one message stopped every write, across restarts, and 2 kB of nested brackets killed the
ingest thread while health said ``ok``.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import Publisher, wait_until
from tests.faults.processes import ServiceProcess
from tests.services import Broker

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def now_stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


HUGE = 123456789012345678901234567890
# (kind, payload, the dead-letter reason it must get; None: stored, whatever it is)
HOSTILE: list[tuple[str, bytes, str]] = [
    ("elevator", b'{"metrics": {"car_floor": %d}}' % HUGE, "out_of_range"),
    ("water", b'{"metrics": {"odd_counter": %d}}' % HUGE, "out_of_range"),
    ("water", b'{"metrics": {"pressure_bar": 1' + b"0" * 5000 + b"}}", "invalid_json"),
    ("power", b'{"metrics": {"power_kw": 1e300}}', "out_of_range"),
    ("water", nested(1000), "too_deep"),
    ("water", b'{"metrics": {"x": ' + nested(900) + b"}}", "too_deep"),
    ("water", b'{"a":' * 700 + b"1" + b"}" * 700, "too_deep"),
    ("water", b'{"metrics": {"pressure_bar": NaN}}', "not_finite"),
    ("water", b'{"metrics": {"pressure_bar": -Infinity}}', "not_finite"),
    ("water", b'{"metrics": {"flow_m3h": 1e400}}', "not_finite"),
    ("water", b"\xff\xfe{\x00}\x00", "not_utf8"),
    ("water", b"", "invalid_json"),
    ("water", b'{"metrics": {"note": "\\ud800"}}', "invalid_json"),  # a lone surrogate
    ("water", b'{"metrics": {"bad\\u0000name": 1}}', "bad_metric_name"),
    ("water", b'{"metrics": {"note": "' + b"x" * 10_000 + b'"}}', "wrong_type"),
    ("water", b'{"ts": "20261129T060000Z", "metrics": {"pressure_bar": 3}}', "bad_timestamp"),
    ("water", b'{"ts": "2026-W48-7T06:00:00Z", "metrics": {"pressure_bar": 3}}', "bad_timestamp"),
    ("water", b'{"ts": 1e300, "metrics": {"pressure_bar": 3}}', "future_timestamp"),
    ("water", b'{"seq": 18446744073709551616, "metrics": {"pressure_bar": 3}}', "bad_seq"),
    (
        "water",
        orjson.dumps({"metrics": {f"m{i}": i for i in range(3500)}}),
        "too_many_metrics",
    ),
    ("water", b"[" + b",".join([b'{"metrics": {"pressure_bar": 3}}'] * 3000) + b"]", "too_large"),
    ("water", b"x" * (5 * 1024 * 1024), "too_large"),
]


class Estate:
    """The running service and a device publishing to it."""

    def __init__(self, service: ServiceProcess, broker: Broker, site: str) -> None:
        self.service = service
        self.broker = broker
        self.site = site
        self.device = Publisher(broker.url)
        self.good = 0

    def hostile(self, kind: str, payload: bytes, asset: str = "poison-1") -> None:
        self.device.publish(f"facility/{self.site}/{kind}/{asset}/telemetry", payload)

    def good_reading_is_judged(self, api: httpx.Client, timeout: float = 10.0) -> float:
        """A wet leak sensor at a fresh asset: seconds until it is stored and its alarm fires."""
        self.good += 1
        asset = f"leak-{self.good}"
        started = time.monotonic()
        self.device.publish(
            f"facility/{self.site}/water/{asset}/telemetry",
            orjson.dumps({"ts": now_stamp(), "metrics": {"leak_detected": True}}),
        )

        def judged() -> bool:
            alarms = api.get(
                "/api/v1/alarms", params={"site": self.site, "state": "firing", "limit": 1000}
            ).json()["items"]
            return any(a["asset"] == asset and a["fault"] == "leak" for a in alarms)

        wait_until(judged, timeout=timeout, every=0.1)
        stored = api.get(f"/api/v1/assets/{self.site}/{asset}").json()
        assert stored["metrics"].get("leak_detected") is True
        return time.monotonic() - started


def dead_letters(api: httpx.Client) -> dict[str, int]:
    items = api.get("/api/v1/dead-letters", params={"limit": 1000}).json()["items"]
    counts: dict[str, int] = {}
    for item in items:
        counts[item["reason"]] = counts.get(item["reason"], 0) + 1
    return counts


def assert_healthy(api: httpx.Client) -> None:
    health = api.get("/api/v1/health").json()
    assert health["status"] == "ok", health
    assert health["stopped_workers"] == []
    assert api.get("/api/v1/health/ready").status_code == 200


def test_every_hostile_message_is_refused_and_the_next_good_one_judged(
    own_broker: Broker, tmp_path: Path
) -> None:
    site = f"poison-{uuid.uuid4().hex[:6]}"
    service = ServiceProcess(
        tmp_path, {"FACILITY_MQTT_URL": own_broker.url, "FACILITY_SITES": site}
    )
    service.start()
    estate = Estate(service, own_broker, site)
    try:
        with service.api() as api:
            delays = [estate.good_reading_is_judged(api)]
            expected: dict[str, int] = {}
            for kind, payload, reason in HOSTILE:
                before = dead_letters(api).get(reason, 0)
                estate.hostile(kind, payload)
                delays.append(estate.good_reading_is_judged(api))
                expected[reason] = expected.get(reason, 0) + 1
                wait_until(lambda r=reason, b=before: dead_letters(api).get(r, 0) > b, timeout=5)
                assert_healthy(api)
            letters = dead_letters(api)
            for reason, count in expected.items():
                assert letters.get(reason, 0) >= count, (reason, letters)
            assert max(delays) < 5.0, delays
            print(
                f"poison: {len(HOSTILE)} hostile payloads, each refused; the good reading after"
                f" each judged in {min(delays):.2f}-{max(delays):.2f} s"
            )

            # the same messages wait in the broker while the service is down: it takes them
            # first after the restart, and still goes on
            assert service.stop() == 0
            for kind, payload, _reason in HOSTILE:
                estate.hostile(kind, payload, asset="poison-2")
            service.start()
        with service.api() as api:
            assert_healthy(api)
            estate.good_reading_is_judged(api, timeout=20)
            assert_healthy(api)
            assert sum(dead_letters(api).values()) >= 2 * len(HOSTILE)
    finally:
        estate.device.close()
        service.stop()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "ts": json_values | st.datetimes().map(str) | st.integers(),
        "seq": json_values,
        "metrics": st.dictionaries(
            st.sampled_from(["pressure_bar", "flow_m3h", "pump_running", "leak_detected"])
            | st.text(max_size=70),
            json_values,
            max_size=6,
        ),
        "values": json_values,
    },
)


def raw(value: object) -> bytes:
    """JSON as a device might send it: Python's encoder writes NaN, Infinity and big integers."""
    import json

    return json.dumps(value).encode()


payloads = (
    envelopes.map(raw)
    | st.lists(envelopes, max_size=5).map(raw)
    | json_values.map(raw)
    | st.binary(max_size=300)
    | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
)


def test_fuzzed_payloads_never_stop_ingest(own_broker: Broker, tmp_path: Path) -> None:
    site = f"fuzz-{uuid.uuid4().hex[:6]}"
    service = ServiceProcess(
        tmp_path, {"FACILITY_MQTT_URL": own_broker.url, "FACILITY_SITES": site}
    )
    service.start()
    estate = Estate(service, own_broker, site)
    sent: list[bytes] = []

    @given(payload=payloads, kind=st.sampled_from(["water", "elevator", "power", "cctv"]))
    @settings(
        max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def publish(payload: bytes, kind: str) -> None:
        sent.append(payload)
        estate.hostile(kind, payload, asset=f"fuzz-{len(sent) % 7}")

    try:
        publish()
        with service.api() as api:
            estate.good_reading_is_judged(api, timeout=20)
            assert_healthy(api)
            metrics = api.get("/metrics").text
            received = next(
                float(line.split()[1])
                for line in metrics.splitlines()
                if line.startswith("facility_mqtt_messages_received_total")
            )
            assert received >= len(sent) + 1  # every fuzzed message was taken in
            errors = [
                line
                for line in metrics.splitlines()
                if line.startswith("facility_ingest_worker_errors_total")
            ]
            assert errors == ["facility_ingest_worker_errors_total 0.0"], errors
    finally:
        estate.device.close()
        service.stop()
        assert "Traceback" not in service.log(), service.log()[-3000:]
