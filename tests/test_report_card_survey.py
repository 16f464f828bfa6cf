"""Citizens answer a report-card round (bot/reportcards/survey.py), on SQLite and PostgreSQL.

Rounds are made and launched directly in the set-up. Covered: a full answer from the invitation
button (progress, Don't know, the summary, stored rows with only the allowed fields, nothing in
the logs, /mydata), the `/start crc_<round>` link (place from the subscription, inside another
flow, before consent), stopping and resuming across a restart, changing answers while open (still
one response), a round closing meanwhile, under-16s and a missing age band, forged and stale
buttons, and erasure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from bot.reportcards.services import questions as qs
from bot.reportcards.services import responses
from db.models import ReportCardAnswer, ReportCardResponse, ReportCardRound
from tests.campaign_steps import follower
from tests.harness import START, BotHarness, Person
from tests.rti_steps import onboard_english
from tests.survey_steps import citizen, launch_round, open_survey, press, town_id

SEND = "✅ Send my answers"
WATER, WASTE = "Drinking water supply", "Waste collection and street cleaning"
SUGGESTION = "Më shumë kosha në lagjen Parrucë"


async def _close(bot: BotHarness, round_id: int) -> None:
    """What the closing job does: closed, salt and respondent codes wiped."""
    async with bot.app.services.sessions() as session, session.begin():
        await session.execute(
            update(ReportCardRound)
            .where(ReportCardRound.id == round_id)
            .values(closed_at=bot.clock.now(), salt=None)
        )
        await session.execute(
            update(ReportCardResponse)
            .where(ReportCardResponse.round_id == round_id)
            .values(respondent=None)
        )


async def _stored(bot: BotHarness) -> list[tuple[ReportCardResponse, set[tuple[str, str, int]]]]:
    async with bot.app.services.sessions() as session:
        found = []
        for response in (await session.execute(select(ReportCardResponse))).scalars():
            answers = await session.execute(
                select(ReportCardAnswer).where(ReportCardAnswer.response_id == response.id)
            )
            found.append((response, {(a.service, a.question, a.value) for a in answers.scalars()}))
        return found


async def _salt(bot: BotHarness, round_id: int) -> str:
    async with bot.app.services.sessions() as session:
        round_ = await session.get(ReportCardRound, round_id)
        assert round_ is not None and round_.salt is not None
        return round_.salt


async def _water_in_full(person: Person) -> None:
    """Used; 4, 3, Don't know, 5; within a week; asked but did not pay; 4."""
    await person.press("Yes")
    for label in ("4 – good", "3 – fair", "Don't know", "5 – very good"):
        await person.press(label)
    await person.press("Within a week")
    await person.press("Yes, but I did not pay")
    await person.press("4 – good")


WATER_ROWS = {
    ("water", "used", 1),
    ("water", "availability", 4),
    ("water", "reliability", 3),
    ("water", "responsiveness", 5),
    ("water", "resolution", 1),
    ("water", "payment", 1),
    ("water", "satisfaction", 4),
}


async def test_the_payment_question_can_be_left_unanswered(bot: BotHarness) -> None:
    """ "Prefer not to say" on the unofficial-payment question stores nothing for it."""
    round_id = await launch_round(bot)
    besa = await citizen(bot, "Besa")
    await open_survey(besa, round_id)
    await besa.press("Municipality of Shkodër")
    await besa.press("Yes")
    for label in ("4 – good", "3 – fair", "Don't know", "5 – very good"):
        await besa.press(label)
    assert "Don't know" in besa.last.labels, "time to resolve can be left unanswered too"
    await besa.press("Within a week")
    assert "Prefer not to say" in besa.last.labels
    await besa.press("Prefer not to say")
    await besa.press("4 – good")
    await besa.press("No")
    await besa.press("Skip")
    assert "Unofficial payment: Prefer not to say" in besa.last.text
    await besa.press(SEND)
    [(_response, answers)] = await _stored(bot)
    assert ("water", "payment") not in {(service, code) for service, code, _value in answers}
    assert ("water", "resolution", 1) in answers


