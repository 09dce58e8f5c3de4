"""Retention: what is past its time is deleted, by the scheduler's leader, every hour.

Readings older than ``FACILITY_RETENTION_DAYS`` are refused at the door (SPEC section 1); this
removes the ones that have grown old since, from the embedded store (InfluxDB's bucket has a
retention of its own), and the event log's history past ``FACILITY_EVENTS_RETENTION_DAYS``
(a dashboard resumes from minutes ago, not months).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from facility_dispatch.ingest.store import TelemetryStore
from facility_dispatch.kernel.clock import Clock, to_ms
from facility_dispatch.kernel.events import EventLog

log = logging.getLogger(__name__)


class Retention:
    def __init__(
        self,
        events: EventLog,
        store: TelemetryStore,
        clock: Clock,
        *,
        events_kept: timedelta,
        telemetry_kept: timedelta,
    ) -> None:
        self._events = events
        self._store = store
        self._clock = clock
        self._events_kept = events_kept
        self._telemetry_kept = telemetry_kept

    def prune(self) -> tuple[int, int]:
        """(events, readings) deleted."""
        now = self._clock.now()
        events = self._events.prune(now - self._events_kept)
        readings = self._store.prune(to_ms(now - self._telemetry_kept))
        if events or readings:
            log.info(
                "retention: %d events and %d readings past their time deleted", events, readings
            )
        return events, readings
