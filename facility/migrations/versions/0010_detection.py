"""detection: site nominal parameters (issue 17)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 11:00:00

Sites carry the supply their rules judge against (SPEC section 2). Learned baselines are not
stored: they are rebuilt from the stored readings after a restart, as windows are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('nominal_voltage_v', sa.Float(), server_default='220', nullable=False)
        )
        batch_op.add_column(
            sa.Column('nominal_frequency_hz', sa.Float(), server_default='50', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('nominal_frequency_hz')
        batch_op.drop_column('nominal_voltage_v')
