"""The fault tests report, for each fault, readings sent, stored, lost and doubled.

Each test's rows go to ``artifacts/fault-rows.jsonl`` as it ends, so that the table is whole
when the tests run in several processes (pytest-xdist): the process that prints the summary
reads them back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.api.conftest import client, site  # noqa: F401  (the API fixtures, reused)

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ROWS = ARTIFACTS / "fault-rows.jsonl"


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller, or a run without xdist
        ROWS.unlink(missing_ok=True)


@pytest.fixture
def report() -> Iterator[list[dict[str, object]]]:
    rows: list[dict[str, object]] = []
    yield rows
    if rows:
        ARTIFACTS.mkdir(exist_ok=True)
        with ROWS.open("ab") as out:  # one write per test: whole lines, whichever process
            out.write(b"".join(orjson.dumps(row) + b"\n" for row in rows))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if hasattr(terminalreporter.config, "workerinput") or not ROWS.exists():
        return
    rows = [orjson.loads(line) for line in ROWS.read_bytes().splitlines() if line.strip()]
    if not rows:
        return
    (ARTIFACTS / "fault-report.json").write_bytes(orjson.dumps(rows, option=orjson.OPT_INDENT_2))
    terminalreporter.section("fault report")
    terminalreporter.write_line(
        f"{'fault':<52} {'sent':>7} {'stored':>7} {'lost':>5} {'doubled':>7}"
    )
    for row in rows:
        terminalreporter.write_line(
            f"{row['fault']!s:<52} {row['sent']!s:>7} {row['stored']!s:>7} "
            f"{row['lost']!s:>5} {row['doubled']!s:>7}"
        )
