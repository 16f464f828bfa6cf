"""CSV and .xlsx exports on both backends: columns, order, scope, encoding, formulas that never
run, no protected identities, and headers and values in the staff member's language."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases.services import case_rules as cases
from bot.core.i18n import I18n
from bot.rti.services import directory
from bot.staff.services import export
from bot.staff.services.filters import Scope
from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import (
    Authority,
    CaseContact,
    CaseEvent,
    CaseKind,
    CaseStatus,
    Identification,
    RtiRequest,
    User,
)

TZ = ZoneInfo("Europe/Tirane")
I18N = I18n("sq", "Europe/Tirane")
SQ = I18N.translator("sq")
CASE_HEADER, RTI_HEADER = (
    export.header(SQ, export.CASE_COLUMNS),
    export.header(SQ, export.RTI_COLUMNS),
)
NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)
TELEGRAM_IDS = ("123456789", "555000111", "777000333")
USER_IDS = ("880001", "880002", "880003")
SECRET_NOTE = "XYLOPHONE-internal: the reporter is the mayor's cousin"
ORIGINAL = "ORIGINAL-UNREDACTED call me on 069 111 2222"
REQUESTERS = ("Blerina Hoxha", "Gëzim Çela")
ADDRESSES = ("blerina.hoxha@example.com", "Rruga Ndre Mjeda 12, Shkodër")
DESCRIPTION = "Ujë i ndotur në lagjen Çajupi; fëmijët sëmuren."


def tirana(*parts: int) -> datetime:
    """A moment given in Tirana wall-clock time."""
    return datetime(*parts, tzinfo=TZ)


@dataclass
class Seeded:
    """What the tests look for in the files."""

    shkoder: int
    malesi: int
    other_authority: int
    secrets: list[str]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated database with authorities."""
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    maker = create_sessionmaker(engine)
    async with maker() as session, session.begin():
        await directory.seed(session, NOW)
    yield maker
    await engine.dispose()


async def authority_id(session: AsyncSession, kind: str, name: str | None = None) -> int:
    """The id of a seeded authority."""
    query = select(Authority.id).where(Authority.kind == kind).order_by(Authority.id).limit(1)
    if name is not None:
        query = query.where(Authority.name == name)
    return (await session.execute(query)).scalar_one()


def add_users(session: AsyncSession) -> tuple[User, User, User]:
    """The confidential reporter, the named reporter and a staff member, with recognisable ids."""
    confidential, named, staff = (
        User(id=int(uid), telegram_id=int(tid), created_at=NOW, updated_at=NOW, consents=[])
        for uid, tid in zip(USER_IDS, TELEGRAM_IDS, strict=True)
    )
    session.add_all([confidential, named, staff])
    return confidential, named, staff


def service(identification: Identification, municipality_id: int, **extra: Any) -> cases.NewCase:
    """A water complaint in a municipality."""
    return cases.NewCase(
        kind=CaseKind.SERVICE,
        identification=identification,
        description=DESCRIPTION,
        municipality_id=municipality_id,
        unit="Velipojë",
        category="water",
        **extra,
    )


