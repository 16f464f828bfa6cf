"""The broadcast sender: streams each sending broadcast's outbox to Telegram and records outcomes.

It has its own bot (same token) on the aiohttp transport (``bot/broadcasting/transport.py``), with
``StrictRateLimiter`` at ``BROADCAST_RATE`` messages per second (0: no limiter); replies to people
keep the application's bot. Direct outbox rows (staff cards, relays, notices, reminders, alerts;
``bot/broadcasting/outbox.py``) go out with the same bot right after the commit that wrote them,
and every pass first sends those still pending (retries after a backoff). Per broadcast it:

- reads its pending outbox rows in keyset batches along ``outbox.id``, so memory does not grow
  with the audience, and re-reads the broadcast's status before every batch: pause and cancel are
  rows staff change, and they take effect within one batch;
- renders each person's message from content loaded once (``bot/broadcasting/message.py``), in
  their language, and sends it with up to ``BROADCAST_CONCURRENCY`` sends in flight;
- records outcomes with group commit: a writer commits, in one unit of work, every outcome that
  arrived while its previous commit ran.

**Repeats after a hard kill.** A send takes one of ``BROADCAST_CONCURRENCY`` places before it
starts and gives it back only once its outcome is committed. Messages Telegram accepted but the
database does not yet know about (in flight, waiting for the writer, or in the commit running)
therefore never number more than ``BROADCAST_CONCURRENCY``: a SIGKILL or power cut can make at
most that many people (64 by default) receive a broadcast twice; the restarted bot resends
exactly the rows still pending. A call that timed out is not resent (Telegram may have taken it):
it fails with the reason "TimedOut", shown in the final report. A connection that breaks after
Telegram got a request, before it answered, looks like any network error and is retried.

Outcomes: 429 pauses every send for the ``retry_after`` Telegram asks (the limiter does it when
there is one) and resends, nothing lost; 403 (blocked, deactivated) fails the row "blocked" and
marks the person blocked, which drops them from later audiences; other errors leave the row
pending for the next pass, up to ``MAX_ATTEMPTS`` tries, then fail it with the error's name.
Campaigns (not event reminders or poll results) skip people who already got
``CAMPAIGN_WEEKLY_CAP`` campaign messages in 7 days. Only event reminders go out in quiet hours.
"""

from __future__ import annotations

import asyncio
import enum
import html
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from babel.dates import format_timedelta
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.ext import Defaults, ExtBot

from bot.broadcasting import message as broadcast_message
from bot.broadcasting.limiter import Budget, StrictRateLimiter, retry_seconds
from bot.broadcasting.outbox import DirectSender
from bot.broadcasting.transport import AiohttpRequest
from bot.campaigns.services import campaigns
from bot.campaigns.services import hearings as events
from bot.campaigns.services.campaigns import Recipient
from bot.core import logs, replies
from bot.core.application import PactApplication
from bot.core.i18n import Translator
from bot.core.runtime import Services, current_scope, unit_of_work
from bot.core.settings import Settings
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, keyboard
from db.models import Broadcast, BroadcastKind, BroadcastStatus, User

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
"""Tries per recipient for errors other than 429 and 403 (one per pass)."""
MAX_FLOOD_WAITS = 20
"""429 answers one send waits out before it counts as a failed attempt."""
SLICE_BATCHES = 20
"""Batches of one broadcast before looking again for due broadcasts that should go first."""
STOP_GRACE = 5.0
"""Seconds a stopping bot lets sends in flight finish before abandoning them."""
COMMIT_RETRY_FIRST = 0.1
COMMIT_RETRY_MAX = 5.0
"""Seconds between tries to commit a group of outcomes: doubling from the first to the most."""
READ_TIMEOUT = 15.0
"""Seconds to wait for Telegram's answer; longer than PTB's 5 s, since a timeout is not resent."""
TIMED_OUT = "TimedOut"
SENDER = "pact_sender"
"""Key of the running Sender in ``Application.bot_data`` (never persisted)."""
ELSEWHERE = "pact_sender_elsewhere"
"""Key of what asks the sending process for a pass when it is another (bot/core/cluster.py)."""

