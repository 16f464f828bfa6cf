"""What every conversation shares: the Cancel button, and /cancel, /menu, /start as ways out."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler

from bot.core.application import PactContext
from bot.kit import answers, menu
from bot.kit.ui import answer, close_buttons, send


async def cancel_button(update: Update, context: PactContext) -> int:
    """The Cancel button: same as /cancel (drops the draft)."""
    await answer(update)
    await close_buttons(update)
    return await answers.cancel(update, context)


async def leave_to_menu(update: Update, context: PactContext) -> int:
    """/menu inside a flow: leave, keep the draft for later."""
    await menu.show_menu(update, context)
    return ConversationHandler.END


async def leave_to_start(update: Update, context: PactContext) -> int:
    """/start inside a flow: leave, keep the draft for later, and answer /start as outside one.

    The answer is the /start command route the application registered (bot/account/onboarding.py)
    found among its handlers, so the kit names no feature.
    """
    application = context.application
    for handler in application.handlers.get(0, ()):
        if isinstance(handler, CommandHandler) and (found := handler.check_update(update)):
            await handler.handle_update(update, application, found, context)
            break
    return ConversationHandler.END


def exits() -> list[BaseHandler]:
    """The fallbacks of every conversation."""
    return [
        CommandHandler("cancel", answers.cancel),
        CommandHandler("menu", leave_to_menu),
        CommandHandler("start", leave_to_start),
    ]


def typed_text(update: Update) -> str:
    """The typed text of a step, trimmed ("" for other kinds of message)."""
    message = update.effective_message
    return (message.text or "").strip() if message else ""


async def use_buttons(update: Update, context: PactContext) -> int | None:
    """Input where a button is expected: say so and stay in the step."""
    await send(update, context, context.t.gettext("Please use the buttons."))
    return None


async def type_text(update: Update, context: PactContext) -> int | None:
    """A sticker, photo or file where text is expected: say so and stay in the step."""
    await send(update, context, context.t.gettext("Please type your answer as text."))
    return None
