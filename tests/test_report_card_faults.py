"""Report cards and the public site when things fail, on SQLite and PostgreSQL.

The database goes away (PostgreSQL: its connections cut at tests/db_proxy.py, the server itself
never touched; SQLite: its file moved aside): Send on the survey's summary gets the translated
apology, and once the database is back the kept draft is stored as exactly one response; the site
keeps serving the figures it last read (a process that never read them says they are being
prepared, 503) while /healthz says 503; the snapshot job fails without stopping its schedule and
the next run rebuilds the figures. Telegram refuses: the report-card invitation meets a subscriber
who blocked the bot and a 429, and everyone else gets it once, nobody twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.broadcasting import sender as delivery
from bot.campaigns.services import campaigns
from bot.core.jobs import send_broadcasts
from bot.core.webhook import start_http
from bot.reportcards.services import rounds
from bot.transparency import opendata, snapshot
from db.models import (
    Case,
    Consent,
    ConsentPurpose,
    PublicSnapshot,
    ReportCardAnswer,
    ReportCardResponse,
    ReportCardRound,
    Subscription,
    Topic,
    User,
)
from fakeapi import FakeTelegram, FakeUser, server
from fakeapi.errors import too_many_requests
from fakeapi.params import Params
from tests.db_proxy import DatabaseProxy
from tests.harness import BotHarness, Person
from tests.site_world import World, programme_towns
from tests.survey_steps import citizen, launch_round, open_survey, town_id

APOLOGY = "Sorry, we could not save this right now. Please try again in a few minutes."
FAST_TIMEOUTS = {"db_connect_timeout": 1.0, "db_pool_timeout": 1.0, "db_command_timeout": 2.0}
SEND = "✅ Send my answers"
THANKS = "Thank you! Your answers are stored."
SUGGESTION = "Më shumë kosha në lagjen Parrucë"
ANSWERS = {
    ("water", "used", 1),
    ("water", "availability", 4),
    ("water", "reliability", 3),
    ("water", "responsiveness", 5),
    ("water", "resolution", 1),
    ("water", "payment", 1),
    ("water", "satisfaction", 4),
    ("waste", "used", 0),
}
"""What `_answer_up_to_the_summary` answers ("Don't know" about quality stores nothing)."""
PAGES = (
    "/sq/",
    "/en/",
    "/en/m/shkoder",
    "/sq/m/shkoder",
    "/en/data",
    "/open-data/municipalities.csv",
    "/open-data/municipalities.json",
    "/open-data/report-cards.json",
    "/open-data/initiatives.csv",
)


class Outage:
    """The database away and back again, without touching the machine's PostgreSQL."""

    def __init__(self, database_url: str) -> None:
        self.sqlite = database_url.startswith("sqlite")
        self.proxy = None if self.sqlite else DatabaseProxy()
        self.database_url = database_url
        self.path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
        self.moved = self.path.with_name("away.sqlite3")

    async def start(self) -> str:
        """The URL the bot uses (PostgreSQL: through the proxy)."""
        if self.proxy is None:
            return self.database_url
        await self.proxy.start()
        return self.proxy.url(self.database_url)

    async def cut(self, harness: BotHarness, stall: bool = False) -> None:
        """PostgreSQL: connections dropped and refused (stall: a silent partition). SQLite: the
        open connections closed and a folder in the file's place, so nothing opens it."""
        if self.proxy is not None:
            await self.proxy.cut(stall=stall)
            return
        await harness.app.services.engine.dispose()
        self.path.rename(self.moved)
        self.path.mkdir()

    def restore(self) -> None:
        """Back again (idempotent)."""
        if self.proxy is not None:
            self.proxy.restore()
        elif self.moved.exists():
            if self.path.is_dir():
                self.path.rmdir()
            self.moved.rename(self.path)

    async def stop(self) -> None:
        """Back, and the proxy closed."""
        self.restore()
        if self.proxy is not None:
            await self.proxy.stop()


@pytest.fixture
async def outage(database_url: str) -> AsyncIterator[Outage]:
    """An outage maker for the test's database, always restored at the end."""
    made = Outage(database_url)
    yield made
    await made.stop()


# --- the survey's Send with the database away --------------------------------------------------


def _apologies(person: Person) -> int:
    return sum(APOLOGY in text for text in person.texts())


