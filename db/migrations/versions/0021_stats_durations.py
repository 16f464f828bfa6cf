"""Whole-second durations on each case, indexed, so /stats over the whole period takes its two
medians from an index instead of sorting every case's duration.

Schema: ``cases`` gets ``seconds_to_first_action`` and ``seconds_to_resolution``: whole seconds
from ``created_at`` to ``first_staff_action_at`` and to ``first_resolved_at``, each cut to the
whole second first (the microseconds dropped), NULL while the moment is NULL. Triggers on
``cases`` keep them whenever a case is inserted or one of those three columns changes (also
when the case_events triggers of migration 0019 move the first action or resolution).
Partial indexes ``ix_cases_seconds_to_action`` and ``ix_cases_seconds_to_resolution`` hold the
non-NULL durations in order (with the case's kind on PostgreSQL, for index-only scans).

Data: both columns are computed for the existing cases, 20,000 cases per statement.

SQLite drops a table's triggers when Alembic's batch mode recreates it: a later migration that
recreates ``cases`` must create them again (tests/test_stats_naive.py would fail).

Revision ID: 0021_stats_durations
Revises: 0020_case_number_sequences
Create Date: 2026-12-02 17:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_stats_durations"
down_revision: str | None = "0020_case_number_sequences"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DURATIONS = {
    "seconds_to_first_action": ("first_staff_action_at", "ix_cases_seconds_to_action"),
    "seconds_to_resolution": ("first_resolved_at", "ix_cases_seconds_to_resolution"),
}
"""Each duration column: the moment it runs to, and its index."""
WATCHED = ("created_at", "first_staff_action_at", "first_resolved_at")
FILL_BATCH = 20_000
"""Cases filled per statement, so each stays well within the bot's command timeout."""


def postgresql_seconds(later: str, earlier: str) -> str:
    """Whole seconds from one moment to another, each cut to the second (NULL if either is)."""
    return f"(floor(date_part('epoch', {later})) - floor(date_part('epoch', {earlier})))::integer"


def sqlite_seconds(later: str, earlier: str) -> str:
    """The same as postgresql_seconds on SQLite. The stored text ("YYYY-MM-DD HH:MM:SS.ffffff")
    is cut to the second before strftime('%s'), which would round .9995 s and up to the next."""
    return " - ".join(
        f"CAST(strftime('%s', substr({moment}, 1, 19)) AS INTEGER)" for moment in (later, earlier)
    )


def assignments(seconds, prefix: str) -> str:
    """`column = duration` for both duration columns, reading the moments under `prefix`."""
    return ", ".join(
        f"{column} = {seconds(prefix + moment, prefix + 'created_at')}"
        for column, (moment, _) in DURATIONS.items()
    )


def upgrade() -> None:
    """Add the columns, fill them, install the triggers, add the indexes."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for column in DURATIONS:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
    fill(postgresql_seconds if postgresql else sqlite_seconds)
    if postgresql:
        install_postgresql()
    else:
        install_sqlite()
    for column, (_, index) in DURATIONS.items():
        op.create_index(
            index,
            "cases",
            [column],
            unique=False,
            postgresql_include=["kind"],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
        )


def fill(seconds) -> None:
    """Compute both columns for the existing cases, a range of case ids at a time."""
    bind = op.get_bind()
    highest = bind.execute(sa.text("SELECT max(id) FROM cases")).scalar() or 0
    statement = sa.text(
        f"UPDATE cases SET {assignments(seconds, '')} WHERE id >= :low AND id < :high"
    )
    for low in range(0, highest + 1, FILL_BATCH):
        bind.execute(statement, {"low": low, "high": low + FILL_BATCH})


def install_postgresql() -> None:
    """A BEFORE trigger sets the durations on the row being written."""
    sets = "; ".join(
        f"NEW.{column} := {postgresql_seconds('NEW.' + moment, 'NEW.created_at')}"
        for column, (moment, _) in DURATIONS.items()
    )
    op.execute(
        "CREATE FUNCTION case_durations() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {sets}; RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER case_durations BEFORE INSERT OR UPDATE OF {', '.join(WATCHED)} "
        "ON cases FOR EACH ROW EXECUTE FUNCTION case_durations()"
    )


def install_sqlite() -> None:
    """AFTER triggers write the durations back (they change no watched column: no recursion)."""
    update = f"UPDATE cases SET {assignments(sqlite_seconds, 'NEW.')} WHERE id = NEW.id"
    op.execute(f"CREATE TRIGGER case_durations_insert AFTER INSERT ON cases BEGIN {update}; END")
    op.execute(
        f"CREATE TRIGGER case_durations_update AFTER UPDATE OF {', '.join(WATCHED)} ON cases "
        f"BEGIN {update}; END"
    )


def downgrade() -> None:
    """Drop the triggers, the indexes and the columns (ALTER TABLE, not batch mode: recreating
    ``cases`` on SQLite would trip over the case_events triggers that name it)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER case_durations ON cases")
        op.execute("DROP FUNCTION case_durations()")
    else:
        for change in ("insert", "update"):
            op.execute(f"DROP TRIGGER case_durations_{change}")
    for _, index in DURATIONS.values():
        op.drop_index(index, table_name="cases")
    for column in reversed(DURATIONS):
        op.drop_column("cases", column)
