"""Real services for tests: a private Mosquitto per test session, PostgreSQL databases."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
LIMITS = ROOT / "deploy" / "mosquitto" / "conf.d" / "limits.conf"
PG_ADMIN_URL = os.environ.get(
    "FACILITY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class Broker:
    """A Mosquitto process of our own, with the queue limits we ship (deploy/mosquitto)."""

    directory: Path
    port: int = field(default_factory=free_port)
    extra: str = ""
    secured: tuple[Path, Path] | None = None  # (password file, ACL file): no anonymous access
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        path = self.directory / "mosquitto.log"
        return path.read_text() if path.exists() else ""

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        conf = self.directory / "mosquitto.conf"
        if self.secured:
            access = (
                f"allow_anonymous false\npassword_file {self.secured[0]}\n"
                f"acl_file {self.secured[1]}\n"
            )
        else:
            access = "allow_anonymous true\n"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"user {getpass.getuser()}\n"  # as root, mosquitto would drop to 'mosquitto'
            + access
            + f"persistence_location {self.directory}/\n"
            f"log_dest file {self.directory}/mosquitto.log\n"
            "log_type error\nlog_type warning\nlog_type notice\n" + LIMITS.read_text() + self.extra
        )
        self.process = subprocess.Popen([binary, "-c", str(conf)])
        wait_port(self.port)

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        self.process.wait(10)
        self.process = None

    def restart(self, pause: float = 0.0) -> None:
        self.stop()
        time.sleep(pause)
        self.start()


@contextmanager
def running_broker(
    directory: Path, extra: str = "", secured: tuple[Path, Path] | None = None
) -> Iterator[Broker]:
    directory.mkdir(parents=True, exist_ok=True)
    broker = Broker(directory, extra=extra, secured=secured)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"facility_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
