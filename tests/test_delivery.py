"""The broadcast sender (bot/broadcasting/sender.py): progress message, pause/resume/cancel, 429s,
blocked users, bounded retries, media, languages, the weekly cap, quiet hours and recurring
broadcasts.

The sender runs without its rate limiter here (BROADCAST_RATE=0), so no test waits for Telegram's
per-chat second; 429 pauses run on a virtual clock, and the staff clock is the harness's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.broadcasting import sender as delivery
from bot.broadcasting.transport import AiohttpRequest
from bot.campaigns.services import campaigns
from bot.core.jobs import send_broadcasts
from db.models import (
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    Consent,
    ConsentPurpose,
    OutboxMessage,
    Subscription,
    Topic,
    User,
)
from fakeapi import FakeTelegram, FakeUser
from tests.harness import TOKEN, BotHarness, Person

TIRANA = ZoneInfo("Europe/Tirane")
ADMIN = 9400
FIRST_PERSON = 30_000


async def started(fake: FakeTelegram, database_url: str, **overrides: Any) -> BotHarness:
    """The bot with an English-speaking admin and the sender's rate limiter lifted."""
    harness = BotHarness(
        fake, database_url, admin_ids=frozenset({ADMIN}), broadcast_rate=0, **overrides
    )
    await harness.start()
    async with harness.app.services.sessions() as session, session.begin():
        await session.execute(update(User).where(User.telegram_id == ADMIN).values(language="en"))
    return harness


@pytest.fixture
async def bot(fake: FakeTelegram, database_url: str) -> AsyncIterator[BotHarness]:
    """The started bot, stopped afterwards."""
    harness = await started(fake, database_url)
    yield harness
    await harness.stop()


def at(bot: BotHarness, iso: str) -> None:
    """Set the clock to a Tirana wall time."""
    bot.clock.set(datetime.fromisoformat(iso).replace(tzinfo=TIRANA))


def admin_of(bot: BotHarness) -> Person:
    """The admin, as a person pressing buttons."""
    return Person(bot, bot.fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))


async def subscribers(
    bot: BotHarness, count: int, language: str = "en", first: int = FIRST_PERSON
) -> list[FakeUser]:
    """People with consent (c) following the services topic, written straight to the database."""
    now = bot.clock.now()
    people = []
    async with bot.app.services.sessions() as session, session.begin():
        for number in range(first, first + count):
            people.append(bot.fake.user(user_id=number, language_code=language))
            user = User(
                telegram_id=number,
                language=language,
                onboarded_at=now,
                created_at=now,
                updated_at=now,
            )
            session.add(user)
            await session.flush()
            session.add(
                Consent(
                    user_id=user.id,
                    purpose=ConsentPurpose.CAMPAIGNS,
                    notice_version="test",
                    given_at=now,
                )
            )
            session.add(
                Subscription(
                    user_id=user.id, topics=[Topic.SERVICES.value], created_at=now, updated_at=now
                )
            )
    return people


async def broadcast(bot: BotHarness, title: str = "News", **extra: Any) -> int:
    """A broadcast to the services topic, due now, reporting progress to the admin."""
    async with bot.app.services.sessions() as session, session.begin():
        admin = (await session.execute(select(User).where(User.telegram_id == ADMIN))).scalar_one()
        created = await campaigns.create_broadcast(
            session,
            title=title,
            text_sq=f"{title} (sq)",
            text_en=f"{title} (en)",
            topic=Topic.SERVICES,
            municipality_ids=None,
            send_at=extra.pop("send_at", bot.clock.now()),
            by_user_id=admin.id,
            now=bot.clock.now(),
            progress_chat_id=extra.pop("progress_chat_id", ADMIN),
            **extra,
        )
        return created.id


async def counts(bot: BotHarness, broadcast_id: int) -> dict[str, int]:
    """Outbox rows by status."""
    async with bot.app.services.sessions() as session:
        return await campaigns.counts(session, broadcast_id)


