"""The world of the property test (tests/test_properties.py): one bot, one database, many people.

One fake Bot API and one database per backend serve every example; each example talks as a new
Telegram user, so examples do not disturb each other. Actions are plain values drawn by
hypothesis; `World.play` sends them through the real Application over HTTP and checks, after
each one, that the update was handled and answered, and after the example, the database
invariants. A "kill" abandons the running Application the way a crash would (its tasks are
cancelled mid-flight, nothing is drained or flushed, its connections are dropped) and starts a
new one on the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from telegram.ext import CallbackQueryHandler, ConversationHandler

import fakeapi.server as fake_server
from bot.account.services import consent as privacy
from bot.broadcasting import sender as delivery
from db.base import Base
from db.models import (
    AgeBand,
    BotState,
    Case,
    CaseContact,
    CaseFollower,
    Consent,
    ConsentPurpose,
    EventRsvp,
    InboxUpdate,
    OutboxMessage,
    PollVote,
    ReportQuota,
    Role,
    RtiRequest,
    StaffMember,
    Subscription,
    User,
)
from db.repositories import case_numbers
from fakeapi import FakeTelegram
from fakeapi.files import fake_jpeg
from fakeapi.markup import inline_buttons
from tests.databases import fresh_database
from tests.harness import BotHarness

STAFF_GROUP = -100555
FIRST_PERSON = 800_000
WAIT = 20.0
"""Seconds any single update may take before the test calls it stuck."""
SENDS = ("sendmessage", "senddocument", "sendphoto", "sendlocation", "sendmediagroup", "sendvoice")
APOLOGIES = ("Sorry, something went wrong", "Na vjen keq, diçka shkoi keq")
ALERT = re.compile(r"^⚠️ \w+ — update")
REFERENCE = re.compile(r"^PACT-(\d{4})-(\d{5})$")


# ---- actions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """Type a command (with optional arguments)."""

    name: str
    args: str = ""


@dataclass(frozen=True)
class Text:
    """Type a message."""

    text: str


@dataclass(frozen=True)
class Press:
    """Tap the pick-th callback button (modulo) of the newest bot message that has buttons."""

    pick: int


@dataclass(frozen=True)
class PressStale:
    """Tap a callback button of an older bot message in the chat (a stale button)."""

    pick: int


@dataclass(frozen=True)
class Forge:
    """Send callback data no button carried: a raw string, real data of this chat mutated, or
    (how "handler") the start of a pattern the bot handles followed by a number."""

    data: str | None
    pick: int = 0
    number: int | str = 1
    how: str = "number"


@dataclass(frozen=True)
class Media:
    """Send a photo, document, location, sticker, voice note or contact."""

    kind: str
    caption: str | None = None
    latitude: float = 42.07
    longitude: float = 19.51


@dataclass(frozen=True)
class Redeliver:
    """Telegram delivers one of this person's earlier updates again (same update_id)."""

    pick: int


@dataclass(frozen=True)
class Kill:
    """Abandon the Application like a crash and start a new one on the same database.

    With `during`, that action's update is sent first and the kill falls on the bot's
    `at_call`-th Bot API call after it (before or after Telegram applied it), or with `at_call`
    0 while the getUpdates answer carrying it is on its way; otherwise, or when the update needs
    fewer calls, the kill falls once it was handled.
    """

    during: Any = None
    at_call: int = 1
    applied: bool = False


@dataclass(frozen=True)
class Start:
    """Who the new person is when the example begins (rows seeded straight into the database)."""

    kind: str = "new"
    """new, consented (onboarded), half (consent but no age yet), refused, minor, or
    caseworker (onboarded, with a grant for every municipality and corruption reports)."""
    language: str | None = "sq"


# ---- what was sent ------------------------------------------------------------------------------


@dataclass
class Sent:
    """One update this person sent, and where the call log stood when it was sent."""

    update_id: int
    kind: str
    """message or callback."""
    calls_at: int
    query_id: str | None = None
    data: str | None = None
    """The callback data of a press."""
    killed: bool = False
    """In hand when the Application was killed: answered at least once, maybe twice."""


# ---- the kill switch on the fake server --------------------------------------------------------


