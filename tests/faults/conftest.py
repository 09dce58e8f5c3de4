"""The fault tests report, for each fault, readings sent, stored, lost and doubled."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.api.conftest import client, site  # noqa: F401  (the API fixtures, reused)

REPORT: list[dict[str, object]] = []
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def report() -> Iterator[list[dict[str, object]]]:
    yield REPORT


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORT:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fault-report.json").write_bytes(orjson.dumps(REPORT, option=orjson.OPT_INDENT_2))
    terminalreporter.section("fault report")
    terminalreporter.write_line(
        f"{'fault':<52} {'sent':>7} {'stored':>7} {'lost':>5} {'doubled':>7}"
    )
    for row in REPORT:
        terminalreporter.write_line(
            f"{row['fault']!s:<52} {row['sent']!s:>7} {row['stored']!s:>7} "
            f"{row['lost']!s:>5} {row['doubled']!s:>7}"
        )
