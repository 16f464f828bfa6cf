"""/cancel outside a flow: the answer itself (bot/kit/answers.py) is shared by every flow."""

from __future__ import annotations

from telegram.ext import CommandHandler, filters

from bot.core import routing
from bot.kit.answers import cancel


def routes() -> list[routing.Route]:
    """/cancel outside any flow (each flow has its own)."""
    return routing.citizen(CommandHandler("cancel", cancel, filters=filters.ChatType.PRIVATE))
