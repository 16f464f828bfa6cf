"""Campaign subscriptions and broadcasts: opt-in, one-tap opt-out, /stop, quiet hours, weekly cap,
blocked users, and a resumed broadcast that reaches nobody twice; the scorecard as a broadcast."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.campaigns.services import campaigns
from bot.core.jobs import send_broadcasts
from db.models import Authority, Consent, OutboxMessage, Subscription, Topic
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english

TIRANA = ZoneInfo("Europe/Tirane")
ADMIN = 9300


async def _subscribe(person: Person) -> None:
    await onboard_english(person)
    await person.command("/menu")
    await person.press("📣 Campaigns & events")
    await person.press("✅ Yes, send me campaign messages")
    await person.press("⬜ Municipal services monitoring")
    await person.press("📍 Municipality: all")
    await person.press("Shkodër")
    await person.press("Municipality of Shkodër")


async def _broadcast(bot: BotHarness, title: str = "News") -> int:
    async with bot.app.services.sessions() as session, session.begin():
        town = (
            await session.execute(select(Authority).where(Authority.name == "Shkodër"))
        ).scalar_one()
        created = await campaigns.create_broadcast(
            session,
            title=title,
            text_sq=f"{title} (sq)",
            text_en=f"{title} (en)",
            topic=Topic.SERVICES,
            municipality_ids=[town.id],
            send_at=bot.clock.now(),
            by_user_id=None,
            now=bot.clock.now(),
        )
        return created.id


def _at(bot: BotHarness, iso: str) -> None:
    bot.clock.set(datetime.fromisoformat(iso).replace(tzinfo=TIRANA))


async def test_subscribe_receive_and_unsubscribe_in_one_tap(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await _subscribe(arta)
    assert "✅ Municipal services monitoring" in arta.last.labels
    assert "📍 Municipality: Shkodër" in arta.last.labels
    async with bot.app.services.sessions() as session:
        [subscription] = (await session.execute(select(Subscription))).scalars().all()
        consents = (await session.execute(select(Consent.purpose))).scalars().all()
    assert subscription.topics == ["services"] and "campaigns" in consents
    await arta.command("/privacy")
    await arta.press("⬇️ Download my data")
    exported = json.loads(
        next(m for m in reversed(arta.messages) if m.document).document["content"]
    )
    assert exported["campaign_subscription"]["topics"] == ["services"]

    _at(bot, "2026-11-23T10:00")
    await _broadcast(bot, "Hearing on the 2027 budget")
    assert await send_broadcasts(bot.app) == 1
    assert arta.last.text == "Hearing on the 2027 budget (en)"
    await arta.press("🔕 Unsubscribe")
    assert arta.seen("you will no longer receive messages about “Municipal services monitoring”")
    await _broadcast(bot, "Second")
    assert await send_broadcasts(bot.app) == 0


async def test_quiet_hours_weekly_cap_and_stop(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await _subscribe(arta)
    _at(bot, "2026-11-23T22:00")
    await _broadcast(bot, "Night")
    assert await send_broadcasts(bot.app) == 0, "nothing at night"
    _at(bot, "2026-11-24T08:00")
    assert await send_broadcasts(bot.app) == 1, "sent in the morning"
    for n in range(3):
        await _broadcast(bot, f"More {n}")
    assert await send_broadcasts(bot.app) == 2, "at most 3 a week"
    async with bot.app.services.sessions() as session:
        skipped = (
            (await session.execute(select(OutboxMessage).where(OutboxMessage.status == "skipped")))
            .scalars()
            .all()
        )
    assert [row.error for row in skipped] == ["weekly cap"]

    await arta.command("/stop")
    assert arta.seen("you will receive no more campaign messages")
    _at(bot, "2026-12-05T10:00")
    await _broadcast(bot, "After stop")
    assert await send_broadcasts(bot.app) == 0


async def test_blocked_users_are_marked_and_a_resumed_broadcast_repeats_nobody(
    bot: BotHarness,
) -> None:
    people = [bot.person(language_code="en") for _ in range(3)]
    for person in people:
        await _subscribe(person)
    _at(bot, "2026-11-23T10:00")
    broadcast_id = await _broadcast(bot, "Resume")
    async with bot.app.services.sessions() as session, session.begin():
        await campaigns.start_due(session, bot.clock.now(), bot.app.services.settings.tz)
        first = (
            await session.execute(select(OutboxMessage).order_by(OutboxMessage.id).limit(1))
        ).scalar_one()
        first.status, first.sent_at = "sent", bot.clock.now()
    people[2].fake.chat.blocked = True

    await bot.restart()
    assert await send_broadcasts(bot.app) == 1
    received = [sum("Resume" in (m.text or "") for m in p.messages) for p in people]
    assert received == [0, 1, 0], "the first was reached before the crash; the third blocked"
    async with bot.app.services.sessions() as session:
        counts = await campaigns.counts(session, broadcast_id)
        blocked = (
            (
                await session.execute(
                    select(OutboxMessage.error).where(OutboxMessage.status == "failed")
                )
            )
            .scalars()
            .all()
        )
    assert counts == {"sent": 2, "failed": 1} and blocked == ["blocked"]
    assert (await bot.user_row(people[2])).blocked_at is not None


async def test_admin_publishes_the_scorecard_to_subscribers(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        arta = bot.person(language_code="en")
        await _subscribe(arta)
        admin = Person(bot, fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))
        await admin.command("/scorecard")
        await admin.press("Shkodër")
        await admin.press("📣 Publish to 1 subscriber")
        assert admin.seen("Scheduled")
        _at(bot, "2026-11-23T10:00")
        assert await send_broadcasts(bot.app) == 1
        assert "Scorecard: Municipality of Shkodër" in arta.last.text
    finally:
        await bot.stop()


async def test_admin_composes_sends_now_and_schedules(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}), broadcast_rate=30)
    await bot.start()
    try:
        drita = bot.person(language_code="en")
        await onboard_english(drita)
        await drita.command("/menu")
        await drita.press("📣 Campaigns & events")
        await drita.press("✅ Yes, send me campaign messages")
        await drita.press("⬜ Public hearings and events")
        admin = Person(bot, fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))
        await admin.command("/broadcast")
        await admin.text("Dëgjesë publike për buxhetin 2027, e hënë ora 10:00.")
        assert admin.messages[-2].text == "Dëgjesë publike për buxhetin 2027, e hënë ora 10:00."
        await admin.press("Skip")
        await admin.press("No buttons ➡️")
        await admin.press("⬜ Public hearings and events")
        await admin.press("Continue ➡️")
        await admin.press("All municipalities")
        assert "It reaches 1 person now" in admin.last.text
        await admin.press("Continue ➡️")
        await admin.press("📣 Send now")
        assert admin.seen("Reaches now: 1 person")
        await admin.press("✅ Confirm")
        _at(bot, "2026-11-23T10:00")
        assert await send_broadcasts(bot.app) == 1
        assert drita.last.text == "Dëgjesë publike për buxhetin 2027, e hënë ora 10:00."

        await admin.command("/broadcast")
        await admin.text("Kujtesë: dëgjesa është nesër.")
        await admin.text("Reminder: the hearing is tomorrow.")
        await admin.press("No buttons ➡️")
        await admin.press("⬜ Public hearings and events")
        await admin.press("Continue ➡️")
        await admin.press("All municipalities")
        await admin.press("Continue ➡️")
        await admin.press("🕒 At a date and time")
        await admin.text("yesterday")
        assert admin.seen("Type the date and time like")
        await admin.text("2026-11-01 18:00")
        assert admin.seen("That moment has passed. Type a future date and time")
        await admin.text("2026-11-29 18:00")
        await admin.press("✅ Confirm")
        assert admin.seen("Scheduled: 29 November 2026, 18:00.")
        _at(bot, "2026-11-29T17:59")
        assert await send_broadcasts(bot.app) == 0
        _at(bot, "2026-11-29T18:00")
        assert await send_broadcasts(bot.app) == 1
        assert drita.last.text == "Reminder: the hearing is tomorrow."

        await drita.command("/broadcast")
        assert drita.seen("I don't know that command.")
    finally:
        await bot.stop()


async def test_following_a_whole_region(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/menu")
    await arta.press("📣 Campaigns & events")
    await arta.press("✅ Yes, send me campaign messages")
    await arta.press("⬜ Municipal services monitoring")
    await arta.press("📍 Municipality: all")
    await arta.press("Shkodër")
    await arta.press("The whole region of Shkodër")
    assert "📍 Municipality: region of Shkodër" in arta.last.labels
    async with bot.app.services.sessions() as session:
        [subscription] = (await session.execute(select(Subscription))).scalars().all()
    assert (subscription.region, subscription.municipality_id) == ("Shkodër", None)
    await arta.command("/privacy")
    await arta.press("⬇️ Download my data")
    exported = json.loads(
        next(m for m in reversed(arta.messages) if m.document).document["content"]
    )
    assert exported["campaign_subscription"]["region"] == "Shkodër"
    _at(bot, "2026-11-23T10:00")
    await _broadcast(bot, "Shkodër news")
    assert await send_broadcasts(bot.app) == 1
