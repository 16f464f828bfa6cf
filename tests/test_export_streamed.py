"""The streamed export on both backends: the zipped CSV holds the same bytes as the in-memory
CSV, the streamed .xlsx the same cells as the openpyxl one, and a big export splits into parts by
period (under a size limit, or Excel's row limit), with captions saying which days each holds."""

from __future__ import annotations

import csv
import io
import itertools
import random
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.rti.services import directory
from bot.staff.services import export, export_files, spreadsheets
from bot.staff.services.filters import Scope
from db.models import Case, CaseKind, CaseStatus, Identification
from tests.test_export import (
    I18N,
    SQ,
    TZ,
    add_attack_case,
    assert_no_identities,
    authority_id,
    parse,
    seeded,
    sessions,
    workbook_text,
)

__all__ = ["seeded", "sessions"]
TODAY = date(2026, 11, 25)


async def streamed(
    maker: async_sessionmaker[AsyncSession],
    kind: str,
    scope: Scope,
    folder: Path,
    locale: str = "sq",
    limit: int = export_files.TELEGRAM_LIMIT,
) -> list[export_files.ExportFile]:
    """The files of a streamed export."""
    t = I18N.translator(locale)
    async with maker() as session, session.begin():
        files = await export_files.write_tables(session, kind, scope, TZ, t, folder, TODAY, limit)
    return export_files.captioned(t, files)


def unzipped(file: export_files.ExportFile) -> bytes:
    """The one CSV inside a zipped part, checking its name matches the download name."""
    with zipfile.ZipFile(file.path) as archive:
        [name] = archive.namelist()
        assert file.name == f"{name}.zip"
        return archive.read(name)


def cells(data_or_path: Any) -> list[list[tuple[Any, ...]]]:
    """Every cell of the only sheet as (value, type, number format, bold), plus the sheet's
    title and frozen pane in the first row."""
    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    [sheet] = load_workbook(source).worksheets
    rows = [
        [(c.value, c.data_type, c.number_format, bool(c.font.bold)) for c in row]
        for row in sheet.iter_rows()
    ]
    return [[(sheet.title, sheet.freeze_panes)], *rows]


@pytest.mark.parametrize("locale", ["sq", "en"])
async def test_streamed_files_hold_what_the_in_memory_files_held(
    sessions, seeded, tmp_path, locale
) -> None:
    ids, _refs = seeded
    await add_attack_case(sessions)
    t = I18N.translator(locale)
    for kind, scope in (
        ("cases", Scope(include_corruption=True)),
        ("cases", Scope()),
        ("rti", Scope()),
    ):
        folder = tmp_path / f"{kind}-{scope.include_corruption}"
        folder.mkdir()
        files = await streamed(sessions, kind, scope, folder, locale)
        assert [file.name for file in files] == [
            export.filename(kind, scope, TODAY, "csv.zip"),
            export.filename(kind, scope, TODAY, "xlsx"),
        ]
        assert all(file.caption is None for file in files), "one part needs no caption"
        async with sessions() as session:
            if kind == "cases":
                csv_data = await export.cases_csv(session, scope, TZ, t)
                xlsx_data = await export.cases_xlsx(session, scope, TZ, t)
            else:
                csv_data = await export.rti_csv(session, scope, TZ, t)
                xlsx_data = await export.rti_xlsx(session, scope, TZ, t)
        assert unzipped(files[0]) == csv_data
        assert cells(files[1].path) == cells(xlsx_data)
        text = workbook_text(files[1].path.read_bytes())
        assert "<f>" not in text
        assert_no_identities(csv_data.decode("utf-8-sig") + text, [], ids.secrets)


async def test_an_empty_streamed_export_has_its_headers(sessions, tmp_path) -> None:
    files = await streamed(sessions, "rti", Scope(), tmp_path)
    assert [file.rows for file in files] == [0, 0]
    _text, rows, header = parse(unzipped(files[0]), export.RTI_COLUMNS)
    assert rows == [] and tuple(header) == export.header(SQ, export.RTI_COLUMNS)
    assert [[c[0] for c in row] for row in cells(files[1].path)[1:]] == [list(header)]