async def status(bot: BotHarness, broadcast_id: int) -> str:
    """The broadcast's stored status."""
    async with bot.app.services.sessions() as session:
        found = await session.get(Broadcast, broadcast_id)
        assert found is not None
        return found.status


def received(people: list[FakeUser], fragment: str) -> list[int]:
    """How many messages containing ``fragment`` each person got."""
    return [sum(fragment in (m.text or "") for m in person.messages) for person in people]


async def test_progress_is_edited_in_place_throttled_then_becomes_the_final_report(
    bot: BotHarness,
) -> None:
    people = await subscribers(bot, 5)
    at(bot, "2026-11-23T10:00")
    number = await broadcast(bot, "Budget <b>hearing</b>")
    admin = admin_of(bot)

    assert await send_broadcasts(bot.app, budget=2) == 2
    [progress] = admin.messages
    assert "Sending “Budget hearing”" in progress.text
    assert "░░░░░░░░░░ 0%" in progress.text and "left: 5" in progress.text
    assert progress.labels == ["⏸ Pause", "✖️ Cancel"]
    assert progress.edits == 0, "no edit within PROGRESS_EDIT_SECONDS of the first post"

    bot.clock.advance(timedelta(seconds=3))
    assert await send_broadcasts(bot.app, budget=2) == 2
    assert admin.messages == [progress] and progress.edits == 1
    [edit] = bot.fake.calls_to("editMessageText")
    assert "▓" in edit.params["text"] and "left." in edit.params["text"], "bar and time left"

    assert await send_broadcasts(bot.app) == 1
    assert admin.messages == [progress] and progress.edits == 2
    assert "Finished: “Budget hearing”" in progress.text
    assert "Delivered to 5 people in 3 seconds." in progress.text
    assert progress.labels == []
    assert received(people, "Budget") == [1] * 5
    assert await status(bot, number) == BroadcastStatus.DONE


async def test_in_quiet_hours_the_progress_message_says_when_sending_goes_on(
    bot: BotHarness,
) -> None:
    people = await subscribers(bot, 2)
    at(bot, "2026-11-23T22:15")
    await broadcast(bot, "Late news")
    admin = admin_of(bot)
    assert await send_broadcasts(bot.app) == 0
    [progress] = admin.messages
    assert "Sending “Late news”" in progress.text and "left: 2" in progress.text
    assert "🌙 Quiet hours: sending goes on at 24 November 2026, 08:00." in progress.text
    assert await send_broadcasts(bot.app) == 0
    assert admin.messages == [progress] and progress.edits == 0, "unchanged: not edited again"
    at(bot, "2026-11-24T08:00")
    assert await send_broadcasts(bot.app) == 2
    assert "Finished: “Late news”" in progress.text
    assert received(people, "Late news") == [1, 1]


async def test_pause_then_resume(bot: BotHarness) -> None:
    people = await subscribers(bot, 5)
    at(bot, "2026-11-23T10:00")
    number = await broadcast(bot)
    admin = admin_of(bot)
    assert await send_broadcasts(bot.app, budget=2) == 2

    await admin.press("⏸ Pause", message=admin.last)
    assert await status(bot, number) == BroadcastStatus.PAUSED
    assert "Paused: “News”" in admin.last.text and "left: 3" in admin.last.text
    assert admin.last.labels == ["▶️ Resume", "✖️ Cancel"]
    assert await send_broadcasts(bot.app) == 0, "nothing is sent while paused"

    await admin.press("▶️ Resume", message=admin.last)
    assert await status(bot, number) == BroadcastStatus.SENDING
    assert admin.last.labels == ["⏸ Pause", "✖️ Cancel"]
    assert await send_broadcasts(bot.app) == 3
    assert received(people, "News") == [1] * 5
    assert "Delivered to 5 people" in admin.last.text
    assert len(admin.messages) == 1


