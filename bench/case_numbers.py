"""Case numbers under concurrent submissions on PostgreSQL: the locked counter row vs. a sequence.

Run: python bench/case_numbers.py [--database URL] [--submissions 50] [--hold 0.05]
Each submission opens a transaction, draws a number, then keeps the transaction open for --hold
seconds (the rest of its update's work) before committing. With the counter row (the statement
the bot used before) the row stays locked until each commit, so submissions queue one behind the
other; with db/repositories/case_numbers.py's sequence they overlap. Side by side, A B A B, in a
throwaway database made by Alembic. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from hot_path import database
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import CaseCounter
from db.repositories import case_numbers

YEAR = 2031


async def counter_row(session: AsyncSession) -> int:
    """The old way: one upsert on the year's counter row, locked until the commit."""
    statement = (
        insert(CaseCounter)
        .values(year=YEAR, last=1)
        .on_conflict_do_update(index_elements=["year"], set_={"last": CaseCounter.last + 1})
        .returning(CaseCounter.last)
    )
    return int((await session.execute(statement)).scalar_one())


async def sequence(session: AsyncSession) -> int:
    """The new way: the year's sequence."""
    return await case_numbers.next_number(session, YEAR)


async def run(sessions: async_sessionmaker[AsyncSession], draw, args: argparse.Namespace) -> float:
    """Seconds for all submissions at once."""

    async def submit() -> int:
        async with sessions() as session, session.begin():
            number = await draw(session)
            await asyncio.sleep(args.hold)
            return number

    started = time.perf_counter()
    numbers = await asyncio.gather(*(submit() for _ in range(args.submissions)))
    assert len(set(numbers)) == len(numbers), "numbers must be unique"
    return time.perf_counter() - started


async def main() -> None:
    """Print the medians of both ways."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--hold", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    async with database(args.database) as url:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        sessions = create_sessionmaker(engine)
        await run(sessions, sequence, args)  # the sequence is made once, outside the timing
        timings: dict[str, list[float]] = {"counter row": [], "sequence": []}
        for _ in range(args.rounds):
            timings["counter row"].append(await run(sessions, counter_row, args))
            timings["sequence"].append(await run(sessions, sequence, args))
        await engine.dispose()
    print(
        f"{args.submissions} submissions at once, each transaction open {args.hold * 1000:.0f} ms"
    )
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"  {name:>11}: {median:6.2f} s ({args.submissions / median:6.1f} submissions/s)")


if __name__ == "__main__":
    asyncio.run(main())