async def add_cases(session: AsyncSession, ids: Seeded) -> dict[str, int]:
    """Four cases inserted out of date order, with events, files and every kind of secret."""
    confidential_user, named_user, staff = add_users(session)
    await session.flush()
    anonymous = await cases.create(
        session, service(Identification.ANONYMOUS, ids.shkoder), None, tirana(2026, 11, 24, 0, 10)
    )
    named_new = service(
        Identification.NAMED,
        ids.shkoder,
        reporter_display="Arta K.",
        latitude=42.0683,
        longitude=19.5126,
        location_text='=HYPERLINK("http://evil")',
        attachments=[
            cases.Attachment(kind="photo", file_id="photo-file-1"),
            cases.Attachment(kind="photo", file_id="photo-file-2"),
            cases.Attachment(kind="voice", file_id="voice-file-1"),
        ],
    )
    named = await cases.create(session, named_new, named_user, tirana(2026, 1, 1, 0, 30))
    corruption_new = cases.NewCase(
        kind=CaseKind.CORRUPTION,
        identification=Identification.ANONYMOUS,
        description="Kërkuan ryshfet për lejen.",
        institution="Zyra e Gjendjes Civile",
        happened_when="mars 2026",
    )
    corruption = await cases.create(session, corruption_new, None, tirana(2026, 6, 1, 12))
    confidential_new = service(Identification.CONFIDENTIAL, ids.malesi)
    confidential = await cases.create(
        session, confidential_new, confidential_user, tirana(2026, 11, 23, 23, 30)
    )
    confidential.case.original_description = ORIGINAL
    confidential.case.reporter_display = "Leak"
    confidential.case.assignee_user_id = staff.id
    await cases.change_status(
        session,
        confidential.case,
        CaseStatus.FORWARDED,
        public_note="Iu përcoll bashkisë.",
        actor_user_id=staff.id,
        now=tirana(2026, 11, 24, 8),
    )
    session.add(
        CaseEvent(
            case_id=confidential.case.id,
            at=tirana(2026, 11, 24, 9),
            kind="note",
            public_text=SECRET_NOTE,
            internal=True,
            staff_user_id=staff.id,
        )
    )
    await cases.change_status(
        session,
        anonymous.case,
        CaseStatus.DUPLICATE,
        public_note=None,
        actor_user_id=staff.id,
        now=tirana(2026, 11, 24, 10),
        duplicate_of=named.case,
    )
    await session.flush()
    contact = await session.get(CaseContact, confidential.case.id)
    assert contact is not None and anonymous.case.secret_hash and anonymous.secret_code
    ids.secrets += [contact.relay_code, anonymous.case.secret_hash, anonymous.secret_code]
    return {
        "anonymous": anonymous.case.reference,
        "named": named.case.reference,
        "corruption": corruption.case.reference,
        "confidential": confidential.case.reference,
    }


def add_requests(session: AsyncSession, ids: Seeded) -> None:
    """Two information requests from named requesters, one to a municipality."""
    for index, (authority, created) in enumerate(
        ((ids.shkoder, tirana(2026, 2, 1, 0, 15)), (ids.other_authority, tirana(2026, 11, 23, 9)))
    ):
        session.add(
            RtiRequest(
                user_id=int(USER_IDS[index]),
                authority_id=authority,
                information="Kontratat e ndriçimit publik 2025",
                format="electronic",
                reply_channel="email" if index == 0 else "post",
                reply_address=ADDRESSES[index],
                requester_name=REQUESTERS[index],
                status="sent",
                sent_on=date(2026, 2, 2),
                protocol_number="Prot. 45/2" if index == 0 else None,
                due_on=date(2026, 3, 16),
                extended=index == 1,
                transferred=False,
                created_at=created,
                updated_at=created,
            )
        )


@pytest.fixture
async def seeded(sessions: async_sessionmaker[AsyncSession]) -> tuple[Seeded, dict[str, int]]:
    """Cases and requests on a fresh database."""
    async with sessions() as session, session.begin():
        ids = Seeded(
            shkoder=await authority_id(session, directory.MUNICIPALITY, "Shkodër"),
            malesi=await authority_id(session, directory.MUNICIPALITY, "Malësi e Madhe"),
            other_authority=await authority_id(session, directory.OTHER),
            secrets=[],
        )
        references = await add_cases(session, ids)
        add_requests(session, ids)
    return ids, references


def parse(data: bytes, columns: dict[str, str]) -> tuple[str, list[dict[str, str]], list[str]]:
    """The text, rows (by column key) and header of an exported file, after checking the BOM and
    CRLF lines."""
    assert data.startswith(codecs.BOM_UTF8)
    text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    header, *lines = csv.reader(io.StringIO(text, newline=""))
    rows = [dict(zip(columns, line, strict=True)) for line in lines]
    return text, rows, header