async def _answer_up_to_the_summary(person: Person, round_id: int) -> None:
    """Shkodër; water used (4, 3, Don't know, 5, within a week, asked but not paid, 4); waste
    not used; the suggestion: the summary with Send."""
    await open_survey(person, round_id)
    await person.press("Municipality of Shkodër")
    await person.press("Yes")
    for label in ("4 – good", "3 – fair", "Don't know", "5 – very good", "Within a week"):
        await person.press(label)
    await person.press("Yes, but I did not pay")
    await person.press("4 – good")
    await person.press("No")
    await person.text(SUGGESTION)


async def _responses(harness: BotHarness) -> list[tuple[ReportCardResponse, set[Any]]]:
    """Every stored response with its answers."""
    async with harness.app.services.sessions() as session:
        found = []
        for response in (await session.execute(select(ReportCardResponse))).scalars():
            answers = await session.execute(
                select(
                    ReportCardAnswer.service, ReportCardAnswer.question, ReportCardAnswer.value
                ).where(ReportCardAnswer.response_id == response.id)
            )
            rows = [tuple(row) for row in answers]
            assert len(rows) == len(set(rows)), "no answer twice"
            found.append((response, set(rows)))
        return found


async def test_send_with_the_database_away_apologises_and_the_draft_is_stored_once_back(
    fake: FakeTelegram, database_url: str, outage: Outage
) -> None:
    harness = BotHarness(fake, await outage.start(), **FAST_TIMEOUTS)
    await harness.start()
    try:
        round_id = await launch_round(harness)
        arta = await citizen(harness, "Arta")
        await _answer_up_to_the_summary(arta, round_id)
        summary = arta.last
        assert "Municipality: Shkodër" in summary.text and SEND in summary.labels
        before = len(arta.texts())

        await outage.cut(harness)
        presses = []
        for tries in (1, 2):  # Send, the apology, Send again: still away
            answered = len(arta.fake.callback_answers)
            presses.append(await arta.fake.press(SEND, message=summary))
            await fake.wait_until(lambda n=tries: _apologies(arta) >= n, timeout=10)
            await fake.wait_until(lambda n=answered: len(arta.fake.callback_answers) > n, 10)
        assert arta.texts()[before:] == [APOLOGY, APOLOGY], "the apology each time, nothing else"
        assert SEND in summary.labels, "the summary and its buttons stay"

        outage.restore()
        # Neither press was confirmed to Telegram (never stored): both come again and are handled
        # now, in order: the first stores the kept draft, the second finds the survey finished.
        for update_id in presses:
            await harness.settle(update_id)
        [(response, answers)] = await _responses(harness)
        assert answers == ANSWERS, "every answer given before the outage"
        assert response.suggestion == SUGGESTION
        assert response.municipality_id == await town_id(harness, "Shkodër")
        assert sum(THANKS in text for text in arta.texts()) == 1
        assert _apologies(arta) == 2 and not arta.seen("Sorry, something went wrong")

        await open_survey(arta, round_id)  # opened again: the stored answers, at the summary
        assert arta.seen("You answered this report card on")
        assert "Suggestion: " + SUGGESTION in arta.last.text
        assert len(await _responses(harness)) == 1
    finally:
        outage.restore()
        await harness.stop()


# --- the public site and its snapshot job with the database away -------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Site:
    """The bot serving HTTP on HEALTH_PORT (so it runs the snapshot job), and a client."""

    harness: BotHarness
    port: int
    http: aiohttp.ClientSession

    async def get(self, path: str, port: int | None = None) -> tuple[int, str]:
        """Status and body (redirects not followed)."""
        url = f"http://127.0.0.1:{port or self.port}{path}"
        async with self.http.get(url, allow_redirects=False) as response:
            return response.status, await response.text()

    async def shkoder_received(self) -> int | None:
        """Shkodër's complaints received, as the open data gives them."""
        status, body = await self.get("/open-data/municipalities.json")
        assert status == 200, body
        [town] = [
            r
            for r in json.loads(body)["records"]
            if r["municipality"] == "shkoder" and r["category"] == opendata.ALL
        ]
        return town["cases_received"]

    def job(self) -> Any:
        """The snapshot's scheduled job."""
        assert self.harness.app.job_queue is not None
        [job] = self.harness.app.job_queue.get_jobs_by_name(snapshot.JOB)
        return job

    async def built_at(self) -> datetime | None:
        """When the stored figures were built."""
        async with self.harness.app.services.sessions() as session:
            row = await session.get(PublicSnapshot, snapshot.KEY)
            return row.built_at if row else None

    async def add_water_complaints(self, count: int) -> None:
        """Complaints about water in Shkodër, received now."""
        async with self.harness.app.services.sessions() as session, session.begin():
            world = World(session, await programme_towns(session), cases=await self._cases())
            await world.add_cases("Shkodër", "water", count, self.harness.clock.now())

    async def _cases(self) -> int:
        async with self.harness.app.services.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(Case))).scalar())