class Trap:
    """Holds the bot's n-th Bot API call (getUpdates aside) until released, to kill during it."""

    def __init__(self) -> None:
        self.at: int | None = None
        self.applied = False
        self.count = 0
        self.hit = asyncio.Event()
        self.released = asyncio.Event()

    def arm(self, at: int, applied: bool) -> None:
        """Catch the at-th call from now."""
        self.at, self.applied, self.count = at, applied, 0
        self.hit = asyncio.Event()
        self.released = asyncio.Event()

    def release(self) -> None:
        """Let the held call end (its caller is gone by then) and catch nothing more."""
        self.at = None
        self.released.set()

    async def call(self, original: Any, fake: FakeTelegram, name: str, params: Any) -> Any:
        """The fake's call_method, holding the armed call before or after it takes effect.

        at == 0 holds the first getUpdates answer that carries updates: Telegram handed them
        out, the bot never got them (nor stored or confirmed them).
        """
        if self.at == 0 and name.lower() == "getupdates":
            status, body = await original(fake, name, params)
            if status == 200 and body.get("result"):
                released = self.released
                self.hit.set()
                await released.wait()
            return status, body
        if self.at is None or self.at == 0 or name.lower() == "getupdates":
            return await original(fake, name, params)
        self.count += 1
        if self.count != self.at:
            return await original(fake, name, params)
        released = self.released
        self.hit.set()
        if self.applied:
            result = await original(fake, name, params)
            await released.wait()
            return result
        await released.wait()
        return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}


# ---- log records --------------------------------------------------------------------------------


class Records(logging.Handler):
    """Collects warnings and errors of the bot and the fake server."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)

    def since(self, index: int) -> list[str]:
        """Records from index on, as 'logger LEVEL message' lines."""
        return [f"{r.name} {r.levelname} {r.getMessage()}" for r in self.records[index:]]


# ---- the world ----------------------------------------------------------------------------------


@dataclass
class Example:
    """One example's person and what they sent."""

    user_id: int
    chat: Any
    cases_before: int = 0
    """The highest case id when the example began: newer cases are this example's."""
    group_at: int = 0
    """Messages in the staff group when the example began."""
    sent: list[Sent] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


