"""Real processes for the fault tests: the service as operators run it, a private PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.services import free_port, wait_port

TOKEN = "fault-test-admin-token"


@dataclass
class ServiceProcess:
    """``facility run`` in a process of its own, restartable on the same data and session."""

    directory: Path
    environment: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FACILITY_")}
        env.update(self.environment)
        env.update(FACILITY_HTTP_PORT=str(self.port), FACILITY_ADMIN_TOKEN=TOKEN)
        log = (self.directory / "service.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "facility_dispatch.cli", "run"],
            cwd=self.directory,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        # generous: on two loaded cores (three test workers) a restart with recovery took 30 s
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if self.health()["broker"] == "connected":
                    return
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited:\n{self.log()[-3000:]}")
            time.sleep(0.2)
        raise TimeoutError(f"the service did not come up:\n{self.log()[-3000:]}")

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )

    def health(self) -> dict[str, Any]:
        """``/api/v1/health``, on a client closed at once (a client left to the garbage
        collector leaves its socket to it, and pytest's hook for that once failed a test)."""
        with self.api() as api:
            answer: dict[str, Any] = api.get("/api/v1/health").json()
            return answer

    def kill(self) -> None:
        """kill -9: no flush, no goodbye."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> int:
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(30)
        self.process = None
        return code

    def children(self) -> list[int]:
        """The process ids of the service's own child processes (Linux /proc)."""
        assert self.process is not None
        pid = self.process.pid
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        path = self.directory / "service.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stored(self, site: str, assets: str = "pump-") -> tuple[int, int]:
        """(rows, distinct (asset, ts)) in the telemetry store, for a site's assets whose
        names start with ``assets`` (the test stream's)."""
        path = self.directory / "data" / "telemetry.db"
        if not path.exists():
            return 0, 0
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
            row = db.execute(
                "SELECT count(*), count(DISTINCT r.series || ':' || r.ts) FROM readings r "
                "JOIN series s ON s.id = r.series WHERE s.site = ? AND s.asset LIKE ?",
                (site, f"{assets}%"),
            ).fetchone()
            return int(row[0]), int(row[1])


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of this test's own, so that stopping it stops nobody else."""

    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _bin(self, name: str) -> str:
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        return str(versions[-1] / name) if versions else name

    def _as_postgres(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._as_postgres(
            self._bin("initdb"), "-D", str(self.directory / "db"), "-A", "trust", "-U", "postgres"
        )

    def start(self) -> None:
        self._as_postgres(
            self._bin("pg_ctl"),
            "-D",
            str(self.directory / "db"),
            "-l",
            str(self.directory / "pg.log"),
            "-o",
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1",
            "-w",
            "start",
        )
        wait_port(self.port)

    def stop(self) -> None:
        self._as_postgres(
            self._bin("pg_ctl"), "-D", str(self.directory / "db"), "-m", "fast", "-w", "stop"
        )


@contextlib.contextmanager
def private_postgres(_hint: Path | None = None) -> Iterator[PrivatePostgres]:
    """In a directory of its own under /tmp: the postgres user cannot enter pytest's
    per-user temporary directories (mode 700, owned by whoever runs the tests)."""
    directory = Path(tempfile.mkdtemp(prefix="facility-pg-"))
    directory.chmod(0o755)
    server = PrivatePostgres(directory)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)
