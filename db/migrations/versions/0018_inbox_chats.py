"""Several processes on one PostgreSQL: which worker process handles each chat's updates.

Schema: ``inbox_chats`` has one row per chat that ever had an update stored in shared mode
(``PROCESS_ROLE`` other than ``all``): the worker process holding it (``worker``, the number of
that process's advisory lock; null: nobody yet) and since when. ``inbox.chat_key`` gets an index,
so a chat's undone updates are found without a scan. Nothing is written in single-process mode.

Revision ID: 0018_inbox_chats
Revises: 0017_complaint_ground
Create Date: 2026-12-02 16:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0018_inbox_chats"
down_revision: str | None = "0017_complaint_ground"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "inbox_chats",
        sa.Column("chat_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("worker", sa.BigInteger(), nullable=True),
        sa.Column("taken_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("chat_key", name=op.f("pk_inbox_chats")),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_chat_key"), ["chat_key"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_chat_key"))
    op.drop_table("inbox_chats")
