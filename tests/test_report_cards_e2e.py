"""Citizen Report Cards end to end, on both databases: a round defined by staff through the bot's
buttons and launched, its invitations delivered, three citizens answering (one stopping and
resuming after a restart), the clock moved past the closing day, results by municipality with a
small cell and a small municipality suppressed, and a municipality's card published to its
subscribers and on the public site's figures."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.core.jobs import close_report_card_rounds, send_broadcasts
from bot.transparency import snapshot
from db.models import (
    PublicSnapshot,
    ReportCardAnswer,
    ReportCardPublication,
    ReportCardResponse,
    ReportCardRound,
)
from tests.campaign_steps import follower
from tests.harness import BotHarness, Person

TIRANA = ZoneInfo("Europe/Tirane")
ADMIN = 9460
SHKODER, LEZHE = ("Shkodër", "Municipality of Shkodër"), ("Lezhë", "Municipality of Lezhë")
POLLS, SERVICES = "⬜ Polls and surveys", "⬜ Municipal services monitoring"
FILL_IN = "📋 Fill in the report card"
SEND = "✅ Send my answers"
ROUND = "Karta e raportimit, dimër 2026"


def at(bot: BotHarness, iso: str) -> None:
    """Move the clock to a Tirana-local moment."""
    bot.clock.set(datetime.fromisoformat(iso).replace(tzinfo=TIRANA))


def screen(person: Person, label: str) -> object:
    """The newest message carrying a button."""
    return next(m for m in reversed(person.messages) if label in m.labels)


async def define_and_launch(admin: Person) -> None:
    """A round on water and waste in Shkodër and Lezhë, opening tomorrow for two weeks."""
    await admin.command("/reportcards")
    await admin.press("➕ New round")
    await admin.text(ROUND)
    await admin.press("Skip")
    await admin.press("⬜ Drinking water supply")
    await admin.press("⬜ Waste collection and street cleaning")
    await admin.press("Continue ➡️")
    await admin.press("⬜ Shkodër")
    await admin.press("⬜ Lezhë")
    await admin.press("Continue ➡️")
    await admin.press("Tomorrow")
    await admin.press("2 weeks: until 7 December 2026")
    await admin.press("💾 Save as draft")
    await admin.press("🚀 Launch…")
    await admin.press("🚀 Launch")
    assert "🚀 Launched. The invitation goes out on 24 November 2026." in admin.last.text


async def used(person: Person, ratings: str, payment: str, satisfaction: str) -> None:
    """Used the service: the four ratings alike, resolved within a week, a payment answer and
    the overall satisfaction."""
    await person.press("Yes")
    for _ in range(4):
        await person.press(ratings)
    await person.press("Within a week")
    await person.press(payment)
    await person.press(satisfaction)


async def test_a_round_from_definition_to_the_published_card(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}), suppression_threshold=2)
    await bot.start()
    try:
        at(bot, "2026-11-23T10:00")
        arta = await follower(bot, "Arta", POLLS, SHKODER, age="18–29")
        besa = await follower(bot, "Besa", POLLS, SHKODER, age="30 or older")
        dritan = await follower(bot, "Dritan", POLLS, LEZHE, age="30 or older")
        drita = await follower(bot, "Drita", SERVICES, SHKODER)
        admin = Person(bot, fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))
        await define_and_launch(admin)

        # The invitations go out on the opening day, to the followers of surveys there.
        at(bot, "2026-11-24T10:00")
        assert await send_broadcasts(bot.app) == 3
        assert not drita.seen(ROUND)

        # Arta answers in full: water and waste used, and a suggestion.
        await arta.press(FILL_IN)
        assert "Service 1 of 2" in arta.last.text, "her place is known from her subscription"
        await used(arta, "4 – good", "No", "5 – very good")
        await used(arta, "2 – poor", "Yes, and I paid", "2 – poor")
        await arta.text("Më shumë kosha në lagje.")
        await arta.press(SEND)
        assert arta.seen("Thank you! Your answers are stored.")

        # Besa stops half way through water, the bot restarts, and she goes on where she was.
        await besa.press(FILL_IN)
        await besa.press("Yes")
        await besa.press("3 – fair")
        await besa.press("3 – fair")
        await bot.restart()
        await besa.press(FILL_IN, message=screen(besa, FILL_IN))
        assert "Continue where you stopped?" in besa.last.text
        await besa.press("▶️ Continue")
        assert "Question 3 of 7" in besa.last.text
        for label in ("3 – fair", "3 – fair", "More than a month", "Yes, but I did not pay"):
            await besa.press(label)
        await besa.press("3 – fair")
        await besa.press("No")  # waste: not used
        await besa.press("Skip")
        await besa.press(SEND)
        assert besa.seen("Thank you! Your answers are stored.")

        # Dritan, in Lezhë, alone there.
        await dritan.press(FILL_IN)
        await used(dritan, "1 – very poor", "No", "1 – very poor")
        await dritan.press("No")
        await dritan.press("Skip")
        await dritan.press(SEND)

        # While open: results move, nothing can be published.
        await admin.command("/rcresults")
        await admin.press(next(label for label in admin.last.labels if ROUND in label))
        assert "Still open: the results may change." in admin.last.text
        await admin.press("Shkodër")
        assert "📣 Publish the card" not in admin.last.labels

        # Past the closing day the round closes and no response can be tied to anyone.
        at(bot, "2026-12-08T09:00")
        [closed] = await close_report_card_rounds(bot.app)
        async with bot.app.services.sessions() as session:
            round_ = await session.get(ReportCardRound, closed)
            responses = (await session.execute(select(ReportCardResponse))).scalars().all()
            answers = (await session.execute(select(ReportCardAnswer))).scalars().all()
        assert round_ is not None and round_.salt is None and round_.closed_at is not None
        assert len(responses) == 3 and all(r.respondent is None for r in responses)
        assert len(answers) == 2 * 8 + 8 + 1 + 8 + 1

        # Results: Shkodër shows water (2 users) but not waste (1 user); Lezhë (1) is hidden.
        await admin.command("/rcresults")
        await admin.press(next(label for label in admin.last.labels if ROUND in label))
        overview = admin.last.text
        assert "Closed: final results." in overview
        assert "• Shkodër: 2" in overview and "• Lezhë: < 2" in overview
        assert "monitorim qytetar" in overview and "not a representative survey" in overview
        await admin.press("Shkodër")
        shkoder = admin.last.text
        assert "Drinking water supply: 2 respondents" in shkoder
        assert "Satisfaction index: 75/100" in shkoder  # answers 5 and 3: mean 4
        assert "Asked for an unofficial payment: 50% · paid one: 0%" in shkoder
        assert "Waste collection and street cleaning: < 2 respondents, not shown" in shkoder
        assert "25/100" not in shkoder, "Arta's lone waste answers stay hidden"
        await admin.press("⬅️ All municipalities")
        await admin.press("Lezhë")
        assert "Respondents: < 2" in admin.last.text and "/100" not in admin.last.text
        assert "📣 Publish the card" not in admin.last.labels

        # Shkodër's card, published once, reaches its subscribers (services or surveys).
        await admin.press("⬅️ All municipalities")
        await admin.press("Shkodër")
        await admin.press("📣 Publish the card")
        assert "It goes to 3 subscribers of the municipality" in admin.last.text
        await admin.press("✅ Publish")
        assert admin.last.text.startswith("Published. The card of Shkodër goes out now")
        assert await send_broadcasts(bot.app) == 3
        for reader in (drita, arta, besa):
            card = reader.last.text
            assert card.startswith("Citizen Report Card: Shkodër"), reader.fake.first_name
            assert "Satisfaction index: 75/100" in card and "< 2 respondents" in card
            assert "kosha" not in card
        assert not dritan.seen("Citizen Report Card: Shkodër")
        async with bot.app.services.sessions() as session:
            [publication] = (await session.execute(select(ReportCardPublication))).scalars()
        assert publication.round_id == closed and publication.broadcast_id is not None

        # The public site's figures carry the published card only, small cells already hidden.
        await snapshot.rebuild(bot.app.services)
        async with bot.app.services.sessions() as session:
            site = await session.get(PublicSnapshot, "site")
        assert site is not None
        pages = {town["name"]: town for town in site.data["municipalities"]}
        [card] = pages["Shkodër"]["report_cards"]
        assert (card["round_id"], card["respondents"]) == (closed, 2)
        assert [
            (c["service"], c["respondents"], c["satisfaction_index"]) for c in card["cells"]
        ] == [
            ("water", 2, 75.0),
            ("waste", None, None),
        ]
        assert pages["Lezhë"]["report_cards"] == []
    finally:
        await bot.stop()
