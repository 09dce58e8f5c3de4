"""The outbox against real receivers: an SMTP server and a webhook started by the test, a real
database (SQLite and PostgreSQL), and a clock the test moves instead of waiting minutes."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from facility_dispatch.api.dashboard.i18n import Translator
from facility_dispatch.notify.apprise_sender import AppriseSender
from facility_dispatch.notify.book import NotificationBook
from facility_dispatch.notify.config import NotifyConfigError
from facility_dispatch.notify.sql import OutboxRow
from tests.builders import wait_until
from tests.notify.conftest import CONFIG, NotifyHarness
from tests.notify.receivers import Webhook


def test_a_p1_reaches_mail_and_webhook_repeats_escalates_and_stops_when_acknowledged(
    n: NotifyHarness,
) -> None:
    wang = n.person("Wang Wei", "wang@example.com")
    li = n.person("Li Na", "li@example.com", role="supervisor", shift=False)
    order_id = n.p1()
    n.notifier.step()

    mails = n.smtp.to("wang@example.com")
    assert len(mails) == 1, "the assignee hears once, though the order was opened and assigned"
    assert len(n.hook.received) == 1
    first = n.hook.received[0]
    number = n.orders.get(order_id).number  # type: ignore[union-attr]
    assert number in first["title"] and "P1" in first["title"]
    assert "lift-1" in first["message"] and "电梯困人" in first["message"]
    assert "entrapment" not in first["message"] + first["title"], "the fault in Chinese"
    assert "Passenger" not in first["message"], "the service's English title, in Chinese"
    assert f"http://dispatch.example/work-orders/{order_id}" in first["message"]
    assert "响应期限" in first["message"], "the site has no locale of its own: Chinese"
    assert n.smtp.to("li@example.com") == []

    assert n.later(minutes=4) == 0, "nothing before the repeat is due"
    n.later(minutes=1)  # 5 minutes: the first repeat, to the same receivers
    assert len(n.smtp.to("wang@example.com")) == 2
    assert len(n.hook.received) == 2
    assert n.smtp.to("li@example.com") == []

    n.later(minutes=5)  # 10 minutes: the escalation falls on the second repeat, one round
    assert len(n.smtp.to("li@example.com")) == 1
    assert len(n.smtp.to("wang@example.com")) == 3
    assert "升级" in n.hook.received[2]["message"]

    link = re.search(r"/n/ack/([0-9a-f.]+)", n.smtp.to("wang@example.com")[-1].body)
    assert link is not None, "the message carries an acknowledgement link"
    grant = n.notifier.grant(link.group(1))
    assert (grant.work_order_id, grant.technician_id) == (order_id, wang.id)

    n.acknowledge(order_id, wang)
    n.later(minutes=5)
    n.later(minutes=30)
    assert len(n.smtp.to("wang@example.com")) == 3, "acknowledged: no more repeats"
    assert len(n.smtp.to("li@example.com")) == 1, "and no more escalation"
    assert len(n.hook.received) == 3
    rows, total = n.notifier.query(work_order_id=order_id)
    assert total == 7 and {r.status for r in rows} == {"sent"}
    assert li.id != wang.id


def test_a_receiver_down_for_a_while_gets_each_message_once_when_back(n: NotifyHarness) -> None:
    n.person("Wang Wei", "wang@example.com")
    n.hook.stop()
    order_id = n.p1()
    n.notifier.step()
    assert len(n.smtp.to("wang@example.com")) == 1, "the mail goes; the webhook is away"
    rows, _ = n.notifier.query(status="pending")
    assert [r.receiver for r in rows] == ["duty-desk"]
    assert rows[0].attempts == 1 and "error" in (rows[0].last_error or "").lower()
    n.person("Zhao Lei", "zhao@example.com")
    second = n.p1("lift-2")  # behind the first at the same webhook: it waits, untried
    n.notifier.step()
    behind = n.notifier.query(status="pending", work_order_id=second)[0]
    assert [r.attempts for r in behind] == [0]

    for _ in range(6):  # a minute of the receiver away, tried with backoff (5s, 10s, 20s...)
        n.later(seconds=10)
    down = n.notifier.query(status="pending", work_order_id=order_id)[0][0]
    assert 2 <= down.attempts <= 5, "retried, with growing waits, not on every step"
    assert n.notifier.pending()[0] == 2 and n.notifier.pending()[1] >= 60
    assert n.metric("facility_notifications_failed_total") == down.attempts >= 2
    assert n.metric("facility_notifications_pending") == 2
    assert n.metric("facility_notifications_oldest_pending_seconds") >= 60, "the outage"
    assert n.metric("facility_notifications_sent_total") == 2, "the two assignees' mails"

    n.hook.start()
    n.later(minutes=2)
    n.later(seconds=30)
    assert len(n.hook.received) == 2, "delivered once it is back, and once only"
    assert ["电梯困人" in m["message"] for m in n.hook.received] == [True, True]
    numbers = [n.orders.get(o).number for o in (order_id, second)]  # type: ignore[union-attr]
    assert [numbers[i] in n.hook.received[i]["title"] for i in (0, 1)] == [True, True]
    assert n.notifier.query(status="pending")[1] == 0
    assert n.metric("facility_notifications_pending") == 0
    assert n.metric("facility_notifications_oldest_pending_seconds") == 0
    assert n.metric("facility_notifications_sent_total") == 4
    assert n.metric("facility_notifications_given_up") == 0, "late, not lost"
    assert len(n.smtp.to("wang@example.com")) == 1, "the mail that went is not sent again"
    with n.sessions() as session:
        keys = [r.key for r in session.query(OutboxRow).filter_by(work_order_id=order_id)]
    assert len(keys) == len(set(keys)) == 2


def test_routing_again_after_a_restart_records_and_sends_nothing_twice(n: NotifyHarness) -> None:
    n.person("Wang Wei", "wang@example.com")
    n.p1()
    n.notifier.step()
    # a new notifier (a restart, or a new leader) on the same database, the cursor rewound
    from facility_dispatch.notify.book import put_value

    with n.sessions.begin() as session:
        put_value(session, "cursor", "0", n.clock.now())
    n.notifier.step()
    assert len(n.smtp.to("wang@example.com")) == 1
    assert len(n.hook.received) == 1


def test_the_outbox_is_kept_as_long_as_the_event_log_and_pending_ones_stay(
    n: NotifyHarness,
) -> None:
    n.person("Wang Wei", "wang@example.com")
    n.hook.stop()
    n.p1()
    n.notifier.step()  # the mail goes, the webhook's message waits
    later = n.clock.now() + timedelta(days=31)
    assert n.notifier.prune(later) == 1
    rows, total = n.notifier.query()
    assert total == 1 and rows[0].status == "pending"


def test_a_change_through_the_api_survives_a_restart_until_the_file_is_edited(
    n: NotifyHarness, tmp_path: Path
) -> None:
    def restarted() -> NotificationBook:
        return NotificationBook(n.sessions, n.clock, AppriseSender(), path)

    path = tmp_path / "notify.yaml"
    path.write_text(CONFIG.format(hook=n.hook.url), "utf-8")
    restarted().load_file()
    put = CONFIG.format(hook=n.hook.url).replace("repeat: 5m", "repeat: 7m")
    restarted().configure(put)
    assert path.read_text("utf-8") == CONFIG.format(hook=n.hook.url), "the file is not written"
    book = restarted()
    book.load_file()  # the same file: what was put stays in force
    assert book.config().text == put
    edited = put.replace("repeat: 7m", "repeat: 9m")
    path.write_text(edited, "utf-8")
    book.load_file()  # an edited file wins
    assert book.config().text == edited
    path.write_text(edited.replace("9m", "9 minutes"), "utf-8")
    with pytest.raises(NotifyConfigError, match="route urgent, field repeat"):
        restarted().load_file()
    assert restarted().config().text == edited


def test_two_senders_for_a_moment_take_a_message_once(n: NotifyHarness) -> None:
    """Two leaders overlap while one notices it lost its database connection: the one that
    claims a message sends it; the other, holding the same row as it read it, leaves it."""
    n.person("Wang Wei", "wang@example.com")
    n.hook.stop()
    n.p1()
    n.notifier.step()
    n.clock.advance(timedelta(minutes=1))
    read_by_both = n.notifier.query(status="pending")[0][0]
    assert n.notifier._claim(read_by_both)
    assert not n.notifier._claim(read_by_both), "the second sender finds it taken"
    n.hook.start()
    assert n.later(seconds=10) == 0, "claimed: not tried again before the claim runs out"
    assert n.later(seconds=25) == 1 and len(n.hook.received) == 1


def test_a_receiver_that_hangs_costs_one_failed_attempt_and_holds_up_nobody(
    n: NotifyHarness,
) -> None:
    hung = Webhook(hold=threading.Event())
    hung.start()
    try:
        notifier = n.make_notifier(
            send_timeout=0.5,
        )
        # Apprise's own read timeout raised past the test's: only the send's limit can end it
        notifier.configure(CONFIG.format(hook=hung.url + "?rto=20"))
        notifier.step()
        n.person("Wang Wei", "wang@example.com")
        order_id = n.p1()
        assert notifier.step() == 1, "the mail goes; the desk's webhook does not answer"
        assert len(n.smtp.to("wang@example.com")) == 1
        (desk,) = [r for r in notifier.query(None, order_id)[0] if r.receiver == "duty-desk"]
        assert desk.status == "pending" and desk.attempts == 1
        assert desk.last_error == "no answer within 0.5 s"
        assert desk.next_attempt_at > n.clock.now(), "tried again later, with backoff"
    finally:
        hung.hold.set()  # type: ignore[union-attr]
        hung.stop()


def test_a_message_given_up_is_counted_apart_from_failed_attempts(n: NotifyHarness) -> None:
    n.notifier.configure(CONFIG.format(hook=n.hook.url) + "give_up_after: 30s\nretry_max: 10s\n")
    n.person("Wang Wei", "wang@example.com")
    n.hook.stop()
    n.p1()
    n.notifier.step()
    assert n.metric("facility_notifications_given_up") == 0, "still being tried"
    for _ in range(5):
        n.later(seconds=10)
    (given_up,) = n.notifier.query(status="failed")[0]
    assert given_up.receiver == "duty-desk"
    assert n.metric("facility_notifications_given_up") == 1
    assert n.metric("facility_notifications_failed_total") == given_up.attempts >= 2
    assert n.metric("facility_notifications_pending") == 0


def test_on_call_means_the_on_call_shifts_of_the_roster_at_their_sites(n: NotifyHarness) -> None:
    """Real shifts: a shift at a site covers that site only; a shift of no site covers the
    person's sites (every site for one who lists none); someone on leave, or only on shift
    (not on call), is not called."""
    n.notifier.configure(
        "routes:\n  - name: night\n    match: {priority: [P1]}\n    to: [on_call]\n"
    )
    now = n.clock.now()
    shift = (now - timedelta(hours=1), now + timedelta(hours=8))
    here = n.person("Here", "here@example.com", shift=False)  # works at north
    n.people.add_shift(here.id, *shift, True, None)
    elsewhere = n.person("Elsewhere", "elsewhere@example.com", shift=False, sites="north,south")
    n.people.add_shift(elsewhere.id, *shift, True, "south")  # on call for south only
    visiting = n.person("Visiting", "visiting@example.com", shift=False, sites="south")
    n.people.add_shift(visiting.id, *shift, True, "north")  # south's man on call for north
    anywhere = n.people.add_technician(
        now,
        name="Anywhere",
        phone="138-0000-0002",
        skills=["general"],
        seniority="senior",
        sites=[],
        certifications=[],
        contacts=[n.smtp.url("anywhere@example.com")],
    )
    n.people.add_shift(anywhere.id, *shift, True, None)
    away = n.person("Away", "away@example.com", shift=False)
    n.people.add_shift(away.id, *shift, True, "north")
    n.people.add_absence(
        away.id, now - timedelta(hours=1), now + timedelta(days=1), "sick", "planner"
    )
    n.person("On shift", "onshift@example.com")  # on shift at the site, not on call
    n.p1()  # at north
    n.notifier.step()
    everyone = ("here", "elsewhere", "visiting", "anywhere", "away", "onshift")
    told = {who for who in everyone if n.smtp.to(f"{who}@example.com")}
    assert told == {"here", "visiting", "anywhere"}


def test_the_order_s_title_and_fault_are_worded_in_the_message_s_language(
    n: NotifyHarness,
) -> None:
    """As the order's page words them: in Chinese the asset and the fault's Chinese name, not
    the service's English title nor the fault's code; in English the title and the fault's
    English name. The status too is the console's word for it (``wo_status.*``, one copy)."""
    n.person("Wang Wei", "wang@example.com")
    first = n.p1()
    n.notifier.step()
    zh = n.smtp.to("wang@example.com")[0]
    assert "lift-1：电梯困人" in zh.body and "故障: 电梯困人" in zh.body
    said = re.search(r"状态: (\S+)", zh.body)
    assert said is not None, zh.body
    status = said.group(1)
    order = n.orders.get(first)
    assert order is not None
    assert status == Translator("zh")(f"wo_status.{order.status}") == "已派单", zh.body
    assert "电梯困人" in zh.subject
    assert "Passenger trapped" not in zh.body + zh.subject
    assert "entrapment" not in zh.body + zh.subject

    n.people.put_site("north", locale="en-GB")
    n.p1("lift-2")
    n.notifier.step()
    en = n.smtp.to("wang@example.com")[1]
    assert "Passenger trapped" in en.body and "Fault: Passenger trapped" in en.body
    assert en.subject.endswith("lift-2 Passenger trapped"), en.subject
    assert "Status: Assigned" in en.body and "已派单" not in en.body, en.body
    assert "entrapment" not in en.body + en.subject and "电梯" not in en.body


