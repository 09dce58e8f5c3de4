"""The alarm service on SQLite and PostgreSQL: episodes, mutes, acknowledgement, events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy.exc import IntegrityError

from facility_dispatch.kernel.clock import ManualClock, from_ms
from facility_dispatch.kernel.db import make_engine, make_sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.rules.alarms import AlarmConflictError, AlarmRecord, AlarmService
from facility_dispatch.rules.events import AlarmDiscarded, AlarmFired, AlarmPending, AlarmResolved
from facility_dispatch.rules.loader import load_default
from facility_dispatch.rules.sql import AlarmRow, SqlSilences
from facility_dispatch.schema import migrate
from tests.rules.helpers import T0

PACK = load_default()


class Harness:
    def __init__(self, url: str) -> None:
        self.db = make_engine(url)
        migrate(self.db)
        self.sessions = make_sessions(self.db)
        self.clock = ManualClock(from_ms(T0))
        self.events = EventLog(self.sessions)
        self.published: list[tuple[str, Any]] = []
        self.told: list[tuple[str, AlarmRecord]] = []
        self.alarms = AlarmService(
            self.sessions,
            self.events,
            SqlSilences(self.sessions),
            self.clock,
            lambda: PACK,
            publish=lambda topic, payload, retain: self.published.append(
                (topic, orjson.loads(payload))
            ),
        )
        self.alarms.on_alarm(lambda happening, record: self.told.append((happening, record)))

    def change(
        self, cls: type, asset: str, kind: str, fault: str, rule: str, at_s: float = 0, **kw: Any
    ) -> Any:
        return cls(
            "estate-1",
            asset,
            kind,
            fault,
            rule,
            kw.get("severity", "major"),
            kw.get("value"),
            T0 + int(at_s * 1000),
            T0,
        )


@pytest.fixture
def harness(database_url: str) -> Iterator[Harness]:
    h = Harness(database_url)
    yield h
    h.db.dispose()


def test_an_episode_from_pending_to_resolved(harness: Harness) -> None:
    a = harness.alarms
    a.apply(
        [
            harness.change(
                AlarmPending, "pump-1", "water", "low_pressure", "water-low-pressure", value=1.4
            )
        ]
    )
    assert a.query(state="pending")[1] == 1
    a.apply(
        [
            harness.change(
                AlarmFired, "pump-1", "water", "low_pressure", "water-low-pressure", 120, value=1.2
            )
        ]
    )
    (alarm,) = a.query(state="firing")[0]
    assert alarm.value == 1.2
    assert alarm.started_at == from_ms(T0)
    assert alarm.fired_at == from_ms(T0 + 120_000)
    assert alarm.description.startswith("Supply pressure under 1.5 bar")
    a.apply(
        [
            harness.change(
                AlarmResolved, "pump-1", "water", "low_pressure", "water-low-pressure", 300
            )
        ]
    )
    assert a.get(alarm.id).state == "resolved"  # type: ignore[union-attr]
    assert [h for h, _ in harness.told] == ["fired", "resolved"]
    types = [e.type for e in harness.events.since(0)]
    assert types == ["alarm.pending", "alarm.fired", "alarm.resolved"]
    topic, state = harness.published[-1]
    assert topic == "facility/estate-1/water/pump-1/alarm"
    assert state == []  # retained: nothing open any more
    assert harness.published[1][1][0]["fault"] == "low_pressure"


def test_a_discarded_pending_alarm_leaves_no_trace(harness: Harness) -> None:
    a = harness.alarms
    a.apply([harness.change(AlarmPending, "pump-1", "water", "low_pressure", "water-low-pressure")])
    a.apply(
        [
            harness.change(
                AlarmDiscarded, "pump-1", "water", "low_pressure", "water-low-pressure", 30
            )
        ]
    )
    assert a.query()[1] == 0
    assert harness.told == []


def test_one_open_episode_per_asset_and_fault_is_a_database_constraint(harness: Harness) -> None:
    def open_row() -> AlarmRow:
        return AlarmRow(
            rule_id="r",
            site="estate-1",
            asset="pump-1",
            kind="water",
            fault="leak",
            severity="major",
            state="firing",
            description="",
            started_at=from_ms(T0),
            silenced=False,
        )

    with harness.sessions.begin() as session:
        session.add(open_row())
    with pytest.raises(IntegrityError), harness.sessions.begin() as session:
        session.add(open_row())
    with harness.sessions.begin() as session:  # a resolved one may repeat freely
        row = open_row()
        row.state = "resolved"
        session.add(row)


def test_a_silence_mutes_and_its_end_dispatches(harness: Harness) -> None:
    a = harness.alarms
    now = harness.clock.now()
    silence = a.add_silence(
        "estate-1", "pump-1", None, now, now + timedelta(hours=2), "pump overhaul", "planner"
    )
    a.apply([harness.change(AlarmFired, "pump-1", "water", "leak", "water-leak")])
    (alarm,) = a.query(state="firing")[0]
    assert alarm.silenced and alarm.silence_id == silence.id
    assert harness.told == []  # muted: nobody is sent
    a.end_silence(silence.id)
    assert [h for h, _ in harness.told] == ["unmuted"]
    assert a.get(alarm.id).silenced is False  # type: ignore[union-attr]


def test_a_silence_for_another_site_or_asset_does_not_apply(harness: Harness) -> None:
    a = harness.alarms
    now = harness.clock.now()
    a.add_silence("estate-2", None, None, now, now + timedelta(hours=1), "other site", "p")
    a.add_silence("estate-1", "pump-9", None, now, now + timedelta(hours=1), "other pump", "p")
    a.add_silence("estate-1", None, "cctv", now, now + timedelta(hours=1), "cameras only", "p")
    a.apply([harness.change(AlarmFired, "pump-1", "water", "leak", "water-leak")])
    assert [h for h, _ in harness.told] == ["fired"]


def test_works_silence_hook(harness: Harness) -> None:
    a = harness.alarms
    a.silence_for_works(42, "estate-1", "lift-1", "preventive maintenance WO-2026-000042")
    a.apply(
        [
            harness.change(
                AlarmFired, "lift-1", "elevator", "door_obstruction", "elevator-door-obstruction"
            )
        ]
    )
    assert a.query(state="firing")[0][0].silenced
    a.end_works_silence(42)
    assert [h for h, _ in harness.told] == ["unmuted"]


def test_root_cause_inhibition_both_ways(harness: Harness) -> None:
    a = harness.alarms
    # a camera goes dark before the mains alarm is in: dispatched, then inhibited
    a.apply([harness.change(AlarmFired, "cam-1", "cctv", "camera_offline", "cctv-offline")])
    a.apply(
        [
            harness.change(
                AlarmFired,
                "board-1",
                "power",
                "mains_failure",
                "power-mains-failure",
                severity="critical",
            )
        ]
    )
    mains = a.query(fault="mains_failure")[0][0]
    assert a.query(fault="camera_offline")[0][0].inhibited_by == mains.id
    # during the outage: a pump stops (inhibited), a passenger is trapped (never inhibited)
    a.apply([harness.change(AlarmFired, "pump-1", "water", "pump_failure", "water-pump-failure")])
    a.apply([harness.change(AlarmFired, "lift-1", "elevator", "entrapment", "elevator-entrapment")])
    assert a.query(fault="pump_failure")[0][0].inhibited_by == mains.id
    assert a.query(fault="entrapment")[0][0].inhibited_by is None
    assert [(h, r.fault) for h, r in harness.told] == [
        ("fired", "camera_offline"),
        ("fired", "mains_failure"),
        ("fired", "entrapment"),
    ]
    # power back, the pump is still down: now it is dispatched
    a.apply(
        [
            harness.change(
                AlarmResolved, "board-1", "power", "mains_failure", "power-mains-failure", 600
            )
        ]
    )
    a.recheck_mutes()
    assert ("unmuted", "pump_failure") in [(h, r.fault) for h, r in harness.told]
    assert a.query(fault="pump_failure")[0][0].inhibited_by is None


def test_acknowledge_once(harness: Harness) -> None:
    a = harness.alarms
    a.apply([harness.change(AlarmFired, "pump-1", "water", "leak", "water-leak")])
    alarm = a.query()[0][0]
    acked = a.acknowledge(alarm.id, "wang.wei", "on my way")
    assert acked.acknowledged_by == "wang.wei" and acked.acknowledged_at == harness.clock.now()
    with pytest.raises(AlarmConflictError, match=r"already acknowledged by wang\.wei"):
        a.acknowledge(alarm.id, "li.na", None)
    assert harness.events.since(0)[-1].type == "alarm.acknowledged"


def test_open_alarms_for_the_engine(harness: Harness) -> None:
    a = harness.alarms
    a.apply([harness.change(AlarmPending, "pump-1", "water", "low_pressure", "water-low-pressure")])
    a.apply([harness.change(AlarmFired, "pump-2", "water", "leak", "water-leak")])
    opened = sorted((o.asset, o.state) for o in a.open_alarms())
    assert opened == [("pump-1", "pending"), ("pump-2", "firing")]


def test_an_asset_scoped_inhibition_stays_on_its_asset(harness: Harness) -> None:
    a = harness.alarms
    a.apply([harness.change(AlarmFired, "lift-1", "elevator", "entrapment", "elevator-entrapment")])
    a.apply(
        [
            harness.change(
                AlarmFired, "lift-1", "elevator", "controller_fault", "elevator-controller-fault"
            )
        ]
    )
    a.apply(
        [
            harness.change(
                AlarmFired, "lift-2", "elevator", "controller_fault", "elevator-controller-fault"
            )
        ]
    )
    entrapment = a.query(fault="entrapment")[0][0]
    by_asset = {r.asset: r.inhibited_by for r in a.query(fault="controller_fault")[0]}
    assert by_asset == {"lift-1": entrapment.id, "lift-2": None}
