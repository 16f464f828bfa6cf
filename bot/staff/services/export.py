"""Staff exports (CSV and .xlsx) of cases and information requests, within a Scope, without
identities.

Only the columns listed here are ever selected, so Telegram ids, user ids, relay codes, secret
hashes, internal notes and original descriptions never leave the database. The reporter's name
is read only for named cases. CSV files are UTF-8 with a BOM so Excel shows ë and ç, every cell
quoted, and text that a spreadsheet could run as a formula (at the start or after a separator)
neutralised with a leading apostrophe. The .xlsx files, which Excel opens in any locale without
asking for a separator, hold every text as a string cell (never a formula) and times as dates.
Headers and values (statuses, kinds, yes/no) are in the staff member's language.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.cases.services import case_rules as cases
from bot.core.i18n import N_, Translator, plain
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
    CaseStatus,
    Identification,
    RequestStatus,
    RtiRequest,
)

CASE_COLUMNS = {
    "reference": N_("Case number"),
    "kind": N_("Kind"),
    "status": N_("Status"),
    "identification": N_("Identification"),
    "municipality": N_("Municipality"),
    "unit": N_("Administrative unit or village"),
    "category": N_("Category"),
    "institution": N_("Institution"),
    "happened_when": N_("When it happened"),
    "description": N_("Description"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "location_text": N_("Place"),
    "photos": N_("Photos"),
    "attachments": N_("Files in all"),
    "reporter": N_("Reporter"),
    "created_at": N_("Created"),
    "updated_at": N_("Last changed"),
    "last_public_note": N_("Last public note"),
    "duplicate_of": N_("Duplicate of"),
}
"""Each exported case column and its header."""
RTI_COLUMNS = {
    "number": N_("Request number"),
    "authority": N_("Authority"),
    "status": N_("Status"),
    "format": N_("Form"),
    "sent_on": N_("Sent on"),
    "protocol_number": N_("Protocol number"),
    "due_on": N_("Answer due by"),
    "extended": N_("Deadline extended"),
    "transferred": N_("Transferred"),
    "outcome_on": N_("Outcome on"),
    "complaint_due_on": N_("Complaint due by"),
    "complaint_filed_on": N_("Complaint filed on"),
    "commissioner_outcome": N_("Commissioner's decision"),
    "created_at": N_("Created"),
}
"""Each exported request column and its header."""

KINDS = {CaseKind.SERVICE: N_("Service problem"), CaseKind.CORRUPTION: N_("Corruption report")}
CORRUPTION_CATEGORY = N_("Corruption")
"""The category cell of a corruption report, which has no service category."""
CASE_STATUSES = {
    CaseStatus.RECEIVED: N_("received"),
    CaseStatus.UNDER_REVIEW: N_("under review"),
    CaseStatus.FORWARDED: N_("forwarded to the institution"),
    CaseStatus.ANSWERED: N_("answered by the institution"),
    CaseStatus.RESOLVED: N_("resolved"),
    CaseStatus.NOT_RESOLVED: N_("not resolved"),
    CaseStatus.REJECTED: N_("rejected"),
    CaseStatus.DUPLICATE: N_("duplicate of another case"),
    CaseStatus.WITHDRAWN: N_("withdrawn by the reporter"),
}
"""The same words the chat shows (bot/cases/views.py), so one translation serves both."""
IDENTIFICATIONS = {
    Identification.NAMED: N_("named"),
    Identification.CONFIDENTIAL: N_("confidential"),
    Identification.ANONYMOUS: N_("anonymous"),
}
REQUEST_STATUSES = {
    RequestStatus.PREPARED: N_("prepared, not sent yet"),
    RequestStatus.SENT: N_("sent, waiting for the answer"),
    RequestStatus.EXTENDED: N_("deadline extended, waiting"),
    RequestStatus.TRANSFERRED: N_("transferred to another authority, waiting"),
    RequestStatus.CLARIFY: N_("the authority asked you to clarify"),
    RequestStatus.ANSWERED: N_("answered"),
    RequestStatus.PARTIAL: N_("partly answered"),
    RequestStatus.REFUSED: N_("refused"),
    RequestStatus.NO_ANSWER: N_("no answer within the deadline"),
    RequestStatus.COMPLAINT_FILED: N_("complaint filed with the Commissioner"),
    RequestStatus.CLOSED: N_("closed"),
}
"""The same words the chat shows (bot/rti/views.py)."""
FORMATS = {
    "electronic": N_("electronic copy"),
    "paper": N_("paper copy"),
    "on_site": N_("consult on site"),
}
COMMISSIONER_OUTCOMES = {
    "upheld": N_("in the requester's favour"),
    "rejected": N_("complaint rejected"),
}
YES, NO = N_("yes"), N_("no")


def header(t: Translator, columns: dict[str, str]) -> tuple[str, ...]:
    """The column headers in the staff member's language."""
    return tuple(word(t, label) for label in columns.values())


