"""Dashboard sessions (api/logins.py) on SQLite and PostgreSQL, with time moved by hand: what
ends a session, and that the database holds only hashes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from facility_dispatch.api.auth import Principal, Role
from facility_dispatch.api.logins import Logins
from facility_dispatch.api.tokens import Tokens
from facility_dispatch.kernel.db import Sessions, make_engine, make_sessions
from facility_dispatch.schema import migrate

START = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
IDLE = timedelta(hours=12)
MAX_AGE = timedelta(days=7)


@pytest.fixture
def sessions(database_url: str) -> Iterator[Sessions]:
    engine = make_engine(database_url)
    migrate(engine)
    yield make_sessions(engine)
    engine.dispose()


def logins_of(sessions: Sessions, admin_token: str | None = "the-admin-token") -> Logins:
    return Logins(sessions, Tokens(sessions), admin_token, idle=IDLE, max_age=MAX_AGE)


def viewer(tokens: Tokens, expires_at: datetime | None = None) -> tuple[str, Principal]:
    secret, info = tokens.create("desk", Role.VIEWER, "admin", START, expires_at)
    principal = tokens.verify(secret, START)
    assert principal is not None and principal.token_id == info.id
    return secret, principal


def test_a_session_lives_while_used_and_never_past_its_maximum(sessions: Sessions) -> None:
    logins = logins_of(sessions)
    _, principal = viewer(Tokens(sessions))
    session_id = logins.open(principal, START)
    assert len(session_id) >= 43  # 32 random bytes, url-safe
    assert logins.verify(session_id, START) == principal

    now = START
    for _ in range(15):  # used every 11 hours: still in, day after day
        now += timedelta(hours=11)
        assert logins.verify(session_id, now) == principal, now
    now = START + MAX_AGE - timedelta(minutes=1)
    assert logins.verify(session_id, now) == principal
    assert logins.verify(session_id, START + MAX_AGE) is None  # however busy, a week at most

    idle = logins.open(principal, START)
    assert logins.verify(idle, START + IDLE - timedelta(minutes=1)) == principal
    assert logins.verify(idle, START + IDLE - timedelta(minutes=1) + IDLE) is None


def test_revoking_or_expiring_the_token_ends_its_sessions(sessions: Sessions) -> None:
    tokens = Tokens(sessions)
    logins = logins_of(sessions)
    _, principal = viewer(tokens)
    first, second = logins.open(principal, START), logins.open(principal, START)
    _, other = viewer(tokens)
    theirs = logins.open(other, START)
    tokens.revoke(principal.token_id or 0, START + timedelta(minutes=5))
    later = START + timedelta(minutes=6)
    assert logins.verify(first, later) is None and logins.verify(second, later) is None
    assert logins.verify(theirs, later) == other  # another token's session stays

    _, expiring = viewer(tokens, expires_at=START + timedelta(hours=1))
    session_id = logins.open(expiring, START)
    assert logins.verify(session_id, START + timedelta(minutes=59)) == expiring
    assert logins.verify(session_id, START + timedelta(hours=1)) is None


def test_logout_deletes_the_session_and_only_hashes_are_stored(sessions: Sessions) -> None:
    logins = logins_of(sessions)
    secret, principal = viewer(Tokens(sessions))
    session_id = logins.open(principal, START)
    with sessions() as session:
        rows = session.execute(text("SELECT digest, token_id FROM dashboard_sessions")).all()
    assert [tuple(r) for r in rows] == [
        (hashlib.sha256(session_id.encode()).hexdigest(), principal.token_id)
    ]
    assert all(session_id not in str(r) and secret not in str(r) for r in rows)
    assert logins.close(session_id) is True
    assert logins.verify(session_id, START) is None
    assert logins.close(session_id) is False  # twice: nothing left to end
    for forged in ("", "x", session_id + "x", "a" * 10_000):
        assert logins.verify(forged, START) is None


def test_the_settings_admin_token_logs_in_until_it_changes(sessions: Sessions) -> None:
    admin = Principal("admin", Role.ADMIN)
    session_id = logins_of(sessions, "first-admin-token").open(admin, START)
    assert logins_of(sessions, "first-admin-token").verify(session_id, START) == admin
    assert logins_of(sessions, "second-admin-token").verify(session_id, START) is None
    assert logins_of(sessions, None).verify(session_id, START) is None
    with pytest.raises(ValueError, match="admin token"):
        logins_of(sessions, None).open(admin, START)


def test_ended_sessions_are_swept_when_others_log_in(sessions: Sessions) -> None:
    logins = logins_of(sessions)
    _, principal = viewer(Tokens(sessions))
    for _ in range(3):
        logins.open(principal, START)
    live = logins.open(principal, START + IDLE + timedelta(hours=1))
    with sessions() as session:
        count = session.scalar(text("SELECT count(*) FROM dashboard_sessions"))
    assert count == 1
    assert logins.verify(live, START + IDLE + timedelta(hours=2)) == principal


def test_a_token_records_its_use_at_most_once_a_minute(sessions: Sessions) -> None:
    tokens = Tokens(sessions)
    secret, _ = viewer(tokens)  # verified at START

    def last_used() -> datetime | None:
        return tokens.list()[0].last_used_at

    assert last_used() == START
    assert tokens.verify(secret, START + timedelta(seconds=30)) is not None
    assert last_used() == START
    assert tokens.verify(secret, START + timedelta(minutes=2)) is not None
    assert last_used() == START + timedelta(minutes=2)
    assert tokens.verify(secret + "x", START + timedelta(minutes=5)) is None
    assert last_used() == START + timedelta(minutes=2)
