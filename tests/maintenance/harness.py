"""A work-order service on a real database with a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from facility_dispatch.kernel.clock import ManualClock, to_ms
from facility_dispatch.kernel.db import make_engine, make_sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.maintenance.escalation import Escalation
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.maintenance.people import People
from facility_dispatch.maintenance.work_orders import WorkOrderService
from facility_dispatch.rules.alarms import AlarmService
from facility_dispatch.rules.events import AlarmFired
from facility_dispatch.rules.loader import load_default
from facility_dispatch.rules.sql import SqlSilences
from facility_dispatch.schema import migrate

START = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LICENCE = [{"kind": "elevator", "number": "TS-31-0001", "expires_on": "2028-06-30"}]
PLANNER = Actor("planner")


class Harness:
    def __init__(self, url: str) -> None:
        self.db = make_engine(url)
        migrate(self.db)
        self.sessions = make_sessions(self.db)
        self.clock = ManualClock(START)
        self.events = EventLog(self.sessions)
        self.people = People(self.sessions)
        self.orders = WorkOrderService(self.sessions, self.events, self.people, self.clock)
        self.escalation = Escalation(self.orders, self.people, self.sessions, self.clock)
        self.alarms = AlarmService(
            self.sessions, self.events, SqlSilences(self.sessions), self.clock, load_default
        )

    def technician(
        self,
        name: str,
        skills: str,
        seniority: str = "senior",
        sites: str = "north",
        shift: bool = True,
        on_call: bool = False,
        **extra: Any,
    ) -> int:
        tech = self.people.add_technician(
            self.clock.now(),
            name=name,
            phone="138-0000-0000",
            skills=skills.split(","),
            seniority=seniority,
            sites=sites.split(","),
            certifications=extra.pop("certifications", LICENCE if "elevator" in skills else []),
            **extra,
        )
        if shift:
            now = self.clock.now()
            self.people.add_shift(
                tech.id, now - timedelta(hours=1), now + timedelta(hours=8), on_call, None
            )
        return tech.id

    def fire(self, asset: str, kind: str, fault: str, rule: str, site: str = "north") -> int:
        now = to_ms(self.clock.now())
        self.alarms.apply([AlarmFired(site, asset, kind, fault, rule, "major", 1.0, now, now)])
        return self.alarms.query(site=site, asset=asset, fault=fault, state="firing")[0][0].id

    def close(self) -> None:
        self.db.dispose()


class PlanningHarness(Harness):
    """With a planner, notices and parts; assets of a kind come from a plain dict."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        from facility_dispatch.maintenance.notices import Notices
        from facility_dispatch.maintenance.parts import Parts
        from facility_dispatch.maintenance.planning import Planner

        self.published: list[tuple[str, bytes]] = []
        self.notices = Notices(
            self.sessions,
            self.events,
            self.people,
            self.clock,
            "Asia/Shanghai",
            publish=lambda topic, payload, retain: self.published.append((topic, payload)),
        )
        self.assets: dict[tuple[str, str], list[str]] = {}
        self.planner = Planner(
            self.sessions,
            self.orders,
            self.notices,
            lambda site, kind: self.assets.get((site, kind), []),
            self.clock,
            "Asia/Shanghai",
            events=self.events,
        )
        self.parts = Parts(self.sessions, self.events, self.clock, self.orders)

    def plan(self, **fields: Any) -> Any:
        values: dict[str, Any] = {
            "name": "Lift half-monthly maintenance",
            "site": "north",
            "kind": "elevator",
            "every": "15d",
            "starts_at": self.clock.now() + timedelta(days=2),
            "lead_time_s": timedelta(days=3).total_seconds(),
            "priority": "P3",
            "skill": "elevator",
            "template": "tsg-t5002-half-monthly",
        }
        values.update(fields)
        return self.planner.create("planner", **values)
