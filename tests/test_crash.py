"""A hard kill in the middle of a 5,000-recipient broadcast, then a restart.

The bot runs as a real process (``python -m bot run``) against the fake Telegram served by this
test, without its rate limiter. When about a third of the messages have reached the server it is
killed with SIGKILL, then started again. Afterwards everyone has the broadcast, and no more than
BROADCAST_CONCURRENCY people have it twice: the bound stated in bot/broadcasting/sender.py and the
README (sends hold one of that many places until their outcome is committed).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bot.campaigns.services import campaigns
from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import (
    Broadcast,
    BroadcastStatus,
    Consent,
    ConsentPurpose,
    OutboxMessage,
    Subscription,
    Topic,
    User,
)
from fakeapi import FakeTelegram
from tests.harness import TOKEN

RECIPIENTS = 5000
CONCURRENCY = 32
FIRST = 200_000
STAFF = 9500
ROOT = Path(__file__).resolve().parents[1]


async def _seed(database_url: str) -> int:
    """Schema, 5,000 subscribers with consent (c), and a broadcast due now; its id."""
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            await conn.execute(
                insert(User),
                [
                    {
                        "telegram_id": FIRST + n,
                        "language": "en",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(RECIPIENTS)
                ],
            )
            ids = (await conn.execute(select(User.id))).scalars().all()
            await conn.execute(
                insert(Consent),
                [
                    {
                        "user_id": user_id,
                        "purpose": ConsentPurpose.CAMPAIGNS,
                        "notice_version": "test",
                        "given_at": now,
                    }
                    for user_id in ids
                ],
            )
            await conn.execute(
                insert(Subscription),
                [
                    {
                        "user_id": user_id,
                        "topics": [Topic.SERVICES.value],
                        "created_at": now,
                        "updated_at": now,
                    }
                    for user_id in ids
                ],
            )
        async with create_sessionmaker(engine)() as session, session.begin():
            staff = User(telegram_id=STAFF, language="en", created_at=now, updated_at=now)
            session.add(staff)
            await session.flush()
            created = await campaigns.create_broadcast(
                session,
                title="Crash test",
                text_sq="Lajm (sq)",
                text_en="News (en)",
                topic=Topic.SERVICES,
                municipality_ids=None,
                send_at=now - timedelta(minutes=1),
                by_user_id=staff.id,
                now=now,
                progress_chat_id=STAFF,
            )
            return created.id
    finally:
        await engine.dispose()


def _start(fake: FakeTelegram, database_url: str, log: Path) -> subprocess.Popen[Any]:
    """`python -m bot run` against the fake server, delivering at once and without a limiter."""
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "DATABASE_URL": database_url,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "BROADCAST_RATE": "0",
        "BROADCAST_CONCURRENCY": str(CONCURRENCY),
        "REMINDER_POLL_SECONDS": "1",
        "QUIET_START": "00:00",
        "QUIET_END": "00:00",
        "LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def _status(database_url: str, broadcast_id: int) -> str:
    """The broadcast's stored status, read by this test process."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            found = await session.get(Broadcast, broadcast_id)
            assert found is not None
            return found.status
    finally:
        await engine.dispose()


async def _outbox(database_url: str, broadcast_id: int) -> dict[str, int]:
    """Outbox rows by status."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(OutboxMessage.status).where(OutboxMessage.broadcast_id == broadcast_id)
            )
            return dict(Counter(rows.scalars()))
    finally:
        await engine.dispose()


async def test_sigkill_mid_broadcast_then_restart_reaches_everyone_once(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    people = [fake.user(user_id=FIRST + n, language_code="en") for n in range(RECIPIENTS)]
    staff = fake.user(user_id=STAFF, language_code="en")
    broadcast_id = await _seed(database_url)
    log = tmp_path / "bot.log"

    first = _start(fake, database_url, log)
    try:
        await fake.wait_until(lambda: len(fake.calls) >= RECIPIENTS // 3, timeout=60)
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        await asyncio.to_thread(first.wait)
    reached_before = sum(1 for person in people if person.messages)
    assert 0 < reached_before < RECIPIENTS, "killed in the middle"

    second = _start(fake, database_url, log)
    try:
        async with asyncio.timeout(60):
            while await _status(database_url, broadcast_id) != BroadcastStatus.DONE:
                assert second.poll() is None, log.read_text()
                await asyncio.sleep(0.1)
    finally:
        second.terminate()
        await asyncio.to_thread(second.wait, 15)

    received = [len(person.messages) for person in people]
    assert min(received) == 1, "everyone got the broadcast"
    repeats = sum(count - 1 for count in received)
    assert repeats <= CONCURRENCY, f"{repeats} repeats, more than the bound {CONCURRENCY}"
    assert all(m.text == "News (en)" for person in people for m in person.messages)
    assert await _outbox(database_url, broadcast_id) == {"sent": RECIPIENTS}
    [progress] = staff.messages
    assert progress.labels == [] and "5,000" in progress.text, "one progress message, final"
