"""The schema of every stage: Alembic migrations, from an empty database or an older one.

It lives in the root because it is the one place that knows every stage's tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

import facility_dispatch.tables  # noqa: F401  (every table on Base.metadata)

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (Alembic), from an empty database or an older one."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)
