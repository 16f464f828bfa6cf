"""The outbox also carries direct messages (staff cards, relays, notices, reminders, alerts).

Revision ID: 0012_direct_outbox
Revises: 0011_report_quota
Create Date: 2026-12-02 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0012_direct_outbox"
down_revision: str | None = "0011_report_quota"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=24), server_default="broadcast", nullable=False)
        )
        batch_op.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("not_before", db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=64), nullable=True))
        batch_op.alter_column("broadcast_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint(batch_op.f("uq_outbox_dedupe_key"), ["dedupe_key"])
        batch_op.create_index("ix_outbox_status_not_before", ["status", "not_before"], unique=False)


def downgrade() -> None:
    """Revert this revision (direct rows go: they have no broadcast)."""
    op.execute("DELETE FROM outbox WHERE broadcast_id IS NULL OR user_id IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_not_before")
        batch_op.drop_constraint(batch_op.f("uq_outbox_dedupe_key"), type_="unique")
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("broadcast_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("dedupe_key")
        batch_op.drop_column("not_before")
        batch_op.drop_column("payload")
        batch_op.drop_column("chat_id")
        batch_op.drop_column("kind")