class World:
    """The fake server, the running bot and the database shared by all examples of a backend."""

    def __init__(self, fake: FakeTelegram, harness: BotHarness, trap: Trap) -> None:
        self.fake = fake
        self.harness = harness
        self.trap = trap
        self.records = Records()
        self.kills = 0
        self.kills_in_hand = 0
        """Kills that fell while a Bot API call of the update in hand was held."""
        self.examples = 0
        self.updates = 0
        self.notes: set[str] = set()
        """Things worth telling that break no property (printed at the end)."""
        self.seconds: dict[str, float] = {}
        self._baseline: set[asyncio.Task[Any]] = set()
        self._next_user = FIRST_PERSON
        self.prefixes: list[str] = []
        """Literal starts of the bot's callback patterns that take an argument (forged data
        builds on them, so it reaches each handler's parsing of ids)."""
        self._tables = [table.name for table in Base.metadata.sorted_tables]

    @classmethod
    async def open(cls, backend: str, tmp_path: Path, trap: Trap) -> World:
        """A fresh database, the fake server with a staff group, and the bot polling it."""
        url = await fresh_database(backend, tmp_path)
        fake = FakeTelegram(bot_username="pact_test_bot")
        await fake.start()
        fake.group(chat_id=STAFF_GROUP, title="PACT staff")
        harness = BotHarness(
            fake,
            url,
            staff_chat_id=STAFF_GROUP,
            telegram_rate_limit=False,  # PTB's 30/s limiter only slows 500 examples down
            shutdown_drain_seconds=2,
        )
        world = cls(fake, harness, trap)
        world._baseline = set(asyncio.all_tasks())
        await harness.start()
        world.prefixes = [p for p in callback_prefixes(harness.app) if p.endswith(":")]
        logging.getLogger().addHandler(world.records)
        return world

    async def close(self) -> None:
        """Stop the bot like SIGTERM and the fake server."""
        logging.getLogger().removeHandler(self.records)
        try:
            await self.harness.stop()
        finally:
            await self.fake.stop()

    # ---- one example ----------------------------------------------------------------------------

    async def play(self, start: Start, actions: list[Any]) -> None:
        """Run one example: a new person, the actions in order, every property checked."""
        self.examples += 1
        self._next_user += 1
        user = self.fake.user(
            user_id=self._next_user, first_name="Prop", language_code=start.language
        )
        async with self.harness.app.services.sessions() as session:
            newest = await session.scalar(select(func.max(Case.id)))
        group_at = len(self.fake.group(chat_id=STAFF_GROUP).messages)
        example = Example(user.user_id, user, cases_before=newest or 0, group_at=group_at)
        await self._seed(start, user.user_id)
        records_at = len(self.records.records)
        killed = False
        for action in actions:
            example.log.append(repr(action))
            with self._timed(type(action).__name__):
                if isinstance(action, Kill):
                    await self._kill(example, action)
                    killed = True
                elif isinstance(action, Redeliver):
                    await self._redeliver(example, action)
                else:
                    sent = await self._emit(example, action)
                    if sent is not None:
                        await self._settle(sent)
                        self._check_answered(example, sent, once=True)
        with self._timed("checks"):
            await self._drain_outbox()
            for sent in example.sent:
                self._check_answered(example, sent, once=not sent.killed)
            self._check_nothing_went_wrong(example, records_at, killed)
            await self._check_invariants(example)
        self.updates += len(example.sent)

    @contextlib.contextmanager
    def _timed(self, what: str) -> Iterator[None]:
        """Add the time spent to what's total (printed at the end, to keep the run short)."""
        began = time.monotonic()
        try:
            yield
        finally:
            self.seconds[what] = self.seconds.get(what, 0.0) + time.monotonic() - began

    def summary(self) -> str:
        """Examples, updates, kills and where the time went."""
        spent = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(self.seconds.items()))
        notes = "".join(f"\n  note: {note}" for note in sorted(self.notes)[:20])
        return (
            f"{self.examples} examples, {self.updates} updates, {self.kills} kills "
            f"({self.kills_in_hand} with a call of the update in hand held); {spent}{notes}"
        )

    async def _seed(self, start: Start, telegram_id: int) -> None:
        """Rows for a person who already went through part of onboarding (cheaper than updates)."""
        if start.kind == "new":
            return
        now = self.harness.clock.now()
        language = "en" if start.language == "en" else "sq"
        user = User(
            telegram_id=telegram_id,
            language=language,
            created_at=now,
            updated_at=now,
            consents=[],
        )
        if start.kind == "refused":
            user.privacy_refused_at = now
        elif start.kind in ("consented", "half", "caseworker"):
            user.consents.append(
                Consent(
                    purpose=ConsentPurpose.CASES,
                    notice_version=privacy.NOTICE_VERSION,
                    given_at=now,
                )
            )
            if start.kind in ("consented", "caseworker"):
                user.age_band = AgeBand.AGE_18_29
                user.role = Role.CITIZEN
                user.onboarded_at = now
        elif start.kind == "minor":
            user.consents.append(
                Consent(
                    purpose=ConsentPurpose.CASES,
                    notice_version=privacy.NOTICE_VERSION,
                    given_at=now,
                    withdrawn_at=now,
                )
            )
            user.age_band = AgeBand.UNDER_16
            user.onboarded_at = now
        async with self.harness.app.services.sessions() as session, session.begin():
            session.add(user)
            if start.kind == "caseworker":
                await session.flush()
                session.add(
                    StaffMember(
                        user_id=user.id,
                        role="caseworker",
                        corruption=True,
                        municipality_ids=None,
                        display_name="Prop Worker",
                        granted_at=now,
                    )
                )

    # ---- sending --------------------------------------------------------------------------------

    async def _emit(self, example: Example, action: Any) -> Sent | None:
        """Send the action's update; None when there is nothing to press."""
        chat = example.chat
        calls_at = len(self.fake.calls)
        if isinstance(action, Command):
            update_id = await chat.send_command(action.name, args=action.args)
        elif isinstance(action, Text):
            update_id = await chat.send_text(action.text)
        elif isinstance(action, Media):
            update_id = await self._send_media(chat, action)
        else:
            target = self._callback_target(chat, action)
            if target is None:
                example.log.append("  (nothing to press)")
                return None
            data, message_id = target
            example.log.append(f"  pressed {data!r} on message {message_id}")
            update_id = await chat.press_data(data, message_id=message_id)
            query = self.fake.queue.sent[update_id]["callback_query"]["id"]
            sent = Sent(update_id, "callback", calls_at, query_id=query, data=data)
            example.sent.append(sent)
            return sent
        sent = Sent(update_id, "message", calls_at)
        example.sent.append(sent)
        return sent

    async def _send_media(self, chat: Any, action: Media) -> int:
        """One non-text message."""
        kind = action.kind
        if kind == "photo":
            return int(await chat.send_photo(caption=action.caption, width=64, height=48))
        if kind == "pdf":
            return int(await chat.send_document("scan.pdf", "application/pdf", _tiny_pdf()))
        if kind == "jpeg_document":
            return int(await chat.send_document("photo.jpg", "image/jpeg", fake_jpeg(40, 30, 1)))
        if kind == "junk_document":
            return int(
                await chat.send_document("notes.docx", "application/octet-stream", b"PK\x03\x04")
            )
        if kind == "location":
            return int(await chat.send_location(action.latitude, action.longitude))
        if kind == "sticker":
            return int(await chat.send_sticker())
        if kind == "voice":
            return int(await chat.send_voice(duration=3))
        if kind == "contact":
            return int(await chat.send_contact())
        raise ValueError(kind)

    def _callback_target(self, chat: Any, action: Any) -> tuple[str, int] | None:
        """(callback data, message id) the action presses, or None when there is none."""
        with_buttons = [m for m in chat.messages if _callback_data(m)]
        if isinstance(action, Press):
            if not with_buttons:
                return None
            message = with_buttons[-1]
            choices = _callback_data(message)
            return choices[action.pick % len(choices)], message.message_id
        if isinstance(action, PressStale):
            older = [(d, m.message_id) for m in with_buttons[:-1] for d in _callback_data(m)]
            return older[action.pick % len(older)] if older else None
        assert isinstance(action, Forge)
        message_id = chat.messages[-1].message_id if chat.messages else 1
        if action.data is not None:
            return action.data, message_id
        if action.how == "handler":
            prefix = self.prefixes[action.pick % len(self.prefixes)]
            return f"{prefix}{action.number}"[:64], message_id
        seen = [(d, m.message_id) for m in with_buttons for d in _callback_data(m)]
        if not seen:
            return None
        data, message_id = seen[action.pick % len(seen)]
        return _mutate(data, action.how, action.number), message_id

    async def _settle(self, sent: Sent) -> None:
        """Wait until the bot fetched and handled the update."""
        await self.fake.wait_delivered(sent.update_id, timeout=WAIT)
        await self.harness.app.wait_processed(sent.update_id, timeout=WAIT)

    # ---- re-delivery ----------------------------------------------------------------------------

    async def _redeliver(self, example: Example, action: Redeliver) -> None:
        """Deliver an earlier update again; it must have no effect at all."""
        done = example.sent
        if not done:
            return
        again = done[action.pick % len(done)]
        counts, person = await self._counts(), await self._person_rows(example.user_id)
        calls_at = len(self.fake.calls)
        self.fake.redeliver(again.update_id)
        marker = self._marker(example)  # same chat, later id: handled after any second run
        await self._settle(Sent(marker, "marker", calls_at))
        calls = [c for c in self.fake.calls[calls_at:] if c.method != "getUpdates"]
        assert not calls, f"a re-delivered update made calls: {_calls(calls)}\n{_log(example)}"
        assert not self.fake.queue.repeats, "the re-delivered update was not fetched"
        after = await self._counts()
        assert after["inbox"] == counts["inbox"] + 1, "one inbox row for the marker, none more"
        changed = {
            t: (counts[t], after[t]) for t in counts if t != "inbox" and counts[t] != after[t]
        }
        assert not changed, f"rows changed by a re-delivery: {changed}\n{_log(example)}"
        person_after = await self._person_rows(example.user_id)
        assert person_after == person, f"the person's rows changed\n{_log(example)}"

    def _marker(self, example: Example) -> int:
        """An update from the person's chat that answers nothing and stores nothing."""
        chat = example.chat
        member = {"user": self.fake.bot_user, "status": "member"}
        payload = {
            "chat": chat.chat.to_api(),
            "from": chat.to_api(),
            "date": self.fake.now(),
            "old_chat_member": member,
            "new_chat_member": member,
        }
        return self.fake.enqueue("my_chat_member", payload)

    async def _counts(self) -> dict[str, int]:
        """Rows per table."""
        selects = ", ".join(f'(SELECT count(*) FROM "{name}") AS "{name}"' for name in self._tables)
        async with self.harness.app.services.sessions() as session:
            row = (await session.execute(text(f"SELECT {selects}"))).one()
        return {name: int(value) for name, value in zip(self._tables, row, strict=True)}

    async def _person_rows(self, telegram_id: int) -> tuple[Any, ...]:
        """The person's user row, consents and stored states, as plain values."""
        async with self.harness.app.services.sessions() as session:
            user = (
                await session.execute(select(User).where(User.telegram_id == telegram_id))
            ).scalar_one_or_none()
            consents: list[tuple[Any, ...]] = []
            if user is not None:
                found = await session.execute(
                    select(Consent).where(Consent.user_id == user.id).order_by(Consent.id)
                )
                consents = [(c.purpose, c.given_at, c.withdrawn_at) for c in found.scalars()]
            mine = sorted(
                (s.kind, s.key, repr(s.data)) for s in await _states_of(session, telegram_id)
            )
        columns = (
            None if user is None else tuple(getattr(user, c.key) for c in User.__table__.columns)
        )
        return columns, tuple(consents), tuple(mine)

    # ---- the kill -------------------------------------------------------------------------------

    async def _kill(self, example: Example, action: Kill) -> None:
        """Crash the running Application (maybe with an update in hand) and start a new one."""
        in_hand: Sent | None = None
        if action.during is not None:
            self.trap.arm(action.at_call, action.applied)
            in_hand = await self._emit(example, action.during)
            if in_hand is not None:
                in_hand.killed = True
                await self._until_hit_or_handled(in_hand)
        held = self.trap.hit.is_set() and action.during is not None
        try:
            await self._crash()
        finally:
            self.trap.release()
        self.kills += 1
        self.kills_in_hand += held
        await self.harness.start()
        await self._settle_inbox(in_hand.update_id if in_hand is not None else None)

    async def _until_hit_or_handled(self, sent: Sent) -> None:
        """Wait until the trap holds a call, or the update was handled without reaching it."""
        app = self.harness.app
        hit = asyncio.ensure_future(self.trap.hit.wait())
        handled = asyncio.ensure_future(app.wait_processed(sent.update_id, timeout=WAIT))
        try:
            await asyncio.wait({hit, handled}, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (hit, handled):
                task.cancel()
            await asyncio.gather(hit, handled, return_exceptions=True)

    async def _crash(self) -> None:
        """Every task of the Application is cancelled where it stands; connections are dropped.

        Nothing drains, no handler finishes, no post-commit send runs: what was committed
        stays, the rest is rolled back by the database, as after SIGKILL. The fake server's own
        tasks stay (Telegram does not die with the bot).
        """
        app = self.harness.app
        current = asyncio.current_task()
        tasks = [
            task
            for task in asyncio.all_tasks()
            if task is not current and task not in self._baseline and not _server_side(task)
        ]
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=WAIT)
        if app.job_queue is not None and app.job_queue.scheduler.running:
            app.job_queue.scheduler.shutdown(wait=False)
        sender = app.bot_data.get(delivery.SENDER)
        for client in (app.bot, getattr(sender, "bot", None)):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.shutdown()
        await app.services.engine.dispose()

    # ---- waiting for quiet ----------------------------------------------------------------------

    async def _settle_inbox(self, update_id: int | None) -> None:
        """Wait until every update Telegram holds was fetched and every stored one is done,
        the one in hand at the kill included (Telegram may have handed it out unconfirmed)."""
        async with asyncio.timeout(WAIT * 2):
            while True:
                if not self.fake.pending_updates and not self.fake.queue.repeats:
                    async with self.harness.app.services.sessions() as session:
                        undone = await session.scalar(
                            select(func.count())
                            .select_from(InboxUpdate)
                            .where(InboxUpdate.done_at.is_(None))
                        )
                        row = update_id and await session.get(InboxUpdate, update_id)
                    stored = update_id is None or (row is not None and row.done_at is not None)
                    if stored and not undone and not self.harness.app.inbox.in_flight:
                        return
                await asyncio.sleep(0.02)

    async def _drain_outbox(self) -> None:
        """Wait until no direct message that is due waits in the outbox."""
        now = self.harness.clock.now()
        async with asyncio.timeout(WAIT):
            while await self._pending_direct(now):  # noqa: ASYNC110 (a database condition)
                await asyncio.sleep(0.02)

    async def _pending_direct(self, now: Any) -> int:
        """Direct outbox rows pending and due."""
        async with self.harness.app.services.sessions() as session:
            return int(
                await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(
                        OutboxMessage.broadcast_id.is_(None),
                        OutboxMessage.status == "pending",
                        (OutboxMessage.not_before.is_(None)) | (OutboxMessage.not_before <= now),
                    )
                )
                or 0
            )

    # ---- properties -----------------------------------------------------------------------------

    def _check_answered(self, example: Example, sent: Sent, once: bool) -> None:
        """A message got at least one message back; a press got its answer (exactly once)."""
        later = self.fake.calls[sent.calls_at :]
        if sent.kind == "message":
            answers = [
                c
                for c in later
                if c.ok
                and c.method.lower() in SENDS
                and str(c.params.get("chat_id")) == str(example.user_id)
            ]
            assert answers, f"update {sent.update_id} got no answer\n{_log(example)}"
            return
        answers = [
            c
            for c in later
            if c.method == "answerCallbackQuery"
            and c.params.get("callback_query_id") == sent.query_id
        ]
        taken = [c for c in answers if c.ok]
        assert len(taken) == 1, (
            f"press {sent.update_id} answered {len(taken)} times\n{_log(example)}"
        )
        if once and len(answers) > 1:
            prefix = re.sub(r"\d+", "N", sent.data or "")
            self.notes.add(f"a press answered, then answered again (refused): {prefix}")

    def _check_nothing_went_wrong(self, example: Example, records_at: int, killed: bool) -> None:
        """No error reached the error handler, nobody got the apology, staff got no alert."""
        lines = [
            line
            for line in self.records.since(records_at)
            if not line.startswith(EXPECTED) and not (killed and _kill_noise(line))
        ]
        assert not lines, "warnings or errors:\n" + "\n".join(lines) + "\n" + _log(example)
        texts = [m.text or "" for m in example.chat.messages]
        sorry = [t for t in texts if any(a in t for a in APOLOGIES)]
        assert not sorry, f"the person got an apology\n{_log(example)}"
        group = self.fake.group(chat_id=STAFF_GROUP)
        alerts = [m.text for m in group.messages[example.group_at :] if ALERT.match(m.text or "")]
        assert not alerts, f"staff alerts: {alerts}\n{_log(example)}"

    async def _check_invariants(self, example: Example) -> None:
        """What must hold of the rows whatever happened: the whole inbox, outbox and case
        numbering, and everything of this example's person (earlier people were checked in
        their own example, so a failure always points at the example that caused it)."""
        async with self.harness.app.services.sessions() as session:
            undone = list(
                await session.scalars(
                    select(InboxUpdate.update_id).where(InboxUpdate.done_at.is_(None))
                )
            )
            assert not undone, f"inbox rows left undone: {undone}\n{_log(example)}"
            kept = await session.scalar(
                select(func.count())
                .select_from(InboxUpdate)
                .where(InboxUpdate.done_at.is_not(None))
                .where(InboxUpdate.payload.is_not(None) | InboxUpdate.chat_key.is_not(None))
            )
            assert not kept, f"a handled update kept its content\n{_log(example)}"
            now = self.harness.clock.now()
            assert not await self._pending_direct(now), f"outbox not sent\n{_log(example)}"
            await _check_cases(session, example)
            await _check_person(session, example)
            limit = self.harness.settings.cases_per_day
            over = await session.scalar(
                select(func.count()).select_from(ReportQuota).where(ReportQuota.count > limit)
            )
            assert not over, f"a report quota above CASES_PER_DAY\n{_log(example)}"


