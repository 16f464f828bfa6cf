"""Methods that put new messages into chats: text, media, locations, polls, copies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import bad_request
from ..formatting import format_text
from ..params import Params
from ..registry import api_method
from .common import (
    caption_param,
    document_media,
    markup_param,
    photo_media,
    reply_target,
    resolve_document,
    resolve_photo,
    resolve_voice,
    store_bot_message,
)

if TYPE_CHECKING:
    from ..core import FakeTelegram

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


@api_method("sendMessage")
async def send_message(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """Send a text message after Telegram's text, entity and keyboard checks."""
    chat = fake.state.writable_chat(p.get("chat_id"))
    text = format_text(p.text("text") or "", p.text("parse_mode"), p.structured("entities"))
    if not text.plain:
        raise bad_request("message text is empty")
    markup = markup_param(p)
    reply_to = reply_target(chat, p)
    message = store_bot_message(
        fake, chat, p, "sendMessage", "text", content=text, markup=markup, reply_to=reply_to
    )
    if p.get("link_preview_options") is not None:
        message.extra["link_preview_options"] = p.structured("link_preview_options")
    return message.to_api()


@api_method("sendPhoto")
async def send_photo(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """Send a photo given as upload, file_id or URL."""
    chat = fake.state.writable_chat(p.get("chat_id"))
    caption = caption_param(p)
    markup = markup_param(p)
    reply_to = reply_target(chat, p)
    sizes = resolve_photo(fake, p, "photo", p.get("photo"))
    message = store_bot_message(
        fake,
        chat,
        p,
        "sendPhoto",
        "photo",
        content=caption,
        media=photo_media(sizes),
        files=sizes,
        markup=markup,
        reply_to=reply_to,
    )
    return message.to_api()


@api_method("sendDocument")
async def send_document(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """Send a document given as upload, file_id or URL."""
    chat = fake.state.writable_chat(p.get("chat_id"))
    caption = caption_param(p)
    markup = markup_param(p)
    reply_to = reply_target(chat, p)
    stored = resolve_document(fake, p, "document", p.get("document"))
    message = store_bot_message(
        fake,
        chat,
        p,
        "sendDocument",
        "document",
        content=caption,
        media=document_media(stored),
        files=[stored],
        markup=markup,
        reply_to=reply_to,
    )
    return message.to_api()


@api_method("sendVoice")
async def send_voice(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """Send a voice note given as upload, voice file_id or URL."""
    chat = fake.state.writable_chat(p.get("chat_id"))
    caption = caption_param(p)
    markup = markup_param(p)
    reply_to = reply_target(chat, p)
    stored = resolve_voice(fake, p, p.get("voice"))
    message = store_bot_message(
        fake,
        chat,
        p,
        "sendVoice",
        "voice",
        content=caption,
        media={"voice": stored.to_voice(p.integer("duration"))},
        files=[stored],
        markup=markup,
        reply_to=reply_to,
    )
    return message.to_api()


@api_method("sendLocation")
async def send_location(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """Send a map point; coordinates must be on Earth."""
    chat = fake.state.writable_chat(p.get("chat_id"))
    latitude, longitude = p.number("latitude"), p.number("longitude")
    if latitude is None or not -90 <= latitude <= 90:
        raise bad_request("wrong latitude specified")
    if longitude is None or not -180 <= longitude <= 180:
        raise bad_request("wrong longitude specified")
    markup = markup_param(p)
    reply_to = reply_target(chat, p)
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if p.get("live_period") is not None:
        location["live_period"] = p.integer("live_period")
    message = store_bot_message(
        fake,
        chat,
        p,
        "sendLocation",
        "location",
        media={"location": location},
        markup=markup,
        reply_to=reply_to,
    )
    return message.to_api()


def _poll_options(raw: Any) -> list[str]:
    """Option texts from strings or InputPollOption objects, checked like Telegram."""
    if not isinstance(raw, list):
        raise bad_request("can't parse options JSON object")
    texts = [str(o.get("text", "")) if isinstance(o, dict) else str(o) for o in raw]
    if len(texts) < 2:
        raise bad_request("poll must have at least 2 option")
    if len(texts) > 12:
        raise bad_request("poll can't have more than 12 options")
    if any(not 1 <= len(text) <= 100 for text in texts):
        raise bad_request("poll options length must not exceed 100")
    return texts


def _correct_options(p: Params, count: int) -> list[int]:
    """Correct answers of a quiz (correct_option_ids, or the older correct_option_id)."""
    raw = p.structured("correct_option_ids")
    if raw is None and p.get("correct_option_id") is not None:
        raw = [p.integer("correct_option_id")]
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(i, int) and 0 <= i < count for i in raw):
        raise bad_request("wrong correct option ID specified")
    return raw


@api_method("sendPoll")
async def send_poll(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """Send a regular or quiz poll."""
    chat = fake.state.writable_chat(p.get("chat_id"))
    question = (p.text("question") or "").strip()
    if not question:
        raise bad_request("poll question must be non-empty")
    if len(question) > 300:
        raise bad_request("poll question length must not exceed 300")
    options = _poll_options(p.structured("options"))
    kind = p.text("type") or "regular"
    if kind not in ("regular", "quiz"):
        raise bad_request("wrong poll type specified")
    correct = _correct_options(p, len(options))
    if kind == "quiz" and not correct:
        raise bad_request("wrong correct option ID specified")
    markup = markup_param(p)
    reply_to = reply_target(chat, p)
    poll: dict[str, Any] = {
        "id": str(5000000000 + fake.state.next("poll")),
        "question": question,
        "options": [
            {"text": text, "voter_count": 0, "persistent_id": str(index)}
            for index, text in enumerate(options)
        ],
        "total_voter_count": 0,
        "is_closed": p.flag("is_closed"),
        "is_anonymous": p.flag("is_anonymous", True),
        "type": kind,
        "allows_multiple_answers": p.flag("allows_multiple_answers"),
        "allows_revoting": p.flag("allows_revoting", True),
        "members_only": p.flag("members_only"),
    }
    if correct:
        poll["correct_option_ids"] = correct
    if p.text("explanation"):
        poll["explanation"] = p.text("explanation")
    message = store_bot_message(
        fake,
        chat,
        p,
        "sendPoll",
        "poll",
        media={"poll": poll},
        markup=markup,
        reply_to=reply_to,
    )
    return message.to_api()


@api_method("sendMediaGroup")
async def send_media_group(fake: FakeTelegram, p: Params) -> list[dict[str, Any]]:
    """Send 2-10 photos or documents as an album."""
    chat = fake.state.writable_chat(p.get("chat_id"))
    items = p.structured("media")
    if not isinstance(items, list) or not 2 <= len(items) <= 10:
        raise bad_request("wrong number of media in the album: must be 2-10")
    prepared = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
            raise bad_request("unsupported media type in the album")
        caption = None
        if item.get("caption"):
            caption = format_text(
                str(item["caption"]),
                item.get("parse_mode"),
                item.get("caption_entities"),
                caption=True,
            )
        if item["type"] == "photo":
            sizes = resolve_photo(fake, p, "media", item.get("media"))
            prepared.append(("photo", caption, photo_media(sizes), sizes))
        else:
            stored = resolve_document(fake, p, "media", item.get("media"))
            prepared.append(("document", caption, document_media(stored), [stored]))
    reply_to = reply_target(chat, p)
    group_id = str(13000000000000000 + fake.state.next("media_group"))
    messages = []
    for kind, caption, media, files in prepared:
        message = store_bot_message(
            fake,
            chat,
            p,
            "sendMediaGroup",
            kind,
            content=caption,
            media=media,
            files=files,
            reply_to=reply_to,
        )
        message.media_group_id = group_id
        messages.append(message.to_api())
    return messages


def _source_message(fake: FakeTelegram, p: Params, action: str) -> Any:
    """The message a copy/forward refers to, or "message to <action> not found"."""
    source_chat = fake.state.chat(p.get("from_chat_id"))
    source = source_chat.find(p.integer("message_id"))
    if source is None:
        raise bad_request(f"message to {action} not found")
    return source


@api_method("copyMessage")
async def copy_message(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """Send a copy of a message without a link to the original; answers its new id."""
    chat = fake.state.writable_chat(p.get("chat_id"))
    source = _source_message(fake, p, "copy")
    content = source.content
    if source.kind != "text" and p.get("caption") is not None:
        content = caption_param(p)
    markup = markup_param(p)
    reply_to = reply_target(chat, p)
    copy = store_bot_message(
        fake,
        chat,
        p,
        "copyMessage",
        source.kind,
        content=content,
        media=dict(source.media),
        files=list(source.files),
        markup=markup,
        reply_to=reply_to,
    )
    return {"message_id": copy.message_id}


@api_method("forwardMessage")
async def forward_message(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """Forward a message, keeping a forward_origin pointing at its sender."""
    chat = fake.state.writable_chat(p.get("chat_id"))
    source = _source_message(fake, p, "forward")
    forward = store_bot_message(
        fake,
        chat,
        p,
        "forwardMessage",
        source.kind,
        content=source.content,
        media=dict(source.media),
        files=list(source.files),
    )
    forward.forward_origin = {"type": "user", "sender_user": source.sender, "date": source.date}
    return forward.to_api()


@api_method("sendChatAction")
async def send_chat_action(fake: FakeTelegram, p: Params) -> bool:
    """Show "typing…" and friends; recorded in the chat's actions."""
    chat = fake.state.writable_chat(p.get("chat_id"))
    action = p.text("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat.actions.append(action)
    return True
