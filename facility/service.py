"""The composition root: builds every adapter and service from :class:`Settings`, once.

Nothing else in the code base reads settings or constructs adapters; everything is handed
down by constructor, so tests build a :class:`Service` against their own broker and database.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics
from sqlalchemy import Engine, text

from facility_dispatch.api.auth import Principal, Role, same_secret
from facility_dispatch.api.dashboard.wording import event_wording, order_words
from facility_dispatch.api.tokens import Tokens
from facility_dispatch.factory import make_telemetry_store
from facility_dispatch.ingest import topics
from facility_dispatch.ingest.assets import AssetDirectory, AssetLimits
from facility_dispatch.ingest.decoding import DecodePolicy
from facility_dispatch.ingest.metrics import IngestMetrics
from facility_dispatch.ingest.mqtt import BrokerConnection, MqttConnection
from facility_dispatch.ingest.pipeline import IngestPipeline
from facility_dispatch.ingest.receiver import ReceiverProcess
from facility_dispatch.ingest.sql import AssetRecord, SqlAssetRegistry, SqlDeadLetters
from facility_dispatch.ingest.store import TelemetryStore
from facility_dispatch.kernel.clock import Clock, SystemClock, from_ms
from facility_dispatch.kernel.db import Sessions, make_engine, make_sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.kernel.photos import PhotoStore
from facility_dispatch.kernel.readings import Presence
from facility_dispatch.leadership import Leadership
from facility_dispatch.maintenance.assignment import Policy
from facility_dispatch.maintenance.dispatcher import Dispatcher
from facility_dispatch.maintenance.escalation import Escalation
from facility_dispatch.maintenance.handover import Handovers
from facility_dispatch.maintenance.notices import Notices
from facility_dispatch.maintenance.parts import Parts
from facility_dispatch.maintenance.patrols import Patrols
from facility_dispatch.maintenance.people import People
from facility_dispatch.maintenance.planning import Planner
from facility_dispatch.maintenance.review import IncidentReviews
from facility_dispatch.maintenance.rostering import Rosters
from facility_dispatch.maintenance.statutory import Compliance
from facility_dispatch.maintenance.work_orders import WorkOrderService
from facility_dispatch.maintenance.works import WorksFollowUp
from facility_dispatch.notify.apprise_sender import AppriseSender
from facility_dispatch.notify.outbox import Notifier
from facility_dispatch.residents.requests import ResidentRequests
from facility_dispatch.retention import Retention
from facility_dispatch.rules.alarms import AlarmService
from facility_dispatch.rules.engine import RuleEngine
from facility_dispatch.rules.runner import RuleRunner, RulesMetrics, load_rules
from facility_dispatch.rules.sql import SqlBaselines, SqlSilences
from facility_dispatch.scheduler import Scheduler
from facility_dispatch.schema import migrate
from facility_dispatch.settings import Settings

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
    mqtt: BrokerConnection
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
    rosters: Rosters
    handovers: Handovers
    patrols: Patrols
    residents: ResidentRequests
    notifier: Notifier
    compliance: Compliance
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
        self.notifier.start()
        self.leadership = Leadership(self.db, self._lead, self._follow)
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
            "notifier": self.notifier.alive,
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
        self.notifier.lead()  # one sender per installation: the leader

    def _follow(self) -> None:
        self.notifier.follow()
        self.scheduler.pause()

    def stop(self) -> None:
        """Clean shutdown: stop receiving, store what is buffered, close everything."""
        if not self.started:
            return
        self.started = False
        if self.leadership is not None:
            self.leadership.stop()
        self.scheduler.stop()
        self.notifier.stop()
        self.pipeline.settle()  # store and acknowledge what has arrived, while connected
        self.mqtt.stop()
        self.pipeline.stop()  # anything later is stored; the broker delivers it again, a duplicate
        self.planner.flush_meters()
        self.rules.stop()  # stores what the deviation rules learned: it outlives the restart
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
    mqtt = _broker_connection(settings)
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
        max_queued=settings.ingest_max_queued,
        lag_limit_seconds=settings.ingest_lag_degraded_seconds,
    )
    mqtt.deliver_to(pipeline.submit)

    events = EventLog(sessions)

    def presence_changed(presences: list[Presence]) -> None:
        events.publish_all(
            [
                (
                    "asset.presence",
                    from_ms(p.received_ms),
                    {"site": p.site, "asset": p.asset, "kind": p.kind, "online": p.online},
                    p.site,
                )
                for p in presences
            ]
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
    runner = RuleRunner(
        engine,
        alarms,
        RulesMetrics(registry),
        clock,
        settings.rules,
        SqlBaselines(sessions),
        settings.baseline_flush_seconds,
    )
    pipeline.on_readings(runner.on_readings)
    pipeline.on_tick(runner.on_tick)
    Gauge("facility_alarms_firing", "Alarms firing now", registry=registry).set_function(
        alarms.count_firing
    )

    people = People(sessions)
    runner.watch_sites(people.site_parameters)  # nominal voltage and frequency per site
    work_orders = WorkOrderService(
        sessions,
        events,
        people,
        clock,
        policy=Policy(max_open_orders=settings.max_open_orders),
        timezone=settings.timezone,
    )

    def locate(site: str, asset: str) -> tuple[str | None, str | None]:
        record = assets.get(site, asset)
        return (record.building, record.name) if record else (None, None)

    notices = Notices(
        sessions,
        events,
        people,
        clock,
        settings.timezone,
        publish=lambda topic, payload, retain: mqtt.publish(topic, payload, 1, retain),
        locate=locate,
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

    def installed_on(site: str, asset: str) -> date | None:
        record = assets.get(site, asset)
        return record.install_date if record else None

    def building_of(site: str, asset: str) -> str | None:
        record = assets.get(site, asset)
        return record.building if record else None

    planner = Planner(
        sessions,
        work_orders,
        notices,
        assets_of_kind,
        clock,
        settings.timezone,
        zone_of,
        building_of,
        events=events,
    )
    pipeline.on_readings(planner.on_readings)
    scheduler.every(timedelta(seconds=10), planner.flush_meters, "meters")
    scheduler.every(timedelta(seconds=30), planner.sweep, "plans")
    parts = Parts(sessions, events, clock, work_orders)
    rosters = Rosters(sessions, people, clock, settings.timezone, events)
    scheduler.every(timedelta(minutes=5), rosters.flag_gaps, "roster-gaps")
    scheduler.every(timedelta(minutes=5), rosters.publish, "roster-publish")
    handovers = Handovers(sessions, events, work_orders, people, clock, rosters)
    scheduler.every(timedelta(seconds=60), handovers.flag_overdue, "handovers")
    patrols = Patrols(
        sessions,
        events,
        work_orders,
        people,
        clock,
        settings.timezone,
        PhotoStore(settings.data_dir / "photos"),
    )
    scheduler.every(timedelta(seconds=60), patrols.sweep, "rounds")
    residents = ResidentRequests(
        sessions,
        events,
        work_orders,
        people,
        PhotoStore(settings.data_dir / "photos"),
        clock,
        retention=timedelta(days=settings.requests_retention_days),
    )
    scheduler.every(timedelta(hours=1), residents.prune, "requests-retention")
    scheduler.every(timedelta(seconds=30), notices.publish_due, "notices")
    notifier = Notifier(
        sessions,
        events,
        work_orders,
        people,
        clock,
        AppriseSender(),
        public_url=settings.link_base,
        timezone=settings.timezone,
        wording=order_words,
        event_wording=event_wording(alarms.rule),
        config_file=settings.notify,
        registry=registry,
    )
    notifier.load_file()  # a bad notifications file stops the start, naming route and field
    scheduler.every(
        timedelta(hours=1),
        lambda: notifier.prune(clock.now() - timedelta(days=settings.events_retention_days)),
        "notifications-retention",
    )

    compliance = Compliance(
        sessions,
        events,
        people,
        clock,
        settings.timezone,
        lead_days=settings.compliance_lead_days,
        zone_of=zone_of,
        installed_on=installed_on,
    )
    scheduler.every(timedelta(minutes=10), compliance.sweep, "compliance")

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
        rosters=rosters,
        handovers=handovers,
        patrols=patrols,
        residents=residents,
        notifier=notifier,
        compliance=compliance,
    )


def _broker_connection(settings: Settings) -> BrokerConnection:
    """The service's MQTT connection: paho in a process of its own unless told otherwise."""
    subscriptions = topics.subscriptions(settings.sites, settings.mqtt_shared_group)
    options: dict[str, Any] = {
        "protocol": settings.mqtt_protocol,
        "session_expiry": settings.mqtt_session_expiry,
        "receive_maximum": settings.mqtt_receive_maximum,
        "ca_file": str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None,
    }
    if settings.mqtt_receiver_process:
        return ReceiverProcess(
            settings.mqtt,
            settings.mqtt_client_id,
            subscriptions,
            max_pending=settings.ingest_max_queued,
            **options,
        )
    return MqttConnection(settings.mqtt, settings.mqtt_client_id, subscriptions, **options)
