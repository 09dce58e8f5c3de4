"""drop APScheduler's job table: calendar plans run from the leader's sweep

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 08:10:00

The table held one job per calendar plan, each naming its function by import path
(``maintenance.planning:scheduled_run``) and its planner by ``service-<id(planner)>``: jobs a
new process could not run, and references that a move of the code would break. Plans are now
driven by the pure next-run function from the records themselves, so the table goes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("scheduler_jobs"):
        op.drop_table("scheduler_jobs")


def downgrade() -> None:
    """Nothing to restore: a downgraded service recreates the table (APScheduler does) and
    schedules its plans again on start."""