PAUSE, RESUME, CANCEL = (ButtonCodec(p, int) for p in ("sb:pause:", "sb:resume:", "sb:cancel:"))
CANCEL_YES, KEEP = ButtonCodec("sb:cancelyes:", int), ButtonCodec("sb:keep:", int)
BAR_CELLS = 10
FINAL = (BroadcastStatus.DONE, BroadcastStatus.CANCELLED)
_TAG = re.compile(r"<[^>]*>?")


class Result(enum.Enum):
    """What became of one recipient in this pass."""

    SENT = "sent"
    BLOCKED = "blocked"
    TIMED_OUT = "timed out"
    ERROR = "error"
    SKIPPED = "skipped"
    UNTOUCHED = "untouched"


@dataclass(frozen=True)
class Outcome:
    """One recipient's result; ``held`` when it holds a send place until committed."""

    recipient: Recipient
    result: Result
    reason: str = ""
    held: bool = True


class Recorder:
    """Commits, in one unit of work, all outcomes that arrived during the previous commit."""

    def __init__(
        self, services: Services, window: asyncio.Semaphore, on_commit: Callable[[], None]
    ) -> None:
        self._services = services
        self._window = window
        self._on_commit = on_commit
        self._queue: list[Outcome] = []
        self._wake = asyncio.Event()
        self._closing = False
        self.error: BaseException | None = None
        self.sent = 0
        self._task = asyncio.create_task(self._loop())

    def put(self, outcome: Outcome) -> None:
        """Queue an outcome for the next commit."""
        self._queue.append(outcome)
        self._wake.set()

    async def close(self) -> None:
        """Commit what is queued, then stop; re-raise a failed commit."""
        self._closing = True
        self._wake.set()
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            # The pass is abandoned at stop: outcomes not yet recorded stay pending and are
            # resent after the restart (at most BROADCAST_CONCURRENCY of them, see above).
            self._task.cancel()
        await self._task
        if self.error is not None:
            raise self.error

    async def _loop(self) -> None:
        while True:
            if not self._queue:
                if self._closing:
                    return
                await self._wake.wait()
                self._wake.clear()
                continue
            batch, self._queue = self._queue, []
            try:
                await self._commit(batch)
            except Exception as error:
                log.error("recording broadcast outcomes failed: %s", logs.failure(error))
                self.error = error
                for _ in range(1 + sum(o.held for o in batch) + len(self._queue)):
                    self._window.release()
                return
            for _ in range(sum(o.held for o in batch)):
                self._window.release()
            self.sent += sum(o.result is Result.SENT for o in batch)
            self._on_commit()

    async def _commit(self, batch: list[Outcome]) -> None:
        """Record a group; a failed commit (a lock conflict, a dropped connection, the database
        away for a while) is retried with a growing pause until it works. The outcomes stay in
        hand and their sends keep their places meanwhile (new sends wait), so a database blip
        never makes anyone get the broadcast twice."""
        pause = COMMIT_RETRY_FIRST
        failures = 0
        while True:
            try:
                await self._commit_once(batch)
                return
            except (SQLAlchemyError, OSError) as error:
                failures += 1
                log.warning(
                    "recording %d broadcast outcomes failed %d times (%s); trying again in %.1f s",
                    len(batch),
                    failures,
                    type(error).__name__,
                    pause,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, COMMIT_RETRY_MAX)

    async def _commit_once(self, batch: list[Outcome]) -> None:
        """One unit of work for the whole group (bulk UPDATEs, no rows loaded)."""
        sent: list[int] = []
        blocked: list[int] = []
        newly_blocked: list[int] = []
        timed_out: list[int] = []
        skipped: list[int] = []
        errors: dict[str, list[int]] = {}
        for outcome in batch:
            row = outcome.recipient.outbox_id
            if outcome.result is Result.SENT:
                sent.append(row)
            elif outcome.result is Result.BLOCKED:
                blocked.append(row)
                if not outcome.recipient.blocked:
                    newly_blocked.append(outcome.recipient.user_id)
            elif outcome.result is Result.TIMED_OUT:
                timed_out.append(row)
            elif outcome.result is Result.SKIPPED:
                skipped.append(row)
            elif outcome.result is Result.ERROR:
                errors.setdefault(outcome.reason, []).append(row)
        async with unit_of_work(self._services) as scope:
            session = scope.session
            now = self._services.clock.now()
            await campaigns.mark_sent(session, sent, now)
            await campaigns.mark_failed(session, blocked, campaigns.BLOCKED_REASON)
            await campaigns.block_users(session, newly_blocked, now)
            await campaigns.mark_failed(session, timed_out, TIMED_OUT)
            await campaigns.mark_skipped(session, skipped, campaigns.CAP_REASON)
            for reason, rows in errors.items():
                await campaigns.count_attempt(session, rows, reason, MAX_ATTEMPTS)
        for reason, rows in errors.items():
            log.warning("broadcast: %d sends failed (%s)", len(rows), reason)


