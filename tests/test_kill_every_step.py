"""SIGKILL at every step of every flow, then a restart: nothing confirmed is lost or doubled.

People are set up in process (consent, topics, a poll, an event and a launched report-card
round's invitation sent to them, a caseworker), then ``python -m bot run`` (started warm by
tests/kill_steps.py) walks the flows: the service report to Send, the staff reply relayed to the
reporter, the request builder to the stored request, a poll vote, an event RSVP and the
report-card survey from the invitation's button to Send. At every step it is killed with SIGKILL
and started again, in one of two ways per test:

- after the reply: as soon as the fake Telegram has the step's answer;
- in the middle of handling: with the database held from outside (tests/kill_steps.py Hold), once
  the bot waits for it (SQLite: the update received, its store waiting for the write lock;
  PostgreSQL: the update's transaction waiting to write the person's drafts, handlers done).

After each restart: the step is answered, the stored rows (case, staff reply and its relay,
request, vote, RSVP, report-card response) exist exactly once, and the next step's answer shows
the conversation resumed at the step after the last confirmed answer (in the survey's walk
through the services too: its place is in the draft); at the end the response holds exactly the
answers given. Replies: every update is answered at least once; a kill after the reply may
repeat that step's messages once (the reply in flight: Telegram took it, the kill came before
its outbox row was cleared); a kill in the middle of handling repeats nothing (nothing leaves
before the commit); an older reply is never repeated.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.jobs import send_broadcasts
from bot.reportcards.services import rounds
from db.engine import create_engine
from db.models import (
    Case,
    CaseEvent,
    EventRsvp,
    InboxUpdate,
    OutboxMessage,
    PollVote,
    ReportCardAnswer,
    ReportCardResponse,
    RtiRequest,
)
from fakeapi import FakeTelegram
from fakeapi.registry import ApiCall
from tests.campaign_steps import follower
from tests.harness import TOKEN, BotHarness, Person
from tests.kill_steps import Hold, Launcher, environment
from tests.rti_steps import onboard_english
from tests.survey_steps import town_id

STAFF = -100558
ADMIN = 9103
WORKER = 9203
TIRANA_EVENING = time(17, 0)
SUGGESTION = "Më shumë kosha në lagjen Parrucë"
SURVEY_ANSWERS = {
    ("water", "used", 1),
    ("water", "availability", 4),
    ("water", "reliability", 3),
    ("water", "responsiveness", 5),
    ("water", "resolution", 1),
    ("water", "payment", 1),
    ("water", "satisfaction", 4),
    ("waste", "used", 0),
}
"""What Vjosa's steps answer ("Don't know" about quality stores nothing)."""


@dataclass(frozen=True)
class Step:
    """One answer a person gives, and a fragment of the bot's answer to it."""

    who: str
    kind: str
    value: str
    answer: str
    stores: str | None = None
    """The row this step confirms (it exists exactly once from here on)."""


