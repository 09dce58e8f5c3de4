"""The live event stream over a real server: it ends as soon as its caller is no longer
allowed (token revoked, dashboard session logged out or its token revoked), and its resume
points are bounded to what the database holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from facility_dispatch.api.app import create_app
from facility_dispatch.service import build_service
from tests.api.serving import served
from tests.builders import ADMIN_TOKEN, make_settings, wait_until
from tests.services import Broker

pytestmark = pytest.mark.broker
CLOSED_WITHIN = 1.5  # revocation wakes the streams; the 2 s poll would be later than this


@dataclass
class Server:
    url: str
    admin: httpx.Client

    def token(self, name: str) -> tuple[int, str]:
        created = self.admin.post("/api/v1/tokens", json={"name": name, "role": "viewer"})
        assert created.status_code == 201, created.text
        return int(created.json()["id"]), str(created.json()["token"])

    def login(self, token: str) -> str:
        answer = httpx.post(
            f"{self.url}/login", data={"token": token}, headers={"Origin": self.url}
        )
        assert answer.status_code == 303, answer.text
        return str(answer.cookies["facility_token"])


@pytest.fixture
def server(broker: Broker, tmp_path: Path) -> Iterator[Server]:
    app = create_app(build_service(make_settings(tmp_path, broker.url)))
    with (
        served(app) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin,
    ):
        yield Server(url, admin)


class Stream:
    """A reader of /api/v1/events in a thread: what it received, and when it ended."""

    def __init__(self, url: str, **headers: str | bytes) -> None:
        self.received = bytearray()
        self.status = 0
        self.ended_at: float | None = None
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()
        wait_until(lambda: b"retry:" in self.received, timeout=30)

    def _read(self, url: str, headers: dict[str, str | bytes]) -> None:
        try:
            with httpx.stream("GET", f"{url}/api/v1/events", headers=headers, timeout=30) as got:
                self.status = got.status_code
                for chunk in got.iter_bytes():
                    self.received += chunk
        except httpx.HTTPError:
            pass  # the server went away at the end of the test
        finally:
            self.ended_at = time.monotonic()

    @property
    def open(self) -> bool:
        return self.ended_at is None


def publish_event(server: Server) -> None:
    """Something that makes an event: a notice published by hand."""
    notice = {
        "site": "events-site",
        "service": "water",
        "starts_at": "2030-01-01T01:00:00Z",
        "reason": "tank cleaning",
    }
    assert server.admin.post("/api/v1/notices", json=notice).status_code == 201


def test_revoking_a_token_closes_its_streams_at_once(server: Server) -> None:
    token_id, token = server.token("wall-screen")
    _, other = server.token("other-screen")
    streams = [Stream(server.url, Authorization=f"Bearer {token}") for _ in range(2)]
    bystander = Stream(server.url, Authorization=f"Bearer {other}")
    time.sleep(0.3)
    assert all(s.open and s.status == 200 for s in [*streams, bystander])

    revoked_at = time.monotonic()
    assert server.admin.delete(f"/api/v1/tokens/{token_id}").status_code == 200
    wait_until(lambda: not any(s.open for s in streams), timeout=5)
    for stream in streams:
        assert stream.ended_at is not None and stream.ended_at - revoked_at < CLOSED_WITHIN
    again = httpx.get(f"{server.url}/api/v1/events", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401

    assert bystander.open  # another token's stream goes on, and gets what happens
    publish_event(server)
    wait_until(lambda: b"notice.published" in bystander.received, timeout=30)


def test_a_dashboard_sessions_stream_closes_when_its_token_is_revoked_or_it_logs_out(
    server: Server,
) -> None:
    token_id, token = server.token("control-room")
    revoked_session = server.login(token)
    logged_out_session = server.login(token)
    by_revocation = Stream(server.url, Cookie=f"facility_token={revoked_session}")
    by_logout = Stream(server.url, Cookie=f"facility_token={logged_out_session}")
    time.sleep(0.3)
    assert by_revocation.open and by_logout.open

    logout_at = time.monotonic()
    out = httpx.post(
        f"{server.url}/logout",
        headers={"Origin": server.url, "Cookie": f"facility_token={logged_out_session}"},
    )
    assert out.status_code == 303
    wait_until(lambda: not by_logout.open, timeout=5)
    assert by_logout.ended_at is not None and by_logout.ended_at - logout_at < CLOSED_WITHIN
    assert by_revocation.open  # the other session of the same token is still in

    revoked_at = time.monotonic()
    assert server.admin.delete(f"/api/v1/tokens/{token_id}").status_code == 200
    wait_until(lambda: not by_revocation.open, timeout=5)
    assert by_revocation.ended_at is not None
    assert by_revocation.ended_at - revoked_at < CLOSED_WITHIN
    cookie = {"Cookie": f"facility_token={revoked_session}"}
    assert httpx.get(f"{server.url}/api/v1/events", headers=cookie).status_code == 401


def test_resume_points_are_bounded(server: Server) -> None:
    publish_event(server)
    for since in (2**63, 10**30, -1):
        answer = server.admin.get("/api/v1/events", params={"since": since})
        assert answer.status_code == 422, (since, answer.text[:200])
    auth = f"Bearer {ADMIN_TOKEN}"
    # Last-Event-ID that is no id of ours (past 64 bits, a superscript digit, 5000 digits) is
    # ignored, not handed to the database: the stream starts from now
    for header in (str(2**63).encode(), "²".encode("latin-1"), b"9" * 5000):
        stream = Stream(server.url, Authorization=auth, **{"Last-Event-ID": header})
        time.sleep(0.2)
        assert stream.open and stream.status == 200, header
    resumed = Stream(server.url, Authorization=auth, **{"Last-Event-ID": "0"})
    wait_until(lambda: b"notice.published" in resumed.received, timeout=30)
    # the largest id there can be: nothing after it, and the stream stays up
    with server.admin.stream("GET", "/api/v1/events", params={"since": 2**63 - 1}) as answer:
        assert answer.status_code == 200
        assert next(answer.iter_bytes()).startswith(b"retry:")