OWN_ROWS = (
    (RtiRequest, RtiRequest.user_id),
    (Subscription, Subscription.user_id),
    (CaseContact, CaseContact.user_id),
    (CaseFollower, CaseFollower.user_id),
    (EventRsvp, EventRsvp.user_id),
    (PollVote, PollVote.user_id),
    (Case, Case.reporter_user_id),
)
"""What a person owns only because they consented (a) to storing and handling."""


async def _states_of(session: Any, telegram_id: int) -> list[BotState]:
    """The stored drafts and conversation states of one person (keys as bot/core/persistence.py)."""
    n = str(telegram_id)
    found = await session.scalars(
        select(BotState).where(
            (BotState.key == n)
            | BotState.key.like(f"%:[{n}]")
            | BotState.key.like(f"%:[%, {n}]")
            | BotState.key.like(f"%:[%, {n}, %]")
        )
    )
    return [state for state in found if _state_owner(state) == telegram_id]


async def _check_person(session: Any, example: Example) -> None:
    """Consent rules (README, Security and privacy) for the example's person."""
    where = f"user {example.user_id}\n{_log(example)}"
    user = await session.scalar(select(User).where(User.telegram_id == example.user_id))
    states = await _states_of(session, example.user_id)
    if user is None:
        assert not states, f"states stored for someone without a row: {where}"
        return
    consents = list(await session.scalars(select(Consent).where(Consent.user_id == user.id)))
    staff = await session.get(StaffMember, user.id) is not None
    active = {c.purpose for c in consents if c.withdrawn_at is None}
    assert consents or user.privacy_refused_at or staff, (
        f"a row for someone who never answered the notice: {where}"
    )
    if user.age_band == AgeBand.UNDER_16:
        assert not active, f"a minor with consent in force: {where}"
    if ConsentPurpose.CASES not in active and not staff:
        assert not active, f"consent {active} without consent (a): {where}"
        assert user.role is None, f"a role kept without consent: {where}"
        assert not states, f"drafts or states stored without consent: {where}"
        if user.age_band != AgeBand.UNDER_16:
            assert user.onboarded_at is None, f"onboarded without consent: {where}"
    given = [c for c in consents if c.purpose == ConsentPurpose.CASES]
    seeded_minor = user.age_band == AgeBand.UNDER_16 and len(given) == 1
    if given and not seeded_minor:
        return
    for model, column in OWN_ROWS:
        found = await session.scalar(
            select(func.count()).select_from(model).where(column == user.id)
        )
        assert not found, f"{model.__tablename__} rows of someone who never consented: {where}"