STEPS = (
    Step("arta", "command", "/menu", "What would you like to do?"),
    Step("arta", "press", "🛠 Report a service problem", "Which municipality?"),
    Step("arta", "press", "Shkodër", "Choose the municipality:"),
    Step("arta", "press", "Municipality of Shkodër", "Which administrative unit or village?"),
    Step("arta", "press", "Skip", "What is the problem about?"),
    Step("arta", "press", "Street lighting", "What happened?"),
    Step("arta", "text", "Lights off on the main road for two weeks.", "Where exactly?"),
    Step("arta", "location", "", "Photos?"),
    Step("arta", "press", "✔️ Done", "How do you want to be identified?"),
    Step("arta", "press", "👤 Named", "Check your report"),
    Step("arta", "press", "📨 Send", "Your case number is", stores="cases"),
    Step("worker", "card", "", "Status: received"),
    Step("worker", "press", "✉️ Reply", "Type the message for the reporter"),
    Step("worker", "text", "Which pole number is it?", "Sent to the reporter of", stores="relays"),
    Step("arta", "command", "/menu", "What would you like to do?"),
    Step("arta", "press", "⚖️ Right to information", "Anyone may ask any public authority"),
    Step("arta", "press", "✍️ Ask for information", "Which authority?"),
    Step("arta", "press", "Shkodër", "Choose the municipality:"),
    Step("arta", "press", "Municipality of Shkodër", "What information do you want?"),
    Step("arta", "text", "The 2026 budget of the municipality and its annexes.", "In what form?"),
    Step("arta", "press", "📧 Electronic copy", "Where should the authority send the answer?"),
    Step("arta", "press", "📧 E-mail", "Type your e-mail address"),
    Step("arta", "text", "arta@example.com", "Your name and surname"),
    Step("arta", "text", "Arta Kelmendi", "Check your request"),
    Step("arta", "press", "✅ Make the request", "✅ Your request no.", stores="requests"),
    Step("besa", "press", "Yes", "Thank you! Your answer: Yes", stores="votes"),
    Step("driton", "press", "✅ I will attend", "May the organisers see your name", stores="rsvps"),
    Step("driton", "press", "Yes, show my name", "Your name will be on the attendance list"),
    Step("vjosa", "press", "📋 Fill in the report card", "Service 1 of 2"),
    Step("vjosa", "press", "Yes", "Question 1 of 7"),
    Step("vjosa", "press", "4 – good", "Question 2 of 7"),
    Step("vjosa", "press", "3 – fair", "Question 3 of 7"),
    Step("vjosa", "press", "Don't know", "Question 4 of 7"),
    Step("vjosa", "press", "5 – very good", "Question 5 of 7"),
    Step("vjosa", "press", "Within a week", "Question 6 of 7"),
    Step("vjosa", "press", "Yes, but I did not pay", "Question 7 of 7"),
    Step("vjosa", "press", "4 – good", "Service 2 of 2"),
    Step("vjosa", "press", "No", "One suggestion for the municipality"),
    Step("vjosa", "text", SUGGESTION, "Municipality: Shkodër"),
    Step(
        "vjosa",
        "press",
        "✅ Send my answers",
        "Thank you! Your answers are stored.",
        stores="responses",
    ),
)
RELAYED = "Which pole number is it?"
MODES = ("after_the_reply", "in_the_middle")


