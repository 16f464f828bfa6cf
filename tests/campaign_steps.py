"""Shared steps for the campaign tests: a person who follows a topic, in a place."""

from __future__ import annotations

from tests.harness import BotHarness, Person


async def follow(
    person: Person,
    topic: str,
    place: tuple[str, str] | None = None,
    age: str = "Skip",
    role: str = "Skip",
) -> Person:
    """Onboard in English with an age band and role, opt in, follow a topic (in one town)."""
    await person.command("/start")
    await person.press("✅ I agree")
    await person.press(age)
    await person.press(role)
    await person.command("/menu")
    await person.press("📣 Campaigns & events")
    await person.press("✅ Yes, send me campaign messages")
    await person.press(topic)
    if place is not None:
        await person.press("📍 Municipality: all")
        await person.press(place[0])
        await person.press(place[1])
    return person


async def follower(
    bot: BotHarness,
    name: str,
    topic: str,
    place: tuple[str, str] | None = None,
    last_name: str | None = None,
    age: str = "Skip",
    role: str = "Skip",
) -> Person:
    """A new English-speaking person who follows a topic."""
    person = bot.person(language_code="en", first_name=name, last_name=last_name)
    return await follow(person, topic, place, age, role)


COMPOSER_ADMIN = 9400
"""The Telegram id of the staff member who composes broadcasts (an admin by settings)."""


async def composer_admin(bot: BotHarness) -> Person:
    """An admin (by settings, so the bot restarts) who may use /broadcast, in English."""
    await bot.stop()
    bot.settings = bot.settings.model_copy(update={"admin_ids": frozenset({COMPOSER_ADMIN})})
    await bot.start()
    return Person(bot, bot.fake.user(user_id=COMPOSER_ADMIN, first_name="Ledi", language_code="en"))
