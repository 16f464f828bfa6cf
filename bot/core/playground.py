"""`pact-bot playground`: the real bot against a local fake Telegram, chatted with in a terminal.

What a phone would show is printed: messages and their edits, buttons (numbered once for the whole
session, so those of older messages keep working), toasts and alerts, files (saved to disk), map
points, and the staff group as a second chat. `:advance` moves the bot's clock and runs what came
due. Log lines go to a file so they do not mix with the chat.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import SecretStr
from pypdf import PdfWriter
from sqlalchemy import func, select

from bot.app import build_application
from bot.core import jobs, logs
from bot.core.application import PactApplication
from bot.core.clock import Clock, SystemClock
from bot.core.lifecycle import shutdown, start_polling, startup
from bot.core.settings import Settings
from bot.core.webhook import start_http
from db.models import InboxUpdate
from fakeapi import FakeGroup, FakeMessage, FakeTelegram, FakeUser

TOKEN = "100000:PLAYGROUND"
PLAYER_ID = 424242
STAFF_CHAT_ID = -100424242
"""The staff group's id when STAFF_CHAT_ID is not set."""
FILES_DIR = Path("data") / "playground"
LOG_NAME = "bot.log"
ME, STAFF = "me", "staff"
DEFAULT_POINT = (42.0683, 19.5126)
PHONE = "+355690000000"
CONTINUE = "\\"
DURATION = re.compile(r"(\d+)([dhm])")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}
MAGIC_EXTENSIONS = ((b"\x89PNG", ".png"), (b"\xff\xd8", ".jpg"), (b"GIF8", ".gif"))

InputFn = Callable[[str], Awaitable[str]]
OutputFn = Callable[[str], None]
Action = Callable[[str], Awaitable[int | None]]


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


class ShiftedClock:
    """Another clock moved forward by `:advance`, so what is due in days can be tried now."""

    def __init__(self, base: Clock) -> None:
        self.base = base
        self.offset = timedelta()

    def now(self) -> datetime:
        """The base clock's time plus every advance so far."""
        return self.base.now() + self.offset

    def advance(self, delta: timedelta) -> None:
        """Move the bot's time forward."""
        self.offset += delta


def parse_duration(spec: str) -> timedelta | None:
    """ "3d", "12h", "30m" or combined ("1d12h") as a timedelta; None when not that."""
    compact = spec.replace(" ", "").lower()
    parts = DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        return None
    return sum((timedelta(**{UNITS[unit]: int(n)}) for n, unit in parts), timedelta())


@dataclass(frozen=True)
class Button:
    """A numbered button: where it is and what it says; reply buttons send their text."""

    chat_id: int
    message_id: int
    label: str
    inline: bool


@dataclass(frozen=True)
class Command:
    """A `:command` of the playground, with its usage and help line."""

    usage: str
    summary: str
    run: Action