async def cases_file(sessions, scope: Scope, locale: str = "sq"):
    """Export cases in a scope and parse the result."""
    async with sessions() as session:
        data = await export.cases_csv(session, scope, TZ, I18N.translator(locale))
    return parse(data, export.CASE_COLUMNS)


async def rti_file(sessions, scope: Scope, locale: str = "sq"):
    """Export requests in a scope and parse the result."""
    async with sessions() as session:
        data = await export.rti_csv(session, scope, TZ, I18N.translator(locale))
    return parse(data, export.RTI_COLUMNS)


def assert_no_identities(text: str, rows: list[dict[str, str]], secrets: list[str]) -> None:
    """No protected value anywhere: not in any field, not in the file as a whole."""
    forbidden = [*TELEGRAM_IDS, *USER_IDS, SECRET_NOTE, ORIGINAL, *REQUESTERS, *ADDRESSES, *secrets]
    forbidden += ["XYLOPHONE", "ORIGINAL-UNREDACTED", "Blerina", "Gëzim", "Leak"]
    for value in forbidden:
        assert value not in text, value
        for row in rows:
            assert all(value not in field for field in row.values()), value


async def test_cases_columns_order_content_and_no_identities(sessions, seeded) -> None:
    ids, refs = seeded
    text, rows, header = await cases_file(sessions, Scope(include_corruption=True))
    assert tuple(header) == CASE_HEADER
    assert header[:3] == ["Numri i rastit", "Lloji", "Statusi"]
    assert [r["reference"] for r in rows] == [
        refs["named"],
        refs["corruption"],
        refs["confidential"],
        refs["anonymous"],
    ]
    named, corruption, confidential, anonymous = rows
    assert named["reporter"] == "Arta K." and named["identification"] == "me emër"
    assert confidential["reporter"] == "" and anonymous["reporter"] == ""
    assert corruption["reporter"] == ""
    assert named["municipality"] == "Shkodër" and named["description"] == DESCRIPTION
    assert named["category"] == "Furnizimi me ujë të pijshëm"
    assert (named["photos"], named["attachments"]) == ("2", "3")
    assert (confidential["photos"], confidential["attachments"]) == ("0", "0")
    assert (named["latitude"], named["longitude"]) == ("42.0683", "19.5126")
    assert named["location_text"].startswith("'="), "no formulas run in a spreadsheet"
    assert named["created_at"] == "2026-01-01 00:30"
    assert confidential["updated_at"] == "2026-11-24 08:00"
    assert confidential["last_public_note"] == "Iu përcoll bashkisë."
    assert confidential["status"] == "i përcjellë te institucioni"
    assert confidential["municipality"] == "Malësi e Madhe"
    assert anonymous["duplicate_of"] == refs["named"]
    assert anonymous["status"] == "dublikatë e një rasti tjetër"
    assert anonymous["last_public_note"] == ""
    assert corruption["category"] == "Korrupsion" and corruption["municipality"] == ""
    assert (named["kind"], corruption["kind"]) == ("Problem me shërbimin", "Raportim korrupsioni")
    assert corruption["institution"] == "Zyra e Gjendjes Civile"
    assert_no_identities(text, rows, ids.secrets)


async def test_cases_scope_period_edges_municipality_and_corruption(sessions, seeded) -> None:
    ids, refs = seeded

    async def references(scope: Scope) -> list[str]:
        return [row["reference"] for row in (await cases_file(sessions, scope))[1]]

    assert await references(Scope()) == [refs["named"], refs["confidential"], refs["anonymous"]]
    year = Scope(start=date(2026, 1, 1), end=date(2026, 11, 23))
    assert await references(year) == [refs["named"], refs["confidential"]], "Tirana days"
    assert await references(Scope(end=date(2025, 12, 31))) == []
    assert await references(Scope(start=date(2026, 11, 24))) == [refs["anonymous"]]
    assert await references(Scope(municipality_ids=(ids.malesi,))) == [refs["confidential"]]
    assert await references(Scope(municipality_ids=())) == []
    with_corruption = Scope(start=date(2026, 6, 1), end=date(2026, 6, 1), include_corruption=True)
    assert await references(with_corruption) == [refs["corruption"]]
    scoped = Scope(municipality_ids=(ids.shkoder, ids.malesi), include_corruption=True)
    assert refs["corruption"] not in await references(scoped), "no municipality, not in scope"


