"""FakeMessage: one message in a fake chat, as tests inspect it and as the Bot API renders it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .files import StoredFile
from .formatting import FormattedText
from .markup import inline_buttons, reply_labels


@dataclass(eq=False)
class FakeMessage:
    """A message sent by the bot (or by a fake user) into a chat, reflecting later edits."""

    message_id: int
    chat: dict[str, Any]
    sender: dict[str, Any]
    from_bot: bool
    date: int
    method: str
    kind: str
    content: FormattedText | None = None
    media: dict[str, Any] = field(default_factory=dict)
    reply_markup: dict[str, Any] | None = None
    files: list[StoredFile] = field(default_factory=list)
    edits: int = 0
    edit_date: int | None = None
    reply_to_message: dict[str, Any] | None = None
    media_group_id: str | None = None
    message_thread_id: int | None = None
    forward_origin: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False

    @property
    def chat_id(self) -> int:
        """The id of the chat this message is in."""
        return int(self.chat["id"])

    @property
    def text(self) -> str | None:
        """The text or caption as users see it (HTML already parsed away)."""
        return self.content.plain if self.content else None

    @property
    def raw_text(self) -> str | None:
        """The text or caption exactly as the bot sent it."""
        return self.content.raw if self.content else None

    @property
    def parse_mode(self) -> str | None:
        """The parse_mode the text or caption was sent with."""
        return self.content.parse_mode if self.content else None

    @property
    def entities(self) -> list[dict[str, Any]]:
        """Entities of the text or caption as Bot API dicts."""
        return self.content.entity_dicts() if self.content else []

    @property
    def buttons(self) -> list[list[str]]:
        """Inline button labels by row ([] without an inline keyboard)."""
        return [[b["text"] for b in row] for row in inline_buttons(self.reply_markup)]

    @property
    def labels(self) -> list[str]:
        """Inline button labels, flattened."""
        return [label for row in self.buttons for label in row]

    def button(self, label: str) -> dict[str, Any]:
        """The inline button with this label; LookupError lists the labels there are."""
        for row in inline_buttons(self.reply_markup):
            for button in row:
                if button["text"] == label:
                    return button
        raise LookupError(f"no button {label!r} on message {self.message_id}; has {self.labels}")

    def button_data(self, label: str) -> str | None:
        """The callback_data (or url) of the inline button with this label."""
        button = self.button(label)
        return button.get("callback_data", button.get("url"))

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Labels by row if the message carries a ReplyKeyboardMarkup, else None."""
        return reply_labels(self.reply_markup)

    @property
    def document(self) -> dict[str, Any] | None:
        """file_id, file_name, mime_type and content bytes of a document, or None."""
        if "document" not in self.media:
            return None
        stored = self.files[0]
        return {
            "file_id": stored.file_id,
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "content": stored.content,
        }

    @property
    def photo(self) -> dict[str, Any] | None:
        """The largest photo size (file_id, width, height) with its content, or None."""
        sizes = self.media.get("photo")
        if not sizes:
            return None
        largest = sizes[-1]
        return {**largest, "sizes": sizes, "content": self.files[-1].content}

    @property
    def voice(self) -> dict[str, Any] | None:
        """file_id, duration and content bytes of a voice note, or None."""
        if "voice" not in self.media:
            return None
        return {**self.media["voice"], "content": self.files[0].content}

    @property
    def location(self) -> dict[str, Any] | None:
        """latitude/longitude of a location message, or None."""
        return self.media.get("location")

    @property
    def poll(self) -> dict[str, Any] | None:
        """The Bot API Poll of a poll message, or None."""
        return self.media.get("poll")

    def to_api(self) -> dict[str, Any]:
        """The Bot API Message object for this message."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat,
            "from": self.sender,
        }
        if self.message_thread_id is not None:
            data["message_thread_id"] = self.message_thread_id
            data["is_topic_message"] = True
        if self.content is not None and self.content.plain:
            key = "text" if self.kind == "text" else "caption"
            data[key] = self.content.plain
            if self.content.entities:
                data["entities" if key == "text" else "caption_entities"] = self.entities
        data.update(self.media)
        data.update(self.extra)
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = self.reply_markup
        optional = {
            "edit_date": self.edit_date,
            "reply_to_message": self.reply_to_message,
            "media_group_id": self.media_group_id,
            "forward_origin": self.forward_origin,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        return data

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else "user"
        return f"<FakeMessage #{self.message_id} {who} {self.kind} {self.text!r} {self.buttons}>"
