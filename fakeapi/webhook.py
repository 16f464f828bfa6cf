"""Webhook mode: POSTs queued updates to the bot's URL, one at a time, in order, with retries."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from .updates import UpdateQueue, allowed_set

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST attempt: which update, the HTTP status (None if the connection failed)."""

    update_id: int
    status: int | None
    error: str | None = None


class WebhookDeliverer:
    """Owns the webhook setting and the background task that delivers updates to it."""

    def __init__(self, queue: UpdateQueue, attempts: int = 3, retry_delay: float = 0.05) -> None:
        self.queue = queue
        self.attempts = attempts
        self.retry_delay = retry_delay
        self.config: dict[str, Any] | None = None
        self.deliveries: list[WebhookDelivery] = []
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def set(self, url: str, secret_token: str | None, allowed_updates: Any) -> None:
        """Switch to webhook mode (replacing any previous webhook) and start delivering."""
        self._cancel()
        self.config = {
            "url": url,
            "secret_token": secret_token,
            "allowed_updates": allowed_updates if isinstance(allowed_updates, list) else None,
        }
        self.last_error_date = None
        self.last_error_message = None
        self._task = asyncio.get_running_loop().create_task(self._run(), name="fake-webhook")

    def clear(self) -> None:
        """Leave webhook mode; queued updates stay for getUpdates."""
        self._cancel()
        self.config = None

    def _cancel(self) -> None:
        """Stop the delivery task; an update mid-flight stays queued."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def close(self) -> None:
        """Stop delivering and close the HTTP client."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        """Deliver queued updates oldest first, waiting for new ones while idle."""
        config = self.config
        if config is None:
            return
        allowed = allowed_set(config["allowed_updates"])
        while not self.queue.closed:
            update = self.queue.first_for_webhook(allowed)
            if update is None:
                await self.queue.wait_arrival(None)
                continue
            await self._deliver(update, config)

    async def _deliver(self, update: dict[str, Any], config: dict[str, Any]) -> None:
        """POST one update, retrying non-2xx answers, and give up after a few attempts."""
        update_id = update["update_id"]
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.retry_delay)
            delivery = await self._post(update, config)
            self.deliveries.append(delivery)
            if delivery.status is not None and 200 <= delivery.status < 300:
                self.queue.remove(update_id)
                self.queue.mark_delivered(update_id)
                return
            self.last_error_date = int(time.time())
            self.last_error_message = (
                delivery.error or f"Wrong response from the webhook: {delivery.status}"
            )
        self.queue.drop(update_id, f"webhook failed: {self.last_error_message}")

    async def _post(self, update: dict[str, Any], config: dict[str, Any]) -> WebhookDelivery:
        """One HTTP attempt."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {}
        if config["secret_token"]:
            headers[SECRET_HEADER] = config["secret_token"]
        try:
            async with self._session.post(config["url"], json=update, headers=headers) as resp:
                await resp.read()
                return WebhookDelivery(update["update_id"], resp.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return WebhookDelivery(update["update_id"], None, f"Connection failed: {exc!r}")

    def info(self) -> dict[str, Any]:
        """The Bot API WebhookInfo object."""
        info: dict[str, Any] = {
            "url": self.config["url"] if self.config else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.queue.pending),
        }
        if self.config:
            info["max_connections"] = 40
            if self.config["allowed_updates"] is not None:
                info["allowed_updates"] = self.config["allowed_updates"]
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        return info
