"""Prometheus metrics, one registry per Application (so several bots in one test run never clash).

Counters and the latency histogram move as updates are handled and messages sent (one-line hooks
in the application, the inbox, the reply path and the senders). Queue depths and cases by status
are read from the database when /metrics is scraped, with one grouped COUNT each and a short cache,
so a scrape storm cannot load the database. Labels are kinds and outcomes only: never an id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError, TimedOut

from bot.core import logs
from db.models import Case, InboxUpdate, OutboxMessage, OutboxStatus

if TYPE_CHECKING:
    from bot.core.runtime import Services

log = logging.getLogger(__name__)
disable_created_metrics()  # no `_created` twin of every counter: half the series, nothing lost

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
QUEUES_FRESH = 2.0
"""Seconds the inbox backlog and outbox depth read at a scrape are reused."""
CASES_FRESH = 30.0
"""Seconds the cases-by-status count is reused (a grouped count over every case)."""
READ_TIMEOUT = 5.0
"""A scrape gives up on the database after this long and reports no database gauges."""
BROADCAST_OUTCOMES = {
    "sent": "sent",
    "blocked": "blocked",
    "timed out": "failed",
    "error": "retried",
}
"""The sender's per-recipient results as send outcomes (skipped and untouched are not sends)."""
Query = Callable[[AsyncSession], Awaitable[dict[str, int]]]
"""A grouped count read at a scrape."""


def update_kind(update: object) -> str:
    """What the update carries ("message", "callback_query", ...), or "other"."""
    if isinstance(update, Update):
        for kind in Update.ALL_TYPES:
            if getattr(update, kind, None) is not None:
                return kind
    return "other"


def send_outcome(error: BaseException | None) -> str:
    """A send's outcome: sent, retried (429, network, server), blocked (refused), or failed."""
    if error is None:
        return "sent"
    if isinstance(error, Forbidden) or (
        isinstance(error, BadRequest) and "chat not found" in str(error).lower()
    ):
        return "blocked"
    if isinstance(error, TimedOut | BadRequest) or not isinstance(error, TelegramError):
        return "failed"
    return "retried"  # RetryAfter, NetworkError, server errors: tried again later


@dataclass
class Reading:
    """Database gauges as last read, and when (monotonic seconds)."""

    at: float = -float("inf")
    values: dict[str, int] = field(default_factory=dict)
    ok: bool = False


class DatabaseGauges(Collector):
    """Inbox backlog, outbox depth by kind, cases by status and 429s, as of the last refresh."""

    def __init__(self) -> None:
        self.services: Services | None = None
        self.queues = Reading()
        self.cases = Reading()
        self._lock = asyncio.Lock()

    async def refresh(self, services: Services) -> None:
        """Read what is stale (concurrent scrapes share one read); a failure drops the values."""
        self.services = services
        async with self._lock:
            now = time.monotonic()
            if now - self.queues.at >= QUEUES_FRESH:
                self.queues = await self._read(services, _queues, now)
            if now - self.cases.at >= CASES_FRESH:
                self.cases = await self._read(services, _cases, now)

    @staticmethod
    async def _read(services: Services, query: Query, now: float) -> Reading:
        """One query in its own session, bounded in time."""
        try:
            async with asyncio.timeout(READ_TIMEOUT), services.sessions() as session:
                return Reading(now, await query(session), True)
        except Exception as error:
            log.warning("metrics: could not read the database (%s)", type(error).__name__)
            return Reading(now, {}, False)

    def collect(self) -> Iterator[Metric]:
        """The gauges from the last refresh; the 429 count from the shared rate budget."""
        up = GaugeMetricFamily(
            "pact_metrics_database_up", "1 if the last scrape could read the database"
        )
        up.add_metric([], float(self.queues.ok and self.cases.ok))
        yield up
        if self.queues.ok:
            inbox = GaugeMetricFamily("pact_inbox_backlog", "Stored updates not handled yet")
            inbox.add_metric([], self.queues.values.get("inbox", 0))
            yield inbox
            outbox = GaugeMetricFamily(
                "pact_outbox_pending", "Outbox rows waiting to be sent, by kind", labels=["kind"]
            )
            for kind, count in sorted(self.queues.values.items()):
                if kind != "inbox":
                    outbox.add_metric([kind], count)
            yield outbox
        if self.cases.ok:
            cases = GaugeMetricFamily("pact_cases", "Cases by status", labels=["status"])
            for status, count in sorted(self.cases.values.items()):
                cases.add_metric([status], count)
            yield cases
        floods = CounterMetricFamily(
            "pact_telegram_429", "Flood-control answers (429) seen by the rate limiter"
        )
        floods.add_metric([], self.services.rate_budget.floods if self.services else 0)
        yield floods


