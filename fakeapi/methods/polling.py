"""Methods that choose how updates reach the bot: getUpdates long polling or a webhook."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import bad_request, conflict
from ..params import Params
from ..registry import api_method
from ..updates import allowed_set

if TYPE_CHECKING:
    from ..core import FakeTelegram

SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_POLL_TIMEOUT = 50.0


@api_method("getUpdates")
async def get_updates(fake: FakeTelegram, p: Params) -> list[dict[str, Any]]:
    """Long-poll for updates; a newer getUpdates or a webhook ends this one with 409."""
    if fake.webhook is not None:
        raise conflict(
            "can't use getUpdates method while webhook is active; use deleteWebhook to delete "
            "the webhook first"
        )
    limit = min(max(p.integer("limit", 100) or 100, 1), 100)
    timeout = min(max(p.number("timeout") or 0.0, 0.0), MAX_POLL_TIMEOUT)
    if p.get("allowed_updates") is not None:
        fake.poll_allowed = allowed_set(p.structured("allowed_updates"))
    queue = fake.queue
    queue.confirm(p.integer("offset"))
    fake.poll_generation += 1
    generation = fake.poll_generation
    queue.wake()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if fake.webhook is not None:
            raise conflict("terminated by setWebhook request")
        if generation != fake.poll_generation:
            raise conflict(
                "terminated by other getUpdates request; make sure that only one bot instance "
                "is running"
            )
        if queue.closed or not p.alive():
            return []
        batch = queue.take(limit, fake.poll_allowed)
        remaining = deadline - loop.time()
        if batch or remaining <= 0:
            return batch
        await queue.wait_arrival(remaining)


def _check_webhook_url(url: str) -> None:
    """HTTPS is required, except plain HTTP to loopback so tests can receive updates."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")


@api_method("setWebhook")
async def set_webhook(fake: FakeTelegram, p: Params) -> bool:
    """Switch to webhook delivery (an empty url switches back to getUpdates)."""
    url = p.text("url") or ""
    secret = p.text("secret_token") or None
    if secret is not None and not SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    if url:
        _check_webhook_url(url)
    if p.flag("drop_pending_updates"):
        fake.queue.drop_all("drop_pending_updates")
    if url:
        fake.webhook_deliverer.set(url, secret, p.structured("allowed_updates"))
    else:
        fake.webhook_deliverer.clear()
    fake.queue.wake()
    return True


@api_method("deleteWebhook")
async def delete_webhook(fake: FakeTelegram, p: Params) -> bool:
    """Switch back to getUpdates, optionally dropping what is queued."""
    fake.webhook_deliverer.clear()
    if p.flag("drop_pending_updates"):
        fake.queue.drop_all("drop_pending_updates")
    return True


@api_method("getWebhookInfo")
async def get_webhook_info(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """The current webhook settings and queue size."""
    return fake.webhook_deliverer.info()
