"""notifications: outbox, watches, values; technicians' contacts and role (issue 15)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import facility_dispatch.kernel.db

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = facility_dispatch.kernel.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('notification_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('at', _TIME, nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=True),
    sa.Column('site', sa.String(length=64), nullable=True),
    sa.Column('receiver', sa.String(length=200), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('url_redacted', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', _TIME, nullable=False),
    sa.Column('sent_at', _TIME, nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_index(
        'ix_notification_outbox_due', 'notification_outbox', ['status', 'next_attempt_at']
    )
    op.create_index(
        op.f('ix_notification_outbox_work_order_id'), 'notification_outbox', ['work_order_id']
    )
    op.create_table('notification_watches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('route', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('started_at', _TIME, nullable=False),
    sa.Column('next_round', sa.Integer(), nullable=False),
    sa.Column('done_at', _TIME, nullable=True),
    sa.Column('done_because', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('work_order_id', 'route', name='uq_notification_watches_order_route')
    )
    op.create_index('ix_notification_watches_open', 'notification_watches', ['done_at'])
    op.create_table('notify_values',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.add_column(
        'technicians', sa.Column('contacts', sa.JSON(), nullable=False, server_default='[]')
    )
    op.add_column(
        'technicians',
        sa.Column('role', sa.String(length=16), nullable=False, server_default='technician'),
    )


def downgrade() -> None:
    with op.batch_alter_table('technicians') as batch:
        batch.drop_column('role')
        batch.drop_column('contacts')
    op.drop_table('notify_values')
    op.drop_index('ix_notification_watches_open', table_name='notification_watches')
    op.drop_table('notification_watches')
    op.drop_index(op.f('ix_notification_outbox_work_order_id'), table_name='notification_outbox')
    op.drop_index('ix_notification_outbox_due', table_name='notification_outbox')
    op.drop_table('notification_outbox')
