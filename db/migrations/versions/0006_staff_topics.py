"""Staff group forum topics: one thread per municipality.

Revision ID: 0006_staff_topics
Revises: 0005_campaigns
Create Date: 2026-11-23 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_staff_topics"
down_revision: str | None = "0005_campaigns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_thread_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.drop_column("staff_thread_id")
