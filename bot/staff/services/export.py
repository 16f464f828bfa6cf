"""Staff exports (CSV and .xlsx) of cases and information requests, within a Scope, without
identities.

Only the columns listed here are ever selected, so Telegram ids, user ids, relay codes, secret
hashes, internal notes and original descriptions never leave the database. The reporter's name
is read only for named cases. CSV files are UTF-8 with a BOM so Excel shows ë and ç, every cell
quoted, and text that a spreadsheet could run as a formula (at the start or after a separator)
neutralised with a leading apostrophe. The .xlsx files, which Excel opens in any locale without
asking for a separator, hold every text as a string cell (never a formula) and times as dates.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.cases.services import case_rules as cases
from bot.rti.services import directory
from bot.staff.services.filters import Scope, case_conditions, period
from bot.staff.services.spreadsheets import to_csv, to_xlsx
from db.models import (
    AttachmentKind,
    Authority,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseEventKind,
    CaseKind,
    Identification,
    RtiRequest,
)

CASE_COLUMNS = (
    "reference",
    "kind",
    "status",
    "identification",
    "municipality",
    "unit",
    "category",
    "institution",
    "happened_when",
    "description",
    "latitude",
    "longitude",
    "location_text",
    "photos",
    "attachments",
    "reporter",
    "created_at",
    "updated_at",
    "last_public_note",
    "duplicate_of",
)
RTI_COLUMNS = (
    "number",
    "authority",
    "status",
    "format",
    "sent_on",
    "protocol_number",
    "due_on",
    "extended",
    "transferred",
    "outcome_on",
    "complaint_due_on",
    "complaint_filed_on",
    "commissioner_outcome",
    "created_at",
)


def attachment_counts() -> Any:
    """Per case: how many photos and how many files in all (one grouped subquery)."""
    photo = case((CaseAttachment.kind == AttachmentKind.PHOTO, 1), else_=0)
    return (
        select(
            CaseAttachment.case_id.label("case_id"),
            func.sum(photo).label("photos"),
            func.count().label("total"),
        )
        .group_by(CaseAttachment.case_id)
        .subquery("attachment_counts")
    )


def public_notes() -> Any:
    """Per case, its public timeline texts ranked newest first (rank 1 is the latest)."""
    rank = func.row_number().over(
        partition_by=CaseEvent.case_id, order_by=(CaseEvent.at.desc(), CaseEvent.id.desc())
    )
    return (
        select(
            CaseEvent.case_id.label("case_id"),
            CaseEvent.public_text.label("text"),
            rank.label("rank"),
        )
        .where(
            CaseEvent.internal.is_(False),
            CaseEvent.public_text.is_not(None),
            CaseEvent.kind.in_((CaseEventKind.STATUS, CaseEventKind.STAFF_REPLY)),
        )
        .subquery("public_notes")
    )


def cases_query(scope: Scope, tz: ZoneInfo) -> Select[Any]:
    """One statement for every exported case column, the reporter only for named cases."""
    counts, notes = attachment_counts(), public_notes()
    original = aliased(Case, name="original")
    reporter = case(
        (Case.identification == Identification.NAMED.value, Case.reporter_display), else_=None
    )
    return (
        select(
            Case.reference,
            Case.kind,
            Case.status,
            Case.identification,
            Authority.name,
            Case.unit,
            Case.category,
            Case.institution,
            Case.happened_when,
            Case.description,
            Case.latitude,
            Case.longitude,
            Case.location_text,
            func.coalesce(counts.c.photos, 0),
            func.coalesce(counts.c.total, 0),
            reporter,
            Case.created_at,
            Case.updated_at,
            notes.c.text,
            original.reference,
        )
        .outerjoin(Authority, Authority.id == Case.municipality_id)
        .outerjoin(counts, counts.c.case_id == Case.id)
        .outerjoin(notes, and_(notes.c.case_id == Case.id, notes.c.rank == 1))
        .outerjoin(original, original.id == Case.duplicate_of_id)
        .where(*case_conditions(scope, tz))
        .order_by(Case.created_at, Case.id)
    )


def category_label(kind: str, key: str | None, labels: dict[str, str]) -> str | None:
    """The category as people read it: "corruption" for reports, else the locale's label."""
    if kind == CaseKind.CORRUPTION.value:
        return "corruption"
    return labels.get(key, key) if key else None