async def test_cases_category_in_english(sessions, seeded) -> None:
    _text, rows, _header = await cases_file(sessions, Scope(), locale="en")
    assert {row["category"] for row in rows} == {"Drinking water supply"}


ENGLISH_WORDS = {"forwarded", "duplicate", "corruption", "named", "anonymous", "yes", "no"}
"""Stored values that once leaked into Albanian exports."""


async def test_albanian_export_has_no_english_words(sessions, seeded) -> None:
    """Every cell of an Albanian export is in Albanian: no stored keys, no yes/no."""
    texts = [await cases_file(sessions, Scope(include_corruption=True))]
    texts.append(await rti_file(sessions, Scope()))
    for _text, rows, header in texts:
        cells = {cell.lower() for row in rows for cell in row.values()} | set(header)
        assert cells & ENGLISH_WORDS == set()
        assert not [h for h in header if "_" in h], "headers are words, not column keys"


async def test_english_export_speaks_english(sessions, seeded) -> None:
    _ids, refs = seeded
    _text, rows, header = await cases_file(sessions, Scope(include_corruption=True), "en")
    assert header[:3] == ["Case number", "Kind", "Status"]
    by_reference = {row["reference"]: row for row in rows}
    assert by_reference[refs["confidential"]]["status"] == "forwarded to the institution"
    assert by_reference[refs["corruption"]]["category"] == "Corruption"
    _text, requests, header = await rti_file(sessions, Scope(), "en")
    assert "Deadline extended" in header
    assert requests[0]["authority"] == "Municipality of Shkodër"
    assert (requests[0]["extended"], requests[1]["extended"]) == ("no", "yes")


async def test_rti_columns_scope_and_no_requester(sessions, seeded) -> None:
    ids, _refs = seeded
    text, rows, header = await rti_file(sessions, Scope())
    assert tuple(header) == RTI_HEADER
    first, second = rows
    assert first["authority"] == "Bashkia Shkodër" and first["protocol_number"] == "Prot. 45/2"
    assert first["created_at"] == "2026-02-01 00:15" and first["sent_on"] == "2026-02-02"
    assert (first["extended"], second["extended"]) == ("jo", "po")
    assert first["status"] == "e dërguar, pret përgjigjen"
    assert first["format"] == "kopje elektronike"
    assert not second["authority"].startswith("Bashkia") and int(second["number"])
    assert_no_identities(text, rows, ids.secrets)
    assert "Kontratat" not in text, "the request text stays out"
    edge = await rti_file(sessions, Scope(start=date(2026, 2, 1), end=date(2026, 2, 1)))
    assert [row["number"] for row in edge[1]] == [first["number"]], "00:15 Tirana is 1 February"
    assert (await rti_file(sessions, Scope(end=date(2026, 1, 31))))[1] == []
    only_shkoder = await rti_file(sessions, Scope(municipality_ids=(ids.shkoder,)))
    assert [row["number"] for row in only_shkoder[1]] == [first["number"]]


async def test_empty_export_still_has_a_header(sessions) -> None:
    text, rows, header = await rti_file(sessions, Scope())
    assert rows == [] and tuple(header) == RTI_HEADER and text.count("\r\n") == 1