async def test_a_full_answer_from_the_invitation_button(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    round_id = await launch_round(bot)
    arta = await citizen(bot, "Arta")
    await open_survey(arta, round_id)
    assert arta.seen("Citizen report card 2026")
    assert arta.seen("Citizen monitoring of 2 municipal services")
    assert "Which municipality" in arta.last.text
    assert arta.last.labels == [
        "Municipality of Shkodër",
        "Municipality of Lezhë",
        "✖️ Cancel",
    ], "the first step: no Back"
    await arta.press("Municipality of Shkodër")
    assert "Service 1 of 2" in arta.last.text and WATER in arta.last.text
    assert "used the service “Drinking water supply” in the last 12 months" in arta.last.text
    await arta.press("Yes")
    assert "Question 1 of 7" in arta.last.text
    assert arta.last.labels[:6] == [
        "1 – very poor",
        "2 – poor",
        "3 – fair",
        "4 – good",
        "5 – very good",
        "Don't know",
    ]
    await arta.press("4 – good")
    await arta.press("2 – poor")
    assert "Question 3 of 7" in arta.last.text
    await arta.press("⬅️ Back")
    assert "Question 2 of 7" in arta.last.text and "✔️ 2 – poor" in arta.last.labels
    await arta.press("3 – fair")
    for label in ("Don't know", "5 – very good", "Within a week", "Yes, but I did not pay"):
        await arta.press(label)
    assert "Question 7 of 7" in arta.last.text
    await arta.press("4 – good")
    assert "Service 2 of 2" in arta.last.text and WASTE in arta.last.text
    await arta.press("No")
    assert "One suggestion for the municipality" in arta.last.text
    await arta.act("send_sticker")
    assert arta.last.text == "Please type your answer as text."
    await arta.text("x" * (qs.SUGGESTION_MAX + 1))
    assert arta.seen("That is 501 characters; please shorten it to 500 at most.")
    await arta.text(SUGGESTION)
    summary = arta.last.text
    for line in (
        "Municipality: Shkodër",
        "1. Drinking water supply",
        "Availability: 4 – good",
        "Reliability: 3 – fair",
        "Quality: Don't know",
        "Time to resolve: Within a week",
        "Unofficial payment: Yes, but I did not pay",
        "2. Waste collection and street cleaning: not used in the last 12 months",
        f"Suggestion: {SUGGESTION}",
    ):
        assert line in summary, line
    assert not await _stored(bot), "nothing is stored before Send"
    await arta.press(SEND)
    assert arta.seen("Thank you! Your answers are stored.")

    [(response, answers)] = await _stored(bot)
    user = await bot.user_row(arta)
    assert user is not None
    salt = await _salt(bot, round_id)
    assert (
        response.respondent
        == hmac.new(bytes.fromhex(salt), str(user.id).encode(), hashlib.sha256).hexdigest()
    )
    assert response.municipality_id == await town_id(bot, "Shkodër")
    assert (response.age_band, response.role) == ("18_29", "citizen")
    assert response.suggestion == SUGGESTION
    assert response.submitted_on == date(2026, 11, 23)
    assert answers == WATER_ROWS | {("waste", "used", 0)}, "Don't know stores nothing"
    columns = set(ReportCardResponse.__table__.columns.keys())
    assert columns == {
        "id",
        "round_id",
        "respondent",
        "municipality_id",
        "age_band",
        "role",
        "suggestion",
        "submitted_on",
    }
    stored_text = " ".join(str(getattr(response, c)) for c in columns)
    assert str(arta.fake.user_id) not in stored_text and "Arta" not in stored_text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert SUGGESTION not in logged and "Parrucë" not in logged

    await arta.command("/mydata")
    document = next(m for m in reversed(arta.messages) if m.document).document
    [held] = json.loads(document["content"])["report_card_responses"]
    assert held["round_id"] == round_id and held["suggestion"] == SUGGESTION
    assert held["answers"]["waste"] == {"used": 0}

    await _close(bot, round_id)
    await arta.command("/mydata")
    document = next(m for m in reversed(arta.messages) if m.document).document
    assert json.loads(document["content"])["report_card_responses"] == [], "closed: unlinkable"


async def test_the_link_place_from_subscription_another_flow_and_consent(
    bot: BotHarness,
) -> None:
    round_id = await launch_round(bot)
    besa = await follower(
        bot,
        "Besa",
        "⬜ Polls and surveys",
        ("Shkodër", "Municipality of Shkodër"),
        age="30 or older",
    )
    await besa.command("/start", args=f"crc_{round_id}")
    assert "Service 1 of 2" in besa.last.text, "place known: no municipality question"
    assert "⬅️ Back" not in besa.last.labels
    await besa.press("No")
    assert "Service 2 of 2" in besa.last.text and "⬅️ Back" in besa.last.labels
    await besa.press("No")
    await besa.press("Skip")
    assert "Municipality: Shkodër" in besa.last.text
    await besa.press(SEND)
    [(response, answers)] = await _stored(bot)
    assert answers == {("water", "used", 0), ("waste", "used", 0)}
    assert response.age_band == "30_plus" and response.role is None

    await besa.command("/start")
    assert besa.seen("👋 Welcome back!"), "a /start without the link is onboarding's"

    dardan = await citizen(bot, "Dardan")
    await dardan.command("/menu")
    await dardan.press("🛠 Report a service problem")
    await dardan.command("/start", args=f"crc_{round_id}")
    assert "Which municipality" in dardan.last.text, "the link leaves the other flow for the survey"
    await dardan.press("Municipality of Lezhë")
    assert "Service 1 of 2" in dardan.last.text
    await dardan.command("/menu")
    await dardan.press("🛠 Report a service problem")
    assert "You have a report in progress" in dardan.last.text, "the other draft was kept"

    elira = bot.person(language_code="en", first_name="Elira")
    await elira.command("/start", args=f"crc_{round_id}")
    assert "please agree to the privacy notice first" in elira.last.text
    await elira.press("✅ I agree")
    await elira.press("16–17")
    await elira.press("Skip")
    await elira.press("📋 Continue to the report card")
    assert "Which municipality" in elira.last.text


async def test_stop_restart_resume_and_finish(bot: BotHarness) -> None:
    round_id = await launch_round(bot)
    arta = await citizen(bot, "Arta")
    await open_survey(arta, round_id)
    await arta.press("Municipality of Lezhë")
    await arta.press("Yes")
    await arta.press("2 – poor")
    await arta.press("2 – poor")
    assert "Question 3 of 7" in arta.last.text

    await bot.restart()
    await arta.command("/start", args=f"crc_{round_id}")
    assert "You have started this report card. Continue where you stopped?" in arta.last.text
    await arta.press("▶️ Continue")
    assert "Service 1 of 2" in arta.last.text and "Question 3 of 7" in arta.last.text
    for label in ("3 – fair", "3 – fair", "More than a month", "No", "2 – poor"):
        await arta.press(label)
    await arta.press("Yes")
    for label in ("4 – good", "4 – good", "4 – good", "4 – good", "The same day", "No"):
        await arta.press(label)
    await arta.press("5 – very good")
    await arta.press("Skip")
    await arta.press(SEND)
    [(response, answers)] = await _stored(bot)
    assert response.municipality_id == await town_id(bot, "Lezhë")
    assert ("water", "availability", 2) in answers and ("waste", "satisfaction", 5) in answers
    assert len(answers) == 16 and response.suggestion is None

    await bot.restart()
    await open_survey(arta, round_id)
    assert "You have started this report card" not in arta.last.text, "the draft went with Send"


async def test_changing_answers_keeps_one_response(bot: BotHarness) -> None:
    round_id = await launch_round(bot)
    arta = await citizen(bot, "Arta")
    await open_survey(arta, round_id)
    await arta.press("Municipality of Shkodër")
    await _water_in_full(arta)
    await arta.press("No")
    await arta.text(SUGGESTION)
    await arta.press(SEND)
    [(first, _answers)] = await _stored(bot)

    bot.clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    await arta.command("/menu")
    await arta.press("📋 Report card: Citizen report card 2026")
    assert arta.seen("You answered this report card on 23 November 2026")
    assert "Availability: 4 – good" in arta.last.text, "starts from the stored answers"
    await arta.press(f"✏️ {WATER}")
    assert "✔️ Yes" in arta.last.labels
    await arta.press("No")
    assert "Your answers" in arta.last.text, "one service changed: back to the summary"
    await arta.press("✏️ Suggestion")
    await arta.press("Skip")
    await arta.press(SEND)
    assert arta.seen("Your answers are updated")
    [(again, answers)] = await _stored(bot)
    assert again.id == first.id and again.respondent == first.respondent
    assert answers == {("water", "used", 0), ("waste", "used", 0)}
    assert again.suggestion is None and again.submitted_on == date(2026, 11, 25)


async def test_rounds_not_open_and_a_round_closing_meanwhile(bot: BotHarness) -> None:
    open_id = await launch_round(bot)
    later = await launch_round(bot, opens=date(2026, 12, 1), closes=date(2026, 12, 10))
    unlaunched = await launch_round(bot, launched=False)
    over = await launch_round(bot, opens=date(2026, 11, 1), closes=date(2026, 11, 22))
    arta = await citizen(bot, "Arta")

    await open_survey(arta, later)
    assert "opens on 1 December 2026" in arta.last.text
    await open_survey(arta, unlaunched)
    assert arta.seen("This report card is not available.")
    await arta.command("/start", args="crc_999999")
    assert arta.last.text == "This report card is not available."
    await open_survey(arta, over)
    assert "This report card is closed" in arta.last.text
    assert "The results will be published once they are ready." in arta.last.text

    await arta.command("/menu")
    entries = [label for label in arta.last.labels if label.startswith("📋")]
    assert entries == ["📋 Report card: Citizen report card 2026"], "only the open round"

    await open_survey(arta, open_id)
    await arta.press("Municipality of Shkodër")
    await arta.press("No")
    await arta.press("No")
    await arta.press("Skip")
    await _close(bot, open_id)
    await arta.press(SEND)
    assert arta.seen("This report card is closed and no longer takes answers.")
    assert not await _stored(bot)
    await open_survey(arta, open_id)
    assert "You have started" not in arta.last.text
    await arta.command("/menu")
    assert not [label for label in arta.last.labels if label.startswith("📋")]


async def test_under_16_and_a_missing_age_band(bot: BotHarness) -> None:
    round_id = await launch_round(bot)
    young = bot.person(language_code="en", first_name="Gent")
    await young.command("/start")
    await young.press("✅ I agree")
    await young.press("Under 16")
    await young.command("/menu")
    assert not [label for label in young.last.labels if label.startswith("📋")]
    await open_survey(young, round_id)
    assert young.seen("Report cards are answered by people aged 16 and over")

    quiet = bot.person(language_code="en", first_name="Ilir")
    await onboard_english(quiet)
    await open_survey(quiet, round_id)
    assert "How old are you?" in quiet.last.text, "no age band: asked first"
    await quiet.press("Under 16")
    assert quiet.seen("so this one is not for you")
    row = await bot.user_row(quiet)
    assert row is not None and row.age_band == "under_16"

    other = bot.person(language_code="en", first_name="Jeta")
    await onboard_english(other)
    await open_survey(other, round_id)
    await other.press("18–29")
    assert "Which municipality" in other.last.text
    await other.press("⬅️ Back")
    assert "How old are you?" in other.last.text
    await other.press("18–29")
    await other.press("Municipality of Lezhë")
    await other.press("No")
    await other.press("No")
    await other.press("Skip")
    await other.press(SEND)
    [(response, _answers)] = await _stored(bot)
    assert response.age_band == "18_29"


async def test_forged_and_stale_buttons(bot: BotHarness) -> None:
    round_id = await launch_round(bot)
    other_round = await launch_round(bot, places=("Kukës",))
    arta = await citizen(bot, "Arta")
    await open_survey(arta, round_id)
    kukes = await town_id(bot, "Kukës")
    await press(arta, f"crc:m:{kukes}")
    assert "Which municipality" in arta.last.text, "a municipality outside the round"
    await arta.press("Municipality of Shkodër")
    question = arta.last
    await arta.press("Yes")
    await arta.press_data("crc:a:0:1:9", message_id=question.message_id)
    await arta.press_data("crc:a:1:3:5", message_id=question.message_id)
    await arta.press_data("crc:a:0:0:0", message_id=question.message_id)
    assert "Question 1 of 7" in arta.last.text, "forged or stale answers change nothing"
    await press(arta, "crc:fix:7")
    assert arta.seen("That button is no longer active.")
    await press(arta, "crc:go:2147483647")
    assert arta.seen("This report card is not available.")

    await open_survey(arta, other_round)
    assert "Which municipality" in arta.last.text, "another round: a draft of its own"
    await _close(bot, other_round)
    await arta.press("Municipality of Kukës")
    assert arta.seen("This report card is closed")
    await open_survey(arta, other_round)
    assert "This report card is closed" in arta.last.text
    assert not await _stored(bot)


async def test_erasure_deletes_open_round_answers(bot: BotHarness) -> None:
    round_id = await launch_round(bot)
    closed_id = await launch_round(bot, places=("Lezhë",))
    arta = await citizen(bot, "Arta")
    for rid in (closed_id, round_id):
        await open_survey(arta, rid)
        await arta.press("Municipality of Shkodër" if rid == round_id else "Municipality of Lezhë")
        await arta.press("No")
        await arta.press("No")
        await arta.press("Skip")
        await arta.press(SEND)
    await _close(bot, closed_id)
    assert len(await _stored(bot)) == 2
    await arta.command("/privacy")
    await arta.press("🗑 Delete my data")
    await arta.press("Yes, delete everything")
    [(kept, _answers)] = await _stored(bot)
    assert kept.round_id == closed_id and kept.respondent is None, "closed: tied to no one"


def test_round_state_by_day() -> None:
    round_ = ReportCardRound(
        opens_on=date(2026, 11, 20),
        closes_on=date(2026, 11, 30),
        salt="00",
        launched_at=START,
        closed_at=None,
    )
    state = responses.state
    assert state(None, date(2026, 11, 25)) is responses.RoundState.UNKNOWN
    assert state(round_, date(2026, 11, 19)) is responses.RoundState.NOT_YET_OPEN
    assert state(round_, date(2026, 11, 20)) is responses.RoundState.OPEN
    assert state(round_, date(2026, 11, 30)) is responses.RoundState.OPEN, "inclusive"
    assert state(round_, date(2026, 12, 1)) is responses.RoundState.CLOSED
    round_.launched_at = None
    assert state(round_, date(2026, 11, 25)) is responses.RoundState.NOT_LAUNCHED
    round_.launched_at, round_.closed_at = START, START
    assert state(round_, date(2026, 11, 25)) is responses.RoundState.CLOSED
