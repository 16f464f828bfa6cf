"""Directory contacts from public sources: new columns, then the contacts of db/data/contacts.csv.

Schema: ``authorities`` gets the RTI coordinator's e-mail (``rti_email``), where the contacts come
from (``contact_source``), when they were last checked (``checked_on``), who marked them verified
and when (``verified_by_user_id``, ``verified_at``), and the contact fields a staff member set
(``staff_fields``, a JSON list).

Data: ``staff_fields`` is first filled from the audit log (the fields named in every
``authority.updated`` entry whose values retention has not cleared), so staff edits win. Then each
row of db/data/contacts.csv fills the contact fields it knows (a non-empty cell; the first e-mail
when a cell lists several) unless staff set that field, and records its source and date. Rows
for municipalities update the existing municipality (the start-up seed adds missing ones); rows of
other bodies are added when missing: the prefectures and regional councils (with their region in
``qark``; an "other" body a staff member added under the same name becomes the prefecture);
the Commissioner's row is the existing "other" body of that name. The start-up seed
(bot/rti/services/contacts.py) applies the same file the same way, so fresh databases match.

Downgrade drops the columns and turns prefectures and water utilities into "other" bodies (the
older code knows no such kind); the contact values stay.

Revision ID: 0016_directory_contacts
Revises: 0015_wizard_step_ids
Create Date: 2026-12-02 11:00:00.000000
"""

import csv
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0016_directory_contacts"
down_revision: str | None = "0015_wizard_step_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTACTS_CSV = Path(__file__).resolve().parents[2] / "data" / "contacts.csv"
KINDS = {
    "municipality": "municipality",
    "commissioner": "other",
    "prefecture": "prefecture",
    "water_utility": "water_utility",
    "other": "other",
}
"""contacts.csv kind → authorities.kind (the Commissioner is an "other" body)."""
FIELDS = ("website", "email", "rti_email", "postal_address", "phone")
NEW_KINDS = ("prefecture", "water_utility")

authorities = sa.table(
    "authorities",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("name", sa.String),
    sa.column("qark", sa.String),
    sa.column("in_programme", sa.Boolean),
    sa.column("website", sa.String),
    sa.column("email", sa.String),
    sa.column("rti_email", sa.String),
    sa.column("postal_address", sa.String),
    sa.column("phone", sa.String),
    sa.column("contact_source", sa.Text),
    sa.column("checked_on", sa.Date),
    sa.column("staff_fields", sa.JSON),
    sa.column("created_at", db.base.UTCDateTime(timezone=True)),
    sa.column("updated_at", db.base.UTCDateTime(timezone=True)),
)
audit_log = sa.table(
    "audit_log",
    sa.column("action", sa.String),
    sa.column("subject_type", sa.String),
    sa.column("subject_id", sa.Integer),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)


def _first(cell: str) -> str | None:
    """The first of "a; b" (a cell may list several e-mails), None when empty."""
    value = cell.split(";")[0].strip()
    return value or None


def _values(row: dict[str, str]) -> dict[str, str | None]:
    """The contact fields one contacts.csv row knows (None for an empty cell)."""
    values = {name: (row[name] or "").strip() or None for name in FIELDS}
    values["email"] = _first(row["email"] or "")
    values["rti_email"] = _first(row["rti_email"] or "")
    return values


def _staff_fields(connection: sa.Connection) -> dict[int, set[str]]:
    """Authority id → the fields staff edits named in the audit log."""
    edited: dict[int, set[str]] = {}
    rows = connection.execute(
        sa.select(audit_log.c.subject_id, audit_log.c.before, audit_log.c.after).where(
            audit_log.c.action == "authority.updated", audit_log.c.subject_type == "authority"
        )
    )
    for subject_id, before, after in rows:
        names = set(before or {}) | set(after or {})
        if subject_id is not None and names:
            edited.setdefault(subject_id, set()).update(names)
    return edited


def _seed_contacts(connection: sa.Connection) -> None:
    """Staff fields from the audit log, then contacts.csv where staff set nothing."""
    now = datetime.now(UTC)
    edited = _staff_fields(connection)
    for authority_id, names in edited.items():
        connection.execute(
            sa.update(authorities)
            .where(authorities.c.id == authority_id)
            .values(staff_fields=sorted(names))
        )
    existing = {
        (row.kind, row.name): row
        for row in connection.execute(
            sa.select(authorities.c.id, authorities.c.kind, authorities.c.name)
        )
    }
    with CONTACTS_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        kind = KINDS[row["kind"]]
        name = row["municipality"] if kind == "municipality" else row["name"]
        values = {key: value for key, value in _values(row).items() if value}
        found = existing.get((kind, name)) or existing.get(("other", name))
        if found is None and kind == "municipality":
            continue
        if found is None:
            connection.execute(
                sa.insert(authorities).values(
                    kind=kind,
                    name=name,
                    qark=row["municipality"] or None,
                    in_programme=False,
                    contact_source=row["source"],
                    checked_on=date.fromisoformat(row["checked_on"]),
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
            continue
        staff_set = edited.get(found.id, set())
        connection.execute(
            sa.update(authorities)
            .where(authorities.c.id == found.id)
            .values(
                kind=kind,
                contact_source=row["source"],
                checked_on=date.fromisoformat(row["checked_on"]),
                **{key: value for key, value in values.items() if key not in staff_set},
            )
        )


def upgrade() -> None:
    """New columns, then the contacts."""
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rti_email", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("contact_source", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("checked_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("verified_at", db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("verified_by_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("staff_fields", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_authorities_verified_by_user_id_users"),
            "users",
            ["verified_by_user_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _seed_contacts(op.get_bind())


def downgrade() -> None:
    """Prefectures and water utilities become "other" bodies; the columns go."""
    op.get_bind().execute(
        sa.update(authorities).where(authorities.c.kind.in_(NEW_KINDS)).values(kind="other")
    )
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_authorities_verified_by_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("staff_fields")
        batch_op.drop_column("verified_by_user_id")
        batch_op.drop_column("verified_at")
        batch_op.drop_column("checked_on")
        batch_op.drop_column("contact_source")
        batch_op.drop_column("rti_email")
