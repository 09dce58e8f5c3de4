"""records: the asset register, statutory items and their reminders (issue 19)

Revision ID: 0016
Revises: 0012
Create Date: 2026-11-29 14:30:00

The register data of an asset (maker, model, install date, registration code, floor; the
building was there), the statutory items with their due dates (a lift's periodic inspection, a
site's rescue drill, a certificate's expiry), and the reminders sent for them, one per item,
due date and stage.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import facility_dispatch.kernel.db

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assets") as batch:
        batch.add_column(sa.Column("maker", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("model", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("install_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("registration_code", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("floor", sa.String(length=20), nullable=True))
    op.create_table(
        "statutory_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("asset", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("last_done_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "updated_at", facility_dispatch.kernel.db.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_statutory_items", "statutory_items", ["site", "asset", "item"], unique=True
    )
    op.create_table(
        "statutory_reminders",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("at", facility_dispatch.kernel.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "due_on", "stage"),
    )


def downgrade() -> None:
    op.drop_table("statutory_reminders")
    op.drop_index("uq_statutory_items", table_name="statutory_items")
    op.drop_table("statutory_items")
    with op.batch_alter_table("assets") as batch:
        for column in ("floor", "registration_code", "install_date", "model", "maker"):
            batch.drop_column(column)
