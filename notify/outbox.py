"""The notifier: follows the event log, records each message in the outbox, then sends it.

Driven from the store, like the dispatcher's sweep. The kernel's event log is numbered in
commit order and has no gaps a reader could skip, so a cursor (the last event routed, kept in
``notify_values``) is enough to see every alarm and work-order change once: the events after
it are routed, and the messages they ask for are written in the same transaction that moves
the cursor. A crash before that commit routes the same events again; after it, the messages
are in the outbox. Each (event, round, receiver, URL) row has a unique key, so nothing is
recorded twice, and only pending rows are sent: none twice across restarts. The one window
left is a crash between a receiver taking a message and the row being marked sent (at-least-
once, as any outbox that talks to the outside world).

Repeats and escalation come from watches: an order matched by a route with ``repeat`` or
``escalate_after`` is watched until it is acknowledged (``responded_at`` set, by the API, the
console or a signed link) or finished; each sweep records the rounds that fell due
(:func:`facility_dispatch.notify.routing.due_rounds`).

A watch names its route by position in the file: a new file applies to the watches running,
route by route (a route removed ends its watches at the next sweep).

Only the scheduler's leader runs :meth:`Notifier.step` (``lead``/``follow``): one sender
per installation. A failing receiver is retried with doubling backoff up to ``retry_max``,
and given up (``failed``) after ``give_up_after``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from facility_dispatch.kernel.clock import Clock
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.kernel.durations import format_duration
from facility_dispatch.kernel.events import Event, EventLog
from facility_dispatch.maintenance.orders import WorkOrder
from facility_dispatch.maintenance.people import People
from facility_dispatch.maintenance.work_orders import WorkOrderService
from facility_dispatch.notify import links
from facility_dispatch.notify.apprise_sender import DeliveryFailedError, Sender
from facility_dispatch.notify.book import NotificationBook, put_value
from facility_dispatch.notify.config import NotifyConfig, Route
from facility_dispatch.notify.inbox import Inbox
from facility_dispatch.notify.messages import (
    EventWording,
    OrderFacts,
    OrderWording,
    language_of,
    render,
)
from facility_dispatch.notify.routing import (
    Happening,
    Round,
    acknowledged,
    due_rounds,
    finished,
    gives_up,
    happening_of,
    retry_at,
    routes_for,
)
from facility_dispatch.notify.sql import NotifyValueRow, OutboxRow, WatchRow
from facility_dispatch.notify.targets import Address, Roster, addresses

log = logging.getLogger(__name__)

SENDERS = 4
"""URLs sent to at once: a slow receiver (a mail server at its timeout) holds up only itself."""

CLAIM = timedelta(seconds=30)
"""How long one attempt holds a message: longer than Apprise's own timeouts (15 s for mail)."""

SEND_TIMEOUT = 20.0
"""Seconds one send may take before it counts as a failed attempt (tried again with backoff):
below :data:`CLAIM`, so a hung receiver (one that accepts and never answers, or drips its
answer past every socket timeout) never holds a message past its claim nor the next routing
of events behind it."""

ACK_TTL = timedelta(hours=24)
"""How long an acknowledgement link in a message works."""


