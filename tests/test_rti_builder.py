"""The request builder end to end: steps, validation, the PDF letter, restarts, consent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate
from db.engine import create_engine
from db.models import RtiRequest
from tests.databases import backends, fresh_database
from tests.harness import BotHarness
from tests.rti_steps import build_request, documents, onboard_english, open_builder, pdf_text


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
    await open_builder(arta)
    await arta.text("fushe arrez")
    assert arta.last.labels[0] == "Municipality of Fushë-Arrëz"
    await arta.press("Municipality of Fushë-Arrëz")
    card = arta.messages[-2]
    assert "not known yet" not in card.text, "unknown fields are left out"
    assert "No e-mail is known for this authority." in card.text
    assert "Transparency Programme" in card.text
    assert "⚠️ This contact is wrong" in card.labels
    assert "2/5" in arta.last.text

    await arta.press("⬅️ Back")
    await arta.text("zzzz")
    assert arta.seen("I found no authority for “zzzz”")


async def test_restart_in_the_middle_resumes_at_the_same_step(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await open_builder(arta)
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
    await open_builder(arta)
    assert "in progress" in arta.last.text
    await arta.press("▶️ Continue")
    assert "Check your request" in arta.last.text


async def test_bad_input_is_explained_and_nothing_is_lost(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await open_builder(arta)
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
    assert arta.last.text == "Please use the buttons above."
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
    assert arta.seen("Your draft request was discarded.")
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
    await drita.press("Kalojeni")
    await drita.press("Kalojeni")
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


async def test_back_from_search_results_after_a_restart_goes_one_screen_back(
    bot: BotHarness,
) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await open_builder(arta)
    assert "⬅️ Back" not in arta.last.labels, "nothing before the first question"
    await arta.press("Shkodër")
    assert "Choose the municipality:" in arta.last.text
    await arta.text("kurbin")
    assert (
        "Here is what I found:" in arta.last.text and "Municipality of Kurbin" in arta.last.labels
    )
    await bot.restart()
    await arta.press("⬅️ Back")
    assert "Choose the municipality:" in arta.last.text, "the region list, even after a restart"
    await arta.press("⬅️ Back")
    assert "Which authority?" in arta.last.text
    await arta.press("Kukës")
    await arta.press("Municipality of Has")
    assert "2/5" in arta.last.text, "the builder goes on"


async def test_personal_warning_and_changing_the_address_kind(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await open_builder(arta)
    await arta.press("Dibër")
    await arta.press("Municipality of Mat")
    await arta.text("Please send me my pension file and my certificate.")
    assert "This looks like a personal matter." in arta.last.text
    await arta.press("✏️ Rewrite")
    assert "2/5" in arta.last.text
    await arta.text("The contracts for the school roof repair in 2026.")
    await arta.press("📧 Electronic copy")
    await arta.press("📧 E-mail")
    await arta.text("arta@example.com")
    await arta.text("Arta   Kelmendi")
    assert "Name: Arta Kelmendi" in arta.last.text

    await arta.press("✏️ Address")
    await arta.press("📮 Postal address")
    assert "Type your postal address" in arta.last.text
    await arta.text("Rruga e Dibrës 10, Burrel")
    preview = arta.last.text
    assert "Check your request" in preview and "Answer to: Rruga e Dibrës 10, Burrel" in preview
    await arta.press("✅ Make the request")
    async with bot.app.services.sessions() as session:
        [row] = (await session.execute(select(RtiRequest))).scalars().all()
    assert (row.reply_channel, row.reply_address) == ("post", "Rruga e Dibrës 10, Burrel")


@pytest.mark.parametrize("backend", backends())
async def test_migration_moves_a_builder_in_progress_to_step_ids(
    backend: str, tmp_path: Path
) -> None:
    engine = create_engine(await fresh_database(backend, tmp_path))
    conv, user = ("conv", "rti_builder:[7001, 7001]"), ("user_data", "7001")
    draft = {"step": 2, "authority_id": 1, "information": "My own pension file, please."}
    try:
        await migrate.upgrade(engine, "0014_revocations_by_telegram_id")
        async with engine.begin() as conn:
            for (kind, key), data in ((conv, {"state": 3}), (user, {"rti_draft": draft})):
                await conn.execute(
                    text(
                        "INSERT INTO bot_state (kind, key, data, updated_at) "
                        "VALUES (:kind, :key, :data, :now)"
                    ),
                    {"kind": kind, "key": key, "data": json.dumps(data), "now": datetime.now(UTC)},
                )
        await migrate.upgrade(engine)
        after = await _state_rows(engine)
        assert after[conv] == {"state": "rti.information"}, "the personal-matter warning"
        assert after[user]["rti_draft"] == {**draft, "step": "rti.information"}

        await migrate.downgrade(engine, "0014_revocations_by_telegram_id")
        back = await _state_rows(engine)
        assert back[conv] == {"state": 2} and back[user]["rti_draft"] == draft
    finally:
        await engine.dispose()


async def _state_rows(engine: AsyncEngine) -> dict[tuple[str, str], dict]:
    """bot_state rows by (kind, key)."""
    async with engine.connect() as conn:
        found = await conn.execute(text("SELECT kind, key, data FROM bot_state"))
        return {
            (kind, key): json.loads(data) if isinstance(data, str) else data
            for kind, key, data in found
        }