class Playground:
    """One person chatting with the bot, in a private chat and the staff group."""

    def __init__(
        self,
        settings: Settings,
        language: str,
        write: OutputFn,
        *,
        clock: Clock | None = None,
        files_dir: Path = FILES_DIR,
    ) -> None:
        self.clock = ShiftedClock(clock or SystemClock())
        self.fake = FakeTelegram(bot_username="pact_playground_bot", clock=self.clock)
        self.settings = settings
        self.language = language
        self.write = write
        self.files_dir = files_dir
        self.app: PactApplication
        self.http: web.AppRunner | None = None
        """The HTTP server (/healthz, the public site) when WEB_PORT or HEALTH_PORT is set."""
        self.user: FakeUser
        self.group: FakeGroup
        self.chat = ME
        self.shown: dict[tuple[int, int], tuple[int, str | None]] = {}
        self.announced: set[tuple[int, int]] = set()
        self.numbers: dict[tuple[int, int, str], int] = {}
        self.buttons: dict[int, Button] = {}
        self.toasts_seen = 0
        self.lines: list[str] | None = None
        """Lines of a message being typed over several lines (`\\` or `:multi`)."""
        self.multi = False
        self.user_action = UserActions(self)
        self.commands = self._command_table()

    def _command_table(self) -> dict[str, Command]:
        """Every `:command`; the help is made from this table."""
        mine = self._in_private_chat
        user = self.user_action
        return {
            "help": Command(":help", "this help", self._help),
            "chat": Command(
                ":chat me|staff", "switch to your private chat or the staff group", self._switch
            ),
            "press": Command(
                ":press N | :press label",
                "press button N, or the newest button with that label here",
                self._press_command,
            ),
            "advance": Command(
                ":advance 3d|12h|30m",
                "move the bot's clock on and send what came due",
                self._advance,
            ),
            "multi": Command(
                ":multi … :end",
                f"type one message over several lines (or end a line with {CONTINUE})",
                self._start_multi,
            ),
            "photo": Command(":photo [caption]", "send a photo", mine(user.photo)),
            "location": Command(
                ":location [lat lon]", "share a location (42.0683 19.5126)", mine(user.location)
            ),
            "voice": Command(":voice [seconds]", "send a voice note", mine(user.voice)),
            "document": Command(":document", "send a PDF naming its author", mine(user.document)),
            "contact": Command(":contact", "share your phone number", mine(user.contact)),
            "sticker": Command(":sticker", "send a sticker", mine(user.sticker)),
            "block": Command(":block", "block the bot", mine(user.block)),
            "unblock": Command(":unblock", "unblock the bot", mine(user.unblock)),
            "restart": Command(":restart", "restart the bot on the same database", self._restart),
            "quit": Command(":quit", "leave (also :q, :exit, Ctrl-D)", self._quit),
        }

    async def start(self) -> None:
        """Fake server first, then the bot pointed at it, with the staff group registered."""
        await self.fake.start()
        self.settings = self.settings.model_copy(
            update={
                "bot_token": SecretStr(TOKEN),
                "telegram_base_url": self.fake.base_url,
                "telegram_base_file_url": self.fake.base_file_url,
                "webhook_url": None,
                "staff_chat_id": self.settings.staff_chat_id or STAFF_CHAT_ID,
            }
        )
        self.user = self.fake.user(PLAYER_ID, "Playground", language_code=self.language)
        self.group = self.fake.group(self.settings.staff_chat_id or STAFF_CHAT_ID, "PACT staff")
        await self._start_bot()

    async def _start_bot(self) -> None:
        self.app = build_application(self.settings, clock=self.clock)
        await startup(self.app)
        await self._continue_update_ids()
        await start_polling(self.app, timeout=5)
        if self.settings.health_port is not None:
            self.http = await start_http(self.app, self.settings, self.settings.health_port)

    async def _stop_bot(self) -> None:
        if self.http is not None:
            await self.http.cleanup()
            self.http = None
        await shutdown(self.app)

    async def _continue_update_ids(self) -> None:
        """Number new updates after those the database has stored, as Telegram never reuses one:
        a playground started again on the same database would otherwise send ids the bot's inbox
        already holds as done, and the bot would never answer."""
        async with self.app.services.sessions() as session:
            stored = await session.scalar(select(func.max(InboxUpdate.update_id)))
        self.fake.queue.last_id = max(self.fake.queue.last_id, stored or 0)

    async def stop(self) -> None:
        """Bot first, then the fake server."""
        await self._stop_bot()
        await self.fake.stop()

    async def loop(self, read: InputFn) -> None:
        """Read and act on lines until :quit or the end of input."""
        while True:
            try:
                line = await read("> ")
            except EOFError:
                return
            if not await self.handle(line):
                return

    @property
    def staff_chat_id(self) -> int:
        """The staff group's chat id."""
        return self.group.chat_id

    async def handle(self, line: str) -> bool:
        """Act on one line of input; False means quit."""
        text = self._collect(line)
        if text is None:
            return True
        if not text.strip():
            self.render()
            return True
        try:
            update_id = await self._act(text)
        except (RuntimeError, LookupError, ValueError) as refusal:
            self.write(f"({refusal})")
            return True
        except _Quit:
            return False
        if update_id is not None:
            await self.settle(update_id)
        return True

    async def settle(self, update_id: int) -> None:
        """Wait until the bot has handled an update, then show what changed."""
        await self.fake.wait_delivered(update_id)
        await self.app.wait_processed(update_id)
        self.render()

    def _collect(self, line: str) -> str | None:
        """The whole message once its last line is in; None while more lines are expected."""
        line = line.rstrip("\r\n")
        if self.multi:
            if line.strip() != ":end":
                assert self.lines is not None
                self.lines.append(line)
                return None
            self.multi = False
            lines, self.lines = self.lines or [], None
            joined = "\n".join(lines).strip("\n")
            return joined if joined.strip() else ""
        if line.rstrip().endswith(CONTINUE):
            self.lines = [*(self.lines or []), line.rstrip()[: -len(CONTINUE)]]
            return None
        if self.lines is not None:
            lines, self.lines = [*self.lines, line], None
            return "\n".join(lines)
        return line.strip()

    async def _act(self, text: str) -> int | None:
        """Turn a message, a /command, a button number or a :command into an action."""
        if text.isdigit():
            return await self._press_number(int(text))
        if text.startswith(":") and "\n" not in text:
            name, _, rest = text[1:].partition(" ")
            name = {"q": "quit", "exit": "quit"}.get(name, name)
            command = self.commands.get(name)
            if command is None:
                self.write(f"(unknown command :{name}; type :help)")
                return None
            return await command.run(rest.strip())
        if self.chat == STAFF:
            if text.startswith("/") and "\n" not in text:
                command_name, _, args = text.partition(" ")
                return await self.group.send_command(self.user, command_name, args=args)
            return await self.group.send_text(self.user, text)
        if text.startswith("/") and "\n" not in text:
            command_name, _, args = text.partition(" ")
            return await self.user.send_command(command_name, args=args)
        reply = self._reply_button(text)
        if reply is not None:
            return await reply
        return await self.user.send_text(text)

    # --- :commands -----------------------------------------------------------------------

    async def _help(self, _rest: str) -> None:
        self.write(self.help_text())
        return None

    def help_text(self) -> str:
        """Who you are, how to get staff rights, how to type, and every :command."""
        admin = PLAYER_ID in self.settings.admin_ids
        rights = (
            "You are an administrator (ADMIN_IDS)."
            if admin
            else f"To try staff features, start with ADMIN_IDS={PLAYER_ID}, e.g.\n"
            f"  ADMIN_IDS={PLAYER_ID} pact-bot playground"
        )
        width = max(len(c.usage) for c in self.commands.values())
        lines = [
            f"You are Telegram user {PLAYER_ID} (chat: {self.chat}). {rights}",
            "Staff commands (/inbox, /stats, /export, /broadcasts…) go in the private chat; the",
            "staff group, where case cards and alerts arrive, is :chat staff.",
            "Type a message or a /command. Type a button's number to press it: numbers stay",
            "valid on older messages as long as the button is there.",
            f"A line ending in {CONTINUE} goes on in the next line; :multi … :end types several",
            "lines as one message (poll options). An empty line shows what arrived since.",
            f"Files the bot sends are saved in {self.files_dir}/; logs go to "
            f"{self.files_dir / LOG_NAME}.",
            "Commands:",
        ]
        lines += [f"  {c.usage.ljust(width)}  {c.summary}" for c in self.commands.values()]
        return "\n".join(lines)

    async def _switch(self, rest: str) -> None:
        target = rest.lower()
        if target not in (ME, STAFF):
            self.write("(:chat me or :chat staff)")
            return None
        self.chat = target
        where = "your private chat with the bot" if target == ME else "the staff group"
        self.write(f"(now in {where})")
        self.render()
        return None

    async def _press_command(self, rest: str) -> int | None:
        if rest.isdigit():
            return await self._press_number(int(rest))
        if not rest:
            self.write("(:press N or :press label)")
            return None
        return await self._press_label(rest)

    async def _advance(self, rest: str) -> None:
        delta = parse_duration(rest)
        if delta is None or not delta:
            self.write("(:advance 3d, 12h, 30m or 1d12h)")
            return None
        self.clock.advance(delta)
        sent = await run_due_work(self.app)
        local = self.clock.now().astimezone(self.settings.tz)
        self.write(
            f"(clock moved on {rest}: it is now {local:%a %d %b %Y %H:%M} "
            f"{self.settings.timezone}; {sent} due message(s) sent)"
        )
        self.render()
        return None

    async def _start_multi(self, _rest: str) -> None:
        self.multi, self.lines = True, []
        self.write("(type the lines; :end sends them as one message)")
        return None

    async def _restart(self, _rest: str) -> None:
        await self._stop_bot()
        await self._start_bot()
        self.write("(bot restarted)")
        return None

    async def _quit(self, _rest: str) -> None:
        raise _Quit

    def _in_private_chat(self, make: Action) -> Action:
        """A :command only a person's private chat takes (media, blocking)."""

        async def run(rest: str) -> int | None:
            if self.chat == STAFF:
                self.write("(the staff group takes text, /commands and buttons; :chat me first)")
                return None
            return await make(rest)

        return run

    # --- buttons ---------------------------------------------------------------------------

    async def _press_number(self, number: int) -> int | None:
        button = self.buttons.get(number)
        if button is None:
            self.write("(no button with that number)")
            return None
        message = self.fake.state.chat(button.chat_id).find(button.message_id)
        labels = self._labels(message, inline=button.inline) if message else []
        if message is None or button.label not in labels:
            self.write("(that button is gone: its message changed or was deleted)")
            return None
        return await self._press(message, button)

    async def _press_label(self, wanted: str) -> int | None:
        """The newest button in the current chat labelled so (exactly, else containing it)."""
        chat_id = self.user.user_id if self.chat == ME else self.staff_chat_id
        messages = list(reversed(self.fake.chat_messages(chat_id)))
        for exact in (True, False):
            for message in messages:
                for inline in (True, False):
                    for label in self._labels(message, inline=inline):
                        same = label == wanted if exact else wanted.lower() in label.lower()
                        if same:
                            button = Button(chat_id, message.message_id, label, inline)
                            return await self._press(message, button)
        raise LookupError(f"no button {wanted!r} in this chat")

    async def _press(self, message: FakeMessage, button: Button) -> int | None:
        if not button.inline:
            return await self._send_reply_button(message, button.label)
        data = message.button(button.label)
        if "callback_data" not in data:
            self.write(f"(this button opens {data.get('url') or 'something outside Telegram'})")
            return None
        if button.chat_id == self.staff_chat_id:
            return await self.group.press(self.user, button.label, message=message)
        return await self.user.press(button.label, message=message)

    def _reply_button(self, text: str) -> Awaitable[int] | None:
        """Typing the label of a location or contact reply button shares it, as a phone does."""
        for message in reversed(self.user.messages):
            if text in self._labels(message, inline=False):
                return self._send_reply_button(message, text)
        return None

    async def _send_reply_button(self, message: FakeMessage, label: str) -> int:
        """What tapping a reply-keyboard button sends: its text, or a location, or a contact."""
        markup = message.reply_markup or {}
        spec = next(
            (b for row in markup.get("keyboard", []) for b in row if _reply_label(b) == label), {}
        )
        if isinstance(spec, dict) and spec.get("request_location"):
            return await self.user.send_location(*DEFAULT_POINT)
        if isinstance(spec, dict) and spec.get("request_contact"):
            return await self.user.send_contact(phone_number=PHONE)
        if message.chat_id == self.staff_chat_id:
            return await self.group.send_text(self.user, label)
        return await self.user.send_text(label)

    @staticmethod
    def _labels(message: FakeMessage | None, *, inline: bool) -> list[str]:
        """Inline button labels, or reply keyboard labels, of a message."""
        if message is None:
            return []
        if inline:
            return message.labels
        return [label for row in message.reply_keyboard or [] for label in row]

    def _number(self, chat_id: int, message_id: int, label: str, inline: bool) -> int:
        """The session-wide number of a button (the same while it stays on its message)."""
        key = (chat_id, message_id, label if inline else f"\0{label}")
        if key not in self.numbers:
            self.numbers[key] = len(self.numbers) + 1
            self.buttons[self.numbers[key]] = Button(chat_id, message_id, label, inline)
        return self.numbers[key]

    # --- output ----------------------------------------------------------------------------

    def render(self) -> None:
        """Print toasts, new and edited messages of the current chat; announce the other's."""
        self._toasts()
        current, other = (self.user.user_id, self.staff_chat_id)
        if self.chat == STAFF:
            current, other = other, current
        for message in self.fake.chat_messages(current):
            key = (current, message.message_id)
            state = (message.edits, message.text)
            if self.shown.get(key) == state:
                continue
            before = self.shown.get(key)
            self.shown[key] = state
            self._print(message, before[1] if before else None)
        fresh = [
            m
            for m in self.fake.chat_messages(other)
            if (other, m.message_id) not in self.shown
            and (other, m.message_id) not in self.announced
        ]
        if fresh:
            self.announced.update((other, m.message_id) for m in fresh)
            name = "the staff group" if other == self.staff_chat_id else "your private chat"
            switch = STAFF if other == self.staff_chat_id else ME
            self.write(f"(🔔 {len(fresh)} new in {name}: :chat {switch})")

    def _toasts(self) -> None:
        """Button answers with text: a toast, or an alert that needs an OK on a phone."""
        answers = self.user.callback_answers
        for answer in answers[self.toasts_seen :]:
            if answer.get("text"):
                kind = "⚠️ alert" if answer.get("show_alert") else "💬 toast"
                self.write(f"{kind}: {answer['text']}")
        self.toasts_seen = len(answers)

    def _print(self, message: FakeMessage, before: str | None) -> None:
        """A message with its buttons; of an edit that only added lines, just those lines."""
        where = " · staff group" if message.chat_id == self.staff_chat_id else ""
        text = message.text or ""
        if before and text.startswith(before) and text != before:
            self.write(f"── bot{where} (edited, added) ──")
            self.write(text[len(before) :].strip("\n"))
        else:
            edited = " (edited)" if before is not None else ""
            self.write(f"── bot{where}{edited} ──")
            self.write(self._describe(message))
        for row in message.buttons:
            cells = [
                f"[{self._number(message.chat_id, message.message_id, label, True)}] {label}"
                for label in row
            ]
            self.write("  " + "   ".join(cells))
        reply_rows = message.reply_keyboard or []
        for row in reply_rows:
            cells = [
                f"[{self._number(message.chat_id, message.message_id, label, False)}] {label}"
                for label in row
            ]
            self.write("  ⌨ " + "   ".join(cells))

    def _describe(self, message: FakeMessage) -> str:
        """Plain text of a message, or what it carries (files saved, their path printed)."""
        caption = f"\n{message.text}" if message.text else ""
        if message.document:
            document: dict[str, Any] = message.document
            path = self._save(message, document.get("file_name") or "document")
            size = len(document["content"])
            return f"📎 {document.get('file_name')} ({size} bytes) → {path}{caption}"
        if message.photo:
            content = message.photo["content"]
            path = self._save(message, "photo" + _image_extension(content))
            return f"🖼 photo ({len(content)} bytes) → {path}{caption}"
        if message.voice:
            path = self._save(message, "voice.ogg")
            return f"🎤 voice note ({message.voice.get('duration', 0)} s) → {path}{caption}"
        if message.location:
            return f"📍 {message.location['latitude']}, {message.location['longitude']}"
        if message.poll:
            options = "\n".join(f"  ○ {o['text']}" for o in message.poll["options"])
            return f"📊 {message.poll['question']}\n{options}"
        return message.text or f"({message.kind})"

    def _save(self, message: FakeMessage, name: str) -> Path:
        """Write a message's file under the files folder; its path."""
        chat = STAFF if message.chat_id == self.staff_chat_id else ME
        safe = re.sub(r"[^\w.\-]+", "_", Path(name).name) or "file"
        path = self.files_dir / f"{chat}-{message.message_id:04d}-{safe}"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(message.files[-1].content if message.files else b"")
        return path


