"""The request builder end to end: steps, validation, the PDF letter, restarts, consent."""

from __future__ import annotations

from sqlalchemy import select

from db.models import RtiRequest
from tests.harness import BotHarness
from tests.rti_steps import build_request, documents, onboard_english, pdf_text


async def test_full_builder_in_english_makes_the_letter(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await build_request(arta)

    assert arta.seen("Your request no. 1 is ready.")
    assert arta.seen("Koordinatori për të drejtën e informimit"), "the letter text is sent too"
    [letter] = documents(arta)
    assert letter["file_name"] == "kerkese-informimi-1.pdf"
    text = pdf_text(letter)
    for expected in (
        "Koordinatori për të drejtën e informimit",
        "Bashkia Shkodër",
        "Arta Kelmendi",
        "neneve 3 dhe 11",
        "nenit 15",
        "23 nëntor 2026",
        "Nënshkrimi",
    ):
        assert expected in text, expected
    ways = arta.last
    assert "How to send it" in ways.text and "pyetshtetin.al" in ways.text
    assert ways.labels[0] == "📮 I have sent it"

    async with bot.app.services.sessions() as session:
        [row] = (await session.execute(select(RtiRequest))).scalars().all()
    assert (row.status, row.format, row.reply_channel) == ("prepared", "electronic", "email")
    assert row.requester_name == "Arta Kelmendi" and row.sent_on is None


async def test_search_without_diacritics_and_the_contact_card(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/menu")
    await arta.press("⚖️ Right to information")
    await arta.press("✍️ Ask for information")
    await arta.text("fushe arrez")
    assert arta.last.labels[0] == "Municipality of Fushë-Arrëz"
    await arta.press("Municipality of Fushë-Arrëz")
    card = arta.messages[-2]
    assert "RTI coordinator: not known yet" in card.text
    assert "Transparency Programme" in card.text
    assert "⚠️ This contact is wrong" in card.labels
    assert "2/5" in arta.last.text

    await arta.press("⬅️ Back")
    await arta.text("zzzz")
    assert arta.seen("I found no authority for “zzzz”")


async def test_restart_in_the_middle_resumes_at_the_same_step(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/menu")
    await arta.press("⚖️ Right to information")
    await arta.press("✍️ Ask for information")
    await arta.press("Kukës")
    await arta.press("Municipality of Has")
    await arta.text("Minutes of the last council meeting, with the votes.")
    format_question = arta.last
    assert "3/5" in format_question.text

    await bot.restart()
    await arta.press("📄 Paper copy", message=format_question)
    assert "4/5" in arta.last.text
    await arta.press("📮 Postal address")
    await arta.text("Rruga e Dibrës 10, Krumë")
    await arta.text("Besa Gjoni")
    assert "Check your request" in arta.last.text
    assert "Municipality of Has" in arta.last.text and "paper copy" in arta.last.text

    await bot.restart()
    await arta.command("/menu")
    await arta.press("⚖️ Right to information")
    await arta.press("✍️ Ask for information")
    assert "in progress" in arta.last.text
    await arta.press("▶️ Continue")
    assert "Check your request" in arta.last.text


async def test_bad_input_is_explained_and_nothing_is_lost(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/menu")
    await arta.press("⚖️ Right to information")
    await arta.press("✍️ Ask for information")
    await arta.press("Dibër")
    await arta.press("Municipality of Mat")
    await arta.act("send_photo")
    assert arta.seen("Please type your answer as text.")
    await arta.text("x" * 3001)
    assert arta.seen("That is 3,001 characters; the limit is 3,000.")
    await arta.text("Please send me my pension file and my certificate.")
    assert arta.seen("This looks like a personal matter.")
    await arta.press("Continue anyway")
    await arta.text("I want a paper copy")
    assert arta.seen("Please use the buttons.")
    assert "3/5" in arta.last.text
    await arta.press("📧 Electronic copy")
    await arta.press("📧 E-mail")
    await arta.text("not-an-email")
    assert arta.seen("That does not look like an e-mail address.")
    await arta.text("arta@example.com")
    await arta.text("Arta")
    assert arta.seen("Please type your name and surname.")
    await arta.text("Arta Kelmendi")
    await arta.press("✏️ Form")
    await arta.press("🏛 Consult on site")
    assert "Check your request" in arta.last.text and "consult on site" in arta.last.text
    await arta.press("✖️ Cancel")
    assert arta.seen("Cancelled. Nothing from that step was saved.")
    async with bot.app.services.sessions() as session:
        assert (await session.execute(select(RtiRequest))).first() is None


async def test_builder_needs_consent(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await arta.command("/start")
    await arta.press("No, thanks")
    await arta.press("⚖️ Right to information")
    await arta.press("📖 What is my right?")
    assert "Choose a topic" in arta.last.text
    await arta.press("⬅️ Back")
    await arta.press("✍️ Ask for information")
    assert arta.seen("Please agree to the privacy notice first.")
    assert "✅ I agree" in arta.last.labels


async def test_full_builder_in_albanian(bot: BotHarness) -> None:
    drita = bot.person(language_code="sq", first_name="Drita")
    await drita.command("/start")
    await drita.press("✅ Pajtohem")
    await drita.press("Kaloje")
    await drita.press("Kaloje")
    await drita.press("⚖️ E drejta për informim")
    await drita.press("✍️ Kërkoni informacion")
    await drita.text("mirdite")
    await drita.press("Bashkia Mirditë")
    await drita.text("Procesverbalet e mbledhjeve të këshillit bashkiak në vitin 2026.")
    await drita.press("📧 Kopje elektronike")
    await drita.press("📧 E-mail")
    await drita.text("drita@example.com")
    await drita.text("Drita Marku")
    assert "Kontrolloni kërkesën tuaj" in drita.last.text
    await drita.press("✅ Krijoni kërkesën")
    [letter] = documents(drita)
    text = pdf_text(letter)
    for expected in ("Bashkia Mirditë", "Drita Marku", "neneve 3 dhe 11", "nenit 15", "këshillit"):
        assert expected in text, expected
    assert "📮 E kam dërguar" in drita.last.labels
