"""/metrics over real HTTP, in polling (HEALTH_PORT) and webhook mode: counters move with the
updates and sends, the gauges show the outbox and the cases as stored, a scrape storm reads the
database once, METRICS_TOKEN guards it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.account import help as help_module
from bot.app import build_application
from bot.core import metrics
from bot.core.lifecycle import shutdown, startup
from bot.core.webhook import start_http, start_webhook
from db.models import (
    Case,
    CaseKind,
    CaseStatus,
    Identification,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
)
from fakeapi import FakeTelegram
from tests.harness import START, BotHarness

SECRET = "Zq8-Ue4_" * 5
METRICS_TOKEN = "scrape-me-9f3b2c"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def value(exposition: str, name: str, **labels: str) -> float | None:
    """The sample with this name and labels, or None."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return None


async def scrape(port: int, token: str | None = None) -> tuple[int, str, str]:
    """GET /metrics: status, content type and body."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics", headers=headers) as response,
    ):
        return response.status, response.headers.get("Content-Type", ""), await response.text()


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every scrape reads the database (no cache), so a test sees rows it just wrote."""
    monkeypatch.setattr(metrics, "QUEUES_FRESH", 0.0)
    monkeypatch.setattr(metrics, "CASES_FRESH", 0.0)


@pytest.fixture
async def polling(fake: FakeTelegram, database_url: str) -> AsyncIterator[tuple[BotHarness, int]]:
    """The bot polling, with /healthz and /metrics on HEALTH_PORT as `pact-bot run` serves them."""
    port = _free_port()
    harness = BotHarness(fake, database_url, health_port=port, webhook_listen="127.0.0.1")
    await harness.start()
    runner = await start_http(harness.app, harness.settings, port)
    try:
        yield harness, port
    finally:
        await runner.cleanup()
        await harness.stop()


async def store_rows(harness: BotHarness) -> None:
    """Two pending staff cards, one pending reminder, one sent; two received cases, one resolved."""
    now = START
    later = now + timedelta(days=30)  # not due: no sender pass takes them during the test
    rows: list[Any] = [
        OutboxMessage(kind=OutboxKind.STAFF_CARD, chat_id=-1, payload={}, not_before=later,
                      status=OutboxStatus.PENDING, created_at=now),
        OutboxMessage(kind=OutboxKind.STAFF_CARD, chat_id=-1, payload={}, not_before=later,
                      status=OutboxStatus.PENDING, created_at=now),
        OutboxMessage(kind=OutboxKind.REMINDER, chat_id=1, payload={}, not_before=later,
                      status=OutboxStatus.PENDING, created_at=now),
        OutboxMessage(kind=OutboxKind.REMINDER, chat_id=1, payload=None,
                      status=OutboxStatus.SENT, created_at=now),
    ]  # fmt: skip
    for number, status in enumerate(
        (CaseStatus.RECEIVED, CaseStatus.RECEIVED, CaseStatus.RESOLVED), start=1
    ):
        rows.append(
            Case(
                reference=f"PACT-2026-{number:05d}",
                kind=CaseKind.SERVICE,
                status=status,
                identification=Identification.ANONYMOUS,
                created_at=now,
                updated_at=now,
            )
        )
    async with harness.app.services.sessions() as session, session.begin():
        session.add_all(rows)


async def test_polling_metrics_count_updates_sends_and_show_stored_rows(
    polling: tuple[BotHarness, int], fresh: None
) -> None:
    harness, port = polling
    arta = harness.person(language_code="en")
    await arta.command("/start")
    await arta.press(arta.last.labels[0])
    await store_rows(harness)

    status, content_type, body = await scrape(port)
    assert status == 200 and content_type.startswith("text/plain")
    assert value(body, "pact_updates_received_total") == 2
    assert value(body, "pact_updates_handled_total", kind="message") == 1
    assert value(body, "pact_updates_handled_total", kind="callback_query") == 1
    assert value(body, "pact_updates_failed_total", kind="message") == 0
    assert value(body, "pact_update_seconds_count", kind="message") == 1
    assert value(body, "pact_update_seconds_bucket", kind="callback_query", le="+Inf") == 1
    assert value(body, "pact_sends_total", path="reply", outcome="sent") == 2
    assert value(body, "pact_telegram_429_total") == 0
    assert value(body, "pact_metrics_database_up") == 1
    assert value(body, "pact_inbox_backlog") == 0
    assert value(body, "pact_outbox_pending", kind="staff_card") == 2
    assert value(body, "pact_outbox_pending", kind="reminder") == 1
    assert value(body, "pact_cases", status="received") == 2
    assert value(body, "pact_cases", status="resolved") == 1
    assert value(body, "process_resident_memory_bytes") is not None
    assert str(arta.fake.user_id) not in body, "no ids in any label"