class UserActions:
    """What the player does in their private chat besides typing, one `rest` argument each."""

    def __init__(self, ground: Playground) -> None:
        self.ground = ground

    async def photo(self, rest: str) -> int:
        """A photo, with the rest as caption."""
        return await self.ground.user.send_photo(caption=rest or None)

    async def location(self, rest: str) -> int:
        """A map point: "lat lon", else one in Shkodër."""
        parts = rest.replace(",", " ").split()
        point = (float(parts[0]), float(parts[1])) if len(parts) == 2 else DEFAULT_POINT
        return await self.ground.user.send_location(*point)

    async def voice(self, rest: str) -> int:
        """A voice note of that many seconds (4 by default)."""
        return await self.ground.user.send_voice(duration=int(rest) if rest.isdigit() else 4)

    async def document(self, _rest: str) -> int:
        """A PDF with its author in the metadata, so the cleaning can be seen."""
        return await self.ground.user.send_document(
            file_name="Deklarata_Arta_Kelmendi.pdf",
            mime_type="application/pdf",
            content=sample_pdf(),
        )

    async def contact(self, _rest: str) -> int:
        """The player's own phone number."""
        return await self.ground.user.send_contact(phone_number=PHONE)

    async def sticker(self, _rest: str) -> int:
        """A sticker."""
        return await self.ground.user.send_sticker()

    async def block(self, _rest: str) -> int:
        """Block the bot."""
        return await self.ground.user.block()

    async def unblock(self, _rest: str) -> int:
        """Unblock the bot."""
        return await self.ground.user.unblock()


