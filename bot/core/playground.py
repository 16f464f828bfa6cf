"""`pact-bot playground`: the real bot against a local fake Telegram, chatted with in a terminal."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import SecretStr
from pypdf import PdfWriter

from bot.app import build_application
from bot.core import logs
from bot.core.application import PactApplication
from bot.core.lifecycle import shutdown, start_polling, startup
from bot.core.settings import Settings
from fakeapi import FakeMessage, FakeTelegram, FakeUser

TOKEN = "100000:PLAYGROUND"
PLAYER_ID = 424242
HELP = """Type a message, a /command, or the number of a button.
  :photo [caption]  :location  :voice  :document  :contact  :sticker
  :block  :unblock  :restart (restart the bot, same database)  :help  :quit"""

InputFn = Callable[[str], Awaitable[str]]
OutputFn = Callable[[str], None]


async def _terminal_input(prompt: str) -> str:
    """Read a line without blocking the bot (which runs in the same loop)."""
    return await asyncio.to_thread(input, prompt)


def sample_pdf() -> bytes:
    """A one-page PDF whose metadata names its author, so the cleaning can be seen."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Author": "Arta Kelmendi", "/Title": "Deklaratë"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


class Playground:
    """One person chatting with the bot; prints what the bot sends and numbers its buttons."""

    def __init__(self, settings: Settings, language: str, write: OutputFn) -> None:
        self.fake = FakeTelegram(bot_username="pact_playground_bot")
        self.settings = settings
        self.language = language
        self.write = write
        self.app: PactApplication
        self.user: FakeUser
        self.shown: dict[int, tuple[int, str | None]] = {}
        self.buttons: dict[int, tuple[FakeMessage, str]] = {}

    async def start(self) -> None:
        """Fake server first, then the bot pointed at it."""
        await self.fake.start()
        self.settings = self.settings.model_copy(
            update={
                "bot_token": SecretStr(TOKEN),
                "telegram_base_url": self.fake.base_url,
                "telegram_base_file_url": self.fake.base_file_url,
                "webhook_url": None,
            }
        )
        await self._start_bot()
        self.user = self.fake.user(PLAYER_ID, "Playground", language_code=self.language)

    async def _start_bot(self) -> None:
        self.app = build_application(self.settings)
        await startup(self.app)
        await start_polling(self.app, timeout=5)

    async def stop(self) -> None:
        """Bot first, then the fake server."""
        await shutdown(self.app)
        await self.fake.stop()

    async def handle(self, line: str) -> bool:
        """Act on one line of input; False means quit."""
        line = line.strip()
        if not line:
            return True
        if line in (":quit", ":q", ":exit"):
            return False
        if line == ":help":
            self.write(HELP)
            return True
        if line == ":restart":
            await shutdown(self.app)
            await self._start_bot()
            self.write("(bot restarted)")
            return True
        try:
            update_id = await self._act(line)
        except (RuntimeError, LookupError) as refusal:
            self.write(f"({refusal})")
            return True
        if update_id is not None:
            await self.fake.wait_delivered(update_id)
            await self.app.wait_processed(update_id)
            self.render()
        return True

    async def _act(self, line: str) -> int | None:
        """Turn a line into a user action."""
        user = self.user
        if line.isdigit():
            target = self.buttons.get(int(line))
            if target is None:
                self.write("(no button with that number)")
                return None
            return await user.press(target[1], message=target[0])
        if line.startswith("/"):
            command, _, args = line.partition(" ")
            return await user.send_command(command, args=args)
        if line.startswith(":"):
            return await self._special(line)
        return await user.send_text(line)

    async def _special(self, line: str) -> int | None:
        """Simulated media and account events."""
        name, _, rest = line[1:].partition(" ")
        actions: dict[str, Callable[[], Awaitable[int]]] = {
            "photo": lambda: self.user.send_photo(caption=rest or None),
            "location": lambda: self.user.send_location(42.0683, 19.5126),
            "voice": lambda: self.user.send_voice(duration=4),
            "document": lambda: self.user.send_document(
                file_name="Deklarata_Arta_Kelmendi.pdf",
                mime_type="application/pdf",
                content=sample_pdf(),
            ),
            "contact": lambda: self.user.send_contact(phone_number="+355690000000"),
            "sticker": lambda: self.user.send_sticker(),
            "block": lambda: self.user.block(),
            "unblock": lambda: self.user.unblock(),
        }
        if name not in actions:
            self.write(f"(unknown action :{name}; type :help)")
            return None
        return await actions[name]()

    def render(self) -> None:
        """Print new and edited bot messages; number the buttons of the newest ones."""
        self.buttons = {}
        number = 0
        for message in self.user.messages:
            state = (message.edits, message.text)
            if self.shown.get(message.message_id) == state:
                continue
            edited = message.message_id in self.shown
            self.shown[message.message_id] = state
            self.write("── bot (edited) ──" if edited else "── bot ──")
            self.write(_describe(message))
            rows = []
            for row in message.buttons:
                cells = []
                for label in row:
                    number += 1
                    self.buttons[number] = (message, label)
                    cells.append(f"[{number}] {label}")
                rows.append("   ".join(cells))
            for row_text in rows:
                self.write("  " + row_text)


def _describe(message: FakeMessage) -> str:
    """Plain text of a message, or what it carries."""
    if message.document:
        doc: dict[str, Any] = message.document
        size = len(doc.get("content") or b"")
        return f"📎 {doc.get('file_name')} ({size} bytes)" + (
            f"\n{message.text}" if message.text else ""
        )
    if message.photo:
        return "🖼 photo" + (f"\n{message.text}" if message.text else "")
    if message.location:
        return f"📍 {message.location}"
    return message.text or f"({message.kind})"


async def play(
    settings: Settings,
    language: str = "sq",
    read: InputFn = _terminal_input,
    write: OutputFn = print,
) -> None:
    """Run the playground until :quit or end of input."""
    logs.configure("WARNING")
    ground = Playground(settings, language, write)
    await ground.start()
    write(f"PACT Civic Bot playground — database: {settings.database_url}")
    write(HELP)
    write("Start with /start.")
    try:
        while True:
            try:
                line = await read("> ")
            except EOFError:
                break
            if not await ground.handle(line):
                break
    finally:
        await ground.stop()
