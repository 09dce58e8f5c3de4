"""rosters by post, handover, patrol rounds (issue 20)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 11:00:00

Reserved in the chain so that work on several issues at once keeps one line of revisions; it
changes nothing until its tables land.
"""

from collections.abc import Sequence

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
