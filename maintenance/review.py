"""The incident review (复盘) of a finished order: what happened, when, and how long each step
took, merged from its alarms, the readings around them, its timeline and its checklist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from facility_dispatch.ingest.store import TelemetryStore
from facility_dispatch.kernel.clock import from_ms, rfc3339, to_ms
from facility_dispatch.maintenance.errors import ConflictError, NotFoundError
from facility_dispatch.maintenance.orders import WorkOrder
from facility_dispatch.maintenance.parts import Parts
from facility_dispatch.maintenance.playbooks import for_fault
from facility_dispatch.maintenance.work_orders import WorkOrderService
from facility_dispatch.rules.alarms import AlarmRecord, AlarmService
from facility_dispatch.rules.loader import RuleSet, metrics_of

AROUND = timedelta(minutes=30)
FINISHED = ("resolved", "closed", "cancelled")


class IncidentReviews:
    def __init__(
        self,
        work_orders: WorkOrderService,
        alarms: AlarmService,
        store: TelemetryStore,
        parts: Parts,
        ruleset: Callable[[], RuleSet],
    ) -> None:
        self._work_orders = work_orders
        self._alarms = alarms
        self._store = store
        self._parts = parts
        self._ruleset = ruleset

    def review(self, order_id: int) -> dict[str, Any]:
        order = self._work_orders.get(order_id)
        if order is None:
            raise NotFoundError(f"no work order {order_id}")
        if order.status not in FINISHED:
            raise ConflictError(
                f"{order.number} is {order.status}: the review is made once the order is resolved"
            )
        alarms = [a for a in (self._alarms.get(i) for i in order.alarm_ids) if a is not None]
        began = min([a.started_at for a in alarms] + [order.created_at])
        ended = order.closed_at or order.resolved_at or order.updated_at
        events = self._events(order, alarms)
        key_times = self._key_times(order, alarms)
        return {
            "work_order": {
                "id": order.id,
                "number": order.number,
                "title": order.title,
                "site": order.site,
                "asset": order.asset,
                "fault": order.fault,
                "priority": order.priority,
                "status": order.status,
                "playbook": (playbook.title if (playbook := for_fault(order.fault)) else None),
            },
            "key_times": {name: rfc3339(at) for name, at in key_times.items()},
            "durations_s": self._durations(key_times),
            "targets": self._targets(order),
            "events": events,
            "readings": self._readings(order, alarms, began - AROUND, ended + AROUND),
            "parts": [
                {"sku": p.sku, "name": p.name, "used": p.consumed, "unit": p.unit, "cost": p.cost}
                for p in self._parts.for_order(order.id)
            ],
            "cost": order.cost,
            "resolution": self._resolution(order),
            "notes": [
                {"at": rfc3339(t.at), "actor": t.actor, "note": t.note}
                for t in order.timeline
                if t.event == "note"
            ],
        }

    @staticmethod
    def _resolution(order: WorkOrder) -> dict[str, str | None]:
        """The cause and the action taken, as given when the order was (last) resolved."""
        resolved = [t for t in order.timeline if t.event == "transition" and t.to == "resolved"]
        data = resolved[-1].data if resolved else {}
        return {"cause": data.get("cause"), "action": data.get("action")}

    @staticmethod
    def _key_times(order: WorkOrder, alarms: list[AlarmRecord]) -> dict[str, datetime | None]:
        checklist = {item.key: item.done_at for item in order.checklist if item.key}
        assigned = next((t.at for t in order.timeline if t.event == "assigned"), None)
        return {
            "alarm_started": min((a.started_at for a in alarms), default=None),
            "alarm_fired": min((a.fired_at for a in alarms if a.fired_at), default=None),
            "order_created": order.created_at,
            "assigned": assigned,
            "acknowledged": order.responded_at,
            "arrived": checklist.get("arrival"),
            "released": checklist.get("release"),
            "restored": checklist.get("restore"),
            "alarm_resolved": max((a.resolved_at for a in alarms if a.resolved_at), default=None),
            "resolved": order.resolved_at,
            "closed": order.closed_at,
        }

    @staticmethod
    def _durations(times: dict[str, datetime | None]) -> dict[str, float | None]:
        start = times["alarm_fired"] or times["order_created"]

        def since(name: str) -> float | None:
            at = times.get(name)
            return round((at - start).total_seconds(), 1) if at and start else None

        return {
            "to_assign": since("assigned"),
            "to_acknowledge": since("acknowledged"),
            "to_arrive": since("arrived"),
            "to_release": since("released"),
            "to_restore": since("restored"),
            "to_resolve": since("resolved"),
        }

    @staticmethod
    def _targets(order: WorkOrder) -> list[dict[str, Any]]:
        return [
            {
                "step": item.text,
                "key": item.key,
                "target_at": rfc3339(item.target_at),
                "done_at": rfc3339(item.done_at),
                "met": item.done_at is not None and item.done_at <= item.target_at
                if item.target_at
                else None,
            }
            for item in order.checklist
            if item.target_at is not None
        ]

    @staticmethod
    def _events(order: WorkOrder, alarms: list[AlarmRecord]) -> list[dict[str, Any]]:
        merged: list[tuple[datetime, dict[str, Any]]] = []
        for alarm in alarms:
            for what, at in (
                ("alarm started", alarm.started_at),
                ("alarm fired", alarm.fired_at),
                ("alarm acknowledged", alarm.acknowledged_at),
                ("alarm resolved", alarm.resolved_at),
            ):
                if at is not None:
                    merged.append(
                        (
                            at,
                            {
                                "source": "alarm",
                                "what": what,
                                "alarm_id": alarm.id,
                                "fault": alarm.fault,
                                "value": alarm.value,
                            },
                        )
                    )
        for entry in order.timeline:
            merged.append(
                (
                    entry.at,
                    {
                        "source": "order",
                        "what": entry.event,
                        "actor": entry.actor,
                        "from": entry.from_,
                        "to": entry.to,
                        "note": entry.note,
                    },
                )
            )
        for item in order.checklist:
            if item.done_at is not None:
                merged.append(
                    (
                        item.done_at,
                        {
                            "source": "checklist",
                            "what": item.text,
                            "result": item.result,
                            "value": item.value,
                            "actor": item.done_by,
                        },
                    )
                )
        merged.sort(key=lambda pair: pair[0])
        return [{"at": rfc3339(at), **entry} for at, entry in merged]

    def _readings(
        self, order: WorkOrder, alarms: list[AlarmRecord], start: datetime, end: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        if order.asset is None:
            return {}
        rules = self._ruleset()
        metrics: list[str] = []
        for alarm in alarms:
            rule = rules.by_id(alarm.rule_id)
            if rule is not None:
                metrics += [m for m in metrics_of(rule.condition) if m not in metrics]
        every = max(int((end - start).total_seconds() * 1000 / 240), 1000)  # about 240 points
        out: dict[str, list[dict[str, Any]]] = {}
        for metric in metrics:
            points = self._store.history(
                order.site, order.asset, metric, to_ms(start), to_ms(end), every, "last"
            )
            out[metric] = [{"ts": rfc3339(from_ms(p.ts_ms)), "value": p.value} for p in points]
        return out
