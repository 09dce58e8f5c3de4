"""The demo's inbox: a mail catcher inside the dashboard, so that a newcomer sees messages go.

``facility demo`` points its receivers and the technicians' contacts at Apprise ``json://``
URLs of the service itself (``/n/inbox/<key>/<mailbox>``); what arrives is kept here, the last
:data:`KEPT` messages in memory, and shown at ``/inbox``. The messages travel the whole way a
real one does (outbox, Apprise, HTTP), which is the point of showing them. Only the demo turns
it on; the key in the URL keeps strangers from posting to it.
"""

from __future__ import annotations

import hmac
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Final

KEPT: Final = 300


@dataclass(frozen=True, slots=True)
class Delivered:
    at: datetime
    mailbox: str
    title: str
    body: str


class Inbox:
    def __init__(self, key: str) -> None:
        self._key = key
        self._messages: deque[Delivered] = deque(maxlen=KEPT)
        self._lock = threading.Lock()

    def url(self, base: str, mailbox: str) -> str:
        """The Apprise URL that delivers to ``mailbox`` here (``base``: http://host:port)."""
        host = base.split("://", 1)[-1].rstrip("/")
        return f"json://{host}/n/inbox/{self._key}/{mailbox}"

    def accepts(self, key: str) -> bool:
        return hmac.compare_digest(key.encode(), self._key.encode())

    def put(self, message: Delivered) -> None:
        with self._lock:
            self._messages.append(message)

    def messages(self, mailbox: str | None = None) -> list[Delivered]:
        """Newest first."""
        with self._lock:
            kept = list(self._messages)
        return [m for m in reversed(kept) if mailbox is None or m.mailbox == mailbox]
