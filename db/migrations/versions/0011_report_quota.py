"""Reports per person per day under a keyed hash (flood control without linking a case).

Revision ID: 0011_report_quota
Revises: 0010_erasure_markers
Create Date: 2026-12-02 03:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_report_quota"
down_revision: str | None = "0010_erasure_markers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "report_quota",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_report_quota")),
    )
    with op.batch_alter_table("report_quota", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_quota_day"), ["day"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("report_quota", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_quota_day"))
    op.drop_table("report_quota")
