"""Cases: references, identification modes, duplicates, status changes, follow-ups, lookups.

Anonymous cases are linked to no account at all; confidential cases keep the link in
case_contacts, apart from the case data, reached only through its relay code.
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.account.services import consent as privacy
from bot.cases.services import secret_codes as case_codes
from db.models import (
    AttachmentKind,
    Case,
    CaseAttachment,
    CaseContact,
    CaseEvent,
    CaseEventKind,
    CaseFollower,
    CaseKind,
    CaseStatus,
    Identification,
    Reminder,
    User,
)
from db.repositories import audit, case_numbers
from db.repositories import reminders as reminders_repo

CATEGORIES_CSV = Path(__file__).resolve().parents[3] / "db" / "data" / "categories.csv"
MAX_TEXT = 3000
MAX_PHOTOS = 5
DUPLICATE_WINDOW = timedelta(days=30)
FOLLOWUP_AFTER = timedelta(days=21)
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

    kind: AttachmentKind
    file_id: str
    file_name: str | None = None
    cleaned: bool = False

    def __post_init__(self) -> None:
        """Cut the name to fit its column: a long file name must never stop a report."""
        limit = CaseAttachment.__table__.c.file_name.type.length
        if self.file_name and len(self.file_name) > limit:
            self.file_name = self.file_name[: limit - 1] + "…"


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
    """PACT-YYYY-NNNNN: numbered per year, unique and increasing under concurrent submissions.

    The number comes from db/repositories/case_numbers.py: a sequence on PostgreSQL (no lock
    held until the commit; a rolled-back submission leaves a gap), the year's counter row on
    SQLite.
    """
    number = await case_numbers.next_number(session, year)
    return f"PACT-{year}-{number:05d}"


async def create(
    session: AsyncSession, new: NewCase, reporter: User | None, now: datetime
) -> Created:
    """Store the case, its files, the first timeline entry and the identification link."""
    if new.identification is not Identification.ANONYMOUS and reporter is None:
        raise ValueError("named and confidential cases need a reporter")
    code = case_codes.new_secret_code() if new.identification is Identification.ANONYMOUS else None
    secret_hash = await case_codes.hash_off_loop(code) if code else None
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
        secret_hash=secret_hash,
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
    session.add(
        CaseEvent(case_id=case.id, at=now, kind=CaseEventKind.STATUS, status=CaseStatus.RECEIVED)
    )
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


def listed_unit(case: Case) -> bool:
    """Whether the case's unit is one of its municipality's own (a typed one is the person's:
    kept from followers and other reporters, and cleared when the case is anonymised)."""
    listed = (case.municipality.units or "").split(";") if case.municipality else []
    return case.unit is not None and case.unit in listed


def followable(case: Case) -> bool:
    """Only named service cases can be followed: never corruption, confidential or anonymous."""
    return case.kind == CaseKind.SERVICE and case.identification == Identification.NAMED


async def similar_open(
    session: AsyncSession,
    municipality_id: int | None,
    category_key: str | None,
    now: datetime,
    user: User | None = None,
    among: Collection[int] | None = None,
) -> list[Case]:
    """Open named service cases of others in the same place and category from the last 30 days
    (the newest three; with `among`, those of these ids that still qualify).

    These are the only cases a person may be offered to follow (see `followable`): never their
    own, never one they already follow, never one whose reporter erased their data (nobody's
    case any more: it may have been the person's own under an earlier account).
    """
    if municipality_id is None or category_key is None:
        return []
    not_mine = Case.reporter_user_id.is_not(None)
    if user is not None:
        followed = select(CaseFollower.case_id).where(CaseFollower.user_id == user.id)
        not_mine = not_mine & (Case.reporter_user_id != user.id) & Case.id.not_in(followed)
    result = await session.execute(
        select(Case)
        .where(
            Case.kind == CaseKind.SERVICE,
            Case.identification == Identification.NAMED,
            not_mine,
            Case.municipality_id == municipality_id,
            Case.category == category_key,
            Case.status.in_([s.value for s in OPEN]),
            Case.created_at >= now - DUPLICATE_WINDOW,
            Case.id.in_(among) if among is not None else true(),
        )
        .order_by(Case.id.desc())
        .limit(3)
    )
    return list(result.scalars())


async def follow(session: AsyncSession, case: Case, user: User, now: datetime) -> bool:
    """Add a follower; False when already following, when it is their own or not followable."""
    if not followable(case) or await is_reporter(session, case, user):
        return False
    if await session.get(CaseFollower, (case.id, user.id)) is not None:
        return False
    session.add(CaseFollower(case_id=case.id, user_id=user.id, created_at=now))
    await session.flush()
    return True


async def for_user(session: AsyncSession, user: User) -> list[Case]:
    """Cases the person filed (named or confidential) or follows, newest first."""
    confidential = select(CaseContact.case_id).where(CaseContact.user_id == user.id)
    followed = (
        select(CaseFollower.case_id)
        .join(Case, Case.id == CaseFollower.case_id)
        .where(
            CaseFollower.user_id == user.id,
            Case.kind == CaseKind.SERVICE,
            Case.identification == Identification.NAMED,
        )
    )
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


async def is_follower(session: AsyncSession, case: Case, user: User | None) -> bool:
    """Whether this person follows a followable case (a row on any other case grants nothing)."""
    return (
        user is not None
        and followable(case)
        and await session.get(CaseFollower, (case.id, user.id)) is not None
    )


async def can_see(session: AsyncSession, case: Case, user: User | None) -> bool:
    """Reporter (everything) or follower (status changes and public notes only: `timeline`)."""
    if user is None:
        return False
    return await is_reporter(session, case, user) or await is_follower(session, case, user)


async def recipients(session: AsyncSession, case: Case) -> list[User]:
    """Who hears of a status change: the reachable reporter and the followers, once each."""
    people: dict[int, User] = {}
    reporter = await reporter_of(session, case)
    if reporter is not None:
        people[reporter.id] = reporter
    if not followable(case):
        return [u for u in people.values() if u.blocked_at is None]
    result = await session.execute(
        select(User)
        .join(CaseFollower, CaseFollower.user_id == User.id)
        .where(CaseFollower.case_id == case.id)
    )
    for user in result.scalars():
        people.setdefault(user.id, user)
    return [u for u in people.values() if u.blocked_at is None]


class LookupRefusedError(Exception):
    """A failed reference/code check: one kind only, so unknown, wrong and locked look alike."""


async def by_reference(session: AsyncSession, reference: str) -> Case | None:
    """A case by its reference, written any way ("pact-2026-42" works)."""
    parts = reference.strip().upper().replace(" ", "").split("-")
    if len(parts) != 3 or parts[0] != "PACT" or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    normal = f"PACT-{int(parts[1])}-{int(parts[2]):05d}"
    return (
        await session.execute(select(Case).where(Case.reference == normal))
    ).scalar_one_or_none()


async def lookup(
    session: AsyncSession, reference: str, code: str, user: User, now: datetime
) -> Case:
    """An anonymous case by reference and secret code, for this person.

    Wrong tries count against the person who typed them (per case and across cases, see
    `case_codes`), never against the case, and every refusal is the same: an unknown number,
    a wrong code and a lock cannot be told apart, not even by the time the answer takes.
    """
    case = await by_reference(session, reference)
    anonymous = case if case is not None and case.secret_hash is not None else None
    case_id = anonymous.id if anonymous is not None else None
    await case_codes.prune(session, now)
    waiting = await case_codes.refused(session, user.id, case_id, now)
    right = await case_codes.check_off_loop(code, anonymous.secret_hash if anonymous else None)
    if waiting:
        raise LookupRefusedError
    if anonymous is None or not right:
        await case_codes.record_failure(session, user.id, case_id, now)
        raise LookupRefusedError
    await case_codes.forget(session, user.id, anonymous.id)
    return anonymous


FOLLOWER_EVENTS = (CaseEventKind.STATUS, CaseEventKind.REOPENED)
"""What a follower sees of a case: status changes with their public notes, nothing else."""


async def timeline(session: AsyncSession, case: Case, *, reporter: bool = False) -> list[CaseEvent]:
    """A case's public history, oldest first; followers (the default) get status lines only."""
    query = select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.internal.is_(False))
    if not reporter:
        query = query.where(CaseEvent.kind.in_(FOLLOWER_EVENTS))
    result = await session.execute(query.order_by(CaseEvent.id))
    return list(result.scalars())