@pytest.fixture(scope="module")
def launcher() -> Iterator[Launcher]:
    """One warm parent for the module's bot processes."""
    started = Launcher()
    yield started
    started.close()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The test's own connections to the bot's database."""
    created = create_engine(database_url)
    yield created
    await created.dispose()


async def _set_up(fake: FakeTelegram, database_url: str) -> dict[str, Any]:
    """In process: a caseworker, Arta with consent, Besa with a poll, Driton with an event,
    Vjosa (following polls in Shkodër) with the invitation of a report-card round open today."""
    fake.group(chat_id=STAFF, title="PACT staff")
    bot = BotHarness(
        fake, database_url, staff_chat_id=STAFF, admin_ids=frozenset({ADMIN}),
        default_locale="en", quiet_start=time(0), quiet_end=time(0),
    )  # fmt: skip
    bot.clock.set(datetime.now(UTC))
    await bot.start()
    try:
        admin = Person(bot, fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))
        await admin.command("/staff", args=f"grant {WORKER} caseworker Besnik")
        worker = Person(bot, fake.user(user_id=WORKER, first_name="Besnik", language_code="en"))
        await worker.command("/start")
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        besa = await follower(bot, "Besa", "⬜ Polls and surveys")
        driton = await follower(bot, "Driton", "⬜ Public hearings and events", last_name="Hoxha")
        vjosa = await follower(
            bot,
            "Vjosa",
            "⬜ Polls and surveys",
            ("Shkodër", "Municipality of Shkodër"),
            age="18–29",
        )
        await admin.command("/poll")
        await admin.text("A duhet bashkia të transmetojë live mbledhjet?")
        await admin.text("Should the council broadcast its meetings live?")
        await admin.text("Po | Yes\nJo | No")
        await admin.press("✅ Save poll")
        await admin.press("📣 Send to “Polls and surveys” subscribers now")
        await admin.command("/event")
        await admin.text("Dëgjesë publike për buxhetin")
        await admin.press("No specific municipality")
        await admin.text("Online")
        day = (bot.clock.now() + timedelta(days=30)).date()
        await admin.text(f"{day.isoformat()} {TIRANA_EVENING:%H:%M}")
        await admin.press("Skip")
        await admin.press("✅ Save event")
        await admin.press("📣 Announce to subscribers now")
        await _launch_round(bot)
        assert await send_broadcasts(bot.app) == 5, "poll, invitation: Besa, Vjosa; event: Driton"
        assert besa.seen("Tap your answer") and driton.seen("Will you come?")
        assert "📋 Fill in the report card" in vjosa.last.labels
    finally:
        await bot.stop()
    return {
        "arta": arta.fake,
        "worker": worker.fake,
        "besa": besa.fake,
        "driton": driton.fake,
        "vjosa": vjosa.fake,
    }


async def _launch_round(bot: BotHarness) -> None:
    """A round on water and waste in Shkodër, open from today (the bot's real clock), launched
    as staff launch it: its salt and its invitation to "Polls and surveys" subscribers."""
    now, tz = bot.clock.now(), bot.settings.tz
    today = rounds.local_today(now, tz)
    place = await town_id(bot, "Shkodër")
    async with bot.app.services.sessions() as session, session.begin():
        definition = rounds.Definition(
            title_sq="Karta e qytetarëve",
            title_en="Citizen report card",
            services=["water", "waste"],
            municipality_ids=[place],
            opens_on=today,
            closes_on=today + timedelta(days=14),
        )
        draft = await rounds.create(session, definition, by_user_id=None, now=now)
        await rounds.launch(
            session,
            draft.id,
            title="Karta e qytetarëve",
            text_sq="Si funksionojnë shërbimet e bashkisë?",
            text_en="How do the municipality's services work?",
            by_user_id=None,
            now=now,
            tz=tz,
        )


async def _send(fake: FakeTelegram, people: dict[str, Any], step: Step) -> int:
    """The person gives the step's answer; the update's id."""
    person = people[step.who]
    if step.kind == "command":
        return int(await person.send_command(step.value))
    if step.kind == "text":
        return int(await person.send_text(step.value))
    if step.kind == "location":
        return int(await person.send_location(41.8667, 19.4167))
    if step.kind == "card":  # the caseworker opens the case card of the staff group privately
        group = fake.group(chat_id=STAFF)
        card = next(m for m in group.messages if "PACT-" in (m.text or "") and m.labels)
        [label] = [x for x in card.labels if card.button_data(x).startswith("stf:priv:")]
        return int(await group.press(person, label, message=card))
    return int(await person.press(step.value))


def _answers(fake: FakeTelegram, calls: list[ApiCall], step: Step, update_id: int) -> int:
    """How many successful calls in `calls` answer the step (in the person's chat, or its toast)."""
    update = fake.queue.sent[update_id]
    chat = str(_sender(update))
    query = (update.get("callback_query") or {}).get("id")
    found = 0
    for call in calls:
        body = call.params.get("text") or call.params.get("caption") or ""
        if not call.ok or step.answer not in str(body):
            continue
        if call.method == "answerCallbackQuery":
            found += call.params.get("callback_query_id") == query
        else:
            found += str(call.params.get("chat_id")) == chat
    return found


def _sender(update: dict[str, Any]) -> int:
    """Who sent the update: their private chat is where the answer goes."""
    payload = update.get("message") or update.get("callback_query") or {}
    return int(payload["from"]["id"])


def _sends(calls: list[ApiCall]) -> Counter[tuple[str, str, str]]:
    """New messages among the calls: (method, chat, text)."""
    return Counter(
        (
            call.method,
            str(call.params.get("chat_id")),
            str(call.params.get("text") or call.params.get("caption") or ""),
        )
        for call in calls
        if call.ok and call.method.startswith("send") and call.method != "sendChatAction"
    )


async def _count(engine: AsyncEngine, query: Any) -> int:
    """One count."""
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def _stored(engine: AsyncEngine) -> dict[str, int]:
    """How many of each confirmed thing are stored."""
    total = select(func.count())
    return {
        "cases": await _count(engine, total.select_from(Case)),
        "relays": await _count(
            engine, total.select_from(OutboxMessage).where(OutboxMessage.kind == "relay")
        ),
        "staff_replies": await _count(
            engine, total.select_from(CaseEvent).where(CaseEvent.kind == "staff_reply")
        ),
        "requests": await _count(engine, total.select_from(RtiRequest)),
        "votes": await _count(engine, total.select_from(PollVote)),
        "rsvps": await _count(engine, total.select_from(EventRsvp)),
        "responses": await _count(engine, total.select_from(ReportCardResponse)),
    }


async def _handled(engine: AsyncEngine, update_id: int) -> bool:
    """The update is done and every reply is sent."""
    done = (
        select(func.count())
        .select_from(InboxUpdate)
        .where(InboxUpdate.update_id == update_id, InboxUpdate.done_at.is_not(None))
    )
    replies = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.kind == "reply", OutboxMessage.status == "pending")
    )
    return await _count(engine, done) == 1 and await _count(engine, replies) == 0


async def _settled(engine: AsyncEngine) -> bool:
    """Every stored update is done and no reply or other message waits to be sent now."""
    undone = select(func.count()).select_from(InboxUpdate).where(InboxUpdate.done_at.is_(None))
    pending = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            or_(OutboxMessage.kind == "reply", OutboxMessage.not_before.is_(None)),
        )
    )
    return await _count(engine, undone) == 0 and await _count(engine, pending) == 0


