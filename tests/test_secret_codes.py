"""Secret codes of anonymous cases: one refusal, tries limited per person, hashing off the loop.

Unknown numbers, wrong codes and too many tries all get the same answer; a stranger's wrong
tries lock out only the stranger, never the reporter; a person who tries many cases is stopped
across all of them for an hour; scrypt never runs on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cases.services import case_rules
from bot.core import jobs
from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import CaseKind, Identification, User
from db.repositories import users as users_repo
from tests.databases import backends, fresh_database
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
PER_CASE = 5
PER_PERSON = 10


async def _anonymous_case(bot: BotHarness) -> tuple[str, str]:
    """An anonymous corruption report stored as the report flow stores it: reference and code."""
    async with bot.app.services.sessions() as session, session.begin():
        created = await case_rules.create(
            session,
            case_rules.NewCase(
                kind=CaseKind.CORRUPTION,
                identification=Identification.ANONYMOUS,
                description="An official asked for money.",
                institution="Urban planning office",
            ),
            None,
            bot.clock.now(),
        )
    assert created.secret_code is not None
    return created.case.reference, created.secret_code


async def _check(person: Person, reference: str, code: str) -> str:
    """My cases → Check a case, type the number and the code; the answer's text."""
    await person.command("/menu")
    await person.press("📂 My cases")
    await person.press("🔎 Check a case")
    await person.text(reference)
    await person.text(code)
    return person.last.text


async def _citizen(bot: BotHarness, name: str) -> Person:
    person = bot.person(language_code="en", first_name=name)
    await onboard_english(person)
    return person


async def test_unknown_wrong_and_locked_get_one_and_the_same_answer(bot: BotHarness) -> None:
    reference, code = await _anonymous_case(bot)
    cira = await _citizen(bot, "Cira")
    unknown = await _check(cira, "PACT-2026-09999", code)
    not_anonymous = await _check(cira, "PACT-2025-00001", "AAAA-AAAA")
    wrong = await _check(cira, reference, "AAAA-AAAA")
    for _ in range(PER_CASE):
        locked = await _check(cira, reference, "BBBB-BBBB")
    right_while_locked = await _check(cira, reference, code)
    assert "Corruption report" not in right_while_locked, "the lock holds for her"
    assert unknown == not_anonymous == wrong == locked == right_while_locked
    assert reference not in unknown and "locked" not in unknown.lower()


async def test_a_stranger_cannot_lock_out_the_reporter(bot: BotHarness) -> None:
    reference, code = await _anonymous_case(bot)
    cira = await _citizen(bot, "Cira")
    for _ in range(PER_CASE + 2):
        refused = await _check(cira, reference, "AAAA-AAAA")
    assert "Corruption report" not in refused
    besa = await _citizen(bot, "Besa")
    shown = await _check(besa, reference.lower(), code.lower())
    assert reference in shown and "Corruption report" in shown and "received" in shown


async def test_many_cases_tried_by_one_person_stop_them_for_an_hour(bot: BotHarness) -> None:
    first, _ = await _anonymous_case(bot)
    second, _ = await _anonymous_case(bot)
    own, own_code = await _anonymous_case(bot)
    cira = await _citizen(bot, "Cira")
    tries = [first] * (PER_CASE - 1) + [second] * (PER_CASE - 1) + ["PACT-2026-09999"] * 2
    assert len(tries) == PER_PERSON
    for reference in tries:
        await _check(cira, reference, "AAAA-AAAA")
    refused = await _check(cira, own, own_code)
    assert "Corruption report" not in refused, "after ten wrong tries every case refuses"
    bot.clock.advance(timedelta(minutes=61))
    assert "Corruption report" in await _check(cira, own, own_code), "an hour later it works"


async def _code_attempts(bot: BotHarness) -> int:
    from db.models import CodeAttempt

    async with bot.app.services.sessions() as session:
        return int(
            (await session.execute(select(func.count()).select_from(CodeAttempt))).scalar_one()
        )


async def test_the_scheduled_tick_forgets_tries_after_an_hour(bot: BotHarness) -> None:
    """Nobody checks a code again: the job that runs every REMINDER_POLL_SECONDS still drops a
    try past its hour, even between the daily purges."""
    reference, _ = await _anonymous_case(bot)
    await jobs.purge_stale_drafts(bot.app)  # the first run ever: today's daily purge is done
    cira = await _citizen(bot, "Cira")
    await _check(cira, reference, "AAAA-AAAA")
    assert await _code_attempts(bot) == 1
    bot.clock.advance(timedelta(minutes=59))
    await jobs.purge_stale_drafts(bot.app)
    assert await _code_attempts(bot) == 1, "it counts for its hour"
    bot.clock.advance(timedelta(minutes=2))
    assert await jobs.purge_stale_drafts(bot.app) == 0, "the daily purge is not due"
    assert await _code_attempts(bot) == 0, "yet the try no longer links her to the case"


