"""Events end to end: /event with bad input, editing from the preview, a moment that passes
before saving, the staff check at every step; the invitation with RSVP buttons, named and unnamed
attendance, both reminders to exactly those attending, cancellation, stale buttons; the data
download and erasure; the pure parts of the service."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.campaigns.services import campaigns
from bot.campaigns.services import hearings as events
from bot.core.jobs import send_broadcasts
from db.models import Broadcast, BroadcastKind, Event, EventRsvp, Reminder, Topic
from tests.campaign_steps import follower
from tests.harness import BotHarness, Person

TIRANA = ZoneInfo("Europe/Tirane")
ADMIN, EDITOR = 9500, 9501
TITLE = "Dëgjesë publike për buxhetin 2027"
SHKODER, LEZHE = ("Shkodër", "Municipality of Shkodër"), ("Lezhë", "Municipality of Lezhë")


async def _citizen(
    bot: BotHarness, name: str, place: tuple[str, str] | None, last_name: str | None = None
) -> Person:
    """An English-speaking person following public hearings, in one municipality or all."""
    return await follower(bot, name, "⬜ Public hearings and events", place, last_name)


def _admin(bot: BotHarness) -> Person:
    return Person(bot, bot.fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))


def _at(bot: BotHarness, iso: str) -> None:
    bot.clock.set(datetime.fromisoformat(iso).replace(tzinfo=TIRANA))


def _toast(person: Person) -> str:
    return person.fake.callback_answers[-1].get("text") or ""


async def _queue(bot: BotHarness) -> int:
    async with bot.app.services.sessions() as session, session.begin():
        return await events.queue_due_reminders(session, bot.clock.now(), bot.app.services.i18n)


async def _reminders(bot: BotHarness) -> list[Reminder]:
    async with bot.app.services.sessions() as session:
        found = await session.execute(
            select(Reminder).where(Reminder.event_id.is_not(None)).order_by(Reminder.due_at)
        )
        return list(found.scalars())


async def _broadcasts(bot: BotHarness, kind: str) -> list[Broadcast]:
    async with bot.app.services.sessions() as session:
        found = await session.execute(
            select(Broadcast).where(Broadcast.kind == kind).order_by(Broadcast.id)
        )
        return list(found.scalars())


async def test_an_event_with_rsvp_attendance_and_both_reminders(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        arta = await _citizen(bot, "Arta", SHKODER, last_name="Kelmendi")
        besa = await _citizen(bot, "Besa", None, last_name="Hoxha")
        driton = await _citizen(bot, "Driton", SHKODER)
        elsewhere = await _citizen(bot, "Gent", LEZHE)
        admin = _admin(bot)
        _at(bot, "2026-11-23T10:00")

        await admin.command("/event")
        await admin.text("x" * 201)
        assert admin.last.text == "That is longer than 200 characters. Please shorten it."
        await admin.text(TITLE)
        await admin.press("Shkodër")
        await admin.press("Municipality of Shkodër")
        await admin.text("Salla e Këshillit Bashkiak")
        await admin.text("tomorrow evening")
        assert admin.last.text == "Type the date and time like 2026-11-24 17:00."
        await admin.text("2026-11-01 17:00")
        assert admin.last.text.startswith("That moment has passed.")
        await admin.text("2026-12-05 17:00")
        await admin.text("Projekt-buxheti i vitit 2027: pyetje dhe propozime.")
        preview = admin.last.text
        for part in (
            TITLE,
            "Salla e Këshillit Bashkiak, Municipality of Shkodër",
            "5 December 2026, 17:00",
        ):
            assert part in preview, part
        await admin.press("✅ Save event")
        assert admin.seen("Event #1 saved.")
        reminders = await _reminders(bot)
        assert [(r.kind, r.due_at, r.event_id) for r in reminders] == [
            ("event_day_before", datetime(2026, 12, 4, 16, 0, tzinfo=UTC), 1),
            ("event_hour_before", datetime(2026, 12, 5, 15, 0, tzinfo=UTC), 1),
        ]

        await admin.press("📣 Announce to subscribers now")
        assert "the invitation goes out now to 3 people" in admin.last.text
        assert await send_broadcasts(bot.app) == 3
        assert not elsewhere.seen(TITLE)
        assert TITLE in arta.last.text and "Will you come?" in arta.last.text

        await arta.press("✅ I will attend")
        assert _toast(arta) == "Noted: you will attend."
        assert "May the organisers see your name on the attendance list?" in arta.last.text
        await arta.press("Yes, show my name")
        assert arta.last.text == "Thank you. Your name will be on the attendance list."
        await besa.press("✅ I will attend")
        await besa.press("No, just count me")
        assert besa.last.text == "Thank you. You are counted without your name."
        await driton.press("Not this time")
        assert driton.last.text.startswith("Noted: not this time")
        async with bot.app.services.sessions() as session:
            rsvps = (await session.execute(select(EventRsvp).order_by(EventRsvp.user_id))).all()
        assert [(r.attending, r.display_name) for (r,) in rsvps] == [
            (True, "Arta Kelmendi"),
            (True, None),
            (False, None),
        ]

        await admin.command("/events")
        assert "2 attending" in admin.last.text
        await admin.press(f"📅 {TITLE}")
        card = admin.last.text
        assert "✅ Attending: 2" in card and "🚫 Not this time: 1" in card
        assert "• Arta Kelmendi" in card and "and 1 more without a name" in card
        assert "Besa" not in card and "Hoxha" not in card and "Driton" not in card

        _at(bot, "2026-12-04T16:59")
        assert await _queue(bot) == 0
        _at(bot, "2026-12-04T17:00")
        assert await _queue(bot) == 1
        [day_before] = await _broadcasts(bot, BroadcastKind.EVENT_REMINDER)
        assert day_before.audience == {"event_id": 1}
        assert day_before.buttons == [{"kind": "event", "event_id": 1}]
        assert await send_broadcasts(bot.app) == 2
        for person in (arta, besa):
            assert "Reminder: tomorrow" in person.last.text and TITLE in person.last.text
        assert not driton.seen("Reminder")
        assert await _queue(bot) == 0, "sent once"

        await besa.press("Not this time")
        assert besa.last.text.startswith("Changed: you will not attend")
        _at(bot, "2026-12-05T16:00")
        assert await send_broadcasts(bot.app) == 1, "the delivery job queues due reminders"
        assert "Reminder: in one hour" in arta.last.text
        assert sum("Reminder" in text for text in besa.texts()) == 1
        assert [r.sent_at is not None for r in await _reminders(bot)] == [True, True]

        _at(bot, "2026-12-05T17:30")
        await arta.press("Not this time")
        assert _toast(arta) == "This event has already started."
        await arta.press_data("ev:y:99", message_id=arta.last.message_id)
        assert arta.seen("That button is no longer active.")
    finally:
        await bot.stop()


async def test_cancelling_tells_those_attending_and_stops_reminders(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        arta = await _citizen(bot, "Arta", None)
        driton = await _citizen(bot, "Driton", None)
        admin = _admin(bot)
        _at(bot, "2026-11-23T10:00")
        await admin.command("/event")
        await admin.text("Trajnim për të drejtën e informimit")
        await admin.press("No specific municipality")
        await admin.text("Online")
        await admin.text("2026-11-25 09:30")
        await admin.press("Skip")
        assert "Municipality of" not in admin.last.text
        await admin.press("✅ Save event")
        reminders = await _reminders(bot)
        assert [r.kind for r in reminders] == ["event_day_before", "event_hour_before"]
        await admin.press("📣 Announce to subscribers now")
        assert await send_broadcasts(bot.app) == 2
        await arta.press("✅ I will attend")
        await driton.press("Not this time")

        await admin.command("/events")
        await admin.press("📅 Trajnim për të drejtën e informimit")
        await admin.press("❌ Cancel event")
        assert "The 1 person attending will be told." in admin.last.text
        await admin.press("No, keep it")
        assert "✅ Attending: 1" in admin.last.text
        await admin.press("❌ Cancel event")
        await admin.press("Yes, cancel the event")
        assert admin.last.text.startswith("Cancelled. Those attending are being told.")
        assert "❌ Cancelled on 23 November 2026" in admin.last.text
        assert "❌ Cancel event" not in admin.last.labels

        assert await send_broadcasts(bot.app) == 1
        assert "Cancelled" in arta.last.text and "will not take place" in arta.last.text
        assert not driton.seen("will not take place")
        assert all(r.cancelled_at is not None for r in await _reminders(bot))
        _at(bot, "2026-11-24T09:30")
        assert await _queue(bot) == 0

        await arta.press("✅ I will attend")
        assert _toast(arta) == "This event was cancelled."
        await admin.press_data("sb:ev:cxy:1", message_id=admin.last.message_id)
        assert admin.seen("This event was already cancelled.")
    finally:
        await bot.stop()


async def test_editing_from_the_preview_and_a_moment_that_passes_before_saving(
    fake, database_url
) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        admin = _admin(bot)
        _at(bot, "2026-11-23T10:00")
        await admin.command("/event")
        await admin.text("Forum rinor")
        await admin.press("No specific municipality")
        await admin.text("Online")
        await admin.text("2026-11-23 10:30")
        await admin.press("Skip")
        assert admin.last.text.startswith("Preview") and "Municipality of" not in admin.last.text
        await admin.press("✏️ Municipality")
        await admin.press("Kukës")
        assert admin.last.text == "Choose the municipality:"
        await admin.press("⬅️ Back")
        assert admin.last.text == "In which municipality?"
        await admin.press("Shkodër")
        await admin.press("Municipality of Shkodër")
        assert "Online, Municipality of Shkodër" in admin.last.text, "back to the preview"

        _at(bot, "2026-11-23T10:31")
        await admin.press("✅ Save event")
        assert admin.messages[-2].text.startswith("That moment has passed.")
        assert admin.last.text.startswith("When does it start?")
        await admin.text("2026-11-24 10:30")
        assert "24 November 2026, 10:30" in admin.last.text, "back to the preview"
        await admin.press("✅ Save event")
        assert admin.seen("Event #1 saved.")
        async with bot.app.services.sessions() as session:
            [event] = (await session.execute(select(Event))).scalars().all()
        assert (event.title, event.place, event.description) == ("Forum rinor", "Online", "")
        assert event.municipality_id is not None
    finally:
        await bot.stop()


async def test_event_composer_is_staff_only_at_every_step(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        admin = _admin(bot)
        await admin.command("/events")
        assert admin.last.text.startswith("No upcoming or recent events.")
        await admin.command("/staff", args=f"grant {EDITOR} admin Mira")
        mira = Person(bot, bot.fake.user(user_id=EDITOR, first_name="Mira", language_code="en"))
        await mira.command("/start")
        await mira.press("✅ I agree")
        await mira.command("/event")
        await admin.command("/staff", args=f"revoke {EDITOR}")
        await mira.text("Forum rinor")
        assert mira.last.text == "This action is no longer available to you."
        await mira.text("Forum rinor")
        assert not mira.seen("In which municipality?"), "the flow is over"
        await admin.command("/staff", args=f"grant {EDITOR} admin Mira")
        await mira.command("/event")
        assert mira.last.text.startswith("New event."), "the draft went with the grant"
        async with bot.app.services.sessions() as session:
            assert (await session.execute(select(Event))).first() is None

        citizen = await _citizen(bot, "Arta", None)
        for command in ("/event", "/events"):
            await citizen.command(command)
            assert citizen.messages[-2].text == "I don't know that command."
        await citizen.press_data("sb:ev:show:1", message_id=citizen.last.message_id)
        assert _toast(citizen) == "This button is no longer active."
    finally:
        await bot.stop()


async def test_rsvps_are_in_the_data_download_and_go_with_erasure(fake, database_url) -> None:
    bot = BotHarness(fake, database_url)
    await bot.start()
    try:
        arta = await _citizen(bot, "Arta", None, last_name="Kelmendi")
        async with bot.app.services.sessions() as session, session.begin():
            event = await events.create(
                session,
                title=TITLE,
                municipality_id=None,
                place="Online",
                starts_at=bot.clock.now() + timedelta(days=3),
                description="",
                by_user_id=None,
                now=bot.clock.now(),
            )
            await campaigns.create_broadcast(
                session,
                title=TITLE,
                text_sq=TITLE,
                text_en=None,
                topic=Topic.HEARINGS,
                municipality_ids=None,
                send_at=bot.clock.now(),
                by_user_id=None,
                now=bot.clock.now(),
                buttons=[{"kind": "event", "event_id": event.id}],
            )
        assert await send_broadcasts(bot.app) == 1, "only those sent the event may answer it"
        await arta.press_data(f"ev:y:{event.id}", message_id=arta.last.message_id)
        await arta.press("Yes, show my name")
        await arta.command("/privacy")
        await arta.press("⬇️ Download my data")
        exported = json.loads(
            next(m for m in reversed(arta.messages) if m.document).document["content"]
        )
        [rsvp] = exported["event_rsvps"]
        assert rsvp["title"] == TITLE and rsvp["attending"] is True
        assert rsvp["name_on_attendance_list"] == "Arta Kelmendi"
        await arta.command("/privacy")
        await arta.press("🗑 Delete my data")
        await arta.press("Yes, delete everything")
        async with bot.app.services.sessions() as session:
            assert (await session.execute(select(EventRsvp))).first() is None
    finally:
        await bot.stop()


def test_parse_start_and_reminder_moments() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    start = events.parse_start("2026-12-05  17:00", TIRANA, now)
    assert start == datetime(2026, 12, 5, 17, 0, tzinfo=TIRANA)
    assert events.parse_start("5.12.2026 17:00", TIRANA, now) == start, "as Albanians write it"
    assert events.parse_start("17:00 on the fifth", TIRANA, now) is None
    assert events.parse_start("2026-11-23 09:59", TIRANA, now) is None, "10:00 in Tirana"
    assert events.parse_start("2026-11-23 10:01", TIRANA, now) is not None
    assert [kind for kind, _due in events.reminder_moments(start, now)] == [
        events.ReminderKind.DAY_BEFORE,
        events.ReminderKind.HOUR_BEFORE,
    ]
    soon = now + timedelta(hours=5)
    assert events.reminder_moments(soon, now) == [
        (events.ReminderKind.HOUR_BEFORE, soon - timedelta(hours=1))
    ]
    assert events.reminder_moments(now + timedelta(minutes=30), now) == []


async def test_late_reminders_are_dropped_not_sent(fake, database_url) -> None:
    bot = BotHarness(fake, database_url)
    await bot.start()
    try:
        _at(bot, "2026-11-23T10:00")
        async with bot.app.services.sessions() as session, session.begin():
            await events.create(
                session,
                title=TITLE,
                municipality_id=None,
                place="Online",
                starts_at=datetime(2026, 11, 25, 18, 0, tzinfo=TIRANA),
                description="",
                by_user_id=None,
                now=bot.clock.now(),
            )
        _at(bot, "2026-11-25T17:30")
        assert await _queue(bot) == 1, "only the hour-before one; 'tomorrow' would be wrong"
        [broadcast] = await _broadcasts(bot, BroadcastKind.EVENT_REMINDER)
        assert "in one hour" in broadcast.text_en
        assert [r.cancelled_at is not None for r in await _reminders(bot)] == [True, False]
    finally:
        await bot.stop()


async def test_the_hour_before_reminder_goes_out_in_quiet_hours(fake, database_url) -> None:
    bot = BotHarness(fake, database_url)
    await bot.start()
    try:
        _at(bot, "2026-11-23T10:00")
        arta = await _citizen(bot, "Arta", None)
        async with bot.app.services.sessions() as session, session.begin():
            event = await events.create(
                session,
                title=TITLE,
                municipality_id=None,
                place="Online",
                starts_at=datetime(2026, 11, 24, 22, 30, tzinfo=TIRANA),
                description="",
                by_user_id=None,
                now=bot.clock.now(),
            )
            await events.announce(session, event, bot.app.services.i18n, bot.clock.now(), None)
        assert await send_broadcasts(bot.app) == 1
        await arta.press("✅ I will attend")
        await arta.press("No, just count me")
        _at(bot, "2026-11-23T22:30")
        assert await send_broadcasts(bot.app) == 1
        assert "Reminder: tomorrow" in arta.last.text
        _at(bot, "2026-11-24T21:30")
        async with bot.app.services.sessions() as session, session.begin():
            await campaigns.create_broadcast(
                session,
                title="Night news",
                text_sq="Lajm natën",
                text_en="Night news",
                topic=Topic.HEARINGS,
                municipality_ids=None,
                send_at=bot.clock.now(),
                by_user_id=None,
                now=bot.clock.now(),
            )
        assert await send_broadcasts(bot.app) == 1, "the reminder goes, the campaign waits"
        assert "Reminder: in one hour" in arta.last.text
        assert not arta.seen("Night news")
        _at(bot, "2026-11-25T08:00")
        assert await send_broadcasts(bot.app) == 1
        assert arta.last.text == "Night news"
    finally:
        await bot.stop()


async def test_announcing_again_invites_only_those_not_attending(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        arta = await _citizen(bot, "Arta", SHKODER)
        besa = await _citizen(bot, "Besa", SHKODER)
        admin = _admin(bot)
        await admin.command("/start")
        _at(bot, "2026-11-23T10:00")
        async with bot.app.services.sessions() as session, session.begin():
            await events.create(
                session,
                title=TITLE,
                municipality_id=None,
                place="Salla e Këshillit Bashkiak",
                starts_at=datetime(2026, 12, 5, 16, 0, tzinfo=UTC),
                description="",
                by_user_id=None,
                now=bot.clock.now(),
            )

        await admin.command("/events")
        await admin.press(f"📅 {TITLE}")
        await admin.press("📣 Announce to subscribers now")
        assert admin.last.text == (
            "Scheduled: the invitation goes out now to 2 people (quiet hours apply)."
        )
        assert await send_broadcasts(bot.app) == 2
        await arta.press("✅ I will attend")
        await arta.press("No, just count me")
        await besa.press("Not this time")
        gent = await _citizen(bot, "Gent", SHKODER)

        await admin.command("/events")
        await admin.press(f"📅 {TITLE}")
        await admin.press("📣 Announce to subscribers now")
        assert admin.last.text.splitlines() == [
            "Scheduled: the invitation goes out now to 2 people (quiet hours apply).",
            "The 1 person already attending is not invited again.",
        ]
        assert await send_broadcasts(bot.app) == 2
        assert sum("Will you come?" in text for text in arta.texts()) == 1, "not re-invited"
        assert sum("Will you come?" in text for text in besa.texts()) == 2
        assert sum("Will you come?" in text for text in gent.texts()) == 1
        first, second = await _broadcasts(bot, BroadcastKind.CAMPAIGN)
        assert second.audience == {"not_attending": first.buttons[0]["event_id"]}
    finally:
        await bot.stop()
