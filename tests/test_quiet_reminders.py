"""Quiet hours (QUIET_START-QUIET_END, 21:00-08:00 Tirana) hold citizen reminders too: a request
reminder or a case follow-up that comes due at night, or is caught up at night after downtime,
goes out at 08:00, not before."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.broadcasting import sender as delivery
from bot.cases.services import case_rules
from bot.core.jobs import send_due_followups, send_due_reminders
from bot.rti.services.requests import ReminderKind
from db.models import Case, CaseStatus, OutboxMessage, Reminder
from fakeapi import ApiError, server
from tests.harness import BotHarness, Person
from tests.rti_steps import build_request, onboard_english, sent_on
from tests.test_reports import _report_lighting

TIRANA = ZoneInfo("Europe/Tirane")


def _local(iso: str) -> datetime:
    """A Tirana wall time."""
    return datetime.fromisoformat(iso).replace(tzinfo=TIRANA)


async def _due_at(bot: BotHarness, kind: str, iso: str) -> None:
    """Move the first pending reminder of a kind to a Tirana wall time."""
    async with bot.app.services.sessions() as session, session.begin():
        first = (
            await session.execute(
                select(Reminder.id)
                .where(Reminder.kind == kind, Reminder.sent_at.is_(None))
                .order_by(Reminder.due_at)
                .limit(1)
            )
        ).scalar_one()
        await session.execute(
            update(Reminder).where(Reminder.id == first).values(due_at=_local(iso))
        )


async def _seen(bot: BotHarness, person: Person, fragment: str) -> None:
    """Wait until the person got a message containing the fragment."""
    await bot.fake.wait_until(lambda: person.seen(fragment), timeout=5)


async def test_a_request_reminder_due_at_22_is_sent_at_08(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await build_request(arta)
    await sent_on(arta, "20.11.2026")
    await _due_at(bot, ReminderKind.BEFORE_DUE, "2026-12-07T22:00")
    before = len(arta.messages)

    for moment in ("2026-12-07T22:00", "2026-12-08T00:30", "2026-12-08T07:59"):
        bot.clock.set(_local(moment))
        assert await send_due_reminders(bot.app) == 0, moment
    assert len(arta.messages) == before, "nothing reached her at night"

    bot.clock.set(_local("2026-12-08T08:00"))
    assert await send_due_reminders(bot.app) == 1
    await _seen(bot, arta, "must answer your request no. 1")
    bot.clock.set(_local("2026-12-08T09:00"))
    assert await send_due_reminders(bot.app) == 0, "sent once"


async def test_a_case_follow_up_caught_up_at_night_waits_for_08(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _report_lighting(arta, "👤 Named")
    async with bot.app.services.sessions() as session, session.begin():
        case = (await session.execute(select(Case))).scalar_one()
        await case_rules.change_status(
            session,
            case,
            CaseStatus.RESOLVED,
            public_note="Lights repaired.",
            actor_user_id=None,
            now=bot.clock.now(),
        )
    # Due in the afternoon, but the bot was down until late evening: caught up at 23:10.
    await _due_at(bot, "case_followup", "2026-12-14T15:00")
    before = len(arta.messages)
    for moment in ("2026-12-14T23:10", "2026-12-15T03:00", "2026-12-15T07:59"):
        bot.clock.set(_local(moment))
        assert await send_due_followups(bot.app) == 0, moment
    assert len(arta.messages) == before, "nothing reached her at night"

    bot.clock.set(_local("2026-12-15T08:00"))
    assert await send_due_followups(bot.app) == 1
    await _seen(bot, arta, "Is the problem solved?")


async def test_a_reminder_that_failed_at_20_and_comes_due_again_at_night_waits_for_08(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await build_request(arta)
    await sent_on(arta, "20.11.2026")
    await _due_at(bot, ReminderKind.BEFORE_DUE, "2026-12-07T20:55")
    before = len(arta.messages)
    original = server.lookup

    def failing(name: str) -> Any:
        """sendMessage answers 502 while the test says so."""
        found = original(name)
        if found is None or found[0] != "sendMessage" or not failing.on:
            return found

        async def refuse(fake: Any, params: Any) -> Any:
            raise ApiError(502, "Bad Gateway")

        return found[0], refuse

    failing.on = True  # type: ignore[attr-defined]
    monkeypatch.setattr(server, "lookup", failing)
    bot.clock.set(_local("2026-12-07T20:55"))
    assert await send_due_reminders(bot.app) == 1, "queued before 21:00, its send failed"
    failing.on = False  # type: ignore[attr-defined]
    [row] = await _reminder_rows(bot)
    assert row.status == "pending" and row.not_before is not None

    sender = delivery.sender_of(bot.app)
    for moment in ("2026-12-07T22:00", "2026-12-08T03:00", "2026-12-08T07:59"):
        bot.clock.set(_local(moment))
        await sender.run()
    assert len(arta.messages) == before, "the retry did not reach her at night"
    [row] = await _reminder_rows(bot)
    assert row.not_before == _local("2026-12-08T08:00"), "it waits for the end of quiet hours"

    bot.clock.set(_local("2026-12-08T08:00"))
    await sender.run()
    await _seen(bot, arta, "must answer your request no. 1")


async def _reminder_rows(bot: BotHarness) -> list[OutboxMessage]:
    """The reminder rows of the outbox."""
    async with bot.app.services.sessions() as session:
        found = await session.execute(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
        return list(found.scalars())
