"""Cases: references, identification modes, duplicates, status changes, follow-ups, lookups.

Anonymous cases are linked to no account at all; confidential cases keep the link in
case_contacts, apart from the case data, reached only through its relay code.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import privacy
from db.models import (
    Case,
    CaseAttachment,
    CaseContact,
    CaseCounter,
    CaseEvent,
    CaseFollower,
    CaseKind,
    CaseStatus,
    Identification,
    Reminder,
    User,
)
from db.repositories import audit
from db.repositories import reminders as reminders_repo

CATEGORIES_CSV = Path(__file__).resolve().parents[2] / "db" / "data" / "categories.csv"
MAX_TEXT = 3000
MAX_PHOTOS = 5
DUPLICATE_WINDOW = timedelta(days=30)
FOLLOWUP_AFTER = timedelta(days=21)
MAX_CODE_FAILURES = 5
CODE_LOCK = timedelta(hours=1)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
OPEN = (
    CaseStatus.RECEIVED,
    CaseStatus.UNDER_REVIEW,
    CaseStatus.FORWARDED,
    CaseStatus.ANSWERED,
)
FINAL = (CaseStatus.RESOLVED, CaseStatus.NOT_RESOLVED, CaseStatus.REJECTED, CaseStatus.DUPLICATE)


@dataclass(frozen=True)
class Category:
    """A service category (categories.md), in both languages, and who is responsible."""

    key: str
    sq: str
    en: str
    municipal: bool
    responsible_sq: str
    responsible_en: str

    def label(self, locale: str) -> str:
        """The name in a locale."""
        return self.en if locale == "en" else self.sq

    def responsible(self, locale: str) -> str:
        """Who handles it, in a locale."""
        return self.responsible_en if locale == "en" else self.responsible_sq


def categories() -> list[Category]:
    """All categories in the order of categories.md."""
    with CATEGORIES_CSV.open(encoding="utf-8") as handle:
        return [
            Category(
                key=row["key"],
                sq=row["sq"],
                en=row["en"],
                municipal=row["municipal"] == "yes",
                responsible_sq=row["responsible_sq"],
                responsible_en=row["responsible_en"],
            )
            for row in csv.DictReader(handle)
        ]


def category(key: str | None) -> Category | None:
    """One category by key."""
    return next((c for c in categories() if c.key == key), None)


def allowed_identifications(reporter: User | None, kind: CaseKind) -> list[Identification]:
    """Anonymous always; named and confidential need consent (a), so never for under-16s.

    Corruption reports list anonymous first: it is their default.
    """
    if privacy.is_minor(reporter) or not privacy.has_consent(reporter):
        return [Identification.ANONYMOUS]
    if kind == CaseKind.CORRUPTION:
        return [Identification.ANONYMOUS, Identification.CONFIDENTIAL, Identification.NAMED]
    return [Identification.NAMED, Identification.CONFIDENTIAL, Identification.ANONYMOUS]


@dataclass
class Attachment:
    """A file to attach, already cleaned when it was an image document."""

    kind: str
    file_id: str
    file_name: str | None = None
    cleaned: bool = False


@dataclass
class NewCase:
    """A report ready to be stored."""

    kind: CaseKind
    identification: Identification
    description: str | None
    municipality_id: int | None = None
    unit: str | None = None
    category: str | None = None
    institution: str | None = None
    happened_when: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_text: str | None = None
    forward_consent: bool = False
    reporter_display: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


@dataclass(frozen=True)
class Created:
    """A stored case and, for anonymous cases, the secret code (shown once, never stored)."""

    case: Case
    secret_code: str | None


async def next_reference(session: AsyncSession, year: int) -> str:
    """PACT-YYYY-NNNNN: one atomic upsert on the year's counter, safe under concurrency."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(CaseCounter)
        .values(year=year, last=1)
        .on_conflict_do_update(index_elements=["year"], set_={"last": CaseCounter.last + 1})
        .returning(CaseCounter.last)
    )
    number = (await session.execute(statement)).scalar_one()
    return f"PACT-{year}-{number:05d}"


def new_secret_code() -> str:
    """Eight characters people can read back without confusing 0/O or 1/I: "K7MZ-Q2RA"."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)


def hash_code(code: str, salt: bytes | None = None) -> str:
    """scrypt hash of a secret code, with its salt."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(_normalise_code(code).encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_code(code: str, stored: str) -> bool:
    """Whether a typed code matches the stored hash."""
    try:
        _scheme, salt, _digest = stored.split("$")
    except ValueError:
        return False
    return hmac.compare_digest(hash_code(code, bytes.fromhex(salt)), stored)


