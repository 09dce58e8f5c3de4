"""residents: requests, photos, feedback (issue 16)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import facility_dispatch.kernel.db

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = facility_dispatch.kernel.db.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('resident_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('building', sa.String(length=40), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('work_order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', _TIME, nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', _TIME, nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('feedback_at', _TIME, nullable=True),
    sa.Column('followed_up_at', _TIME, nullable=True),
    sa.Column('follow_up_note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('resident_requests', schema=None) as batch_op:
        batch_op.create_index('ix_resident_requests_decision', ['decision', 'created_at'], unique=False)
        batch_op.create_index('ix_resident_requests_site', ['site', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_requests_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('complaint_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('supervisor', sa.String(length=200), nullable=True),
    sa.Column('opened_at', _TIME, nullable=False),
    sa.Column('closed_at', _TIME, nullable=True),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['resident_requests.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )
    with op.batch_alter_table('complaint_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_reviews_site'), ['site'], unique=False)

    op.create_table('rate_buckets',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('at', _TIME, nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('rate_buckets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_buckets_at'), ['at'], unique=False)

    # notices name the lift, and planned works are shown notice_before ahead
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asset', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('publish_at', _TIME, nullable=True))
        batch_op.add_column(sa.Column('published_at', _TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_column('published_at')
        batch_op.drop_column('publish_at')
        batch_op.drop_column('asset')
    with op.batch_alter_table('rate_buckets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_buckets_at'))
    op.drop_table('rate_buckets')
    with op.batch_alter_table('complaint_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_reviews_site'))
    op.drop_table('complaint_reviews')
    with op.batch_alter_table('resident_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_requests_work_order_id'))
        batch_op.drop_index('ix_resident_requests_site')
        batch_op.drop_index('ix_resident_requests_decision')
    op.drop_table('resident_requests')
