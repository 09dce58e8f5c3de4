"""`facility tokens create --safety-manager`: the token carries the duty, whatever its role;
without the flag it does not (an admin is no safety manager by rank)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from facility_dispatch.api.tokens import Tokens
from facility_dispatch.cli import main
from facility_dispatch.kernel.clock import SystemClock
from facility_dispatch.kernel.db import make_engine, make_sessions


def test_a_token_made_with_safety_manager_signs_and_one_without_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'facility.db'}"
    monkeypatch.setenv("FACILITY_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(
        main, ["tokens", "create", "--role", "planner", "--name", "wang", "--safety-manager"]
    )
    assert made.exit_code == 0, made.output
    plain = runner.invoke(main, ["tokens", "create", "--role", "admin", "--name", "li"])
    assert plain.exit_code == 0, plain.output
    tokens = Tokens(make_sessions(make_engine(url)))
    now = SystemClock().now()
    wang = tokens.verify(made.stdout.splitlines()[0], now)
    li = tokens.verify(plain.stdout.splitlines()[0], now)
    assert wang is not None and wang.safety_manager is True
    assert li is not None and li.safety_manager is False
    assert "safety manager" in made.stderr
