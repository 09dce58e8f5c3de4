"""The composition root: builds every adapter and service from :class:`Settings`, once.

Nothing else in the code base reads settings or constructs adapters; everything is handed
down by constructor, so tests build a :class:`Service` against their own broker and database.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics
from sqlalchemy import Engine, text

from api.auth import Principal, Role, same_secret
from api.tokens import Tokens
from facility.clock import Clock, SystemClock, from_ms
from facility.db import Sessions, make_engine, make_sessions, migrate
from facility.events import EventLog
from facility.leadership import Leadership
from facility.retention import Retention
from facility.scheduler import Scheduler
from facility.settings import Settings
from ingest import topics
from ingest.assets import AssetDirectory, AssetLimits
from ingest.decoding import DecodePolicy
from ingest.factory import make_telemetry_store
from ingest.metrics import IngestMetrics
from ingest.mqtt import MqttConnection
from ingest.pipeline import IngestPipeline
from ingest.readings import Presence
from ingest.sql import AssetRecord, SqlAssetRegistry, SqlDeadLetters
from ingest.store import TelemetryStore
from maintenance.assignment import Policy
from maintenance.dispatcher import Dispatcher
from maintenance.escalation import Escalation
from maintenance.notices import Notices
from maintenance.parts import Parts
from maintenance.people import People
from maintenance.planning import Planner
from maintenance.review import IncidentReviews
from maintenance.work_orders import WorkOrderService
from maintenance.works import WorksFollowUp
from rules.alarms import AlarmService
from rules.engine import RuleEngine
from rules.runner import RuleRunner, RulesMetrics, load_rules
from rules.sql import SqlSilences

log = logging.getLogger(__name__)


@dataclass
class Service:
    """Everything ``facility run`` runs. Build with :func:`build_service`."""

    settings: Settings
    clock: Clock
    db: Engine
    sessions: Sessions
    metrics_registry: CollectorRegistry
    store: TelemetryStore
    assets: SqlAssetRegistry
    dead_letters: SqlDeadLetters
    directory: AssetDirectory
    pipeline: IngestPipeline
    mqtt: MqttConnection
    events: EventLog
    alarms: AlarmService
    rules: RuleRunner
    people: People
    work_orders: WorkOrderService
    escalation: Escalation
    dispatcher: Dispatcher
    scheduler: Scheduler
    tokens: Tokens
    notices: Notices
    planner: Planner
    parts: Parts
    reviews: IncidentReviews
    leadership: Leadership | None = None
    started: bool = field(default=False)

    def start(self) -> None:
        self.dispatcher.start()
        self.rules.recover(self.store, self.assets.all())
        self.planner.load_meters()
        _freeze_heap()
        self.pipeline.start()
        self.mqtt.start()
        self.scheduler.start(paused=True)
        self.leadership = Leadership(self.db, self._lead, self.scheduler.pause)
        self.leadership.start()
        self.started = True
        log.info("service started: MQTT %r, database %s", self.settings.mqtt, self.db.url)

    def stopped_workers(self) -> list[str]:
        """The service's own threads that should be running and are not: a service without
        them would answer health checks while it ingests or dispatches nothing."""
        if not self.started:
            return []
        workers = {
            "ingest": self.pipeline.alive,
            "dispatcher": self.dispatcher.alive,
            "leadership": self.leadership is not None and self.leadership.alive,
        }
        return [name for name, alive in workers.items() if not alive]

    def _lead(self) -> None:
        """This worker runs the timed work: catch up on the plans, then keep the calendar."""
        self.scheduler.resume()
        try:
            self.dispatcher.sweep()  # the orders a crash or an outage left unopened
        except Exception:
            log.exception("dispatch sweep failed; the scheduler runs it again in 30 s")
        self.planner.sweep()  # the first sweep makes what came due while no leader ran

    def stop(self) -> None:
        """Clean shutdown: stop receiving, store what is buffered, close everything."""
        if not self.started:
            return
        self.started = False
        if self.leadership is not None:
            self.leadership.stop()
        self.scheduler.stop()
        self.pipeline.settle()  # store and acknowledge what has arrived, while connected
        self.mqtt.stop()
        self.pipeline.stop()  # anything later is stored; the broker delivers it again, a duplicate
        self.planner.flush_meters()
        self.alarms.flush_backlog()
        self.dispatcher.stop()
        self.store.close()
        self.db.dispose()
        gc.unfreeze()  # what it held may go now (tests run many services in one process)
        log.info("service stopped")

    def authenticate(self, token: str) -> Principal | None:
        """The admin token of the settings, or an API token (hashed, revocable, expiring)."""
        admin = self.settings.admin_token
        if admin is not None and same_secret(token, admin.get_secret_value()):
            return Principal("admin", Role.ADMIN)
        return self.tokens.verify(token, self.clock.now())

    def register_asset(
        self, site: str, asset: str, kind: str, name: str | None, building: str | None
    ) -> AssetRecord:
        record = self.assets.register(site, asset, kind, name, building)
        self.directory.register(record)
        return record

    def asset_status(self, record: AssetRecord, alarming: bool = False) -> str:
        """ok, alarm, offline or maintenance: what the tile on the dashboard shows."""
        if self.alarms.under_works(record.site, record.asset):
            return "maintenance"
        if alarming:
            return "alarm"
        if record.online is False:
            return "offline"
        return "ok"

    def asset_view(self, record: AssetRecord, alarming: bool | None = None) -> dict[str, Any]:
        if alarming is None:
            alarming = bool(
                self.alarms.query(site=record.site, asset=record.asset, state="firing", limit=1)[1]
            )
        latest = self.directory.latest(record.site, record.asset)
        return {
            "site": record.site,
            "asset": record.asset,
            "kind": record.kind,
            "status": self.asset_status(record, alarming),
            "online": record.online,
            "last_seen": record.last_seen,
            "metrics": latest if latest is not None else record.metrics,
            "name": record.name,
            "building": record.building,
            "registered": record.registered,
        }

    def asset_views(self, records: list[AssetRecord]) -> list[dict[str, Any]]:
        firing = {
            key
            for key, alarms in self.alarms.open_states_by_asset().items()
            if any(a.state == "firing" and not a.silenced for a in alarms)
        }
        return [self.asset_view(r, (r.site, r.asset) in firing) for r in records]

    def asset_detail(self, record: AssetRecord) -> dict[str, Any]:
        view = self.asset_view(record)
        open_alarms, _ = self.alarms.query(
            site=record.site, asset=record.asset, states=("pending", "firing")
        )
        view["alarms"] = [a.public() for a in open_alarms]
        return view

    def database_ok(self) -> bool:
        try:
            with self.db.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False


def _freeze_heap() -> None:
    """Take what exists once the service is built out of the garbage collector's sight.

    That is the modules, the app, SQLAlchemy's and pydantic's machinery, the rule engine's
    state: it lives as long as the process, yet every full collection walked all of it again,
    and under load the ingest path's allocations set off full collections often. Measured on
    200,000 readings in gateway batches through the real broker, alternating: 47.3-54.0k
    readings/s without, 49.2-60.6k with.
    """
    gc.collect()
    gc.freeze()


def build_service(settings: Settings, clock: Clock | None = None) -> Service:
    clock = clock or SystemClock()
    db = make_engine(settings.sqlalchemy_url, settings.database_statement_timeout_ms)
    migrate(db)
    sessions = make_sessions(db)
    disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created doubles each series
    registry = CollectorRegistry()
    store = make_telemetry_store(settings)
    assets = SqlAssetRegistry(sessions)
    dead_letters = SqlDeadLetters(sessions, settings.dead_letters_kept)
    directory = AssetDirectory(
        assets.all(),
        settings.asset_policy,
        lookup=assets.get,
        limits=AssetLimits(
            metrics_per_asset=settings.max_metrics_per_asset,
            assets_per_site=settings.max_assets_per_site,
            assets=settings.max_assets,
        ),
    )
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
            max_metrics=settings.max_metrics_per_reading,
        ),
        now_ms=clock.now_ms,
        ack=mqtt.ack,
    )
    mqtt.deliver_to(pipeline.submit)

    events = EventLog(sessions)

    def presence_changed(presence: Presence) -> None:
        events.publish(
            "asset.presence",
            from_ms(presence.received_ms),
            {
                "site": presence.site,
                "asset": presence.asset,
                "kind": presence.kind,
                "online": presence.online,
            },
            presence.site,
        )

    pipeline.on_presence(presence_changed)
    engine = RuleEngine(load_rules(settings.rules))
    alarms = AlarmService(
        sessions,
        events,
        SqlSilences(sessions),
        clock,
        lambda: engine.ruleset,
        publish=lambda topic, payload, retain: mqtt.publish(topic, payload, 1, retain),
    )
    runner = RuleRunner(engine, alarms, RulesMetrics(registry), clock, settings.rules)
    pipeline.on_readings(runner.on_readings)
    pipeline.on_tick(runner.on_tick)
    Gauge("facility_alarms_firing", "Alarms firing now", registry=registry).set_function(
        alarms.count_firing
    )

    people = People(sessions)
    work_orders = WorkOrderService(
        sessions,
        events,
        people,
        clock,
        policy=Policy(max_open_orders=settings.max_open_orders),
        timezone=settings.timezone,
    )
    notices = Notices(
        sessions,
        events,
        people,
        clock,
        settings.timezone,
        publish=lambda topic, payload, retain: mqtt.publish(topic, payload, 1, retain),
    )
    dispatcher = Dispatcher(work_orders, lambda: engine.ruleset, registry, notices, alarms)
    work_orders.on_transition(WorksFollowUp(alarms, notices))
    alarms.on_alarm(dispatcher.on_alarm)
    Gauge(
        "facility_work_orders_open", "Work orders not closed or cancelled", registry=registry
    ).set_function(work_orders.count_open)
    Gauge(
        "facility_dispatch_queue_depth", "Alarms waiting for the dispatcher", registry=registry
    ).set_function(lambda: dispatcher.backlog)
    Gauge(
        "facility_alarms_waiting_for_dispatch",
        "Firing alarms that ask for a work order and had none at the last sweep",
        registry=registry,
    ).set_function(lambda: dispatcher.waiting)
    Gauge(
        "facility_alarm_backlog",
        "Alarm changes waiting for the database (it was away)",
        registry=registry,
    ).set_function(lambda: alarms.backlog)

    scheduler = Scheduler(settings.timezone)
    escalation = Escalation(work_orders, people, sessions, clock)
    escalations = Counter(
        "facility_escalations",
        "SLA deadlines breached and playbook targets missed (each escalated once)",
        registry=registry,
    )
    scheduler.every(
        timedelta(seconds=15), lambda: escalations.inc(escalation.check_deadlines()), "deadlines"
    )
    scheduler.every(timedelta(seconds=30), escalation.handle_absences, "absences")
    scheduler.every(timedelta(seconds=60), escalation.retry_unassigned, "unassigned")
    scheduler.every(timedelta(seconds=30), dispatcher.sweep, "dispatch-sweep")
    retention = Retention(
        events,
        store,
        clock,
        events_kept=timedelta(days=settings.events_retention_days),
        telemetry_kept=timedelta(days=settings.retention_days),
    )
    scheduler.every(timedelta(hours=1), retention.prune, "retention")

    def assets_of_kind(site: str, kind: str) -> list[str]:
        return [a.asset for a in assets.query(site, kind)[0]]

    def zone_of(site: str) -> str | None:
        known = people.site(site)
        return known.timezone if known else None

    planner = Planner(
        sessions, work_orders, notices, assets_of_kind, clock, settings.timezone, zone_of
    )
    pipeline.on_readings(planner.on_readings)
    scheduler.every(timedelta(seconds=10), planner.flush_meters, "meters")
    scheduler.every(timedelta(seconds=30), planner.sweep, "plans")
    parts = Parts(sessions, events, clock, work_orders)

    return Service(
        settings=settings,
        clock=clock,
        db=db,
        sessions=sessions,
        metrics_registry=registry,
        store=store,
        assets=assets,
        dead_letters=dead_letters,
        directory=directory,
        pipeline=pipeline,
        mqtt=mqtt,
        events=events,
        alarms=alarms,
        rules=runner,
        people=people,
        work_orders=work_orders,
        escalation=escalation,
        dispatcher=dispatcher,
        scheduler=scheduler,
        tokens=Tokens(sessions),
        notices=notices,
        planner=planner,
        parts=parts,
        reviews=IncidentReviews(work_orders, alarms, store, parts, lambda: engine.ruleset),
    )
