"""``FACILITY_TRUSTED_PROXIES``: behind a reverse proxy each resident is counted by their own
address (the proxy's X-Forwarded-For), while a client that writes the header itself, not
through a trusted proxy, keeps its own address (it cannot pick a fresh rate-limit bucket)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi import FastAPI, Request

from facility_dispatch.api.routers.public_requests import client_address
from facility_dispatch.cli import http_config
from facility_dispatch.settings import Settings
from tests.builders import wait_until
from tests.services import free_port


def echo() -> FastAPI:
    app = FastAPI()

    @app.get("/who")
    def who(request: Request) -> str:
        return client_address(request)  # what the rate limits count

    return app


@contextmanager
def running(trusted: str) -> Iterator[str]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(http_config(echo(), "127.0.0.1", port, trusted))
    thread = threading.Thread(target=server.run, name="proxy-uvicorn", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=15)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


@pytest.mark.parametrize(
    ("trusted", "seen"),
    [
        ("127.0.0.1", "203.0.113.7"),  # the default: a proxy on this machine
        ("10.0.0.0/8, 127.0.0.0/8", "203.0.113.7"),  # CIDRs, spaces after commas
        ("10.0.0.0/8", "127.0.0.1"),  # the peer is no trusted proxy: the header is ignored
        ("", "127.0.0.1"),  # none trusted
    ],
)
def test_forwarded_for_is_believed_only_from_a_trusted_proxy(trusted: str, seen: str) -> None:
    with running(trusted) as url:
        answer = httpx.get(f"{url}/who", headers={"X-Forwarded-For": "203.0.113.7"})
    assert answer.json() == seen


def test_the_setting_defaults_to_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FACILITY_TRUSTED_PROXIES", raising=False)
    assert Settings(_env_file=None).trusted_proxies == "127.0.0.1"  # type: ignore[call-arg]
    monkeypatch.setenv("FACILITY_TRUSTED_PROXIES", "10.1.2.3,192.168.0.0/16")
    assert Settings(_env_file=None).trusted_proxies == "10.1.2.3,192.168.0.0/16"  # type: ignore[call-arg]
