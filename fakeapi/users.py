"""FakeUser and FakeGroup: the human side of chats, producing updates for the bot."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .files import StoredFile, fake_jpeg
from .formatting import FormattedText, plain_text
from .html import utf16_len
from .message import FakeMessage
from .state import CallbackQueryRecord, Chat

if TYPE_CHECKING:
    from .core import FakeTelegram


def _command_text(command: str, args: str) -> tuple[str, list[dict[str, Any]]]:
    """Text and bot_command entity for "/command args"."""
    command = command if command.startswith("/") else f"/{command}"
    text = f"{command} {args}" if args else command
    return text, [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]


def _post_message(
    fake: FakeTelegram,
    chat: Chat,
    sender: dict[str, Any],
    kind: str,
    *,
    content: FormattedText | None = None,
    media: dict[str, Any] | None = None,
    files: list[StoredFile] | None = None,
) -> int:
    """Store a human's message in a chat and enqueue the "message" update for it."""
    message = FakeMessage(
        message_id=chat.next_message_id(),
        chat=chat.to_api(),
        sender=sender,
        from_bot=False,
        date=fake.now(),
        method="user",
        kind=kind,
        content=content,
        media=media or {},
        files=files or [],
    )
    chat.messages[message.message_id] = message
    return fake.enqueue("message", message.to_api())


class _ChatView:
    """What the bot sent into one chat, as seen by its human side."""

    fake: FakeTelegram

    def _chat_id(self) -> int:
        raise NotImplementedError

    @property
    def chat(self) -> Chat:
        """The chat record."""
        return self.fake.state.chats[self._chat_id()]

    @property
    def messages(self) -> list[FakeMessage]:
        """Live messages the bot sent into this chat, oldest first, reflecting edits."""
        return self.chat.bot_messages()

    @property
    def last(self) -> FakeMessage:
        """The newest live bot message; AssertionError if the bot sent nothing."""
        messages = self.messages
        if not messages:
            raise AssertionError(f"the bot has sent no message to chat {self._chat_id()}")
        return messages[-1]


