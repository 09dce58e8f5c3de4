"""Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import facility_dispatch.tables  # noqa: F401
from facility_dispatch.kernel.db import Base, make_engine
from facility_dispatch.schema import migrate


def test_upgrade_from_empty_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)  # a second run is a no-op
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_the_old_scheduler_job_table_is_dropped(database_url: str) -> None:
    """A database of the APScheduler days keeps no job that names code by its import path."""
    from sqlalchemy import inspect, text

    from facility_dispatch.kernel.db import make_engine
    from facility_dispatch.schema import migrate

    engine = make_engine(database_url)
    migrate(engine, "0006")
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE scheduler_jobs (id VARCHAR(191) PRIMARY KEY, job_state BYTEA)")
            if engine.dialect.name == "postgresql"
            else text("CREATE TABLE scheduler_jobs (id VARCHAR(191) PRIMARY KEY, job_state BLOB)")
        )
    migrate(engine)
    assert not inspect(engine).has_table("scheduler_jobs")
    engine.dispose()
