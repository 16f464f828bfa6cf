"""Telegram tells us when a person blocks or unblocks the bot; we stop writing to them."""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.ext import ChatMemberHandler

from bot.account.services import accounts
from bot.core import routing
from bot.core.application import PactContext


async def my_chat_member(update: Update, context: PactContext) -> None:
    """Record a block (kicked) or an unblock in a private chat."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    blocked = change.new_chat_member.status == ChatMember.BANNED
    await accounts.set_blocked(context.scope.session, context.actor(update), blocked)


def routes() -> list[routing.Route]:
    """Telegram's notices that the person blocked or unblocked the bot."""
    return routing.citizen(ChatMemberHandler(my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