async def _check_cases(session: Any, example: Example) -> None:
    """References are well formed, unique and within the counter; identities stay separated."""
    cases = list(await session.scalars(select(Case).where(Case.id > example.cases_before)))
    years = {int(found[1]) for c in cases if (found := REFERENCE.match(c.reference))}
    counters = {year: await case_numbers.last_number(session, year) for year in years}
    contacts = set(
        await session.scalars(
            select(CaseContact.case_id).where(CaseContact.case_id > example.cases_before)
        )
    )
    where = _log(example)
    seen: set[str] = set()
    for case in cases:
        found = REFERENCE.match(case.reference)
        assert found, f"reference {case.reference!r}\n{where}"
        assert case.reference not in seen, f"reference {case.reference} twice\n{where}"
        seen.add(case.reference)
        assert int(found[2]) <= counters.get(int(found[1]), 0), f"{case.reference} > counter"
        if case.identification == "anonymous":
            assert case.reporter_user_id is None, f"anonymous case linked\n{where}"
            assert case.id not in contacts, f"anonymous case with a contact\n{where}"
            assert case.reporter_display is None, f"an anonymous case keeps a name\n{where}"
        if case.identification == "confidential":
            assert case.reporter_user_id is None, f"confidential case linked directly\n{where}"
            assert case.id in contacts, f"confidential case without its contact\n{where}"