async def add_many_cases(maker: async_sessionmaker[AsyncSession], days: int, per_day: int) -> None:
    """Cases with long descriptions, `per_day` on each of `days` days from 1 March 2026."""
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    async with maker() as session, session.begin():
        shkoder = await authority_id(session, directory.MUNICIPALITY, "Shkodër")
        session.add_all(
            Case(
                reference=f"PACT-2026-{day * per_day + n:05d}",
                kind=CaseKind.SERVICE,
                status=CaseStatus.RECEIVED,
                identification=Identification.ANONYMOUS,
                municipality_id=shkoder,
                category="water",
                description=f"Rast {day}-{n}: {random.Random(day * 100 + n).getrandbits(2400)}",
                created_at=start + timedelta(days=day, minutes=n),
                updated_at=start + timedelta(days=day, minutes=n),
            )
            for day in range(days)
            for n in range(per_day)
        )


def csv_rows(files: list[export_files.ExportFile]) -> list[list[str]]:
    """The data rows of every zipped CSV part in turn, after checking each has the header."""
    rows = []
    for file in files:
        if file.name.endswith(".zip"):
            header, *lines = csv.reader(io.StringIO(unzipped(file).decode("utf-8-sig"), newline=""))
            assert tuple(header) == export.header(SQ, export.CASE_COLUMNS)
            rows += lines
    return rows


async def test_a_big_export_splits_by_period_with_captions(sessions, tmp_path, monkeypatch) -> None:
    await add_many_cases(sessions, days=12, per_day=15)
    monkeypatch.setattr(export_files, "SIZE_EVERY", 5)
    monkeypatch.setattr(export_files, "HARD", 10.0)
    monkeypatch.setattr(export_files, "PAGE", 7)
    whole = await streamed(sessions, "cases", Scope(), tmp_path)
    everything = csv_rows(whole)
    assert len(everything) == 180
    folder = tmp_path / "parts"
    folder.mkdir()
    limit = 20_000
    files = await streamed(sessions, "cases", Scope(), folder, limit=limit)
    parts = len(files) // 2
    assert parts >= 3
    assert csv_rows(files) == everything, "the parts hold every row once, in order"
    csv_files, xlsx_files = files[0::2], files[1::2]
    for number, (zipped, book) in enumerate(zip(csv_files, xlsx_files, strict=True), start=1):
        assert zipped.rows == book.rows and (zipped.first, zipped.last) == (book.first, book.last)
        assert zipped.caption == book.caption
        assert zipped.first is not None and zipped.last is not None
        assert zipped.caption == SQ.gettext(
            "Part {part} of {parts}: created from {first} to {last}.",
            part=number,
            parts=parts,
            first=SQ.date(zipped.first),
            last=SQ.date(zipped.last),
        )
        sheet_rows = cells(book.path)[2:]
        assert [row[0][0] for row in sheet_rows] == [row[0] for row in csv_rows([zipped])], (
            "the .xlsx part holds the CSV part's rows"
        )
    for earlier, later in itertools.pairwise(csv_files):
        assert earlier.last is not None and later.first is not None
        assert earlier.last < later.first, "a part ends with its last day's last case"
    assert len({file.name for file in files}) == len(files)


async def test_excels_row_limit_splits_the_export(sessions, tmp_path, monkeypatch) -> None:
    await add_many_cases(sessions, days=5, per_day=3)
    monkeypatch.setattr(export_files, "XLSX_ROWS", 8)
    monkeypatch.setattr(export_files, "PAGE", 4)
    files = await streamed(sessions, "cases", Scope(), tmp_path)
    assert [file.rows for file in files[1::2]] == [7, 7, 1], "7 rows and the header"
    assert len(csv_rows(files)) == 15


def test_streamed_xlsx_never_makes_formulas_and_drops_control_characters(tmp_path) -> None:
    rows = [("=SUM(A1:A9)", "bell\x07 and\x00 nul <&>", "+1", -3, True, None)]
    stream = spreadsheets.XlsxStream(
        tmp_path / "a.xlsx", "cases", ["a", "b", "c", "d", "e", "f"], TZ
    )
    stream.write(rows)
    stream.close()
    [_title, _header, row] = cells(tmp_path / "a.xlsx")
    assert [c[0] for c in row[:5]] == ["=SUM(A1:A9)", "bell and nul <&>", "+1", -3, "yes"]
    assert [c[1] for c in row[:5]] == ["s", "s", "s", "n", "s"]
    assert row[5][0] is None
    memory = spreadsheets.to_xlsx("cases", ["a", "b", "c", "d", "e", "f"], rows, TZ)
    assert cells(tmp_path / "a.xlsx") == cells(memory)
