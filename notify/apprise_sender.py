"""Delivery through Apprise: one URL form per channel (e-mail, webhooks, WeCom, DingTalk,
Feishu, SMS gateways, ...), no hand-written senders. A thin adapter: it sends one message to
one URL and says why it failed; the outbox decides when to try again."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import apprise

from facility_dispatch.notify.config import secrets_in


class DeliveryFailedError(Exception):
    """The receiver did not take the message; the text is Apprise's reason."""


class Sender(Protocol):
    """Sends one message to one URL. ``send`` raises :class:`DeliveryFailedError`;
    ``usable`` says whether a URL is one the sender can use at all; ``redact`` gives the URL
    with its secrets hidden, for lists and logs; ``scrub`` hides them in a text (an error)."""

    def send(self, url: str, title: str, body: str) -> None: ...
    def usable(self, url: str) -> bool: ...
    def redact(self, url: str) -> str: ...
    def scrub(self, text: str, url: str) -> str: ...


class _Reasons(logging.Handler):
    """Apprise's warnings, each kept for the thread that logged it: the outbox sends to several
    receivers at once, and the error a receiver's message shows must be its own. (Apprise's
    ``LogCapture`` adds a handler to its one logger: every capture open at the time gets every
    thread's lines.)"""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        kept: list[str] | None = getattr(self._local, "kept", None)
        if kept is not None:
            kept.append(record.getMessage())

    @contextmanager
    def of_this_thread(self) -> Iterator[list[str]]:
        kept: list[str] = []
        self._local.kept = kept
        try:
            yield kept
        finally:
            self._local.kept = None


_APPRISE_LOG = logging.getLogger("apprise")
_REASONS = _Reasons()
_APPRISE_LOG.addHandler(_REASONS)
if _APPRISE_LOG.getEffectiveLevel() > logging.WARNING:
    _APPRISE_LOG.setLevel(logging.WARNING)
_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@]*:)[^@\s/]+@", re.I)


class AppriseSender:
    def usable(self, url: str) -> bool:
        return _instance(url) is not None

    def redact(self, url: str) -> str:
        instance = _instance(url)
        if instance is None:
            scheme, _, _ = url.partition("://")
            return f"{scheme}://..."
        shown = str(instance.url(privacy=True)).split("?", 1)[0]
        scheme, sep, rest = shown.partition("://")
        # Apprise hides passwords and tokens it knows of; a webhook's path often is the secret
        # (json://host/hooks/<key>): long path segments are cut down too
        host, slash, path = rest.partition("/")
        hidden = "/".join(
            f"{part[:2]}...{part[-2:]}" if len(part) >= 16 else part for part in path.split("/")
        )
        return f"{scheme}{sep}{host}{slash}{hidden}"

    def scrub(self, text: str, url: str) -> str:
        """``text`` with the URL's secrets cut down as :meth:`redact` shows them: its password,
        long path segments and query values (a webhook's key), any ``user:password@``."""
        for secret in sorted(secrets_in(url), key=len, reverse=True):
            text = text.replace(secret, f"{secret[:2]}...{secret[-2:]}")
        return _CREDENTIALS.sub(r"\1...@", text)

    def send(self, url: str, title: str, body: str) -> None:
        # the plugin's own notify runs in this thread (Apprise's runs in a pool of its own),
        # so the warnings kept are this send's
        instance = _instance(url)
        if instance is None:
            raise DeliveryFailedError("Apprise cannot use this URL")
        with _REASONS.of_this_thread() as reasons:
            delivered = bool(instance.notify(title=title, body=body))
        if not delivered:
            last = reasons[-1] if reasons else "the receiver refused or was unreachable"
            raise DeliveryFailedError(self.scrub(last, url)[:500])


def _instance(url: str) -> Any:
    if not url or len(url) > 2000:
        return None
    try:
        return apprise.Apprise.instantiate(url)
    except Exception:
        return None
