"""The /broadcast composer end to end: media, buttons, region, filters, repeats, editing from the
summary, bad input (Back, Skip, resume and wrong input in general: tests/test_wizard_kernel.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.campaigns.services import campaigns, polls
from bot.campaigns.services import hearings as events
from bot.campaigns.services.recurrence import Recurrence
from bot.core.jobs import send_broadcasts
from db.models import AuditEntry, Authority, Broadcast, BroadcastStatus, PollVote, Topic
from tests.campaign_steps import follow
from tests.harness import BotHarness, Person

ADMIN = 9400


async def test_photo_link_region_filters_and_a_weekly_repeat(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        arta = bot.person(language_code="en")
        await follow(
            arta,
            "⬜ Youth activism",
            ("Shkodër", "Municipality of Shkodër"),
            "18–29",
            "Youth activist",
        )
        besa = bot.person(language_code="en", first_name="Besa")
        await follow(
            besa,
            "⬜ Youth activism",
            ("Shkodër", "Municipality of Pukë"),
            "30 or older",
            "Youth activist",
        )
        drin = bot.person(language_code="en", first_name="Drin")
        await follow(
            drin, "⬜ Youth activism", ("Kukës", "Municipality of Kukës"), "18–29", "Youth activist"
        )

        admin = Person(bot, fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))
        await admin.command("/broadcast")
        await admin.act("send_sticker")
        assert admin.seen("Please send the text of the message (or a photo with a caption).")
        await admin.act("send_photo", caption="Fushata «Bashkia e hapur» fillon sot!")
        test_copy = admin.messages[-2]
        assert test_copy.photo and test_copy.text == "Fushata «Bashkia e hapur» fillon sot!"
        await admin.act("send_photo", caption="Again")
        assert admin.seen("Please send text only here: the caption.")
        await admin.text("The “Open municipality” campaign starts today!")
        assert admin.messages[-2].photo, "the English caption is tested on the same photo"

        await admin.text("hello")
        assert admin.last.text == "Please use the buttons above."
        await admin.press("🔗 Link")
        await admin.text("no address here")
        assert admin.seen("an address starting with https://")
        await admin.text("Lexo më shumë https://pact.al/bashkia-e-hapur")
        assert "🔗 Lexo më shumë → https://pact.al/bashkia-e-hapur" in admin.last.text
        await admin.press("🗓 Join event")
        assert admin.seen("There is no upcoming event. Create one with /event first.")
        await admin.press("⬅️ Back")
        await admin.press("Continue ➡️")

        await admin.press("⬜ Youth activism")
        await admin.press("Continue ➡️")
        await admin.press("Shkodër")
        await admin.press("The whole region of Shkodër")
        assert "It reaches 2 people now" in admin.last.text
        await admin.press("Age: all")
        await admin.press("Age: 16–17")
        assert "Age: 18–29" in admin.last.labels
        assert "It reaches 1 person now" in admin.last.text
        await admin.press("Language: all")
        assert "It reaches 0 people now" in admin.last.text
        await admin.press("Language: Albanian")
        assert "It reaches 1 person now" in admin.last.text
        await admin.press("Continue ➡️")
        await admin.press("🔁 Every week")
        await admin.text("2026-11-30 10:00")
        summary = admin.last.text
        assert "Reaches now: 1 person" in summary
        assert "every week, first on 30 November 2026, 10:00" in summary
        await admin.press("✅ Confirm")
        assert admin.seen("Scheduled: every week, first on 30 November 2026, 10:00.")

        async with bot.app.services.sessions() as session:
            [row] = (await session.execute(select(Broadcast))).scalars().all()
            region = (
                (
                    await session.execute(
                        select(Authority.id).where(
                            Authority.qark == "Shkodër",
                            Authority.kind == "municipality",
                            Authority.in_programme.is_(True),
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert row.status == BroadcastStatus.RECURRING and row.recurrence == Recurrence.WEEKLY
        assert row.recur_day == 0 and row.media_kind == "photo" and row.media_file_id
        assert row.text_en == "The “Open municipality” campaign starts today!"
        assert row.buttons == [
            {"kind": "link", "label_sq": "Lexo më shumë", "url": "https://pact.al/bashkia-e-hapur"}
        ]
        assert sorted(row.municipality_ids or []) == sorted(region)
        assert row.audience == {
            "topics": ["youth"],
            "languages": ["en"],
            "age_bands": ["18_29"],
        }
        assert row.progress_chat_id == ADMIN
    finally:
        await bot.stop()


async def test_cancel_at_the_summary_stores_nothing_and_citizens_cannot_compose(
    bot: BotHarness,
) -> None:
    await bot.stop()
    bot.settings = bot.settings.model_copy(update={"admin_ids": frozenset({ADMIN})})
    await bot.start()
    admin = Person(bot, bot.fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))
    await admin.command("/broadcast")
    await admin.text("<b>Lajm</b>")
    await admin.press("Skip")
    await admin.press("No buttons ➡️")
    await admin.press("⬜ Anti-corruption")
    await admin.press("Continue ➡️")
    await admin.press("All municipalities")
    await admin.press("Continue ➡️")
    await admin.press("🕒 At a date and time")
    await admin.text("2026-11-20 10:00")
    assert admin.seen("That moment has passed. Type a future date and time like 2026-11-24 10:00.")
    await admin.text("next week")
    assert admin.seen("Type the date and time like 2026-11-24 10:00.")
    await admin.text("2026-12-20 10:00")
    await admin.press("✖️ Cancel")
    assert admin.seen("Your draft broadcast was discarded.")
    async with bot.app.services.sessions() as session:
        assert (await session.execute(select(Broadcast))).first() is None
    citizen = bot.person(language_code="en")
    await citizen.command("/broadcast")
    assert citizen.seen("I don't know that command.")


async def test_editing_from_the_summary_reschedules_and_retests_the_texts(bot: BotHarness) -> None:
    await bot.stop()
    bot.settings = bot.settings.model_copy(update={"admin_ids": frozenset({ADMIN})})
    await bot.start()
    admin = Person(bot, bot.fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))
    await admin.command("/broadcast")
    await admin.text("Lajm i shkurtër.")
    await admin.text("E" * 1500)
    await admin.press("No buttons ➡️")
    await admin.press("⬜ Anti-corruption")
    await admin.press("Continue ➡️")
    await admin.press("All municipalities")
    await admin.press("Continue ➡️")
    await admin.press("📣 Send now")
    assert "Place: all municipalities" in admin.last.text
    assert "✏️ Date and time" not in admin.last.labels

    await admin.press("✏️ When")
    await admin.press("🔁 Every month")
    assert "It repeats every month on that day at that time." in admin.last.text
    await admin.text("2026-12-15 09:30")
    assert "When: every month, first on 15 December 2026, 09:30" in admin.last.text
    await admin.press("✏️ Place")
    await admin.press("Kukës")
    await admin.press("The whole region of Kukës")
    assert "Place: Kukës" in admin.last.text
    await admin.press("✏️ Albanian text")
    await admin.act("send_photo", caption="Lajm me foto.")
    assert "Now the English text, or skip." in admin.last.text, "1,500 characters: no caption"
    await admin.press("Skip")
    assert "Ready to schedule" in admin.last.text
    await admin.press("✅ Confirm")
    assert admin.seen("Scheduled: every month, first on 15 December 2026, 09:30.")

    async with bot.app.services.sessions() as session:
        [row] = (await session.execute(select(Broadcast))).scalars().all()
        kukes = (
            (
                await session.execute(
                    select(Authority.id).where(
                        Authority.qark == "Kukës",
                        Authority.kind == "municipality",
                        Authority.in_programme.is_(True),
                    )
                )
            )
            .scalars()
            .all()
        )
    assert (row.recurrence, row.recur_day) == (Recurrence.MONTHLY, 15)
    assert (row.text_sq, row.text_en, row.media_kind) == ("Lajm me foto.", None, "photo")
    assert sorted(row.municipality_ids or []) == sorted(kukes)


async def test_broadcasts_list_and_stopping_a_repeat(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        async with bot.app.services.sessions() as session, session.begin():
            repeat = await campaigns.create_broadcast(
                session,
                title="Këshilla e javës",
                text_sq="Këshilla e javës",
                text_en=None,
                topic=Topic.RTI,
                municipality_ids=None,
                send_at=bot.clock.now() + timedelta(days=1),
                recurrence="weekly",
                recur_day=1,
                by_user_id=None,
                now=bot.clock.now(),
            )
            repeat_id = repeat.id
        admin = Person(bot, fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))
        await admin.command("/broadcasts")
        assert f"#{repeat_id} · 🔁 repeating · weekly, next 24 November 2026, 10:00" in (
            admin.last.text
        )
        await admin.press(f"✖️ Stop #{repeat_id}")
        await admin.press("✖️ Yes, stop it")
        assert f"Broadcast #{repeat_id} stopped." in admin.last.text
        assert "Nothing waiting or running." in admin.last.text
        async with bot.app.services.sessions() as session:
            row = await session.get(Broadcast, repeat_id)
            actions = (await session.execute(select(AuditEntry.action))).scalars().all()
        assert row is not None and row.status == BroadcastStatus.CANCELLED
        assert "broadcast.cancelled" in actions
        citizen = bot.person(language_code="en")
        await citizen.command("/broadcasts")
        assert citizen.seen("I don't know that command.")
        await citizen.command("/help")
        assert "Staff commands" not in citizen.last.text
        await admin.command("/help")
        assert "/broadcasts – waiting, repeating and running broadcasts" in admin.last.text
        assert "/inbox – cases to work on" in admin.last.text
    finally:
        await bot.stop()


async def test_attaching_a_poll_and_an_event_in_the_composer(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        arta = bot.person(language_code="en")
        await follow(
            arta,
            "⬜ Youth activism",
            ("Shkodër", "Municipality of Shkodër"),
            "18–29",
            "Youth activist",
        )
        async with bot.app.services.sessions() as session, session.begin():
            poll = await polls.create(
                session,
                question_sq="Çfarë ju shqetëson më shumë?",
                question_en="What worries you most?",
                options=[{"sq": "Rrugët", "en": "Roads"}, {"sq": "Uji", "en": "Water"}],
                by_user_id=None,
                now=bot.clock.now(),
            )
            event = await events.create(
                session,
                title="Forumi rinor",
                municipality_id=None,
                place="Shkodër",
                starts_at=bot.clock.now() + timedelta(days=3),
                description="",
                by_user_id=None,
                now=bot.clock.now(),
            )
            poll_id, event_id = poll.id, event.id
        admin = Person(bot, fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))
        await admin.command("/broadcast")
        await admin.text("Dy pyetje për ju.")
        await admin.text("Two questions for you.")
        await admin.press("📊 Poll")
        await admin.press("Çfarë ju shqetëson më shumë?")
        await admin.press("🗓 Join event")
        await admin.press(next(label for label in admin.last.labels if "Forumi rinor" in label))
        screen = admin.last.text
        assert "📊 Poll: Çfarë ju shqetëson më shumë?" in screen
        assert "🗓 Event: Forumi rinor" in screen
        await admin.press("Continue ➡️")
        await admin.press("⬜ Youth activism")
        await admin.press("Continue ➡️")
        await admin.press("All municipalities")
        await admin.press("Continue ➡️")
        await admin.press("📣 Send now")
        await admin.press("✅ Confirm")
        async with bot.app.services.sessions() as session:
            [row] = (await session.execute(select(Broadcast))).scalars().all()
        assert row.buttons == [
            {"kind": "poll", "poll_id": poll_id},
            {"kind": "event", "event_id": event_id},
        ]
        bot.clock.set(bot.clock.now().replace(hour=10))
        assert await send_broadcasts(bot.app) == 1
        assert arta.last.text == "Two questions for you."
        assert arta.last.labels == [
            "Roads",
            "Water",
            "✅ I will attend",
            "Not this time",
            "🔕 Unsubscribe",
        ]
        await arta.press("Water")
        async with bot.app.services.sessions() as session:
            [vote] = (await session.execute(select(PollVote))).scalars().all()
        assert vote.option == 1
    finally:
        await bot.stop()
