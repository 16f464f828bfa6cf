"""Spreadsheet files from rows: CSV (every cell quoted, formulas neutralised even after a
separator, UTF-8 with a BOM) and .xlsx (text as string cells, never formulas; times as dates).

to_csv and to_xlsx build small files in memory. CsvZip and XlsxStream write any number of rows
to a file with flat memory: the CSV deflated inside a zip, and the workbook's sheet XML streamed
straight into its zip (openpyxl, even in write-only mode, needs about 0.4 ms a row, too slow for a
million rows; the XML here is the minimal SpreadsheetML Excel and openpyxl read). Their size() is
the bytes written so far, so a caller can cut parts under an upload limit.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
"""Control characters an .xlsx cell cannot hold (the same set openpyxl refuses)."""


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
    from openpyxl import Workbook  # imported on the first workbook, not at start-up
    from openpyxl.styles import Font

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


class CsvZip:
    """One CSV file, the same bytes to_csv makes, deflated into a zip file as rows arrive."""

    def __init__(self, path: Path, inner_name: str, header: Sequence[str], tz: ZoneInfo) -> None:
        self.path = path
        self.file = path.open("wb")
        self.archive = zipfile.ZipFile(self.file, "w", zipfile.ZIP_DEFLATED)
        self.entry = self.archive.open(inner_name, "w", force_zip64=True)
        self.text = io.TextIOWrapper(self.entry, encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.text, quoting=csv.QUOTE_ALL)
        self.tz = tz
        self.writer.writerow(header)

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        """Append rows."""
        tz = self.tz
        self.writer.writerows([cell(value, tz) for value in row] for row in rows)

    def size(self) -> int:
        """Compressed bytes written so far."""
        return self.file.tell()

    def close(self) -> None:
        """Finish the entry and the zip."""
        self.text.close()
        self.archive.close()
        self.file.close()


XLSX_ROWS = 1_048_576
"""Excel's most rows in a sheet, the header included."""
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONS = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
PACKAGE_PARTS = {
    "[Content_Types].xml": (
        f'{XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
        '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{TYPES}.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        f'ContentType="{TYPES}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{TYPES}.styles+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'{XML}<Relationships xmlns="{PACKAGE_RELATIONS}"><Relationship Id="rId1" '
        f'Type="{RELATIONS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'{XML}<Relationships xmlns="{PACKAGE_RELATIONS}">'
        f'<Relationship Id="rId1" Type="{RELATIONS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{RELATIONS}/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        f'{XML}<styleSheet xmlns="{MAIN}"><numFmts count="2">'
        f'<numFmt numFmtId="164" formatCode="{DATETIME_FORMAT}"/>'
        f'<numFmt numFmtId="165" formatCode="{DATE_FORMAT}"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="4">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    ),
}
HEADER_STYLE, DATETIME_STYLE, DATE_STYLE = 1, 2, 3
EPOCH = datetime(1899, 12, 30)
"""Day 0 of Excel's 1900 date system (serial numbers count days from here)."""
SHEET_START = (
    f'{XML}<worksheet xmlns="{MAIN}"><sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
    "<sheetData>"
)
SHEET_END = "</sheetData></worksheet>"


def column_letter(index: int) -> str:
    """A 0-based column index as Excel letters: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def text_cell(ref: str, text: str, style: int = 0) -> str:
    """An inline string cell: always text, never a formula, whatever it starts with."""
    text = escape(ILLEGAL_CHARACTERS_RE.sub("", text))
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def xlsx_cell(ref: str, value: Any, tz: ZoneInfo) -> str:
    """One cell as write_xlsx_cell writes it: local times and dates as dated serial numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return text_cell(ref, "yes" if value else "no")
    if isinstance(value, datetime):
        local = value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
        serial = (local - EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{DATETIME_STYLE}"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{DATE_STYLE}"><v>{(value - EPOCH.date()).days}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}" t="n"><v>{value!r}</v></c>'
    return text_cell(ref, str(value))


class XlsxStream:
    """An .xlsx workbook of one sheet (bold frozen header) whose rows stream into its zip."""

    def __init__(self, path: Path, title: str, header: Sequence[str], tz: ZoneInfo) -> None:
        self.path = path
        self.file = path.open("wb")
        self.archive = zipfile.ZipFile(self.file, "w", zipfile.ZIP_DEFLATED)
        for name, content in PACKAGE_PARTS.items():
            self.archive.writestr(name, content)
        self.archive.writestr(
            "xl/workbook.xml",
            f'{XML}<workbook xmlns="{MAIN}" xmlns:r="{RELATIONS}"><sheets>'
            f'<sheet name="{escape(title)}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        self.sheet: IO[bytes] = self.archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self.letters = [column_letter(i) for i in range(len(header))]
        self.tz = tz
        self.rows = 1
        cells = "".join(
            text_cell(f"{letter}1", name, HEADER_STYLE)
            for letter, name in zip(self.letters, header, strict=True)
        )
        self.sheet.write(f'{SHEET_START}<row r="1">{cells}</row>'.encode())

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        """Append rows (at most XLSX_ROWS in all, the header included)."""
        tz, letters, lines = self.tz, self.letters, []
        for row in rows:
            self.rows += 1
            number = self.rows
            cells = "".join(
                xlsx_cell(f"{letter}{number}", value, tz)
                for letter, value in zip(letters, row, strict=True)
            )
            lines.append(f'<row r="{number}">{cells}</row>')
        if self.rows > XLSX_ROWS:
            raise ValueError("more rows than an Excel sheet holds")
        self.sheet.write("".join(lines).encode())

    def size(self) -> int:
        """Compressed bytes written so far."""
        return self.file.tell()

    def close(self) -> None:
        """Finish the sheet and the zip."""
        self.sheet.write(SHEET_END.encode())
        self.sheet.close()
        self.archive.close()
        self.file.close()
