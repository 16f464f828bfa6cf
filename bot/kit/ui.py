"""Small rendering helpers shared by handlers: buttons, replies, callback answers."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import CallbackContext

from bot.core.i18n import plain, shorten
from bot.core.runtime import after_commit_effect

Button = tuple[str, str]
"""(label, callback_data); an https URL as data makes a link button."""
PHONE_WIDTH = 48
"""Characters a one-button row shows on a phone; past it Telegram cuts the label mid-word."""
MIDDLE_AT_LEAST = 10
"""Characters a list line's middle keeps however long its status is."""


def list_label(text: str, per_row: int = 1) -> str:
    """A list line a phone shows whole: cut at a word boundary with "…" to its share of a row."""
    return shorten(text, PHONE_WIDTH // per_row)


def list_line(head: str, middle: str, tail: str) -> str:
    """A "head · middle · tail" list line where the middle (a name) gives way first, so the
    head (a number) and the tail (a status) are read whole; a tail too long for that is cut."""
    around = len(head) + 2 * len(" · ")
    tail = _words_within(tail, PHONE_WIDTH - around - min(len(middle), MIDDLE_AT_LEAST))
    middle = _words_within(middle, PHONE_WIDTH - around - len(tail))
    return list_label(f"{head} · {middle} · {tail}")


def _words_within(text: str, limit: int) -> str:
    """`text` cut after its last whole word that fits with "…" (at least its first word)."""
    if len(text) <= limit:
        return text
    words = text[: limit - 1].split(" ")
    if len(words) == 1:
        first, _, rest = text.partition(" ")
        return f"{first}…" if rest else first
    kept = " ".join(words if text[limit - 1] == " " else words[:-1])
    return kept.rstrip(" ,;:·–—-") + "…"


def rows_of(buttons: Sequence[Button], per_row: int = 2) -> list[list[Button]]:
    """Buttons laid out `per_row` to a row, so long lists stay readable on a phone; a label
    longer than its share of a row gets a row of its own rather than being cut by the phone."""
    rows: list[list[Button]] = []
    row: list[Button] = []
    for button in buttons:
        if len(plain(button[0])) > PHONE_WIDTH // per_row:
            rows += [row, [button]] if row else [[button]]
            row = []
            continue
        row.append(button)
        if len(row) == per_row:
            rows.append(row)
            row = []
    return [*rows, row] if row else rows


def keyboard(*rows: Sequence[Button]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, data) pairs."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(plain(label), url=data)
                if data.startswith(("https://", "http://", "mailto:"))
                else InlineKeyboardButton(plain(label), callback_data=data)
                for label, data in row
            ]
            for row in rows
            if row
        ]
    )


async def send(
    update: Update,
    context: CallbackContext,
    text: str,
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None,
) -> Message:
    """A new message in the chat the update came from."""
    assert update.effective_chat is not None
    return await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


def send_after_commit(
    update: Update,
    context: CallbackContext,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Reply once this update's stored data is committed (never if it rolls back).

    For replies that report stored data (a case number, a stored request, a recorded choice):
    a Telegram error on this reply is logged and never undoes what was stored.
    """
    after_commit_effect(lambda: send(update, context, text, markup))


async def answer(update: Update, text: str | None = None, alert: bool = False) -> CallbackQuery:
    """Stop the button's spinner (with an optional toast) and return the query."""
    query = update.callback_query
    assert query is not None
    try:
        await query.answer(plain(text) if text else text, show_alert=alert)
    except BadRequest as error:
        # A re-delivered press was answered the first time: handle it all the same.
        if "query is too old" not in str(error).lower():
            raise
    return query


async def edit_or_send(
    update: Update,
    context: CallbackContext,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Replace the pressed message's content; send anew if it can no longer be edited."""
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=markup)
            return
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return
            if "not found" not in str(error).lower() and "can't be edited" not in str(error):
                raise
    await send(update, context, text, markup)


async def close_buttons(update: Update, note: str | None = None) -> None:
    """Freeze the pressed message: remove its buttons, optionally append the chosen answer."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    message = query.message
    try:
        if note and message.text_html is not None:
            await message.edit_text(f"{message.text_html}\n\n{note}", reply_markup=None)
        elif message.reply_markup is not None:
            await message.edit_reply_markup(reply_markup=None)
    except BadRequest as error:
        if "not modified" not in str(error).lower() and "not found" not in str(error).lower():
            raise