async def create(
    session: AsyncSession, new: NewCase, reporter: User | None, now: datetime
) -> Created:
    """Store the case, its files, the first timeline entry and the identification link."""
    if new.identification is not Identification.ANONYMOUS and reporter is None:
        raise ValueError("named and confidential cases need a reporter")
    code = new_secret_code() if new.identification is Identification.ANONYMOUS else None
    case = Case(
        reference=await next_reference(session, now.year),
        kind=new.kind,
        status=CaseStatus.RECEIVED,
        identification=new.identification,
        municipality_id=new.municipality_id,
        unit=new.unit,
        category=new.category,
        institution=new.institution,
        happened_when=new.happened_when,
        description=new.description,
        latitude=new.latitude,
        longitude=new.longitude,
        location_text=new.location_text,
        reporter_user_id=reporter.id
        if reporter and new.identification is Identification.NAMED
        else None,
        forward_consent=new.forward_consent and new.identification is Identification.NAMED,
        reporter_display=(
            new.reporter_display[:200]
            if new.reporter_display and new.identification is Identification.NAMED
            else None
        ),
        secret_hash=hash_code(code) if code else None,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    await session.flush()
    for item in new.attachments:
        session.add(
            CaseAttachment(
                case_id=case.id,
                kind=item.kind,
                file_id=item.file_id,
                file_name=item.file_name,
                cleaned=item.cleaned,
                added_at=now,
            )
        )
    session.add(CaseEvent(case_id=case.id, at=now, kind="status", status=CaseStatus.RECEIVED))
    if new.identification is Identification.CONFIDENTIAL and reporter is not None:
        session.add(
            CaseContact(case_id=case.id, user_id=reporter.id, relay_code=secrets.token_urlsafe(12))
        )
    await audit.record(
        session,
        at=now,
        actor_kind="system",
        action="case.created",
        subject_type="case",
        subject_id=case.id,
        after={
            "reference": case.reference,
            "kind": case.kind,
            "identification": case.identification,
        },
    )
    await session.flush()
    await session.refresh(case, ["municipality"])
    return Created(case=case, secret_code=code)


async def similar_open(
    session: AsyncSession, municipality_id: int | None, category_key: str | None, now: datetime
) -> list[Case]:
    """Open service cases in the same municipality and category from the last 30 days."""
    if municipality_id is None or category_key is None:
        return []
    result = await session.execute(
        select(Case)
        .where(
            Case.kind == CaseKind.SERVICE,
            Case.municipality_id == municipality_id,
            Case.category == category_key,
            Case.status.in_([s.value for s in OPEN]),
            Case.created_at >= now - DUPLICATE_WINDOW,
        )
        .order_by(Case.id.desc())
        .limit(3)
    )
    return list(result.scalars())


async def follow(session: AsyncSession, case: Case, user: User, now: datetime) -> bool:
    """Add a follower; False when already following."""
    if await session.get(CaseFollower, (case.id, user.id)) is not None:
        return False
    session.add(CaseFollower(case_id=case.id, user_id=user.id, created_at=now))
    await session.flush()
    return True


async def for_user(session: AsyncSession, user: User) -> list[Case]:
    """Cases the person filed (named or confidential) or follows, newest first."""
    confidential = select(CaseContact.case_id).where(CaseContact.user_id == user.id)
    followed = select(CaseFollower.case_id).where(CaseFollower.user_id == user.id)
    result = await session.execute(
        select(Case)
        .where(
            or_(
                Case.reporter_user_id == user.id,
                Case.id.in_(confidential),
                Case.id.in_(followed),
            )
        )
        .order_by(Case.id.desc())
    )
    return list(result.scalars())


async def reporter_of(session: AsyncSession, case: Case) -> User | None:
    """Who to reach about a case: the named reporter or confidential contact; never anonymous."""
    if case.reporter_user_id is not None:
        return await session.get(User, case.reporter_user_id)
    contact = await session.get(CaseContact, case.id)
    return await session.get(User, contact.user_id) if contact else None


async def is_reporter(session: AsyncSession, case: Case, user: User | None) -> bool:
    """Whether this person filed the case (so may add to it or withdraw it)."""
    reporter = await reporter_of(session, case) if user else None
    return reporter is not None and user is not None and reporter.id == user.id


async def reporter_may_change(session: AsyncSession, case: Case, user: User | None) -> bool:
    """Only the reporter adds to or withdraws a case, and only while it is open."""
    return case.status in OPEN and await is_reporter(session, case, user)


async def can_see(session: AsyncSession, case: Case, user: User | None) -> bool:
    """Reporter or follower."""
    if user is None:
        return False
    if await is_reporter(session, case, user):
        return True
    return await session.get(CaseFollower, (case.id, user.id)) is not None


async def recipients(session: AsyncSession, case: Case) -> list[User]:
    """Who hears of a change: the reachable reporter and the followers, once each."""
    people: dict[int, User] = {}
    reporter = await reporter_of(session, case)
    if reporter is not None:
        people[reporter.id] = reporter
    result = await session.execute(
        select(User)
        .join(CaseFollower, CaseFollower.user_id == User.id)
        .where(CaseFollower.case_id == case.id)
    )
    for user in result.scalars():
        people.setdefault(user.id, user)
    return [u for u in people.values() if u.blocked_at is None]


class LookupRefusedError(Exception):
    """A reference/code check that cannot succeed now (unknown, wrong or locked)."""

    def __init__(self, reason: str, until: datetime | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.until = until


async def by_reference(session: AsyncSession, reference: str) -> Case | None:
    """A case by its reference, written any way ("pact-2026-42" works)."""
    parts = reference.strip().upper().replace(" ", "").split("-")
    if len(parts) != 3 or parts[0] != "PACT" or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    normal = f"PACT-{int(parts[1])}-{int(parts[2]):05d}"
    return (
        await session.execute(select(Case).where(Case.reference == normal))
    ).scalar_one_or_none()


async def lookup(session: AsyncSession, reference: str, code: str, now: datetime) -> Case:
    """An anonymous case by reference and secret code; wrong codes lock the case for an hour."""
    case = await by_reference(session, reference)
    if case is None or case.secret_hash is None:
        raise LookupRefusedError("wrong")
    if case.code_locked_until is not None and case.code_locked_until > now:
        raise LookupRefusedError("locked", case.code_locked_until)
    if not check_code(code, case.secret_hash):
        case.code_failures += 1
        if case.code_failures >= MAX_CODE_FAILURES:
            case.code_failures = 0
            case.code_locked_until = now + CODE_LOCK
            raise LookupRefusedError("locked", case.code_locked_until)
        raise LookupRefusedError("wrong")
    case.code_failures = 0
    case.code_locked_until = None
    return case


async def timeline(session: AsyncSession, case: Case) -> list[CaseEvent]:
    """The public lines of a case's history, oldest first."""
    result = await session.execute(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.internal.is_(False))
        .order_by(CaseEvent.id)
    )
    return list(result.scalars())


async def attachments(session: AsyncSession, case: Case) -> list[CaseAttachment]:
    """Files of a case."""
    result = await session.execute(
        select(CaseAttachment).where(CaseAttachment.case_id == case.id).order_by(CaseAttachment.id)
    )
    return list(result.scalars())


async def photo_count(session: AsyncSession, case: Case) -> int:
    """How many photos a case has."""
    result = await session.execute(
        select(func.count())
        .select_from(CaseAttachment)
        .where(CaseAttachment.case_id == case.id, CaseAttachment.kind == "photo")
    )
    return int(result.scalar_one())


async def change_status(
    session: AsyncSession,
    case: Case,
    status: CaseStatus,
    *,
    public_note: str | None,
    actor_user_id: int | None,
    now: datetime,
    duplicate_of: Case | None = None,
) -> None:
    """A staff status change: timeline, audit, and the 21-day follow-up after resolved/answered."""
    before = case.status
    case.status = status
    case.updated_at = now
    if duplicate_of is not None:
        case.duplicate_of_id = duplicate_of.id
    session.add(
        CaseEvent(case_id=case.id, at=now, kind="status", status=status, public_text=public_note)
    )
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=actor_user_id,
        action="case.status",
        subject_type="case",
        subject_id=case.id,
        before={"status": before},
        after={"status": status},
    )
    if status in (CaseStatus.RESOLVED, CaseStatus.ANSWERED):
        session.add(Reminder(case_id=case.id, kind="case_followup", due_at=now + FOLLOWUP_AFTER))
    await session.flush()