class FakeUser(_ChatView):
    """A person chatting with the bot in a private chat whose id equals the user id."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str,
        language_code: str | None,
        username: str | None,
        last_name: str | None,
    ) -> None:
        self.fake = fake
        self.user_id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username
        self.last_name = last_name

    def to_api(self) -> dict[str, Any]:
        """The Bot API User object."""
        data: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    def _chat_id(self) -> int:
        """A private chat's id is the user's id."""
        return self.user_id

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        """answerCallbackQuery answers to this user's button presses, in order."""
        return self.fake.state.callback_answers.setdefault(self.user_id, [])

    @property
    def blocked(self) -> bool:
        """Whether this user has blocked the bot."""
        return self.chat.blocked

    async def wait_messages(self, count: int, timeout: float = 5) -> list[FakeMessage]:
        """Wait until the bot has sent at least ``count`` live messages here; return them."""
        return await self.fake.wait_until(
            lambda: len(self.messages) >= count and self.messages, timeout
        )

    async def _send(self, kind: str, **parts: Any) -> int:
        """Post a message from this user; a user who blocked the bot must unblock first."""
        if self.chat.blocked:
            raise RuntimeError(f"user {self.user_id} has blocked the bot; call unblock() first")
        update_id = _post_message(self.fake, self.chat, self.to_api(), kind, **parts)
        await asyncio.sleep(0)
        return update_id

    async def send_text(self, text: str, entities: list[dict[str, Any]] | None = None) -> int:
        """Type a text message."""
        if not text.strip():
            raise ValueError("Telegram clients do not send empty messages")
        return await self._send("text", content=plain_text(text, entities))

    async def send_command(self, command: str, args: str = "") -> int:
        """Send "/command args" with its bot_command entity."""
        text, entities = _command_text(command, args)
        return await self._send("text", content=plain_text(text, entities))

    async def send_photo(
        self, caption: str | None = None, width: int = 1280, height: int = 960
    ) -> int:
        """Send a photo (three sizes, downloadable via getFile)."""
        seed = self.fake.state.next("user_photo")
        sizes = self.fake.state.files.add_photo(fake_jpeg(width, height, seed), width, height)
        media = {"photo": [size.to_photo_size() for size in sizes]}
        content = plain_text(caption) if caption else None
        return await self._send("photo", content=content, media=media, files=sizes)

    async def send_document(
        self,
        file_name: str = "a.jpg",
        mime_type: str = "image/jpeg",
        content: bytes = b"...",
        caption: str | None = None,
    ) -> int:
        """Send a file as a document."""
        stored = self.fake.state.files.add(content, "document", file_name, mime_type)
        text = plain_text(caption) if caption else None
        media = {"document": stored.to_document()}
        return await self._send("document", content=text, media=media, files=[stored])

    async def send_location(self, latitude: float, longitude: float) -> int:
        """Share a map point."""
        media = {"location": {"latitude": latitude, "longitude": longitude}}
        return await self._send("location", media=media)

    async def send_voice(self, duration: int = 3) -> int:
        """Send a voice note of the given length in seconds."""
        stored = self.fake.state.files.add(
            b"OggS" + bytes(duration * 100), "voice", mime_type="audio/ogg"
        )
        stored.duration = duration
        media = {"voice": stored.to_voice()}
        return await self._send("voice", media=media, files=[stored])

    async def send_contact(
        self, phone_number: str = "+355691234567", first_name: str | None = None
    ) -> int:
        """Share a contact; without first_name it is the user's own contact."""
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or self.first_name,
        }
        if first_name is None:
            contact["user_id"] = self.user_id
        return await self._send("contact", media={"contact": contact})

    async def send_sticker(self, emoji: str = "👍") -> int:
        """Send a regular static sticker."""
        stored = self.fake.state.files.add(
            b"RIFF\x00\x00\x00\x00WEBP", "sticker", mime_type="image/webp"
        )
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.size,
        }
        return await self._send("sticker", media={"sticker": sticker}, files=[stored])

    def _find_button(self, label: str) -> tuple[FakeMessage, dict[str, Any]]:
        """The newest bot message here with an inline button labelled ``label``."""
        for message in reversed(self.messages):
            if label in message.labels:
                return message, message.button(label)
        available = {m.message_id: m.labels for m in self.messages if m.labels}
        raise LookupError(
            f"no inline button {label!r} in chat {self.user_id}; "
            f"available by message id: {available}"
        )

    async def press(self, label: str, message: FakeMessage | None = None) -> int:
        """Press an inline button by its label (newest message having it, or ``message``)."""
        if message is None:
            message, button = self._find_button(label)
        else:
            button = message.button(label)
        if "callback_data" not in button:
            raise ValueError(f"button {label!r} is not a callback button: {button}")
        return await self._callback(button["callback_data"], message.message_id)

    async def press_data(self, data: str, message_id: int | None = None) -> int:
        """Send a callback query with raw data, e.g. from a stale or forged button."""
        if message_id is None:
            message_id = self.last.message_id
        return await self._callback(data, message_id)

    async def _callback(self, data: str, message_id: int) -> int:
        """Enqueue a callback_query update for a message of this chat."""
        if self.chat.blocked:
            raise RuntimeError(f"user {self.user_id} has blocked the bot; call unblock() first")
        state = self.fake.state
        query_id = str(4000000000000000000 + state.next("callback_query"))
        message = self.chat.find(message_id)
        rendered = (
            message.to_api()
            if message is not None
            else {"chat": self.chat.to_api(), "message_id": message_id, "date": 0}
        )
        state.queries[query_id] = CallbackQueryRecord(
            query_id, self.user_id, self.user_id, message_id, data
        )
        payload = {
            "id": query_id,
            "from": self.to_api(),
            "message": rendered,
            "chat_instance": str(-8000000000000000000 + self.user_id),
            "data": data,
        }
        update_id = self.fake.enqueue("callback_query", payload)
        await asyncio.sleep(0)
        return update_id

    async def block(self) -> int:
        """Block the bot: my_chat_member member -> kicked; sends to this chat then answer 403."""
        if self.chat.blocked:
            raise RuntimeError(f"user {self.user_id} has already blocked the bot")
        self.chat.blocked = True
        return self._member_update("member", "kicked")

    async def unblock(self) -> int:
        """Unblock the bot: my_chat_member kicked -> member."""
        if not self.chat.blocked:
            raise RuntimeError(f"user {self.user_id} has not blocked the bot")
        self.chat.blocked = False
        return self._member_update("kicked", "member")

    def _member_update(self, old: str, new: str) -> int:
        """Enqueue a my_chat_member update describing the bot's status change here."""

        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"user": self.fake.bot_user, "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        payload = {
            "chat": self.chat.to_api(),
            "from": self.to_api(),
            "date": self.fake.now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self.fake.enqueue("my_chat_member", payload)

    def __repr__(self) -> str:
        return f"<FakeUser {self.user_id} {self.first_name!r} lang={self.language_code}>"


class FakeGroup(_ChatView):
    """A supergroup registered with the fake; fake users can post in it."""

    def __init__(self, fake: FakeTelegram, chat_id: int) -> None:
        self.fake = fake
        self.chat_id = chat_id

    def _chat_id(self) -> int:
        """The group's id."""
        return self.chat_id

    async def send_text(self, user: FakeUser, text: str) -> int:
        """A member posts a text message in the group."""
        update_id = _post_message(
            self.fake, self.chat, user.to_api(), "text", content=plain_text(text)
        )
        await asyncio.sleep(0)
        return update_id

    async def send_command(self, user: FakeUser, command: str, args: str = "") -> int:
        """A member sends "/command args" in the group."""
        text, entities = _command_text(command, args)
        update_id = _post_message(
            self.fake, self.chat, user.to_api(), "text", content=plain_text(text, entities)
        )
        await asyncio.sleep(0)
        return update_id

    async def press(self, user: FakeUser, label: str, message: FakeMessage | None = None) -> int:
        """A member presses an inline button of a bot message in the group."""
        if message is None:
            message = next((m for m in reversed(self.messages) if label in m.labels), None)
            if message is None:
                raise LookupError(f"no inline button {label!r} in group {self.chat_id}")
        button = message.button(label)
        state = self.fake.state
        query_id = str(4000000000000000000 + state.next("callback_query"))
        state.queries[query_id] = CallbackQueryRecord(
            query_id, user.user_id, self.chat_id, message.message_id, button["callback_data"]
        )
        payload = {
            "id": query_id,
            "from": user.to_api(),
            "message": message.to_api(),
            "chat_instance": str(-8000000000000000000 + self.chat_id),
            "data": button["callback_data"],
        }
        update_id = self.fake.enqueue("callback_query", payload)
        await asyncio.sleep(0)
        return update_id
