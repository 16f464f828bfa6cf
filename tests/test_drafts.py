"""Drafts: nothing links a sender to an anonymous case, stale drafts expire, no consent no rows."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.core import application, jobs
from db.models import BotState, Case
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english

WHAT = "An official asked for money to speed up a permit."


async def _rows(bot: BotHarness) -> list[BotState]:
    """Every bot_state row, after PTB has written what it holds in memory."""
    await bot.app.update_persistence()
    async with bot.app.services.sessions() as session:
        return list((await session.execute(select(BotState))).scalars())


def _dump(rows: list[BotState]) -> str:
    """All keys and data of the rows as one text to search in."""
    return "\n".join(f"{row.kind} {row.key} {json.dumps(row.data)}" for row in rows)


def _of(rows: list[BotState], person: Person) -> list[BotState]:
    """The rows keyed by this person's Telegram id (drafts and conversation states)."""
    uid = str(person.fake.user_id)
    return [row for row in rows if row.key == uid or uid in row.key]


async def _corruption_draft(person: Person) -> None:
    """Begin a corruption report and answer up to the evidence step."""
    await person.command("/menu")
    await person.press("🚨 Report corruption")
    await person.press("Continue ➡️")
    await person.text("Urban planning office, Municipality of Lezhë")
    await person.text(WHAT)
    await person.text("Last week")


async def _service_draft(person: Person) -> None:
    """Begin a service report and stop at the category question."""
    await person.command("/menu")
    await person.press("🛠 Report a service problem")
    await person.text("vau i dejes")
    await person.press("Municipality of Vau i Dejës")
    await person.press("Skip")


async def test_after_an_anonymous_send_no_state_row_links_the_sender(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _corruption_draft(arta)
    assert WHAT in _dump(_of(await _rows(bot), arta)), "while drafting, the draft is kept"
    await arta.press("✔️ Done")
    await arta.press("🕶 Anonymous")
    await arta.press("📨 Send")
    sent = arta.last.text
    code = next(line for line in sent.splitlines() if "secret code" in line).split(": ")[-1]
    async with bot.app.services.sessions() as session:
        [case] = (await session.execute(select(Case))).scalars().all()

    # She checks it, and leaves the check half-way (the typed number stays in her flow).
    await arta.command("/menu")
    await arta.press("📂 My cases")
    await arta.press("🔎 Check a case")
    await arta.text(case.reference)
    await arta.command("/menu")

    rows = await _rows(bot)
    assert not [row for row in rows if row.key.startswith("case_check:")], "no half-done check"
    stored = _dump(rows)
    for secret in (case.reference, code, WHAT, "Lezhë", f'"case_id": {case.id}'):
        assert secret not in stored, secret
    memory = json.dumps(bot.app.user_data.get(arta.fake.user_id, {}), ensure_ascii=False)
    assert WHAT not in memory and code not in memory, "the sent draft is gone from user_data"


async def test_nothing_is_stored_for_someone_without_consent(bot: BotHarness) -> None:
    besa = bot.person(language_code="en")
    await besa.command("/start")
    await besa.press("No, thanks")
    await _corruption_draft(besa)
    assert _of(await _rows(bot), besa) == [], "no draft, no conversation state"
    assert WHAT not in _dump(await _rows(bot))
    assert besa.seen("I keep your answers only in memory")

    await bot.restart()
    await besa.command("/menu")
    await besa.press("🚨 Report corruption")
    assert "You have a report in progress" not in besa.last.text, "memory only: lost"

    dita = bot.person(language_code="en")
    await onboard_english(dita)
    await _service_draft(dita)
    assert _of(await _rows(bot), dita) != [], "with consent her draft is kept"
    await dita.command("/privacy")
    await dita.press(next(label for label in dita.last.labels if label.startswith("Withdraw:")))
    assert dita.seen("Consent withdrawn")
    assert _of(await _rows(bot), dita) == [], "withdrawn: her rows go at the next write"


async def test_a_stale_draft_is_discarded_when_the_person_comes_back(bot: BotHarness) -> None:
    arta, bledi = bot.person(language_code="en"), bot.person(language_code="en")
    await onboard_english(arta)
    await onboard_english(bledi)
    await arta.command("/cancel")
    assert arta.seen("There is nothing to cancel."), "no draft, no stamp either"
    assert bot.app.user_data.get(arta.fake.user_id, {}) == {}
    await _service_draft(arta)
    bot.clock.advance(timedelta(days=2))
    await _service_draft(bledi)
    bot.clock.advance(timedelta(days=6))  # arta: 8 days untouched, bledi: 6

    await bledi.command("/menu")
    assert not bledi.seen("discarded")
    await bledi.press("🛠 Report a service problem")
    assert "You have a report in progress" in bledi.last.text

    await bot.restart()  # the stamp survives a restart with the draft
    await arta.command("/menu")
    assert arta.seen(
        "Your unfinished draft was discarded: it was left untouched for more than 7 days."
    )
    await arta.press("🛠 Report a service problem")
    assert "You have a report in progress" not in arta.last.text
    assert "Which municipality?" in arta.last.text


async def test_the_daily_job_purges_stale_drafts_from_storage(bot: BotHarness) -> None:
    arta, bledi = bot.person(language_code="en"), bot.person(language_code="en")
    await onboard_english(arta)
    await onboard_english(bledi)
    await _corruption_draft(arta)
    bot.clock.advance(timedelta(days=5))
    await _service_draft(bledi)
    assert _of(await _rows(bot), arta) != []

    bot.clock.advance(timedelta(days=3))  # arta: 8 days, bledi: 3 days
    assert await jobs.purge_stale_drafts(bot.app) == 1
    rows = await _rows(bot)
    assert _of(rows, arta) == [], "her draft and her conversation state are gone"
    assert WHAT not in _dump(rows)
    assert _of(rows, bledi) != [], "a recent draft stays"
    assert await jobs.purge_stale_drafts(bot.app) == 0, "once a day"
    async with bot.app.services.sessions() as session:
        pending = await session.execute(
            select(jobs.Reminder).where(
                jobs.Reminder.kind == jobs.DRAFT_PURGE, jobs.Reminder.sent_at.is_(None)
            )
        )
        assert len(pending.scalars().all()) == 1, "the next run is a stored row"

    await bot.restart()
    await arta.command("/menu")
    await arta.press("🚨 Report corruption")
    assert "You have a report in progress" not in arta.last.text


async def test_a_flush_between_a_step_and_its_commit_loses_no_step(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/menu")
    await arta.press("🛠 Report a service problem")
    await arta.press("Shkodër")
    await arta.press("Municipality of Shkodër")
    await arta.press("Skip")
    original = application.save_update_state

    async def flush_first(app: Any, *args: Any) -> None:
        """PTB's one-second flush lands after the handler changed the step, before the commit."""
        await app.update_persistence()
        await original(app, *args)

    monkeypatch.setattr(application, "save_update_state", flush_first)
    await arta.press("Street lighting")
    monkeypatch.setattr(application, "save_update_state", original)
    await bot.restart()

    await arta.text("Lights off on the main road for two weeks.")
    assert arta.last.text.startswith("Where exactly?"), "the restart resumed after the category"
