"""The ``facility`` command (SPEC section 3)."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click
from pydantic import SecretStr

from facility_dispatch.settings import Settings
from facility_dispatch.simulators.cli import simulate

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

    from facility_dispatch.service import Service


def _configure_logging() -> None:
    from facility_dispatch import logs

    logs.configure(
        os.environ.get("FACILITY_LOG_LEVEL", "INFO"),
        json=os.environ.get("FACILITY_LOG_FORMAT", "text") == "json",
    )


def _exit_zero_on_sigterm() -> None:
    """uvicorn stops gracefully on SIGTERM, then raises the signal again for the handler that
    was there before it; this handler makes that a clean exit (status 0) once all is flushed."""
    signal.signal(signal.SIGTERM, lambda _signo, _frame: sys.exit(0))


def http_config(
    app: FastAPI, host: str, port: int, trusted_proxies: str = "127.0.0.1"
) -> uvicorn.Config:
    """uvicorn's configuration. ``trusted_proxies`` (``FACILITY_TRUSTED_PROXIES``: addresses or
    CIDRs, comma-separated) are the peers whose ``X-Forwarded-For`` is believed: behind a
    reverse proxy the client's address is then the resident's, not the proxy's (else every
    resident shares one rate-limit bucket); from any other peer the header is ignored, so a
    client cannot choose its own address. Empty: no proxy is trusted."""
    import uvicorn

    trusted = ",".join(part.strip() for part in trusted_proxies.split(",") if part.strip())
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        timeout_graceful_shutdown=5,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )


def _serve(
    app: FastAPI,
    host: str,
    port: int,
    stopped_workers: Callable[[], list[str]] | None = None,
    trusted_proxies: str = "127.0.0.1",
) -> bool:
    """uvicorn, until SIGINT or SIGTERM: then a graceful shutdown in which the lifespan stops
    the service (it stores what is buffered and disconnects) and the process exits 0. The
    live event streams are ended as the signal arrives; a request still running after 5 s is
    cut off. False if it stopped because a worker thread of the service died: a supervisor
    (systemd, Docker, Kubernetes) then restarts a whole service, not a headless one."""
    import uvicorn

    from facility_dispatch.api.app import close_streams

    died: list[str] = []

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            close_streams(app)
            super().handle_exit(sig, frame)

        async def on_tick(self, counter: int) -> bool:
            if stopped_workers is not None and counter % 20 == 0 and not died:
                died.extend(stopped_workers())  # uvicorn ticks every 0.1 s: look every 2 s
                if died:
                    logging.getLogger(__name__).critical(
                        "service thread(s) %s stopped; shutting down", ", ".join(died)
                    )
                    close_streams(app)
                    self.should_exit = True
            return await super().on_tick(counter)

    Server(http_config(app, host, port, trusted_proxies)).run()
    return not died


@click.group()
@click.version_option(package_name="facility-dispatch")
def main() -> None:
    """Facility Dispatch: equipment telemetry in, alarms and work orders out."""


@main.command()
def run() -> None:
    """The whole service: ingest, rules, maintenance, scheduler, HTTP API and dashboard."""
    from facility_dispatch.api.app import create_app

    _configure_logging()
    settings = Settings()
    if settings.admin_token is None:
        from facility_dispatch.secrets import token

        generated = token()
        settings = settings.model_copy(update={"admin_token": SecretStr(generated)})
        click.echo(f"FACILITY_ADMIN_TOKEN is not set; admin token for this run: {generated}")
    service = _build_or_refuse(settings)
    app = create_app(service)
    # SIGHUP reloads the rules and the notifications file (a bad one is refused, the old stays)
    signal.signal(signal.SIGHUP, lambda _signo, _frame: _reload(service))
    _exit_zero_on_sigterm()
    if not _serve(
        app,
        settings.http_host,
        settings.http_port,
        service.stopped_workers,
        settings.trusted_proxies,
    ):
        sys.exit(1)


def _reload(service: Service) -> None:
    """SIGHUP: the rules file and the notifications file are read again, each on its own
    thread; each refuses a bad file and keeps what it had."""
    service.rules.request_reload()
    service.notifier.request_reload()


def _build_or_refuse(settings: Settings) -> Service:
    """The service; a notifications file that is refused stops the start, saying why."""
    from facility_dispatch.notify.config import NotifyConfigError
    from facility_dispatch.service import build_service

    try:
        return build_service(settings)
    except NotifyConfigError as error:
        raise click.ClickException(f"FACILITY_NOTIFY {settings.notify}: {error}") from None


@main.group()
def notify() -> None:
    """Notifications files (SPEC section 6)."""


@notify.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def notify_check(path: Path) -> None:
    """Validate a notifications file and print its receivers (secrets hidden) and routes."""
    from facility_dispatch.kernel.durations import format_duration
    from facility_dispatch.notify.apprise_sender import AppriseSender
    from facility_dispatch.notify.config import NotifyConfigError, parse

    sender = AppriseSender()
    try:
        config = parse(path.read_text(encoding="utf-8"), sender.usable)
    except (NotifyConfigError, OSError) as error:
        click.echo(f"refused: {error}", err=True)
        sys.exit(1)
    for name, urls in config.receivers.items():
        click.echo(f"receiver {name}: {', '.join(sender.redact(u) for u in urls)}")
    for route in config.routes:
        repeat = f", again every {format_duration(route.repeat)}" if route.repeat else ""
        escalate = (
            f", after {format_duration(route.escalate_after)} also {', '.join(route.escalate_to)}"
            if route.escalate_after
            else ""
        )
        click.echo(
            f"route {route.name}: {route.match.model_dump(exclude_none=True)} -> "
            f"{', '.join(route.to)}{repeat}{escalate}{' (continue)' if route.continue_ else ''}"
        )


@main.group()
def rules() -> None:
    """Rules files (SPEC section 2)."""


@rules.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
def rules_check(path: Path | None) -> None:
    """Validate a rules file (default: the built-in pack) and print what it would watch."""
    from facility_dispatch.kernel.durations import format_duration
    from facility_dispatch.rules.errors import RulesFileError
    from facility_dispatch.rules.loader import describe, load_default, load_file

    try:
        ruleset = load_file(path) if path else load_default()
    except RulesFileError as error:
        click.echo(f"refused: {error}", err=True)
        sys.exit(1)
    for rule in ruleset.rules:
        hold = f" for {format_duration(rule.for_)}" if rule.for_ else ""
        sites = "" if rule.sites == ["*"] else f" at {', '.join(rule.sites)}"
        order = (
            f" -> work order {rule.work_order.priority} ({rule.work_order.skill})"
            if rule.work_order
            else ""
        )
        click.echo(
            f"{rule.id}: {rule.kind}{sites}: {describe(rule.condition)}{hold}"
            f" => {rule.severity} {rule.fault}{order}"
        )
    for inhibition in ruleset.inhibit:
        spared = inhibition.targets.except_faults
        click.echo(
            f"inhibit: while {inhibition.source.fault} fires at a site, "
            f"{', '.join(inhibition.targets.kinds)} alarms there dispatch nothing"
            + (f" (except {', '.join(spared)})" if spared else "")
        )
    click.echo(f"{len(ruleset.rules)} rules, {len(ruleset.inhibit)} inhibitions: OK")


@rules.command("backtest")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replay", "dataset", help="skab, nab or uci, or NAME:PART (as simulate --replay)")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--site", default="estate-1", show_default=True)
@click.option("--kind", type=click.Choice(["elevator", "water", "power", "cctv"]))
@click.option("--asset")
@click.option("--time-column")
@click.option("--label-column")
@click.option("--datasets", type=click.Path(file_okay=False, path_type=Path))
@click.option("--nominal-voltage-v", type=click.FloatRange(min=1), default=None)
@click.option("--nominal-frequency-hz", type=click.FloatRange(min=1), default=None)
def rules_backtest(
    rules_path: Path | None,
    dataset: str | None,
    csv_path: Path | None,
    site: str,
    kind: str | None,
    asset: str | None,
    time_column: str | None,
    label_column: str | None,
    datasets: Path | None,
    nominal_voltage_v: float | None,
    nominal_frequency_hz: float | None,
) -> None:
    """Run the rules over recorded telemetry in the data's own time (no broker, no service):
    each alarm, then the score against the data's labels; the last line is the summary."""
    from facility_dispatch.backtesting import backtest_lines
    from facility_dispatch.rules.errors import RulesFileError
    from facility_dispatch.simulators.errors import DatasetError

    if (dataset is None) == (csv_path is None):
        raise click.UsageError("give --replay DATASET or --csv FILE (one of them)")
    if csv_path is not None and (kind is None or asset is None):
        raise click.UsageError("--csv needs --kind and --asset")
    params = {
        name: value
        for name, value in (
            ("nominal_voltage_v", nominal_voltage_v),
            ("nominal_frequency_hz", nominal_frequency_hz),
        )
        if value is not None
    }
    try:
        for line in backtest_lines(
            rules_path,
            dataset=dataset,
            csv_path=csv_path,
            site=site,
            kind=kind,
            asset=asset,
            time_column=time_column,
            label_column=label_column,
            datasets=datasets,
            params=params,
        ):
            click.echo(line)
    except (RulesFileError, DatasetError) as error:
        click.echo(f"refused: {error}", err=True)
        sys.exit(1)