@dataclass
class Job:
    """A broadcast in this pass: its content, each language rendered once, and where it got to."""

    broadcast_id: int
    kind: str
    content: broadcast_message.Content
    cursor: int
    """The outbox id up to which this pass has handled the broadcast's rows."""
    last_id: int
    rendered: dict[str, broadcast_message.Rendered] = field(default_factory=dict)

    def message(self, t: Translator) -> broadcast_message.Rendered:
        """The message for a reader of ``t``'s language."""
        found = self.rendered.get(t.locale)
        if found is None:
            found = self.rendered[t.locale] = broadcast_message.render(self.content, t)
        return found


@dataclass(frozen=True)
class Snapshot:
    """A broadcast's state as the progress message shows it."""

    broadcast_id: int
    title: str
    status: str
    counts: Mapping[str, int]
    failures: Mapping[str, int]
    started_at: datetime | None
    finished_at: datetime | None
    rate: float | None
    """Messages per second to estimate the time left with (None: no estimate)."""

    def count(self, status: str) -> int:
        """Outbox rows in one status."""
        return self.counts.get(status, 0)

    @property
    def total(self) -> int:
        """All recipients."""
        return sum(self.counts.values())


async def snapshot(session: AsyncSession, broadcast: Broadcast, rate: float | None) -> Snapshot:
    """Counts by status (and, once it ended, failures by reason) of a broadcast."""
    counts = await campaigns.counts(session, broadcast.id)
    ended = broadcast.status in FINAL
    return Snapshot(
        broadcast_id=broadcast.id,
        title=broadcast.title,
        status=broadcast.status,
        counts=counts,
        failures=await campaigns.failures(session, broadcast.id) if ended else {},
        started_at=broadcast.started_at,
        finished_at=broadcast.finished_at,
        rate=rate,
    )


def _bar(done: int, total: int) -> str:
    """▓▓▓▓░░░░░░ 42%."""
    share = done / total if total else 1.0
    cells = round(share * BAR_CELLS)
    return f"{'▓' * cells}{'░' * (BAR_CELLS - cells)} {math.floor(share * 100)}%"


def plain_title(title: str) -> str:
    """A broadcast's stored title (HTML: escaped text, or in older rows a fragment cut from the
    message) as plain text, escaped again where it is shown."""
    return html.unescape(_TAG.sub("", title)).strip()


def _duration(t: Translator, seconds: float) -> str:
    """A span of time in the reader's language ("3 minutes", "3 minuta")."""
    return format_timedelta(timedelta(seconds=seconds), threshold=1.0, locale=t.locale)


def _reason(t: Translator, reason: str) -> str:
    """Why rows failed, for staff."""
    if reason == campaigns.BLOCKED_REASON:
        return t.gettext("blocked the bot or left Telegram")
    if reason == TIMED_OUT:
        return t.gettext("no answer in time (may have arrived)")
    return reason or "?"


def _counts_line(t: Translator, s: Snapshot) -> str:
    """Sent / failed / skipped / remaining."""
    return t.gettext(
        "Sent: {sent} · failed: {failed} · skipped: {skipped} · left: {left}",
        sent=t.number(s.count(campaigns.SENT)),
        failed=t.number(s.count(campaigns.FAILED)),
        skipped=t.number(s.count(campaigns.SKIPPED)),
        left=t.number(s.count(campaigns.PENDING)),
    )


