"""One scheduler leader among the workers of an installation.

Timed work (deadline checks, substitutes, preventive plans) must run in one place at a time.
On PostgreSQL the leader holds a session advisory lock on a connection of its own; the others
wait and try again, so when the leader dies (its connection closes, the lock goes with it) one
of them takes over within ``retry`` seconds. Should two ever run at once, nothing doubles: the
occurrences and the orders they make are unique in the database. SQLite means one process: it
is always the leader.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

LOCK_KEY: Final = 0x46_44_53_43  # "FDSC": the scheduler's advisory lock


class Leadership:
    def __init__(
        self,
        db: Engine,
        on_lead: Callable[[], None],
        on_follow: Callable[[], None],
        retry: float = 10.0,
    ) -> None:
        self._db = db
        self._on_lead = on_lead
        self._on_follow = on_follow
        self._retry = retry
        self._connection: Any = None
        self._leading = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        return self._leading

    def start(self) -> None:
        if self._db.dialect.name != "postgresql":
            self._lead()
            return
        self._attempt()
        self._thread = threading.Thread(target=self._watch, name="leadership", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._retry + 5)
        if self._leading:
            self._leading = False
            self._on_follow()
        self._close()

    def _lead(self) -> None:
        self._leading = True
        log.info("this worker leads the scheduler")
        self._on_lead()

    def _attempt(self) -> None:
        try:
            if self._connection is None:
                self._connection = self._db.connect()
            got = self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
            ).scalar()
            self._connection.commit()
        except Exception:
            log.warning("scheduler leadership: database unreachable; will try again")
            self._close()
            return
        if got:
            self._lead()

    def _still_holding(self) -> bool:
        try:
            held = self._connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND objid = :key AND pid = pg_backend_pid() AND granted"
                ),
                {"key": LOCK_KEY},
            ).scalar()
            self._connection.commit()
            return bool(held)
        except Exception:
            return False

    @property
    def alive(self) -> bool:
        """False once the watching thread has died (health then says so). A single worker on
        SQLite leads without one."""
        if self._db.dialect.name != "postgresql":
            return True
        return self._thread is not None and self._thread.is_alive()

    def _watch(self) -> None:
        while not self._stop.wait(self._retry):
            try:
                self._turn()
            except Exception:
                log.exception("scheduler leadership check failed; trying again")

    def _turn(self) -> None:
        if self._leading:
            if not self._still_holding():
                log.warning("scheduler leadership lost (database connection gone)")
                self._leading = False
                self._on_follow()
                self._close()
        else:
            self._attempt()

    def _close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.debug("closing the leadership connection failed", exc_info=True)
            self._connection = None
