"""Report-card rounds for staff, end to end on both databases: a round defined by buttons (wrong
input, a past day, a closing day before the opening, an edit from the preview), question wording
changed and refused, the launch with its invitation broadcast delivered only to matching
subscribers with the survey button, the questions frozen, forged buttons from a citizen, an early
close and a deleted draft; the closing job wiping the salt and respondent codes the day after
the closing day and not before; the pure checks of the service."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import escape
from sqlalchemy import select

from bot.core.jobs import close_report_card_rounds, reminders_job, send_broadcasts
from bot.reportcards.links import OPEN_SURVEY
from bot.reportcards.services import questions, rounds
from db.models import (
    AuditEntry,
    Authority,
    Broadcast,
    BroadcastStatus,
    ReportCardResponse,
    ReportCardRound,
    Topic,
)
from tests.campaign_steps import follower
from tests.harness import BotHarness, Person

TIRANA = ZoneInfo("Europe/Tirane")
ADMIN = 9450
SHKODER, LEZHE = ("Shkodër", "Municipality of Shkodër"), ("Lezhë", "Municipality of Lezhë")
POLLS, ANTICORRUPTION = "⬜ Polls and surveys", "⬜ Anti-corruption"
TITLE_SQ, TITLE_EN = "Karta e raportimit, dimër 2026", "Report card <winter 2026> & more"
FILL_IN = "📋 Fill in the report card"


def _at(bot: BotHarness, iso: str) -> None:
    bot.clock.set(datetime.fromisoformat(iso).replace(tzinfo=TIRANA))


def _admin(bot: BotHarness) -> Person:
    return Person(bot, bot.fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))


def _screen(person: Person) -> Any:
    """The newest message with buttons (toggles redraw it in place)."""
    return next(message for message in reversed(person.messages) if message.labels)


def _toast(person: Person) -> str:
    return person.fake.callback_answers[-1].get("text") or ""


async def _round(bot: BotHarness, round_id: int) -> ReportCardRound | None:
    async with bot.app.services.sessions() as session:
        return await session.get(ReportCardRound, round_id)


async def _audited(bot: BotHarness, action: str) -> list[AuditEntry]:
    async with bot.app.services.sessions() as session:
        found = await session.execute(select(AuditEntry).where(AuditEntry.action == action))
        return list(found.scalars())


async def _municipality(bot: BotHarness, name: str) -> int:
    async with bot.app.services.sessions() as session:
        found = await session.execute(
            select(Authority.id).where(Authority.name == name, Authority.in_programme.is_(True))
        )
        return found.scalar_one()


async def _define(admin: Person, title: str, opens: str, closes: str) -> None:
    """A round through the wizard, quickly: one service, Shkodër, days by button."""
    await admin.command("/reportcards")
    await admin.press("➕ New round")
    await admin.text(title)
    await admin.press("Skip")
    await admin.press("⬜ Street lighting")
    await admin.press("Continue ➡️")
    await admin.press("⬜ Shkodër")
    await admin.press("Continue ➡️")
    await admin.press(opens)
    await admin.press(closes)
    await admin.press("💾 Save as draft")


async def test_a_round_defined_edited_launched_delivered_and_closed(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        _at(bot, "2026-11-23T10:00")
        arta = await follower(bot, "Arta", POLLS, SHKODER)
        everywhere = await follower(bot, "Dritan", POLLS)
        besa = await follower(bot, "Besa", POLLS, LEZHE)
        gent = await follower(bot, "Gent", ANTICORRUPTION, SHKODER)
        admin = _admin(bot)
        shkoder = await _municipality(bot, "Shkodër")

        await admin.command("/reportcards")
        assert "No rounds yet" in admin.last.text
        await admin.press("➕ New round")
        assert "New report-card round." in admin.last.text
        assert admin.last.labels == ["✖️ Cancel"]
        await admin.text("x" * 201)
        assert admin.last.text == "That is longer than 200 characters. Please shorten it."
        await admin.text(TITLE_SQ)
        assert "title in English" in admin.last.text
        await admin.text(TITLE_EN)
        assert "Which services" in admin.last.text
        assert "Continue ➡️" not in admin.last.labels, "nothing chosen yet"
        await admin.text("water please")
        assert admin.last.text == "Please use the buttons above."
        await admin.press("⬜ Drinking water supply")
        await admin.press("⬜ Street lighting")
        await admin.press("✅ Street lighting")
        await admin.press("⬜ Waste collection and street cleaning")
        labels = _screen(admin).labels
        assert "✅ Drinking water supply" in labels and "⬜ Street lighting" in labels
        await admin.press("Continue ➡️")
        assert "In which municipalities?" in admin.last.text
        await admin.press("⬜ All 15")
        assert sum(label.startswith("✅") for label in _screen(admin).labels) == 16
        await admin.press("✅ All 15")
        assert not any(label.startswith("✅") for label in _screen(admin).labels)
        await admin.press("⬜ Shkodër")
        await admin.press("Continue ➡️")
        assert "When does it open?" in admin.last.text
        await admin.text("01.01.2020")
        assert admin.last.text == "That day has passed. Please choose today or a later day."
        await admin.text("next week")
        assert "could not read that date" in admin.last.text
        await admin.press("Tomorrow")
        assert "When does it close?" in admin.last.text
        await admin.text("24.11.2026")
        assert admin.last.text == "The closing day must come after the opening day."
        await admin.press("2 weeks: until 7 December 2026")
        preview = admin.last.text
        assert "Preview" in preview and TITLE_SQ in preview and TITLE_EN in preview
        assert "Drinking water supply, Waste collection and street cleaning" in preview
        assert "Municipalities: Shkodër" in preview
        assert "24 November 2026 – 7 December 2026" in preview
        await admin.press("✏️ Services")
        await admin.press("⬜ Street lighting")
        await admin.press("Continue ➡️")
        assert "Preview" in admin.last.text and "Street lighting" in admin.last.text
        await admin.press("💾 Save as draft")
        assert "Round #1 saved as a draft." in admin.last.text
        assert "📝 Draft" in admin.last.text
        saved = await _round(bot, 1)
        assert saved is not None
        assert (saved.title_sq, saved.title_en) == (TITLE_SQ, TITLE_EN)
        assert saved.services == ["water", "waste", "lighting"]
        assert saved.municipality_ids == [shkoder]
        assert (saved.opens_on, saved.closes_on) == (date(2026, 11, 24), date(2026, 12, 7))
        assert saved.questions == questions.DEFAULT_QUESTIONS and saved.launched_at is None
        assert len(await _audited(bot, "report_card_round.created")) == 1

        # The wording: the placeholder and the length are kept; codes and kinds never change.
        await admin.press("✏️ Questions")
        assert "Questions of “Karta e raportimit, dimër 2026”" in admin.last.text
        await admin.press(next(label for label in admin.last.labels if label.startswith("2.")))
        assert "Question 2" in admin.last.text
        await admin.press("✏️ 🇦🇱 Question")
        assert "Keep {service} in it" in admin.last.text
        await admin.text("Sa i disponueshëm ishte shërbimi?")
        assert "must keep {service}" in admin.last.text
        await admin.text("{service}: " + "a" * 300)
        assert "longer than 300 characters" in admin.last.text
        await admin.text("{service}: sa lehtë e gjetët shërbimin kur ju duhej?")
        assert "✅ Saved." in admin.last.text
        assert "{service}: sa lehtë e gjetët shërbimin kur ju duhej?" in admin.last.text
        await admin.press("⬅️ Back")
        await admin.press(next(label for label in admin.last.labels if label.startswith("6.")))
        await admin.press("✏️ 🇬🇧 Answer 1")
        await admin.text("On the same day")
        assert "1. Të njëjtën ditë / On the same day" in admin.last.text
        await admin.press("✅ Done")
        assert "Questions: edited" in admin.last.text
        edited = await _round(bot, 1)
        assert edited is not None and questions.valid(edited.questions)
        assert edited.questions[1]["sq"] == "{service}: sa lehtë e gjetët shërbimin kur ju duhej?"
        assert edited.questions[5]["options"][0] == {
            "sq": "Të njëjtën ditë",
            "en": "On the same day",
        }
        assert [(q["code"], q["kind"]) for q in edited.questions] == [
            (q["code"], q["kind"]) for q in questions.DEFAULT_QUESTIONS
        ]
        assert len(await _audited(bot, "report_card_round.question_changed")) == 2

        # Launch: the confirmation counts who is invited; the broadcast waits for the opening.
        await admin.press("🚀 Launch…")
        assert "goes on 24 November 2026 to 2 subscribers" in admin.last.text
        await admin.press("🚀 Launch")
        assert "🚀 Launched. The invitation goes out on 24 November 2026." in admin.last.text
        launched = await _round(bot, 1)
        assert launched is not None and launched.launched_at is not None
        assert launched.salt is not None and len(launched.salt) == 64
        async with bot.app.services.sessions() as session:
            invitation = await session.get(Broadcast, launched.invitation_broadcast_id)
        assert invitation is not None
        assert invitation.topic == Topic.POLLS and invitation.municipality_ids == [shkoder]
        assert invitation.buttons == [{"kind": "report_card", "round_id": 1}]
        assert invitation.send_at == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
        assert "voluntary and anonymous" in (invitation.text_en or "")
        assert TITLE_SQ in invitation.text_sq and escape(TITLE_EN) in (invitation.text_en or "")
        assert len(await _audited(bot, "report_card_round.launched")) == 1

        # The questions are frozen now.
        await admin.press_data("rcr:qs:1", message_id=admin.last.message_id)
        assert admin.last.text == (
            "This round has been launched: its questions can no longer be changed."
        )
        async with bot.app.services.sessions() as session:
            try:
                await rounds.set_wording(
                    session,
                    1,
                    rounds.Field("quality", "sq"),
                    "{service}?",
                    by_user_id=None,
                    now=bot.clock.now(),
                )
            except rounds.RoundError as error:
                assert error.reason == "launched"
            else:
                raise AssertionError("a launched round's wording changed")

        assert await send_broadcasts(bot.app) == 0, "not before the opening day"
        _at(bot, "2026-11-24T10:00")
        assert await send_broadcasts(bot.app) == 2
        for invited in (arta, everywhere):
            assert (
                TITLE_EN in invited.last.text and "Open until 7 December 2026" in invited.last.text
            )
            assert invited.last.button_data(FILL_IN) == OPEN_SURVEY.data(1)
        for other in (besa, gent):
            assert not other.seen(TITLE_EN)

        await admin.command("/reportcards")
        assert "🟢 Open until 7 December 2026 · 0 responses" in admin.last.text
    finally:
        await bot.stop()


async def test_a_citizen_pressing_forged_staff_buttons_gets_nothing(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        _at(bot, "2026-11-23T10:00")
        admin = _admin(bot)
        await _define(admin, "Raundi", "Today", "2 weeks: until 6 December 2026")
        arta = await follower(bot, "Arta", POLLS, SHKODER)
        for data in (
            "rcr:launch:1",
            "rcr:launchok:1",
            "rcr:delok:1",
            "rcr:closeok:1",
            "rcr:qs:1",
            "rcr:card:1",
            "rcr:new",
            "rcr:list",
            "rcr:w:save",
            "rcr:q:resetok",
        ):
            shown = len(arta.messages)
            await arta.press_data(data, message_id=arta.last.message_id)
            assert _toast(arta) == "This button is no longer active.", data
            assert not any("Raundi" in (m.text or "") for m in arta.messages[shown:]), data
        await arta.command("/reportcards")
        assert arta.messages[-2].text == "I don't know that command."
        kept = await _round(bot, 1)
        assert kept is not None and kept.launched_at is None and kept.salt is None
        async with bot.app.services.sessions() as session:
            assert (await session.execute(select(Broadcast))).first() is None
    finally:
        await bot.stop()


async def test_early_close_cancels_the_waiting_invitation_and_a_draft_is_deleted(
    fake, database_url
) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        _at(bot, "2026-11-23T22:30")  # quiet hours: the invitation waits
        arta = await follower(bot, "Arta", POLLS, SHKODER)
        admin = _admin(bot)
        await _define(admin, "Raundi i parë", "Today", "2 weeks: until 6 December 2026")
        await admin.press("🚀 Launch…")
        assert "goes now to 1 subscriber" in admin.last.text
        await admin.press("🚀 Launch")
        assert "🚀 Launched. The invitation is going out now." in admin.last.text
        first = await _round(bot, 1)
        assert first is not None
        async with bot.app.services.sessions() as session:
            waiting = await session.get(Broadcast, first.invitation_broadcast_id)
        assert waiting is not None and waiting.send_at == bot.clock.now()

        await admin.press("🔒 Close now…")
        assert "Close “Raundi i parë” now?" in admin.last.text
        await admin.press("⬅️ Back")
        assert "🔒 Close now…" in admin.last.labels
        assert "https://t.me/pact_test_bot?start=crc_1" in admin.last.text, "the survey's link"
        await admin.press("📊 Results")
        assert admin.seen("Respondents by municipality")
        await admin.command("reportcards")
        await admin.press("#1 Raundi i parë")
        await admin.press("🔒 Close now…")
        await admin.press("🔒 Close now")
        assert "🔒 Closed." in admin.last.text and "🔒 Closed 23 November 2026" in admin.last.text
        closed = await _round(bot, 1)
        assert closed is not None and closed.closed_at is not None and closed.salt is None
        async with bot.app.services.sessions() as session:
            cancelled = await session.get(Broadcast, closed.invitation_broadcast_id)
        assert cancelled is not None and cancelled.status == BroadcastStatus.CANCELLED
        _at(bot, "2026-11-24T10:00")
        assert await send_broadcasts(bot.app) == 0
        assert not arta.seen("Raundi i parë")
        await admin.press_data("rcr:closeok:1", message_id=admin.last.message_id)
        assert _toast(admin) == "This round is not open."
        [early] = await _audited(bot, "report_card_round.closed")
        assert early.actor_kind == "staff" and early.after == {"early": True, "codes_wiped": 0}

        await _define(
            admin, "Raundi <i>i dytë</i> & co", "Tomorrow", "3 weeks: until 15 December 2026"
        )
        assert "Round #2 saved as a draft." in admin.last.text
        assert "#2 Raundi <i>i dytë</i> & co" in admin.last.text, "shown as typed, not as HTML"
        await admin.press("✏️ Questions")
        await admin.press(next(label for label in admin.last.labels if label.startswith("3.")))
        await admin.press("✏️ 🇬🇧 Question")
        await admin.press("🗑 No English (show the Albanian)")
        assert "🇬🇧 (no English: the Albanian is shown)" in admin.last.text
        assert (await _round(bot, 2)).questions[2]["en"] == ""
        await admin.press("⬅️ Back")
        await admin.press("↩️ Reset to the default")
        assert "Put back the default wording" in admin.last.text
        await admin.press("↩️ Yes, reset")
        assert admin.seen("↩️ The default questions are back.")
        assert (await _round(bot, 2)).questions == questions.DEFAULT_QUESTIONS
        await admin.press("✅ Done")
        assert "Questions: the default set" in admin.last.text
        await admin.press("🗑 Delete draft…")
        assert "Delete the draft “Raundi <i>i dytë</i> & co”?" in admin.last.text
        await admin.press("🗑 Delete")
        assert "🗑 Draft deleted." in admin.last.text and "i dytë" not in admin.last.text
        assert await _round(bot, 2) is None
        await admin.press_data("rcr:delok:1", message_id=admin.last.message_id)
        assert _toast(admin) == "A launched round cannot be deleted."
        assert await _round(bot, 1) is not None
    finally:
        await bot.stop()


async def test_the_closing_job_wipes_codes_the_day_after_the_closing_day(
    fake, database_url
) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        _at(bot, "2026-11-23T10:00")
        admin = _admin(bot)
        await _define(admin, "Raundi", "Today", "2 weeks: until 6 December 2026")
        await admin.press("🚀 Launch…")
        await admin.press("🚀 Launch")
        shkoder = await _municipality(bot, "Shkodër")
        async with bot.app.services.sessions() as session, session.begin():
            for code in ("a" * 64, "b" * 64):
                session.add(
                    ReportCardResponse(
                        round_id=1,
                        respondent=code,
                        municipality_id=shkoder,
                        submitted_on=date(2026, 11, 24),
                    )
                )

        _at(bot, "2026-12-06T23:59")
        assert await close_report_card_rounds(bot.app) == []
        still = await _round(bot, 1)
        assert still is not None and still.salt is not None and still.closed_at is None

        _at(bot, "2026-12-07T00:01")
        await reminders_job(SimpleNamespace(application=bot.app))  # what the JobQueue wakes
        closed = await _round(bot, 1)
        assert closed is not None and closed.salt is None and closed.closed_at == bot.clock.now()
        async with bot.app.services.sessions() as session:
            codes = (await session.execute(select(ReportCardResponse.respondent))).scalars().all()
        assert codes == [None, None]
        [entry] = await _audited(bot, "report_card_round.closed")
        assert entry.actor_kind == "system" and entry.after == {"early": False, "codes_wiped": 2}

        _at(bot, "2026-12-08T10:00")
        assert await close_report_card_rounds(bot.app) == [], "nothing twice"
        assert len(await _audited(bot, "report_card_round.closed")) == 1
        await admin.command("/reportcards")
        assert "🔒 Closed 7 December 2026 · 2 responses" in admin.last.text
    finally:
        await bot.stop()


def test_wording_checks() -> None:
    """Albanian cannot be empty, English may; per-service wording keeps its placeholder."""
    default = questions.default_questions()
    sq = rounds.Field("quality", "sq")
    en = rounds.Field("quality", "en")
    option = rounds.Field("payment", "en", 1)
    suggestion = rounds.Field(questions.SUGGESTION, "sq")
    assert rounds.wording_problem(default, sq, "") == rounds.WordingProblem.EMPTY
    assert rounds.wording_problem(default, en, "") is None
    assert rounds.wording_problem(default, sq, "Cilësia?") == rounds.WordingProblem.PLACEHOLDER
    assert rounds.wording_problem(default, en, "Quality?") == rounds.WordingProblem.PLACEHOLDER
    assert rounds.wording_problem(default, suggestion, "Një sugjerim?") is None
    assert rounds.wording_problem(default, option, "Yes, I refused") is None
    too_long = "{service}" + "x" * questions.MAX_TEXT
    assert rounds.wording_problem(default, sq, too_long) == rounds.WordingProblem.TOO_LONG
    assert rounds.field_exists(default, option)
    assert not rounds.field_exists(default, rounds.Field("payment", "en", 9))
    assert not rounds.field_exists(default, rounds.Field("quality", "en", 0))
    assert not rounds.field_exists(default, rounds.Field("nope", "sq"))
    changed = rounds.with_wording(default, option, "Yes, I refused")
    assert changed[6]["options"][1]["en"] == "Yes, I refused"
    assert default == questions.DEFAULT_QUESTIONS, "the original is untouched"
    assert questions.valid(changed)


def test_status_follows_the_local_days() -> None:
    """Draft, scheduled, open on both ends, ended, closed."""
    round_ = ReportCardRound(opens_on=date(2026, 12, 1), closes_on=date(2026, 12, 14))
    assert rounds.status(round_, date(2026, 12, 1)) == rounds.Status.DRAFT
    round_.launched_at = datetime(2026, 11, 30, tzinfo=UTC)
    assert rounds.status(round_, date(2026, 11, 30)) == rounds.Status.SCHEDULED
    assert rounds.status(round_, date(2026, 12, 1)) == rounds.Status.OPEN
    assert rounds.status(round_, date(2026, 12, 14)) == rounds.Status.OPEN
    assert rounds.status(round_, date(2026, 12, 15)) == rounds.Status.ENDED
    round_.closed_at = datetime(2026, 12, 15, tzinfo=UTC)
    assert rounds.status(round_, date(2026, 12, 15)) == rounds.Status.CLOSED
    late = datetime(2026, 12, 14, 23, 30, tzinfo=UTC)  # 00:30 on the 15th in Tirana
    assert rounds.local_today(late, TIRANA) == date(2026, 12, 15)
