"""Citizen Report Cards, the programme's funded initiatives, and the public site's snapshot.

Schema: ``report_card_rounds`` (services, municipalities, dates, the question set, and the salt
of its respondent codes, wiped at close); ``report_card_responses`` (one per person per round,
holding only the municipality, age band and role, and a keyed respondent code while the round
is open); ``report_card_answers`` (one integer per service and question);
``report_card_publications`` (a municipality's card published by staff); ``initiatives``
(sub-grants entered by staff); ``public_snapshots`` (the figures the public site shows, built on
a schedule).

Revision ID: 0022_report_cards
Revises: 0021_stats_durations
Create Date: 2026-12-02 19:24:20.335616
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0022_report_cards"
down_revision: str | None = "0021_stats_durations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "public_snapshots",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("built_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_public_snapshots")),
    )
    op.create_table(
        "initiatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_round", sa.SmallInteger(), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("grant_band", sa.String(length=16), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_initiatives_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["authorities.id"],
            name=op.f("fk_initiatives_municipality_id_authorities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiatives")),
    )
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.create_index("ix_initiatives_municipality", ["municipality_id"], unique=False)

    op.create_table(
        "report_card_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title_sq", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=True),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("municipality_ids", sa.JSON(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=True),
        sa.Column("launched_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("invitation_broadcast_id", sa.Integer(), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_report_card_rounds_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_report_card_rounds_invitation_broadcast_id_broadcasts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_card_rounds")),
    )
    op.create_table(
        "report_card_publications",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("published_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by_user_id", sa.Integer(), nullable=True),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_report_card_publications_broadcast_id_broadcasts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["authorities.id"],
            name=op.f("fk_report_card_publications_municipality_id_authorities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_user_id"],
            ["users.id"],
            name=op.f("fk_report_card_publications_published_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["report_card_rounds.id"],
            name=op.f("fk_report_card_publications_round_id_report_card_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "round_id", "municipality_id", name=op.f("pk_report_card_publications")
        ),
    )
    op.create_table(
        "report_card_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sa.String(length=64), nullable=True),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("suggestion", sa.Text(), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["authorities.id"],
            name=op.f("fk_report_card_responses_municipality_id_authorities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["report_card_rounds.id"],
            name=op.f("fk_report_card_responses_round_id_report_card_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_card_responses")),
        sa.UniqueConstraint("round_id", "respondent", name="uq_report_card_responses_respondent"),
    )
    with op.batch_alter_table("report_card_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_card_responses_round_municipality",
            ["round_id", "municipality_id"],
            unique=False,
        )

    op.create_table(
        "report_card_answers",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=24), nullable=False),
        sa.Column("question", sa.String(length=32), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["report_card_responses.id"],
            name=op.f("fk_report_card_answers_response_id_report_card_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "response_id", "service", "question", name=op.f("pk_report_card_answers")
        ),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("report_card_answers")
    with op.batch_alter_table("report_card_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_report_card_responses_round_municipality")

    op.drop_table("report_card_responses")
    op.drop_table("report_card_publications")
    op.drop_table("report_card_rounds")
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.drop_index("ix_initiatives_municipality")

    op.drop_table("initiatives")
    op.drop_table("public_snapshots")
