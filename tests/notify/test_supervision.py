"""The supervisor hears of what the roster and the rounds flag: an overdue handover through a
route to ``supervisor`` (real SMTP), and the wording of each flag in both languages (pure)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from facility_dispatch.maintenance.authority import Rank
from facility_dispatch.maintenance.handover import Handovers
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.notify.messages import Lang, render
from tests.notify.conftest import CONFIG, NotifyHarness

TZ = "Asia/Shanghai"
HANDOVERS = """
  - name: handovers
    match: {{event: [handover.flagged, round.missed, roster.gap]}}
    to: [supervisor]
"""


def test_an_overdue_handover_reaches_the_sites_supervisor(n: NotifyHarness) -> None:
    n.people.put_site("north", name="North Estate", timezone=TZ, supervisor="Li Na")
    n.person("Li Na", "li@example.com", role="supervisor", shift=False)
    incoming = n.person("Sun Li", "sun@example.com", shift=False)
    n.notifier.configure(CONFIG.format(hook=n.hook.url) + HANDOVERS.format())
    handovers = Handovers(n.sessions, n.events, n.orders, n.people, n.clock)
    handovers.write(
        "north", Actor("Ma Qiang", None, Rank.TECHNICIAN), incoming_technician_id=incoming.id
    )
    n.notifier.step()
    assert n.smtp.to("li@example.com") == []

    n.clock.advance(timedelta(minutes=31))
    assert handovers.flag_overdue() == 1
    n.notifier.step()
    (mail,) = n.smtp.to("li@example.com")
    assert "交接班记录" in mail.body and "至今无人确认" in mail.body, mail.body
    assert "North Estate" in mail.body and "Ma Qiang" in mail.body, mail.body
    assert "/n/ack/" not in mail.body
    assert n.smtp.to("sun@example.com") == [] and n.hook.received == []


AT = "2026-03-02T01:30:00Z"  # 09:30 in Shanghai
FLAGS: list[tuple[str, dict[str, object], Lang, tuple[str, ...]]] = [
    (
        "handover.flagged",
        {"site": "north", "outgoing": "Ma Qiang", "post": "Gate", "acknowledge_by": AT},
        "zh",
        ("交接班未确认", "North Estate", "Gate", "Ma Qiang", "09:30"),
    ),
    (
        "handover.flagged",
        {"site": "north", "outgoing": "Ma Qiang", "post": None, "acknowledge_by": AT},
        "en",
        ("Handover not acknowledged", "North Estate", "Ma Qiang", "09:30"),
    ),
    (
        "round.missed",
        {"site": "north", "route": "Night round B", "due_by": AT},
        "zh",
        ("巡检漏巡", "North Estate", "Night round B", "09:30"),
    ),
    (
        "round.missed",
        {"site": "north", "route": "Night round B", "due_by": AT},
        "en",
        ("Round missed", "North Estate", "Night round B", "09:30"),
    ),
    (
        "roster.gap",
        {
            "site": "north",
            "post": "Gate",
            "day": "2026-03-02",
            "shift": "day",
            "starts_at": AT,
            "needed": 2,
            "present": [7],
        },
        "zh",
        ("排班缺岗", "North Estate", "Gate", "2026-03-02", "09:30", "需 2 人", "仅排 1 人"),
    ),
    (
        "roster.gap",
        {
            "site": "north",
            "post": "Gate",
            "day": "2026-03-02",
            "shift": "day",
            "starts_at": AT,
            "needed": 2,
            "present": [7],
        },
        "en",
        ("Roster gap", "North Estate", "Gate", "2026-03-02", "09:30", "needs 2, 1 rostered"),
    ),
]


@pytest.mark.parametrize(("event", "payload", "lang", "said"), FLAGS)
def test_a_flag_names_the_site_the_post_or_route_and_the_time(
    event: str, payload: dict[str, object], lang: Lang, said: tuple[str, ...]
) -> None:
    message = render(event, lang, ZoneInfo(TZ), None, payload, site_name="North Estate")
    text = f"{message.title}\n{message.body}"
    for words in said:
        assert words in text, text
    assert "?" not in message.body and "None" not in text