async def test_a_failed_handler_and_a_429_are_counted(
    polling: tuple[BotHarness, int], fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness, port = polling
    arta = harness.person(language_code="en")

    async def broken(*_args: Any) -> str:
        raise RuntimeError("help is broken")

    monkeypatch.setattr(help_module, "_text", broken)
    await arta.command("/help")
    assert arta.seen("Sorry, something went wrong on our side.")
    monkeypatch.undo()

    fake.inject_429(1.0, retry_after=1, methods={"sendMessage"})
    asked = asyncio.create_task(arta.command("/help"))
    budget = harness.app.services.rate_budget
    async with asyncio.timeout(10):
        while budget.floods == 0:  # noqa: ASYNC110 (the budget has no event to wait on)
            await asyncio.sleep(0.01)
    fake.inject_429(0)
    await asked
    assert "PACT Civic Bot" in arta.last.text

    _status, _type, body = await scrape(port)
    assert value(body, "pact_updates_handled_total", kind="message") == 2
    assert value(body, "pact_updates_failed_total", kind="message") == 1
    assert value(body, "pact_telegram_429_total") == budget.floods >= 1
    assert value(body, "pact_sends_total", path="reply", outcome="sent") == 1, (
        "the apology is not a stored reply"
    )


@pytest.fixture
async def webhook(fake: FakeTelegram, database_url: str) -> AsyncIterator[tuple[BotHarness, int]]:
    """The bot in webhook mode with METRICS_TOKEN set; /metrics on the webhook's port."""
    port = _free_port()
    harness = BotHarness(
        fake,
        database_url,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        metrics_token=METRICS_TOKEN,
    )
    harness.app = build_application(harness.settings, clock=harness.clock)
    await startup(harness.app)
    runner = await start_webhook(harness.app, harness.settings)
    try:
        yield harness, port
    finally:
        await runner.cleanup()
        await shutdown(harness.app)


async def test_webhook_metrics_need_the_token_and_a_storm_reads_the_database_once(
    webhook: tuple[BotHarness, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness, port = webhook
    arta = harness.person(language_code="en")
    await arta.command("/help")

    assert (await scrape(port))[0] == 401
    assert (await scrape(port, token="wrong"))[0] == 401

    reads = {"queues": 0, "cases": 0}
    queues, cases = metrics._queues, metrics._cases

    async def counted_queues(session: Any) -> dict[str, int]:
        reads["queues"] += 1
        return await queues(session)

    async def counted_cases(session: Any) -> dict[str, int]:
        reads["cases"] += 1
        return await cases(session)

    monkeypatch.setattr(metrics, "_queues", counted_queues)
    monkeypatch.setattr(metrics, "_cases", counted_cases)
    storm = await asyncio.gather(*(scrape(port, token=METRICS_TOKEN) for _ in range(20)))
    assert {status for status, _type, _body in storm} == {200}
    assert reads == {"queues": 1, "cases": 1}
    body = storm[0][2]
    assert value(body, "pact_updates_received_total") == 1
    assert value(body, "pact_updates_handled_total", kind="message") == 1
    assert value(body, "pact_sends_total", path="reply", outcome="sent") == 1
    assert value(body, "pact_inbox_backlog") == 0

    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200, "/healthz needs no token"


def test_send_outcomes_and_update_kinds() -> None:
    """How errors map to outcomes; kinds are the update's field names, never an id."""
    assert metrics.send_outcome(None) == "sent"
    assert metrics.send_outcome(Forbidden("bot was blocked by the user")) == "blocked"
    assert metrics.send_outcome(BadRequest("Chat not found")) == "blocked"
    assert metrics.send_outcome(BadRequest("message is too long")) == "failed"
    assert metrics.send_outcome(TimedOut()) == "failed"
    assert metrics.send_outcome(RetryAfter(3)) == "retried"
    assert metrics.send_outcome(NetworkError("reset")) == "retried"
    assert metrics.update_kind(object()) == "other"


async def test_a_failed_unit_of_work_counts_and_a_cancelled_one_does_not() -> None:
    """A failed commit is handled and failed (it is tried again); a stop's cancellation is
    neither (the update waits in the inbox)."""
    counted = metrics.Metrics()

    async def fails() -> None:
        raise OSError("database away")

    async def cancelled() -> None:
        raise asyncio.CancelledError

    with pytest.raises(OSError):
        await counted.observe(object(), fails())
    with pytest.raises(asyncio.CancelledError):
        await counted.observe(object(), cancelled())
    body = generate_latest(counted.registry).decode()  # no database gauges: no services here
    assert value(body, "pact_updates_handled_total", kind="other") == 1
    assert value(body, "pact_updates_failed_total", kind="other") == 1
    assert value(body, "pact_update_seconds_count", kind="other") == 1
