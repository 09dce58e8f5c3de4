"""roster_posts.wanted_skills: skills a post wants beyond the one it requires, which rank a
substitute holding them higher (issue 20)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "roster_posts",
        sa.Column("wanted_skills", sa.JSON(), nullable=False, server_default="[]"),
    )


def downgrade() -> None:
    op.drop_column("roster_posts", "wanted_skills")
