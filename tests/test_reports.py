"""Reporting end to end: identification modes, files, duplicates, status notices, follow-up."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from bot.cases.services import case_rules, notices
from bot.cases.services import secret_codes as case_codes
from bot.core.runtime import unit_of_work
from db.models import AuditEntry, Case, CaseAttachment, CaseContact, CaseStatus
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english

STAFF = -100777


async def _report_lighting(person: Person, identity: str, *, photos: int = 0) -> None:
    """A street-lighting problem in Shkodër, Velipojë."""
    await _report_lighting_until_send(person, identity, photos=photos)
    await person.press("📨 Send")


async def _report_lighting_until_send(person: Person, identity: str, *, photos: int = 0) -> None:
    """The same report up to its preview, not sent."""
    await person.command("/menu")
    await person.press("🛠 Report a service problem")
    await person.press("Shkodër")
    await person.press("Municipality of Shkodër")
    await person.press("Velipojë")
    await person.press("Street lighting")
    await person.text("The street lights on the main road have been off for two weeks.")
    await person.act("send_location", 41.8667, 19.4167)
    for _ in range(photos):
        await person.act("send_photo")
    await person.press("✔️ Done")
    await person.press(identity)


async def _cases(bot: BotHarness) -> list[Case]:
    async with bot.app.services.sessions() as session:
        return list((await session.execute(select(Case).order_by(Case.id))).scalars())


async def _change(bot: BotHarness, case_id: int, status: CaseStatus, note: str | None) -> int:
    """What the staff workspace will do: change the status and notify."""
    async with unit_of_work(bot.app.services) as scope:  # notices are sent after the commit
        session = scope.session
        case = await session.get(Case, case_id)
        await case_rules.change_status(
            session, case, status, public_note=note, actor_user_id=None, now=bot.clock.now()
        )
        return await notices.status_changed(bot.app.services, session, case, note)


async def test_a_staff_group_that_makes_us_wait_never_holds_the_reporters_answer(
    fake, database_url
) -> None:
    """The group card goes from the sender's own task: the reporter has their number, and can go
    on, while Telegram still holds the group's messages (its 20 a minute, say)."""
    fake.group(chat_id=STAFF, title="Staff")
    fake.held_chats[STAFF] = asyncio.Event()
    bot = BotHarness(fake, database_url, staff_chat_id=STAFF)
    await bot.start()
    try:
        arta = bot.person(language_code="en")
        await onboard_english(arta)
        await _report_lighting_until_send(arta, "👤 Named")
        await arta.fake.press("📨 Send")
        await fake.wait_until(lambda: arta.seen("Your case number is PACT-2026-00001."), 10)
        seen = len(arta.messages)
        helped = await arta.fake.send_command("/help")  # and they go on
        await fake.wait_until(lambda: len(arta.messages) > seen, 10)
        assert not [m for m in fake.chat_messages(STAFF) if "PACT-2026-00001" in (m.text or "")]
        fake.held_chats.pop(STAFF).set()
        await bot.settle(helped)
        assert [m for m in fake.chat_messages(STAFF) if "PACT-2026-00001" in (m.text or "")]
    finally:
        await bot.stop()


async def test_named_report_with_photos_and_location(fake, database_url) -> None:
    fake.group(chat_id=STAFF, title="Staff")
    bot = BotHarness(fake, database_url, staff_chat_id=STAFF)
    await bot.start()
    try:
        arta = bot.person(language_code="en")
        await onboard_english(arta)
        await _report_lighting(arta, "👤 Named", photos=2)
        assert arta.seen("Your case number is PACT-2026-00001.")
        assert arta.seen("within 5 working days")
        [case] = await _cases(bot)
        user = await bot.user_row(arta)
        assert case.reporter_user_id == user.id and case.identification == "named"
        assert (case.unit, case.category, case.latitude) == ("Velipojë", "lighting", 41.8667)
        async with bot.app.services.sessions() as session:
            files = (await session.execute(select(CaseAttachment))).scalars().all()
        assert [f.kind for f in files] == ["photo", "photo"]
        card = next(m for m in fake.chat_messages(STAFF) if "PACT-2026-00001" in (m.text or ""))
        assert "Arta" not in card.text, "the group card is short: the name is on the private card"
        assert card.button_data(card.labels[0]).startswith("stf:priv:")
        assert not any(m.location or m.photo for m in fake.chat_messages(STAFF)), "no pin, photos"

        assert await _change(bot, case.id, CaseStatus.UNDER_REVIEW, "We asked the utility.") == 1
        assert "is now: under review" in arta.last.text
        assert "We asked the utility." in arta.last.text
    finally:
        await bot.stop()


