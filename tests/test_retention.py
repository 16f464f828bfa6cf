"""Retention (issue #10 item 9): once a day, cases and requests closed longer than
CASE_RETENTION_MONTHS ago are anonymised, old state, deliveries and audit details pruned, and the
admins told the counts; on a moved clock."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.account.services.retention import months_before
from bot.cases.report import DRAFT
from bot.cases.services import case_rules, notices
from bot.core.jobs import run_retention
from bot.core.runtime import unit_of_work
from db.models import (
    AuditEntry,
    BotState,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseStatus,
    OutboxMessage,
    RequestStatus,
    RtiRequest,
)
from tests.campaign_steps import follow
from tests.harness import BotHarness, Person
from tests.rti_steps import build_request, onboard_english
from tests.test_erasure import DESCRIPTION, INFORMATION, NAME, PLACE, _named_report
from tests.test_mydata import _delivered_broadcast

TIRANA = ZoneInfo("Europe/Tirane")
ADMIN = 9601


def _at(bot: BotHarness, *moment: int) -> None:
    """Move the clock to a Tirana-local moment."""
    bot.clock.set(datetime(*moment, tzinfo=TIRANA))


async def _set_status(bot: BotHarness, case_id: int, status: CaseStatus, note: str) -> None:
    """What the staff workspace does: change the status and notify."""
    async with unit_of_work(bot.app.services) as scope:  # notices are sent after the commit
        session = scope.session
        case = await session.get(Case, case_id)
        await case_rules.change_status(
            session, case, status, public_note=note, actor_user_id=None, now=bot.clock.now()
        )
        await notices.status_changed(bot.app.services, session, case, note)


async def _cases(bot: BotHarness) -> list[Case]:
    async with bot.app.services.sessions() as session:
        return list((await session.execute(select(Case).order_by(Case.id))).scalars())


async def _detailed_audit_before(bot: BotHarness, moment: datetime) -> int:
    """Audit entries older than `moment` that still hold before/after details."""
    async with bot.app.services.sessions() as session:
        rows = (await session.execute(select(AuditEntry).where(AuditEntry.at < moment))).scalars()
        return sum(1 for row in rows if row.before is not None or row.after is not None)


def test_months_before_keeps_the_day_or_the_month_end() -> None:
    assert months_before(datetime(2026, 3, 31, 5, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, 5, tzinfo=UTC
    )
    assert months_before(datetime(2028, 11, 25, tzinfo=UTC), 24) == datetime(
        2026, 11, 25, tzinfo=UTC
    )


async def test_daily_retention_on_a_moved_clock(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        admin = Person(bot, fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))
        await onboard_english(admin)
        arta = bot.person(language_code="en", first_name="Arta", last_name=NAME)
        await follow(
            arta, "⬜ Municipal services monitoring", ("Shkodër", "Municipality of Shkodër")
        )
        await _delivered_broadcast(bot, "Budget hearing")
        await _named_report(arta)
        await _named_report(arta)
        if "It is a different problem" in arta.last.labels:
            await arta.press("It is a different problem")
        old, late = await _cases(bot)
        await _set_status(bot, old.id, CaseStatus.RESOLVED, "The utility fixed lamp 44.")
        await build_request(arta, information=INFORMATION, name=f"Arta {NAME}")
        async with bot.app.services.sessions() as session, session.begin():
            request = (await session.execute(select(RtiRequest))).scalar_one()
            request.status = RequestStatus.ANSWERED
            request.updated_at = bot.clock.now()
        await arta.command("/menu")
        await arta.press("🛠 Report a service problem")
        await bot.app.update_persistence()
        async with bot.app.services.sessions() as session:
            assert (await session.execute(select(BotState))).first() is not None
            assert (await session.execute(select(OutboxMessage))).first() is not None

        first = await run_retention(bot.app)
        assert first is not None and not first.any(), "the first run ever runs at once"
        assert await run_retention(bot.app) is None, "once a day"
        assert not admin.seen("Retention"), "nothing to tell"

        _at(bot, 2028, 7, 23, 10, 0)
        await _set_status(bot, late.id, CaseStatus.REJECTED, "Not a municipal matter.")
        _at(bot, 2028, 11, 22, 4, 0)
        counts = await run_retention(bot.app)
        assert counts is not None and counts.cases == 0, "not yet 24 months after closing"

        _at(bot, 2028, 11, 25, 4, 0)
        cutoff = months_before(bot.clock.now(), 24)
        assert await _detailed_audit_before(bot, cutoff) > 0
        assert DRAFT in bot.app.user_data[arta.fake.user_id], "the report begun long ago"
        counts = await run_retention(bot.app)
        assert counts is not None
        assert (counts.cases, counts.requests) == (1, 1)
        assert counts.states >= 1 and counts.audit_details > 0
        assert counts.deliveries == 2, "the broadcast row and the old status notice"

        kept, recent = await _cases(bot)
        assert kept.erased_by == "retention" and kept.erased_at == bot.clock.now()
        assert (kept.description, kept.location_text, kept.reporter_display) == (None, None, None)
        assert kept.reporter_user_id is None
        assert (kept.status, kept.category, kept.municipality_id, kept.created_at) == (
            CaseStatus.RESOLVED,
            old.category,
            old.municipality_id,
            old.created_at,
        ), "facts for statistics stay"
        assert recent.erased_by is None and recent.description == DESCRIPTION
        assert recent.location_text == PLACE, "closed later: its time has not come"
        async with bot.app.services.sessions() as session:
            files = (await session.execute(select(CaseAttachment.case_id))).scalars().all()
            texts = (
                (
                    await session.execute(
                        select(CaseEvent.public_text).where(CaseEvent.case_id == kept.id)
                    )
                )
                .scalars()
                .all()
            )
            request = (await session.execute(select(RtiRequest))).scalar_one()
            states = (await session.execute(select(BotState))).scalars().all()
            outbox = (await session.execute(select(OutboxMessage))).scalars().all()
        assert kept.id not in files and recent.id in files
        assert texts and all(text is None for text in texts)
        assert (request.information, request.requester_name, request.reply_address) == ("", "", "")
        assert request.user_id is None and request.anonymised_at == bot.clock.now()
        assert request.status == RequestStatus.ANSWERED and request.authority_id
        assert all(state.updated_at >= cutoff for state in states)
        assert all(row.created_at >= cutoff for row in outbox), "older delivery records go"
        assert all(row.payload is None for row in outbox), "sent notices keep no words"
        assert await _detailed_audit_before(bot, cutoff) == 0
        assert DRAFT not in bot.app.user_data.get(arta.fake.user_id, {}), "gone from memory too"

        report = admin.last.text
        assert "Retention (24 months after closing)" in report
        assert "1 case anonymised" in report and "1 request for information anonymised" in report
        assert "2 delivery records deleted" in report
        assert await run_retention(bot.app) is None, "once a day"
    finally:
        await bot.stop()