def _report(t: Translator, s: Snapshot) -> list[str]:
    """The final report's lines: delivered, failures by reason, skipped, not sent."""
    sent = s.count(campaigns.SENT)
    if s.status == BroadcastStatus.CANCELLED:
        lines = [
            t.gettext("✖️ <b>Cancelled: “{title}”</b>", title=plain_title(s.title)),
            t.ngettext(
                "Delivered to {count} person before it was cancelled.",
                "Delivered to {count} people before it was cancelled.",
                sent,
            ),
            t.ngettext(
                "Not sent: {count} person.",
                "Not sent: {count} people.",
                s.count(campaigns.CANCELLED) + s.count(campaigns.PENDING),
            ),
        ]
    else:
        took = (
            (s.finished_at - s.started_at).total_seconds()
            if s.finished_at is not None and s.started_at is not None
            else 0.0
        )
        lines = [
            t.gettext("✅ <b>Finished: “{title}”</b>", title=plain_title(s.title)),
            t.ngettext(
                "Delivered to {count} person in {duration}.",
                "Delivered to {count} people in {duration}.",
                sent,
                duration=_duration(t, took),
            ),
        ]
    failed = s.count(campaigns.FAILED)
    if failed:
        lines.append(t.ngettext("Not delivered: {count}", "Not delivered: {count}", failed))
        lines += [
            Markup("• {}: {}").format(_reason(t, reason), t.number(n))
            for reason, n in sorted(s.failures.items(), key=lambda item: -item[1])
        ]
    skipped = s.count(campaigns.SKIPPED)
    if skipped:
        lines.append(
            t.ngettext(
                "Skipped, weekly limit reached: {count}",
                "Skipped, weekly limit reached: {count}",
                skipped,
            )
        )
    return lines