async def test_the_download_never_tells_which_number_is_an_anonymous_case(
    bot: BotHarness,
) -> None:
    """/mydata lists wrong tries as moments only: a case reference there would tell whether the
    number tried is an anonymous case, which the one refusal text keeps from everyone."""
    reference, _ = await _anonymous_case(bot)
    cira = await _citizen(bot, "Cira")
    await _check(cira, reference, "AAAA-AAAA")
    await _check(cira, "PACT-2026-09999", "AAAA-AAAA")
    await cira.command("/mydata")
    document = next(m for m in reversed(cira.messages) if m.document).document
    raw = document["content"].decode("utf-8")
    assert reference not in raw and "PACT-2026-09999" not in raw
    tries = json.loads(raw)["secret_code_tries"]
    assert tries == [bot.clock.now().isoformat()] * 2, "two moments, alike whatever was tried"


# --- service level: hashing off the event loop, rows keyed by the person ----------------------


@pytest.fixture(params=backends())
async def sessions(request: pytest.FixtureRequest, tmp_path: Path):
    engine = create_engine(await fresh_database(request.param, tmp_path))
    await migrate.upgrade(engine)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def test_scrypt_runs_off_the_event_loop(sessions, monkeypatch) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    scrypt = hashlib.scrypt

    def watched(*args, **kwargs):
        threads.append(threading.get_ident())
        return scrypt(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", watched)
    async with sessions() as session, session.begin():
        created = await case_rules.create(
            session,
            case_rules.NewCase(
                kind=CaseKind.SERVICE, identification=Identification.ANONYMOUS, description="x"
            ),
            None,
            NOW,
        )
    assert threads and loop_thread not in threads, "hashing the new code left the loop"
    threads.clear()
    async with sessions() as session, session.begin():
        user = User(telegram_id=77, created_at=NOW, updated_at=NOW, consents=[])
        session.add(user)
        await session.flush()
        found = await case_rules.lookup(
            session, created.case.reference, created.secret_code, user, NOW
        )
        assert found.id == created.case.id
    assert threads and loop_thread not in threads, "checking a code left the loop"
    assert asyncio.get_running_loop() is not None


async def test_wrong_tries_are_kept_by_person_and_go_with_their_erasure(sessions) -> None:
    from db.models import CodeAttempt

    async with sessions() as session, session.begin():
        created = await case_rules.create(
            session,
            case_rules.NewCase(
                kind=CaseKind.SERVICE, identification=Identification.ANONYMOUS, description="x"
            ),
            None,
            NOW,
        )
        user = User(telegram_id=78, created_at=NOW, updated_at=NOW, consents=[])
        session.add(user)
    for reference in (created.case.reference, "PACT-2026-09999"):
        async with sessions() as session, session.begin():
            with pytest.raises(case_rules.LookupRefusedError):
                await case_rules.lookup(session, reference, "AAAA-AAAA", user, NOW)
    async with sessions() as session:
        rows = (await session.execute(select(CodeAttempt))).scalars().all()
        assert {(r.user_id, r.case_id) for r in rows} == {
            (user.id, created.case.id),
            (user.id, None),
        }
    async with sessions() as session, session.begin():
        await users_repo.delete(session, await session.get(User, user.id))
    async with sessions() as session:
        count = (await session.execute(select(func.count()).select_from(CodeAttempt))).scalar()
        assert count == 0, "erasing the person erases their tries"


async def test_no_try_links_an_account_to_a_case_longer_than_it_counts(sessions) -> None:
    from db.models import CodeAttempt

    async with sessions() as session, session.begin():
        created = await case_rules.create(
            session,
            case_rules.NewCase(
                kind=CaseKind.SERVICE, identification=Identification.ANONYMOUS, description="x"
            ),
            None,
            NOW,
        )
        besa = User(telegram_id=79, created_at=NOW, updated_at=NOW, consents=[])
        cira = User(telegram_id=80, created_at=NOW, updated_at=NOW, consents=[])
        session.add_all([besa, cira])
    reference, code = created.case.reference, created.secret_code

    async def attempt(user: User, typed: str, at: datetime) -> None:
        async with sessions() as session, session.begin():
            try:
                await case_rules.lookup(session, reference, typed, user, at)
            except case_rules.LookupRefusedError:
                pass

    async def links() -> set[tuple[int, int | None]]:
        async with sessions() as session:
            rows = (await session.execute(select(CodeAttempt))).scalars().all()
            return {(r.user_id, r.case_id) for r in rows}

    await attempt(besa, "AAAA-AAAA", NOW)
    assert await links() == {(besa.id, created.case.id)}
    await attempt(besa, code, NOW + timedelta(minutes=1))
    assert await links() == set(), "the right code removes her wrong tries on her case"

    await attempt(cira, "AAAA-AAAA", NOW)
    await attempt(besa, "BBBB-BBBB", NOW + timedelta(minutes=61))
    assert await links() == {(besa.id, created.case.id)}, "an hour on, anyone's check prunes"
