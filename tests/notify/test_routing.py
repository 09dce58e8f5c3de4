"""The pure core: routing, the rounds of repeats and escalation, backoff, messages, links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from facility_dispatch.maintenance.people import Technician
from facility_dispatch.notify import links
from facility_dispatch.notify.config import parse
from facility_dispatch.notify.messages import OrderFacts, language_of, render
from facility_dispatch.notify.routing import (
    Happening,
    due_rounds,
    finished,
    gives_up,
    happening_of,
    retry_at,
    routes_for,
)
from facility_dispatch.notify.targets import Roster, addresses

T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
FILE = """
receivers:
  - {name: duty-desk, urls: ["json://127.0.0.1:9/hook"]}
  - {name: lift-contractor, urls: ["json://127.0.0.1:9/lift"]}
routes:
  - name: lifts
    match: {kind: [elevator], priority: [P1]}
    to: [lift-contractor]
    continue: true
  - name: urgent
    match: {priority: [P1], site: "*"}
    to: [assignees, duty-desk]
    repeat: 5m
    escalate_after: 12m
    escalate_to: [supervisor]
    repeat_limit: 4
  - name: assigned
    match: {event: [work_order.assigned]}
    to: [assignees]
  - name: north-stock
    match: {event: [part.low_stock], site: [north]}
    to: [duty-desk]
