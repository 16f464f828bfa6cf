"""The update queue: numbering, long-poll waiting, confirmation by offset, delivery tracking."""

from __future__ import annotations

import asyncio
from typing import Any

ALL_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}


class UpdateDropped(RuntimeError):
    """The update will never reach the bot (filtered, forgotten or webhook gave up)."""


def allowed_set(allowed_updates: Any) -> frozenset[str]:
    """The update types a getUpdates/setWebhook allowed_updates value lets through."""
    if not allowed_updates or not isinstance(allowed_updates, list):
        return DEFAULT_UPDATE_TYPES
    return frozenset(str(kind) for kind in allowed_updates)


def update_type(update: dict[str, Any]) -> str:
    """The payload key of an update, e.g. "message"."""
    return next(key for key in update if key != "update_id")


class UpdateQueue:
    """Updates waiting for the bot, in order, with events for arrivals and deliveries."""

    def __init__(self) -> None:
        self.last_id = 0
        self.pending: list[dict[str, Any]] = []
        self.sent: dict[int, dict[str, Any]] = {}
        self.repeats: list[dict[str, Any]] = []
        self.delivered: set[int] = set()
        self.dropped: dict[int, str] = {}
        self.closed = False
        self._arrived = asyncio.Event()
        self._delivery: dict[int, asyncio.Event] = {}

    def push(self, kind: str, payload: dict[str, Any]) -> int:
        """Enqueue a new update and wake whoever waits for one; return its update_id."""
        self.last_id += 1
        update = {"update_id": self.last_id, kind: payload}
        self.pending.append(update)
        self.sent[self.last_id] = update
        self.wake()
        return self.last_id

    def redeliver(self, update_id: int) -> None:
        """Send an update again with the next getUpdates, as Telegram does when unsure it landed."""
        self.repeats.append(self.sent[update_id])
        self.wake()

    def wake(self) -> None:
        """Wake every waiter of wait_arrival (new update, webhook change or shutdown)."""
        self._arrived.set()
        self._arrived = asyncio.Event()

    @property
    def undelivered_count(self) -> int:
        """How many queued updates the bot has not fetched yet."""
        return sum(1 for u in self.pending if u["update_id"] not in self.delivered)

    def confirm(self, offset: int | None) -> None:
        """Apply a getUpdates offset: forget updates below it (negative: keep the last N)."""
        if offset is None or offset == 0:
            return
        if offset < 0:
            keep = self.pending[offset:] if -offset < len(self.pending) else self.pending
            for update in self.pending[: len(self.pending) - len(keep)]:
                self._forget(update, "forgotten by a negative offset")
            self.pending = list(keep)
            return
        remaining = []
        for update in self.pending:
            if update["update_id"] < offset:
                self._forget(update, "skipped by getUpdates offset")
            else:
                remaining.append(update)
        self.pending = remaining

    def _forget(self, update: dict[str, Any], reason: str) -> None:
        """Drop a queued update, recording why if the bot never got it."""
        if update["update_id"] not in self.delivered:
            self._drop_id(update["update_id"], reason)

    def take(self, limit: int, allowed: frozenset[str]) -> list[dict[str, Any]]:
        """Updates for a getUpdates answer, marking them delivered; filtered ones are dropped."""
        batch, self.repeats = self.repeats[:limit], self.repeats[limit:]
        for update in list(self.pending):
            if update_type(update) not in allowed:
                self.pending.remove(update)
                self._drop_id(update["update_id"], "not in allowed_updates")
                continue
            if len(batch) < limit and update not in batch:
                batch.append(update)
        for update in batch:
            self.mark_delivered(update["update_id"])
        return batch

    def first_for_webhook(self, allowed: frozenset[str]) -> dict[str, Any] | None:
        """The oldest queued update the webhook should get next, dropping filtered ones."""
        while self.pending:
            update = self.pending[0]
            if update_type(update) in allowed:
                return update
            self.pending.pop(0)
            self._drop_id(update["update_id"], "not in allowed_updates")
        return None

    def mark_delivered(self, update_id: int) -> None:
        """Record that the bot received an update and wake wait_delivered."""
        self.delivered.add(update_id)
        event = self._delivery.pop(update_id, None)
        if event is not None:
            event.set()

    def remove(self, update_id: int) -> None:
        """Take an update out of the queue (webhook answered it)."""
        self.pending = [u for u in self.pending if u["update_id"] != update_id]

    def drop(self, update_id: int, reason: str) -> None:
        """Give up on one queued update."""
        self.remove(update_id)
        self._drop_id(update_id, reason)

    def drop_all(self, reason: str) -> None:
        """Give up on every queued update (drop_pending_updates)."""
        for update in self.pending:
            self._forget(update, reason)
        self.pending = []

    def _drop_id(self, update_id: int, reason: str) -> None:
        """Mark an id dropped and release its waiters."""
        self.dropped[update_id] = reason
        event = self._delivery.pop(update_id, None)
        if event is not None:
            event.set()

    async def wait_arrival(self, timeout: float | None) -> None:
        """Sleep until something is pushed or woken, or the timeout passes."""
        event = self._arrived
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return

    async def wait_delivered(self, update_id: int, timeout: float) -> None:
        """Return once the bot fetched update_id; UpdateDropped or TimeoutError otherwise."""
        if update_id not in self.delivered and update_id not in self.dropped:
            if update_id > self.last_id or update_id < 1:
                raise ValueError(f"no update {update_id} was ever enqueued")
            event = self._delivery.setdefault(update_id, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), timeout)
            except TimeoutError:
                raise TimeoutError(
                    f"update {update_id} not delivered within {timeout}s "
                    f"({self.undelivered_count} pending)"
                ) from None
        if update_id in self.dropped and update_id not in self.delivered:
            raise UpdateDropped(f"update {update_id} dropped: {self.dropped[update_id]}")

    def close(self) -> None:
        """Stop serving: long polls return at once."""
        self.closed = True
        self.wake()
