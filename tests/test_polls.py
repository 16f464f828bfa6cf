"""Polls end to end: /poll with bad input, resumed, edited, and stopped by a revoked grant; the
broadcast with option buttons, votes (one changed), results by municipality, age band and role
with a chart, results sent back to voters only, closing, stale buttons; the data download and
erasure; the pure parts of the service."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.campaigns.polls import segment_label
from bot.campaigns.services import polls
from bot.core.i18n import I18n
from bot.core.jobs import send_broadcasts
from db.models import Broadcast, BroadcastKind, PollVote
from tests.campaign_steps import follower
from tests.harness import BotHarness, Person

TIRANA = ZoneInfo("Europe/Tirane")
ADMIN, EDITOR = 9400, 9401
QUESTION_SQ = "A duhet bashkia të transmetojë live mbledhjet e këshillit?"
QUESTION_EN = "Should the council broadcast its meetings live?"
SHKODER, LEZHE = ("Shkodër", "Municipality of Shkodër"), ("Lezhë", "Municipality of Lezhë")


async def _citizen(
    bot: BotHarness,
    name: str,
    age: str,
    role: str,
    place: tuple[str, str] | None,
    topic: str = "⬜ Polls and surveys",
) -> Person:
    """An English-speaking person with a profile, following one topic in one municipality."""
    return await follower(bot, name, topic, place, age=age, role=role)


def _admin(bot: BotHarness) -> Person:
    return Person(bot, bot.fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))


def _at(bot: BotHarness, iso: str) -> None:
    bot.clock.set(datetime.fromisoformat(iso).replace(tzinfo=TIRANA))


def _toast(person: Person) -> str:
    return person.fake.callback_answers[-1].get("text") or ""


async def _create_poll(admin: Person) -> None:
    await admin.command("/poll")
    await admin.text(QUESTION_SQ)
    await admin.text(QUESTION_EN)
    await admin.text("Po | Yes\nJo | No\nNuk e di | I don't know")
    await admin.press("✅ Save poll")


async def test_a_poll_from_composer_to_results_by_segment(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        arta = await _citizen(
            bot, "Arta", "18–29", "Youth activist", ("Shkodër", "Municipality of Shkodër")
        )
        besa = await _citizen(
            bot, "Besa", "30 or older", "Citizen", ("Lezhë", "Municipality of Lezhë")
        )
        driton = await _citizen(bot, "Driton", "16–17", "Skip", None)
        other = await _citizen(bot, "Gent", "18–29", "Citizen", None, "⬜ Anti-corruption")
        admin = _admin(bot)
        _at(bot, "2026-11-23T10:00")

        await admin.command("/poll")
        await admin.text(QUESTION_SQ)
        assert admin.last.labels == ["Skip", "⬅️ Back", "✖️ Cancel"]
        await admin.text(QUESTION_EN)
        await admin.act("send_sticker")
        assert admin.last.text == "Please type your answer as text."
        await admin.text("Po")
        assert admin.seen("A poll needs at least 2 options; you sent 1.")
        assert "Your question is kept" in admin.last.text
        await admin.text("\n".join(f"Option {n}" for n in range(9)))
        assert "at most 8 options; you sent 9" in admin.last.text
        await admin.text(f"Po\n{'x' * 61}")
        assert "is longer than 60 characters" in admin.last.text
        await admin.text("Po | Yes\nJo | No\nNuk e di | I don't know")
        assert QUESTION_SQ in admin.last.text and "3. Nuk e di / I don't know" in admin.last.text
        await admin.text("again")
        assert admin.last.text == "Please use the buttons above."
        await admin.press("✅ Save poll")
        assert admin.seen("Poll #1 saved.")
        await admin.press("📣 Send to “Polls and surveys” subscribers now")
        assert "the poll goes out now to 3 people" in admin.last.text

        assert await send_broadcasts(bot.app) == 3
        assert QUESTION_EN in arta.last.text
        assert {"Yes", "No", "I don't know"} <= set(arta.last.labels)
        assert not other.seen(QUESTION_EN)

        await arta.press("Yes")
        assert _toast(arta) == "Thank you! Your answer: Yes"
        await besa.press("No")
        await driton.press("Yes")
        await driton.press("I don't know")
        assert _toast(driton) == "Answer changed. Your answer now: I don't know"
        await arta.press("Yes")
        assert _toast(arta) == "Your answer is already: Yes"

        await admin.command("/polls")
        assert "3 votes" in admin.last.text
        await admin.press(next(label for label in admin.last.labels if "#1" in label))
        card = admin.last.text
        for line in (
            "Open for votes · 3 votes",
            "1. Yes: 1 (33%)",
            "2. No: 1 (33%)",
            "3. I don't know: 1 (33%)",
            "By municipality (votes for options 1 · 2 · 3)",
            "Shkodër: 1 · 0 · 0",
            "Lezhë: 0 · 1 · 0",
            "By age (votes for options 1 · 2 · 3)",
            "18–29: 1 · 0 · 0",
            "30 or older: 0 · 1 · 0",
            "16–17: 0 · 0 · 1",
            "Youth activist: 1 · 0 · 0",
            "Citizen: 0 · 1 · 0",
        ):
            assert line in card, line
        assert card.count("Not given: 0 · 0 · 1") == 2, "municipality and role of Driton"
        chart = admin.messages[-2].photo
        assert chart is not None and chart["content"].startswith(b"\x89PNG")

        await admin.press("📣 Send results to participants")
        assert "the results go out now to 3 participants" in admin.last.text
        assert await send_broadcasts(bot.app) == 3
        for voter in (arta, besa, driton):
            assert "Results" in voter.last.text and "3 people answered" in voter.last.text
        assert not other.seen("Results")
        async with bot.app.services.sessions() as session:
            results = (
                await session.execute(
                    select(Broadcast).where(Broadcast.kind == BroadcastKind.POLL_RESULTS)
                )
            ).scalar_one()
        assert results.audience == {"poll_id": 1}
        assert "1. Po: 1 (33%)" in results.text_sq

        await admin.press("🔒 Close poll")
        assert admin.seen("🔒 Closed. Votes are no longer accepted.")
        await arta.press("No")
        assert _toast(arta) == "This poll is closed."
        async with bot.app.services.sessions() as session:
            votes = (await session.execute(select(PollVote.option))).scalars().all()
        assert sorted(votes) == [0, 1, 2]

        await arta.press_data("pv:1:7", message_id=arta.last.message_id)
        assert _toast(arta) == "This button is no longer active."
        await arta.press_data("pv:99:0", message_id=arta.last.message_id)
        assert arta.seen("That button is no longer active.")
    finally:
        await bot.stop()


async def test_voting_needs_campaign_consent_and_staff_commands_need_staff(
    fake, database_url
) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        admin = _admin(bot)
        await _create_poll(admin)
        stranger = bot.person(language_code="en")
        await stranger.command("/start")
        await stranger.press("✅ I agree")
        await stranger.press("Skip")
        await stranger.press("Skip")
        await stranger.press_data("pv:1:0", message_id=stranger.last.message_id)
        assert "Turn them on, then tap your answer again" in stranger.last.text
        await stranger.press("✅ Yes, send me campaign messages")
        await stranger.press_data("pv:1:0", message_id=stranger.last.message_id)
        assert _toast(stranger) == "This button is no longer active.", "the poll was not sent"
        await stranger.press("⬜ Polls and surveys")
        await admin.press("📣 Send to “Polls and surveys” subscribers now")
        assert await send_broadcasts(bot.app) == 1
        await stranger.press("Yes")
        assert _toast(stranger) == "Thank you! Your answer: Yes"

        for command in ("/poll", "/polls"):
            await stranger.command(command)
            assert stranger.messages[-2].text == "I don't know that command."
        await stranger.press_data("sb:poll:close:1", message_id=stranger.last.message_id)
        assert _toast(stranger) == "This button is no longer active."
        async with bot.app.services.sessions() as session:
            assert (await polls.get(session, 1)).closed_at is None
    finally:
        await bot.stop()


async def test_poll_composer_cancel_menu_and_later(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        admin = _admin(bot)
        await admin.command("/poll")
        await admin.text(QUESTION_SQ)
        await admin.command("/menu")
        assert "Main menu" in admin.last.text
        await admin.text("Po\nJo")
        assert not admin.seen("Preview"), "the flow was left"
        await admin.command("/poll")
        assert admin.last.labels == ["▶️ Continue", "🔄 Start again"]
        await admin.press("▶️ Continue")
        assert admin.last.text == "Now the question in English, or skip."
        await admin.press("Skip")
        await admin.text("Po\nJo")
        await admin.press("✏️ Change the options")
        await admin.text("Po\nJo\nNdoshta")
        assert "3. Ndoshta" in admin.last.text
        await admin.press("✏️ Change the question")
        assert admin.last.text == "Send the question in Albanian (at most 300 characters)."
        await admin.text("A duhet bashkia të hapë një park?")
        assert "🇦🇱 A duhet bashkia të hapë një park?" in admin.last.text
        assert "3. Ndoshta" in admin.last.text and "🇬🇧" not in admin.last.text
        await admin.press("✅ Save poll")
        await admin.press("Later")
        assert "Send it later from /polls" in admin.last.text
        await admin.command("/poll")
        await admin.command("/cancel")
        assert admin.seen("Your draft poll was discarded.")
        async with bot.app.services.sessions() as session:
            found = await polls.listing(session)
        assert [
            (poll.question_sq, poll.question_en, poll.options[2], votes) for poll, votes in found
        ] == [("A duhet bashkia të hapë një park?", None, {"sq": "Ndoshta"}, 0)]
        await admin.command("/polls")
        await admin.press(next(label for label in admin.last.labels if "#1" in label))
        assert "No votes yet." in admin.last.text
        assert not any(m.photo for m in admin.messages), "no chart without votes"
        assert "📣 Send results to participants" not in admin.last.labels
    finally:
        await bot.stop()


async def test_a_revoked_broadcaster_cannot_finish_a_poll(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        admin = _admin(bot)
        await admin.command("/start")
        await admin.command("/staff", args=f"grant {EDITOR} admin Mira")
        mira = Person(bot, bot.fake.user(user_id=EDITOR, first_name="Mira", language_code="en"))
        await mira.command("/start")
        await mira.press("✅ I agree")
        await mira.command("/poll")
        await mira.text(QUESTION_SQ)
        await admin.command("/staff", args=f"revoke {EDITOR}")
        await mira.text(QUESTION_EN)
        assert mira.last.text == "This action is no longer available to you."
        await mira.text("Po\nJo")
        assert not mira.seen("Preview"), "the flow is over"
        await admin.command("/staff", args=f"grant {EDITOR} admin Mira")
        await mira.command("/poll")
        assert mira.last.text.startswith("New poll."), "the draft went with the grant"
        async with bot.app.services.sessions() as session:
            assert await polls.listing(session) == []
    finally:
        await bot.stop()


async def test_votes_are_in_the_data_download_and_go_with_erasure(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        admin = _admin(bot)
        await _create_poll(admin)
        arta = await _citizen(bot, "Arta", "18–29", "Citizen", None)
        await admin.press("📣 Send to “Polls and surveys” subscribers now")
        assert await send_broadcasts(bot.app) == 1
        await arta.press_data("pv:1:1", message_id=arta.last.message_id)
        await arta.command("/privacy")
        await arta.press("⬇️ Download my data")
        exported = json.loads(
            next(m for m in reversed(arta.messages) if m.document).document["content"]
        )
        assert exported["poll_votes"] == [
            {
                "poll": 1,
                "question": QUESTION_SQ,
                "answer": "Jo",
                "voted_at": bot.clock.now().isoformat(),
            }
        ]
        await arta.command("/privacy")
        await arta.press("🗑 Delete my data")
        await arta.press("Yes, delete everything")
        async with bot.app.services.sessions() as session:
            assert (await session.execute(select(PollVote))).first() is None
    finally:
        await bot.stop()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Po", polls.OptionsProblem.TOO_FEW),
        ("\n".join(str(n) for n in range(9)), polls.OptionsProblem.TOO_MANY),
        ("Po\n" + "x" * 61, polls.OptionsProblem.TOO_LONG),
        ("Po | " + "y" * 61 + "\nJo", polls.OptionsProblem.TOO_LONG),
        ("Po\n | No", polls.OptionsProblem.NO_ALBANIAN),
        ("Po\npo", polls.OptionsProblem.REPEATED),
    ],
)
def test_parse_options_refuses(text: str, problem: polls.OptionsProblem) -> None:
    with pytest.raises(polls.OptionsError) as caught:
        polls.parse_options(text)
    assert caught.value.problem == problem


def test_parse_options_and_labels() -> None:
    options = polls.parse_options("  Po | Yes \n\nJo\n Ndoshta|Maybe ")
    assert options == [{"sq": "Po", "en": "Yes"}, {"sq": "Jo"}, {"sq": "Ndoshta", "en": "Maybe"}]
    assert [polls.label(o, "en") for o in options] == ["Yes", "Jo", "Maybe"]
    assert [polls.label(o, "sq") for o in options] == ["Po", "Jo", "Ndoshta"]


def test_tally_by_segment() -> None:
    rows = [
        (0, "Shkodër", "18_29", "activist"),
        (0, "Shkodër", "18_29", None),
        (1, None, "30_plus", "citizen"),
        (5, "Lezhë", None, None),
    ]
    results = polls.tally(rows, 2)
    assert results.totals == [2, 1] and results.total == 3
    assert results.by_municipality == [("Shkodër", [2, 0]), (None, [0, 1])]
    assert results.by_age_band == [("18_29", [2, 0]), ("30_plus", [0, 1])]
    assert results.by_role == [("activist", [1, 0]), ("citizen", [0, 1]), (None, [1, 0])]
    assert polls.percent(1, 3) == 33 and polls.percent(0, 0) == 0


def test_segment_labels() -> None:
    t = I18n("sq", "Europe/Tirane").translator("en")
    assert segment_label(t, "by_municipality", "region:Shkodër") == "Region of Shkodër"
    assert segment_label(t, "by_municipality", "Lezhë") == "Lezhë"
    assert segment_label(t, "by_age_band", "16_17") == "16–17"
    assert segment_label(t, "by_role", "activist") == "Youth activist"
    assert segment_label(t, "by_role", None) == "Not given"
