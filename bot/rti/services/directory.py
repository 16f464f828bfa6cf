"""The authority directory: seeding from shipped data, search without diacritics, staff edits."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rti.services import contacts
from bot.rti.services.authority_search import best_matches, fold
from db.models import Authority, AuthorityKind
from db.repositories import audit
from db.repositories import authorities as repo

DATA = Path(__file__).resolve().parents[3] / "db" / "data"
MUNICIPALITIES_CSV = DATA / "municipalities.csv"
AUTHORITIES_CSV = DATA / "authorities.csv"
MUNICIPALITY, OTHER = AuthorityKind.MUNICIPALITY, AuthorityKind.OTHER
KINDS = tuple(kind.value for kind in AuthorityKind)
REGION_ORDER = ("Shkodër", "Lezhë", "Kukës", "Dibër")
"""Programme regions in the order the programme lists them (municipalities.csv)."""

EDITABLE = (
    "coordinator_name",
    "rti_email",
    "email",
    "phone",
    "postal_address",
    "transparency_url",
    "website",
)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL = re.compile(r"^https?://\S+\.\S+$")


def display_name(authority: Authority) -> str:
    """The name an Albanian letter uses: municipalities as "Bashkia X"."""
    return f"Bashkia {authority.name}" if authority.kind == MUNICIPALITY else authority.name


def sort_key(authority: Authority) -> tuple[int, int, str]:
    """Programme municipalities first by region, then other municipalities, then other bodies."""
    if authority.kind == MUNICIPALITY and authority.in_programme:
        region = REGION_ORDER.index(authority.qark) if authority.qark in REGION_ORDER else 9
        return (0, region, fold(authority.name))
    if authority.kind == MUNICIPALITY:
        return (1, 0, fold(authority.name))
    return (2, 0, fold(authority.name))


def search(authorities: list[Authority], query: str, limit: int = 8) -> list[Authority]:
    """Authorities that fit typed text, best first; equal fits in display order."""
    return best_matches(sorted(authorities, key=sort_key), query, limit)


def read_municipalities(path: Path = MUNICIPALITIES_CSV) -> list[dict[str, str]]:
    """Rows of municipalities.csv (qark, municipality, seat, pact, administrative_units)."""
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


async def seed(session: AsyncSession, now: datetime) -> int:
    """Insert shipped authorities that are missing, then their contacts; staff edits win."""
    existing = {(a.kind, a.name) for a in await repo.all_authorities(session)}
    added = 0
    for row in read_municipalities():
        if (MUNICIPALITY, row["municipality"]) in existing:
            continue
        await repo.add(
            session,
            Authority(
                kind=MUNICIPALITY,
                name=row["municipality"],
                qark=row["qark"],
                seat=row["seat"] or None,
                in_programme=row["pact"] == "yes",
                units=row["administrative_units"] or None,
                created_at=now,
                updated_at=now,
            ),
        )
        added += 1
    with AUTHORITIES_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if (OTHER, row["name"]) in existing:
                continue
            await repo.add(
                session,
                Authority(
                    kind=OTHER,
                    name=row["name"],
                    email=row["email"] or None,
                    website=row["website"] or None,
                    created_at=now,
                    updated_at=now,
                ),
            )
            added += 1
    return added + await contacts.seed_contacts(session, now)


class InvalidValueError(ValueError):
    """A contact value that would not work (bad e-mail or web address, too long)."""


def clean_value(field_name: str, value: str) -> str | None:
    """Validate one contact field; "-" or empty clears it."""
    value = value.strip()
    if value in ("", "-"):
        return None
    if len(value) > 300:
        raise InvalidValueError(field_name)
    if field_name in ("email", "rti_email") and not EMAIL.match(value):
        raise InvalidValueError(field_name)
    if field_name in ("transparency_url", "website") and not URL.match(value):
        raise InvalidValueError(field_name)
    return value


async def update_contact(
    session: AsyncSession,
    authority: Authority,
    changes: dict[str, str | None],
    *,
    actor_user_id: int | None,
    now: datetime,
) -> dict[str, str | None]:
    """Apply changed contact fields and audit them with before/after; returns what changed."""
    before = {name: getattr(authority, name) for name in changes}
    changed = {name: value for name, value in changes.items() if before[name] != value}
    if not changed:
        return {}
    for name, value in changed.items():
        setattr(authority, name, value)
    contacts.mark_staff_set(authority, changed)
    authority.updated_at = now
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=actor_user_id,
        action="authority.updated",
        subject_type="authority",
        subject_id=authority.id,
        before={name: before[name] for name in changed},
        after=changed,
    )
    return changed


@dataclass
class ImportResult:
    """What a CSV import did, line by line."""

    updated: int = 0
    created: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


async def import_csv(
    session: AsyncSession, text: str, *, actor_user_id: int | None, now: datetime
) -> ImportResult:
    """Update or add authorities from CSV: kind, name and any contact columns (empty = keep)."""
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"kind", "name"} - set(reader.fieldnames or [])
    if missing:
        result.errors.append((1, "missing columns: " + ", ".join(sorted(missing))))
        return result
    for line, row in enumerate(reader, start=2):
        kind, name = (row.get("kind") or "").strip(), (row.get("name") or "").strip()
        if kind not in KINDS or not name:
            result.errors.append((line, f"kind must be one of {', '.join(KINDS)}, and a name"))
            continue
        try:
            changes = {
                f: clean_value(f, row[f] or "") for f in EDITABLE if (row.get(f) or "").strip()
            }
        except InvalidValueError as error:
            result.errors.append((line, f"invalid {error}"))
            continue
        authority = await repo.by_kind_and_name(session, kind, name)
        created = authority is None
        if authority is None:
            if kind == MUNICIPALITY:
                result.errors.append((line, f"unknown municipality {name}"))
                continue
            authority = await repo.add(
                session,
                Authority(kind=AuthorityKind(kind), name=name, created_at=now, updated_at=now),
            )
            await audit.record(
                session,
                at=now,
                actor_kind="staff",
                actor_user_id=actor_user_id,
                action="authority.created",
                subject_type="authority",
                subject_id=authority.id,
                after={"name": name},
            )
        changed = await update_contact(
            session, authority, changes, actor_user_id=actor_user_id, now=now
        )
        if created:
            result.created += 1
        elif changed:
            result.updated += 1
        else:
            result.unchanged += 1
    return result


async def report_wrong_contact(
    session: AsyncSession, authority: Authority, *, reporter_user_id: int | None, now: datetime
) -> None:
    """A citizen says the contact is wrong: audited for staff to check."""
    await audit.record(
        session,
        at=now,
        actor_kind="user",
        actor_user_id=reporter_user_id,
        action="authority.contact_reported",
        subject_type="authority",
        subject_id=authority.id,
    )
