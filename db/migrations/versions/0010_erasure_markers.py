"""Erasure and retention markers: who removed a case's personal data, anonymised requests.

Revision ID: 0010_erasure_markers
Revises: 0009_staff_revocations
Create Date: 2026-12-02 03:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0010_erasure_markers"
down_revision: str | None = "0009_staff_revocations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_by", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("erased_at", db.base.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_by", sa.String(length=16), nullable=True))
    with op.batch_alter_table("rti_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("anonymised_at", db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Revert this revision (anonymised requests have no owner any more: they go)."""
    op.execute("DELETE FROM rti_requests WHERE user_id IS NULL")
    with op.batch_alter_table("rti_requests", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("anonymised_at")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_column("erased_by")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("erased_by")
