"""Shared steps for the report-card survey tests: a launched round, a citizen, its button."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select

from bot.reportcards import links
from bot.reportcards.services import questions as qs
from db.models import Authority, ReportCardRound
from tests.harness import START, BotHarness, Person


async def town_id(bot: BotHarness, name: str) -> int:
    """A municipality's id by name."""
    async with bot.app.services.sessions() as session:
        found = await session.execute(
            select(Authority.id).where(Authority.name == name, Authority.kind == "municipality")
        )
        return found.scalar_one()


async def launch_round(
    bot: BotHarness,
    places: tuple[str, ...] = ("Shkodër", "Lezhë"),
    opens: date = date(2026, 11, 20),
    closes: date = date(2026, 11, 30),
    launched: bool = True,
) -> int:
    """A round on water and waste with the default questions, launched (salt and moment) as the
    staff wizard does, made directly so that the survey's tests need no staff steps."""
    ids = [await town_id(bot, name) for name in places]
    async with bot.app.services.sessions() as session, session.begin():
        round_ = ReportCardRound(
            title_sq="Karta e qytetarëve 2026",
            title_en="Citizen report card 2026",
            services=["water", "waste"],
            municipality_ids=ids,
            opens_on=opens,
            closes_on=closes,
            questions=qs.default_questions(),
            salt=secrets.token_hex(32) if launched else None,
            launched_at=START if launched else None,
            created_at=START,
            updated_at=START,
        )
        session.add(round_)
    return round_.id


async def citizen(bot: BotHarness, name: str, age: str = "18–29", role: str = "Citizen") -> Person:
    """An English-speaking person who agreed and gave an age band and role."""
    person = bot.person(language_code="en", first_name=name)
    await person.command("/start")
    await person.press("✅ I agree")
    await person.press(age)
    await person.press(role)
    return person


async def press(person: Person, data: str, message_id: int | None = None) -> None:
    """Raw button data (forged, stale, or a button of a message sent by other means)."""
    await person.press_data(data, message_id or person.last.message_id)


async def open_survey(person: Person, round_id: int) -> None:
    """The invitation's button (as the broadcast renders it) under the newest message."""
    await press(person, links.OPEN_SURVEY.data(round_id))


async def at_first_question(bot: BotHarness) -> Person:
    """Someone who opened a launched round's survey: asked which municipality."""
    round_id = await launch_round(bot)
    person = await citizen(bot, "Arta")
    await open_survey(person, round_id)
    return person
