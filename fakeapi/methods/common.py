"""Helpers shared by the sending and editing methods: markup, replies, media, storing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import bad_request
from ..files import StoredFile
from ..formatting import FormattedText, format_text
from ..markup import validate_markup
from ..message import FakeMessage
from ..params import Params
from ..state import Chat

if TYPE_CHECKING:
    from ..core import FakeTelegram


def markup_param(p: Params) -> dict[str, Any] | None:
    """The validated reply_markup of a request, or None; empty inline keyboards count as none."""
    markup = validate_markup(p.structured("reply_markup"))
    if markup is not None and markup.get("inline_keyboard") == []:
        return None
    return markup


def caption_param(
    p: Params, name: str = "caption", mode_name: str = "parse_mode"
) -> FormattedText | None:
    """The formatted caption of a request, or None when absent or empty."""
    raw = p.text(name)
    if raw is None:
        return None
    caption = format_text(raw, p.text(mode_name), p.structured(f"{name}_entities"), caption=True)
    return caption if caption.plain else None


def reply_target(chat: Chat, p: Params) -> dict[str, Any] | None:
    """The message a request replies to, rendered; refuses a missing one unless allowed."""
    parameters = p.structured("reply_parameters")
    if isinstance(parameters, dict):
        message_id = parameters.get("message_id")
        allow = bool(parameters.get("allow_sending_without_reply"))
    else:
        message_id = p.integer("reply_to_message_id")
        allow = p.flag("allow_sending_without_reply")
    if message_id is None:
        return None
    target = chat.find(int(message_id))
    if target is None:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    rendered = target.to_api()
    rendered.pop("reply_to_message", None)
    return rendered


def store_bot_message(
    fake: FakeTelegram,
    chat: Chat,
    p: Params,
    method: str,
    kind: str,
    *,
    content: FormattedText | None = None,
    media: dict[str, Any] | None = None,
    files: list[StoredFile] | None = None,
    markup: dict[str, Any] | None = None,
    reply_to: dict[str, Any] | None = None,
) -> FakeMessage:
    """Create the bot's message in a chat; call only once every check has passed."""
    extra: dict[str, Any] = {}
    if p.flag("protect_content"):
        extra["has_protected_content"] = True
    message = FakeMessage(
        message_id=chat.next_message_id(),
        chat=chat.to_api(),
        sender=fake.bot_user,
        from_bot=True,
        date=fake.now(),
        method=method,
        kind=kind,
        content=content,
        media=media or {},
        reply_markup=markup,
        files=files or [],
        reply_to_message=reply_to,
        message_thread_id=p.integer("message_thread_id") if chat.is_forum else None,
        extra=extra,
    )
    chat.messages[message.message_id] = message
    return message


def resolve_photo(fake: FakeTelegram, p: Params, name: str, value: Any) -> list[StoredFile]:
    """Photo sizes for an upload, a known file_id or a URL; Bad Request for anything else."""
    upload = p.attachment(value)
    if upload is not None:
        return fake.state.files.add_photo(upload.content, 1280, 960)
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {name} in the request")
    known = fake.state.files.photo_set(value)
    if known is not None:
        return known
    if value.startswith(("http://", "https://")):
        return fake.state.files.add_photo(b"", 800, 600)
    raise bad_request("wrong file identifier/HTTP URL specified")


def resolve_document(fake: FakeTelegram, p: Params, name: str, value: Any) -> StoredFile:
    """A document for an upload, a known file_id or a URL; Bad Request for anything else."""
    upload = p.attachment(value)
    if upload is not None:
        return fake.state.files.add(
            upload.content, "document", upload.filename, upload.content_type or None
        )
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {name} in the request")
    known = fake.state.files.get(value)
    if known is not None:
        return known
    if value.startswith(("http://", "https://")):
        return fake.state.files.add(b"", "document", value.rsplit("/", 1)[-1] or "file")
    raise bad_request("wrong file identifier/HTTP URL specified")


def resolve_voice(fake: FakeTelegram, p: Params, value: Any) -> StoredFile:
    """A voice note for an upload or a known voice file_id; Bad Request for anything else."""
    upload = p.attachment(value)
    if upload is not None:
        return fake.state.files.add(upload.content, "voice", mime_type="audio/ogg")
    if not isinstance(value, str) or not value:
        raise bad_request("there is no voice in the request")
    known = fake.state.files.get(value)
    if known is not None and known.kind == "voice":
        return known
    if known is not None:
        raise bad_request(f"wrong file identifier: can't use file of type {known.kind} as voice")
    if value.startswith(("http://", "https://")):
        return fake.state.files.add(b"", "voice", mime_type="audio/ogg")
    raise bad_request("wrong file identifier/HTTP URL specified")


def photo_media(sizes: list[StoredFile]) -> dict[str, Any]:
    """The ``photo`` field of a Message."""
    return {"photo": [size.to_photo_size() for size in sizes]}


def document_media(stored: StoredFile) -> dict[str, Any]:
    """The ``document`` field of a Message."""
    return {"document": stored.to_document()}