async def test_anonymous_report_is_linked_to_no_account(bot: BotHarness) -> None:
    besa = bot.person(language_code="en")
    await besa.command("/start")
    await besa.press("No, thanks")
    await besa.press("🚨 Report corruption")
    assert besa.seen("You can report anonymously")
    await besa.press("Continue ➡️")
    await besa.text("Urban planning office, Municipality of Lezhë")
    await besa.text("An official asked for money to speed up a permit.")
    await besa.text("Last week")
    await besa.press("✔️ Done")
    assert besa.last.labels[:1] == ["🕶 Anonymous"], "without consent: anonymous only"
    await besa.press("🕶 Anonymous")
    await besa.press("📨 Send")
    sent = besa.last.text
    assert "PACT-2026-00001" in sent and "secret code" in sent
    code = next(line for line in sent.splitlines() if "secret code" in line).split(": ")[-1]

    [case] = await _cases(bot)
    assert case.reporter_user_id is None and case.kind == "corruption"
    async with bot.app.services.sessions() as session:
        assert await session.get(CaseContact, case.id) is None
        audit = (
            (await session.execute(select(AuditEntry).where(AuditEntry.subject_type == "case")))
            .scalars()
            .all()
        )
        assert all(entry.actor_user_id is None for entry in audit)
    assert await bot.user_row(besa) is not None and (await bot.user_row(besa)).privacy_refused_at

    await besa.command("/menu")
    await besa.press("📂 My cases")
    assert "You have no cases linked to this account." in besa.last.text
    await besa.press("🔎 Check a case")
    await besa.text(case.reference.lower())
    await besa.text(code)
    assert "Corruption report" in besa.last.text and "received" in besa.last.text

    for _ in range(case_codes.MAX_CODE_FAILURES):
        await besa.press("🔎 Check a case")
        await besa.text(case.reference)
        await besa.text("AAAA-AAAA")
    assert besa.seen("The case number or the code is not right, or there were too many tries.")
    await besa.press("🔎 Check a case")
    await besa.text(case.reference)
    await besa.text(code)
    assert "Corruption report" not in besa.last.text, "her own wrong tries lock her out too"


