"""Case numbers, per year: a SEQUENCE on PostgreSQL, the year's counter row on SQLite.

On PostgreSQL each year has its own sequence, ``case_number_YYYY``: ``nextval`` takes no lock held
until the commit, so case submissions no longer queue behind one another's transactions (the
locked counter row serialised them). A number drawn by a transaction that then rolls back is not
given again: numbers stay unique and increasing within the year, with gaps (acceptable: a
reference only has to be unique and readable). A year's sequence is made the first time a case
is numbered in it (migration 0020 made those of the years already counted), starting after that
year's counter row, so numbers continue. On SQLite, with one writer at a time anyway, the
year's counter row is bumped in the transaction: no gaps.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseCounter


def sequence_name(year: int) -> str:
    """The sequence of one year's case numbers."""
    return f"case_number_{int(year)}"


async def next_number(session: AsyncSession, year: int) -> int:
    """The next case number of `year` (1, 2, ...), unique and increasing; see the module."""
    if session.get_bind().dialect.name != "postgresql":
        statement = (
            sqlite_insert(CaseCounter)
            .values(year=year, last=1)
            .on_conflict_do_update(index_elements=["year"], set_={"last": CaseCounter.last + 1})
            .returning(CaseCounter.last)
        )
        return int((await session.execute(statement)).scalar_one())
    # nextval of a missing sequence is NULL here, not an error that would end the transaction.
    drawn = text("SELECT nextval(to_regclass(:name))")
    number = await session.scalar(drawn, {"name": sequence_name(year)})
    if number is None:
        await _make_sequence(session, year)
        number = await session.scalar(drawn, {"name": sequence_name(year)})
    return int(number)


async def last_number(session: AsyncSession, year: int) -> int:
    """The highest number given out in `year` so far (0: none); for checks and tests."""
    counted = await session.scalar(select(CaseCounter.last).where(CaseCounter.year == year))
    if session.get_bind().dialect.name != "postgresql":
        return int(counted or 0)
    exists = await session.scalar(text("SELECT to_regclass(:name)"), {"name": sequence_name(year)})
    if exists is None:
        return int(counted or 0)
    found = await session.execute(text(f"SELECT last_value, is_called FROM {sequence_name(year)}"))
    last_value, is_called = found.one()
    return int(last_value) if is_called else int(last_value) - 1


async def _make_sequence(session: AsyncSession, year: int) -> None:
    """Make the year's sequence, starting after the year's counter row (once a year).

    It is made in the caller's transaction (a savepoint): no second connection is needed, so a
    full pool cannot deadlock here. Another transaction making it at the same moment waits for
    this one to commit and then finds it made (its own attempt fails and is let go).
    """
    counted = await session.scalar(select(CaseCounter.last).where(CaseCounter.year == year))
    start = int(counted or 0) + 1
    try:
        async with session.begin_nested():
            await session.execute(
                text(f"CREATE SEQUENCE IF NOT EXISTS {sequence_name(year)} START WITH {start}")
            )
    except DBAPIError:
        if await session.scalar(text("SELECT to_regclass(:name)"), {"name": sequence_name(year)}):
            return
        raise
