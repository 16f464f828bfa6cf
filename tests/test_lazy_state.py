"""Drafts and conversation states are read per person on demand, and idle people leave memory."""

from __future__ import annotations

from bot.core.persistence import DbPersistence
from bot.core.state_memory import conversation_states
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english

PROBLEM = "Lights off on the main road for two weeks."


def _residents(bot: BotHarness) -> DbPersistence:
    """The bot's persistence (it holds who is in memory)."""
    persistence = bot.app.persistence
    assert isinstance(persistence, DbPersistence)
    return persistence


def _in_memory(bot: BotHarness) -> tuple[set[int], set[int]]:
    """People with drafts in memory, and people with a conversation state in memory."""
    drafts = {user_id for user_id, data in bot.app.user_data.items() if data}
    states = {
        int(key[1] if len(key) >= 2 else key[0])
        for memory in conversation_states(bot.app).values()
        for key in memory
    }
    return drafts, states


async def _to_the_category(person: Person) -> None:
    """Begin a service report and stop at the category question."""
    await person.command("/menu")
    await person.press("🛠 Report a service problem")
    await person.press("Shkodër")
    await person.press("Municipality of Shkodër")
    await person.press("Skip")


async def test_a_flow_resumes_after_a_restart_that_loaded_nothing(bot: BotHarness) -> None:
    arta, bledi = bot.person(language_code="en"), bot.person(language_code="en")
    for person in (arta, bledi):
        await onboard_english(person)
        await _to_the_category(person)
    await arta.press("Street lighting")

    await bot.restart()
    assert _in_memory(bot) == (set(), set()), "start-up reads no draft and no state"
    assert len(_residents(bot).residents) == 0

    await arta.text(PROBLEM)
    assert arta.last.text.startswith("Where exactly?"), "resumed after the category"
    drafts, states = _in_memory(bot)
    assert arta.fake.user_id in drafts and arta.fake.user_id in states
    assert bledi.fake.user_id not in drafts | states, "only who sent something is read"

    await bledi.press("Street lighting")
    await bledi.text(PROBLEM)
    assert bledi.last.text.startswith("Where exactly?"), "her flow resumed too"


async def test_memory_keeps_only_the_most_recently_active(bot: BotHarness) -> None:
    _residents(bot).residents.limit = 1
    arta, bledi = bot.person(language_code="en"), bot.person(language_code="en")
    await onboard_english(arta)
    await _to_the_category(arta)
    await arta.press("Street lighting")
    await onboard_english(bledi)
    await _to_the_category(bledi)

    drafts, states = _in_memory(bot)
    assert arta.fake.user_id not in drafts | states, "the least recently active left memory"
    assert bledi.fake.user_id in drafts and bledi.fake.user_id in states
    assert len(_residents(bot).residents) == 1

    await arta.text(PROBLEM)
    assert arta.last.text.startswith("Where exactly?"), "read back from the table, resumed"
    drafts, states = _in_memory(bot)
    assert bledi.fake.user_id not in drafts | states
    await bledi.press("Street lighting")
    await bledi.text(PROBLEM)
    assert bledi.last.text.startswith("Where exactly?")


async def test_someone_kept_in_memory_only_is_not_dropped_mid_flow(bot: BotHarness) -> None:
    _residents(bot).residents.limit = 1
    besa, dita = bot.person(language_code="en"), bot.person(language_code="en")
    await besa.command("/start")
    await besa.press("No, thanks")
    await besa.command("/menu")
    await besa.press("🚨 Report corruption")
    await besa.press("Continue ➡️")
    await besa.text("Urban planning office, Municipality of Lezhë")
    assert besa.seen("I keep your answers only in memory")

    await onboard_english(dita)
    await _to_the_category(dita)
    drafts, _states = _in_memory(bot)
    assert besa.fake.user_id in drafts, "her draft is nowhere else: it stays"
