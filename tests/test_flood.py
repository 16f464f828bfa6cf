"""Flood control: updates per minute, reports per day (anonymous too), files per case."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core import jobs
from db.models import Case, CaseAttachment
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english

FAST = "You are sending messages very fast; please wait a minute."


async def _cases(bot: BotHarness) -> list[Case]:
    async with bot.app.services.sessions() as session:
        return list((await session.execute(select(Case).order_by(Case.id))).scalars())


async def _files(bot: BotHarness) -> list[CaseAttachment]:
    async with bot.app.services.sessions() as session:
        return list((await session.execute(select(CaseAttachment))).scalars())


async def test_above_the_limit_one_polite_message_then_silence(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, updates_per_minute=5)
    await bot.start()
    try:
        arta = bot.person(language_code="en")
        await arta.command("/start")  # 1: the privacy notice with its buttons
        notice = arta.last
        for _ in range(4):  # 2-5: answered
            await arta.text("hello")
        answered = len(arta.messages)
        await arta.text("hello")  # 6: over the limit
        assert arta.messages[-1].text == FAST and len(arta.messages) == answered + 1
        await arta.text("hello")
        await arta.command("/help")
        await arta.press("✅ I agree", message=notice)
        assert len(arta.messages) == answered + 1, "ignored silently"
        assert [a.get("text") for a in arta.fake.callback_answers] == [None], "spinner stopped"
        assert await bot.user_row(arta) is None or not (await bot.user_row(arta)).consents

        bledi = bot.person(language_code="en")
        await bledi.command("/start")
        assert "privacy" in bledi.last.text.lower(), "others are not held up"

        bot.clock.advance(timedelta(seconds=61))
        await arta.command("/help")
        assert len(arta.messages) == answered + 2 and arta.last.text != FAST
    finally:
        await bot.stop()


async def _anonymous_corruption(person: Person, send: bool = True) -> None:
    """An anonymous corruption report from the menu to Send."""
    await person.command("/menu")
    await person.press("🚨 Report corruption")
    await person.press("Continue ➡️")
    await person.text("Health centre of Kukës")
    await person.text("A doctor asked for money before an operation.")
    await person.text("In October")
    await person.press("✔️ Done")
    await person.press("🕶 Anonymous")
    if send:
        await person.press("📨 Send")


async def test_the_fourth_report_in_a_day_is_refused_and_kept(bot: BotHarness) -> None:
    besa = bot.person(language_code="en")
    await besa.command("/start")
    await besa.press("No, thanks")
    for _ in range(3):
        await _anonymous_corruption(besa)
    assert len(await _cases(bot)) == 3
    await _anonymous_corruption(besa)
    assert besa.seen("You have already sent 3 reports today, the most one person can send")
    assert len(await _cases(bot)) == 3, "refused at Send"
    from db.models import ReportQuota  # imported here: the test fails above on the old code

    async with bot.app.services.sessions() as session:
        [row] = (await session.execute(select(ReportQuota))).scalars().all()
    assert row.count == 3
    stored = f"{row.key} {row.day} {row.count}"
    assert str(besa.fake.user_id) not in stored and "PACT" not in stored, "no link to a case"

    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _anonymous_corruption(arta)
    assert len(await _cases(bot)) == 4, "the count is per person"

    bot.clock.advance(timedelta(days=1))
    await besa.command("/menu")
    await besa.press("🚨 Report corruption")
    assert "You have a report in progress" in besa.last.text, "the draft was kept"
    await besa.press("▶️ Continue")
    assert "Check your report" in besa.last.text
    await besa.press("📨 Send")
    assert besa.seen("Your case number is PACT-2026-00005.")

    bot.clock.advance(timedelta(days=2))
    await jobs.purge_stale_drafts(bot.app)
    async with bot.app.services.sessions() as session:
        assert (await session.execute(select(ReportQuota))).scalars().all() == [], "pruned"


async def _photos_report(person: Person, photos: int) -> None:
    """A service report with photos, up to the identification question."""
    await person.command("/menu")
    await person.press("🛠 Report a service problem")
    await person.press("Shkodër")
    await person.press("Municipality of Shkodër")
    await person.press("Velipojë")
    await person.press("Street lighting")
    await person.text("The street lights on the main road have been off for two weeks.")
    await person.press("Skip")
    for _ in range(photos):
        await person.act("send_photo")


async def test_files_per_case_count_across_edits(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, files_per_case=6)
    await bot.start()
    try:
        arta = bot.person(language_code="en")
        await onboard_english(arta)
        await _photos_report(arta, 5)
        assert arta.seen("That is the limit of 5 files.")
        await arta.press("👤 Named")
        await arta.press("✏️ Files")
        await arta.act("send_photo")
        assert "1 file received" in arta.last.text
        await arta.act("send_photo")
        assert arta.seen("You have already sent 6 files for this report, the most one report")
        assert "Check your report" in arta.last.text
        await arta.press("✏️ Files")
        await arta.act("send_photo")
        assert "You have already sent 6 files" in arta.messages[-2].text
        await arta.press("📨 Send")
        assert arta.seen("Your case number is PACT-2026-00001.")
        assert len(await _files(bot)) == 1, "the photo of the last edit, nothing after the cap"
    finally:
        await bot.stop()


async def test_add_information_stops_at_files_per_case(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, files_per_case=6)
    await bot.start()
    try:
        arta = bot.person(language_code="en")
        await onboard_english(arta)
        await _photos_report(arta, 5)
        await arta.press("👤 Named")
        await arta.press("📨 Send")
        [case] = await _cases(bot)

        async def add_photo() -> None:
            await arta.command("/menu")
            await arta.press("📂 My cases")
            await arta.press(next(label for label in arta.last.labels if label.startswith("PACT")))
            await arta.press("➕ Add information")
            await arta.act("send_photo")

        await add_photo()
        assert arta.seen(f"Added to {case.reference}.")
        assert len(await _files(bot)) == 6
        await add_photo()
        assert arta.seen("This case already has 6 files, the most one case can take.")
        assert len(await _files(bot)) == 6
        await arta.text("The lights are still off tonight.")
        assert arta.messages[-1].text.startswith(f"Added to {case.reference}."), "text still goes"
        assert len(await _files(bot)) == 6
    finally:
        await bot.stop()


async def test_voice_notes_count_as_files(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, files_per_case=2)
    await bot.start()
    try:
        dita = bot.person(language_code="en")
        await onboard_english(dita)
        await dita.command("/menu")
        await dita.press("🚨 Report corruption")
        await dita.press("Continue ➡️")
        await dita.text("Health centre of Kukës")
        await dita.text("A doctor asked for money before an operation.")
        await dita.text("In October")
        for _ in range(3):
            await dita.act("send_voice", duration=4)
        assert dita.seen("You have already sent 2 files for this report, the most one report")
        await dita.press("👤 Named")
        assert "2 files" in dita.last.text, "the third voice note was not taken"
    finally:
        await bot.stop()
