"""What a work order's progress does elsewhere: planned works silence their asset while they
are in progress (the asset reads ``maintenance``), and notices follow the order."""

from __future__ import annotations

from facility_dispatch.maintenance.notices import Notices
from facility_dispatch.maintenance.orders import WorkOrder
from facility_dispatch.rules.alarms import AlarmService


class WorksFollowUp:
    """A transition hook of the work-order service."""

    def __init__(self, alarms: AlarmService, notices: Notices) -> None:
        self._alarms = alarms
        self._notices = notices

    def __call__(self, order: WorkOrder, before: str, after: str) -> None:
        if order.source == "preventive" and order.asset:
            if after == "in_progress":
                self._alarms.silence_for_works(
                    order.id,
                    order.site,
                    order.asset,
                    f"planned works {order.number}: {order.title}",
                )
            elif before == "in_progress":
                self._alarms.end_works_silence(order.id)
        if after == "cancelled":
            self._notices.cancel_for_order(order.id)
        elif after in ("resolved", "closed"):
            self._notices.end_for_order(order.id)
