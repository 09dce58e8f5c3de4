"""Rounds, handovers and roster coverage on a real database (SQLite and PostgreSQL), with a
clock the test moves: a failed check opens an order, a missed round is flagged once, a
handover is acknowledged or flagged, an absence leaves a gap that a rested substitute fills."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from facility_dispatch.maintenance.authority import Rank
from facility_dispatch.maintenance.errors import ConflictError, NotPermittedError
from facility_dispatch.maintenance.handover import Handovers, OwnHandoverError, acknowledge_by
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.maintenance.patrols import Patrols
from facility_dispatch.maintenance.rostering import Rosters
from facility_dispatch.maintenance.rosters import coverage_ratio
from tests.maintenance.harness import Harness

TZ = "Asia/Shanghai"


class Estate(Harness):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.people.put_site("north", name="North Estate", timezone=TZ, supervisor="Zhao Min")
        self.patrols = Patrols(self.sessions, self.events, self.orders, self.people, self.clock, TZ)
        self.rosters = Rosters(self.sessions, self.people, self.clock, TZ, self.events)
        self.handovers = Handovers(
            self.sessions, self.events, self.orders, self.people, self.clock, self.rosters
        )

    def events_of(self, type_: str) -> list[dict[str, object]]:
        return [e.payload for e in self.events.since(0, 1000) if e.type == type_]


@pytest.fixture
def estate(database_url: str) -> Iterator[Estate]:
    estate = Estate(database_url)
    yield estate
    estate.close()


def test_a_failed_check_opens_an_order_for_that_place(estate: Estate) -> None:
    # the clock stands at 10:00 in Shanghai; the plant room round is due at 08:30 and 16:30
    route = estate.patrols.from_template("north", "plant_room", "en", "planner", "Block 3")
    estate.technician("Wu Lei", "plumbing", seniority="senior")
    patroller = Actor("Chen Jie", None, Rank.TECHNICIAN)
    round_ = estate.patrols.start(route.id, patroller)
    pumps, switch_room = route.checkpoints
    with pytest.raises(ConflictError, match=r"number 1 comes next \(Domestic water pump room\)"):
        estate.patrols.visit(round_.id, switch_room.token, [], patroller)
    answers = [{"key": i["key"], "ok": True} for i in pumps.items]
    answers[0] = {"key": "pumps", "ok": False, "note": "pump 2 leaks at the gland"}
    walked = estate.patrols.visit(round_.id, pumps.token, answers, patroller)
    assert walked.findings == 1 and walked.finished_at is None
    (result,) = [r for r in walked.visits[0].results if not r["ok"]]
    order = estate.orders.get(int(result["work_order_id"]))
    assert order is not None
    assert (order.source, order.channel, order.site, order.building, order.skill) == (
        "manual",
        "walk_round",
        "north",
        "Block 3",
        "plumbing",
    )
    assert order.title == "Domestic water pump room: Pumps run without noise or leaks"
    assert "pump 2 leaks at the gland" in order.description
    assert order.assignees  # the dispatch rules sent the plumber on shift
    with pytest.raises(ConflictError, match="recorded already"):
        estate.patrols.visit(round_.id, pumps.token, answers, patroller)
    last = [{"key": i["key"], "ok": True} for i in switch_room.items]
    done = estate.patrols.visit(round_.id, switch_room.token, last, patroller)
    assert done.finished_at == estate.clock.now() and done.state(estate.clock.now()) == "done"
    orders, _ = estate.orders.query(site="north")
    assert len(orders) == 1  # all passed at the switch room: no second order
    estate.patrols.sweep()  # the sweep's replay finds nothing left to open
    assert estate.orders.query(site="north")[1] == 1


def test_a_missed_round_is_flagged_once(estate: Estate) -> None:
    route = estate.patrols.from_template("north", "fire_patrol", "zh", "planner", None)
    assert route.name == "每日防火巡查" and route.times == ("09:00", "21:00")
    estate.patrols.sweep()  # 10:00: records 21:00 today and 09:00 tomorrow (created just now)
    rounds = estate.patrols.rounds(site="north")
    assert [r.key for r in rounds] == ["2026-11-27T21:00", "2026-11-28T09:00"]
    assert rounds[0].due_by == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 23:00 local
    estate.clock.advance(timedelta(hours=13))  # 23:00 local: the 21:00 round is not over yet
    assert estate.patrols.sweep() == 0
    estate.clock.advance(timedelta(minutes=1))
    assert estate.patrols.sweep() == 1
    assert estate.patrols.sweep() == 0  # once
    (flag,) = estate.events_of("round.missed")
    assert flag["round_id"] == rounds[0].id and flag["due_by"] == "2026-11-27T15:00:00.000Z"
    missed = estate.patrols.round(rounds[0].id)
    assert missed is not None and missed.state(estate.clock.now()) == "missed"
    assert len(estate.patrols.rounds(site="north")) == 3  # and 21:00 tomorrow is recorded


def test_a_handover_is_acknowledged_or_flagged(estate: Estate) -> None:
    incoming = estate.technician("Sun Li", "general", shift=False)
    # the flag names the site's supervisors on the roster (whom handover.flagged reaches), not
    # the site record's supervisor text ("Zhao Min" there, nobody on the roster by that name)
    estate.technician("Qian Hui", "general", shift=False, role="supervisor")
    outgoing = Actor("Ma Qiang", None, Rank.TECHNICIAN)
    estate.orders.create(
        outgoing,
        site="north",
        title="Door closer broken",
        priority="P3",
        skill="general",
        source="manual",
        channel="walk_round",
    )
    first = estate.handovers.write(
        "north", outgoing, incoming_technician_id=incoming, keys="plant room key 3", notes="ok"
    )
    assert len(first.open_orders) == 1 and first.state == "waiting"
    stranger = Actor("Someone", incoming + 100, Rank.TECHNICIAN)
    with pytest.raises(NotPermittedError):
        estate.handovers.acknowledge(first.id, stranger)
    # its writer cannot confirm it for the incoming shift, even as a planner
    for writer in (outgoing, Actor("Ma Qiang", None, Rank.PLANNER)):
        with pytest.raises(OwnHandoverError, match="written by Ma Qiang"):
            estate.handovers.acknowledge(first.id, writer)
    assert estate.handovers.get(first.id).state == "waiting"  # type: ignore[union-attr]
    acknowledged = estate.handovers.acknowledge(
        first.id, Actor("Sun Li", incoming, Rank.TECHNICIAN)
    )
    assert acknowledged.state == "acknowledged" and acknowledged.acknowledged_by == "Sun Li"
    with pytest.raises(ConflictError, match="acknowledged by Sun Li"):
        estate.handovers.acknowledge(first.id, Actor("planner"))

    second = estate.handovers.write("north", outgoing, incoming_technician_id=incoming)
    estate.clock.advance(timedelta(minutes=30))
    assert estate.handovers.flag_overdue() == 0  # due at the half hour, not past it
    estate.clock.advance(timedelta(seconds=1))
    assert estate.handovers.flag_overdue() == 1
    assert estate.handovers.flag_overdue() == 0
    (flag,) = estate.events_of("handover.flagged")
    assert flag["handover_id"] == second.id and flag["supervisor"] == "Qian Hui"
    assert [h.id for h in estate.handovers.query("north", state="flagged")] == [second.id]


def test_an_absence_leaves_a_gap_and_a_rested_substitute_is_proposed(estate: Estate) -> None:
    post = estate.rosters.add_post(
        "north",
        "North gate",
        "security",
        [
            {"name": "day", "starts": "08:00", "ends": "20:00", "headcount": 1},
            {"name": "night", "starts": "20:00", "ends": "08:00", "headcount": 1},
        ],
    )
    day_guard = estate.technician("Day guard", "security", shift=False)
    night_guard = estate.technician("Night guard", "security", shift=False)
    spare = estate.technician("Spare guard", "security", shift=False)
    monday = date(2026, 11, 30)
    estate.rosters.add_line(post.id, day_guard, ["day"], monday)
    estate.rosters.add_line(post.id, night_guard, ["night"], monday)
    week = estate.rosters.coverage("north", monday, monday + timedelta(days=6))
    assert all(c.gap == 0 for c in week)
    estate.clock.set(datetime(2026, 11, 30, 2, tzinfo=UTC))  # Monday 10:00: Wednesday is ahead
    assert estate.rosters.flag_gaps() == 0

    wednesday = date(2026, 12, 2)
    estate.people.add_absence(
        day_guard,
        datetime(2026, 12, 1, 16, tzinfo=UTC),  # from midnight local
        datetime(2026, 12, 2, 16, tzinfo=UTC),
        "sick",
        "planner",
    )
    week = estate.rosters.coverage("north", monday, monday + timedelta(days=6))
    (gap,) = [c for c in week if c.gap]
    assert (gap.slot.day, gap.slot.shift, gap.absent) == (wednesday, "day", (day_guard,))
    assert estate.rosters.flag_gaps() == 1  # told ahead, once
    assert estate.rosters.flag_gaps() == 0
    (told,) = estate.events_of("roster.gap")
    assert (told["day"], told["shift"], told["absent"]) == ("2026-12-02", "day", [day_guard])
    proposal = estate.rosters.substitutes(post.id, wednesday, "day")
    # the night guard came off at 08:00, the very start: no rest; the spare is fresh
    assert [c.technician_id for c in proposal.candidates] == [spare]
    refused = {r.technician_id: r.reason for r in proposal.refused}
    assert refused[night_guard].startswith("rest 0h before")
    assert refused[day_guard] == "absent"
    estate.rosters.add_cover(post.id, wednesday, "day", spare, "planner")
    week = estate.rosters.coverage("north", monday, monday + timedelta(days=6))
    assert all(c.gap == 0 for c in week)


def test_a_repairs_roster_puts_its_people_on_shift_for_dispatch(estate: Estate) -> None:
    # Friday 27 November, 10:00 in Shanghai; the desk is manned every other day from Monday
    desk = estate.rosters.add_post(
        "north",
        "Repair desk",
        "plumbing",
        [{"name": "day", "starts": "08:00", "ends": "20:00", "headcount": 2}],
    )
    plumber = estate.technician("Qian Bo", "plumbing", shift=False)
    estate.rosters.add_line(desk.id, plumber, ["day", "rest"], date(2026, 11, 23))
    assert estate.rosters.publish() == 4  # Fri 27, Sun 29, Tue 1, Thu 3 (a week ahead)
    assert estate.rosters.publish() == 0  # once
    shifts, total = estate.people.shifts(technician_id=plumber)
    assert total == 4 and shifts[0].starts_at == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    order = estate.orders.create(
        Actor("planner"),
        site="north",
        title="Tap dripping in 3-1202",
        priority="P3",
        skill="plumbing",
        source="manual",
        channel="phone",
    )
    assert order.assignees == (plumber,)  # on shift through the roster
    # Saturday's desk is short: the plumber rests 12 h either side, and the week's hours count
    # each rostered shift once, published or not (Mon, Wed, Fri, Sun: 48 h)
    proposal = estate.rosters.substitutes(desk.id, date(2026, 11, 28), "day")
    (candidate,) = proposal.candidates
    assert candidate.technician_id == plumber and candidate.week_hours == 48


def test_two_workers_opening_a_findings_order_at_once_open_one(estate: Estate) -> None:
    """The visit's own step and the leader's sweep can both find a finding without its order
    (after a crash between the visit and its order): the second link finds it taken and its
    order is rolled back, so a failed check opens exactly one order."""
    route = estate.patrols.from_template("north", "plant_room", "en", "planner", "Block 3")
    estate.technician("Wu Lei", "plumbing", seniority="senior")
    patroller = Actor("Chen Jie", None, Rank.TECHNICIAN)
    round_ = estate.patrols.start(route.id, patroller)
    pumps = route.checkpoints[0]
    answers = [{"key": i["key"], "ok": True} for i in pumps.items]
    answers[0] = {"key": "pumps", "ok": False, "note": "pump 2 leaks at the gland"}
    open_findings = estate.patrols._open_findings
    estate.patrols._open_findings = lambda *_args: 0  # type: ignore[method-assign]
    estate.patrols.visit(round_.id, pumps.token, answers, patroller)  # "crashed" before its order
    estate.patrols._open_findings = open_findings  # type: ignore[method-assign]

    create = estate.orders.create
    both_read = threading.Barrier(2, timeout=10)

    def racing_create(*args: Any, **kwargs: Any) -> Any:
        both_read.wait()  # both workers have read the finding as still without an order
        return create(*args, **kwargs)

    estate.orders.create = racing_create  # type: ignore[method-assign]
    opened: list[int] = []
    workers = [
        threading.Thread(target=lambda: opened.append(open_findings(round_.id, patroller)))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    estate.orders.create = create  # type: ignore[method-assign]

    assert sorted(opened) == [0, 1]
    orders, total = estate.orders.query(site="north")
    assert total == 1
    visit = estate.patrols.round(round_.id).visits[0]  # type: ignore[union-attr]
    (finding,) = [r for r in visit.results if not r["ok"]]
    assert finding["work_order_id"] == orders[0].id


def test_substitutes_see_shifts_at_the_other_sites(estate: Estate) -> None:
    """A guard of two sites is on duty, or tired, or has worked hours at the other one: the
    proposal reads every site they work at, each roster in its own zone."""
    estate.people.put_site("south", name="South Estate", timezone="Asia/Urumqi")  # UTC+6
    shifts = [{"name": "day", "starts": "08:00", "ends": "20:00", "headcount": 1}]
    north = estate.rosters.add_post("north", "North gate", "security", shifts)
    nights = [{"name": "night", "starts": "20:00", "ends": "08:00", "headcount": 1}]
    south = estate.rosters.add_post("south", "South gate", "security", [*shifts, *nights])
    monday, wednesday = date(2026, 11, 30), date(2026, 12, 2)
    night_south = estate.technician("Night at south", "security", sites="north,south", shift=False)
    busy_south = estate.technician("Busy at south", "security", sites="north,south", shift=False)
    days_south = estate.technician("Days at south", "security", sites="north,south", shift=False)
    fresh = estate.technician("Fresh", "security", shift=False)
    # Tuesday's night at south ends 08:00 Urumqi, 10:00 in Shanghai: into north's day shift
    estate.rosters.add_line(south.id, night_south, ["rest", "night", "rest"], monday)
    # Monday and Friday's days at south: 24 h that week, rested on Wednesday
    estate.rosters.add_line(
        south.id, days_south, ["day", *["rest"] * 3, "day", "rest", "rest"], monday
    )
    # a shift entered by hand at south on Wednesday morning
    estate.people.add_shift(
        busy_south,
        datetime(2026, 12, 2, 3, tzinfo=UTC),
        datetime(2026, 12, 2, 7, tzinfo=UTC),
        False,
        "south",
    )
    proposal = estate.rosters.substitutes(north.id, wednesday, "day")
    refused = {r.technician_id: r.reason for r in proposal.refused}
    assert refused == {night_south: "on duty then", busy_south: "on duty then"}
    assert [(c.technician_id, c.week_hours) for c in proposal.candidates] == [
        (fresh, 0),
        (days_south, 24),
    ]


def test_a_roster_reads_only_its_peoples_absences_in_its_time(estate: Estate) -> None:
    guard = estate.technician("Guard", "security", shift=False)
    other = estate.technician("Other", "security", shift=False)
    december = datetime(2026, 12, 1, tzinfo=UTC)
    for who, starts in ((guard, december), (guard, december.replace(year=2025)), (other, december)):
        estate.people.add_absence(who, starts, starts + timedelta(days=2), "leave", "planner")
    found = estate.people.absences(
        technicians={guard}, start=december + timedelta(days=1), end=december + timedelta(days=5)
    )
    assert [(a.technician_id, a.starts_at) for a in found] == [(guard, december)]
    assert estate.people.absences(technicians=set()) == []
    assert len(estate.people.absences()) == 3


def _race(read: Any) -> Any:
    """``read`` made to wait until two workers have both done it, so both act on what they
    read before either wrote: two leaders overlapping for a moment."""
    both_read = threading.Barrier(2, timeout=10)

    def racing(*args: Any) -> Any:
        found = read(*args)
        both_read.wait()
        return found

    return racing


def _twice(flag: Any) -> list[int]:
    told: list[int] = []
    workers = [threading.Thread(target=lambda: told.append(flag())) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    return sorted(told)


def test_two_leaders_flag_a_missed_round_and_an_overdue_handover_once(estate: Estate) -> None:
    estate.patrols.from_template("north", "fire_patrol", "zh", "planner", None)
    estate.patrols.schedule()
    estate.handovers.write("north", Actor("Ma Qiang", None, Rank.TECHNICIAN))
    estate.clock.advance(timedelta(hours=14))  # past the 21:00 round's deadline and the handover's
    estate.patrols._missed = _race(estate.patrols._missed)  # type: ignore[method-assign]
    estate.handovers._overdue = _race(estate.handovers._overdue)  # type: ignore[method-assign]
    assert _twice(estate.patrols.flag_missed) == [0, 1]
    assert _twice(estate.handovers.flag_overdue) == [0, 1]
    assert len(estate.events_of("round.missed")) == 1
    assert len(estate.events_of("handover.flagged")) == 1


@pytest.mark.parametrize(
    ("written", "starts", "due"),
    [
        (19, [20], 20.5),  # an hour before the change: half an hour into the next shift
        (20.25, [8, 20], 20.75),  # just after it: the shift begun, half an hour to read it
        (7, [-4, 8], 8.5),  # the night's log for the day shift
        (19, [], 19.5),  # no shift known: half an hour after writing
        (19, [48], 19.5),  # none near
        (20.75, [20], 21.25),  # written late: never due before it is written
    ],
)
def test_a_handover_is_due_half_an_hour_into_the_incoming_shift(
    written: float, starts: list[float], due: float
) -> None:
    day = datetime(2026, 11, 27, tzinfo=UTC)
    at = [day + timedelta(hours=h) for h in starts]
    assert acknowledge_by(day + timedelta(hours=written), at) == day + timedelta(hours=due)


def test_a_log_written_before_the_change_waits_for_the_next_shift(estate: Estate) -> None:
    # Friday 19:00 in Shanghai; the night guard comes at 20:00
    estate.clock.set(datetime(2026, 11, 27, 11, tzinfo=UTC))
    night_guard = estate.technician("Night guard", "security", shift=False)
    estate.people.add_shift(
        night_guard,
        datetime(2026, 11, 27, 12, tzinfo=UTC),
        datetime(2026, 11, 28, 0, tzinfo=UTC),
        False,
        "north",
    )
    post = estate.rosters.add_post(
        "north",
        "North gate",
        "security",
        [
            {"name": "day", "starts": "08:00", "ends": "20:00", "headcount": 1},
            {"name": "night", "starts": "20:00", "ends": "08:00", "headcount": 1},
        ],
    )
    outgoing = Actor("Day guard", None, Rank.TECHNICIAN)
    named = estate.handovers.write("north", outgoing, incoming_technician_id=night_guard)
    by_post = estate.handovers.write("north", outgoing, post_id=post.id)
    half_past_eight = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
    assert named.acknowledge_by == by_post.acknowledge_by == half_past_eight
    estate.clock.advance(timedelta(minutes=31))  # 19:31: not due before the shift is in
    assert estate.handovers.flag_overdue() == 0
    estate.clock.set(half_past_eight + timedelta(seconds=1))
    assert estate.handovers.flag_overdue() == 2


def test_a_posts_coverage_starts_with_its_roster_or_its_making(estate: Estate) -> None:
    """Made on Thursday 26 November (Shanghai), rostered from Monday the 23rd: counted from the
    23rd; a post nobody is rostered on yet counts from the day it was made."""
    estate.clock.set(datetime(2026, 11, 26, 17, tzinfo=UTC))  # Friday 01:00 in Shanghai
    shifts = [{"name": "day", "starts": "08:00", "ends": "20:00", "headcount": 1}]
    gate = estate.rosters.add_post("north", "North gate", "security", shifts)
    empty = estate.rosters.add_post("north", "Car park", "security", shifts)
    assert gate.since == empty.since == date(2026, 11, 27)  # the local day it was made
    guard = estate.technician("Day guard", "security", shift=False)
    estate.rosters.add_line(gate.id, guard, ["day"], date(2026, 11, 23))
    assert estate.rosters.post(gate.id).since == date(2026, 11, 23)  # type: ignore[union-attr]
    cells = estate.rosters.coverage("north", date(2026, 11, 1), date(2026, 11, 30))
    counted = {(c.slot.post_id, c.slot.day) for c in cells if c.needed}
    assert min(d for p, d in counted if p == gate.id) == date(2026, 11, 23)
    assert min(d for p, d in counted if p == empty.id) == date(2026, 11, 27)
    assert coverage_ratio(cells) == 8 / 12  # the gate's 8 days all present, the car park's 4 not


def test_a_substitute_holding_the_posts_wanted_skills_comes_first(estate: Estate) -> None:
    post = estate.rosters.add_post(
        "north",
        "North gate",
        "security",
        [{"name": "day", "starts": "08:00", "ends": "20:00", "headcount": 1}],
        wanted=["first_aid", "security"],  # the required skill is not wanted twice
    )
    assert post.wanted == ("first_aid",)
    plain = estate.technician("Plain guard", "security", shift=False)
    medic = estate.technician("Medic guard", "security,first_aid", shift=False)
    estate.people.add_shift(  # the medic worked Monday: more hours, still first
        medic,
        datetime(2026, 11, 30, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 12, tzinfo=UTC),
        False,
        "north",
    )
    proposal = estate.rosters.substitutes(post.id, date(2026, 12, 2), "day")
    assert [c.technician_id for c in proposal.candidates] == [medic, plain]
    assert proposal.candidates[0].wanted_held == ("first_aid",)
