"""What the fake Telegram remembers: chats, their messages, commands, menus, callback queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request, forbidden
from .files import FileStore
from .message import FakeMessage

CommandKey = tuple[str, int | None, int | None, str]


@dataclass
class Chat:
    """A private chat with a fake user, or a registered group; owns the message id sequence."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    is_forum: bool = False
    blocked: bool = False
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    last_message_id: int = 0

    def next_message_id(self) -> int:
        """Allocate the next message id; users and the bot share one sequence per chat."""
        self.last_message_id += 1
        return self.last_message_id

    def to_api(self) -> dict[str, Any]:
        """The Bot API Chat object."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "last_name", "username"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.is_forum:
            data["is_forum"] = True
        return data

    def find(self, message_id: int | None) -> FakeMessage | None:
        """A live (not deleted) message by id, or None."""
        message = self.messages.get(message_id) if message_id is not None else None
        return None if message is None or message.deleted else message

    def bot_messages(self) -> list[FakeMessage]:
        """Live messages the bot sent here, oldest first."""
        return [m for m in self.messages.values() if m.from_bot and not m.deleted]


@dataclass
class CallbackQueryRecord:
    """A callback query sent to the bot, waiting for answerCallbackQuery."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


class BotState:
    """All chats, users, files and bot settings the fake keeps between calls."""

    def __init__(self) -> None:
        self.chats: dict[int, Chat] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.files = FileStore()
        self.commands: dict[CommandKey, list[tuple[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.queries: dict[str, CallbackQueryRecord] = {}
        self.callback_answers: dict[int, list[dict[str, Any]]] = {}
        self.texts: dict[tuple[str, str], str] = {}
        self.counters: dict[str, int] = {}

    def next(self, counter: str) -> int:
        """Next value of a named sequence starting at 1 (polls, queries, media groups)."""
        self.counters[counter] = self.counters.get(counter, 0) + 1
        return self.counters[counter]

    def chat(self, chat_id: Any) -> Chat:
        """The registered chat for a chat_id (int or @username); else "chat not found"."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == chat_id[1:].lower():
                    return chat
            raise bad_request("chat not found")
        try:
            found = self.chats.get(int(chat_id))
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise bad_request("chat not found")
        return found

    def writable_chat(self, chat_id: Any) -> Chat:
        """A chat the bot may send or edit in; a user who blocked the bot answers 403."""
        chat = self.chat(chat_id)
        if chat.blocked:
            raise forbidden("bot was blocked by the user")
        return chat
