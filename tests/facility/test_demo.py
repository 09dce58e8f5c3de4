"""``facility demo`` from a clean directory: an embedded broker, a simulated estate, and an
alarm served within the first minute; SIGTERM stops it cleanly (exit 0)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.services import free_port

pytestmark = pytest.mark.slow


def test_the_demo_serves_an_alarm_within_its_first_minute(tmp_path: Path) -> None:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FACILITY_")}
    environment["FACILITY_HTTP_PORT"] = str(port)
    log = tmp_path / "demo.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "facility_dispatch.cli", "demo"],
            cwd=tmp_path,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    started = time.monotonic()
    try:
        token = None
        while token is None and time.monotonic() - started < 30:
            found = re.search(r"admin token: (\S+)", log.read_text())
            token = found.group(1) if found else None
            time.sleep(0.2)
        assert token, log.read_text()
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
        )
        alarms: list[dict[str, object]] = []
        while not alarms and time.monotonic() - started < 60:
            with contextlib.suppress(httpx.HTTPError):
                alarms = api.get("/api/v1/alarms", params={"state": "firing"}).json()["items"]
            time.sleep(1)
        assert alarms, f"no alarm within a minute:\n{log.read_text()[-3000:]}"
        assert api.get("/api/v1/health").json()["broker"] == "connected"
        assert api.get("/api/v1/technicians").json()["total"] == 13  # a supervisor, 4 guards
        sent: list[dict[str, object]] = []
        while not sent and time.monotonic() - started < 60:
            with contextlib.suppress(httpx.HTTPError):
                sent = api.get("/api/v1/notifications", params={"status": "sent"}).json()["items"]
            time.sleep(1)
        assert sent, f"no message sent within a minute:\n{log.read_text()[-3000:]}"
        assert api.get("/api/v1/routes").json()["total"] == 4  # fire patrol, plant room: 2 sites
        posts = api.get("/api/v1/posts").json()["items"]
        assert [p["skill"] for p in posts] == ["security", "general"]
        assert posts[0]["wanted_skills"] == ["first_aid"]
        assert posts[1]["shifts"][0]["weekdays"] == [1, 2, 3, 4, 5]  # cleaning: no weekend gap
        assert all("/n/inbox/" in str(n["url_redacted"]) for n in sent)
        browser = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Origin": f"http://127.0.0.1:{port}"}
        )
        assert browser.post("/login", data={"token": token}).status_code == 303
        assert 'class="inbox-message"' in browser.get("/inbox").text, "the inbox shows them"
        assert api.get("/api/v1/assets").json()["total"] >= 40
        # the safety manager's token it prints: the duty to sign lift orders off, its estate only
        signer = re.search(
            r"safety manager of green-garden \(signs [^)]*\): (\S+)", log.read_text()
        )
        assert signer, log.read_text()[-3000:]
        theirs = {"Authorization": f"Bearer {signer.group(1)}"}
        mine = api.get("/api/v1/assets", headers=theirs).json()["items"]
        assert mine and {a["site"] for a in mine} == {"green-garden"}
        listed = api.get("/api/v1/tokens").json()["items"]
        assert [(t["safety_manager"], t["sites"]) for t in listed] == [(True, ["green-garden"])]
        assert (tmp_path / "data" / "facility.db").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    assert code == 0, log.read_text()[-3000:]