def progress_view(
    t: Translator, s: Snapshot, confirming: bool = False, waiting_until: datetime | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The progress message: bar, counts, time left and buttons; the final report once ended."""
    if s.status in FINAL:
        return Markup("\n").join(_report(t, s)), None
    left = s.count(campaigns.PENDING)
    title = plain_title(s.title)
    paused = s.status == BroadcastStatus.PAUSED
    lines = [
        t.gettext("⏸ <b>Paused: “{title}”</b>", title=title)
        if paused
        else t.gettext("📣 <b>Sending “{title}”</b>", title=title),
        _bar(s.total - left, s.total),
        _counts_line(t, s),
    ]
    if paused:
        lines.append(t.gettext("Nothing more is sent until you resume."))
    elif waiting_until is not None and left:
        lines.append(
            t.gettext("🌙 Quiet hours: sending goes on at {time}.", time=t.datetime(waiting_until))
        )
    elif s.rate and left:
        lines.append(t.gettext("About {time} left.", time=_duration(t, left / s.rate)))
    number = s.broadcast_id
    row: list[Button] = [
        (t.gettext("▶️ Resume"), RESUME.data(number))
        if paused
        else (t.gettext("⏸ Pause"), PAUSE.data(number)),
        (t.gettext("✖️ Cancel"), CANCEL.data(number)),
    ]
    if confirming:
        lines.append(
            t.ngettext(
                "Cancel this broadcast? {count} person has not received it yet and will not.",
                "Cancel this broadcast? {count} people have not received it yet and will not.",
                left,
            )
        )
        row = [
            (t.gettext("✖️ Yes, cancel it"), CANCEL_YES.data(number)),
            (t.gettext("⬅️ No, go on"), KEEP.data(number)),
        ]
    return Markup("\n").join(lines), keyboard(row)


class Progress:
    """A broadcast's progress message: posted once, then edited in place (throttled)."""

    def __init__(self, sender: Sender, broadcast: Broadcast) -> None:
        assert broadcast.progress_chat_id is not None
        self._sender = sender
        self.broadcast_id = broadcast.id
        self.chat_id = broadcast.progress_chat_id
        self.message_id = broadcast.progress_message_id
        self._edited_at = broadcast.progress_edited_at
        self._last_text: str | None = None
        self._task: asyncio.Task[None] | None = None
        self.gone = False
        self.ended = False

    def poke(self) -> None:
        """After a commit: refresh the message if PROGRESS_EDIT_SECONDS have passed."""
        if self.gone or (self._task is not None and not self._task.done()):
            return
        services = self._sender.services
        now = services.clock.now()
        wait = timedelta(seconds=services.settings.progress_edit_seconds)
        if self._edited_at is not None and now - self._edited_at < wait:
            return
        self._edited_at = now
        self._task = asyncio.create_task(self._update())

    async def settle(self) -> None:
        """Wait for an edit in flight."""
        if self._task is not None:
            await self._task

    async def show(self) -> None:
        """Post or edit the message now, whatever the throttle says (after any edit in flight)."""
        await self.settle()
        await self._update()

    async def _update(self) -> None:
        """Post or edit the message to the broadcast's state; failures are only logged."""
        try:
            await self._post_or_edit()
        except Exception as error:
            log.error(
                "progress message of broadcast %s not updated: %s",
                self.broadcast_id,
                logs.failure(error),
            )

    async def _post_or_edit(self) -> None:
        if self.gone:
            return
        services = self._sender.services
        async with unit_of_work(services) as scope:
            session = scope.session
            broadcast = await session.get(Broadcast, self.broadcast_id)
            if broadcast is None:
                return
            staff = (
                await session.get(User, broadcast.created_by_user_id)
                if broadcast.created_by_user_id
                else None
            )
            state = await snapshot(session, broadcast, None)
            now = services.clock.now()
            broadcast.progress_edited_at = self._edited_at = now
            waiting = self._sender.held_until(broadcast.kind, now)
        rate = self._sender.rate(state.broadcast_id, state.count(campaigns.SENT))
        state = replace(state, rate=rate)
        self.ended = state.status in FINAL
        t = services.i18n.translator(staff.language if staff else None)
        text, markup = progress_view(t, state, waiting_until=waiting)
        if text == self._last_text:
            return
        try:
            if self.message_id is None:
                message = await self._sender.bot.send_message(
                    self.chat_id, text, reply_markup=markup
                )
                self.message_id = message.message_id
                async with unit_of_work(services) as scope:
                    stored = await scope.session.get(Broadcast, self.broadcast_id)
                    if stored is not None:
                        stored.progress_message_id = message.message_id
            else:
                await self._sender.bot.edit_message_text(
                    text, chat_id=self.chat_id, message_id=self.message_id, reply_markup=markup
                )
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                log.warning(
                    "progress message of broadcast %s: %s", self.broadcast_id, type(error).__name__
                )
                self.gone = "not found" in str(error).lower()
        except TelegramError as error:
            log.warning(
                "progress message of broadcast %s: %s", self.broadcast_id, type(error).__name__
            )
            self.gone = isinstance(error, Forbidden)
        else:
            self._last_text = text


class Sender:
    """Delivers the outbox; one pass at a time, started by tests, the job, or staff buttons."""

    def __init__(
        self,
        services: Services,
        bot: ExtBot[None],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.services = services
        self.bot = bot
        self.clock = clock
        """Monotonic seconds, for 429 pauses (injectable, as ``sleep`` is, for tests)."""
        self.sleep = sleep
        settings = services.settings
        self._concurrency = settings.broadcast_concurrency
        self.batch = min(max(2 * settings.broadcast_concurrency, 100), 1000)
        """Outbox rows read at a time: a pause or cancel takes effect after at most this many."""
        self._lock = asyncio.Lock()
        self._paused_until = -math.inf
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._progress: dict[int, Progress] = {}
        self._pace: dict[int, tuple[datetime, int]] = {}
        self.direct = DirectSender(services, bot)
        """Direct rows (staff cards, relays, notices): sent after their commit, retried here."""

    def kick(self) -> None:
        """A pass in the background (or one more after the current) if REMINDER_POLL_SECONDS > 0."""
        if self._stopping or not self.services.settings.reminder_poll_seconds:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._background())
        else:
            self._again = True

    async def _background(self) -> None:
        while True:
            self._again = False
            try:
                await self.run()
            except Exception as error:
                log.error(
                    "broadcast delivery failed; the next pass tries again: %s", logs.failure(error)
                )
            if not self._again or self._stopping:
                return

    async def close(self) -> None:
        """Stop after the sends in flight (abandoning them after STOP_GRACE), then the bot."""
        self._stopping = True
        await self.direct.close(STOP_GRACE)
        if self._task is not None and not self._task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE)
            except TimeoutError:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
        await self.bot.shutdown()

    def rate(self, broadcast_id: int, sent: int) -> float | None:
        """Messages per second seen for this broadcast, else BROADCAST_RATE, for estimates."""
        now = self.services.clock.now()
        start = self._pace.setdefault(broadcast_id, (now, sent))
        elapsed = (now - start[0]).total_seconds()
        if elapsed >= 1 and sent > start[1]:
            return (sent - start[1]) / elapsed
        return self.services.settings.broadcast_rate or None

    def forget_pace(self, broadcast_id: int) -> None:
        """Start the estimate afresh (after a pause)."""
        self._pace.pop(broadcast_id, None)

    def _quiet(self, now: datetime) -> bool:
        """Whether it is quiet hours now."""
        settings = self.services.settings
        return campaigns.quiet(now, settings.tz, settings.quiet_start, settings.quiet_end)

    def _held(self, job: Job, now: datetime) -> bool:
        """Whether quiet hours hold this broadcast back (event reminders go out anyway)."""
        return job.kind not in campaigns.QUIET_EXEMPT and self._quiet(now)

    def held_until(self, kind: str, now: datetime) -> datetime | None:
        """When quiet hours stop holding back a broadcast of this kind, if they do now."""
        if kind in campaigns.QUIET_EXEMPT or not self._quiet(now):
            return None
        settings = self.services.settings
        return campaigns.quiet_ends(now, settings.tz, settings.quiet_end)

    async def _show_waiting(self, skip: Collection[int]) -> None:
        """In quiet hours: each held broadcast's progress message says when it goes on."""
        async with unit_of_work(self.services) as scope:
            held = await campaigns.held_in_quiet_hours(scope.session, skip)
        for broadcast in held:
            progress = self._progress_of(broadcast)
            if progress is not None and not progress.gone:
                await progress.show()

    async def run(self, budget: int | None = None) -> int:
        """One pass, one try per recipient, until none is left, quiet hours or budget; the sent."""
        async with self._lock:
            services = self.services
            if not self._stopping:
                await self.direct.deliver_due()
            sent = 0
            jobs: dict[int, Job] = {}
            over: set[int] = set()
            while not self._stopping and (budget is None or sent < budget):
                now = services.clock.now()
                async with unit_of_work(services) as scope:
                    await events.queue_due_reminders(scope.session, now, services.i18n)
                    await campaigns.start_due(scope.session, now, services.settings.tz)
                async with unit_of_work(services) as scope:
                    broadcast = await campaigns.next_sending(
                        scope.session, over, quiet_now=self._quiet(now)
                    )
                    if broadcast is not None and broadcast.id not in jobs:
                        jobs[broadcast.id] = await _job(scope.session, broadcast)
                if broadcast is None:
                    if self._quiet(now):
                        await self._show_waiting(over)
                    break
                job = jobs[broadcast.id]
                progress = self._progress_of(broadcast)
                if progress is not None and progress.message_id is None and not progress.gone:
                    await progress.show()
                left = None if budget is None else budget - sent
                delivered, finished = await self._deliver(job, progress, left)
                sent += delivered
                if finished:
                    over.add(job.broadcast_id)
                    await self._conclude(job.broadcast_id, progress)
                elif progress is not None:
                    progress.poke()
                    await progress.settle()
            return sent

    def _progress_of(self, broadcast: Broadcast) -> Progress | None:
        """The broadcast's progress message, if it has a chat for one."""
        if broadcast.progress_chat_id is None:
            return None
        progress = self._progress.get(broadcast.id)
        if progress is None:
            progress = self._progress[broadcast.id] = Progress(self, broadcast)
        return progress

    async def _conclude(self, broadcast_id: int, progress: Progress | None) -> None:
        """Done when no row is pending; the progress message shows the state the pass left."""
        async with unit_of_work(self.services) as scope:
            done = await campaigns.finish_if_done(
                scope.session, broadcast_id, self.services.clock.now()
            )
        if done is not None:
            log.info("broadcast %s done", broadcast_id)
        if progress is not None:
            await progress.show()
            if progress.ended:
                self._progress.pop(broadcast_id, None)
                self._pace.pop(broadcast_id, None)

    async def _deliver(
        self, job: Job, progress: Progress | None, budget: int | None
    ) -> tuple[int, bool]:
        """Send up to SLICE_BATCHES batches of one broadcast; (sent, no more rows this pass)."""
        services = self.services
        window = asyncio.Semaphore(self._concurrency)
        recorder = Recorder(services, window, progress.poke if progress else _nothing)
        sends: set[asyncio.Task[None]] = set()
        started = 0
        finished = False
        try:
            for _ in range(SLICE_BATCHES):
                if self._stopping or recorder.error is not None:
                    break
                if self._held(job, services.clock.now()) or (
                    budget is not None and started >= budget
                ):
                    break
                limit = self.batch if budget is None else min(self.batch, budget - started)
                claim = await self._claim(job, limit)
                if claim is None:
                    finished = True
                    break
                batch, capped, going_on = claim
                for recipient in batch:
                    if recipient.blocked:
                        recorder.put(Outcome(recipient, Result.BLOCKED, held=False))
                    elif recipient.user_id in capped:
                        recorder.put(Outcome(recipient, Result.SKIPPED, held=False))
                    else:
                        await window.acquire()
                        if self._stopping or recorder.error is not None:
                            window.release()
                            break
                        started += 1
                        task = asyncio.create_task(self._send(job, recipient, recorder))
                        sends.add(task)
                        task.add_done_callback(sends.discard)
                    job.cursor = recipient.outbox_id
                else:
                    job.cursor = going_on
                if job.cursor >= job.last_id:
                    finished = True
                    break
        finally:
            try:
                await _drain(sends)
            finally:
                await recorder.close()
        return recorder.sent, finished

    async def _claim(self, job: Job, limit: int) -> tuple[list[Recipient], set[int], int] | None:
        """The next batch, whom the weekly cap stops, and the id reached; None once not sending."""
        services = self.services
        async with unit_of_work(services) as scope:
            session = scope.session
            status = await campaigns.status_of(session, job.broadcast_id)
            if status != BroadcastStatus.SENDING:
                return None
            batch, going_on = await campaigns.pending_batch(
                session, job.broadcast_id, job.cursor, job.last_id, limit
            )
            capped: set[int] = set()
            if batch and job.kind == BroadcastKind.CAMPAIGN:
                capped = await campaigns.capped(
                    session,
                    job.broadcast_id,
                    [r.user_id for r in batch if not r.blocked],
                    services.clock.now(),
                    services.settings.campaign_weekly_cap,
                )
            return batch, capped, going_on

    async def _send(self, job: Job, recipient: Recipient, recorder: Recorder) -> None:
        """One recipient's send, its outcome handed to the recorder."""
        try:
            outcome = await self._attempt(job, recipient)
        except Exception as error:
            log.error("broadcast send failed unexpectedly: %s", logs.failure(error))
            outcome = Outcome(recipient, Result.ERROR, type(error).__name__)
        self.services.metrics.broadcast(outcome.result.value)
        recorder.put(outcome)

    async def _attempt(self, job: Job, recipient: Recipient) -> Outcome:
        """Send, waiting out 429s; classify the answer."""
        message = job.message(self.services.i18n.translator(recipient.language))
        floods = 0
        while True:
            if not await self._after_flood():
                return Outcome(recipient, Result.UNTOUCHED)
            try:
                await self._post(recipient.telegram_id, message)
            except RetryAfter as error:
                floods += 1
                self._paused_until = max(self._paused_until, self.clock() + retry_seconds(error))
                if floods >= MAX_FLOOD_WAITS:
                    return Outcome(recipient, Result.ERROR, "RetryAfter")
                continue
            except Forbidden:
                return Outcome(recipient, Result.BLOCKED)
            except TimedOut:
                return Outcome(recipient, Result.TIMED_OUT)
            except TelegramError as error:
                return Outcome(recipient, Result.ERROR, type(error).__name__)
            return Outcome(recipient, Result.SENT)

    async def _after_flood(self) -> bool:
        """Wait while Telegram asked every call to pause; False if the bot stops meanwhile."""
        while (left := self._paused_until - self.clock()) > 0:
            if self._stopping:
                return False
            await self.sleep(min(left, 1.0))
        return not self._stopping

    async def _post(self, chat_id: int, message: broadcast_message.Rendered) -> None:
        """sendMessage, or sendPhoto/sendDocument with the text as caption."""
        if message.media_kind == broadcast_message.PHOTO and message.media_file_id:
            await self.bot.send_photo(
                chat_id, message.media_file_id, caption=message.text, reply_markup=message.markup
            )
        elif message.media_kind == broadcast_message.DOCUMENT and message.media_file_id:
            await self.bot.send_document(
                chat_id, message.media_file_id, caption=message.text, reply_markup=message.markup
            )
        else:
            await self.bot.send_message(chat_id, message.text, reply_markup=message.markup)