# ---- small helpers ------------------------------------------------------------------------------


def _callback_data(message: Any) -> list[str]:
    """The callback data of a bot message's inline buttons, in order."""
    return [
        button["callback_data"]
        for row in inline_buttons(message.reply_markup)
        for button in row
        if "callback_data" in button
    ]


BIG_NUMBERS = (0, 1, 2, 3, 7, 10**9, 2**31, 2**63, 10**20)


def _mutate(data: str, how: str, number: int | str) -> str:
    """Real callback data changed the way a forger would."""
    if how == "number":
        replaced = re.sub(r"\d+", str(number), data, count=1)
        return replaced if replaced != data else f"{data}:{number}"
    if how == "numbers":
        replaced = re.sub(r"\d+", str(number), data)
        return replaced if replaced != data else f"{data}:{number}"
    if how == "negative":
        return re.sub(r"\d+", f"-{number}", data, count=1)
    if how == "truncate":
        return data[: max(1, number % max(1, len(data)))]
    if how == "append":
        return (data + ":x" * (1 + number % 3))[:64]
    if how == "prefix":
        head, _, tail = data.rpartition(":")
        return f"{head}:" if head else f"{tail}:"
    raise ValueError(how)


def _state_owner(state: BotState) -> int | None:
    """The Telegram user a stored state belongs to, if it is a person's."""
    if state.kind == "user_data":
        return int(state.key) if state.key.lstrip("-").isdigit() else None
    if state.kind == "conv":
        _, _, key = state.key.partition(":")
        numbers = re.findall(r"-?\d+", key)
        if numbers:
            return int(numbers[1] if len(numbers) >= 2 else numbers[0])
    return None


