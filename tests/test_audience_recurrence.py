"""Audience filters on a real database, recurring schedules, and the composer's input rules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.campaigns.services import audience, recurrence
from bot.campaigns.services import composer_rules as broadcast_drafts
from bot.campaigns.services.recurrence import Recurrence
from bot.kit import moments
from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import (
    Authority,
    Broadcast,
    Consent,
    Event,
    EventRsvp,
    OutboxMessage,
    Poll,
    PollVote,
    Subscription,
    User,
)
from tests.databases import backends, fresh_database

TIRANA = ZoneInfo("Europe/Tirane")
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


def local(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=TIRANA)


def test_weekly_keeps_the_weekday_and_the_local_time_across_daylight_saving() -> None:
    start = local("2027-03-22 10:00")  # a Monday, before the clocks change on 28 March
    assert recurrence.first(start, Recurrence.WEEKLY, 0, TIRANA) == start
    after = recurrence.following(start, Recurrence.WEEKLY, 0, TIRANA)
    assert after.astimezone(TIRANA).isoformat() == "2027-03-29T10:00:00+02:00"
    first = recurrence.first(local("2026-11-25 09:00"), Recurrence.WEEKLY, 0, TIRANA)
    assert first == local("2026-11-30 09:00")


def test_monthly_on_the_31st_falls_on_short_months_last_day_then_returns() -> None:
    start = local("2027-01-31 18:00")
    feb = recurrence.following(start, Recurrence.MONTHLY, 31, TIRANA)
    mar = recurrence.following(feb, Recurrence.MONTHLY, 31, TIRANA)
    assert (feb.date().isoformat(), mar.date().isoformat()) == ("2027-02-28", "2027-03-31")
    dec = recurrence.following(local("2026-12-15 08:30"), Recurrence.MONTHLY, 15, TIRANA)
    assert dec == local("2027-01-15 08:30")


def test_missed_occurrences_are_not_caught_up() -> None:
    previous = local("2026-11-02 10:00")
    now = local("2026-11-23 12:00")
    assert recurrence.next_after(previous, now, Recurrence.WEEKLY, 0, TIRANA) == local(
        "2026-11-30 10:00"
    )


def test_link_and_moment_parsing() -> None:
    assert broadcast_drafts.parse_link("Lexo më shumë https://pact.al/a?b=1") == (
        broadcast_drafts.Link("Lexo më shumë", "https://pact.al/a?b=1")
    )
    assert broadcast_drafts.parse_link("https://pact.al") is None
    assert broadcast_drafts.parse_link("Read ftp://x") is None
    assert broadcast_drafts.parse_link("x" * 41 + " https://pact.al") is None
    assert moments.parse_local("2026-12-01 10:00", TIRANA) == local("2026-12-01 10:00")
    assert moments.parse_local("tomorrow", TIRANA) is None
    assert broadcast_drafts.recur_day(local("2026-12-01 10:00"), Recurrence.WEEKLY, TIRANA) == 1
    assert broadcast_drafts.recur_day(local("2026-12-01 10:00"), Recurrence.MONTHLY, TIRANA) == 1


@pytest.fixture(params=backends())
async def sessions(request: pytest.FixtureRequest, tmp_path: Path):
    engine = create_engine(await fresh_database(request.param, tmp_path))
    await migrate.upgrade(engine)
    yield create_sessionmaker(engine)
    await engine.dispose()


PEOPLE = [
    # telegram id, language, age band, role, topics, municipality index, consent, blocked
    (1, "sq", "18_29", "activist", ["youth", "polls"], 0, True, False),
    (2, "en", "30_plus", "citizen", ["services"], 1, True, False),
    (3, None, "16_17", "activist", ["youth"], None, True, False),
    (4, "sq", "18_29", "citizen", ["youth"], 0, False, False),
    (5, "sq", "18_29", "citizen", ["youth"], 0, True, True),
    (6, "en", "18_29", "activist", ["hearings", "youth"], 2, True, False),
]


async def _people(sessions) -> tuple[dict[int, int], list[int]]:
    async with sessions() as session, session.begin():
        towns = [
            Authority(
                kind="municipality",
                name=name,
                qark=region,
                in_programme=True,
                created_at=NOW,
                updated_at=NOW,
            )
            for name, region in (("Shkodër", "Shkodër"), ("Pukë", "Shkodër"), ("Kukës", "Kukës"))
        ]
        session.add_all(towns)
        await session.flush()
        ids = {}
        for tid, lang, age, role, topics, town, consent, blocked in PEOPLE:
            user = User(
                telegram_id=tid,
                language=lang,
                age_band=age,
                role=role,
                blocked_at=NOW if blocked else None,
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(user)
            await session.flush()
            if consent:
                session.add(
                    Consent(user_id=user.id, purpose="campaigns", notice_version="1", given_at=NOW)
                )
            session.add(
                Subscription(
                    user_id=user.id,
                    topics=topics,
                    municipality_id=None if town is None else towns[town].id,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            ids[tid] = user.id
        return ids, [town.id for town in towns]


async def _reached(sessions, ids: dict[int, int], who: audience.Audience) -> set[int]:
    back = {user_id: tid for tid, user_id in ids.items()}
    async with sessions() as session:
        found = {
            back[user_id] for user_id in (await session.execute(audience.recipients(who))).scalars()
        }
        assert await audience.count(session, who) == len(found)
    return found


async def test_filters_combine_and_respect_consent_and_blocking(sessions) -> None:
    ids, towns = await _people(sessions)
    reach = lambda **kw: _reached(sessions, ids, audience.Audience(**kw))  # noqa: E731
    assert await reach(topics=("youth",)) == {1, 3, 6}
    assert await reach(topics=("youth", "services")) == {1, 2, 3, 6}
    assert await reach(topics=("youth",), municipality_ids=(towns[0],)) == {1, 3}, (
        "people following all municipalities are in every municipality's audience"
    )
    assert await reach(topics=("youth",), municipality_ids=(towns[0], towns[1])) == {1, 3}
    assert await reach(topics=("youth",), roles=("activist",), age_bands=("18_29",)) == {1, 6}
    assert await reach(topics=("youth",), languages=("sq",)) == {1, 3}, "no language = Albanian"
    assert await reach(topics=("youth",), languages=("en",)) == {6}
    assert await reach() == {1, 2, 3, 6}


async def test_event_and_poll_audiences_and_outbox_filled_once(sessions) -> None:
    ids, towns = await _people(sessions)
    async with sessions() as session, session.begin():
        event = Event(title="Dëgjesë", place="Bashkia", starts_at=NOW, created_at=NOW)
        poll = Poll(question_sq="?", options=[{"sq": "Po"}, {"sq": "Jo"}], created_at=NOW)
        session.add_all([event, poll])
        await session.flush()
        session.add_all(
            [
                EventRsvp(event_id=event.id, user_id=ids[1], attending=True, responded_at=NOW),
                EventRsvp(event_id=event.id, user_id=ids[2], attending=False, responded_at=NOW),
                EventRsvp(event_id=event.id, user_id=ids[4], attending=True, responded_at=NOW),
                PollVote(poll_id=poll.id, user_id=ids[2], option=0, voted_at=NOW),
                PollVote(poll_id=poll.id, user_id=ids[6], option=1, voted_at=NOW),
            ]
        )
        event_id, poll_id = event.id, poll.id
    assert await _reached(sessions, ids, audience.Audience(event_id=event_id)) == {1}
    assert await _reached(sessions, ids, audience.Audience(poll_id=poll_id)) == {2, 6}
    async with sessions() as session, session.begin():
        broadcast = Broadcast(
            title="t",
            text_sq="t",
            topic="youth",
            municipality_ids=[towns[0]],
            audience={"roles": ["activist"]},
            status="scheduled",
            send_at=NOW,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(broadcast)
        await session.flush()
        assert await audience.fill_outbox(session, broadcast, NOW) == 2
        assert await audience.fill_outbox(session, broadcast, NOW) == 0, "nobody twice"
        rows = (await session.execute(OutboxMessage.__table__.select())).all()
        assert sorted(row.user_id for row in rows) == sorted([ids[1], ids[3]])


async def test_a_region_follower_hears_about_each_of_its_municipalities(sessions) -> None:
    ids, towns = await _people(sessions)
    async with sessions() as session, session.begin():
        user = await session.get(User, ids[1])
        assert user is not None
        subscription = await session.get(Subscription, user.id)
        assert subscription is not None
        subscription.municipality_id, subscription.region = None, "Shkodër"
    reach = lambda **kw: _reached(sessions, ids, audience.Audience(**kw))  # noqa: E731
    assert await reach(topics=("youth",), municipality_ids=(towns[1],)) == {1, 3}, "Pukë"
    assert await reach(topics=("youth",), municipality_ids=(towns[2],)) == {3, 6}, "Kukës"
