"""Spreadsheet files from rows: CSV (every cell quoted, formulas neutralised even after a
separator, UTF-8 with a BOM) and .xlsx (text as string cells, never formulas; times as dates)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make spreadsheets treat a text cell as a formula."""
FORMULA_AFTER_SEPARATOR = re.compile(r"([;,\t\r\n]\s*)([=+\-@])")
"""A formula character after a separator: a spreadsheet that splits on it would run the rest."""


def neutral(text: str) -> str:
    """Text that no spreadsheet runs as a formula, however it splits the cell: `'` before each."""
    text = FORMULA_AFTER_SEPARATOR.sub(r"\1'\2", text)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def cell(value: Any, tz: ZoneInfo) -> Any:
    """One CSV value: local ISO times, ISO dates, yes/no, and text that cannot run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutral(value)
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], tz: ZoneInfo) -> bytes:
    """A header and rows as CSV bytes, UTF-8 with a BOM, every cell quoted, lines ending in CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value, tz) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"


def write_xlsx_cell(sheet: Any, row: int, column: int, value: Any, tz: ZoneInfo) -> None:
    """One spreadsheet cell: text always as a string (never a formula), times as local dates."""
    if value is None:
        return
    target = sheet.cell(row=row, column=column)
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if isinstance(value, datetime):
        target.value = value.astimezone(tz).replace(tzinfo=None)
        target.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        target.value = value
        target.number_format = DATE_FORMAT
    elif isinstance(value, int | float):
        target.value = value
    else:
        target.value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        target.data_type = "s"


def to_xlsx(
    title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], tz: ZoneInfo
) -> bytes:
    """A header (bold, frozen) and rows as an .xlsx workbook of one sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    bold = Font(bold=True)
    for column, name in enumerate(header, start=1):
        sheet.cell(row=1, column=column, value=name).font = bold
    for row_number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            write_xlsx_cell(sheet, row_number, column, value, tz)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
