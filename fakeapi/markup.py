"""Validation of reply_markup values the way Telegram checks keyboards."""

from __future__ import annotations

from typing import Any

from .errors import bad_request

_ACTION_FIELDS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
MAX_CALLBACK_DATA = 64


def validate_markup(markup: Any) -> dict[str, Any] | None:
    """Return the markup as a dict if Telegram would accept it; raise ApiError otherwise."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _validate_reply_keyboard(markup["keyboard"])
    elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _rows(rows: Any, what: str) -> list[list[Any]]:
    """The keyboard rows, which must be an array of arrays."""
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{what}" must be an Array of Arrays')
    return rows


def _validate_inline(rows: Any) -> None:
    """Check every inline button: a text and exactly one action, valid callback data."""
    for row in _rows(rows, "inline_keyboard"):
        for button in row:
            if not isinstance(button, dict):
                raise bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            if not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            actions = [name for name in _ACTION_FIELDS if name in button]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are "
                    "unallowed in the inline keyboard"
                )
            if len(actions) > 1:
                raise bad_request(
                    "can't parse inline keyboard button: exactly one of the "
                    f"optional fields must be used, got {', '.join(actions)}"
                )
            if "callback_data" in button:
                _validate_callback_data(button["callback_data"])
            if "url" in button and (not isinstance(button["url"], str) or not button["url"]):
                raise bad_request("BUTTON_URL_INVALID")


def _validate_callback_data(data: Any) -> None:
    """Callback data must be 1..64 bytes of UTF-8."""
    if not isinstance(data, str):
        data = str(data)
    size = len(data.encode("utf-8"))
    if size == 0 or size > MAX_CALLBACK_DATA:
        raise bad_request("BUTTON_DATA_INVALID")


def _validate_reply_keyboard(rows: Any) -> None:
    """Reply keyboard buttons are strings or objects with a text."""
    for row in _rows(rows, "keyboard"):
        for button in row:
            text = (
                button
                if isinstance(button, str)
                else (button.get("text") if isinstance(button, dict) else None)
            )
            if not isinstance(text, str) or not text:
                raise bad_request(
                    'can\'t parse keyboard button: Field "text" must be of type String'
                )


def inline_buttons(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """The inline keyboard rows of a markup, or [] if it has none."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return markup["inline_keyboard"]


def reply_labels(markup: dict[str, Any] | None) -> list[list[str]] | None:
    """Labels of a ReplyKeyboardMarkup by row, or None for other markups."""
    if not markup or "keyboard" not in markup:
        return None
    return [[b if isinstance(b, str) else b["text"] for b in row] for row in markup["keyboard"]]