async def attachments(session: AsyncSession, case: Case) -> list[CaseAttachment]:
    """Files of a case."""
    result = await session.execute(
        select(CaseAttachment).where(CaseAttachment.case_id == case.id).order_by(CaseAttachment.id)
    )
    return list(result.scalars())


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
        CaseEvent(
            case_id=case.id,
            at=now,
            kind=CaseEventKind.STATUS,
            status=status,
            public_text=public_note,
        )
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
    session.add(CaseEvent(case_id=case.id, at=now, kind=CaseEventKind(f"followup_{answer}")))
    if reopened:
        case.status = CaseStatus.UNDER_REVIEW
        case.updated_at = now
        session.add(
            CaseEvent(
                case_id=case.id, at=now, kind=CaseEventKind.REOPENED, status=CaseStatus.UNDER_REVIEW
            )
        )
    await session.flush()
    return reopened


async def add_information(
    session: AsyncSession, case: Case, text: str | None, files: list[Attachment], now: datetime
) -> None:
    """The reporter adds text or files to an open case."""
    if text:
        session.add(
            CaseEvent(case_id=case.id, at=now, kind=CaseEventKind.REPORTER_INFO, public_text=text)
        )
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
    session.add(
        CaseEvent(case_id=case.id, at=now, kind=CaseEventKind.STATUS, status=CaseStatus.WITHDRAWN)
    )
    await session.flush()