async def case_rows(
    session: AsyncSession, scope: Scope, tz: ZoneInfo, locale: str = "sq"
) -> list[tuple[Any, ...]]:
    """The cases in scope as rows of CASE_COLUMNS, oldest first, categories in the locale."""
    labels = {c.key: c.label(locale) for c in cases.categories()}
    result = await session.execute(cases_query(scope, tz))
    return [(*row[:6], category_label(row[1], row[6], labels), *row[7:]) for row in result]


async def cases_csv(session: AsyncSession, scope: Scope, tz: ZoneInfo, locale: str = "sq") -> bytes:
    """The cases in scope as CSV, oldest first, for staff who analyse them in a spreadsheet."""
    return to_csv(CASE_COLUMNS, await case_rows(session, scope, tz, locale), tz)


async def cases_xlsx(
    session: AsyncSession, scope: Scope, tz: ZoneInfo, locale: str = "sq"
) -> bytes:
    """The cases in scope as an .xlsx workbook, the same columns and rows as the CSV."""
    return to_xlsx("cases", CASE_COLUMNS, await case_rows(session, scope, tz, locale), tz)


def authority_name(kind: str, name: str) -> str:
    """The authority as letters name it: municipalities as "Bashkia <name>"."""
    return f"Bashkia {name}" if kind == directory.MUNICIPALITY else name


def rti_query(scope: Scope, tz: ZoneInfo) -> Select[Any]:
    """One statement for every exported request column; nothing about the requester."""
    conditions = period(RtiRequest.created_at, scope, tz)
    if scope.municipality_ids is not None:
        conditions.append(RtiRequest.authority_id.in_(scope.municipality_ids))
    return (
        select(
            RtiRequest.id,
            Authority.kind,
            Authority.name,
            RtiRequest.status,
            RtiRequest.format,
            RtiRequest.sent_on,
            RtiRequest.protocol_number,
            RtiRequest.due_on,
            RtiRequest.extended,
            RtiRequest.transferred,
            RtiRequest.outcome_on,
            RtiRequest.complaint_due_on,
            RtiRequest.complaint_filed_on,
            RtiRequest.commissioner_outcome,
            RtiRequest.created_at,
        )
        .join(Authority, Authority.id == RtiRequest.authority_id)
        .where(*conditions)
        .order_by(RtiRequest.created_at, RtiRequest.id)
    )


async def rti_rows(session: AsyncSession, scope: Scope, tz: ZoneInfo) -> list[tuple[Any, ...]]:
    """The information requests in scope as rows of RTI_COLUMNS, oldest first."""
    result = await session.execute(rti_query(scope, tz))
    return [(row[0], authority_name(row[1], row[2]), *row[3:]) for row in result]


async def rti_csv(session: AsyncSession, scope: Scope, tz: ZoneInfo) -> bytes:
    """The information requests in scope as CSV, oldest first, without who asked."""
    return to_csv(RTI_COLUMNS, await rti_rows(session, scope, tz), tz)


async def rti_xlsx(session: AsyncSession, scope: Scope, tz: ZoneInfo) -> bytes:
    """The information requests in scope as an .xlsx workbook, the same as the CSV."""
    return to_xlsx("requests", RTI_COLUMNS, await rti_rows(session, scope, tz), tz)


def filename(kind: str, scope: Scope, today: date, extension: str = "csv") -> str:
    """A download name that says what and which period: "pact-cases-2026-01-01_2026-11-23.csv"."""
    if scope.start is None and scope.end is None:
        return f"pact-{kind}-all.{extension}"
    if scope.start is None:
        return f"pact-{kind}-until-{scope.end}.{extension}"
    return f"pact-{kind}-{scope.start}_{scope.end or today}.{extension}"
