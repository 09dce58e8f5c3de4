"""Statutory reminders reach the site's supervisor through a route (real SMTP), once per item and
stage however often the scheduler sweeps, worded in both languages (pure)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from facility_dispatch.maintenance.statutory import Compliance
from facility_dispatch.notify.messages import Lang, render
from tests.notify.conftest import CONFIG, NotifyHarness

TZ = "Asia/Shanghai"
ROUTE = """
  - name: compliance
    match: {event: [compliance.due_soon, compliance.overdue]}
    to: [supervisor]
"""


def test_a_drill_coming_due_and_then_overdue_is_told_once_each(n: NotifyHarness) -> None:
    n.people.put_site("north", name="North Estate", timezone=TZ, supervisor="Li Na")
    n.person("Li Na", "li@example.com", role="supervisor", shift=False)
    n.notifier.configure(CONFIG.format(hook=n.hook.url) + ROUTE)
    compliance = Compliance(n.sessions, n.events, n.people, n.clock, TZ, lead_days=30)
    today = n.clock.now().astimezone(ZoneInfo(TZ)).date()  # 2026-11-27
    compliance.set_due("north", "", "drill", today + timedelta(days=10), "planner")
    assert compliance.sweep() == 1
    assert compliance.sweep() == 0  # the next sweep finds it sent
    n.notifier.step()
    (mail,) = n.smtp.to("li@example.com")
    assert "应急救援演练" in mail.body and "2026-12-07" in mail.body, mail.body

    n.clock.advance(timedelta(days=11))  # the day after the due date, in Shanghai
    assert compliance.sweep() == 1
    n.notifier.step()
    assert len(n.smtp.to("li@example.com")) == 2
    assert "尚未登记完成" in n.smtp.to("li@example.com")[-1].body

    compliance.record_done("north", "", "drill", today + timedelta(days=11), "planner")
    assert compliance.get("north", "", "drill").due_on == date(2027, 6, 8)
    assert compliance.sweep() == 0


WORDS: list[tuple[str, dict[str, object], Lang, tuple[str, ...]]] = [
    (
        "compliance.due_soon",
        {"site": "north", "asset": "lift-3", "item": "inspection", "due_on": "2027-01-10",
         "days_left": 12},
        "zh",
        ("法定项目即将到期", "North Estate", "lift-3", "定期检验", "2027-01-10", "12 天"),
    ),
    (
        "compliance.overdue",
        {"site": "north", "asset": None, "item": "drill", "due_on": "2027-01-10",
         "days_left": -3},
        "en",
        ("Statutory item overdue", "North Estate", "emergency rescue drill", "2027-01-10"),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("event", "payload", "lang", "said"), WORDS)
def test_a_reminder_names_the_site_the_lift_the_item_and_the_date(
    event: str, payload: dict[str, object], lang: Lang, said: tuple[str, ...]
) -> None:
    message = render(event, lang, ZoneInfo(TZ), None, payload, site_name="North Estate")
    text = f"{message.title}\n{message.body}"
    for words in said:
        assert words in text, text
    assert "?" not in message.body and "None" not in text
