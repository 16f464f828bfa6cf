"""Drives the real Application over HTTP against the fake Bot API; actions wait until handled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.app import build_application
from bot.core.application import PactApplication
from bot.core.clock import ManualClock
from bot.core.lifecycle import shutdown, start_polling, startup
from bot.core.settings import Settings
from db.models import Consent, User
from db.repositories.users import by_telegram_id
from fakeapi import FakeTelegram

TOKEN = "123456:TEST-TOKEN"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Person:
    """A fake Telegram user; every action returns once the bot has finished handling it."""

    def __init__(self, harness: BotHarness, fake_user: Any) -> None:
        self._harness = harness
        self.fake = fake_user

    async def _done(self, update_id: int) -> None:
        await self._harness.fake.wait_delivered(update_id, timeout=10)
        await self._harness.app.wait_processed(update_id, timeout=10)

    async def command(self, command: str, args: str = "") -> None:
        """Type a command such as /start."""
        await self._done(await self.fake.send_command(command, args=args))

    async def text(self, text: str) -> None:
        """Type a message."""
        await self._done(await self.fake.send_text(text))

    async def press(self, label: str, message: Any = None) -> None:
        """Tap an inline button by its label."""
        await self._done(await self.fake.press(label, message=message))

    async def press_data(self, data: str, message_id: int) -> None:
        """Tap a button carrying raw callback data (stale or forged)."""
        await self._done(await self.fake.press_data(data, message_id=message_id))

    async def act(self, method: str, *args: Any, **kwargs: Any) -> None:
        """Any other FakeUser action (send_photo, send_sticker, block, ...)."""
        await self._done(await getattr(self.fake, method)(*args, **kwargs))

    @property
    def messages(self) -> list[Any]:
        """What the bot sent into this chat, in order."""
        return list(self.fake.messages)

    @property
    def last(self) -> Any:
        """The newest bot message."""
        return self.fake.last

    def texts(self) -> list[str]:
        """Text of every bot message."""
        return [m.text or "" for m in self.fake.messages]

    def seen(self, fragment: str) -> bool:
        """Whether any bot message contains the fragment."""
        return any(fragment in text for text in self.texts())


class BotHarness:
    """The fake server, the bot built by build_application, a manual clock, and the database.

    The broadcast sender runs without its rate limiter unless a test asks for BROADCAST_RATE, and
    flood control is off (the manual clock stands still) unless a test sets UPDATES_PER_MINUTE.
    """

    def __init__(self, fake: FakeTelegram, database_url: str, **overrides: Any) -> None:
        self.fake = fake
        self.clock = ManualClock(START)
        self.settings = Settings(
            _env_file=None,
            bot_token=TOKEN,
            database_url=database_url,
            telegram_base_url=fake.base_url,
            telegram_base_file_url=fake.base_file_url,
            **{
                "reminder_poll_seconds": 0,
                "broadcast_rate": 0,
                "updates_per_minute": 10_000,  # the clock stands still: flood tests set their own
                **overrides,
            },
        )
        self.app: PactApplication
        self._next_user = 5000

    async def start(self) -> None:
        """Build a fresh Application (as a new process would) and start polling."""
        self.app = build_application(self.settings, clock=self.clock)
        await startup(self.app)
        await start_polling(self.app, timeout=1)

    async def stop(self) -> None:
        """Stop like SIGTERM would."""
        await shutdown(self.app)

    async def settle(self, update_id: int) -> None:
        """Wait until an update sent by other means (e.g. a group) was handled."""
        await self.fake.wait_delivered(update_id, timeout=10)
        await self.app.wait_processed(update_id, timeout=10)

    async def restart(self) -> None:
        """Stop and start a new Application on the same database."""
        await self.stop()
        await self.start()

    def person(self, language_code: str = "sq", first_name: str = "Arta", **kwargs: Any) -> Person:
        """A new Telegram user talking to the bot."""
        self._next_user += 1
        fake_user = self.fake.user(
            user_id=self._next_user, first_name=first_name, language_code=language_code, **kwargs
        )
        return Person(self, fake_user)

    async def user_row(self, person: Person) -> User | None:
        """The stored user of a person, consents loaded."""
        async with self.app.services.sessions() as session:
            return await by_telegram_id(session, person.fake.user_id)

    async def consents(self, person: Person) -> list[Consent]:
        """All consent rows of a person."""
        async with self.app.services.sessions() as session:
            rows = await session.execute(
                select(Consent).join(User).where(User.telegram_id == person.fake.user_id)
            )
            return list(rows.scalars())
