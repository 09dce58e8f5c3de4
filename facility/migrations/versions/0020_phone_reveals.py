"""phone_reveals: each time a resident's phone was shown in full (who, role, when), kept as
long as its request; the event log that recorded it alone is pruned after 30 days

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import facility_dispatch.kernel.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = facility_dispatch.kernel.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "phone_reveals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["resident_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("phone_reveals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phone_reveals_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("phone_reveals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_reveals_request_id"))
    op.drop_table("phone_reveals")