main.add_command(simulate)


@main.group()
def tokens() -> None:
    """API tokens: stored hashed; the secret is shown once, when created."""


@tokens.command("create")
@click.option("--name", required=True, help="whose token: a person or a system")
@click.option(
    "--role",
    type=click.Choice(["viewer", "technician", "planner", "admin"]),
    required=True,
)
@click.option("--technician-id", type=int, default=None, help="the technician it speaks for")
@click.option("--days", type=int, default=None, help="expires after this many days")
@click.option(
    "--sites",
    default=None,
    metavar="A,B",
    help="sees and acts on these sites only (comma separated); default: every site",
)
@click.option(
    "--safety-manager",
    is_flag=True,
    help="the site's safety manager (安全管理员): signs lift and electrical orders off",
)
def tokens_create(
    name: str,
    role: str,
    technician_id: int | None,
    days: int | None,
    sites: str | None,
    safety_manager: bool,
) -> None:
    """Create a token and print it (once)."""
    from datetime import timedelta

    from facility_dispatch.api.auth import Role
    from facility_dispatch.api.tokens import Tokens, UnknownSitesError
    from facility_dispatch.kernel.clock import SystemClock
    from facility_dispatch.kernel.db import make_engine, make_sessions
    from facility_dispatch.schema import migrate as upgrade

    settings = Settings()
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    now = SystemClock().now()
    expires = now + timedelta(days=days) if days else None
    limited = None if sites is None else [s.strip() for s in sites.split(",") if s.strip()]
    try:
        secret, info = Tokens(make_sessions(engine)).create(
            name,
            Role.parse(role),
            "cli",
            now,
            expires,
            technician_id,
            limited,
            safety_manager=safety_manager,
        )
    except UnknownSitesError as error:
        raise click.BadParameter(str(error), param_hint="--sites") from None
    click.echo(secret)
    click.echo(
        f"token {info.id} for {name} ({role}{', safety manager' if safety_manager else ''})"
        + (f", sites {','.join(info.sites)}" if info.sites is not None else "")
        + (f", expires {expires:%Y-%m-%d}" if expires else "")
        + ": store it now, it is not shown again",
        err=True,
    )


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by id: the next request with it gets 401."""
    from facility_dispatch.api.tokens import Tokens
    from facility_dispatch.kernel.clock import SystemClock
    from facility_dispatch.kernel.db import make_engine, make_sessions

    engine = make_engine(Settings().sqlalchemy_url)
    info = Tokens(make_sessions(engine)).revoke(token_id, SystemClock().now())
    if info is None:
        raise click.ClickException(f"no token {token_id}")
    click.echo(f"token {token_id} ({info.name}) revoked")


@main.command()
def demo() -> None:
    """run, with an embedded broker if none is configured, and a simulated estate."""
    from facility_dispatch.api.app import create_app
    from facility_dispatch.demo import (
        SITES,
        configure_notifications,
        estate,
        register_assets,
        safety_manager_token,
        seed,
        start_estate,
    )
    from facility_dispatch.embedded_broker import EmbeddedBroker
    from facility_dispatch.secrets import token
    from facility_dispatch.simulators import Runner

    _configure_logging()
    settings = Settings()
    broker = None
    updates: dict[str, object] = {}
    if settings.mqtt_url is None:
        broker = EmbeddedBroker()
        broker.start()
        updates.update(mqtt_url=broker.url, mqtt_protocol="3.1.1")
    admin = settings.admin_token.get_secret_value() if settings.admin_token else token()
    updates["admin_token"] = SecretStr(admin)
    settings = settings.model_copy(update=updates)
    service = _build_or_refuse(settings)
    devices = estate()
    register_assets(service, devices)  # before the plans, which are made for every lift
    seed(service)
    configure_notifications(service)  # messages to the dashboard's own inbox, /inbox
    signer = safety_manager_token(service)
    runners: list[Runner] = []

    def devices_on() -> None:
        runners.append(
            start_estate(service, devices, settings.mqtt_url or "", settings.mqtt_protocol)
        )

    def devices_off() -> None:
        for runner in runners:
            runner.stop()

    app = create_app(service, companions=[(devices_on, devices_off)])
    signal.signal(signal.SIGHUP, lambda _signo, _frame: _reload(service))
    _exit_zero_on_sigterm()
    host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "::") else settings.http_host
    click.echo(
        f"\nFacility Dispatch demo\n  dashboard: http://{host}:{settings.http_port}/\n"
        f"  messages sent: http://{host}:{settings.http_port}/inbox\n"
        f"  residents' page (its QR code on /requests): "
        f"http://{host}:{settings.http_port}/r/{SITES[0].layout.site}\n"
        f"  admin token: {admin}\n"
        f"  safety manager of {SITES[0].layout.site} (signs lift orders off): {signer}\n"
        f"  MQTT: {settings.mqtt!r}"
        f"{' (embedded)' if broker else ''}\n  stop with Ctrl-C\n"
    )
    try:
        healthy = _serve(
            app,
            settings.http_host,
            settings.http_port,
            service.stopped_workers,
            settings.trusted_proxies,
        )
    finally:
        if broker is not None:
            broker.stop()
    if not healthy:
        sys.exit(1)


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (``run`` does this too)."""
    from facility_dispatch.kernel.db import make_engine
    from facility_dispatch.schema import migrate as upgrade

    settings = Settings()
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    click.echo(f"database at {engine.url.render_as_string(hide_password=True)} is up to date")


@main.command()
@click.option("--sites", default="", help="comma-separated sites: one MQTT device account each")
@click.option("--output", type=click.Path(dir_okay=False), default=".env", show_default=True)
@click.option("--force", is_flag=True, help="overwrite an existing file")
@click.option("--print", "to_stdout", is_flag=True, help="print instead of writing a file")
def init(sites: str, output: str, force: bool, to_stdout: bool) -> None:
    """Write the secrets of the compose stack (.env): no default passwords anywhere."""
    from pathlib import Path

    from facility_dispatch.secrets import environment_file

    text = environment_file([s.strip() for s in sites.split(",") if s.strip()])
    if to_stdout:
        click.echo(text, nl=False)
        return
    path = Path(output)
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to replace its secrets")
    path.write_text(text)
    path.chmod(0o600)
    click.echo(f"wrote {path} (mode 600); keep it out of version control")


if __name__ == "__main__":
    sys.exit(main())
