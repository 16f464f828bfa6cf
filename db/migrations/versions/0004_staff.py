"""Staff: roles, response templates, case assignment, redaction, staff events.

Revision ID: 0004_staff
Revises: 0003_cases
Create Date: 2026-11-23 21:11:24.702130
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0004_staff"
down_revision: str | None = "0003_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "response_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body_sq", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_templates")),
    )
    op.create_table(
        "staff_members",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("corruption", sa.Boolean(), nullable=False),
        sa.Column("municipality_ids", sa.JSON(), nullable=True),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("granted_by_user_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["granted_by_user_id"],
            ["users.id"],
            name=op.f("fk_staff_members_granted_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_staff_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_staff_members")),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_case_events_staff_user_id_users"),
            "users",
            ["staff_user_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reporter_display", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("assignee_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("original_description", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("last_staff_action_at", db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_assignee_user_id_users"),
            "users",
            ["assignee_user_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cases_assignee_user_id_users"), type_="foreignkey")
        batch_op.drop_column("last_staff_action_at")
        batch_op.drop_column("original_description")
        batch_op.drop_column("assignee_user_id")
        batch_op.drop_column("reporter_display")

    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_case_events_staff_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("staff_user_id")

    op.drop_table("staff_members")
    op.drop_table("response_templates")