async def followup_answer(session: AsyncSession, case: Case, answer: str, now: datetime) -> bool:
    """ "Is the problem solved?": yes / partly / no; "no" reopens the case. True if reopened."""
    reopened = answer == "no" and case.status in (CaseStatus.RESOLVED, CaseStatus.ANSWERED)
    session.add(CaseEvent(case_id=case.id, at=now, kind=f"followup_{answer}"))
    if reopened:
        case.status = CaseStatus.UNDER_REVIEW
        case.updated_at = now
        session.add(
            CaseEvent(case_id=case.id, at=now, kind="reopened", status=CaseStatus.UNDER_REVIEW)
        )
    await session.flush()
    return reopened


async def add_information(
    session: AsyncSession, case: Case, text: str | None, files: list[Attachment], now: datetime
) -> None:
    """The reporter adds text or files to an open case."""
    if text:
        session.add(CaseEvent(case_id=case.id, at=now, kind="reporter_info", public_text=text))
    for item in files:
        session.add(
            CaseAttachment(
                case_id=case.id,
                kind=item.kind,
                file_id=item.file_id,
                file_name=item.file_name,
                cleaned=item.cleaned,
                added_at=now,
            )
        )
    case.updated_at = now
    await session.flush()


async def due_followups(
    session: AsyncSession, now: datetime, limit: int = 1
) -> list[tuple[Reminder, Case]]:
    """Case follow-up reminders whose moment has come."""
    result = await session.execute(
        select(Reminder, Case)
        .join(Case, Reminder.case_id == Case.id)
        .where(*reminders_repo.due(now))
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Reminder)
    )
    return [(row[0], row[1]) for row in result.all()]


async def withdraw(session: AsyncSession, case: Case, now: datetime) -> None:
    """The reporter withdraws an open case."""
    case.status = CaseStatus.WITHDRAWN
    case.updated_at = now
    session.add(CaseEvent(case_id=case.id, at=now, kind="status", status=CaseStatus.WITHDRAWN))
    await session.flush()
