"""The dispatcher: alarms that must be worked on become work orders, on a thread of its own.

The alarm service tells it what happened (after its commit); it queues that and returns at
once, so neither ingest nor rule evaluation ever waits for a work order to be written.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Final, NamedTuple

from prometheus_client import CollectorRegistry, Histogram

from facility_dispatch.maintenance.notices import Notices
from facility_dispatch.maintenance.work_orders import WorkOrderService
from facility_dispatch.rules.alarms import AlarmRecord, AlarmService, Happening
from facility_dispatch.rules.loader import RuleSet

log = logging.getLogger(__name__)
_STOP: Final = object()


class _Job(NamedTuple):
    happening: Happening
    alarm: AlarmRecord
    queued: float


OUTAGES: Final = {"pipe_burst": "water", "mains_failure": "power", "entrapment": "elevator"}
"""Faults that take a service away from residents: an emergency notice goes out with the order."""


class Dispatcher:
    def __init__(
        self,
        work_orders: WorkOrderService,
        ruleset: Callable[[], RuleSet],
        registry: CollectorRegistry | None = None,
        notices: Notices | None = None,
        alarms: AlarmService | None = None,
    ) -> None:
        self._work_orders = work_orders
        self._alarms = alarms
        self.waiting = 0
        """Firing alarms found without their order by the last sweep and not dispatched by it."""
        self._notices = notices
        self._ruleset = ruleset
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.latency = Histogram(
            "facility_dispatch_seconds",
            "From an alarm firing (as recorded) to its work order written and assigned",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        )

    def on_alarm(self, happening: Happening, alarm: AlarmRecord) -> None:
        """The alarm service's listener: queue and return."""
        if happening in ("fired", "unmuted", "escalated", "resolved"):
            self._queue.put(_Job(happening, alarm, time.monotonic()))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def sweep(self) -> int:
        """Give an order to every firing, unmuted alarm whose rule asks for one and that has
        none, from the database (as Alertmanager's dispatcher starts from its stored alerts):
        nothing that a crash or a long outage lost from the queue is lost for good. Returns
        how many alarms were waiting; the gauge says so, and each is logged while it waits."""
        ruleset = self._ruleset()
        wanted = [rule.id for rule in ruleset.rules if rule.work_order is not None]
        waiting = self._alarms.waiting_for_dispatch(wanted) if self._alarms else []
        self.waiting = len(waiting)
        for alarm in waiting:
            log.warning(
                "alarm %s (%s at %s/%s) waits for its work order; dispatching it",
                alarm.id,
                alarm.fault,
                alarm.site,
                alarm.asset,
            )
            try:
                self.handle("fired", alarm)
            except Exception:
                log.exception("the sweep could not dispatch alarm %s; next sweep", alarm.id)
                continue
            self.waiting -= 1
        return len(waiting)

    @property
    def alive(self) -> bool:
        """False once the dispatcher's thread has died (health then says so)."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                self._dispatch(item)
            except Exception:
                log.exception("dispatching %r failed; the dispatcher carries on", item)

    def _dispatch(self, item: object) -> None:
        if isinstance(item, _Job):
            happening, alarm, queued = item
            for attempt in range(60):  # the database may be away for a while: keep the order
                try:
                    self.handle(happening, alarm)
                    break
                except Exception:
                    log.exception("dispatching alarm %s (%s) failed; retrying", alarm.id, happening)
                    time.sleep(min(0.5 * (attempt + 1), 5.0))
            self.latency.observe(time.monotonic() - queued)

    def handle(self, happening: Happening, alarm: AlarmRecord) -> None:
        if happening == "resolved":
            self._work_orders.alarm_resolved(alarm.id)
            return
        rule = self._ruleset().by_id(alarm.rule_id)
        if rule is None or rule.work_order is None:
            return
        if happening == "escalated" and alarm.work_order_id is None:
            return
        order, created = self._work_orders.open_from_alarm(
            alarm.id,
            rule.work_order.priority,
            rule.work_order.skill,
            rule.description,
            full=False,
            unless_linked=happening != "escalated",  # an escalation may raise the priority
        )
        if happening != "escalated" and any(
            inhibition.source.fault == alarm.fault for inhibition in self._ruleset().inhibit
        ):
            # a root cause that fired after its consequences: their orders join this one
            self._work_orders.join_incident(alarm.id, order.id)
        service = OUTAGES.get(alarm.fault)
        if created and service and self._notices is not None:
            # an emergency that cuts a service: residents are told at once, with no end yet
            self._notices.announce(
                alarm.site,
                service,
                alarm.fired_at or alarm.started_at,
                None,
                "",  # the residents' words for the service's fault, not the rule's text
                asset=alarm.asset,
                planned=False,
                work_order_id=order.id,
            )
