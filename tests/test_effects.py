"""Effects after commit: nothing is confirmed before it is stored; others hear via the outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from telegram.error import NetworkError

from bot.broadcasting import sender as delivery
from bot.cases.services import case_rules, notices
from bot.core.runtime import unit_of_work
from db.models import AuditEntry, Case, CaseEvent, CaseStatus, OutboxMessage, User
from fakeapi import ApiError, server
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english

STAFF = -100557
ADMIN = 9102
WORKER = 9202
GONE = -100999
"""A staff chat id Telegram does not know (400 "chat not found")."""
SENT = "Your case number is PACT-2026-00001"


async def _start(fake, database_url, staff_chat: int = STAFF) -> BotHarness:
    """A bot with a staff group and ADMIN as its bootstrap admin."""
    fake.group(chat_id=STAFF, title="PACT staff")
    bot = BotHarness(fake, database_url, staff_chat_id=staff_chat, admin_ids=frozenset({ADMIN}))
    await bot.start()
    return bot


def _person(bot: BotHarness, telegram_id: int, name: str) -> Person:
    """A fake user with a fixed id (staff ids are known before they write)."""
    return Person(bot, bot.fake.user(user_id=telegram_id, first_name=name, language_code="en"))


async def _fill_report(person: Person) -> tuple[str, int]:
    """A named street-lighting report up to the preview; its Send button's data and message."""
    await person.command("/menu")
    await person.press("🛠 Report a service problem")
    await person.press("Shkodër")
    await person.press("Municipality of Shkodër")
    await person.press("Skip")
    await person.press("Street lighting")
    await person.text("Lights off on the main road for two weeks.")
    await person.press("Skip")
    await person.press("✔️ Done")
    await person.press("👤 Named")
    preview = person.last
    return preview.button_data("📨 Send"), preview.message_id


async def _cases(bot: BotHarness) -> list[Case]:
    """Every stored case."""
    async with bot.app.services.sessions() as session:
        return list((await session.execute(select(Case).order_by(Case.id))).scalars())


async def _outbox(bot: BotHarness, kind: str) -> list[OutboxMessage]:
    """Direct outbox rows of one kind."""
    async with bot.app.services.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
        return list(rows.scalars())


def _fail_send(
    monkeypatch: pytest.MonkeyPatch, fragment: str, error: ApiError, chat_id: int | None = None
) -> dict[str, int]:
    """The fake answers `error` to the next sendMessage (to chat_id) whose text has `fragment`."""
    original = server.lookup
    left = {"count": 1}

    def lookup(name: str) -> Any:
        """The method's handler, wrapped for sendMessage."""
        found = original(name)
        if found is None or found[0] != "sendMessage":
            return found
        canonical, handler = found

        async def failing(fake: Any, params: Any) -> Any:
            """Refuse the matching call once, else answer as usual."""
            to = params.text("chat_id")
            if (
                left["count"]
                and fragment in (params.text("text") or "")
                and (chat_id is None or to == str(chat_id))
            ):
                left["count"] -= 1
                raise error
            return await handler(fake, params)

        return canonical, failing

    monkeypatch.setattr(server, "lookup", lookup)
    return left


@pytest.fixture
def fail_commit(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Any], dict[str, int]]]:
    """Arm: the next commit of a transaction that wrote a row `holds` accepts raises."""

    def remember(session: Session, _context: object) -> None:
        """Note what this transaction wrote (new and changed rows)."""
        session.info.setdefault("written", []).extend([*session.new, *session.dirty])

    event.listen(Session, "after_flush", remember)

    def arm(holds: Any) -> dict[str, int]:
        """Make the matching commit fail once; the count left tells whether it happened."""
        original = AsyncSession.commit
        left = {"count": 1}

        async def commit(self: AsyncSession) -> None:
            """Raise like a dropped connection for the matching transaction, once."""
            written = self.sync_session.info.pop("written", [])
            if left["count"] and any(holds(row) for row in written):
                left["count"] -= 1
                raise OperationalError("COMMIT", {}, ConnectionResetError("connection dropped"))
            await original(self)

        monkeypatch.setattr(AsyncSession, "commit", commit)
        return left

    yield arm
    event.remove(Session, "after_flush", remember)