def test_file_names() -> None:
    today = date(2026, 11, 23)
    assert export.filename("cases", Scope(), today) == "pact-cases-all.csv"
    assert export.filename("rti", Scope(), today) == "pact-rti-all.csv"
    since = Scope(start=date(2026, 1, 1))
    assert export.filename("cases", since, today) == "pact-cases-2026-01-01_2026-11-23.csv"
    both = Scope(start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert export.filename("rti", both, today) == "pact-rti-2026-03-01_2026-03-31.csv"
    until = Scope(end=date(2026, 6, 30))
    assert export.filename("cases", until, today) == "pact-cases-until-2026-06-30.csv"
    assert export.filename("cases", until, today, "xlsx") == "pact-cases-until-2026-06-30.xlsx"
    assert export.filename("rti", Scope(), today, "xlsx") == "pact-rti-all.xlsx"


ATTACK = "x;=cmd|' /C calc'!A0"
"""Harmless in one cell; a spreadsheet that splits on ; would run the second half."""
MORE_ATTACKS = ("Rruga 5, +1+cmd|' /C calc'!A0", "ok\n@SUM(1+1)", "a,\t-2+3", "b; =1+1")
FORMULA_CHARACTERS = ("=", "+", "-", "@")


async def add_attack_case(sessions: async_sessionmaker[AsyncSession]) -> None:
    """A named service case whose typed texts try to run formulas after separators."""
    async with sessions() as session, session.begin():
        shkoder = await authority_id(session, directory.MUNICIPALITY, "Shkodër")
        new = service(
            Identification.NAMED,
            shkoder,
            reporter_display="=1+2;@x",
            location_text=MORE_ATTACKS[0],
        )
        new.description = ATTACK + " | " + " | ".join(MORE_ATTACKS[1:])
        reporter = User(id=990001, telegram_id=990001001, created_at=NOW, updated_at=NOW)
        reporter.consents = []
        session.add(reporter)
        await session.flush()
        await cases.create(session, new, reporter, tirana(2026, 3, 1, 10))


def pieces(text: str) -> list[str]:
    """Every piece a spreadsheet could make of the file, splitting on any separator it uses."""
    result = [text]
    for separator in (";", ",", "\t", "\r", "\n"):
        result = [piece for part in result for piece in part.split(separator)]
    return [piece.strip().strip('"').strip() for piece in result]


async def test_csv_quotes_every_cell_and_no_formula_runs_after_a_separator(sessions) -> None:
    await add_attack_case(sessions)
    async with sessions() as session:
        data = await export.cases_csv(session, Scope(), TZ, SQ)
    assert data.startswith(codecs.BOM_UTF8)
    text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
    header, row = list(csv.reader(io.StringIO(text, newline="")))
    requoted = io.StringIO()
    csv.writer(requoted, quoting=csv.QUOTE_ALL).writerows([header, row])
    assert text == requoted.getvalue(), "every cell quoted"
    fields = dict(zip(export.CASE_COLUMNS, row, strict=True))
    assert fields["description"].startswith("x;'=cmd|")
    assert "\n'@SUM" in fields["description"] and "a,\t'-2+3" in fields["description"]
    assert fields["location_text"] == "Rruga 5, '+1+cmd|' /C calc'!A0"
    assert fields["reporter"] == "'=1+2;'@x"
    for piece in pieces(text):
        assert not piece.startswith(FORMULA_CHARACTERS), f"a split there would run {piece!r}"


def workbook_cells(data: bytes) -> tuple[Any, list[list[Any]]]:
    """The only sheet of an .xlsx file and its cells row by row, after checking it is one."""
    assert data.startswith(b"PK")
    book = load_workbook(io.BytesIO(data))
    [sheet] = book.worksheets
    return sheet, [list(row) for row in sheet.iter_rows()]


def workbook_text(data: bytes) -> str:
    """Every XML part of the .xlsx file as one text, to look for values anywhere in it."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist())


async def test_xlsx_cells_are_strings_dates_and_numbers_with_a_bold_frozen_header(
    sessions, seeded
) -> None:
    ids, refs = seeded
    await add_attack_case(sessions)
    async with sessions() as session:
        data = await export.cases_xlsx(session, Scope(include_corruption=True), TZ, SQ)
    sheet, rows = workbook_cells(data)
    assert sheet.title == "cases" and sheet.freeze_panes == "A2"
    assert tuple(c.value for c in rows[0]) == CASE_HEADER
    assert all(c.font.bold for c in rows[0])
    by_reference = {
        row[0].value: dict(zip(export.CASE_COLUMNS, row, strict=False)) for row in rows[1:]
    }
    assert next(iter(by_reference)) == refs["named"] and refs["anonymous"] in by_reference
    named = by_reference[refs["named"]]
    assert named["location_text"].value == '=HYPERLINK("http://evil")'
    assert named["location_text"].data_type == "s", "a string, never a formula"
    attack = next(r for r in by_reference.values() if str(r["description"].value).startswith("x;"))
    assert attack["description"].value.startswith(ATTACK) and attack["description"].data_type == "s"
    assert attack["reporter"].value == "=1+2;@x" and attack["reporter"].data_type == "s"
    formulas = [c.coordinate for row in rows for c in row if c.data_type == "f"]
    assert formulas == [] and "<f>" not in workbook_text(data)
    assert named["created_at"].value == datetime(2026, 1, 1, 0, 30), "Tirana time, a date"
    assert named["created_at"].is_date
    assert named["latitude"].value == pytest.approx(42.0683) and named["photos"].value == 2
    assert named["reporter"].value == "Arta K."
    assert named["category"].value == "Furnizimi me ujë të pijshëm"
    confidential = by_reference[refs["confidential"]]
    assert confidential["reporter"].value is None
    assert confidential["last_public_note"].value == "Iu përcoll bashkisë."
    everything = workbook_text(data)
    values = [str(c.value) for row in rows for c in row if c.value is not None]
    assert_no_identities(everything, [dict(enumerate(values))], ids.secrets)


async def test_rti_xlsx_has_dates_and_no_requester(sessions, seeded) -> None:
    ids, _refs = seeded
    async with sessions() as session:
        data = await export.rti_xlsx(session, Scope(), TZ, SQ)
    sheet, rows = workbook_cells(data)
    assert tuple(c.value for c in rows[0]) == RTI_HEADER and sheet.freeze_panes == "A2"
    first = dict(zip(export.RTI_COLUMNS, rows[1], strict=True))
    assert first["authority"].value == "Bashkia Shkodër" and first["extended"].value == "jo"
    assert first["sent_on"].is_date and first["sent_on"].value.date() == date(2026, 2, 2)
    assert first["created_at"].value == datetime(2026, 2, 1, 0, 15)
    assert len(rows) == 3
    everything = workbook_text(data)
    assert "Kontratat" not in everything
    values = [str(c.value) for row in rows for c in row if c.value is not None]
    assert_no_identities(everything, [dict(enumerate(values))], ids.secrets)


async def test_an_empty_xlsx_still_has_its_header(sessions) -> None:
    async with sessions() as session:
        data = await export.rti_xlsx(session, Scope(), TZ, SQ)
    _sheet, rows = workbook_cells(data)
    assert [[c.value for c in row] for row in rows] == [list(RTI_HEADER)]


def test_xlsx_keeps_text_with_control_characters_and_never_makes_formulas() -> None:
    from bot.staff.services import spreadsheets

    rows = [("=SUM(A1:A9)", "bell\x07 and\x00 nul", "+1", -3, True, None)]
    data = spreadsheets.to_xlsx("cases", ["a", "b", "c", "d", "e", "f"], rows, TZ)
    _sheet, [_header, row] = workbook_cells(data)
    assert [c.value for c in row[:5]] == ["=SUM(A1:A9)", "bell and nul", "+1", -3, "yes"]
    assert [c.data_type for c in row[:5]] == ["s", "s", "s", "n", "s"]
    assert row[5].value is None
