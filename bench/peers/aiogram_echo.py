"""A bare aiogram 3 echo bot: every text message is sent back; the peer PACT is compared with.

Run by bench/echo.py: python bench/peers/aiogram_echo.py --api http://127.0.0.1:PORT --token T
aiogram's defaults otherwise: long polling, each update handled as its own task.
"""

from __future__ import annotations

import argparse
import asyncio

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

dispatcher = Dispatcher()


@dispatcher.message()
async def echo(message: Message) -> None:
    """Send the text back."""
    await message.answer(message.text or "?")


async def main() -> None:
    """Poll the given Bot API server until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True, help="server origin, e.g. http://127.0.0.1:8081")
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    session = AiohttpSession(api=TelegramAPIServer.from_base(args.api))
    bot = Bot(args.token, session=session)
    await dispatcher.start_polling(bot, polling_timeout=10, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main())
