"""console: a silence may mute one fault only (issue 14)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 11:00:00

A dispatcher silences a known nuisance (a tampered camera waiting for a visit) without deafening
the asset to its other faults: ``silences.fault``, empty for every fault as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("silences") as batch:
        batch.add_column(sa.Column("fault", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("silences") as batch:
        batch.drop_column("fault")