def word(t: Translator, message: str) -> str:
    """A translated label as plain text, for a spreadsheet cell."""
    return plain(t.gettext(message))


def label(t: Translator, labels: dict[Any, str], key: Any) -> str | None:
    """A stored value (a status, a kind) in words; an unknown one as it is stored."""
    if key is None:
        return None
    return word(t, labels[key]) if key in labels else str(key)


def yes_no(t: Translator, value: bool | None) -> str | None:
    """A flag as "yes" or "no" in the staff member's language."""
    return None if value is None else word(t, YES if value else NO)


def attachment_counts() -> tuple[Any, Any]:
    """Per case row: how many photos and how many files in all (lookups by ix_case_attachments_case,
    so a page of cases costs a page of lookups)."""
    of_case = CaseAttachment.case_id == Case.id
    photos = select(func.count()).where(of_case, CaseAttachment.kind == AttachmentKind.PHOTO)
    return photos.scalar_subquery(), select(func.count()).where(of_case).scalar_subquery()


def last_public_note() -> Any:
    """Per case row, its latest public status note; staff replies relayed privately to the
    reporter are not public and never exported."""
    return (
        select(CaseEvent.public_text)
        .where(
            CaseEvent.case_id == Case.id,
            CaseEvent.internal.is_(False),
            CaseEvent.public_text.is_not(None),
            CaseEvent.kind == CaseEventKind.STATUS,
        )
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def after(columns: tuple[Any, Any], key: tuple[Any, Any] | None) -> list[ColumnElement[bool]]:
    """Rows after `key` in (creation time, id) order: the next page of a keyset walk."""
    return [] if key is None else [tuple_(*columns) > tuple_(*key)]


def cases_query(
    scope: Scope, tz: ZoneInfo, key: tuple[Any, Any] | None = None, limit: int | None = None
) -> Select[Any]:
    """One statement for every exported case column (then the case id), the reporter only for
    named cases; oldest first, optionally only `limit` rows after `key` (created_at, id)."""
    photos, files = attachment_counts()
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
            photos,
            files,
            reporter,
            Case.created_at,
            Case.updated_at,
            last_public_note(),
            original.reference,
            Case.id,
        )
        .outerjoin(Authority, Authority.id == Case.municipality_id)
        .outerjoin(original, original.id == Case.duplicate_of_id)
        .where(*case_conditions(scope, tz), *after((Case.created_at, Case.id), key))
        .order_by(Case.created_at, Case.id)
        .limit(limit)
    )


def category_label(t: Translator, kind: str, key: str | None, labels: dict[str, str]) -> str | None:
    """The category as people read it: "Corruption" for reports, else the locale's label."""
    if kind == CaseKind.CORRUPTION.value:
        return word(t, CORRUPTION_CATEGORY)
    return labels.get(key, key) if key else None


def case_row(t: Translator, labels: dict[str, str], row: Any) -> tuple[Any, ...]:
    """One cases_query row as a row of CASE_COLUMNS, words in the staff member's language."""
    return (
        row[0],
        label(t, KINDS, row[1]),
        label(t, CASE_STATUSES, row[2]),
        label(t, IDENTIFICATIONS, row[3]),
        *row[4:6],
        category_label(t, row[1], row[6], labels),
        *row[7:20],
    )