async def _queues(session: AsyncSession) -> dict[str, int]:
    """The inbox backlog ("inbox") and pending outbox rows by kind."""
    backlog = await session.scalar(
        select(func.count()).select_from(InboxUpdate).where(InboxUpdate.done_at.is_(None))
    )
    found = await session.execute(
        select(OutboxMessage.kind, func.count())
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .group_by(OutboxMessage.kind)
    )
    values = {str(getattr(kind, "value", kind)): int(count) for kind, count in found}
    values["inbox"] = int(backlog or 0)
    return values


async def _cases(session: AsyncSession) -> dict[str, int]:
    """Cases by status."""
    found = await session.execute(select(Case.status, func.count()).group_by(Case.status))
    return {str(getattr(status, "value", status)): int(count) for status, count in found}


class Metrics:
    """The Application's metrics and the registry /metrics renders."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.received = Counter(
            "pact_updates_received", "Updates stored in the inbox", registry=registry
        )
        self.handled = Counter(
            "pact_updates_handled", "Updates handled, by kind", ["kind"], registry=registry
        )
        self.failed_updates = Counter(
            "pact_updates_failed",
            "Updates whose handler failed or whose unit of work could not commit, by kind",
            ["kind"],
            registry=registry,
        )
        self.latency = Histogram(
            "pact_update_seconds",
            "Handling one update, from its start to its replies sent, by kind",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.sends = Counter(
            "pact_sends",
            "Messages to Telegram by path (reply, direct, broadcast) and outcome",
            ["path", "outcome"],
            registry=registry,
        )
        self.database = DatabaseGauges()
        registry.register(self.database)
        ProcessCollector(registry=registry)
        self._kinds: dict[str, tuple[Any, Any, Any]] = {}
        self._sends: dict[tuple[str, str], Any] = {}
        """Labelled children by label values: labels() costs about ten times an increment."""

    def _of_kind(self, kind: str) -> tuple[Any, Any, Any]:
        """The handled, failed and latency children for one kind of update."""
        found = self._kinds.get(kind)
        if found is None:
            found = self._kinds[kind] = (
                self.handled.labels(kind),
                self.failed_updates.labels(kind),
                self.latency.labels(kind),
            )
        return found

    async def observe(self, update: object, work: Awaitable[None]) -> None:
        """Handle one update under its log context, timed and counted by kind.

        An update cancelled at a stop is not counted: it waits in the inbox for the next start.
        """
        handled, failed, latency = self._of_kind(update_kind(update))
        started = time.perf_counter()
        with logs.InUpdate(update.update_id if isinstance(update, Update) else None):
            try:
                await work
            except Exception:  # the unit of work failed: it is tried again
                failed.inc()
                handled.inc()
                latency.observe(time.perf_counter() - started)
                raise
            handled.inc()
            latency.observe(time.perf_counter() - started)

    def failed(self, update: object) -> None:
        """A handler failed (the error handler answered and rolled back)."""
        self._of_kind(update_kind(update))[1].inc()

    def send(self, path: str, error: BaseException | None) -> None:
        """One reply row, direct row or broadcast copy sent, or why not."""
        self._send(path, send_outcome(error))

    def broadcast(self, result: str) -> None:
        """One broadcast recipient's result (bot/broadcasting/sender.py Result values)."""
        outcome = BROADCAST_OUTCOMES.get(result)
        if outcome is not None:
            self._send("broadcast", outcome)

    def _send(self, path: str, outcome: str) -> None:
        """Count one send."""
        child = self._sends.get((path, outcome))
        if child is None:
            child = self._sends[path, outcome] = self.sends.labels(path, outcome)
        child.inc()

    async def render(self, services: Services) -> bytes:
        """The Prometheus text exposition, database gauges refreshed if stale."""
        await self.database.refresh(services)
        return generate_latest(self.registry)