class Notifier(NotificationBook):
    def __init__(
        self,
        sessions: Sessions,
        events: EventLog,
        work_orders: WorkOrderService,
        people: People,
        clock: Clock,
        sender: Sender,
        *,
        secret: bytes | None = None,
        public_url: str,
        timezone: str,
        wording: OrderWording,
        event_wording: EventWording | None = None,
        config_file: Path | None = None,
        registry: CollectorRegistry | None = None,
        interval: float = 1.0,
        send_timeout: float = SEND_TIMEOUT,
    ) -> None:
        super().__init__(sessions, clock, sender, config_file)
        if not 0 < send_timeout < CLAIM.total_seconds():
            raise ValueError(f"send_timeout must be within (0, {CLAIM.total_seconds():g}) s")
        self._send_timeout = send_timeout
        # the sends themselves run here: a hung one keeps a worker, never the caller; more
        # workers than SENDERS, so a few hung ones leave room for the others
        self._sending = ThreadPoolExecutor(SENDERS * 2, "notify-apprise")
        self.inbox: Inbox | None = None
        """The demo's mail catcher (``facility demo`` sets it): see notify/inbox.py."""
        self._events = events
        self._work_orders = work_orders
        self._people = people
        self._given_secret = secret
        self._public_url = public_url.rstrip("/")
        self._timezone = timezone
        self._wording = wording
        self._event_wording = event_wording
        self._interval = interval
        self._leading = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._reload_requested = threading.Event()
        self._thread: threading.Thread | None = None
        self._unlisten: Callable[[], None] | None = None
        self.sent = Counter(
            "facility_notifications_sent", "Messages a receiver took", registry=registry
        )
        self.failed = Counter(
            "facility_notifications_failed",
            "Attempts a receiver refused or did not answer (each retried with backoff)",
            registry=registry,
        )
        Gauge(
            "facility_notifications_pending",
            "Messages recorded and not yet sent",
            registry=registry,
        ).set_function(lambda: self.pending()[0])
        Gauge(
            "facility_notifications_oldest_pending_seconds",
            "Age of the oldest message not yet sent (0 when none)",
            registry=registry,
        ).set_function(lambda: self.pending()[1])
        Gauge(
            "facility_notifications_given_up",
            "Messages given up after give_up_after (status failed), while the outbox keeps them",
            registry=registry,
        ).set_function(self.given_up)

    def _changed(self) -> None:
        self._wake.set()

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        self._unlisten = self._events.on_change(self._wake.set)
        self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._unlisten is not None:
            self._unlisten()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None
        self._sending.shutdown(wait=False, cancel_futures=True)

    def lead(self) -> None:
        """This worker sends (it leads the scheduler)."""
        self._leading.set()
        self._wake.set()

    def follow(self) -> None:
        self._leading.clear()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def request_reload(self) -> None:
        """From a signal handler (SIGHUP): the notifier's own thread reads the file again, on
        every worker, leading or not (the database work stays out of the handler)."""
        self._reload_requested.set()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._reload_requested.is_set() and not self._stop.is_set():
                self._reload_requested.clear()
                try:
                    self.reload_file()
                except Exception:
                    log.exception("reading the notifications file again failed; keeping")
            if self._stop.is_set() or not self._leading.is_set():
                continue
            try:
                self.step()
            except Exception:
                log.exception("notifications step failed; trying again")

    def step(self) -> int:
        """Route new events, record due repeats, send what is due. Returns messages sent."""
        config = self.config()
        self._secret()  # made (once) before any transaction below: SQLite has one writer
        while self.route_events(config) == 500:
            pass
        self.repeat(config)
        return self.deliver(config)

    # -- routing events ----------------------------------------------------------------------

    def route_events(self, config: NotifyConfig) -> int:
        """Route the events after the cursor (at most 500); returns how many were read."""
        with self._sessions() as session:
            row = session.get(NotifyValueRow, "cursor")
            cursor = int(row.value) if row is not None else None
        if cursor is None:  # a new installation starts from now, not from the whole history
            with self._sessions.begin() as session:
                put_value(session, "cursor", str(self._events.last_id()), self._clock.now())
            return 0
        batch = self._events.since(cursor, limit=500)
        if not batch:
            return 0
        now = self._clock.now()
        with self._sessions.begin() as session:
            for event in batch:
                try:
                    with session.begin_nested():
                        self._route(session, config, event, now)
                except SQLAlchemyError:
                    raise  # the database is away: the whole batch again, later
                except Exception:
                    # one event we cannot route (a bug, a strange payload) must not hold up
                    # every later one behind the cursor: it is logged and passed
                    log.exception("routing event %s (%s) failed; skipped", event.id, event.type)
            put_value(session, "cursor", str(batch[-1].id), now)
        return len(batch)

    def _route(self, session: Session, config: NotifyConfig, event: Event, now: datetime) -> None:
        happening = happening_of(event.type, event.payload, event.site)
        if happening is None:
            return
        order = self._order(happening.work_order_id)
        for route in routes_for(config, happening):
            told: set[str] = set()
            if route.watches and order is not None and not acknowledged(order):
                watched = session.scalar(
                    select(func.count())
                    .select_from(WatchRow)
                    .where(WatchRow.work_order_id == order.id, WatchRow.route == route.index)
                )
                if watched:
                    # opened and assigned in one go are one story: whoever heard of this order
                    # on this route is not told again; a newcomer (a later assignee) is
                    told = _receivers_told(session, order.id, route.index)
                else:
                    session.add(
                        WatchRow(
                            event_id=event.id,
                            event=happening.event,
                            route=route.index,
                            work_order_id=order.id,
                            started_at=event.at,
                        )
                    )
                    session.flush()
            self._record(
                session, config, event.id, happening, event.payload, route, None, order, now, told
            )

    # -- repeats and escalation --------------------------------------------------------------

    def repeat(self, config: NotifyConfig) -> int:
        """Record the repeats and escalations that fell due; close the watches of orders that
        were acknowledged or finished. Returns rounds recorded."""
        now = self._clock.now()
        recorded = 0
        with self._sessions() as session:
            watches = list(session.scalars(select(WatchRow).where(WatchRow.done_at.is_(None))))
        for watch in watches:
            order = self._order(watch.work_order_id)
            route = config.routes[watch.route] if watch.route < len(config.routes) else None
            with self._sessions.begin() as session:
                row = session.get(WatchRow, watch.id)
                if row is None or row.done_at is not None:
                    continue
                if order is None or route is None or not route.watches:
                    row.done_at, row.done_because = now, "route or order gone"
                    continue
                if acknowledged(order):
                    row.done_at, row.done_because = now, "acknowledged"
                    continue
                happening = Happening(
                    row.event, order.site, order.priority, order.kind, None, order.id
                )
                for round_ in due_rounds(route, row.started_at, row.next_round, now):
                    self._record(
                        session, config, row.event_id, happening, {}, route, round_, order, now
                    )
                    row.next_round = round_.number + 1
                    recorded += 1
                if finished(route, row.started_at, row.next_round):
                    row.done_at, row.done_because = now, "repeat limit"
        return recorded

    # -- recording ---------------------------------------------------------------------------

    def _record(
        self,
        session: Session,
        config: NotifyConfig,
        event_id: int,
        happening: Happening,
        payload: dict[str, object],
        route: Route,
        round_: Round | None,
        order: WorkOrder | None,
        now: datetime,
        told: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        targets = round_.targets if round_ is not None else route.to
        number = round_.number if round_ is not None else 0
        roster = self._roster(order, now)
        site = self._people.site(happening.site) if happening.site else None
        lang = language_of(site.locale if site else None)
        zone = ZoneInfo(site.timezone if site else self._timezone)
        worded = self._wording(order, lang) if order is not None else None
        told_as = (
            self._event_wording(happening.event, payload, lang)
            if order is None and self._event_wording is not None
            else None
        )
        seen: set[str] = set()
        for target in targets:
            for address in addresses(target, happening.site, config, roster, self._sender.usable):
                key = f"{event_id}:{route.index}:{number}:{address.key}:{_digest(address.url)}"
                if key in seen or address.key in told:
                    continue
                seen.add(key)
                exists = session.scalar(
                    select(func.count()).select_from(OutboxRow).where(OutboxRow.key == key)
                )
                if exists:
                    continue
                message = render(
                    happening.event,
                    lang,
                    zone,
                    OrderFacts.of(order, site.name if site else None, worded),
                    payload,
                    reminder=number if round_ is not None and not round_.escalation else 0,
                    escalated_after=format_duration(route.escalate_after)
                    if round_ is not None and round_.escalation and route.escalate_after
                    else None,
                    order_link=f"{self._public_url}/work-orders/{order.id}" if order else None,
                    ack_link=self._ack_link(order, address, now),
                    ack_hours=int(ACK_TTL.total_seconds() // 3600),
                    site_name=site.name if site else None,
                    event_words=told_as,
                )
                session.add(
                    OutboxRow(
                        key=key,
                        at=now,
                        event=happening.event,
                        event_id=event_id,
                        round=number,
                        work_order_id=order.id if order else happening.work_order_id,
                        site=happening.site,
                        receiver=address.receiver,
                        url=address.url,
                        url_redacted=self._sender.redact(address.url),
                        title=message.title,
                        body=message.body,
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                    )
                )
        session.flush()

    def _ack_link(self, order: WorkOrder | None, address: Address, now: datetime) -> str | None:
        """A link that acknowledges as the person the message is addressed to. A shared
        receiver (a duty desk's webhook, a group chat, a contractor) gets none: whoever reads
        it there is nobody in particular, and opens the order with a login instead."""
        if order is None or acknowledged(order) or address.technician_id is None:
            return None
        token = links.sign(self._secret(), order.id, address.technician_id, now, ACK_TTL)
        return f"{self._public_url}/n/ack/{token}"

    def _secret(self) -> bytes:
        """The key of the acknowledgement links: given in the settings, or made once and kept
        in the database, so that a link made by one worker or before a restart still works."""
        if not self._given_secret:
            self._given_secret = bytes.fromhex(self.kept_secret("link_secret"))
        return self._given_secret

    def _order(self, order_id: int | None) -> WorkOrder | None:
        return self._work_orders.get(order_id) if order_id is not None else None

    def _roster(self, order: WorkOrder | None, now: datetime) -> Roster:
        today = self._people.roster(now)
        people = tuple(self._people.technicians(limit=100_000)[0])
        absent = {leave.technician_id for leave in today.leaves}
        on_call = frozenset(
            (d.technician_id, d.site)
            for d in today.duties
            if d.on_call and d.technician_id not in absent
        )
        contractor = None
        if order is not None and order.contractor_id is not None:
            found = self._work_orders.contractors.get(order.contractor_id)
            contractor = (found.id, found.receiver) if found else None
        return Roster(people, order.assignees if order else (), on_call, contractor)

    # -- sending -----------------------------------------------------------------------------

    def deliver(self, config: NotifyConfig, limit: int = 200) -> int:
        """Send the pending messages that are due; returns how many were taken.

        Each URL's messages go in the order they were recorded, the URLs side by side (at
        most :data:`SENDERS` at once), so a receiver that hangs until its timeout holds up
        only its own messages. A URL that failed rests until its oldest message's retry:
        the messages behind it wait with it instead of failing one by one."""
        now = self._clock.now()
        with self._sessions() as session:
            resting = set(
                session.scalars(
                    select(OutboxRow.url).where(
                        OutboxRow.status == "pending",
                        OutboxRow.attempts > 0,
                        OutboxRow.next_attempt_at > now,
                    )
                )
            )
            due = list(
                session.scalars(
                    select(OutboxRow)
                    .where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now)
                    .order_by(OutboxRow.id)
                    .limit(limit)
                )
            )
        queues: dict[str, list[OutboxRow]] = {}
        for message in due:
            if message.url not in resting:
                queues.setdefault(message.url, []).append(message)
        if not queues:
            return 0
        # a pass ends once it has taken a send's time limit: a slow receiver's long queue waits
        # for the next pass rather than hold up the routing of new events
        deadline = time.monotonic() + self._send_timeout
        with ThreadPoolExecutor(min(SENDERS, len(queues)), "notify-send") as pool:
            return sum(
                pool.map(
                    lambda queue: self._send_in_order(queue, config, deadline), queues.values()
                )
            )

    def _send_in_order(self, queue: list[OutboxRow], config: NotifyConfig, deadline: float) -> int:
        sent = 0
        for message in queue:
            if time.monotonic() > deadline:
                break  # the rest next pass, in order
            if not self._attempt(message, config):
                break  # this URL rests; the rest of its queue waits behind the failed one
            sent += 1
        return sent

    def _attempt(self, message: OutboxRow, config: NotifyConfig) -> bool:
        if not self._claim(message):
            return False  # another sender has it (two leaders for a moment): not twice
        error: str | None = None
        sending = self._sending.submit(self._sender.send, message.url, message.title, message.body)
        try:
            sending.result(timeout=self._send_timeout)
        except TimeoutError:
            sending.cancel()  # if it is still waiting for a worker; a hung one runs out alone
            error = f"no answer within {self._send_timeout:g} s"
        except DeliveryFailedError as failure:
            error = str(failure) or "failed"
        except Exception as failure:  # a bug in a plugin must not stop the others
            log.exception("sending notification %s raised", message.id)
            error = f"{type(failure).__name__}: {failure}"[:500]
        if error is not None:
            error = self._sender.scrub(error, message.url)
        after = self._clock.now()
        with self._sessions.begin() as session:
            row = session.get(OutboxRow, message.id)
            if row is None:
                return error is None
            row.attempts += 1
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", after, None
                self.sent.inc()
                return True
            self.failed.inc()
            row.last_error = error
            if gives_up(row.at, after, config.give_up_after):
                row.status = "failed"
                log.warning("notification %s to %s given up: %s", row.id, row.receiver, error)
            else:
                row.next_attempt_at = retry_at(
                    row.attempts, after, config.retry_after, config.retry_max
                )
        return False

    def _claim(self, message: OutboxRow) -> bool:
        """Take the message for one attempt: its next attempt moves :data:`CLAIM` ahead, if
        nobody moved it since it was read. Leadership can overlap for a moment when a leader
        loses its database connection; the claim keeps two senders off one message. A crash
        during the attempt leaves it to be tried again when the claim runs out."""
        with self._sessions.begin() as session:
            claimed = session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == message.id,
                    OutboxRow.status == "pending",
                    OutboxRow.next_attempt_at == message.next_attempt_at,
                )
                .values(next_attempt_at=self._clock.now() + CLAIM)
            )
            return bool(getattr(claimed, "rowcount", 0))

    # -- acknowledging by link ---------------------------------------------------------------

    def grant(self, token: str) -> links.AckGrant:
        """What a link allows; raises LinkError if it is forged, malformed or expired."""
        return links.verify(self._secret(), token, self._clock.now())


def _receivers_told(session: Session, order_id: int, route: int) -> set[str]:
    """The receivers (their keys) already recorded for an order on a route: the key is
    ``event:route:round:receiver:digest``, and a receiver's key may hold a colon."""
    keys = session.scalars(select(OutboxRow.key).where(OutboxRow.work_order_id == order_id))
    told = set()
    for key in keys:
        parts = key.split(":")
        if len(parts) >= 5 and parts[1] == str(route):
            told.add(":".join(parts[3:-1]))
    return told


def _digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:12]
