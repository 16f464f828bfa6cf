"""Letters again from "My requests": the request as sent (the complaint's annex), the filed
complaint, and how to deliver a letter when the authority's e-mail is unknown."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from db.models import Authority, RtiRequest
from tests.harness import BotHarness, Person
from tests.rti_steps import build_request, documents, onboard_english, pdf_text, sent_on


def _at(bot: BotHarness, iso: str) -> None:
    """Move the clock to a Tirana-local moment."""
    bot.clock.set(datetime.fromisoformat(iso).replace(tzinfo=ZoneInfo("Europe/Tirane")))


async def _open_card(person: Person) -> None:
    """From the menu to request no. 1's card."""
    await person.command("/menu")
    await person.press("⚖️ Right to information")
    await person.press("📋 My requests")
    [label] = [label for label in person.last.labels if label.startswith("#1")]
    await person.press(label)


async def test_request_and_complaint_again_after_sending_and_filing(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await build_request(arta)
    original = documents(arta)[-1]
    assert "Shkodër, më 23 nëntor 2026" in pdf_text(original), "place before the date"

    _at(bot, "2026-11-26T10:00")
    await sent_on(arta, "25.11.2026", "123/4")
    await _open_card(arta)
    assert "📮 I have sent it" not in arta.last.labels
    await arta.press("📄 The request letter")
    again = documents(arta)[-1]
    assert again["file_name"] == original["file_name"] == "kerkese-informimi-1.pdf"
    assert again["content"] == original["content"], "the same letter, date included"
    assert "of 23 November 2026, the same letter" in arta.last.text

    _at(bot, "2026-12-15T10:00")
    await _open_card(arta)
    await arta.press("🔇 No answer")
    await arta.press("📝 Complaint to the Commissioner")
    complaint, annex = documents(arta)[-2:]
    assert complaint["file_name"] == "ankese-komisioneri-1.pdf"
    assert "1. Kopje e kërkesës për informim, e paraqitur më 25 nëntor 2026." in pdf_text(complaint)
    assert annex["content"] == original["content"], "the annex is the letter as sent"
    annex_message = next(m for m in reversed(arta.messages) if m.document)
    assert "Annex 1 of the complaint" in annex_message.text

    await arta.press("✅ I have filed it")
    _at(bot, "2027-01-20T10:00")
    await _open_card(arta)
    assert "📄 The request letter" in arta.last.labels
    await arta.press("📄 The complaint letter")
    filed = documents(arta)[-1]
    assert filed["content"] == complaint["content"], "the complaint as filed, dated 15 Dec"
    assert "of 15 December 2026" in arta.last.text
    async with bot.app.services.sessions() as session:
        row = (await session.execute(select(RtiRequest))).scalar_one()
    assert (row.status, row.complaint_ground, row.complaint_written_on) == (
        "complaint_filed",
        "no_answer",
        date(2026, 12, 15),
    )


async def test_no_letter_of_another_person(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await build_request(arta)
    other = bot.person(language_code="en")
    await onboard_english(other)
    await other.press_data("rtl:1", message_id=other.last.message_id)
    await other.press_data("rtq:1", message_id=other.last.message_id)
    assert not documents(other)
    assert other.seen("That button is no longer active.")


async def test_without_an_email_the_bot_says_how_to_deliver(bot: BotHarness) -> None:
    async with bot.app.services.sessions() as session, session.begin():
        await session.execute(
            update(Authority)
            .where(Authority.name == "Shkodër")
            .values(
                email=None,
                rti_email=None,
                postal_address="Bashkia Shkodër, rruga “13 Dhjetori”, Nd.9, 4001 Shkodër",
            )
        )
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await build_request(arta)
    ways = arta.last.text
    assert "No e-mail is known for this authority" in ways
    assert "protocol office" in ways
    assert "by post to Bashkia Shkodër, rruga “13 Dhjetori”, Nd.9, 4001 Shkodër" in ways
    assert "pyetshtetin.al" in ways
    assert "open the e-mail" not in ways
    assert "rruga “13 Dhjetori”" in pdf_text(documents(arta)[-1]), "the address on the letter"
