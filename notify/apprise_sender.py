"""Delivery through Apprise: one URL form per channel (e-mail, webhooks, WeCom, DingTalk,
Feishu, SMS gateways, ...), no hand-written senders. A thin adapter: it sends one message to
one URL and says why it failed; the outbox decides when to try again."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import apprise


class DeliveryFailedError(Exception):
    """The receiver did not take the message; the text is Apprise's reason."""


class Sender(Protocol):
    """Sends one message to one URL. ``send`` raises :class:`DeliveryFailedError`;
    ``usable`` says whether a URL is one the sender can use at all; ``redact`` gives the URL
    with its secrets hidden, for lists and logs."""

    def send(self, url: str, title: str, body: str) -> None: ...
    def usable(self, url: str) -> bool: ...
    def redact(self, url: str) -> str: ...


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

    def send(self, url: str, title: str, body: str) -> None:
        notifier = apprise.Apprise()
        if not notifier.add(url):
            raise DeliveryFailedError("Apprise cannot use this URL")
        capture = apprise.LogCapture(level=logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]
        with capture as captured:
            delivered = bool(notifier.notify(title=title, body=body))
            reason = captured.getvalue().strip() if hasattr(captured, "getvalue") else ""
        if not delivered:
            last = reason.splitlines()[-1] if reason else "the receiver refused or was unreachable"
            raise DeliveryFailedError(last[:500])


def _instance(url: str) -> Any:
    if not url or len(url) > 2000:
        return None
    try:
        return apprise.Apprise.instantiate(url)
    except Exception:
        return None
