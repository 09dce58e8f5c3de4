"""lift plans by level, out-of-service slots (issue 19)

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-29 14:00:00

A plan may stack maintenance levels (``maintenance_plans.levels``: TSG T5002's half-monthly to
yearly); an occurrence of works that stop its asset keeps its slot (``ends_at``) and its group
(``site``, ``building``) so that no two assets of one building or booster station are planned
out of service at once, and the level it got.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import facility_dispatch.kernel.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("maintenance_plans") as batch:
        batch.add_column(sa.Column("levels", sa.String(length=32), nullable=True))
    with op.batch_alter_table("plan_occurrences") as batch:
        batch.add_column(
            sa.Column(
                "ends_at", facility_dispatch.kernel.db.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch.add_column(sa.Column("site", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("building", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("level", sa.String(length=16), nullable=True))
    op.create_index("ix_plan_occurrences_slots", "plan_occurrences", ["site", "building", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_plan_occurrences_slots", table_name="plan_occurrences")
    with op.batch_alter_table("plan_occurrences") as batch:
        batch.drop_column("level")
        batch.drop_column("building")
        batch.drop_column("site")
        batch.drop_column("ends_at")
    with op.batch_alter_table("maintenance_plans") as batch:
        batch.drop_column("levels")
