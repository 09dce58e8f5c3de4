"""The composition root: builds every adapter and service from :class:`Settings`, once.

Nothing else in the code base reads settings or constructs adapters; everything is handed
down by constructor, so tests build a :class:`Service` against their own broker and database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, disable_created_metrics
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from api.auth import Principal, Role, same_secret
from facility.clock import Clock, SystemClock
from facility.db import make_engine, make_sessions, migrate
from facility.settings import Settings
from ingest import topics
from ingest.assets import AssetDirectory
from ingest.decoding import DecodePolicy
from ingest.factory import make_telemetry_store
from ingest.metrics import IngestMetrics
from ingest.mqtt import MqttConnection
from ingest.pipeline import IngestPipeline
from ingest.sql import AssetRecord, SqlAssetRegistry, SqlDeadLetters
from ingest.store import TelemetryStore

log = logging.getLogger(__name__)


@dataclass
class Service:
    """Everything ``facility run`` runs. Build with :func:`build_service`."""

    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Any]
    metrics_registry: CollectorRegistry
    store: TelemetryStore
    assets: SqlAssetRegistry
    dead_letters: SqlDeadLetters
    directory: AssetDirectory
    pipeline: IngestPipeline
    mqtt: MqttConnection
    started: bool = field(default=False)

    def start(self) -> None:
        self.pipeline.start()
        self.mqtt.start()
        self.started = True
        log.info("service started: MQTT %r, database %s", self.settings.mqtt, self.engine.url)

    def stop(self) -> None:
        """Clean shutdown: stop receiving, store what is buffered, close everything."""
        if not self.started:
            return
        self.started = False
        self.mqtt.stop()
        self.pipeline.stop()
        self.store.close()
        self.engine.dispose()
        log.info("service stopped")

    def authenticate(self, token: str) -> Principal | None:
        """The admin token from the settings; API tokens are added by the tokens store."""
        admin = self.settings.admin_token
        if admin is not None and same_secret(token, admin.get_secret_value()):
            return Principal("admin", Role.ADMIN)
        return None

    def register_asset(
        self, site: str, asset: str, kind: str, name: str | None, building: str | None
    ) -> AssetRecord:
        record = self.assets.register(site, asset, kind, name, building)
        self.directory.register(record)
        return record

    def asset_status(self, record: AssetRecord) -> str:
        """ok, alarm, offline or maintenance: what the tile on the dashboard shows."""
        if record.online is False:
            return "offline"
        return "ok"

    def asset_view(self, record: AssetRecord) -> dict[str, Any]:
        latest = self.directory.latest(record.site, record.asset)
        return {
            "site": record.site,
            "asset": record.asset,
            "kind": record.kind,
            "status": self.asset_status(record),
            "online": record.online,
            "last_seen": record.last_seen,
            "metrics": latest if latest is not None else record.metrics,
            "name": record.name,
            "building": record.building,
            "registered": record.registered,
        }

    def asset_detail(self, record: AssetRecord) -> dict[str, Any]:
        return self.asset_view(record)

    def database_ok(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False


def build_service(settings: Settings, clock: Clock | None = None) -> Service:
    clock = clock or SystemClock()
    engine = make_engine(settings.sqlalchemy_url, settings.database_statement_timeout_ms)
    migrate(engine)
    sessions = make_sessions(engine)
    disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series only double what a scrape shows
    registry = CollectorRegistry()
    store = make_telemetry_store(settings)
    assets = SqlAssetRegistry(sessions)
    dead_letters = SqlDeadLetters(sessions, settings.dead_letters_kept)
    directory = AssetDirectory(assets.all(), settings.asset_policy, lookup=assets.get)
    mqtt = MqttConnection(
        settings.mqtt,
        settings.mqtt_client_id,
        topics.subscriptions(settings.sites, settings.mqtt_shared_group),
        protocol=settings.mqtt_protocol,
        session_expiry=settings.mqtt_session_expiry,
        receive_maximum=settings.mqtt_receive_maximum,
        ca_file=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None,
    )
    pipeline = IngestPipeline(
        store,
        directory,
        assets,
        dead_letters,
        IngestMetrics(registry),
        policy=DecodePolicy(
            max_future_ms=settings.max_future_seconds * 1000,
            retention_ms=settings.retention_days * 86_400_000,
        ),
        now_ms=clock.now_ms,
        ack=mqtt.ack,
    )
    mqtt.deliver_to(pipeline.submit)
    return Service(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessions,
        metrics_registry=registry,
        store=store,
        assets=assets,
        dead_letters=dead_letters,
        directory=directory,
        pipeline=pipeline,
        mqtt=mqtt,
    )