async def _first_build(site: Site) -> None:
    """Wait for the job's first run, at start-up (in the background)."""
    for _ in range(200):
        if await site.built_at() is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the snapshot job did not run at start-up")


@asynccontextmanager
async def _serving(fake: FakeTelegram, outage: Outage) -> AsyncIterator[Site]:
    """Serving, its first snapshot built by the start-up run of the job (12 complaints)."""
    port = _free_port()
    harness = BotHarness(
        fake, await outage.start(), health_port=port, webhook_listen="127.0.0.1", **FAST_TIMEOUTS
    )
    await harness.start()
    runner = await start_http(harness.app, harness.settings, port)
    try:
        async with aiohttp.ClientSession() as http:
            served = Site(harness, port, http)
            await _first_build(served)
            await served.add_water_complaints(12)
            await snapshot.rebuild(harness.app.services)
            yield served
    finally:
        outage.restore()
        await runner.cleanup()
        await harness.stop()


@pytest.fixture
async def site(fake: FakeTelegram, outage: Outage) -> AsyncIterator[Site]:
    """The site served (see _serving)."""
    async with _serving(fake, outage) as served:
        yield served


async def test_the_site_serves_the_last_figures_while_the_database_is_away(
    site: Site, outage: Outage
) -> None:
    before = {path: await site.get(path) for path in PAGES}
    assert all(status == 200 for status, _body in before.values()), before
    assert await site.shkoder_received() == 12
    assert (await site.get("/healthz"))[0] == 200

    await outage.cut(site.harness)
    for path, (_status, body) in before.items():
        assert await site.get(path) == (200, body), f"{path}: the figures last read"
    status, body = await site.get("/healthz")
    assert status == 503 and "database unavailable" in body
    assert (await site.get("/en/m/nowhere"))[0] == 404

    # A process that never read the figures (started during the outage) says so, translated.
    port = _free_port()
    cold = await start_http(site.harness.app, site.harness.settings, port)
    try:
        for path, words in (("/sq/", "Shifrat po përgatiten"), ("/en/", "being prepared")):
            status, body = await site.get(path, port)
            assert status == 503 and words in body and "Traceback" not in body, (path, body)
        assert (await site.get("/open-data/municipalities.json", port))[0] == 503
    finally:
        await cold.cleanup()

    outage.restore()
    assert (await site.get("/healthz"))[0] == 200
    assert await site.get("/en/m/shkoder") == before["/en/m/shkoder"]


async def test_in_a_partition_pages_wait_only_the_database_timeouts_then_serve_the_last_figures(
    fake: FakeTelegram, outage: Outage
) -> None:
    """PostgreSQL silent (nothing refused, nothing answered): a page view waits for the pooled
    connection's statement or a new connection's timeout, then serves the figures last read."""
    if outage.sqlite:
        pytest.skip("SQLite has no connection to partition (the file outage is tested above)")
    async with _serving(fake, outage) as site:
        path = "/en/m/shkoder"
        before = await site.get(path)
        assert before[0] == 200
        await outage.cut(site.harness, stall=True)
        loop = asyncio.get_running_loop()
        for _ in range(2):  # first on a pooled connection, then on a new one
            began = loop.time()
            assert await site.get(path) == before
            # the statement's timeout, then its connection's release timing out too: 4 s here
            assert loop.time() - began < 2 * FAST_TIMEOUTS["db_command_timeout"] + 2
        outage.restore()
        assert await site.get(path) == before