def _describe(calls: list[ApiCall]) -> str:
    """The bot's calls but getUpdates, one a line, for a failure message."""
    lines = []
    for call in calls:
        if call.method != "getUpdates":
            body = str(call.params.get("text") or call.params.get("caption") or "")[:70]
            error = "" if call.ok else f" {call.result_or_error}"
            lines.append(f"{call.method} {call.params.get('chat_id')} {body!r}{error}")
    return "\n".join(lines)


@dataclass
class Window:
    """One step as walked: its update and the first of the bot's calls after it was sent."""

    step: Step
    update_id: int
    mark: int

    def where(self, number: int) -> str:
        """The step, for messages."""
        return f"step {number} ({self.step.who} {self.step.kind} {self.step.value!r})"


class Walk:
    """The people, and the `python -m bot run` process killed and restarted at every step."""

    def __init__(
        self,
        fake: FakeTelegram,
        engine: AsyncEngine,
        launcher: Launcher,
        people: dict[str, Any],
        database_url: str,
        log: Path,
    ) -> None:
        self.fake = fake
        self.engine = engine
        self.launcher = launcher
        self.people = people
        self.log = log
        self.env = environment(
            BOT_TOKEN=TOKEN,
            DATABASE_URL=database_url,
            TELEGRAM_BASE_URL=fake.base_url,
            TELEGRAM_BASE_FILE_URL=fake.base_file_url,
            TELEGRAM_RATE_LIMIT="false",
            BROADCAST_RATE=0,
            UPDATES_PER_MINUTE=10_000,
            QUIET_START="00:00",
            QUIET_END="00:00",
            STAFF_CHAT_ID=STAFF,
            ADMIN_IDS=ADMIN,
            DEFAULT_LOCALE="en",
            LOG_LEVEL="WARNING",
            DB_COMMAND_TIMEOUT=120,  # a bot waiting for the held database is still waiting
        )
        self.windows: list[Window] = []

    def _failure(self, what: str, mark: int) -> AssertionError:
        """What did not happen, with the bot's calls since `mark` and its log."""
        log = self.log.read_text()[-3000:] if self.log.exists() else ""
        return AssertionError(
            f"{what}\nthe bot's calls:\n{_describe(self.fake.calls[mark:])}\n{log}"
        )

    async def until(self, predicate: Any, what: str, mark: int, timeout: float = 30) -> None:
        """Poll an async predicate until it holds; the bot must stay alive meanwhile."""
        try:
            async with asyncio.timeout(timeout):
                while not await predicate():
                    if not self.launcher.alive():
                        raise self._failure(f"the bot died, waiting for {what}", mark)
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise self._failure(f"not within {timeout} s: {what}", mark) from None

    async def start(self) -> None:
        """`python -m bot run`."""
        await self.launcher.start(self.env, self.log)

    async def kill(self, mark: int) -> None:
        """SIGKILL, and wait until the process is gone."""
        if not self.launcher.alive():
            raise self._failure("the bot died before the kill", mark)
        await self.launcher.stop(signal.SIGKILL)

    def answered(self, window: Window) -> int:
        """How many times the step's answer reached the person so far."""
        return _answers(self.fake, self.fake.calls[window.mark :], window.step, window.update_id)

    async def answered_right(self, window: Window) -> bool:
        """Whether the step was answered; an error if it was handled and answered otherwise."""
        handled = await _handled(self.engine, window.update_id)  # first: replies are marked
        if self.answered(window):  # sent after Telegram took them
            return True
        if handled:
            raise self._failure(
                f"answered, but not with {window.step.answer!r}: the conversation did not "
                "resume at the step after the last confirmed answer",
                window.mark,
            )
        return False

    async def kill_after_the_reply(self, step: Step, where: str) -> Window:
        """Answer the step, SIGKILL as soon as the bot's answer reached Telegram."""
        window = Window(step, 0, len(self.fake.calls))
        window.update_id = await _send(self.fake, self.people, step)
        await self.until(lambda: self.answered_right(window), f"the answer to {where}", window.mark)
        await self.kill(window.mark)
        return window

    async def kill_in_the_middle(self, step: Step, where: str) -> Window:
        """Answer the step with the database held, SIGKILL once the bot waits for it."""
        window = Window(step, 0, len(self.fake.calls))
        async with Hold(self.engine) as hold:
            window.update_id = await _send(self.fake, self.people, step)
            if hold.sqlite:  # received; storing it waits for the write lock
                await self.fake.wait_delivered(window.update_id, timeout=30)
                await asyncio.sleep(0.2)  # time to read the answer and ask for the lock
            else:  # stored; its transaction ran the handlers and waits to write the drafts
                await self.until(hold.bot_waits, f"the bot waiting in {where}", window.mark)
            assert not self.answered(window), f"{where}: answered before its commit"
            await self.kill(window.mark)
        return window

    async def step(self, number: int, step: Step, mode: str) -> Window:
        """Walk one step with a kill, restart, and wait until it is answered and all is sent."""
        where = f"step {number} ({step.who} {step.kind} {step.value!r})"
        mark = len(self.fake.calls)
        await self.until(lambda: _settled(self.engine), f"settled before {where}", mark)
        if mode == "after_the_reply":
            window = await self.kill_after_the_reply(step, where)
        else:
            window = await self.kill_in_the_middle(step, where)
        self.windows.append(window)
        await self.start()
        await self.until(
            lambda: self.answered_right(window),
            f"the answer to {where} after the restart",
            window.mark,
        )
        await self.until(lambda: _settled(self.engine), f"settled after {where}", window.mark)
        return window

    def check_replies(self, mode: str) -> list[str]:
        """Each step answered; at most the reply in flight at its kill repeated; which were."""
        repeated = []
        bound = 2 if mode == "after_the_reply" else 1
        for index, window in enumerate(self.windows):
            where = window.where(index + 1)
            last = index + 1 == len(self.windows)
            calls = self.fake.calls[window.mark : None if last else self.windows[index + 1].mark]
            assert _answers(self.fake, calls, window.step, window.update_id), f"{where}: no answer"
            sends = _sends(calls)
            assert max(sends.values(), default=0) <= bound, (where, sends)
            if index:
                earlier = _sends(self.fake.calls[self.windows[index - 1].mark : window.mark])
                assert not set(sends) & set(earlier), f"{where}: an older reply was sent again"
            if max(sends.values(), default=0) > 1:
                repeated.append(where)
        for name, user in self.people.items():
            for update in self.fake.queue.sent.values():
                query = update.get("callback_query")
                if query and query["from"]["id"] == user.user_id:
                    assert self.fake.state.queries[query["id"]].answered, (name, query["data"])
        return repeated


