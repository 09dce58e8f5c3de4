"""The notifications' records as everyone reads them: the config in force (kept in the
database, so every worker and the next leader read the same) and the outbox as a list.
:class:`~facility_dispatch.notify.outbox.Notifier` adds the routing and sending."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from facility_dispatch.kernel.clock import Clock
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.notify import config as notify_config
from facility_dispatch.notify.apprise_sender import Sender
from facility_dispatch.notify.config import EMPTY, NotifyConfig
from facility_dispatch.notify.sql import NotifyValueRow, OutboxRow, WatchRow

log = logging.getLogger(__name__)


class NotificationBook:
    def __init__(
        self, sessions: Sessions, clock: Clock, sender: Sender, config_file: Path | None
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._sender = sender
        self._config_file = config_file
        self._config: NotifyConfig = EMPTY
        self._config_at: datetime | None = None
        self.last_refusal: str | None = None
        """Why the file was refused when it was last read again (None: it was taken)."""

    @property
    def sender(self) -> Sender:
        return self._sender

    def _changed(self) -> None:
        """The config changed (the notifier wakes up for it)."""

    def kept_secret(self, name: str) -> str:
        """A random secret (hex) made once and kept in the database under ``name``: the same
        for every worker and after a restart."""
        with self._sessions.begin() as session:
            row = session.get(NotifyValueRow, name)
            if row is None:
                row = NotifyValueRow(
                    name=name, value=secrets.token_hex(32), updated_at=self._clock.now()
                )
                session.add(row)
            return row.value

    # -- the config ------------------------------------------------------------------------

    def parse(self, text: str) -> NotifyConfig:
        """Check a notifications file as a whole; raises NotifyConfigError naming the route."""
        return notify_config.parse(text, self._sender.usable)

    def load_file(self) -> None:
        """At start: the file of ``FACILITY_NOTIFY``, when it is new or changed since it was
        last put in force, is checked and put in force; a bad one stops the start (the
        operator sees why at once). An unchanged file leaves the config in force as it is, so
        a change made through PUT (kept in the database, never written to the operator's
        file) survives a restart, until someone edits the file."""
        if self._config_file is None:
            return
        try:
            text = self._config_file.read_text(encoding="utf-8")
        except OSError as error:
            raise notify_config.NotifyConfigError(
                "unreadable",
                f"cannot read {self._config_file}: {error.strerror}",
                values={"path": str(self._config_file), "why": str(error.strerror)},
            ) from None
        with self._sessions() as session:
            loaded = session.get(NotifyValueRow, "config_file")
            unchanged = loaded is not None and loaded.value == text
            if unchanged and session.get(NotifyValueRow, "config") is not None:
                return
        self._store_config(self.parse(text), from_file=True)

    def reload_file(self) -> bool:
        """The file read again (SIGHUP, as for the rules), by the rule of :meth:`load_file`:
        an edited file is checked and put in force. A bad one is refused and logged, naming the
        route and field, and the config in force stays: a running service is not stopped for
        a typo. Returns whether the file was taken."""
        try:
            self.load_file()
        except notify_config.NotifyConfigError as error:
            self.last_refusal = str(error)
            log.error(
                "notifications file %s refused, the config in force stays: %s",
                self._config_file,
                error,
            )
            return False
        self.last_refusal = None
        return True

    def configure(self, text: str) -> NotifyConfig:
        """Replace the config (PUT): checked first, the old one stays if it is refused. Kept in
        the database, which every worker and the next leader read. A URL as GET shows it
        (secrets masked) stands for the one in force: a file read and sent back keeps them."""
        config = self.parse(notify_config.unmasked_text(text, self.config()))
        notify_config.refuse_masked(config)
        self._store_config(config)
        return config

    def _store_config(self, config: NotifyConfig, from_file: bool = False) -> None:
        now = self._clock.now()
        with self._sessions.begin() as session:
            put_value(session, "config", config.text, now)
            if from_file:
                put_value(session, "config_file", config.text, now)
        self._config, self._config_at = config, now
        self._changed()

    def config(self) -> NotifyConfig:
        """The config in force, as the database holds it (another worker may have changed it)."""
        with self._sessions() as session:
            row = session.get(NotifyValueRow, "config")
            if row is None:
                return EMPTY
            if self._config_at != row.updated_at:
                try:
                    self._config = self.parse(row.value)
                except notify_config.NotifyConfigError:
                    log.exception("the stored notifications config no longer parses; keeping")
                self._config_at = row.updated_at
            return self._config

    # -- reading -----------------------------------------------------------------------------

    def query(
        self,
        status: str | None = None,
        work_order_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[OutboxRow], int]:
        """The outbox, newest first, and how many rows match."""
        with self._sessions() as session:
            stmt = select(OutboxRow)
            count = select(func.count()).select_from(OutboxRow)
            if status:
                stmt, count = (
                    stmt.where(OutboxRow.status == status),
                    count.where(OutboxRow.status == status),
                )
            if work_order_id is not None:
                stmt = stmt.where(OutboxRow.work_order_id == work_order_id)
                count = count.where(OutboxRow.work_order_id == work_order_id)
            rows = list(
                session.scalars(stmt.order_by(OutboxRow.id.desc()).offset(offset).limit(limit))
            )
            return rows, int(session.scalar(count) or 0)

    def prune(self, before: datetime) -> int:
        """Sent and failed messages recorded before ``before``, and the watches that ended
        then: the outbox is kept as long as the event log it comes from. Pending ones stay."""
        with self._sessions.begin() as session:
            gone = session.execute(
                delete(OutboxRow).where(OutboxRow.at < before, OutboxRow.status != "pending")
            )
            session.execute(delete(WatchRow).where(WatchRow.done_at < before))
            return int(getattr(gone, "rowcount", 0) or 0)

    def pending(self) -> tuple[int, float]:
        """Messages not yet sent, and the age in seconds of the oldest of them."""
        try:
            with self._sessions() as session:
                count, oldest = session.execute(
                    select(func.count(), func.min(OutboxRow.at)).where(
                        OutboxRow.status == "pending"
                    )
                ).one()
        except Exception:
            return 0, 0.0
        if not count or oldest is None:
            return 0, 0.0
        return int(count), max((self._clock.now() - oldest).total_seconds(), 0.0)

    def given_up(self) -> int:
        """Messages given up (status ``failed``) that the outbox still keeps: nobody got them."""
        try:
            with self._sessions() as session:
                count = session.scalar(
                    select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "failed")
                )
        except SQLAlchemyError:  # the database away: /metrics still answers
            return 0
        return int(count or 0)


def put_value(session: Session, name: str, value: str, now: datetime) -> None:
    row = session.get(NotifyValueRow, name)
    if row is None:
        session.add(NotifyValueRow(name=name, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now