async def _job(session: AsyncSession, broadcast: Broadcast) -> Job:
    """A broadcast's content and outbox id range, for one pass."""
    content = await broadcast_message.load(session, broadcast)
    span = await campaigns.id_range(session, broadcast.id)
    first, last = span if span is not None else (1, 0)
    return Job(broadcast.id, broadcast.kind, content, cursor=first - 1, last_id=last)


def _nothing() -> None:
    """No progress message to refresh."""


async def _drain(sends: Collection[asyncio.Task[None]]) -> None:
    """Wait for sends in flight; if this is cancelled, cancel them too."""
    if not sends:
        return
    try:
        await asyncio.wait(set(sends))
    except asyncio.CancelledError:
        for task in sends:
            task.cancel()
        raise


def build_bot(settings: Settings, budget: Budget | None = None) -> ExtBot[None]:
    """The sending bot: same token, aiohttp transport, StrictRateLimiter unless BROADCAST_RATE=0.

    Given the application's budget, it takes only what replies leave of it
    (bot/broadcasting/limiter.py)."""
    rate = settings.broadcast_rate
    limiter = (
        StrictRateLimiter(overall_per_second=max(1, int(rate)), budget=budget) if rate > 0 else None
    )
    request = AiohttpRequest(
        connections=settings.broadcast_concurrency + 8, read_timeout=READ_TIMEOUT
    )
    return ExtBot(
        token=settings.require_token(),
        base_url=settings.telegram_base_url,
        base_file_url=settings.telegram_base_file_url,
        request=request,
        get_updates_request=request,
        rate_limiter=limiter,
        defaults=Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz),
    )