async def test_confidential_report_relays_without_revealing(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _report_lighting(arta, "🔒 Confidential")
    [case] = await _cases(bot)
    user = await bot.user_row(arta)
    assert case.reporter_user_id is None
    async with bot.app.services.sessions() as session:
        contact = await session.get(CaseContact, case.id)
    assert contact.user_id == user.id and contact.relay_code
    await _change(bot, case.id, CaseStatus.FORWARDED, None)
    assert "is now: forwarded to the institution" in arta.last.text
    await arta.command("/menu")
    await arta.press("📂 My cases")
    await arta.press(next(label for label in arta.last.labels if label.startswith("PACT")))
    assert "forwarded to the institution" in arta.last.text
    assert "➕ Add information" in arta.last.labels


async def test_duplicates_followers_and_the_21_day_follow_up(fake, database_url) -> None:
    fake.group(chat_id=STAFF, title="Staff")
    bot = BotHarness(fake, database_url, staff_chat_id=STAFF)
    await bot.start()
    try:
        arta = bot.person(language_code="en")
        await onboard_english(arta)
        await _report_lighting(arta, "👤 Named")
        bledi = bot.person(language_code="en", first_name="Bledi")
        await onboard_english(bledi)
        await bot.clock.advance(timedelta(days=2)) if False else bot.clock.advance(
            timedelta(days=2)
        )
        await _report_lighting(bledi, "👤 Named")
        assert bledi.seen("Similar open cases were reported here in the last 30 days")
        await bledi.press("Same problem — add me to PACT-2026-00001")
        assert bledi.seen("You now follow case PACT-2026-00001.")
        assert len(await _cases(bot)) == 1

        [case] = await _cases(bot)
        assert await _change(bot, case.id, CaseStatus.RESOLVED, "Lights repaired.") == 2
        assert "is now: resolved" in bledi.last.text

        from bot.core.jobs import send_due_followups

        bot.clock.advance(timedelta(days=20))
        assert await send_due_followups(bot.app) == 0
        bot.clock.advance(timedelta(days=1, minutes=1))
        assert await send_due_followups(bot.app) == 1
        assert "Is the problem solved?" in arta.last.text
        assert await send_due_followups(bot.app) == 0
        await arta.press("❌ No")
        assert arta.seen("The case is reopened")
        [case] = await _cases(bot)
        assert case.status == "under_review"
        assert "PACT-2026-00001" in fake.chat_messages(STAFF)[-1].text
    finally:
        await bot.stop()


async def test_bad_input_restart_and_edit_from_preview(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/menu")
    await arta.press("🛠 Report a service problem")
    await arta.text("vau i dejes")
    await arta.press("Municipality of Vau i Dejës")
    await arta.act("send_sticker")
    assert arta.seen("Please type your answer as text.")
    await arta.press("Skip")
    category_question = arta.last
    await arta.act("send_sticker")
    assert arta.last.text == "Please use the buttons above.", "one answer, nothing lost"
    await bot.restart()
    await arta.press("Waste collection and street cleaning", message=category_question)
    await arta.text("x" * 3001)
    assert arta.seen("That is 3,001 characters; the limit is 3,000.")
    await arta.act("send_voice", duration=5)
    assert arta.seen("Voice note received.")
    await arta.text("Near the school gate")
    await arta.act(
        "send_document", file_name="notes.pdf", mime_type="application/pdf", content=b"%PDF-1.4"
    )
    assert arta.seen("Please send photos here.")
    await arta.text("done")
    await arta.press("🕶 Anonymous")
    await arta.press("🎙 Keep the voice note")
    assert "Check your report" in arta.last.text and "voice note" in arta.last.text
    await arta.press("✏️ Problem")
    await arta.press("Local roads and sidewalks")
    assert "Check your report" in arta.last.text and "Local roads and sidewalks" in arta.last.text
    await arta.press("📨 Send")
    [case] = await _cases(bot)
    assert (case.category, case.location_text, case.unit) == ("roads", "Near the school gate", None)
    async with bot.app.services.sessions() as session:
        [voice] = (await session.execute(select(CaseAttachment))).scalars().all()
    assert voice.kind == "voice"


async def test_image_document_is_cleaned_of_metadata(bot: BotHarness) -> None:
    picture = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    exif[0x0110] = "Model X"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (41.0, 52.0, 0.0)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=exif)
    raw = buffer.getvalue()
    assert b"SpyCam" in raw

    dita = bot.person(language_code="en")
    await onboard_english(dita)
    await dita.command("/menu")
    await dita.press("🚨 Report corruption")
    await dita.press("Continue ➡️")
    await dita.text("Health centre of Kukës")
    await dita.text("A doctor asked for money before an operation.")
    await dita.text("In October")
    await dita.act("send_document", file_name="receipt.jpg", mime_type="image/jpeg", content=raw)
    cleaned = next(
        m for m in dita.messages if m.document and m.document["file_name"].endswith(".jpg")
    )
    assert (
        b"SpyCam" not in cleaned.document["content"]
        and b"Model X" not in cleaned.document["content"]
    )
    assert "removed the hidden data" in cleaned.text
    await dita.press("✔️ Done")
    await dita.press("🕶 Anonymous")
    await dita.press("📨 Send")
    async with bot.app.services.sessions() as session:
        [stored] = (await session.execute(select(CaseAttachment))).scalars().all()
    assert stored.cleaned and stored.file_id == cleaned.document["file_id"]


async def test_withdraw_and_add_information(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _report_lighting(arta, "👤 Named")
    await arta.command("/menu")
    await arta.press("📂 My cases")
    await arta.press(next(label for label in arta.last.labels if label.startswith("PACT")))
    await arta.press("➕ Add information")
    await arta.act("send_photo", caption="Another pole is down")
    assert arta.seen("Added to PACT-2026-00001.")
    assert "You added information" in arta.last.text
    await arta.press("↩️ Withdraw")
    await arta.press("Yes, withdraw")
    [case] = await _cases(bot)
    assert case.status == "withdrawn"


async def test_under_16_reports_only_anonymously(bot: BotHarness) -> None:
    ana = bot.person(language_code="en")
    await ana.command("/start")
    await ana.press("✅ I agree")
    await ana.press("Under 16")
    await ana.press("🛠 Report a service problem")
    await ana.press("Kukës")
    await ana.press("Municipality of Tropojë")
    await ana.press("Skip")
    await ana.press("Public transport")
    await ana.text("The school bus did not come all week.")
    await ana.press("Skip")
    await ana.press("✔️ Done")
    assert ana.seen("Under 16 you can report only anonymously.")
    assert [label for label in ana.last.labels if label.startswith(("👤", "🔒", "🕶"))] == [
        "🕶 Anonymous"
    ]


async def test_export_lists_cases_and_erasure_keeps_them_anonymised(bot: BotHarness) -> None:
    import json

    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _report_lighting(arta, "🔒 Confidential")
    await arta.command("/privacy")
    await arta.press("⬇️ Download my data")
    data = json.loads(next(m for m in reversed(arta.messages) if m.document).document["content"])
    [case_data] = data["cases"]
    assert case_data["role"] == "reporter" and case_data["unit"] == "Velipojë"

    await arta.command("/privacy")
    await arta.press("🗑 Delete my data")
    await arta.press("Yes, delete everything")
    [case] = await _cases(bot)
    assert case.reporter_user_id is None
    async with bot.app.services.sessions() as session:
        assert await session.get(CaseContact, case.id) is None, "the link is gone, the case stays"


async def test_stray_text_at_the_village_step_is_not_taken_as_the_village(bot: BotHarness) -> None:
    """Typed text that is none of the units is confirmed first; Back returns to the units.

    Wrong input at every step in general is tested once for all wizards (test_wizard_kernel.py);
    here only the report's own hints."""
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/menu")
    await arta.press("🛠 Report a service problem")
    await arta.press("Shkodër")
    await arta.press("Municipality of Shkodër")
    await arta.text("velipoje")
    assert "What is the problem about?" in arta.last.text, "a listed unit, typed, is taken"
    await arta.press("⬅️ Back")
    await arta.text("The street lights are off")
    assert "Is “The street lights are off” the administrative unit" in arta.last.text
    await arta.press("⬅️ Back")
    assert "Which administrative unit or village?" in arta.last.text
    await arta.press("Skip")
    await arta.press("Street lighting")
    await arta.act("send_sticker")
    assert arta.last.text == "Please type your answer as text."
    await arta.text("Dark street near the market.")
    await arta.press("Skip")
    await arta.act("send_sticker")
    assert arta.last.text == "Send photos, or tap Done."
    await arta.press("✔️ Done")
    await arta.press("👤 Named")
    preview = arta.last
    assert "Dark street near the market." in preview.text and "Street lighting" in preview.text
    assert "Place: Municipality of Shkodër\n" in preview.text, "no village was kept"
    await arta.press("📨 Send")
    [case] = await _cases(bot)
    assert case.unit is None