def _server_side(task: asyncio.Task[Any]) -> bool:
    """A task of the fake server (aiohttp's side) or a bare event wait: not the bot's to kill."""
    coro = task.get_coro()
    code = getattr(coro, "cr_code", None)
    name = getattr(coro, "__qualname__", "")
    filename = code.co_filename if code is not None else ""
    return "aiohttp/web_" in filename or "fakeapi" in filename or name == "Event.wait"


EXPECTED = ("bot.core.access WARNING refused staff action",)
"""Warnings that are the bot doing its job (a citizen typing a staff command is logged)."""
KILL_NOISE = (
    "updates still in hand",
    "getUpdates failed",
    "could not",
    "was not sent",
    "not sent:",
)


def _kill_noise(line: str) -> bool:
    """Warnings a crash itself causes in the dying Application."""
    return line.split(" ", 2)[1] == "WARNING" and any(part in line for part in KILL_NOISE)


def _calls(calls: list[Any]) -> list[str]:
    """Methods and chats of calls, for messages."""
    return [f"{c.method}({c.params.get('chat_id')})" for c in calls]


def _log(example: Example) -> str:
    """The example's actions, for failure messages."""
    return "actions:\n  " + "\n  ".join(example.log)


def _tiny_pdf() -> bytes:
    """A one-page PDF with an author in its metadata."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_author("Someone Secret")
    pdf.add_page()
    return bytes(pdf.output())


@contextlib.contextmanager
def trapped(monkeypatch: Any, trap: Trap) -> Iterator[None]:
    """Route the fake server's method calls through the trap."""
    original = fake_server.call_method

    async def call_method(fake: FakeTelegram, name: str, params: Any) -> Any:
        return await trap.call(original, fake, name, params)

    monkeypatch.setattr(fake_server, "call_method", call_method)
    yield


def callback_prefixes(app: Any) -> list[str]:
    """The literal start of every callback pattern the Application handles, conversations
    included, sorted: forged data built on them reaches each handler's own parsing."""
    found: set[str] = set()

    def walk(handlers: Any) -> None:
        for handler in handlers:
            if isinstance(handler, ConversationHandler):
                walk(handler.entry_points)
                for state in handler.states.values():
                    walk(state)
                walk(handler.fallbacks)
            elif isinstance(handler, CallbackQueryHandler) and isinstance(
                handler.pattern, re.Pattern
            ):
                for branch in (
                    re.sub(r"^\^|\$$", "", handler.pattern.pattern).strip("()").split("|")
                ):
                    literal = re.match(r"[\w:.-]*", branch.lstrip("^").rstrip("$"))
                    if literal and literal[0]:
                        found.add(literal[0])

    for group in app.handlers.values():
        walk(group)
    return sorted(found)
