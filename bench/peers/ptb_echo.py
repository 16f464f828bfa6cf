"""A bare python-telegram-bot 22 echo bot, with PTB's HTTPXRequest or the project's aiohttp one.

Run by bench/echo.py: python bench/peers/ptb_echo.py --api http://127.0.0.1:PORT --token T
[--request httpx|aiohttp] [--concurrent N]. Bare: PTB's defaults, so updates are handled one at
a time unless --concurrent is given (PTB's HTTPXRequest slows down with many calls in flight:
httpcore's pool bookkeeping grows with every waiting request).
"""

from __future__ import annotations

import argparse

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back."""
    message = update.effective_message
    assert message is not None
    await context.bot.send_message(message.chat_id, message.text or "?")


def aiohttp_request() -> object:
    """The project's aiohttp request class (wherever the transport module lives now)."""
    try:
        from bot.broadcasting.transport import AiohttpRequest
    except ImportError:  # moved by a later refactor
        from bot.core.transport import AiohttpRequest  # type: ignore[no-redef]
    return AiohttpRequest()


def main() -> None:
    """Poll the given Bot API server until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True, help="server origin, e.g. http://127.0.0.1:8081")
    parser.add_argument("--token", required=True)
    parser.add_argument("--request", choices=("httpx", "aiohttp"), default="httpx")
    parser.add_argument("--concurrent", type=int, default=0, help="updates at once (0: PTB's 1)")
    args = parser.parse_args()
    builder = (
        ApplicationBuilder()
        .token(args.token)
        .base_url(f"{args.api}/bot")
        .base_file_url(f"{args.api}/file/bot")
    )
    if args.concurrent:
        builder = builder.concurrent_updates(args.concurrent)
    if args.request == "aiohttp":
        builder = builder.request(aiohttp_request()).get_updates_request(aiohttp_request())
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(timeout=10, poll_interval=0.0)


if __name__ == "__main__":
    main()
