"""Real receivers for notification tests: an SMTP server (aiosmtpd) and an HTTP webhook, each
on a port of its own, that record what they were sent and can be taken away and brought back."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.services import free_port


@dataclass
class Mail:
    to: list[str]
    message: Message

    @property
    def subject(self) -> str:
        """The subject as the reader sees it (an encoded-word header decoded)."""
        return str(make_header(decode_header(self.message.get("Subject", ""))))

    @property
    def body(self) -> str:
        part = self.message.get_payload(decode=True) if not self.message.is_multipart() else None
        if isinstance(part, bytes):
            return part.decode("utf-8", "replace")
        for sub in self.message.walk():
            payload = sub.get_payload(decode=True)
            if isinstance(payload, bytes) and sub.get_content_type() == "text/plain":
                return payload.decode("utf-8", "replace")
        return ""


class _Handler:
    def __init__(self, inbox: list[Mail]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.inbox.append(Mail(list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@dataclass
class SmtpInbox:
    """aiosmtpd on 127.0.0.1; ``url(to)`` is the Apprise URL that mails ``to`` through it."""

    port: int = field(default_factory=free_port)
    mails: list[Mail] = field(default_factory=list)
    _controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Handler(self.mails), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def url(self, to: str) -> str:
        return f"mailto://localhost:{self.port}/?from=dispatch@example.com&to={to}&mode=insecure"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.to]


@dataclass
class Webhook:
    """An HTTP server that records each JSON body posted to it (Apprise's ``json://``)."""

    port: int = field(default_factory=free_port)
    received: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    hold: threading.Event | None = None
    """When given, each post waits for it before an answer: a receiver that hangs."""
    status: int = 200
    _away: socket.socket | None = None

    def start(self) -> None:
        received, hold, status = self.received, self.hold, self.status
        if self._away is not None:
            self._away.close()
            self._away = None

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if hold is not None:
                    hold.wait(20)
                length = int(self.headers.get("content-length") or 0)
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """The receiver is away: its port refuses connections. The port stays bound (not
        listening) until :meth:`start`: freed, a test in another worker took it for its own
        server once, and a message meant to fail here was delivered there (CI)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            away = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            away.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            away.bind(("127.0.0.1", self.port))
            self._away = away

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"
