"""Statistics and exports over a million cases: each case keeps its first staff action and first
resolution, and the export pages through cases by creation time.

Schema: ``cases`` gets ``first_staff_action_at`` (the earliest timeline entry by a staff member)
and ``first_resolved_at`` (the earliest "resolved" status entry), so /stats takes its two medians
from one scan of ``cases`` instead of grouping the whole timeline. Triggers on ``case_events``
keep them in the same transaction as every timeline change: an insert moves them earlier when it
qualifies; an update of an entry's case, time, kind, status or staff member, or a deletion,
recomputes them for the cases concerned (a staff member's deletion sets staff_user_id to NULL,
and such an entry stops counting, as before). Indexes: ``ix_cases_created`` (created_at, id) for
the export's keyset pages and periods, on PostgreSQL also carrying every column /stats reads
(INCLUDE) so its scans are index-only, ``ix_case_attachments_case`` for the per-case file counts.

Data: both columns are filled from the existing timeline, 20,000 cases per statement (a
million cases take about a minute on a busy 2-core machine).

SQLite drops a table's triggers when Alembic's batch mode recreates it: a later migration that
recreates ``case_events`` must create them again (tests/test_stats_naive.py would fail).

Revision ID: 0019_stats_scale
Revises: 0018_inbox_chats
Create Date: 2026-12-02 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0019_stats_scale"
down_revision: str | None = "0018_inbox_chats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATS_COLUMNS = [
    "kind",
    "status",
    "municipality_id",
    "category",
    "first_staff_action_at",
    "first_resolved_at",
]
"""What /stats reads of a case, carried in ix_cases_created on PostgreSQL (index-only scans of a
narrow index instead of the wide table)."""
STAFF = "e.staff_user_id IS NOT NULL"
RESOLVED = "e.kind = 'status' AND e.status = 'resolved'"
RECOMPUTE = f"""
    UPDATE cases SET
        first_staff_action_at =
            (SELECT min(e.at) FROM case_events e WHERE e.case_id = cases.id AND {STAFF}),
        first_resolved_at =
            (SELECT min(e.at) FROM case_events e WHERE e.case_id = cases.id AND {RESOLVED})
    WHERE id IN (OLD.case_id, NEW.case_id)
"""
"""Both columns from scratch for the cases an updated entry left and joined."""
NEW_STAFF = "NEW.staff_user_id IS NOT NULL"
NEW_RESOLVED = "NEW.kind = 'status' AND NEW.status = 'resolved'"
ADVANCE = f"""
    UPDATE cases SET
        first_staff_action_at = CASE
            WHEN {NEW_STAFF} AND (first_staff_action_at IS NULL OR NEW.at < first_staff_action_at)
            THEN NEW.at ELSE first_staff_action_at END,
        first_resolved_at = CASE
            WHEN {NEW_RESOLVED} AND (first_resolved_at IS NULL OR NEW.at < first_resolved_at)
            THEN NEW.at ELSE first_resolved_at END
    WHERE id = NEW.case_id
"""
"""A new qualifying entry moves either column earlier when it is earlier."""
QUALIFIES = f"({NEW_STAFF}) OR ({NEW_RESOLVED})"
COLUMNS = ("case_id", "at", "kind", "status", "staff_user_id")
FILL = f"""
    UPDATE cases SET first_staff_action_at = firsts.acted, first_resolved_at = firsts.resolved
    FROM (
        SELECT e.case_id,
               min(CASE WHEN {STAFF} THEN e.at END) AS acted,
               min(CASE WHEN {RESOLVED} THEN e.at END) AS resolved
        FROM case_events e
        WHERE (({STAFF}) OR ({RESOLVED})) AND e.case_id >= :low AND e.case_id < :high
        GROUP BY e.case_id
    ) AS firsts
    WHERE firsts.case_id = cases.id
"""
FILL_BATCH = 20_000
"""Cases filled per statement, so each stays well within the bot's command timeout."""


def upgrade() -> None:
    """Add the columns, fill them, install the triggers, add the indexes."""
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_staff_action_at", db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("first_resolved_at", db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_cases_created", ["created_at", "id"], unique=False, postgresql_include=STATS_COLUMNS
        )
    with op.batch_alter_table("case_attachments", schema=None) as batch_op:
        batch_op.create_index("ix_case_attachments_case", ["case_id"], unique=False)
    fill()
    if op.get_bind().dialect.name == "postgresql":
        install_postgresql()
    else:
        install_sqlite()


def fill() -> None:
    """Fill both columns from the timeline, a range of case ids at a time."""
    bind = op.get_bind()
    highest = bind.execute(sa.text("SELECT max(id) FROM cases")).scalar() or 0
    for low in range(0, highest + 1, FILL_BATCH):
        bind.execute(sa.text(FILL), {"low": low, "high": low + FILL_BATCH})


def install_postgresql() -> None:
    """One trigger function for insert, update and delete."""
    op.execute(
        f"""
        CREATE FUNCTION case_event_firsts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF {QUALIFIES} THEN {ADVANCE}; END IF;
            ELSIF TG_OP = 'UPDATE' THEN {RECOMPUTE};
            ELSE {RECOMPUTE.replace("NEW.case_id", "OLD.case_id")};
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER case_event_firsts AFTER INSERT OR DELETE OR UPDATE OF "
        f"{', '.join(COLUMNS)} ON case_events FOR EACH ROW EXECUTE FUNCTION case_event_firsts()"
    )


def install_sqlite() -> None:
    """One trigger per kind of change."""
    op.execute(
        f"CREATE TRIGGER case_event_firsts_insert AFTER INSERT ON case_events "
        f"WHEN {QUALIFIES} BEGIN {ADVANCE}; END"
    )
    op.execute(
        f"CREATE TRIGGER case_event_firsts_update AFTER UPDATE OF {', '.join(COLUMNS)} "
        f"ON case_events BEGIN {RECOMPUTE}; END"
    )
    op.execute(
        "CREATE TRIGGER case_event_firsts_delete AFTER DELETE ON case_events "
        f"BEGIN {RECOMPUTE.replace('NEW.case_id', 'OLD.case_id')}; END"
    )


def downgrade() -> None:
    """Drop the triggers, the indexes and the columns."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER case_event_firsts ON case_events")
        op.execute("DROP FUNCTION case_event_firsts()")
    else:
        for change in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER case_event_firsts_{change}")
    with op.batch_alter_table("case_attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_case_attachments_case")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_created")
        batch_op.drop_column("first_resolved_at")
        batch_op.drop_column("first_staff_action_at")
