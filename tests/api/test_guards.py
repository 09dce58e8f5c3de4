"""What guards every request and answer whatever the route: the body limit (413 before any
parser or authentication), the security headers, and 422 answers that never echo much of the
input. Each hostile request is followed by a good one that works."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from facility_dispatch.api.app import create_app
from facility_dispatch.api.validation import MAX_ERRORS, MAX_INPUT_CHARS
from facility_dispatch.service import build_service
from tests.api.serving import served
from tests.builders import ADMIN_TOKEN, make_settings
from tests.services import Broker

pytestmark = pytest.mark.broker

LIMIT = 64 * 1024
MIB_50 = 50 * 1024 * 1024


@pytest.fixture
def small(broker: Broker, tmp_path: Path, site: str) -> Iterator[TestClient]:
    """A service whose request limit is 64 KiB (SQLite is enough: nothing here is stored)."""
    settings = make_settings(tmp_path, broker.url, sites=[site], max_request_bytes=LIMIT)
    with TestClient(create_app(build_service(settings))) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client


def asset(site: str, name: str = "pump-1") -> dict[str, str]:
    return {"site": site, "asset": name, "kind": "water"}


def test_a_body_past_the_limit_is_refused_before_it_is_read_or_authenticated(
    small: TestClient, site: str
) -> None:
    huge = b'{"site": "' + b"a" * MIB_50 + b'"}'
    json_header = {"Content-Type": "application/json"}
    for headers in ({**json_header, "Authorization": ""}, json_header):  # anonymous, admin
        started = time.monotonic()
        answer = small.post("/api/v1/assets", content=huge, headers=headers)
        elapsed = time.monotonic() - started
        assert answer.status_code == 413, answer.text[:200]
        assert answer.json() == {"detail": f"the request body is larger than {LIMIT} bytes"}
        assert len(answer.content) < 200 and elapsed < 2.0
    assert small.post("/api/v1/assets", json=asset(site)).status_code == 201


def test_a_body_without_a_length_is_counted_as_it_arrives(small: TestClient, site: str) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        yield b'{"site": "'
        for _ in range(64):
            yield b"a" * 4096
        yield b'"}'

    headers = {"Content-Type": "application/json", "Origin": "http://testserver"}
    for path in ("/api/v1/assets", "/login"):  # a route's body, and one the endpoint reads
        answer = small.post(path, content=chunks(), headers=headers)
        assert answer.status_code == 413, answer.text[:200]
        assert "larger than" in answer.json()["detail"]
    exact = b'{"site": "' + b"a" * (LIMIT - 20) + b'"}'
    assert len(exact) <= LIMIT  # at the limit: read, and refused for what it says, not its size
    assert small.post("/api/v1/assets", content=exact).status_code == 422
    assert small.post("/api/v1/assets", json=asset(site, "pump-2")).status_code == 201


def test_every_answer_carries_the_security_headers(small: TestClient, site: str) -> None:
    answers = {
        "api": small.get("/api/v1/assets"),
        "health": small.get("/api/v1/health"),
        "page": small.get("/login"),
        "redirect": small.get("/alarms", headers={"Authorization": ""}, follow_redirects=False),
        "static": small.get("/static/dashboard.css"),
        "401": small.get("/api/v1/assets", headers={"Authorization": ""}),
        "404": small.get("/no/such/page"),
        "422": small.get("/api/v1/assets", params={"limit": 0}),
        "413": small.post("/api/v1/assets", content=b"x" * (LIMIT + 1)),
        "openapi": small.get("/openapi.json"),
        "docs": small.get("/docs"),
    }
    for name, answer in answers.items():
        headers = answer.headers
        assert headers["x-frame-options"] == "DENY", name
        assert "frame-ancestors 'none'" in headers["content-security-policy"], name
        assert headers["x-content-type-options"] == "nosniff", name
        assert headers["referrer-policy"] == "same-origin", name
    page_policy = answers["page"].headers["content-security-policy"]
    assert "script-src 'self';" in page_policy  # no inline or foreign scripts on our pages
    assert "unsafe-inline" not in page_policy.split("style-src")[0]
    assert small.post("/api/v1/assets", json=asset(site)).status_code == 201


def test_a_crash_answers_500_with_the_headers_too(broker: Broker, tmp_path: Path) -> None:
    """Starlette's server-error middleware answers a crash from outside any added middleware:
    the headers are put on outside it."""
    app = create_app(build_service(make_settings(tmp_path, broker.url)))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a fault of ours")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom")
        assert answer.status_code == 500
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_a_422_keeps_fastapis_shape_but_never_echoes_much_of_the_input(
    small: TestClient, site: str
) -> None:
    long_name = "x" * 60_000
    answer = small.post("/api/v1/assets", json=asset(site, long_name))
    assert answer.status_code == 422
    assert len(answer.content) < 2_000, len(answer.content)
    (error,) = answer.json()["detail"]
    assert error["loc"] == ["body", "asset"] and error["type"] == "string_pattern_mismatch"
    assert error["input"].startswith('"xxx') and len(error["input"]) <= MAX_INPUT_CHARS + 1

    many = {f"k{i}": "v" for i in range(3000)}  # a big object where a list is expected
    answer = small.post("/api/v1/work-orders/1/assign", json={"technician_ids": many})
    assert answer.status_code == 422 and len(answer.content) < 2_000
    assert isinstance(answer.json()["detail"][0]["input"], str)  # cut: the start of its JSON

    items = [{"site": "BAD", "on_hand": -1}] * 100  # 200 errors
    answer = small.post("/api/v1/parts", json={"sku": "S", "name": "n", "stock": items})
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert len(detail) == MAX_ERRORS + 1
    assert detail[-1]["type"] == "too_many_errors" and "180 more" in detail[-1]["msg"]

    small_input = small.get("/api/v1/assets", params={"limit": "many"}).json()["detail"]
    assert small_input[0]["input"] == "many"  # small inputs are shown as they were
    assert small.post("/api/v1/assets", json=asset(site)).status_code == 201


def test_a_chunked_upload_is_cut_off_while_it_is_still_arriving(
    broker: Broker, tmp_path: Path
) -> None:
    """Over a real socket: the 413 comes back while the client is still sending, long before
    the 50 MB it meant to send, and the service answers the next request."""
    settings = make_settings(tmp_path, broker.url, max_request_bytes=LIMIT)
    app = create_app(build_service(settings))
    with served(app) as url:
        host, port = url.removeprefix("http://").split(":")
        chunk = b"a" * 16_384
        sent = 0
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(
                b"POST /api/v1/assets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b"Content-Type: application/json\r\n\r\n"
            )
            connection.setblocking(False)
            answer = b""
            while sent < MIB_50 and not answer:
                try:
                    connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
                except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                    time.sleep(0.01)
                with contextlib.suppress(BlockingIOError):
                    answer = connection.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"larger than" in answer
        # cut off early, not read to the end (loopback socket buffers hold a few MB more)
        assert sent < 20 * 1024 * 1024, sent
        good = httpx.get(f"{url}/api/v1/assets", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert good.status_code == 200