def test_the_file_is_read_again_on_request_and_a_bad_one_is_refused_keeping_the_old(
    n: NotifyHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What SIGHUP does (``facility run`` calls request_reload from its handler): the
    notifier's own thread reads the file again; a refused file is logged and the config in
    force stays; an edited good one is put in force."""
    path = tmp_path / "notify.yaml"
    first = CONFIG.format(hook=n.hook.url)
    path.write_text(first, "utf-8")
    notifier = n.make_notifier(
        config_file=path,
        interval=0.1,
    )
    notifier.load_file()
    notifier.start()  # following, not leading: a worker that sends nothing reads it too
    try:
        path.write_text(first.replace("repeat: 5m", "repeat: 5 minutes"), "utf-8")
        notifier.request_reload()
        wait_until(lambda: notifier.last_refusal is not None)
        assert "route urgent, field repeat" in (notifier.last_refusal or "")
        assert "route urgent, field repeat" in caplog.text
        assert notifier.config().text == first, "the config in force stays"
        assert n.notifier.config().text == first, "for every worker"

        edited = first.replace("repeat: 5m", "repeat: 7m")
        path.write_text(edited, "utf-8")
        n.clock.advance(timedelta(seconds=1))  # the other worker sees a newer config by its time
        notifier.request_reload()
        wait_until(lambda: notifier.config().text == edited)
        assert notifier.last_refusal is None
        assert n.notifier.config().routes[0].repeat == timedelta(minutes=7), "read by all"
    finally:
        notifier.stop()
