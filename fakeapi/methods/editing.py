"""Methods that change or remove existing messages, and answer callback queries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import bad_request
from ..formatting import FormattedText, format_text
from ..message import FakeMessage
from ..params import Params
from ..registry import api_method
from .common import caption_param, markup_param

if TYPE_CHECKING:
    from ..core import FakeTelegram

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
MAX_ANSWER_TEXT = 200


def _editable(fake: FakeTelegram, p: Params) -> FakeMessage:
    """The bot message an edit targets, with Telegram's refusals for the others."""
    if p.get("inline_message_id") is not None:
        raise bad_request("message to edit not found")
    chat = fake.state.writable_chat(p.get("chat_id"))
    message_id = p.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = chat.find(message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _same_content(old: FormattedText | None, new: FormattedText | None) -> bool:
    """Whether two texts/captions are identical as Telegram compares them."""
    if old is None or new is None:
        return old is new
    return old.same_content(new)


def _apply(
    fake: FakeTelegram,
    message: FakeMessage,
    content: FormattedText | None,
    markup: dict[str, Any] | None,
) -> dict[str, Any]:
    """Refuse a no-op edit, otherwise update the message and return it rendered."""
    current = message.reply_markup
    inline = current if current is not None and "inline_keyboard" in current else None
    if _same_content(message.content, content) and inline == markup:
        raise bad_request(NOT_MODIFIED)
    message.content = content
    if markup is not None or inline is not None:
        message.reply_markup = markup
    message.edits += 1
    message.edit_date = fake.now()
    return message.to_api()


def _inline_markup(p: Params) -> dict[str, Any] | None:
    """An edit's reply_markup, which may only be an inline keyboard."""
    markup = markup_param(p)
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


@api_method("editMessageText")
async def edit_message_text(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """Replace the text (and keyboard) of a bot text message."""
    message = _editable(fake, p)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    text = format_text(p.text("text") or "", p.text("parse_mode"), p.structured("entities"))
    if not text.plain:
        raise bad_request("message text is empty")
    return _apply(fake, message, text, _inline_markup(p))


@api_method("editMessageCaption")
async def edit_message_caption(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """Replace the caption (and keyboard) of a bot media message."""
    message = _editable(fake, p)
    if message.kind in ("text", "location", "poll", "contact", "sticker"):
        raise bad_request("there is no caption in the message to edit")
    return _apply(fake, message, caption_param(p), _inline_markup(p))


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """Replace or remove the inline keyboard of a bot message."""
    message = _editable(fake, p)
    return _apply(fake, message, message.content, _inline_markup(p))


@api_method("deleteMessage")
async def delete_message(fake: FakeTelegram, p: Params) -> bool:
    """Delete a message; it disappears from the chat's message lists."""
    chat = fake.state.chat(p.get("chat_id"))
    message = chat.find(p.integer("message_id"))
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    return True


@api_method("deleteMessages")
async def delete_messages(fake: FakeTelegram, p: Params) -> bool:
    """Delete several messages; unknown ids are skipped like Telegram does."""
    chat = fake.state.chat(p.get("chat_id"))
    ids = p.structured("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must contain 1-100 ids")
    for message_id in ids:
        message = chat.find(int(message_id))
        if message is not None:
            message.deleted = True
    return True


@api_method("answerCallbackQuery")
async def answer_callback_query(fake: FakeTelegram, p: Params) -> bool:
    """Answer a button press once; a second answer or an unknown id counts as too old."""
    query = fake.state.queries.get(p.text("callback_query_id") or "")
    if query is None or query.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.text("text")
    if text is not None and len(text) > MAX_ANSWER_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    answer = {
        "callback_query_id": query.id,
        "text": text,
        "show_alert": p.flag("show_alert"),
        "url": p.text("url"),
        "cache_time": p.integer("cache_time", 0),
    }
    fake.state.callback_answers.setdefault(query.user_id, []).append(answer)
    return True


@api_method("stopPoll")
async def stop_poll(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """Close a poll the bot sent; answers the final Poll."""
    chat = fake.state.writable_chat(p.get("chat_id"))
    message = chat.find(p.integer("message_id"))
    if message is None or message.poll is None or not message.from_bot:
        raise bad_request("message with poll to stop not found")
    if message.poll["is_closed"]:
        raise bad_request("poll has already been closed")
    markup = _inline_markup(p)
    message.media["poll"] = {**message.poll, "is_closed": True}
    message.reply_markup = markup
    return message.media["poll"]
