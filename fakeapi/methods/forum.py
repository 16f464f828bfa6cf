"""Forum topics in supergroups: createForumTopic, refused where the chat is not a forum."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import bad_request
from ..params import Params
from ..registry import api_method

if TYPE_CHECKING:
    from ..core import FakeTelegram

TOPIC_COLOR = 7322096


@api_method("createForumTopic")
async def create_forum_topic(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """A new topic with its own message_thread_id; 1–128 characters of name."""
    chat = fake.state.writable_chat(p.get("chat_id"))
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    name = p.text("name") or ""
    if not 1 <= len(name) <= 128:
        raise bad_request("TOPIC_NAME_INVALID")
    thread_id = chat.next_message_id()
    fake.forum_topics.setdefault(chat.id, {})[thread_id] = name
    return {"message_thread_id": thread_id, "name": name, "icon_color": TOPIC_COLOR}