def category_labels(t: Translator) -> dict[str, str]:
    """Category keys and their labels in the staff member's language."""
    return {c.key: c.label(t.locale) for c in cases.categories()}


async def case_rows(
    session: AsyncSession, scope: Scope, tz: ZoneInfo, t: Translator
) -> list[tuple[Any, ...]]:
    """The cases in scope as rows of CASE_COLUMNS, oldest first, words in the staff's language."""
    labels = category_labels(t)
    result = await session.execute(cases_query(scope, tz))
    return [case_row(t, labels, row) for row in result]


async def cases_csv(session: AsyncSession, scope: Scope, tz: ZoneInfo, t: Translator) -> bytes:
    """The cases in scope as CSV, oldest first, for staff who analyse them in a spreadsheet."""
    return to_csv(header(t, CASE_COLUMNS), await case_rows(session, scope, tz, t), tz)


async def cases_xlsx(session: AsyncSession, scope: Scope, tz: ZoneInfo, t: Translator) -> bytes:
    """The cases in scope as an .xlsx workbook, the same columns and rows as the CSV."""
    return to_xlsx("cases", header(t, CASE_COLUMNS), await case_rows(session, scope, tz, t), tz)


def authority_name(t: Translator, kind: str, name: str) -> str:
    """The authority as letters name it: "Bashkia <name>" / "Municipality of <name>"."""
    if kind == directory.MUNICIPALITY:
        return plain(t.gettext("Municipality of {name}", name=name))
    return name


def rti_query(
    scope: Scope, tz: ZoneInfo, key: tuple[Any, Any] | None = None, limit: int | None = None
) -> Select[Any]:
    """One statement for every exported request column, nothing about the requester; oldest
    first, optionally only `limit` rows after `key` (created_at, id)."""
    conditions = period(RtiRequest.created_at, scope, tz)
    conditions += after((RtiRequest.created_at, RtiRequest.id), key)
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
        .limit(limit)
    )


def rti_row(t: Translator, row: Any) -> tuple[Any, ...]:
    """One rti_query row as a row of RTI_COLUMNS, words in the staff member's language."""
    return (
        row[0],
        authority_name(t, row[1], row[2]),
        label(t, REQUEST_STATUSES, row[3]),
        label(t, FORMATS, row[4]),
        *row[5:7],
        row[7],
        yes_no(t, row[8]),
        yes_no(t, row[9]),
        *row[10:13],
        label(t, COMMISSIONER_OUTCOMES, row[13]),
        row[14],
    )


async def rti_rows(
    session: AsyncSession, scope: Scope, tz: ZoneInfo, t: Translator
) -> list[tuple[Any, ...]]:
    """The information requests in scope as rows of RTI_COLUMNS, oldest first."""
    result = await session.execute(rti_query(scope, tz))
    return [rti_row(t, row) for row in result]


async def rti_csv(session: AsyncSession, scope: Scope, tz: ZoneInfo, t: Translator) -> bytes:
    """The information requests in scope as CSV, oldest first, without who asked."""
    return to_csv(header(t, RTI_COLUMNS), await rti_rows(session, scope, tz, t), tz)


async def rti_xlsx(session: AsyncSession, scope: Scope, tz: ZoneInfo, t: Translator) -> bytes:
    """The information requests in scope as an .xlsx workbook, the same as the CSV."""
    return to_xlsx("requests", header(t, RTI_COLUMNS), await rti_rows(session, scope, tz, t), tz)


def filename(kind: str, scope: Scope, today: date, extension: str = "csv") -> str:
    """A download name that says what and which period: "pact-cases-2026-01-01_2026-11-23.csv"."""
    if scope.start is None and scope.end is None:
        return f"pact-{kind}-all.{extension}"
    if scope.start is None:
        return f"pact-{kind}-until-{scope.end}.{extension}"
    return f"pact-{kind}-{scope.start}_{scope.end or today}.{extension}"