@pytest.mark.parametrize("refusal", ["403", "400"])
async def test_staff_group_refusing_the_card_leaves_case_and_reporter_alone(
    fake, database_url, refusal: str
) -> None:
    bot = await _start(fake, database_url, staff_chat=STAFF if refusal == "403" else GONE)
    try:
        admin = _person(bot, ADMIN, "Ledi")
        await admin.command("/start")
        if refusal == "403":
            fake.state.chats[STAFF].blocked = True  # the bot was removed from the group
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        send_again = await _fill_report(arta)
        await arta.press("📨 Send")

        assert arta.seen(SENT), "the reporter is told, since the case is stored"
        assert [c.reference for c in await _cases(bot)] == ["PACT-2026-00001"]
        reporter = await bot.user_row(arta)
        assert reporter is not None and reporter.blocked_at is None, "the reporter is not blocked"
        assert not arta.seen("Sorry, something went wrong")
        [card] = await _outbox(bot, "staff_card")
        assert card.status == "failed" and (card.error or "").startswith("refused")
        assert card.payload is None, "the card's words are not kept once its outcome is known"
        # The admin never chose a language, so the alert comes in the default one (Albanian).
        assert admin.seen("Grupi i stafit refuzoi një mesazh nga boti"), "admins alerted"

        await arta.press_data(*send_again)  # the old preview button: no second case
        await delivery.sender_of(bot.app).run()  # a later pass: the failed card is not resent
        assert len(await _cases(bot)) == 1
        assert sum("Grupi i stafit refuzoi" in text for text in admin.texts()) == 1
    finally:
        await bot.stop()


