"""``facility simulate`` (SPEC section 3): simulated devices publishing to a broker.

Three modes: the estate (one connection and one physics model per device, faults and
scenarios), ``--replay DATASET`` (real public telemetry), ``--fleet`` (thousands of devices over
a few connections, for load). Registered on the ``facility`` group by ``facility/cli.py``;
``python -m simulators`` runs it on its own.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType

import click

from facility_dispatch.kernel.durations import DurationError, parse_duration
from facility_dispatch.simulators.errors import SimulatorError
from facility_dispatch.simulators.estate import Estate, SiteLayout
from facility_dispatch.simulators.fleet import Fleet
from facility_dispatch.simulators.replay import Replay, datasets_root, load_dataset
from facility_dispatch.simulators.runner import Runner, TelemetrySource
from facility_dispatch.simulators.scenario import builtin_scenarios, load_scenario

REPLAY_POLL_S = 0.05


def _duration(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value).total_seconds()
    except DurationError as error:
        raise click.BadParameter(str(error)) from None


def _site_names(site: str, sites: int) -> list[str]:
    return [site] if sites == 1 else [f"{site}-{n}" for n in range(1, sites + 1)]


@contextmanager
def _stopped_by_signals(stop: Callable[[], None], *, interrupt: bool) -> Iterator[None]:
    """SIGTERM (and Ctrl-C when ``interrupt``) stop cleanly: devices say offline, queues drain.

    The previous handlers come back afterwards, so calling the command in-process leaves the
    caller's signal handling as it was.
    """

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop()

    signals = [signal.SIGTERM, signal.SIGINT] if interrupt else [signal.SIGTERM]
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = {signum: signal.signal(signum, handler) for signum in signals}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@click.command("simulate")
@click.option(
    "--broker",
    envvar="FACILITY_MQTT_URL",
    default="mqtt://127.0.0.1:1883",
    show_default=True,
    help="mqtt://user:pass@host:port (mqtts:// for TLS); env FACILITY_MQTT_URL",
)
@click.option("--site", default="demo", show_default=True, help="site name")
@click.option(
    "--sites", type=click.IntRange(1), default=1, show_default=True, help="SITE-1..SITE-N"
)
@click.option("--elevators", type=click.IntRange(0), default=2, show_default=True)
@click.option("--water", type=click.IntRange(0), default=1, show_default=True)
@click.option("--power", type=click.IntRange(0), default=1, show_default=True)
@click.option(
    "--cctv",
    type=click.IntRange(0),
    default=4,
    show_default=True,
    help="cameras (one NVR per 16 is added)",
)
@click.option(
    "--rate",
    type=click.FloatRange(0, min_open=True),
    default=1.0,
    show_default=True,
    help="readings per second per device",
)
@click.option("--duration", callback=_duration, help="e.g. 60s, 5m; default until Ctrl-C")
@click.option("--scenario", help=f"built-in name or YAML file ({', '.join(builtin_scenarios())})")
@click.option("--scenario-repeat", callback=_duration, help="loop the scenario every DURATION")
@click.option("--seed", type=int, default=0, show_default=True, help="same seed, same stream")
@click.option("--replay", "replay_name", help="skab | nab | uci, or NAME:PART (see docs)")
@click.option(
    "--speed",
    type=click.FloatRange(0, min_open=True),
    default=1.0,
    show_default=True,
    help="replay speed-up",
)
@click.option(
    "--datasets",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="FACILITY_DATASETS",
    help="dataset folder (default ../shared/datasets from the repo); env FACILITY_DATASETS",
)
@click.option("--fleet", is_flag=True, help="many devices over few connections, for load")
@click.option("--connections", type=click.IntRange(1), default=4, show_default=True)
@click.option(
    "--batch",
    type=click.IntRange(1, 200),
    default=10,
    show_default=True,
    help="fleet: readings of one device per message (a JSON array)",
)
@click.option("--qos", type=click.Choice(["0", "1"]), default="1", show_default=True)
@click.option("--mqtt-version", type=click.Choice(["5", "3.1.1"]), default="5", show_default=True)
@click.option("--client-prefix", default="sim", show_default=True, help="MQTT client id prefix")
@click.option(
    "--connect-timeout",
    callback=_duration,
    default="10s",
    show_default=True,
    help="give up if the broker does not answer within this",
)
def simulate(
    broker: str,
    site: str,
    sites: int,
    elevators: int,
    water: int,
    power: int,
    cctv: int,
    rate: float,
    duration: float | None,
    scenario: str | None,
    scenario_repeat: float | None,
    seed: int,
    replay_name: str | None,
    speed: float,
    datasets: Path | None,
    fleet: bool,
    connections: int,
    batch: int,
    qos: str,
    mqtt_version: str,
    client_prefix: str,
    connect_timeout: float,
) -> None:
    """Simulated lifts, water, power and CCTV publishing telemetry to a broker."""
    link = _Link(broker, int(qos), mqtt_version, client_prefix, connect_timeout or 10.0)
    try:
        layouts = [
            SiteLayout(name, elevators, water, power, cctv) for name in _site_names(site, sites)
        ]
        if replay_name is not None:
            _replay(link, site, replay_name, speed, datasets, duration)
        elif fleet:
            if scenario is not None:
                raise click.UsageError("--scenario needs the estate mode, not --fleet")
            _fleet(link, layouts, rate, batch, connections, duration, seed)
        else:
            repeat = timedelta(seconds=scenario_repeat) if scenario_repeat is not None else None
            _estate(link, layouts, rate, duration, scenario, repeat, seed)
    except SimulatorError as error:
        raise click.ClickException(str(error)) from None


@dataclass(frozen=True, slots=True)
class _Link:
    """How to reach the broker, common to every mode."""

    broker: str
    qos: int
    protocol: str
    client_prefix: str
    connect_timeout: float

    def runner(self, source: TelemetrySource, interval: float) -> Runner:
        return Runner(
            source,
            self.broker,
            interval=interval,
            qos=self.qos,
            protocol=self.protocol,
            client_prefix=self.client_prefix,
        )


def _estate(
    link: _Link,
    layouts: list[SiteLayout],
    rate: float,
    duration: float | None,
    scenario: str | None,
    repeat: timedelta | None,
    seed: int,
) -> None:
    estate = Estate(layouts, seed=seed)
    if scenario is not None:
        timeline = load_scenario(scenario)
        estate.play(timeline, repeat_every=repeat)
        click.echo(f"scenario {timeline.name}: {len(timeline.steps)} steps")
    runner = link.runner(estate, 1.0 / rate)
    click.echo(
        f"simulating {len(estate.devices)} devices at {', '.join(estate.sites)}, "
        f"{rate:g} readings/s each, to {link.broker}"
    )
    with _stopped_by_signals(runner.request_stop, interrupt=False):
        report = runner.run(duration, link.connect_timeout)
    click.echo(
        f"published {report.readings} readings from {report.devices} devices in "
        f"{report.seconds:.1f}s ({report.rate:.1f} readings/s)"
    )


def _replay(
    link: _Link,
    site: str,
    name: str,
    speed: float,
    datasets: Path | None,
    duration: float | None,
) -> None:
    series = load_dataset(name, datasets_root(datasets))
    source = Replay(series, site=site, speed=speed)
    rows = sum(len(s.rows) for s in series)
    click.echo(
        f"replaying {name}: {rows} rows as {', '.join(f'{s.kind} {s.asset}' for s in series)} "
        f"at {site}, speed x{speed:g}"
    )
    runner = link.runner(source, REPLAY_POLL_S)
    with _stopped_by_signals(runner.request_stop, interrupt=False):
        report = runner.run(duration, link.connect_timeout)
    click.echo(f"published {report.readings} readings in {report.seconds:.1f}s")


def _fleet(
    link: _Link,
    layouts: list[SiteLayout],
    rate: float,
    batch: int,
    connections: int,
    duration: float | None,
    seed: int,
) -> None:
    fleet = Fleet(
        layouts,
        link.broker,
        rate=rate,
        batch=batch,
        connections=connections,
        qos=link.qos,
        protocol=link.protocol,
        seed=seed,
        client_prefix=link.client_prefix,
    )
    click.echo(
        f"fleet of {fleet.devices} devices, {rate:g} readings/s each "
        f"({fleet.target_rate:,.0f} readings/s), batch {batch}, {connections} connections"
    )
    with _stopped_by_signals(fleet.stop, interrupt=True):
        report = fleet.run(
            duration if duration is not None else float("inf"),
            on_report=lambda interval: click.echo(interval.line()),
            connect_timeout=link.connect_timeout,
        )
    click.echo(report.line())
    click.echo(
        f"achieved_rate={report.achieved_rate:.1f} acknowledged_rate={report.acknowledged_rate:.1f}"
        f" readings={report.readings} acknowledged_readings={report.acknowledged * report.batch}"
    )


if __name__ == "__main__":
    sys.exit(simulate())
