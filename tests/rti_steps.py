"""Shared steps for the right-to-information tests."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.harness import BotHarness, Person


async def onboard_english(person: Person) -> None:
    """Consent and skip the optional questions, in English."""
    await person.command("/start")
    await person.press("✅ I agree")
    await person.press("Skip")
    await person.press("Skip")


async def open_builder(person: Person) -> None:
    """From the menu to the request builder's first question."""
    await person.command("/menu")
    await person.press("⚖️ Right to information")
    await person.press("✍️ Ask for information")


async def build_request(
    person: Person,
    *,
    region: str = "Shkodër",
    municipality: str = "Municipality of Shkodër",
    information: str = "The 2026 budget of the municipality and its annexes.",
    name: str = "Arta Kelmendi",
) -> None:
    """Walk the builder from the menu to the finished request."""
    await open_builder(person)
    await person.press(region)
    await person.press(municipality)
    await person.text(information)
    await person.press("📧 Electronic copy")
    await person.press("📧 E-mail")
    await person.text("arta@example.com")
    await person.text(name)
    await person.press("✅ Make the request")


def pdf_text(document: dict) -> str:
    """All text of a PDF sent as a document, blanks and wrapped lines as single spaces (where a
    line wraps depends on the font's widths, not on the letter)."""
    reader = PdfReader(io.BytesIO(document["content"]))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


async def sent_on(person: Person, day: str, protocol: str | None = None) -> None:
    """Tell the bot the request was sent on a typed date."""
    await person.press("📮 I have sent it")
    await person.press("📅 Another date")
    await person.text(day)
    if protocol is None:
        await person.press("Skip")
    else:
        await person.text(protocol)


def documents(person: Person) -> list[dict]:
    """Documents the bot sent, oldest first."""
    return [m.document for m in person.messages if m.document]


async def at(bot: BotHarness, iso: str) -> int:
    """Move the clock to a Tirana-local moment and run the reminder job once."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.core.jobs import send_due_reminders

    bot.clock.set(datetime.fromisoformat(iso).replace(tzinfo=ZoneInfo("Europe/Tirane")))
    return await send_due_reminders(bot.app)
