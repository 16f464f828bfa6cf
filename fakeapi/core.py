"""FakeTelegram: the fake Bot API server object tests and the playground hold on to."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from .message import FakeMessage
from .registry import ApiCall
from .server import build_app
from .state import BotState, Chat
from .throttle import FloodInjector
from .updates import DEFAULT_UPDATE_TYPES, UpdateQueue
from .users import FakeGroup, FakeUser
from .webhook import WebhookDeliverer, WebhookDelivery


class _Clock(Protocol):
    """Anything with ``now()`` returning an aware datetime (see bot.core.clock)."""

    def now(self) -> datetime:
        """The current time."""
        ...


class FakeTelegram:
    """An in-process Bot API over real HTTP on loopback, with fake users to talk to the bot."""

    def __init__(
        self,
        bot_username: str = "pact_test_bot",
        bot_id: int = 777000,
        *,
        bot_name: str = "PACT Test Bot",
        token: str | None = None,
        clock: _Clock | None = None,
    ) -> None:
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.token = token
        self.clock = clock
        self.state = BotState()
        self.queue = UpdateQueue()
        self.webhook_deliverer = WebhookDeliverer(self.queue)
        self.flood = FloodInjector()
        self.forum_topics: dict[int, dict[int, str]] = {}
        """Topics created in forum groups: chat id → thread id → name."""
        self.latency = 0.0
        """Seconds every method but getUpdates waits before answering (a far-away server)."""
        self.held_chats: dict[int, asyncio.Event] = {}
        """Chats whose sends wait until their event is set (a chat Telegram makes us wait for)."""
        self.calls: list[ApiCall] = []
        self.poll_allowed = DEFAULT_UPDATE_TYPES
        self.poll_generation = 0
        self.host: str | None = None
        self.port: int | None = None
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve the Bot API on host:port (0 picks a free port)."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram already started")
        if self.queue.closed:
            raise RuntimeError("a stopped FakeTelegram cannot be restarted; make a new one")
        runner = web.AppRunner(build_app(self), shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self.host = host
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        """End long polls and webhook deliveries, then close the server."""
        self.queue.close()
        self._notify()
        await self.webhook_deliverer.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The Bot API URL prefix PTB appends "{token}/{method}" to."""
        return f"{self._origin()}/bot"

    @property
    def base_file_url(self) -> str:
        """The file download URL prefix PTB appends "{token}/{file_path}" to."""
        return f"{self._origin()}/file/bot"

    def _origin(self) -> str:
        """http://host:port of the running server."""
        if self.port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot's Bot API User object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def now(self) -> int:
        """Unix time for message dates, from the injected clock if any."""
        if self.clock is not None:
            return int(self.clock.now().timestamp())
        return int(time.time())

    def user(
        self,
        user_id: int = 1001,
        first_name: str = "Arta",
        language_code: str | None = "sq",
        username: str | None = None,
        last_name: str | None = None,
    ) -> FakeUser:
        """A fake user with a private chat (chat id == user id); the same id returns it again."""
        if user_id in self._users:
            return self._users[user_id]
        if user_id in self.state.chats:
            raise ValueError(f"chat {user_id} is already registered as a group")
        user = FakeUser(self, user_id, first_name, language_code, username, last_name)
        self._users[user_id] = user
        self.state.users[user_id] = user.to_api()
        self.state.chats[user_id] = Chat(
            id=user_id,
            type="private",
            first_name=first_name,
            last_name=last_name,
            username=username,
        )
        return user

    def group(
        self,
        chat_id: int = -100123,
        title: str = "Staff",
        is_forum: bool = False,
        username: str | None = None,
    ) -> FakeGroup:
        """A supergroup the bot is a member of; the same id returns it again."""
        if chat_id in self._groups:
            return self._groups[chat_id]
        if chat_id in self.state.chats:
            raise ValueError(f"chat {chat_id} is already registered as a private chat")
        self.state.chats[chat_id] = Chat(
            id=chat_id, type="supergroup", title=title, is_forum=is_forum, username=username
        )
        group = FakeGroup(self, chat_id)
        self._groups[chat_id] = group
        return group

    def chat_messages(self, chat_id: int) -> list[FakeMessage]:
        """Live messages the bot sent into a chat, oldest first."""
        return self.state.chat(chat_id).bot_messages()

    def commands(
        self,
        scope_type: str = "default",
        language_code: str = "",
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> list[tuple[str, str]]:
        """(command, description) pairs last set by setMyCommands for that scope/language."""
        return list(self.state.commands.get((scope_type, chat_id, user_id, language_code), []))

    def inject_429(
        self,
        share: float,
        retry_after: int = 1,
        methods: set[str] | None = None,
        seed: int = 0,
    ) -> None:
        """Answer a seeded share of calls with 429 (see throttle.FloodInjector); 0 disables."""
        self.flood.configure(share, retry_after, methods, seed)

    @property
    def webhook(self) -> dict[str, Any] | None:
        """url, secret_token and allowed_updates of the webhook, or None when polling."""
        config = self.webhook_deliverer.config
        return dict(config) if config is not None else None

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every webhook POST attempt with its HTTP status, in order."""
        return self.webhook_deliverer.deliveries

    @property
    def pending_updates(self) -> int:
        """Updates the bot has not received yet."""
        return self.queue.undelivered_count

    def enqueue(self, kind: str, payload: dict[str, Any]) -> int:
        """Queue an update of the given kind for the bot; returns its update_id."""
        update_id = self.queue.push(kind, payload)
        self._notify()
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Deliver an already sent update once more (same update_id) with the next getUpdates."""
        self.queue.redeliver(update_id)
        self._notify()

    async def wait_delivered(self, update_id: int, timeout: float = 10) -> None:
        """Wait until the bot fetched (or its webhook accepted) that update."""
        await self.queue.wait_delivered(update_id, timeout)

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5) -> Any:
        """Wait until predicate() is truthy, re-checking after every API call; return it."""
        async with asyncio.timeout(timeout):
            while True:
                value = predicate()
                if value:
                    return value
                await self._changed.wait()

    def _notify(self) -> None:
        """Wake wait_until callers after any state change."""
        self._changed.set()
        self._changed = asyncio.Event()

    def record(self, call: ApiCall) -> None:
        """Log an answered API call and wake waiters."""
        self.calls.append(call)
        self._notify()

    def calls_to(self, method: str) -> list[ApiCall]:
        """The logged calls of one method (case-insensitive), in order."""
        return [call for call in self.calls if call.method.lower() == method.lower()]
