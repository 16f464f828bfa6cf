"""Methods about the bot itself: identity, commands, menu button, descriptions, chats."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import bad_request
from ..params import Params
from ..registry import api_method
from ..state import CommandKey

if TYPE_CHECKING:
    from ..core import FakeTelegram

COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
MAX_COMMANDS = 100
MAX_DESCRIPTION = 256
SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_TEXT_SETTINGS = (("description", 512), ("short_description", 120), ("name", 64))


@api_method("getMe")
async def get_me(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """The bot's own User object."""
    return {
        **fake.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api_method("logOut")
async def log_out(fake: FakeTelegram, p: Params) -> bool:
    """Accepted and ignored."""
    return True


@api_method("close")
async def close(fake: FakeTelegram, p: Params) -> bool:
    """Accepted and ignored."""
    return True


@api_method("getChat")
async def get_chat(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """The ChatFullInfo of a registered chat."""
    chat = fake.state.chat(p.get("chat_id"))
    return {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def _language(p: Params) -> str:
    """The language_code of a request: empty or two lowercase letters."""
    code = p.text("language_code") or ""
    if code and not LANGUAGE_RE.match(code):
        raise bad_request("invalid language code specified")
    return code


def _command_key(fake: FakeTelegram, p: Params) -> CommandKey:
    """Where a command list is stored: scope type, chat id, user id, language."""
    scope = p.structured("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    chat_id = scope.get("chat_id")
    if scope["type"] in ("chat", "chat_administrators", "chat_member"):
        chat_id = fake.state.chat(chat_id).id
    user_id = scope.get("user_id") if scope["type"] == "chat_member" else None
    return scope["type"], chat_id, user_id, _language(p)


@api_method("setMyCommands")
async def set_my_commands(fake: FakeTelegram, p: Params) -> bool:
    """Store the command list for a scope and language after Telegram's checks."""
    commands = p.structured("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    checked = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = str(item.get("command", "")), str(item.get("description", ""))
        if not COMMAND_RE.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description.strip()) <= MAX_DESCRIPTION:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        checked.append((command, description))
    key = _command_key(fake, p)
    if checked:
        fake.state.commands[key] = checked
    else:
        fake.state.commands.pop(key, None)
    return True


@api_method("getMyCommands")
async def get_my_commands(fake: FakeTelegram, p: Params) -> list[dict[str, str]]:
    """The command list stored for exactly this scope and language."""
    commands = fake.state.commands.get(_command_key(fake, p), [])
    return [{"command": command, "description": text} for command, text in commands]


@api_method("deleteMyCommands")
async def delete_my_commands(fake: FakeTelegram, p: Params) -> bool:
    """Forget the command list of a scope and language."""
    fake.state.commands.pop(_command_key(fake, p), None)
    return True


@api_method("setChatMenuButton")
async def set_chat_menu_button(fake: FakeTelegram, p: Params) -> bool:
    """Set the menu button of one private chat, or the default one."""
    chat_id = fake.state.chat(p.get("chat_id")).id if p.get("chat_id") is not None else None
    button = p.structured("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
        raise bad_request("can't parse menu button JSON object")
    if button["type"] == "web_app" and not (button.get("text") and button.get("web_app")):
        raise bad_request("can't parse menu button JSON object")
    fake.state.menu_buttons[chat_id] = button
    return True


@api_method("getChatMenuButton")
async def get_chat_menu_button(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """The menu button of a chat, falling back to the default one."""
    chat_id = fake.state.chat(p.get("chat_id")).id if p.get("chat_id") is not None else None
    buttons = fake.state.menu_buttons
    return buttons.get(chat_id) or buttons.get(None) or {"type": "default"}


def _register_text_setting(field: str, limit: int) -> None:
    """Register set/get methods for a per-language text such as the bot description."""
    title = "".join(part.title() for part in field.split("_"))

    async def setter(fake: FakeTelegram, p: Params) -> bool:
        value = p.text(field) or ""
        if len(value) > limit:
            raise bad_request(f"{field} is too long")
        fake.state.texts[(field, _language(p))] = value
        return True

    async def getter(fake: FakeTelegram, p: Params) -> dict[str, str]:
        return {field: fake.state.texts.get((field, _language(p)), "")}

    setter.__doc__ = f"Store the bot {field.replace('_', ' ')} for a language."
    getter.__doc__ = f"The bot {field.replace('_', ' ')} for a language."
    api_method(f"setMy{title}")(setter)
    api_method(f"getMy{title}")(getter)


for _field, _limit in _TEXT_SETTINGS:
    _register_text_setting(_field, _limit)
