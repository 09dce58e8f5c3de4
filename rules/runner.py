"""Runs the engine inside the service: readings from ingest, ticks, reloads, recovery.

All engine work happens on the ingest worker's thread (readings and ticks both arrive there),
so the engine needs no locking of its own; the lock here only orders a reload requested from
elsewhere (SIGHUP) with evaluation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram

from facility_dispatch.ingest.sql import AssetRecord
from facility_dispatch.ingest.store import TelemetryStore
from facility_dispatch.kernel.clock import Clock
from facility_dispatch.kernel.readings import Reading
from facility_dispatch.rules.alarms import AlarmService
from facility_dispatch.rules.engine import RuleEngine, SavedBaseline
from facility_dispatch.rules.errors import RulesFileError
from facility_dispatch.rules.loader import RuleSet, load_default, load_file
from facility_dispatch.rules.sql import SqlBaselines

log = logging.getLogger(__name__)

SiteParameters = Mapping[str, Mapping[str, float]]

MAX_REPLAY_MS = 3_600_000
"""Rebuild at most an hour of windows and rates after a restart: longer windows warm up anew."""


class RulesMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.evaluation = Histogram(
            "facility_rule_evaluation_seconds",
            "Time to evaluate the rules for one batch of readings",
            buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5),
            registry=registry,
        )
        self.changes = Counter(
            "facility_alarm_changes", "Alarm changes decided", ["change"], registry=registry
        )
        self.reloads = Counter(
            "facility_rules_reloads", "Rules files loaded while running", registry=registry
        )
        self.refused = Counter(
            "facility_rules_reload_refused",
            "Rules files refused while running (the old rules stayed)",
            registry=registry,
        )


def load_rules(path: Path | None) -> RuleSet:
    return load_file(path) if path else load_default()


class RuleRunner:
    def __init__(
        self,
        engine: RuleEngine,
        alarms: AlarmService,
        metrics: RulesMetrics,
        clock: Clock,
        rules_path: Path | None,
        baselines: SqlBaselines | None = None,
        baseline_flush_s: float = 60.0,
    ) -> None:
        self.engine = engine
        self._baselines = baselines
        self._baseline_flush_s = baseline_flush_s
        self._last_baseline_flush = time.monotonic()
        self._saved: dict[tuple[str, str, str], int] = {}  # (site, asset, leaf) -> last_ms kept
        self._writer: ThreadPoolExecutor | None = None
        self._pending_write: Future[None] | None = None
        self._alarms = alarms
        self._metrics = metrics
        self._clock = clock
        self._path = rules_path
        self._mtime = self._stat()
        self._reload_requested = threading.Event()
        self._lock = threading.Lock()
        self._last_mute_check = 0.0
        self._last_file_check = 0.0
        self.last_refusal: str | None = None
        self._sites: Callable[[], SiteParameters] | None = None
        self._site_parameters: SiteParameters = {}

    def watch_sites(self, sites: Callable[[], SiteParameters]) -> None:
        """Where the sites' parameters come from (read at recovery, then every 5 s)."""
        self._sites = sites

    def _refresh_sites(self) -> None:
        if self._sites is None:
            return
        try:
            parameters = self._sites()
        except Exception:
            log.warning("site parameters not read (database unavailable?); the old ones stay")
            return
        if parameters != self._site_parameters:
            self._site_parameters = parameters
            with self._lock:
                self.engine.set_sites(parameters)

    def _stat(self) -> float | None:
        try:
            return self._path.stat().st_mtime if self._path else None
        except OSError:
            return None

    # -- hooks of the ingest pipeline -------------------------------------------------------

    def on_readings(self, readings: list[Reading]) -> None:
        started = time.perf_counter()
        with self._lock:
            changes = self.engine.evaluate_all(readings, self._clock.now_ms())
        self._metrics.evaluation.observe(time.perf_counter() - started)
        if changes:
            for change in changes:
                self._metrics.changes.labels(change.state).inc()
            self._alarms.apply(changes)

    def on_tick(self, now_ms: int) -> None:
        with self._lock:
            changes = self.engine.tick(now_ms)
        for change in changes:
            self._metrics.changes.labels(change.state).inc()
        self._alarms.apply(changes)  # also writes what waited for the database
        now = time.monotonic()
        if now - self._last_mute_check >= 5.0:
            self._last_mute_check = now
            try:
                self._alarms.refresh_silences()
                self._alarms.recheck_mutes()
            except Exception:
                log.warning("silences not rechecked (database unavailable?)")
            self._refresh_sites()
        if now - self._last_file_check >= 2.0:
            self._last_file_check = now
            mtime = self._stat()
            if mtime is not None and mtime != self._mtime:
                self._reload_requested.set()
        if self._reload_requested.is_set():
            self._reload_requested.clear()
            self.reload()
        if now - self._last_baseline_flush >= self._baseline_flush_s:
            self.flush_baselines()

    def flush_baselines(self, wait: bool = False) -> int:
        """Store the deviation baselines that learned something since they were last stored
        (every ``baseline_flush_s`` from the ticks, and at stop). The snapshot is taken here,
        on the engine's thread; the writing (in transactions of a few hundred rows) runs on a
        writer thread of its own, so ingest does not wait for the database: with thousands
        of pumps it takes seconds. While the last batch is still being written the flush
        waits for the next tick (``wait``: finish it, then write this one here). A database
        that is away costs nothing learned: they are stored at the next flush. Returns how
        many were handed over."""
        self._last_baseline_flush = time.monotonic()
        if self._baselines is None:
            return 0
        pending = self._pending_write
        if pending is not None and not pending.done():
            if not wait:
                return 0
            pending.result()
        with self._lock:
            changed = [
                b
                for b in self.engine.baselines()
                if self._saved.get((b.site, b.asset, b.leaf)) != b.last_ms
            ]
        if not changed:
            return 0
        if wait:
            self._write_baselines(changed)
        else:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="baselines")
            self._pending_write = self._writer.submit(self._write_baselines, changed)
        return len(changed)

    def _write_baselines(self, changed: list[SavedBaseline]) -> None:
        assert self._baselines is not None
        try:
            self._baselines.save(changed)
        except Exception:
            log.warning("learned baselines not stored (database unavailable?); kept for later")
            return
        for b in changed:  # the engine's thread reads this only once the write is done
            self._saved[(b.site, b.asset, b.leaf)] = b.last_ms

    def stop(self) -> None:
        """At a clean stop: store what the baselines learned, and end the writer thread."""
        self.flush_baselines(wait=True)
        if self._writer is not None:
            self._writer.shutdown()
            self._writer = None

    def _load_baselines(self) -> int:
        """The baselines stored before the restart (the engine's lock is held)."""
        if self._baselines is None:
            return 0
        try:
            saved = self._baselines.load()
        except Exception:
            log.warning("learned baselines not read (database unavailable?): they learn anew")
            return 0
        left: list[SavedBaseline] = self.engine.load_baselines(saved)
        gone = {(b.site, b.asset, b.leaf) for b in left}
        for b in saved:
            if (b.site, b.asset, b.leaf) not in gone:
                self._saved[(b.site, b.asset, b.leaf)] = b.last_ms
        if gone:
            try:
                self._baselines.forget(sorted(gone))
            except Exception:
                log.warning("baselines of changed rules not dropped (database unavailable?)")
        return len(saved) - len(left)

    def request_reload(self) -> None:
        """From a signal handler: the next tick reloads (on the engine's own thread)."""
        self._reload_requested.set()

    def reload(self) -> bool:
        """Load the rules file again; a bad file is refused and the old rules stay."""
        self._mtime = self._stat()
        try:
            ruleset = load_rules(self._path)
        except RulesFileError as error:
            self.last_refusal = str(error)
            self._metrics.refused.inc()
            log.error("rules file %s refused, the previous rules stay: %s", self._path, error)
            return False
        with self._lock:
            changes = self.engine.replace(ruleset, self._clock.now_ms())
        self.last_refusal = None
        self._metrics.reloads.inc()
        log.info("rules reloaded from %s: %d rules", ruleset.source, len(ruleset.rules))
        self._alarms.apply(changes)
        return True

    # -- after a restart --------------------------------------------------------------------

    def recover(self, store: TelemetryStore, assets: Iterable[AssetRecord]) -> int:
        """Take back open alarms, rebuild values, windows and rates from stored readings, then
        judge once: alarms whose change was lost in a crash fire now, nothing fires twice."""
        now_ms = self._clock.now_ms()
        known = list(assets)
        self._refresh_sites()
        with self._lock:
            self.engine.restore(self._alarms.open_alarms())
            for record in known:
                self.engine.seed(record.site, record.asset, record.kind, record.metrics)
            learned = self._load_baselines()  # before the replay: it skips what they saw
            replayed = 0
            horizon = min(self.engine.horizon_ms(), MAX_REPLAY_MS)
            if horizon:
                try:
                    for reading in store.since(now_ms - horizon):
                        self.engine.warm(reading)
                        replayed += 1
                except Exception:
                    # the telemetry store is away: start anyway, windows and rates warm anew
                    log.warning("stored readings not replayed (telemetry store unavailable)")
            newest = -1
            for record in known:
                seen = int(record.last_seen.timestamp() * 1000) if record.last_seen else None
                self.engine.know(record.site, record.asset, record.kind, seen)
                newest = max(newest, seen or -1)
            if newest >= 0:
                self.engine.resume(newest, now_ms)  # our downtime is not the devices' silence
            changes = self.engine.reconcile(now_ms)
        self._alarms.apply(changes)
        log.info(
            "rules recovered: %d open alarms, %d learned baselines, %d readings replayed, "
            "%d changes on reconcile",
            len(self.engine.open_alarms()),
            learned,
            replayed,
            len(changes),
        )
        return replayed
