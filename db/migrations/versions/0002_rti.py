"""Right to information: authorities, requests, reminders, extra closures, bot state.

Revision ID: 0002_rti
Revises: 0001_foundation
Create Date: 2026-11-23 20:38:15.807092
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0002_rti"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "authorities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("qark", sa.String(length=64), nullable=True),
        sa.Column("seat", sa.String(length=100), nullable=True),
        sa.Column("in_programme", sa.Boolean(), nullable=False),
        sa.Column("units", sa.Text(), nullable=True),
        sa.Column("coordinator_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("postal_address", sa.String(length=300), nullable=True),
        sa.Column("transparency_url", sa.String(length=300), nullable=True),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorities")),
        sa.UniqueConstraint("kind", "name", name=op.f("uq_authorities_kind")),
    )
    op.create_table(
        "bot_state",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_bot_state")),
    )
    op.create_table(
        "closed_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_closed_days")),
    )
    op.create_table(
        "rti_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("information", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("reply_channel", sa.String(length=8), nullable=False),
        sa.Column("reply_address", sa.String(length=300), nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=True),
        sa.Column("protocol_number", sa.String(length=64), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("transferred", sa.Boolean(), nullable=False),
        sa.Column("outcome_on", sa.Date(), nullable=True),
        sa.Column("complaint_due_on", sa.Date(), nullable=True),
        sa.Column("complaint_filed_on", sa.Date(), nullable=True),
        sa.Column("commissioner_outcome", sa.String(length=20), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authorities.id"],
            name=op.f("fk_rti_requests_authority_id_authorities"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_rti_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rti_requests")),
    )
    with op.batch_alter_table("rti_requests", schema=None) as batch_op:
        batch_op.create_index("ix_rti_requests_user_status", ["user_id", "status"], unique=False)

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("due_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rti_requests.id"],
            name=op.f("fk_reminders_request_id_rti_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index("ix_reminders_due", ["sent_at", "due_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_due")

    op.drop_table("reminders")
    with op.batch_alter_table("rti_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_rti_requests_user_status")

    op.drop_table("rti_requests")
    op.drop_table("closed_days")
    op.drop_table("bot_state")
    op.drop_table("authorities")
