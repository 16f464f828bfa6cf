"""Staff revocations: kept after a grant is removed, so ADMIN_IDS cannot restore a revoked admin.

Revision ID: 0009_staff_revocations
Revises: 0008_code_attempts
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0009_staff_revocations"
down_revision: str | None = "0008_code_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "staff_revocations",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("revoked_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["revoked_by_user_id"],
            ["users.id"],
            name=op.f("fk_staff_revocations_revoked_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_staff_revocations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_staff_revocations")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("staff_revocations")
