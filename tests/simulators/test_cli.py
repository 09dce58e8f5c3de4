"""``facility simulate`` against a real broker: readings, retained presence, the last will."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from facility_dispatch.simulators.cli import simulate
from tests.services import ROOT, Broker
from tests.simulators.helpers import Subscriber, decode_all, now_ms, statuses

ASSETS = {"board-1", "lift-1", "pump-1", "cam-1", "cam-2", "nvr-1"}


def telemetry_by_asset(messages: list[tuple[str, bytes, bool]]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = defaultdict(list)
    for topic, payload, _retain in messages:
        if topic.endswith("/telemetry"):
            out[topic.split("/")[3]].append(payload)
    return out


@pytest.mark.broker
def test_cli_publishes_valid_readings_and_its_last_will_says_offline(broker: Broker) -> None:
    site = "cli-will"
    subscriber = Subscriber(broker.port, f"facility/{site}/#")
    command = [sys.executable, "-m", "simulators", "--broker", broker.url, "--site", site]
    command += ["--elevators", "1", "--water", "1", "--power", "1", "--cctv", "2"]
    command += ["--rate", "5", "--duration", "60s", "--seed", "3"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = subscriber.wait_for(
            lambda m: (
                set(telemetry_by_asset(m)) == ASSETS
                and min(len(v) for v in telemetry_by_asset(m).values()) >= 5
            ),
            timeout=30,
        )
        for asset, payloads in telemetry_by_asset(seen).items():
            seqs = []
            for payload in payloads:
                topic = next(t for t, p, _ in seen if p is payload)
                (reading,) = decode_all(topic, payload, now_ms())
                seqs.append(reading.seq)
                assert reading.asset == asset and reading.ts_given
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert set(statuses(seen).values()) == {"online"}
        assert len(statuses(seen)) == len(ASSETS)

        late = Subscriber(broker.port, f"facility/{site}/+/+/status")  # retained presence
        retained = late.wait_for(lambda m: len(m) >= len(ASSETS), timeout=10)
        assert all(retain and payload == b"online" for _, payload, retain in retained)
        late.close()

        process.kill()  # no clean disconnect: the broker publishes every device's will
        process.wait(10)
        final = subscriber.wait_for(
            lambda m: len(statuses(m)) == len(ASSETS) and set(statuses(m).values()) == {"offline"},
            timeout=15,
        )
        assert set(statuses(final).values()) == {"offline"}
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        subscriber.close()


@pytest.mark.broker
def test_cli_plays_a_scenario_file_over_mqtt_311(broker: Broker, tmp_path: Path) -> None:
    site = "cli-scenario"
    scenario = tmp_path / "trip.yaml"
    scenario.write_text("name: trip\nsteps:\n  - {at: 0s, fault: breaker_trip, asset: board-1}\n")
    subscriber = Subscriber(broker.port, f"facility/{site}/power/#")
    result = CliRunner().invoke(
        simulate,
        [
            *("--broker", broker.url, "--site", site, "--duration", "2s", "--rate", "4"),
            *("--scenario", str(scenario), "--mqtt-version", "3.1.1", "--cctv", "0"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "scenario trip: 1 steps" in result.output
    assert re.search(r"published \d+ readings from 4 devices", result.output)
    seen = subscriber.wait_for(lambda m: any(t.endswith("telemetry") for t, _, _ in m), 10)
    readings = [
        reading
        for topic, payload, _ in seen
        if topic.endswith("telemetry")
        for reading in decode_all(topic, payload, now_ms())
    ]
    assert readings and all(r.metrics["breaker_tripped"] for r in readings)
    assert all(r.metrics["current_a"] == 0 for r in readings)
    subscriber.wait_for(lambda m: statuses(m).get(f"facility/{site}/power/board-1") == "offline", 5)
    subscriber.close()


def test_cli_refuses_a_bad_scenario_naming_the_step_and_field(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: bad\nsteps:\n  - {at: 1s, fault: leak}\n  - {at: 2m, fault: fire}\n")
    result = CliRunner().invoke(
        simulate, ["--broker", "mqtt://127.0.0.1:1", "--scenario", str(scenario)]
    )
    assert result.exit_code == 1
    assert "step 1 (steps[1]), field 'fault': 'fire' is not a fault" in result.output


def test_cli_says_when_the_broker_is_not_there() -> None:
    result = CliRunner().invoke(
        simulate,
        ["--broker", "mqtt://127.0.0.1:9", "--duration", "1s", "--connect-timeout", "1s"],
    )
    assert result.exit_code == 1
    assert "no connection to the broker" in result.output


@pytest.mark.broker
@pytest.mark.slow
def test_cli_fleet_reports_the_rate_it_achieved(broker: Broker) -> None:
    site = "cli-fleet"
    counted = {"readings": 0}

    def count(message: object) -> None:
        payload = getattr(message, "payload", b"")
        if getattr(message, "topic", "").endswith("telemetry"):
            counted["readings"] += payload.count(b'"seq":')

    subscriber = Subscriber(broker.port, f"facility/{site}/#", on_message=count)
    result = CliRunner().invoke(
        simulate,
        [
            *("--broker", broker.url, "--site", site, "--fleet", "--duration", "3s"),
            *("--rate", "10", "--elevators", "60", "--water", "60", "--power", "60"),
            *("--cctv", "64", "--batch", "5"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "fleet of 248 devices" in result.output
    achieved = float(re.findall(r"achieved_rate=([\d.]+)", result.output)[-1])
    assert 0.9 * 2480 < achieved < 1.1 * 2480
    published = achieved * 3
    subscriber.wait_for(lambda _m: counted["readings"] >= published * 0.99, timeout=10)
    subscriber.close()


@pytest.mark.broker
def test_cli_replays_a_dataset(broker: Broker, datasets: Path) -> None:
    site = "cli-replay"
    subscriber = Subscriber(broker.port, f"facility/{site}/#")
    result = CliRunner().invoke(
        simulate,
        [
            *("--broker", broker.url, "--site", site, "--datasets", str(datasets)),
            *("--replay", "nab:machine_temperature_system_failure", "--speed", "6000"),
            *("--duration", "2s"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "as elevator lift-1" in result.output
    seen = subscriber.wait_for(
        lambda m: sum(t.endswith("telemetry") for t, _, _ in m) >= 30, timeout=10
    )
    for topic, payload, _ in seen:
        if topic.endswith("telemetry"):
            (reading,) = decode_all(topic, payload, now_ms())
            assert reading.kind == "elevator" and -40 < float(reading.metrics["motor_temp_c"]) < 60
            assert reading.ts_ms <= now_ms()
    first = orjson.loads(next(p for t, p, _ in seen if t.endswith("telemetry")))
    assert first["seq"] == 1
    subscriber.close()
