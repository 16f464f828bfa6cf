"""Case numbers from a sequence per year on PostgreSQL, instead of the locked counter row.

Schema (PostgreSQL only): a sequence ``case_number_YYYY`` for every year in ``case_counters``,
starting after that year's last number, so numbers continue; the bot makes the sequence of a
new year when it numbers that year's first case (db/repositories/case_numbers.py). The counter
rows stay as they were (SQLite keeps using them). Downgrade writes each sequence's last number
back into its year's counter row, then drops the sequences.

Revision ID: 0020_case_number_sequences
Revises: 0019_stats_scale
Create Date: 2026-12-02 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_case_number_sequences"
down_revision: str | None = "0019_stats_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """One sequence per counted year, continuing from its counter."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for year, last in bind.execute(sa.text("SELECT year, last FROM case_counters")).all():
        op.execute(f"CREATE SEQUENCE IF NOT EXISTS case_number_{int(year)} START WITH {last + 1}")


def downgrade() -> None:
    """Counters take each sequence's last number back; the sequences go."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    names = bind.execute(
        sa.text(
            "SELECT sequencename FROM pg_sequences "
            "WHERE schemaname = current_schema() AND sequencename LIKE 'case\\_number\\_%'"
        )
    ).scalars()
    for name in list(names):
        year = int(name.rsplit("_", 1)[1])
        last_value, is_called = bind.execute(
            sa.text(f"SELECT last_value, is_called FROM {name}")
        ).one()
        last = int(last_value) if is_called else int(last_value) - 1
        if last > 0:
            bind.execute(
                sa.text(
                    "INSERT INTO case_counters (year, last) VALUES (:year, :last) "
                    "ON CONFLICT (year) DO UPDATE "
                    "SET last = GREATEST(case_counters.last, excluded.last)"
                ),
                {"year": year, "last": last},
            )
        op.execute(f"DROP SEQUENCE {name}")