async def test_a_pause_takes_effect_after_the_batch_in_hand(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await subscribers(bot, 300)
    at(bot, "2026-11-23T10:00")
    number = await broadcast(bot, progress_chat_id=None)
    claim = campaigns.pending_batch

    async def claim_then_pause(*args: Any) -> Any:
        found = await claim(*args)
        async with bot.app.services.sessions() as session, session.begin():
            await campaigns.pause(session, number, None, bot.clock.now())
        return found

    monkeypatch.setattr(campaigns, "pending_batch", claim_then_pause)
    batch = delivery.sender_of(bot.app).batch
    assert await send_broadcasts(bot.app) == batch, "the batch in hand, then nothing"
    monkeypatch.undo()
    assert await counts(bot, number) == {"sent": batch, "pending": 300 - batch}
    async with bot.app.services.sessions() as session, session.begin():
        await campaigns.resume(session, number, None, bot.clock.now())
    assert await send_broadcasts(bot.app) == 300 - batch
    assert received(people, "News") == [1] * 300


async def test_cancel_asks_first_and_leaves_the_rest_cancelled(bot: BotHarness) -> None:
    people = await subscribers(bot, 5)
    at(bot, "2026-11-23T10:00")
    number = await broadcast(bot)
    admin = admin_of(bot)
    assert await send_broadcasts(bot.app, budget=2) == 2

    await admin.press("✖️ Cancel", message=admin.last)
    assert "Cancel this broadcast? 3 people have not received it yet" in admin.last.text
    await admin.press("⬅️ No, go on", message=admin.last)
    assert await status(bot, number) == BroadcastStatus.SENDING
    await admin.press("✖️ Cancel", message=admin.last)
    await admin.press("✖️ Yes, cancel it", message=admin.last)

    assert await status(bot, number) == BroadcastStatus.CANCELLED
    assert "Cancelled: “News”" in admin.last.text
    assert "Delivered to 2 people before it was cancelled." in admin.last.text
    assert "Not sent: 3 people." in admin.last.text and admin.last.labels == []
    assert await send_broadcasts(bot.app) == 0
    assert await counts(bot, number) == {"sent": 2, "cancelled": 3}
    assert sorted(received(people, "News")) == [0, 0, 0, 1, 1]


async def test_a_429_storm_is_waited_out_and_nothing_is_lost(bot: BotHarness) -> None:
    people = await subscribers(bot, 30)
    sender = delivery.sender_of(bot.app)
    virtual = [0.0]

    async def sleep(seconds: float) -> None:
        virtual[0] += seconds

    sender.clock, sender.sleep = (lambda: virtual[0]), sleep
    at(bot, "2026-11-23T10:00")
    number = await broadcast(bot, progress_chat_id=None)
    bot.fake.inject_429(share=0.4, retry_after=2, methods={"sendMessage"}, seed=7)

    assert await send_broadcasts(bot.app) == 30
    assert bot.fake.flood.injected >= 10
    assert virtual[0] >= 2.0, "every 429 paused sending for the retry_after asked"
    assert received(people, "News") == [1] * 30
    assert await counts(bot, number) == {"sent": 30}


async def test_blocked_people_fail_once_and_leave_later_audiences(bot: BotHarness) -> None:
    people = await subscribers(bot, 3)
    people[1].chat.blocked = True
    at(bot, "2026-11-23T10:00")
    first = await broadcast(bot, "First")
    admin = admin_of(bot)

    assert await send_broadcasts(bot.app) == 2
    assert await counts(bot, first) == {"sent": 2, "failed": 1}
    assert "blocked the bot or left Telegram: 1" in admin.last.text
    async with bot.app.services.sessions() as session:
        blocked = (
            await session.execute(
                select(User.blocked_at).where(User.telegram_id == FIRST_PERSON + 1)
            )
        ).scalar_one()
    assert blocked == bot.clock.now()

    second = await broadcast(bot, "Second")
    assert await send_broadcasts(bot.app) == 2
    assert await counts(bot, second) == {"sent": 2}, "the blocked person is not in the audience"


async def test_other_errors_are_tried_a_bounded_number_of_times_with_the_reason(
    bot: BotHarness,
) -> None:
    await subscribers(bot, 2)
    now = bot.clock.now()
    async with bot.app.services.sessions() as session, session.begin():
        ghost = User(telegram_id=99_999, language="en", created_at=now, updated_at=now)
        session.add(ghost)
        await session.flush()
        session.add(
            Consent(
                user_id=ghost.id,
                purpose=ConsentPurpose.CAMPAIGNS,
                notice_version="test",
                given_at=now,
            )
        )
        session.add(
            Subscription(user_id=ghost.id, topics=["services"], created_at=now, updated_at=now)
        )
    at(bot, "2026-11-23T10:00")
    number = await broadcast(bot)
    admin = admin_of(bot)

    assert await send_broadcasts(bot.app) == 2
    for attempt in range(1, delivery.MAX_ATTEMPTS):
        async with bot.app.services.sessions() as session:
            row = (
                await session.execute(
                    select(OutboxMessage).where(OutboxMessage.status == "pending")
                )
            ).scalar_one()
        assert (row.attempts, row.error) == (attempt, "BadRequest")
        assert await status(bot, number) == BroadcastStatus.SENDING
        assert await send_broadcasts(bot.app) == 0
    assert await counts(bot, number) == {"sent": 2, "failed": 1}
    assert await status(bot, number) == BroadcastStatus.DONE
    assert "BadRequest: 1" in admin.last.text
    assert len(bot.fake.calls_to("sendMessage")) == 1 + 2 + delivery.MAX_ATTEMPTS


async def test_photo_and_document_carry_the_text_as_caption(bot: BotHarness) -> None:
    [person] = await subscribers(bot, 1)
    photo = bot.fake.state.files.add_photo(b"jpeg", 1280, 960)[-1].file_id
    document = bot.fake.state.files.add(b"%PDF", "document", "agenda.pdf").file_id
    at(bot, "2026-11-23T10:00")
    await broadcast(bot, "Photo", media_kind="photo", media_file_id=photo)
    await broadcast(bot, "Agenda", media_kind="document", media_file_id=document)

    assert await send_broadcasts(bot.app) == 2
    shot, agenda = person.messages
    assert shot.kind == "photo" and shot.text == "Photo (en)"
    assert agenda.kind == "document" and agenda.text == "Agenda (en)"
    assert agenda.document["file_name"] == "agenda.pdf"
    assert shot.labels == agenda.labels == ["🔕 Unsubscribe"]


async def test_each_person_reads_their_own_language(bot: BotHarness) -> None:
    [english] = await subscribers(bot, 1, "en")
    [albanian] = await subscribers(bot, 1, "sq", first=FIRST_PERSON + 1)
    at(bot, "2026-11-23T10:00")
    await broadcast(bot, "Hearing")

    assert await send_broadcasts(bot.app) == 2
    assert english.last.text == "Hearing (en)" and english.last.labels == ["🔕 Unsubscribe"]
    assert albanian.last.text == "Hearing (sq)"
    assert albanian.last.labels != ["🔕 Unsubscribe"], "the button is in Albanian too"


async def test_event_reminders_skip_the_weekly_cap_and_quiet_hours_results_only_the_cap(
    fake: FakeTelegram, database_url: str
) -> None:
    bot = await started(
        fake, database_url, campaign_weekly_cap=1, quiet_start="20:00", quiet_end="07:30"
    )
    try:
        [person] = await subscribers(bot, 1)
        at(bot, "2026-11-23T10:00")
        await broadcast(bot, "Campaign one", progress_chat_id=None)
        assert await send_broadcasts(bot.app) == 1
        capped = await broadcast(bot, "Campaign two", progress_chat_id=None)
        assert await send_broadcasts(bot.app) == 0
        assert await counts(bot, capped) == {"skipped": 1}

        at(bot, "2026-11-23T21:00")
        await broadcast(bot, "Reminder", progress_chat_id=None, kind=BroadcastKind.EVENT_REMINDER)
        await broadcast(bot, "Results", progress_chat_id=None, kind=BroadcastKind.POLL_RESULTS)
        assert await send_broadcasts(bot.app) == 1, "a reminder the person asked for goes at once"
        assert person.last.text == "Reminder (en)" and person.last.labels == []
        at(bot, "2026-11-24T07:29")
        assert await send_broadcasts(bot.app) == 0, "poll results wait for the morning"
        at(bot, "2026-11-24T07:30")
        assert await send_broadcasts(bot.app) == 1
        assert received([person], "Campaign") == [1]
        assert person.last.text == "Results (en)"
    finally:
        await bot.stop()


async def test_a_weekly_broadcast_fires_once_per_week_across_restarts(bot: BotHarness) -> None:
    [person] = await subscribers(bot, 1)
    first = datetime(2026, 11, 30, 10, 0, tzinfo=TIRANA)
    template = await broadcast(
        bot, "Weekly", send_at=first, recurrence="weekly", recur_day=first.weekday()
    )
    assert await send_broadcasts(bot.app) == 0, "not yet"
    at(bot, "2026-11-30T09:59")
    assert await send_broadcasts(bot.app) == 0
    at(bot, "2026-11-30T10:00")
    assert await send_broadcasts(bot.app) == 1
    assert await send_broadcasts(bot.app) == 0, "the same moment again"
    await bot.restart()
    assert await send_broadcasts(bot.app) == 0, "after a restart"
    at(bot, "2026-12-07T10:00")
    assert await send_broadcasts(bot.app) == 1
    await bot.restart()
    assert await send_broadcasts(bot.app) == 0
    assert received([person], "Weekly") == [2]
    async with bot.app.services.sessions() as session:
        occurrences = (
            (await session.execute(select(Broadcast).where(Broadcast.parent_id == template)))
            .scalars()
            .all()
        )
        stored = await session.get(Broadcast, template)
    assert [b.status for b in occurrences] == [BroadcastStatus.DONE] * 2
    assert stored is not None and stored.status == BroadcastStatus.RECURRING
    assert stored.send_at == datetime(2026, 12, 14, 10, 0, tzinfo=TIRANA)


async def test_hundreds_of_recipients_each_get_exactly_one(bot: BotHarness) -> None:
    people = await subscribers(bot, 300)
    at(bot, "2026-11-23T10:00")
    number = await broadcast(bot, progress_chat_id=None)
    assert await send_broadcasts(bot.app) == 300
    assert received(people, "News") == [1] * 300
    assert await counts(bot, number) == {"sent": 300}


async def test_the_aiohttp_transport_uploads_files_and_reports_errors(fake: FakeTelegram) -> None:
    arta = fake.user(user_id=FIRST_PERSON, language_code="en")
    request = AiohttpRequest()
    bot = ExtBot(TOKEN, base_url=fake.base_url, request=request, get_updates_request=request)
    async with bot:
        await bot.send_document(arta.user_id, b"%PDF-1.4", filename="agenda.pdf", caption="Agenda")
        with pytest.raises(BadRequest, match="hat not found"):
            await bot.send_message(12345, "nobody")
    assert arta.last.document["file_name"] == "agenda.pdf" and arta.last.text == "Agenda"
    await request.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(fake.base_url, "POST")

    fake.latency = 0.2
    async with AiohttpRequest(read_timeout=0.02) as slow:
        with pytest.raises(TimedOut):
            await slow.do_request(f"{fake.base_url}{TOKEN}/getMe", "POST")
        with pytest.raises(NetworkError) as refused:
            await slow.do_request("http://127.0.0.1:9/getMe", "POST")
    assert not isinstance(refused.value, TimedOut), "not sent, so safe to try again"