async def start(app: PactApplication) -> Sender:
    """Build and initialise the sender; with automatic delivery, resume any broadcast at once."""
    sender = Sender(app.services, build_bot(app.services.settings, app.services.rate_budget))
    await sender.bot.initialize()
    app.bot_data.pop(ELSEWHERE, None)
    app.bot_data[SENDER] = sender
    app.services.deliver_outbox = sender.direct.deliver
    app.services.hand_outbox = sender.direct.hand_over
    app.services.outbox_settled = sender.direct.settled
    bot = app.bot
    if isinstance(bot, replies.ReplyBot):
        sender.direct.replies = lambda row: replies.deliver(bot, app.services, row)
    sender.kick()
    return sender


def kick(app: PactApplication) -> None:
    """Have the running sender (if any, e.g. not while stopping) make a pass in the background."""
    sender = app.bot_data.get(SENDER)
    if isinstance(sender, Sender):
        sender.kick()
        return
    elsewhere = app.bot_data.get(ELSEWHERE)
    if callable(elsewhere):
        elsewhere()


def kick_when_committed(app: PactApplication) -> None:
    """Kick the sender once the current unit of work has committed the broadcast it stored."""
    current_scope().after_commit.append(lambda: kick(app))


def sender_of(app: PactApplication) -> Sender:
    """The application's running sender."""
    sender: Sender = app.bot_data[SENDER]
    return sender


async def stop(app: PactApplication) -> None:
    """Let the sends in flight finish and be recorded, then close the sending bot."""
    app.services.deliver_outbox = app.services.hand_outbox = None
    app.services.outbox_settled = None
    sender = app.bot_data.pop(SENDER, None)
    if sender is not None:
        await sender.close()
