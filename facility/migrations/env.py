"""Alembic environment: the engine comes from the caller (``facility_dispatch.schema.migrate``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import facility_dispatch.tables  # noqa: F401  (registers every table on Base.metadata)
from facility_dispatch.kernel.db import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no engine given and no sqlalchemy.url set")
    engine = create_engine(url)


with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