"""
CONFIG = parse(FILE, lambda url: url.startswith("json://"))


@pytest.mark.parametrize(
    ("happening", "routes"),
    [
        (Happening("work_order.opened", "north", "P1", "elevator"), ["lifts", "urgent"]),
        (Happening("work_order.assigned", "north", "P1", "water"), ["urgent"]),
        (Happening("work_order.assigned", "north", "P2", "water"), ["assigned"]),
        (Happening("work_order.opened", "north", "P2", "water"), []),
        (Happening("part.low_stock", "north"), ["north-stock"]),
        (Happening("part.low_stock", "south"), []),
        (Happening("alarm.fired", "north", None, "elevator", "critical"), []),
    ],
)
def test_first_match_wins_and_continue_goes_on(happening: Happening, routes: list[str]) -> None:
    assert [r.name for r in routes_for(CONFIG, happening)] == routes


def test_the_log_says_created_where_spec_says_opened_and_other_events_are_not_routed() -> None:
    payload = {"work_order_id": 7, "priority": "P1", "site": "north", "kind": "elevator"}
    opened = happening_of("work_order.created", payload, "north")
    assert opened == Happening("work_order.opened", "north", "P1", "elevator", None, 7)
    assert happening_of("work_order.transition", payload, "north") is None
    assert happening_of("alarm.pending", payload, "north") is None


@pytest.mark.parametrize(
    ("minutes", "next_round", "expected"),
    [
        (0, 1, []),
        (4.9, 1, []),
        (5, 1, [(1, ("assignees", "duty-desk"), False)]),
        (11, 1, [(1, ("assignees", "duty-desk"), False), (2, ("assignees", "duty-desk"), False)]),
        (12, 3, [(3, ("supervisor",), True)]),
        (15, 4, [(4, ("assignees", "duty-desk", "supervisor"), False)]),
        (600, 5, [(5, ("assignees", "duty-desk", "supervisor"), False)]),  # the limit: 4 repeats
        (600, 6, []),
    ],
)
def test_repeats_then_escalation_then_repeats_to_both(
    minutes: float, next_round: int, expected: list[tuple[int, tuple[str, ...], bool]]
) -> None:
    urgent = CONFIG.routes[1]
    due = due_rounds(urgent, T0, next_round, T0 + timedelta(minutes=minutes))
    assert [(r.number, r.targets, r.escalation) for r in due] == expected


def test_an_escalation_on_a_repeat_is_one_round_and_the_schedule_ends() -> None:
    route = parse(
        FILE.replace("escalate_after: 12m", "escalate_after: 10m"), lambda u: True
    ).routes[1]
    rounds = due_rounds(route, T0, 1, T0 + timedelta(minutes=10))
    assert [(r.number, r.targets, r.escalation) for r in rounds] == [
        (1, ("assignees", "duty-desk"), False),
        (2, ("assignees", "duty-desk", "supervisor"), True),
    ]
    assert not finished(route, T0, 4) and finished(route, T0, 5)


@pytest.mark.parametrize(
    ("attempts", "wait_s"), [(1, 5), (2, 10), (3, 20), (6, 160), (8, 600), (40, 600)]
)
def test_backoff_doubles_up_to_its_cap(attempts: int, wait_s: float) -> None:
    at = retry_at(attempts, T0, timedelta(seconds=5), timedelta(minutes=10))
    assert at - T0 == timedelta(seconds=wait_s)


def test_a_message_is_given_up_after_its_time() -> None:
    assert not gives_up(T0, T0 + timedelta(hours=23), timedelta(days=1))
    assert gives_up(T0, T0 + timedelta(days=1), timedelta(days=1))


ORDER = OrderFacts(
    "WO-2026-000042",
    "Passenger trapped",
    "north",
    "lift-1",
    "entrapment",
    "P1",
    "assigned",
    T0 + timedelta(minutes=15),
    T0 + timedelta(hours=4),
)


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        (
            "zh-CN",
            ["[新工单] P1 WO-2026-000042 lift-1 entrapment", "响应期限: 2026-11-29 10:15 CST"],
        ),
        ("en-GB", ["[New work order] P1 WO-2026-000042", "Respond by: 2026-11-29 10:15 CST"]),
    ],
)
def test_messages_in_the_sites_language_with_the_order_and_its_deadline(
    locale: str, words: list[str]
) -> None:
    message = render(
        "work_order.opened",
        language_of(locale),
        ZoneInfo("Asia/Shanghai"),
        ORDER,
        {},
        order_link="http://d.example/work-orders/42",
        ack_link="http://d.example/n/ack/x",
    )
    text = f"{message.title}\n{message.body}"
    for word in [*words, "lift-1", "http://d.example/work-orders/42", "http://d.example/n/ack/x"]:
        assert word in text


def test_a_reminder_and_an_escalation_say_so() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    assert "Reminder 2" in render("work_order.opened", "en", zone, ORDER, {}, reminder=2).body
    escalated = render("work_order.opened", "en", zone, ORDER, {}, escalated_after="10m")
    assert "not acknowledged within 10m" in escalated.body


def test_an_acknowledgement_link_is_bound_to_its_order_and_expires() -> None:
    token = links.sign(b"k", 42, 7, T0, timedelta(hours=24))
    grant = links.verify(b"k", token, T0 + timedelta(hours=23))
    assert (grant.work_order_id, grant.technician_id) == (42, 7)
    with pytest.raises(links.LinkError, match="expired"):
        links.verify(b"k", token, T0 + timedelta(hours=24))
    with pytest.raises(links.LinkError, match="not signed"):
        links.verify(b"other", token, T0)
    _order, tech, expires, mac = token.split(".")
    with pytest.raises(links.LinkError, match="not signed"):
        links.verify(b"k", f"43.{tech}.{expires}.{mac}", T0)
    with pytest.raises(links.LinkError, match="not an acknowledgement"):
        links.verify(b"k", "../etc/passwd", T0)


def test_an_event_without_an_order_is_told_by_its_facts_and_never_a_phone() -> None:
    payload = {"request_id": 9, "site": "north", "category": "repair", "phone": "13800000000"}
    message = render("request.received", "en", ZoneInfo("Asia/Shanghai"), None, payload)
    assert message.title == "[Resident request] north repair"
    assert "request_id=9" in message.body and "13800000000" not in message.body


def _person(id_: int, role: str = "technician", sites: tuple[str, ...] = ("north",)) -> Technician:
    return Technician(
        id_,
        f"P{id_}",
        None,
        ("general",),
        "senior",
        sites,
        (),
        True,
        None,
        (f"json://127.0.0.1:9/p{id_}", "tel:13800000000"),
        role,
    )


PEOPLE = (
    _person(1),
    _person(2),
    _person(3, "supervisor"),
    _person(4, "supervisor", ("south",)),
    _person(5, sites=("south",)),
)


@pytest.mark.parametrize(
    ("target", "people"),
    [
        ("assignees", ["P2"]),
        ("supervisor", ["P3"]),
        ("on_call", ["P1"]),
        ("duty-desk", ["duty-desk"]),
        ("nobody", []),
    ],
)
def test_targets_are_resolved_from_the_roster_at_send_time(target: str, people: list[str]) -> None:
    roster = Roster(PEOPLE, assignees=(2,), on_call=frozenset({(1, None), (5, None)}))
    found = addresses(target, "north", CONFIG, roster, lambda url: url.startswith("json://"))
    assert [a.receiver for a in found] == people, "tel: numbers are for people, not sent to"
    assert all(a.url.startswith("json://") for a in found)


@pytest.mark.parametrize(
    ("site", "on_call"),
    [
        # P1 works at north and is on call at south: not told of north
        ("north", ["P6", "P7", "P8"]),
        ("south", ["P1", "P5", "P6", "P8"]),
        (None, ["P1", "P5", "P6", "P7", "P8"]),  # an event of no site: whoever is on call
    ],
)
def test_on_call_is_the_site_of_the_on_call_shift(site: str | None, on_call: list[str]) -> None:
    """A shift at a site covers that site; a shift of no site covers the person's sites, and
    every site for one who lists none, as for ``supervisor``."""
    people = (
        *PEOPLE,
        _person(6, sites=()),  # no sites listed: every site, as a supervisor without any
        _person(7, sites=("south",)),  # on call at north by the shift, whatever their sites
        _person(8, "supervisor", ()),
    )
    duties = frozenset({(1, "south"), (5, None), (6, None), (7, "north"), (8, None)})
    roster = Roster(people, assignees=(), on_call=duties)
    json = lambda url: url.startswith("json://")  # noqa: E731
    assert [a.receiver for a in addresses("on_call", site, CONFIG, roster, json)] == on_call
    assert [a.receiver for a in addresses("supervisor", site, CONFIG, roster, json)] == (
        ["P3", "P8"] if site == "north" else ["P4", "P8"] if site == "south" else ["P3", "P4", "P8"]
    )
