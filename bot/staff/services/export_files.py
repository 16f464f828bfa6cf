"""Export files for Telegram: rows streamed from the database and written off the event loop into
a zipped CSV and an .xlsx per part, each part under the 50 MB upload limit.

Rows are read a page at a time, each page one short query after the last row's (created_at, id)
(index ix_cases_created), so no statement runs long enough to meet the command timeout and no
cursor stays open; each page is turned into words and written in a worker thread while the loop
fetches the next one, so memory stays flat whatever the number of rows and the loop is never
held for long. Rows come oldest
first, so when a file nears the limit (or Excel's row limit) the part ends with that day's last
row and the next part starts on the following day: the parts split the export by period, which
each part's caption says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import Translator, plain
from bot.staff.services import export
from bot.staff.services.filters import Scope
from bot.staff.services.spreadsheets import XLSX_ROWS, CsvZip, XlsxStream

TELEGRAM_LIMIT = 50_000_000
"""Telegram's upload limit for bots (50 MB)."""
SOFT, HARD = 0.9, 0.97
"""A part ends at the end of a day once a file passes SOFT of the limit, at once at HARD."""
PAGE = 500
"""Rows fetched (one short query each, by keyset) and written at a time. The loop turns each
page's rows into Python values itself (SQLAlchemy's result processing), so pages stay small:
with 2,000 rows the loop stalled more often and longer (measured, a loaded machine)."""
SIZE_EVERY = 200
"""Rows between two looks at the files' sizes."""
SHEETS = {"cases": "cases", "rti": "requests"}
"""The sheet's title per kind, as export.cases_xlsx and export.rti_xlsx name it."""


@dataclass
class ExportFile:
    """One file to send: where it is, its download name, what it holds and its caption."""

    path: Path
    name: str
    rows: int
    first: date | None
    last: date | None
    caption: str | None = None


@dataclass
class Part:
    """The two open files of one part and the days of their first and last rows."""

    number: int
    csv: CsvZip
    xlsx: XlsxStream
    csv_name: str
    xlsx_name: str
    rows: int = 0
    written: int = 0
    first: date | None = None
    last: date | None = None

    def size(self) -> int:
        """The bigger of the two files so far."""
        return max(self.csv.size(), self.xlsx.size())

    def close(self) -> None:
        """Finish both files."""
        self.csv.close()
        self.xlsx.close()


@dataclass
class PartWriter:
    """Writes converted rows into parts, starting a new part when one is full; runs in a thread."""

    folder: Path
    kind: str
    scope: Scope
    today: date
    tz: ZoneInfo
    header: Sequence[str]
    convert: Callable[[Any], tuple[Any, ...]]
    created: int
    """The raw row's index of its creation time, which orders the rows and dates the parts."""
    limit: int = TELEGRAM_LIMIT
    parts: list[Part] = field(default_factory=list)

    def open(self) -> Part:
        """Start the next part's files."""
        number = len(self.parts) + 1
        suffix = "" if number == 1 else f"-{number}"
        base = export.filename(self.kind, self.scope, self.today, "csv")[: -len(".csv")] + suffix
        csv_name, xlsx_name = f"{base}.csv", f"{base}.xlsx"
        part = Part(
            number,
            CsvZip(self.folder / f"{base}.csv.zip", csv_name, self.header, self.tz),
            XlsxStream(self.folder / xlsx_name, SHEETS[self.kind], self.header, self.tz),
            csv_name,
            xlsx_name,
        )
        self.parts.append(part)
        return part

    def write(self, rows: Sequence[Any]) -> None:
        """Convert and write raw rows, cutting parts at day ends near the limits."""
        part = self.parts[-1] if self.parts else self.open()
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            day = self.day(row[self.created])
            if self.full(part, len(batch), day):
                self.flush(part, batch)
                batch = []
                part = self.next()
            batch.append(self.convert(row))
            if part.first is None:
                part.first = day
            part.last = day
            if len(batch) >= SIZE_EVERY:
                self.flush(part, batch)
                batch = []
        self.flush(part, batch)

    def full(self, part: Part, pending: int, day: date) -> bool:
        """Whether the part must end before a row of `day`."""
        rows = part.rows + pending
        if rows == 0:
            return False
        if rows >= XLSX_ROWS - 1 or part.written >= self.limit * HARD:
            return True
        return part.written >= self.limit * SOFT and day != part.last

    def flush(self, part: Part, batch: list[tuple[Any, ...]]) -> None:
        """Write the converted rows to both files of the part and note their size."""
        if batch:
            part.csv.write(batch)
            part.xlsx.write(batch)
            part.rows += len(batch)
            part.written = part.size()

    def next(self) -> Part:
        """Finish the current part and start the next."""
        self.parts[-1].close()
        return self.open()

    def day(self, moment: datetime) -> date:
        """The local day of a creation time."""
        return moment.astimezone(self.tz).date()

    def close(self) -> list[Part]:
        """Finish the last part (an empty export is one part with the headers only)."""
        (self.parts[-1] if self.parts else self.open()).close()
        return self.parts

    def abort(self) -> None:
        """Close whatever is open after a failure."""
        if self.parts:
            self.parts[-1].close()


