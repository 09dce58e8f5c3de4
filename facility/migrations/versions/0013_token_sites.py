"""api tokens limited to sites (issue 19, estates)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('sites', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_column('sites')
