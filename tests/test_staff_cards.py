"""Staff group cards say only what any staff member may know; the full card opens privately."""

from __future__ import annotations

from datetime import timedelta

from tests import staff_steps as steps
from tests.rti_steps import onboard_english

DESCRIPTION = "Lights off on the main road for two weeks, near the house of Dritan Hoxha."


async def test_group_card_shows_reference_category_town_and_age_only(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await steps.report(arta, "👤 Named", text=DESCRIPTION, photo=True)
        group = bot.fake.group(chat_id=steps.STAFF)
        [card] = [m for m in group.messages if "PACT-2026-00001" in (m.text or "")]
        assert card.text.splitlines() == [
            "PACT-2026-00001 · Street lighting",
            "Municipality of Shkodër",
            "received less than an hour ago",
        ]
        assert card.labels == [steps.OPEN_PRIVATELY]
        assert not any(m.location or m.photo for m in group.messages), "no map pin, no photos"
        assert "Arta" not in card.text and "Dritan" not in card.text

        admin = steps.person(bot, steps.ADMIN, "Ledi")
        await admin.command("/start")
        bot.clock.advance(timedelta(hours=2))
        await steps.press_in_group(bot, admin, steps.OPEN_PRIVATELY, "PACT-2026-00001")
        assert DESCRIPTION in admin.last.text, "the full card, privately"
        [card] = [m for m in group.messages if "PACT-2026-00001" in (m.text or "")]
        assert card.text.splitlines()[-1] == "received 2 hours ago", "redrawn, still short"
        bot.clock.advance(timedelta(days=2))
        await steps.press_in_group(bot, admin, steps.OPEN_PRIVATELY, "PACT-2026-00001")
        [card] = [m for m in group.messages if "PACT-2026-00001" in (m.text or "")]
        assert card.text.splitlines()[-1] == "received 2 days ago"
        assert not any(DESCRIPTION in (m.text or "") for m in group.messages)
    finally:
        await bot.stop()


async def test_open_privately_in_scope_and_refused_out_of_scope(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin = steps.person(bot, steps.ADMIN, "Ledi")
        await admin.command("/staff", args=f"grant {steps.WORKER} caseworker Besnik")
        await admin.command("/staff", args=f"grant {steps.OUTSIDER} caseworker Olsi")
        await admin.press("Mat")  # Olsi works on Mat only
        worker = steps.person(bot, steps.WORKER, "Besnik")
        outsider = steps.person(bot, steps.OUTSIDER, "Olsi")
        citizen = steps.person(bot, 9401, "Cito")
        for who in (worker, outsider, citizen):
            await who.command("/start")

        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await steps.report(arta, "👤 Named", text=DESCRIPTION)
        group = bot.fake.group(chat_id=steps.STAFF)
        before = len(group.messages)

        await steps.press_in_group(bot, worker, steps.OPEN_PRIVATELY, "PACT-2026-00001")
        assert worker.fake.callback_answers[-1]["text"] == "Sent to your private chat."
        private = worker.last
        assert DESCRIPTION in private.text and "(Arta)" in private.text
        assert "🙋 Take" in private.labels
        assert len(group.messages) == before, "nothing of the case is added to the group"
        assert len(await steps.audit_rows(bot, "case.viewed")) == 1

        await worker.press("🙋 Take", message=private)
        case = await steps.case_by_reference(bot, "PACT-2026-00001")
        assert case.assignee_user_id is not None

        seen = len(outsider.messages)
        await steps.press_in_group(bot, outsider, steps.OPEN_PRIVATELY, "PACT-2026-00001")
        assert outsider.fake.callback_answers[-1]["text"] == "This button is no longer active."
        assert not any(DESCRIPTION in t for t in outsider.texts()[seen:])
        assert len(group.messages) == before, "a refusal posts nothing in the group"

        await steps.press_in_group(bot, citizen, steps.OPEN_PRIVATELY, "PACT-2026-00001")
        assert citizen.fake.callback_answers[-1]["text"] == "This button is no longer active."
        assert not any(DESCRIPTION in t for t in citizen.texts())
        assert len(group.messages) == before
        assert len(await steps.audit_rows(bot, "case.viewed")) == 1
    finally:
        await bot.stop()


async def test_old_action_buttons_in_the_group_open_the_card_privately(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin = steps.person(bot, steps.ADMIN, "Ledi")
        await admin.command("/start")
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await steps.report(arta, "👤 Named", text=DESCRIPTION)
        case = await steps.case_by_reference(bot, "PACT-2026-00001")
        group = bot.fake.group(chat_id=steps.STAFF)
        [card] = [m for m in group.messages if "PACT-2026-00001" in (m.text or "")]
        for data in (f"stf:open:{case.id}", f"stf:take:{case.id}", f"stf:more:{case.id}"):
            await steps.press_data_in_group(bot, admin, data, card)
            assert DESCRIPTION in admin.last.text
        assert not any(DESCRIPTION in (m.text or "") for m in group.messages)
        case = await steps.case_by_reference(bot, "PACT-2026-00001")
        assert case.assignee_user_id is None, "an action pressed in the group is not done there"
    finally:
        await bot.stop()


async def test_open_privately_when_the_private_chat_is_blocked_says_so(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin = steps.person(bot, steps.ADMIN, "Ledi")
        await admin.command("/staff", args=f"grant {steps.WORKER} caseworker Besnik")
        worker = steps.person(bot, steps.WORKER, "Besnik")
        await worker.command("/start")
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await steps.report(arta, "👤 Named", text=DESCRIPTION)
        await worker.act("block")
        seen = len(worker.messages)

        await steps.press_in_group(bot, worker, steps.OPEN_PRIVATELY, "PACT-2026-00001")
        answered = worker.fake.callback_answers[-1]
        assert answered["text"] == "Start a private chat with the bot first."
        assert answered.get("show_alert"), "an alert, not a toast promising a card"
        assert len(worker.messages) == seen, "nothing was sent"
        assert await steps.audit_rows(bot, "case.viewed") == [], "nobody viewed the card"
    finally:
        await bot.stop()
