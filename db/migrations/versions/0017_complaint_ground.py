"""Complaints that can be downloaded again: what the complaint is about and its letter's date.

Schema: ``rti_requests`` gets ``complaint_ground`` ("refused", "partial" or "no_answer"), which the
status held until the complaint was filed and lost then, and ``complaint_written_on``, the date of
the latest complaint letter drafted (the one filed), so the complaint can be regenerated from
"My requests" with its own text and date at any time.

Data: requests waiting for a complaint take their status as the ground; filed or closed ones
without an outcome date were unanswered ("no_answer"); the others (refused or partial, which
cannot be told apart any more) keep no ground, and the bot offers no complaint copy for them.
Their letter date is left empty: the bot then uses the day the complaint was filed.

Revision ID: 0017_complaint_ground
Revises: 0016_directory_contacts
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_complaint_ground"
down_revision: str | None = "0016_directory_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMPLAINABLE = ("refused", "partial", "no_answer")
AFTER_FILING = ("complaint_filed", "closed")

requests = sa.table(
    "rti_requests",
    sa.column("status", sa.String),
    sa.column("outcome_on", sa.Date),
    sa.column("complaint_filed_on", sa.Date),
    sa.column("complaint_ground", sa.String),
)


def upgrade() -> None:
    """The two columns, then the ground of the complaints already drafted."""
    with op.batch_alter_table("rti_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("complaint_ground", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("complaint_written_on", sa.Date(), nullable=True))
    connection = op.get_bind()
    connection.execute(
        sa.update(requests)
        .where(requests.c.status.in_(COMPLAINABLE))
        .values(complaint_ground=requests.c.status)
    )
    connection.execute(
        sa.update(requests)
        .where(
            requests.c.status.in_(AFTER_FILING),
            requests.c.complaint_filed_on.is_not(None),
            requests.c.outcome_on.is_(None),
        )
        .values(complaint_ground="no_answer")
    )


def downgrade() -> None:
    """The columns go (the status still says what a complaint not yet filed is about)."""
    with op.batch_alter_table("rti_requests", schema=None) as batch_op:
        batch_op.drop_column("complaint_written_on")
        batch_op.drop_column("complaint_ground")