QUERIES = {
    "cases": (export.cases_query, export.CASE_COLUMNS, 16, 20),
    "rti": (export.rti_query, export.RTI_COLUMNS, 14, 0),
}
"""Per kind: the query, the exported columns, and the raw row's indexes of the creation time and
the id, the key that orders the rows and pages through them."""


def converter(kind: str, t: Translator) -> Callable[[Any], tuple[Any, ...]]:
    """The function turning one raw row of the kind's query into exported values."""
    if kind == "cases":
        labels = export.category_labels(t)
        return lambda row: export.case_row(t, labels, row)
    return lambda row: export.rti_row(t, row)


async def write_tables(
    session: AsyncSession,
    kind: str,
    scope: Scope,
    tz: ZoneInfo,
    t: Translator,
    folder: Path,
    today: date,
    limit: int = TELEGRAM_LIMIT,
) -> list[ExportFile]:
    """Write the kind's ("cases" or "rti") export into `folder` as zipped CSV and .xlsx parts,
    each under `limit` bytes; returns the files, CSV then .xlsx of each part in turn."""
    query, columns, created, identity = QUERIES[kind]
    writer = PartWriter(
        folder,
        kind,
        scope,
        today,
        tz,
        export.header(t, columns),
        converter(kind, t),
        created,
        limit,
    )
    writing: asyncio.Future[None] | None = None
    key = None
    try:
        while True:
            rows = (await session.execute(query(scope, tz, key, PAGE))).all()
            if writing is not None:
                await writing
            if not rows:
                break
            writing = asyncio.ensure_future(asyncio.to_thread(writer.write, rows))
            key = rows[-1][created], rows[-1][identity]
        parts = await asyncio.to_thread(writer.close)
    except BaseException:
        if writing is not None and not writing.done():
            await asyncio.wait([writing])
        await asyncio.to_thread(writer.abort)
        raise
    return [
        file
        for part in parts
        for file in (
            ExportFile(part.csv.path, f"{part.csv_name}.zip", part.rows, part.first, part.last),
            ExportFile(part.xlsx.path, part.xlsx_name, part.rows, part.first, part.last),
        )
    ]


def captioned(t: Translator, files: list[ExportFile]) -> list[ExportFile]:
    """The files with a caption on each part when the export was split: which days it holds."""
    parts = len(files) // 2
    if parts < 2:
        return files
    for index, file in enumerate(files):
        assert file.first is not None and file.last is not None
        file.caption = plain(
            t.gettext(
                "Part {part} of {parts}: created from {first} to {last}.",
                part=index // 2 + 1,
                parts=parts,
                first=t.date(file.first),
                last=t.date(file.last),
            )
        )
    return files
