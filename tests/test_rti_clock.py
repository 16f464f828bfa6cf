"""The deadline clock: due dates in working days, stored reminders, outcomes, the complaint."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.rti import views
from db.models import Reminder, RtiRequest
from tests.harness import BotHarness
from tests.rti_steps import at, build_request, documents, onboard_english, pdf_text, sent_on


async def _request_sent_on_20_november(bot: BotHarness, protocol: str | None = "123/4"):
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await build_request(arta)
    await sent_on(arta, "20.11.2026", protocol)
    return arta


def _with(person, fragment: str):
    """The newest bot message containing a fragment (cards are edited in place)."""
    return next(m for m in reversed(person.messages) if fragment in (m.text or ""))


async def _row(bot: BotHarness) -> RtiRequest:
    async with bot.app.services.sessions() as session:
        return (await session.execute(select(RtiRequest))).scalar_one()


async def test_due_date_reminders_silence_and_complaint(bot: BotHarness) -> None:
    arta = await _request_sent_on_20_november(bot)
    assert arta.seen("at the latest by 10 December 2026")
    assert arta.seen("I will remind you on 7 December 2026 and on 11 December 2026.")
    row = await _row(bot)
    assert (row.sent_on, row.due_on, row.protocol_number) == (
        date(2026, 11, 20),
        date(2026, 12, 10),
        "123/4",
    )

    assert await at(bot, "2026-12-07T08:59") == 0
    assert await at(bot, "2026-12-07T09:00") == 1
    assert "must answer your request no. 1 by 10 December 2026" in arta.last.text
    assert "✅ Full answer" in arta.last.labels
    assert await at(bot, "2026-12-10T18:00") == 0
    assert await at(bot, "2026-12-11T09:00") == 1
    assert "silence counts as a refusal (art. 15(4))" in arta.last.text
    assert await at(bot, "2026-12-11T10:00") == 0, "nothing is sent twice"

    await arta.press("🔇 No answer")
    assert "You can complain to the Commissioner until 26 January 2027." in arta.last.text
    await arta.press("📝 Complaint to the Commissioner")
    complaint, annex = documents(arta)[-2:]
    assert complaint["file_name"] == "ankese-komisioneri-1.pdf"
    assert annex["file_name"] == "kerkese-informimi-1.pdf", "the request as annex"
    text = pdf_text(complaint)
    for expected in ("info@idp.al", "nenit 24", "Abdi Toptani", "123/4", "10 dhjetor 2026", "15"):
        assert expected in text, expected
    assert "Deadline: 26 January 2027" in arta.last.text
    assert "no internal review" in arta.last.text

    assert await at(bot, "2027-01-19T09:00") == 1
    assert "until 26 January 2027" in arta.last.text
    await arta.press("✅ I have filed it")
    assert arta.seen("decides within 15 working days")
    await arta.press("👍 Decided in my favour")
    row = await _row(bot)
    assert (row.status, row.commissioner_outcome) == ("closed", "upheld")


async def test_reminders_survive_a_restart(bot: BotHarness) -> None:
    arta = await _request_sent_on_20_november(bot, protocol=None)
    await bot.restart()
    assert await at(bot, "2026-12-07T09:30") == 1
    assert "by 10 December 2026" in arta.last.text


async def test_extension_transfer_and_early_silence(bot: BotHarness) -> None:
    arta = await _request_sent_on_20_november(bot)
    await arta.press("🔇 No answer")
    assert arta.seen("The deadline is 10 December 2026. Silence counts as a refusal only after")

    await arta.press("⏳ Extended (+5 working days)")
    card = _with(arta, "New deadline: 17 December 2026.")
    assert "⏳ Extended (+5 working days)" not in card.labels, "only one extension"
    await arta.press_data("rto:1:extended", message_id=card.message_id)
    assert arta.seen("The deadline can be extended only once")

    await arta.press("↪️ Transferred")
    assert arta.seen("15 working days from the day your request reached the first authority")
    row = await _row(bot)
    assert row.status == "transferred" and row.due_on == date(2026, 12, 24)
    async with bot.app.services.sessions() as session:
        pending = (
            (
                await session.execute(
                    select(Reminder).where(
                        Reminder.request_id.is_not(None),
                        Reminder.sent_at.is_(None),
                        Reminder.cancelled_at.is_(None),
                    )
                )
            )
            .scalars()
            .all()
        )
    assert sorted(r.kind for r in pending) == ["after_due", "before_due"]

    await arta.press("✅ Full answer")
    assert arta.seen("marked request no. 1 as answered")
    assert await at(bot, "2027-01-05T09:00") == 0, "answered: no more reminders"


async def test_refusal_clarify_and_partial(bot: BotHarness) -> None:
    arta = await _request_sent_on_20_november(bot)
    await arta.press("❓ Asked me to clarify")
    assert arta.seen("Answer the authority's question in writing")
    await arta.press("⛔ Refused")
    assert "📝 Complaint to the Commissioner" in _with(arta, "until 12 January 2027").labels
    row = await _row(bot)
    assert (row.status, row.outcome_on, row.complaint_due_on) == (
        "refused",
        date(2026, 11, 23),
        date(2027, 1, 12),
    )


async def test_my_requests_lists_and_opens_cards(bot: BotHarness) -> None:
    arta = await _request_sent_on_20_november(bot)
    await arta.command("/menu")
    await arta.press("⚖️ Right to information")
    await arta.press("📋 My requests")
    [label] = [label for label in arta.last.labels if label.startswith("#1")]
    assert label == "#1 · Shkodër · sent, waiting for the answer", "name and status whole"
    await arta.press(label)
    assert "Answer due by: 10 December 2026" in arta.last.text
    assert "Protocol no.: 123/4" in arta.last.text

    other = bot.person(language_code="en")
    await onboard_english(other)
    await other.press_data("rtr:1", message_id=other.last.message_id)
    assert other.seen("That button is no longer active."), "nobody opens another's request"


async def test_export_includes_requests_and_erasure_removes_them(bot: BotHarness) -> None:
    import json

    arta = await _request_sent_on_20_november(bot)
    await arta.command("/privacy")
    await arta.press("⬇️ Download my data")
    data = json.loads(documents(arta)[-1]["content"])
    [request] = data["information_requests"]
    assert request["requester_name"] == "Arta Kelmendi" and request["due_on"] == "2026-12-10"

    await arta.command("/privacy")
    await arta.press("🗑 Delete my data")
    await arta.press("Yes, delete everything")
    async with bot.app.services.sessions() as session:
        assert (await session.execute(select(RtiRequest))).first() is None
        assert (
            await session.execute(select(Reminder).where(Reminder.request_id.is_not(None)))
        ).first() is None


async def _pending_reminders(bot: BotHarness) -> list[Reminder]:
    async with bot.app.services.sessions() as session:
        rows = await session.execute(
            select(Reminder).where(
                Reminder.request_id.is_not(None),
                Reminder.sent_at.is_(None),
                Reminder.cancelled_at.is_(None),
            )
        )
        return list(rows.scalars())


async def _request_sent_on(bot: BotHarness, day: str):
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await build_request(arta)
    await sent_on(arta, day)
    return arta


async def test_past_deadline_says_so_and_gives_the_complaint_date(bot: BotHarness) -> None:
    arta = await _request_sent_on(bot, "01.10.2026")
    said = _with(arta, "had to answer by").text
    assert "had to answer by 15 October 2026" in said and "that day has passed" in said
    assert "complain to the Commissioner by 27 November 2026" in said
    assert "remind" not in said
    assert not await _pending_reminders(bot), "no reminders for days already gone"
    assert "🔇 No answer" in arta.last.labels

    await arta.press("🔇 No answer")
    assert "You can complain to the Commissioner until 27 November 2026." in arta.last.text
    [closing] = await _pending_reminders(bot)
    assert (closing.kind, closing.due_at.date()) == ("complaint_closing", date(2026, 11, 24))


async def test_too_late_to_complain_says_ask_again(bot: BotHarness) -> None:
    arta = await _request_sent_on(bot, "01.09.2026")
    said = _with(arta, "had to answer by").text
    assert "ended on 28 October 2026" in said and "send the request again" in said
    assert not await _pending_reminders(bot)

    await arta.press("🔇 No answer")
    assert "ended on 28 October 2026" in arta.last.text
    assert "until 28 October" not in arta.last.text
    assert not await _pending_reminders(bot), "no reminder of a day already gone"
    card = arta.last
    assert "The time to complain to the Commissioner ended on: 28 October 2026" in card.text
    assert "📝 Complaint to the Commissioner" not in card.labels, "no complaint offered too late"
    assert "send the request again" in card.text

    request = await _row(bot)
    await arta.press_data(views.COMPLAINT.data(request.id), card.message_id)
    assert "ended on 28 October 2026" in arta.last.text, "an old complaint button says why not"
    assert not arta.seen("Komisioner"), "no complaint letter drafted"


async def test_only_reminders_still_to_come_are_promised(bot: BotHarness) -> None:
    arta = await _request_sent_on(bot, "09.11.2026")
    said = _with(arta, "at the latest by").text
    assert "at the latest by 24 November 2026" in said
    assert "I will remind you on 25 November 2026." in said
    assert "19 November" not in said
    [after] = await _pending_reminders(bot)
    assert after.kind == "after_due"
