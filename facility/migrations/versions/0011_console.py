"""console: resolution cause and action, absences' moves (issue 14)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 11:00:00

Reserved in the chain so that work on several issues at once keeps one line of revisions; it
changes nothing until its tables land.
"""

from collections.abc import Sequence

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
