"""Staff revocations keyed by the Telegram id, so erasing one's data cannot undo a revocation.

Before, `staff_revocations.user_id` cascaded from users.id: erasure deleted the user row, the
revocation went with it, and ADMIN_IDS made the id admin again at the next start. Existing rows
keep their revoker and time and get the Telegram id of their user.

The copy goes through a plain holding table (no constraints, so no name clashes on
PostgreSQL), which works the same on SQLite and PostgreSQL.

Revision ID: 0014_revocations_by_telegram_id
Revises: 0013_inbox
Create Date: 2026-12-02 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0014_revocations_by_telegram_id"
down_revision: str | None = "0013_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLDING = "staff_revocations_copy"


def _revoked_by() -> sa.Column:
    """The revoker: a user row while it exists (erasing the revoker leaves the record)."""
    return sa.Column("revoked_by_user_id", sa.Integer(), nullable=True)


def _revoked_by_key() -> sa.ForeignKeyConstraint:
    """The revoker's key, named as in 0009."""
    return sa.ForeignKeyConstraint(
        ["revoked_by_user_id"],
        ["users.id"],
        name=op.f("fk_staff_revocations_revoked_by_user_id_users"),
        ondelete="SET NULL",
    )


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        HOLDING,
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_by_user_id", sa.Integer(), nullable=True),
    )
    op.execute(
        f"INSERT INTO {HOLDING} (telegram_id, revoked_at, revoked_by_user_id) "
        "SELECT users.telegram_id, staff_revocations.revoked_at, "
        "staff_revocations.revoked_by_user_id "
        "FROM staff_revocations JOIN users ON users.id = staff_revocations.user_id"
    )
    op.drop_table("staff_revocations")
    op.create_table(
        "staff_revocations",
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("revoked_at", db.base.UTCDateTime(timezone=True), nullable=False),
        _revoked_by(),
        _revoked_by_key(),
        sa.PrimaryKeyConstraint("telegram_id", name=op.f("pk_staff_revocations")),
    )
    op.execute(
        "INSERT INTO staff_revocations (telegram_id, revoked_at, revoked_by_user_id) "
        f"SELECT telegram_id, revoked_at, revoked_by_user_id FROM {HOLDING}"
    )
    op.drop_table(HOLDING)


def downgrade() -> None:
    """Revert this revision: revocations of ids with no user row any more cannot be kept."""
    op.create_table(
        HOLDING,
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("revoked_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_by_user_id", sa.Integer(), nullable=True),
    )
    op.execute(
        f"INSERT INTO {HOLDING} (user_id, revoked_at, revoked_by_user_id) "
        "SELECT users.id, staff_revocations.revoked_at, staff_revocations.revoked_by_user_id "
        "FROM staff_revocations JOIN users ON users.telegram_id = staff_revocations.telegram_id"
    )
    op.drop_table("staff_revocations")
    op.create_table(
        "staff_revocations",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("revoked_at", db.base.UTCDateTime(timezone=True), nullable=False),
        _revoked_by(),
        _revoked_by_key(),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_staff_revocations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_staff_revocations")),
    )
    op.execute(
        "INSERT INTO staff_revocations (user_id, revoked_at, revoked_by_user_id) "
        f"SELECT user_id, revoked_at, revoked_by_user_id FROM {HOLDING}"
    )
    op.drop_table(HOLDING)
