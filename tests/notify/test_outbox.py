"""The outbox against real receivers: an SMTP server and a webhook started by the test, a real
database (SQLite and PostgreSQL), and a clock the test moves instead of waiting minutes."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from facility_dispatch.notify.apprise_sender import AppriseSender
from facility_dispatch.notify.book import NotificationBook
from facility_dispatch.notify.config import NotifyConfigError
from facility_dispatch.notify.outbox import Notifier
from facility_dispatch.notify.sql import OutboxRow
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
    assert "lift-1" in first["message"] and "entrapment" in first["message"]
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

    n.hook.start()
    n.later(minutes=2)
    n.later(seconds=30)
    assert len(n.hook.received) == 2, "delivered once it is back, and once only"
    assert ["Passenger" in m["message"] for m in n.hook.received] == [True, True]
    numbers = [n.orders.get(o).number for o in (order_id, second)]  # type: ignore[union-attr]
    assert [numbers[i] in n.hook.received[i]["title"] for i in (0, 1)] == [True, True]
    assert n.notifier.query(status="pending")[1] == 0
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
        notifier = Notifier(
            n.sessions,
            n.events,
            n.orders,
            n.people,
            n.clock,
            AppriseSender(),
            secret=b"test-secret",
            public_url="http://dispatch.example",
            timezone="Asia/Shanghai",
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
