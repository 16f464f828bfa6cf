"""Case rules on a real database: references under concurrency, codes, lookups, identities."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cases.services import case_rules as cases
from bot.cases.services import secret_codes as case_codes
from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import Case, CaseContact, CaseCounter, CaseKind, Identification, User
from db.repositories import case_numbers
from tests.databases import backends, fresh_database

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.fixture(params=backends())
async def sessions(request: pytest.FixtureRequest, tmp_path: Path):
    engine = create_engine(await fresh_database(request.param, tmp_path))
    await migrate.upgrade(engine)
    yield create_sessionmaker(engine)
    await engine.dispose()


def _new(identification: Identification) -> cases.NewCase:
    return cases.NewCase(
        kind=CaseKind.SERVICE,
        identification=identification,
        description="Street lights broken for two weeks.",
        category="lighting",
    )


async def _user(sessions, telegram_id: int) -> User:
    async with sessions() as session, session.begin():
        user = User(telegram_id=telegram_id, created_at=NOW, updated_at=NOW, consents=[])
        session.add(user)
    return user


async def test_references_are_unique_and_sequential_under_concurrency(sessions) -> None:
    async def submit() -> str:
        async with sessions() as session, session.begin():
            created = await cases.create(session, _new(Identification.ANONYMOUS), None, NOW)
            return created.case.reference

    references = await asyncio.gather(*(submit() for _ in range(50)))
    assert sorted(references) == [f"PACT-2026-{n:05d}" for n in range(1, 51)]
    async with sessions() as session, session.begin():
        next_year = await cases.create(
            session, _new(Identification.ANONYMOUS), None, NOW.replace(year=2027)
        )
    assert next_year.case.reference == "PACT-2027-00001"


async def test_numbers_continue_from_the_counter_and_a_rollback_leaves_at_most_a_gap(
    sessions,
) -> None:
    async with sessions() as session, session.begin():
        session.add(CaseCounter(year=2030, last=41))
    when = NOW.replace(year=2030)
    async with sessions() as session:
        await cases.create(session, _new(Identification.ANONYMOUS), None, when)
        await session.rollback()
    async with sessions() as session, session.begin():
        created = await cases.create(session, _new(Identification.ANONYMOUS), None, when)
    number = int(created.case.reference.rsplit("-", 1)[1])
    assert number in (42, 43), "after the counter; the rolled-back number is not given again"
    async with sessions() as session:
        assert await case_numbers.last_number(session, 2030) == number


async def test_identification_modes_store_the_link_only_where_they_should(sessions) -> None:
    arta = await _user(sessions, 1)
    async with sessions() as session, session.begin():
        named = (await cases.create(session, _new(Identification.NAMED), arta, NOW)).case
        confidential = (
            await cases.create(session, _new(Identification.CONFIDENTIAL), arta, NOW)
        ).case
        anonymous = await cases.create(session, _new(Identification.ANONYMOUS), arta, NOW)
    async with sessions() as session:
        assert (await session.get(Case, named.id)).reporter_user_id == arta.id
        stored = await session.get(Case, confidential.id)
        assert stored.reporter_user_id is None
        contact = await session.get(CaseContact, confidential.id)
        assert contact.user_id == arta.id and len(contact.relay_code) >= 16
        hidden = await session.get(Case, anonymous.case.id)
        assert hidden.reporter_user_id is None
        assert await session.get(CaseContact, hidden.id) is None
        assert anonymous.secret_code and anonymous.secret_code not in (hidden.secret_hash or "")
        mine = {c.id for c in await cases.for_user(session, arta)}
        assert mine == {named.id, confidential.id}


async def test_secret_code_lookup_with_a_limit_on_wrong_tries(sessions) -> None:
    besa = await _user(sessions, 2)
    async with sessions() as session, session.begin():
        created = await cases.create(session, _new(Identification.ANONYMOUS), None, NOW)
    reference, code = created.case.reference, created.secret_code
    assert code is not None
    async with sessions() as session, session.begin():
        found = await cases.lookup(
            session, reference.lower(), code.lower().replace("-", " "), besa, NOW
        )
        assert found.id == created.case.id
    for _ in range(case_codes.MAX_CODE_FAILURES):
        async with sessions() as session, session.begin():
            with pytest.raises(cases.LookupRefusedError):
                await cases.lookup(session, reference, "AAAA-AAAA", besa, NOW)
    async with sessions() as session, session.begin():
        with pytest.raises(cases.LookupRefusedError):
            await cases.lookup(session, reference, code, besa, NOW + timedelta(minutes=5))
    async with sessions() as session, session.begin():
        assert (await cases.lookup(session, reference, code, besa, NOW + timedelta(hours=2))).id


async def test_similar_open_cases_for_the_duplicate_offer(sessions) -> None:
    arta = await _user(sessions, 1)
    async with sessions() as session, session.begin():
        from db.models import Authority

        town = Authority(kind="municipality", name="Pukë", created_at=NOW, updated_at=NOW)
        session.add(town)
        await session.flush()
        made = {}
        for name, mode, age in (
            ("old", Identification.NAMED, 40),
            ("recent", Identification.NAMED, 3),
            ("anonymous", Identification.ANONYMOUS, 2),
            ("confidential", Identification.CONFIDENTIAL, 1),
        ):
            new = _new(mode)
            new.municipality_id = town.id
            reporter = None if mode is Identification.ANONYMOUS else arta
            made[name] = (
                await cases.create(session, new, reporter, NOW - timedelta(days=age))
            ).case
        town_id = town.id
    async with sessions() as session:
        found = await cases.similar_open(session, town_id, "lighting", NOW)
        assert [c.id for c in found] == [made["recent"].id], "named service cases only"
        assert await cases.similar_open(session, town_id, "lighting", NOW, arta) == [], (
            "never one's own case"
        )
        assert await cases.similar_open(session, town_id, "water", NOW) == []
    async with sessions() as session, session.begin():
        for day in (2, 1, 0):  # three newer ones, reported while the person was offered "recent"
            newer = _new(Identification.NAMED)
            newer.municipality_id = town_id
            await cases.create(session, newer, arta, NOW - timedelta(days=day))
    async with sessions() as session:
        offered = [made["recent"].id, made["anonymous"].id]
        assert [c.id for c in await cases.similar_open(session, town_id, "lighting", NOW)] != [
            made["recent"].id
        ], "the newest three"
        still = await cases.similar_open(session, town_id, "lighting", NOW, among=offered)
        assert [c.id for c in still] == [made["recent"].id], "what was offered, if it still may be"
        assert (await session.execute(select(Case))).scalars().all()
