"""PTB persistence in our database: conversation states and flow drafts survive a restart.

Only user_data (drafts of flows that already have the person's consent) and conversation states
are kept; chat_data, bot_data and callback data are not used. Values must be JSON-friendly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from db.models import BotState

USER_DATA = "user_data"
CONVERSATION = "conv"


def _conversation_key(name: str, key: ConversationKey) -> str:
    """One row per conversation and chat/user key."""
    return f"{name}:{json.dumps(list(key))}"


class DbPersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Writes through to the bot_state table; PTB calls it after updates and on shutdown."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        now: Callable[[], datetime],
        update_interval: float = 1,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._sessions = sessions
        self._now = now

    async def _rows(self, kind: str, prefix: str = "") -> list[BotState]:
        async with self._sessions() as session:
            query = select(BotState).where(BotState.kind == kind)
            if prefix:
                query = query.where(BotState.key.startswith(prefix, autoescape=True))
            return list((await session.execute(query)).scalars())

    async def _put(self, kind: str, key: str, data: Any) -> None:
        """Insert or replace one row (delete + insert works the same on both backends)."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(BotState).where(BotState.kind == kind, BotState.key == key)
            )
            if data is not None:
                session.add(BotState(kind=kind, key=key, data=data, updated_at=self._now()))

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """All stored drafts by user id."""
        return {int(row.key): dict(row.data) for row in await self._rows(USER_DATA)}

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Store a user's drafts; an empty dict removes the row."""
        await self._put(USER_DATA, str(user_id), dict(data) or None)

    async def drop_user_data(self, user_id: int) -> None:
        """Forget a user's drafts (erasure)."""
        await self._put(USER_DATA, str(user_id), None)

    async def get_conversations(self, name: str) -> ConversationDict:
        """States of one ConversationHandler by key."""
        rows = await self._rows(CONVERSATION, f"{name}:")
        return {
            tuple(json.loads(row.key.removeprefix(f"{name}:"))): row.data["state"] for row in rows
        }

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store or clear one conversation's state."""
        data = None if new_state is None else {"state": new_state}
        await self._put(CONVERSATION, _conversation_key(name, key), data)

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        """Not stored."""
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        """Not stored."""
        return {}

    async def get_callback_data(self) -> None:
        """Not stored."""
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Not stored."""

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Not stored."""

    async def update_callback_data(self, data: Any) -> None:
        """Not stored."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Not stored."""

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Memory is the source of truth while running."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Not stored."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Not stored."""

    async def flush(self) -> None:
        """Every write already went to the database."""
