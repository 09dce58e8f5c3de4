"""The app served for real, by uvicorn on a free local port (in a thread): for what the
TestClient cannot show, such as a stream that stays open or a body that arrives in pieces."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from tests.builders import wait_until
from tests.services import free_port


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """Runs ``app`` (its lifespan too) and yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
        )
    )
    thread = threading.Thread(target=server.run, name="api-uvicorn", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=15)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