async def test_a_failed_snapshot_run_keeps_the_schedule_and_the_next_run_rebuilds(
    site: Site, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    """The job run as the job queue runs it; PostgreSQL's cut is a silent partition here, so
    only the database timeouts end the failed run (a run hanging on would hold the schedule)."""
    caplog.set_level(logging.WARNING)
    job = site.job()
    built = await site.built_at()
    assert await site.shkoder_received() == 12
    await site.add_water_complaints(3)
    site.harness.clock.advance(timedelta(minutes=15))

    await outage.cut(site.harness, stall=True)
    async with asyncio.timeout(20):
        await job.run(site.harness.app)
    assert "could not rebuild the public site figures" in caplog.text
    assert site.job() is job and not job.removed and job.next_t is not None, "still scheduled"
    assert await site.shkoder_received() == 12, "meanwhile the figures last read"

    outage.restore()
    assert await site.built_at() == built, "the failed run stored nothing"
    site.harness.clock.advance(timedelta(minutes=15))
    await job.run(site.harness.app)
    assert await site.built_at() == site.harness.clock.now()
    assert await site.shkoder_received() == 15, "rebuilt with what came in meanwhile"


# --- the invitation broadcast meeting Telegram's refusals --------------------------------------

FIRST = 40_000


async def _poll_subscribers(harness: BotHarness, count: int) -> list[FakeUser]:
    """People with consent (c) following "Polls and surveys" everywhere, written directly."""
    now = harness.clock.now()
    people = []
    async with harness.app.services.sessions() as session, session.begin():
        for number in range(FIRST, FIRST + count):
            people.append(harness.fake.user(user_id=number, language_code="en"))
            user = User(
                telegram_id=number,
                language="en",
                onboarded_at=now,
                created_at=now,
                updated_at=now,
            )
            session.add(user)
            await session.flush()
            session.add(
                Consent(
                    user_id=user.id,
                    purpose=ConsentPurpose.CAMPAIGNS,
                    notice_version="test",
                    given_at=now,
                )
            )
            session.add(
                Subscription(
                    user_id=user.id, topics=[Topic.POLLS.value], created_at=now, updated_at=now
                )
            )
    return people


def _limit_once(monkeypatch: pytest.MonkeyPatch, chat_id: int, retry_after: int) -> list[int]:
    """The fake answers the first sendMessage to one chat with 429 (flood control for that
    chat), the later ones as usual; the chats refused so far."""
    refused: list[int] = []
    real = server.lookup

    def lookup(name: str) -> Any:
        found = real(name)
        if found is None or found[0] != "sendMessage":
            return found
        canonical, handler = found

        async def limited(fake: FakeTelegram, params: Params) -> Any:
            if str(params.get("chat_id")) == str(chat_id) and not refused:
                refused.append(chat_id)
                raise too_many_requests(retry_after)
            return await handler(fake, params)

        return canonical, limited

    monkeypatch.setattr(server, "lookup", lookup)
    return refused


async def test_the_invitation_reaches_everyone_once_past_a_blocked_subscriber_and_a_429(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await _poll_subscribers(bot, 6)
    blocked, limited = people[1], people[3]
    blocked.chat.blocked = True
    refused = _limit_once(monkeypatch, limited.user_id, retry_after=3)
    sender = delivery.sender_of(bot.app)
    waited = [0.0]

    async def sleep(seconds: float) -> None:  # the 429's pause, on a virtual clock
        waited[0] += seconds

    sender.clock, sender.sleep = (lambda: waited[0]), sleep
    round_id = await launch_round(bot, launched=False)
    async with bot.app.services.sessions() as session, session.begin():
        launched = await rounds.launch(
            session,
            round_id,
            title="Karta e qytetarëve 2026",
            text_sq="Si funksionojnë shërbimet e bashkisë? Na tregoni.",
            text_en="How do the municipality's services work? Tell us.",
            by_user_id=None,
            now=bot.clock.now(),
            tz=bot.settings.tz,
        )
        invitation = launched.invitation_broadcast_id
    assert invitation is not None

    assert await send_broadcasts(bot.app) == 5
    assert refused == [limited.user_id] and waited[0] >= 3, "the 429 was waited out"
    assert await send_broadcasts(bot.app) == 0, "nothing left to send"
    got = [sum("Tell us." in (m.text or "") for m in person.messages) for person in people]
    assert got == [1, 0, 1, 1, 1, 1]
    sends = [
        call.params.get("chat_id")
        for call in bot.fake.calls_to("sendMessage")
        if call.ok and "Tell us." in str(call.params.get("text"))
    ]
    assert sorted(int(chat) for chat in sends) == sorted(
        p.user_id for p in people if p is not blocked
    ), "each accepted message once: nothing sent twice"
    async with bot.app.services.sessions() as session:
        assert await campaigns.counts(session, invitation) == {"sent": 5, "failed": 1}
        marked = await session.execute(select(User.telegram_id).where(User.blocked_at.is_not(None)))
        assert list(marked.scalars()) == [blocked.user_id], "the blocked one is marked"
        stored = await session.get(ReportCardRound, round_id)
        assert stored is not None and stored.closed_at is None

    opener = Person(bot, limited)  # the invitation held back by the 429 works as any other
    await opener.press("📋 Fill in the report card")
    assert "To answer the report card, please agree to the privacy notice first" in opener.last.text