@pytest.mark.parametrize("mode", MODES)
async def test_sigkill_at_every_step_then_restart(
    fake: FakeTelegram,
    database_url: str,
    engine: AsyncEngine,
    launcher: Launcher,
    tmp_path: Path,
    mode: str,
) -> None:
    people = await _set_up(fake, database_url)
    walk = Walk(fake, engine, launcher, people, database_url, tmp_path / "bot.log")
    loop = asyncio.get_running_loop()
    began = loop.time()
    kinds = ("cases", "relays", "staff_replies", "requests", "votes", "rsvps", "responses")
    expected = dict.fromkeys(kinds, 0)
    await walk.start()
    try:
        for number, step in enumerate(STEPS, 1):
            window = await walk.step(number, step, mode)
            if step.stores:
                expected[step.stores] += 1
                expected["staff_replies"] += step.stores == "relays"
            assert await _stored(engine) == expected, window.where(number)
        took = loop.time() - began
    finally:
        await launcher.stop(signal.SIGKILL)

    repeated = walk.check_replies(mode)
    relayed = sum(RELAYED in (m.text or "") for m in people["arta"].messages)
    assert 1 <= relayed <= (2 if mode == "after_the_reply" else 1), relayed
    async with engine.connect() as connection:
        rsvp = (await connection.execute(select(EventRsvp))).one()
        relay = (
            await connection.execute(select(OutboxMessage).where(OutboxMessage.kind == "relay"))
        ).one()
        response = (await connection.execute(select(ReportCardResponse))).one()
        answers = (
            await connection.execute(
                select(ReportCardAnswer.service, ReportCardAnswer.question, ReportCardAnswer.value)
            )
        ).all()
    assert rsvp.attending and rsvp.display_name == "Driton Hoxha"
    assert relay.status == "sent"
    assert sorted(tuple(row) for row in answers) == sorted(SURVEY_ANSWERS), "each once, none lost"
    assert response.suggestion == SUGGESTION and response.age_band == "18_29"
    print(
        f"\n{mode}: {len(STEPS)} kills and restarts in {took:.1f} s; "
        f"{len(repeated)} steps answered twice: {repeated}"
    )