async def test_server_error_on_the_confirmation_keeps_the_case(
    fake, database_url, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await _start(fake, database_url)
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        send_again = await _fill_report(arta)
        left = _fail_send(
            monkeypatch, "Your case number is", ApiError(500, "Internal Server Error")
        )
        await arta.press("📨 Send")

        assert left["count"] == 0, "the confirmation was tried"
        assert [c.reference for c in await _cases(bot)] == ["PACT-2026-00001"], "stored once"
        assert not arta.seen("Sorry, something went wrong"), "nothing is undone or apologised"
        assert "stopped at call" in caplog.text, "the failure is logged"
        assert "Lights off" not in caplog.text, "the log never holds what was written"
        group = fake.group(chat_id=STAFF)
        assert sum("PACT-2026-00001" in (m.text or "") for m in group.messages) == 1
        assert not arta.seen(SENT)
        [reply] = [r for r in await _outbox(bot, "reply") if r.status == "pending"]
        assert reply.payload is not None and reply.not_before is not None, "kept to try again"

        bot.clock.advance(reply.not_before - bot.clock.now())
        await delivery.sender_of(bot.app).run()
        await delivery.sender_of(bot.app).run()
        assert sum(SENT in text for text in arta.texts()) == 1, "the confirmation, once, later"
        assert await _outbox(bot, "reply") == [], "a reply row is gone once its calls are made"

        await arta.press_data(*send_again)  # pressing again creates nothing new
        assert len(await _cases(bot)) == 1
    finally:
        await bot.stop()


async def test_server_error_on_the_staff_card_is_retried_later_once(
    fake, database_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await _start(fake, database_url)
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await _fill_report(arta)
        left = _fail_send(monkeypatch, "PACT-2026-00001", ApiError(502, "Bad Gateway"), STAFF)
        await arta.press("📨 Send")

        assert left["count"] == 0, "the card was tried"
        assert arta.seen(SENT) and len(await _cases(bot)) == 1
        group = fake.group(chat_id=STAFF)
        assert not any("PACT-2026-00001" in (m.text or "") for m in group.messages)
        [card] = await _outbox(bot, "staff_card")
        assert card.status == "pending" and card.attempts == 1 and card.payload is not None
        assert card.not_before is not None and card.not_before > bot.clock.now(), "a backoff"

        sender = delivery.sender_of(bot.app)
        await sender.run()  # too early: the backoff holds it
        assert not any("PACT-2026-00001" in (m.text or "") for m in group.messages)
        bot.clock.advance(card.not_before - bot.clock.now())
        await sender.run()
        await sender.run()
        assert sum("PACT-2026-00001" in (m.text or "") for m in group.messages) == 1, "once"
        [card] = await _outbox(bot, "staff_card")
        assert card.status == "sent" and card.payload is None
    finally:
        await bot.stop()


async def test_commit_failure_confirms_nothing_and_keeps_the_draft(
    fake, database_url, fail_commit
) -> None:
    bot = await _start(fake, database_url)
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await _fill_report(arta)
        left = fail_commit(lambda row: isinstance(row, Case))
        await arta.press("📨 Send")

        assert left["count"] == 0, "the commit failed"
        assert not arta.seen(SENT), "no case number for a case that does not exist"
        assert await _cases(bot) == []
        group = fake.group(chat_id=STAFF)
        assert not any("PACT-2026" in (m.text or "") for m in group.messages), "no staff card"
        assert await _outbox(bot, "staff_card") == []

        # The inbox tries the press again (bot/core/inbox.py): the kept draft is stored then, once.
        await fake.wait_until(lambda: arta.seen(SENT), timeout=10)
        await arta.command("/menu")  # handled after the retry (the chat's order)
        [case] = await _cases(bot)
        assert case.reference == "PACT-2026-00001"
        assert "Lights off on the main road" in (case.description or ""), "with every answer"
        assert sum(SENT in text for text in arta.texts()) == 1
        assert sum("PACT-2026-00001" in (m.text or "") for m in group.messages) == 1
    finally:
        await bot.stop()


async def test_commit_failure_confirms_no_erasure_and_keeps_the_data(
    fake, database_url, fail_commit
) -> None:
    bot = await _start(fake, database_url)
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await _fill_report(arta)
        await arta.press("📨 Send")
        assert arta.seen(SENT)
        await arta.command("/privacy")
        await arta.press("🗑 Delete my data")
        question = arta.last
        menus = sum("Main menu" in text for text in arta.texts())
        left = fail_commit(lambda row: isinstance(row, AuditEntry) and row.action == "user.erased")
        await arta.press("Yes, delete everything", message=question)

        assert left["count"] == 0, "the commit of the erasure failed"
        assert not arta.seen("Done. We deleted"), "no erasure is confirmed that did not happen"
        assert sum("Main menu" in text for text in arta.texts()) == menus, "no menu either"
        assert await bot.user_row(arta) is not None, "the person's data is all still there"
        [case] = await _cases(bot)
        assert case.erased_by is None and case.reporter_user_id is not None

        # The inbox tries the press again: the erasure happens then, confirmed once.
        await fake.wait_until(lambda: arta.seen("Done. We deleted all your data."), timeout=10)
        await arta.command("/help")  # handled after the retry (the chat's order)
        assert sum("Done. We deleted all your data." in text for text in arta.texts()) == 1
        assert await bot.user_row(arta) is None
    finally:
        await bot.stop()


async def _resolve(bot: BotHarness, case_id: int) -> None:
    """Staff resolve the case (what the workspace does), the reporter told after the commit."""
    async with unit_of_work(bot.app.services) as scope:
        case = await scope.session.get(Case, case_id)
        assert case is not None
        await case_rules.change_status(
            scope.session,
            case,
            CaseStatus.RESOLVED,
            public_note=None,
            actor_user_id=None,
            now=bot.clock.now(),
        )
        await notices.status_changed(bot.app.services, scope.session, case, None)


async def test_commit_failure_confirms_no_reopening_and_keeps_the_case_resolved(
    fake, database_url, fail_commit
) -> None:
    bot = await _start(fake, database_url)
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await _fill_report(arta)
        await arta.press("📨 Send")
        [case] = await _cases(bot)
        await _resolve(bot, case.id)
        notices = len(await _outbox(bot, "staff_notice"))
        left = fail_commit(lambda row: isinstance(row, CaseEvent) and row.kind == "reopened")
        await arta.press_data(f"cs:fu:{case.id}:no", message_id=arta.last.message_id)

        assert left["count"] == 0, "the commit of the answer failed"
        assert not arta.seen("The case is reopened"), (
            "no reopening is confirmed that did not happen"
        )
        [case] = await _cases(bot)
        assert case.status == CaseStatus.RESOLVED
        async with bot.app.services.sessions() as session:
            kinds = (
                await session.execute(select(CaseEvent.kind).where(CaseEvent.case_id == case.id))
            ).scalars()
            assert not {"followup_no", "reopened"} & set(kinds), "no answer stored"
        assert len(await _outbox(bot, "staff_notice")) == notices, "the team is not told"

        # The inbox tries the press again: the case is reopened then, confirmed once.
        await fake.wait_until(lambda: arta.seen("The case is reopened"), timeout=10)
        await arta.command("/help")  # handled after the retry (the chat's order)
        assert sum("The case is reopened" in text for text in arta.texts()) == 1
        [case] = await _cases(bot)
        assert case.status == CaseStatus.UNDER_REVIEW
    finally:
        await bot.stop()


async def _named_case_with_worker(bot: BotHarness) -> tuple[Person, Person]:
    """Arta's named case, taken by a caseworker who opened it privately."""
    admin = _person(bot, ADMIN, "Ledi")
    await admin.command("/staff", args=f"grant {WORKER} caseworker Besnik")
    worker = _person(bot, WORKER, "Besnik")
    await worker.command("/start")
    arta = bot.person(language_code="en", first_name="Arta")
    await onboard_english(arta)
    await _fill_report(arta)
    await arta.press("📨 Send")
    group = bot.fake.group(chat_id=STAFF)
    card = next(m for m in group.messages if "PACT-2026-00001" in (m.text or ""))
    [label] = [x for x in card.labels if card.button_data(x).startswith("stf:priv:")]
    await bot.settle(await group.press(worker.fake, label, message=card))
    return arta, worker


async def test_staff_reply_reaches_the_reporter_once_after_the_commit(
    fake, database_url, fail_commit
) -> None:
    bot = await _start(fake, database_url)
    try:
        arta, worker = await _named_case_with_worker(bot)
        left = fail_commit(lambda row: isinstance(row, CaseEvent) and row.kind == "staff_reply")
        await worker.press("✉️ Reply")
        await worker.text("Which pole number is it?")
        assert left["count"] == 0, "the commit of the reply failed"
        assert not arta.seen("Which pole number is it?"), "nothing relayed that is not stored"
        assert not worker.seen("Sent to the reporter of PACT-2026-00001")
        assert await _outbox(bot, "relay") == []

        # The inbox tries the message again: the reply is stored and relayed then, once.
        await fake.wait_until(lambda: worker.seen("Sent to the reporter of PACT-2026-00001"), 10)
        await worker.command("/help")  # handled after the retry (the chat's order)
        await delivery.sender_of(bot.app).run()  # a later pass sends nothing twice
        assert sum("Which pole number is it?" in text for text in arta.texts()) == 1
        [relay] = await _outbox(bot, "relay")
        assert relay.status == "sent" and relay.sent_at is not None and relay.payload is None
        async with bot.app.services.sessions() as session:
            reporter = (
                await session.execute(select(User).where(User.telegram_id == arta.fake.user_id))
            ).scalar_one()
        assert relay.user_id == reporter.id and relay.chat_id == arta.fake.user_id
    finally:
        await bot.stop()


async def test_a_relay_refused_by_the_reporter_marks_only_the_reporter(fake, database_url) -> None:
    bot = await _start(fake, database_url)
    try:
        arta, worker = await _named_case_with_worker(bot)
        fake.state.chats[arta.fake.user_id].blocked = True
        await worker.press("✉️ Reply")
        await worker.text("Which pole number is it?")
        assert worker.seen("Sent to the reporter of PACT-2026-00001"), "the reply is stored"
        [relay] = await _outbox(bot, "relay")
        assert relay.status == "failed" and relay.error == "blocked"
        reporter = await bot.user_row(arta)
        staff_member = await bot.user_row(worker)
        assert reporter is not None and reporter.blocked_at is not None, "their own chat refused"
        assert staff_member is not None and staff_member.blocked_at is None
    finally:
        await bot.stop()


async def test_effects_run_in_order_after_the_commit_and_never_after_a_rollback(
    bot: BotHarness,
) -> None:
    seen: list[str] = []

    async def note(name: str) -> None:
        """An effect that records it ran."""
        seen.append(name)

    async def refused() -> None:
        """An effect Telegram refuses."""
        raise NetworkError("Bad Gateway")

    async with unit_of_work(bot.app.services) as scope:
        scope.effects += [lambda: note("first"), refused, lambda: note("second")]
        scope.after_rollback.append(lambda: seen.append("rolled back"))
        assert seen == [], "nothing before the commit"
    assert seen == ["first", "second"], "in order; a refused one neither stops nor raises"

    seen.clear()
    async with unit_of_work(bot.app.services) as scope:
        scope.effects.append(lambda: note("after a failure"))
        scope.after_rollback.append(lambda: seen.append("rolled back"))
        scope.fail()
    with pytest.raises(ValueError):
        async with unit_of_work(bot.app.services) as scope:
            scope.effects.append(lambda: note("after an error"))
            scope.after_rollback.append(lambda: seen.append("rolled back again"))
            raise ValueError("a handler failed")
    assert seen == ["rolled back", "rolled back again"]


async def test_a_failed_commit_is_retried_before_the_chats_later_updates(
    fake, database_url, fail_commit
) -> None:
    bot = await _start(fake, database_url)
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await _fill_report(arta)
        left = fail_commit(lambda row: isinstance(row, Case))
        press = await arta.fake.press("📨 Send")
        await bot.fake.wait_delivered(press)
        await fake.wait_until(lambda: left["count"] == 0, timeout=10)
        await arta.command("/help")  # typed while the press waits for its retry

        texts = arta.texts()
        assert sum(SENT in text for text in texts) == 1, "the retry stored and confirmed it"
        sent_at = next(i for i, text in enumerate(texts) if SENT in text)
        help_at = max(i for i, text in enumerate(texts) if "PACT Civic Bot" in text)
        assert sent_at < help_at, "the chat's order held: the press before the later /help"
        assert [c.reference for c in await _cases(bot)] == ["PACT-2026-00001"]
    finally:
        await bot.stop()