class _Quit(Exception):
    """:quit was typed."""


def _reply_label(button: Any) -> str:
    """The text of a reply keyboard button (a string or a KeyboardButton)."""
    return button if isinstance(button, str) else str(button.get("text", ""))


def _image_extension(content: bytes) -> str:
    """The file extension an image's first bytes call for."""
    return next((ext for magic, ext in MAGIC_EXTENSIONS if content.startswith(magic)), ".jpg")


async def run_due_work(app: PactApplication) -> int:
    """What the reminder job does on each tick, at once; how many messages went out."""
    sent = await jobs.send_due_reminders(app)
    sent += await jobs.send_due_followups(app)
    sent += await jobs.send_staff_digests(app)
    await jobs.purge_stale_drafts(app)
    await jobs.run_retention(app)
    return sent + await jobs.send_broadcasts(app)


@contextmanager
def log_to_file(path: Path, level: str) -> Iterator[None]:
    """Send every log line to a file (secrets redacted) while the playground runs."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    logs.configure(level)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(logs.Redactor([TOKEN]))
    for old in root.handlers:
        root.removeHandler(old)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        for old in saved[0]:
            root.addHandler(old)
        root.setLevel(saved[1])


async def play(
    settings: Settings,
    language: str = "sq",
    read: InputFn = _terminal_input,
    write: OutputFn = print,
    *,
    clock: Clock | None = None,
    files_dir: Path = FILES_DIR,
) -> None:
    """Run the playground until :quit or end of input."""
    with log_to_file(files_dir / LOG_NAME, settings.log_level):
        ground = Playground(settings, language, write, clock=clock, files_dir=files_dir)
        await ground.start()
        write(f"PACT Civic Bot playground — database: {settings.database_url}")
        if settings.health_port is not None:
            write(f"The public transparency page: http://127.0.0.1:{settings.health_port}/")
        write(ground.help_text())
        write("Start with /start.")
        try:
            await ground.loop(read)
        finally:
            await ground.stop()
