"""Shipped contacts (db/data/contacts.csv) into the directory, and staff verification of them.

The start-up seed applies the file exactly as migration 0016_directory_contacts does, so a fresh
database and an upgraded one hold the same contacts; a field a staff member set is never touched.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Authority, AuthorityKind
from db.repositories import audit
from db.repositories import authorities as repo

CONTACTS_CSV = Path(__file__).resolve().parents[3] / "db" / "data" / "contacts.csv"
KINDS = {
    "municipality": AuthorityKind.MUNICIPALITY,
    "commissioner": AuthorityKind.OTHER,
    "prefecture": AuthorityKind.PREFECTURE,
    "water_utility": AuthorityKind.WATER_UTILITY,
    "other": AuthorityKind.OTHER,
}
"""contacts.csv kind → the directory's kind (the Commissioner is an "other" body)."""
FIELDS = ("website", "email", "rti_email", "postal_address", "phone")
"""Contact fields the file fills."""


@dataclass(frozen=True)
class ShippedContact:
    """One row of contacts.csv, as the directory stores it."""

    kind: AuthorityKind
    name: str
    region: str | None
    values: dict[str, str]
    source: str
    checked_on: date


def _first(cell: str) -> str | None:
    """The first of "a; b" (a cell may list several e-mails), None when empty."""
    return cell.split(";")[0].strip() or None


def read_contacts(path: Path = CONTACTS_CSV) -> list[ShippedContact]:
    """The shipped contacts; municipalities by their directory name ("Shkodër")."""
    shipped = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            kind = KINDS[row["kind"]]
            values = {name: (row[name] or "").strip() or None for name in FIELDS}
            values["email"] = _first(row["email"] or "")
            values["rti_email"] = _first(row["rti_email"] or "")
            shipped.append(
                ShippedContact(
                    kind=kind,
                    name=row["municipality"] if kind == AuthorityKind.MUNICIPALITY else row["name"],
                    region=row["municipality"] or None,
                    values={name: value for name, value in values.items() if value},
                    source=row["source"],
                    checked_on=date.fromisoformat(row["checked_on"]),
                )
            )
    return shipped


def apply(authority: Authority, contact: ShippedContact) -> bool:
    """Fill what the file knows, except fields staff set; True when anything changed."""
    staff_set = set(authority.staff_fields or ())
    changes: dict[str, object] = {
        name: value for name, value in contact.values.items() if name not in staff_set
    }
    changes["kind"] = contact.kind
    changes["contact_source"] = contact.source
    if authority.checked_on is None or authority.checked_on < contact.checked_on:
        changes["checked_on"] = contact.checked_on
    changed = False
    for name, value in changes.items():
        if getattr(authority, name) != value:
            setattr(authority, name, value)
            changed = True
    return changed


async def seed_contacts(session: AsyncSession, now: datetime) -> int:
    """Apply contacts.csv to the directory, adding missing bodies; returns rows added."""
    existing = {(a.kind, a.name): a for a in await repo.all_authorities(session)}
    added = 0
    for contact in read_contacts():
        authority = existing.get((contact.kind, contact.name)) or existing.get(
            (AuthorityKind.OTHER, contact.name)
        )
        if authority is None:
            if contact.kind == AuthorityKind.MUNICIPALITY:
                continue
            authority = await repo.add(
                session,
                Authority(
                    kind=contact.kind,
                    name=contact.name,
                    qark=contact.region,
                    created_at=now,
                    updated_at=now,
                ),
            )
            existing[(contact.kind, contact.name)] = authority
            added += 1
        apply(authority, contact)
    return added


def mark_staff_set(authority: Authority, names: object) -> None:
    """Remember that staff set these fields, so seeding leaves them alone."""
    authority.staff_fields = sorted(set(authority.staff_fields or ()) | set(names))


async def mark_verified(
    session: AsyncSession,
    authority: Authority,
    *,
    actor_user_id: int | None,
    now: datetime,
    today: date,
) -> None:
    """A staff member checked the contacts: who, when, and the new "last checked" date (audited)."""
    before = {
        "verified_at": authority.verified_at.isoformat() if authority.verified_at else None,
        "checked_on": authority.checked_on.isoformat() if authority.checked_on else None,
    }
    authority.verified_at = now
    authority.verified_by_user_id = actor_user_id
    authority.checked_on = today
    authority.updated_at = now
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=actor_user_id,
        action="authority.verified",
        subject_type="authority",
        subject_id=authority.id,
        before=before,
        after={"verified_at": now.isoformat(), "checked_on": today.isoformat()},
    )
