"""PTB persistence in our database: conversation states and flow drafts survive a restart.

Only user_data (flow drafts) and conversation states are kept, and only for people who may be
stored: an active consent to the privacy notice (cases), or a staff grant. For everyone else
(refused, withdrawn, never asked, under 16) drafts and states live in memory only and are lost
on restart; a flush for them deletes any row they had. Keys in NOT_STORED are never written,
and a draft holding nothing but its "last touched" stamp is no row at all (bot/core/drafts.py).
chat_data, bot_data and callback data are not used. Values must be JSON-friendly.

Writes happen in the update's own transaction (``save_update_state``, called by
PactApplication.process_update before its commit): the person's user_data row and the
conversation states their update changed are committed together with what the update stored and
its inbox "done" mark, so a kill can never keep one without the other. PTB's periodic flush
(``update_user_data``, ``update_conversation``) therefore writes nothing.

Reads are lazy: nothing is loaded at start-up. ``load_update_state`` (called by
PactApplication.process_update before the handlers run) reads the person's drafts and the states of
the conversations this update belongs to, with one query, the first time they are needed; the
least recently active people leave memory again (bot/core/state_memory.py Residents).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from copy import deepcopy
from datetime import datetime
from itertools import chain
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import and_, delete, exists, inspect, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import Application, BasePersistence, ConversationHandler, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from bot.core.state_memory import Residents, conversation_states
from db.models import BotState, Consent, ConsentPurpose, StaffMember, User

USER_DATA = "user_data"
CONVERSATION = "conv"
TOUCHED = "touched_at"
"""The user_data key with the moment the person last did something (set by bot/core/drafts.py)."""
NOT_STORED = frozenset({"case_step"})
"""user_data keys kept in memory only: my_cases keeps the typed reference of an anonymous case
it is checking there (and the case being answered), which must never be written next to the
Telegram id."""
NOT_STORED_CONVERSATIONS = frozenset({"case_check", "case_add", "case_answer"})
"""The my_cases steps that live on "case_step": their states are not written either, so after a
restart the person simply starts the short step again instead of landing in it without data."""


def _storable(data: dict[Any, Any]) -> dict[Any, Any] | None:
    """What of a user's data may go to the table; None when nothing but the stamp is left."""
    kept = {key: value for key, value in data.items() if key not in NOT_STORED}
    return kept if set(kept) - {TOUCHED} else None


def user_of_key(key: ConversationKey) -> int:
    """The Telegram user of a conversation key: (chat, user[, message]) or a private chat alone."""
    return int(key[1] if len(key) >= 2 else key[0])


def _conversation_key(name: str, key: ConversationKey) -> str:
    """One row per conversation and chat/user key."""
    return f"{name}:{json.dumps(list(key))}"


async def put_row(session: AsyncSession, kind: str, key: str, data: Any, now: datetime) -> None:
    """Insert or replace one row (delete + insert works the same on both backends)."""
    await session.execute(delete(BotState).where(BotState.kind == kind, BotState.key == key))
    if data is not None:
        session.add(BotState(kind=kind, key=key, data=data, updated_at=now))


async def put_rows(session: AsyncSession, rows: list[tuple[str, str, Any]], now: datetime) -> None:
    """Insert or replace (kind, key, data) rows in one upsert; data None: deleted, in one delete."""
    gone = [(kind, key) for kind, key, data in rows if data is None]
    kept = [
        {"kind": kind, "key": key, "data": data, "updated_at": now}
        for kind, key, data in rows
        if data is not None
    ]
    if gone:
        await session.execute(delete(BotState).where(tuple_(BotState.kind, BotState.key).in_(gone)))
    if kept:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(BotState).values(kept)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[BotState.kind, BotState.key],
                set_={"data": statement.excluded.data, "updated_at": statement.excluded.updated_at},
            )
        )


def consented(user: User | None, telegram_id: int) -> bool:
    """Whether the update's loaded user row shows consent (a) in force: then it may be stored,
    without a query. False when the row cannot tell (not loaded, erased, consents reloaded)."""
    if user is None or user.telegram_id != telegram_id:
        return False
    state = inspect(user)
    if state.deleted or state.was_deleted or state.detached or "consents" in state.unloaded:
        return False
    return any(c.purpose == ConsentPurpose.CASES and c.withdrawn_at is None for c in user.consents)


async def may_store(session: AsyncSession, user_id: int) -> bool:
    """Whether this Telegram user's drafts may be written: consent in force, or staff."""
    consented = exists().where(
        Consent.user_id == User.id,
        Consent.purpose == ConsentPurpose.CASES,
        Consent.withdrawn_at.is_(None),
    )
    staff = exists().where(StaffMember.user_id == User.id)
    found = await session.execute(
        select(User.id).where(and_(User.telegram_id == user_id, or_(consented, staff)))
    )
    return found.first() is not None


async def forget(session: AsyncSession, user_id: int) -> None:
    """Delete every row of someone who may not be stored (e.g. after withdrawing consent)."""
    n = str(int(user_id))
    keys = (f"%:[{n}]", f"%:[%, {n}]", f"%:[%, {n}, %]")
    await session.execute(
        delete(BotState).where(
            or_(
                and_(BotState.kind == USER_DATA, BotState.key == n),
                and_(
                    BotState.kind == CONVERSATION,
                    or_(*(BotState.key.like(pattern) for pattern in keys)),
                ),
            )
        )
    )


def _persistent(handlers: Iterable[object]) -> Iterator[ConversationHandler]:
    """The persistent conversation handlers among these, and their nested ones."""
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            if handler.persistent and handler.name:
                yield handler
            yield from _persistent(handler._child_conversations)


_HANDLERS: WeakKeyDictionary[Application, tuple[int, list[ConversationHandler]]] = (
    WeakKeyDictionary()
)
"""Per application: its persistent conversation handlers, and the handler count when found."""


def persistent_handlers(app: Application) -> list[ConversationHandler]:
    """The application's persistent conversation handlers, nested ones too (found again only
    when handlers were added or removed: walking all of them costs more than the update's keys)."""
    count = sum(map(len, app.handlers.values()))
    found = _HANDLERS.get(app)
    if found is None or found[0] != count:
        found = _HANDLERS[app] = (
            count,
            list(_persistent(chain.from_iterable(app.handlers.values()))),
        )
    return found[1]


def _update_keys(
    app: Application, update: Update, names: frozenset[str] | None = None
) -> list[tuple[str, ConversationKey]]:
    """(conversation name, key) of every persistent conversation this update belongs to (of
    those named in `names`, when given)."""
    found = []
    for handler in persistent_handlers(app):
        if names is not None and handler.name not in names:
            continue
        try:
            found.append((handler.name, handler._get_key(update)))  # type: ignore[arg-type]
        except RuntimeError:
            continue  # e.g. a per-chat conversation and an update without a chat
    return found


def residents_of(app: Application) -> Residents | None:
    """Who is in memory, when our persistence keeps the states."""
    persistence = app.persistence
    return persistence.residents if isinstance(persistence, DbPersistence) else None


async def load_update_state(app: Application, session: AsyncSession, update: Update) -> None:
    """Before the handlers: read this person's drafts and this update's conversation states.

    One query, only for what memory does not have yet; what memory has wins (it is newer).
    """
    user = update.effective_user
    residents = residents_of(app)
    if user is None or residents is None:
        return
    keys = _update_keys(app, update)
    async with residents.loading(user.id):
        wanted = residents.missing(user.id, keys)
        new_person = user.id not in residents
        if wanted or new_person:
            await _read_rows(app, session, user.id if new_person else None, wanted)
        residents.enter(app, update.update_id, user.id, keys)


async def _read_rows(
    app: Application,
    session: AsyncSession,
    user_id: int | None,
    keys: list[tuple[str, ConversationKey]],
) -> None:
    """Put the stored drafts of `user_id` (if given) and these conversation states in memory."""
    names = {_conversation_key(name, key): (name, key) for name, key in keys}
    wanted = [and_(BotState.kind == CONVERSATION, BotState.key.in_(names))] if names else []
    if user_id is not None:
        wanted.append(and_(BotState.kind == USER_DATA, BotState.key == str(user_id)))
    rows = await session.execute(
        select(BotState.kind, BotState.key, BotState.data).where(or_(*wanted))
    )
    states = conversation_states(app)
    for kind, key, data in rows.all():
        if kind == USER_DATA and user_id is not None and user_id not in app.user_data:
            app._user_data[user_id] = dict(data)  # PTB's own dict behind the read-only user_data
        elif kind == CONVERSATION and key in names:
            name, conversation_key = names[key]
            state = data["state"]
            memory = states.get(name)
            if (
                memory is not None
                and conversation_key not in memory
                and state != ConversationHandler.END
            ):
                memory.update_no_track({conversation_key: state})


def release_update_state(app: Application, update: object) -> None:
    """After an update, handled or not: its person may leave memory again."""
    residents = residents_of(app)
    if residents is not None and isinstance(update, Update):
        residents.finished(update.update_id)


class UpdateState:
    """The memory state of one update's person before it ran, to put back if it fails."""

    def __init__(self, app: Application, update: Update) -> None:
        self.app = app
        user = update.effective_user
        self.user_id = user.id if user is not None else None
        self.user_data = (
            deepcopy(app.user_data.get(self.user_id)) if self.user_id is not None else None
        )
        states = conversation_states(app)
        self.conversations = {
            (name, key): states[name].get(key)
            for name, key in _update_keys(app, update)
            if name in states
        }
        self.consented = False
        """Whether consent (a) was in force as the update began (set once the user is read)."""

    def restore(self) -> None:
        """Put memory back as it was: the failed update's transaction was rolled back."""
        if self.user_id is not None:
            data = self.app._user_data  # PTB's own dict behind the read-only user_data
            if self.user_data is None:
                data.pop(self.user_id, None)
            else:
                data[self.user_id] = self.user_data
        states = conversation_states(self.app)
        for (name, key), state in self.conversations.items():
            if state is None:
                states[name].pop(key, None)
            else:
                states[name][key] = state


async def save_update_state(
    app: Application,
    session: AsyncSession,
    update: Update,
    now: datetime,
    *,
    user_row: User | None = None,
    previous: UpdateState | None = None,
) -> None:
    """Write this person's drafts and the conversation states this update changed, in its session.

    Nothing is kept for someone who may not be stored (their rows are deleted instead); keys in
    NOT_STORED and conversations in NOT_STORED_CONVERSATIONS are never written. With the
    update's loaded `user_row` showing consent, no query asks whether they may be stored; with
    `previous` (memory before the update) their drafts row is written only when it changed,
    when consent was in force already before (the table then holds what memory held). All rows
    go in at most one upsert and one delete.
    """
    user = update.effective_user
    if user is None:
        return
    chat = update.effective_chat
    ids = {user.id} | ({chat.id} if chat is not None else set())
    changed: list[tuple[str, ConversationKey, object]] = []
    for name, states in conversation_states(app).items():
        mine = {key for key in states._write_access_keys if ids & set(key[:2])}
        states._write_access_keys -= mine
        changed += [(name, key, states.get(key)) for key in mine]
    app._user_ids_to_be_deleted_in_persistence.discard(user.id)  # written here instead
    known = consented(user_row, user.id)
    storable = known or await may_store(session, user.id)
    _note_memory_only(app, update, user.id, storable)
    if not storable:
        await forget(session, user.id)
        return
    kept = _storable(dict(app.user_data.get(user.id) or {}))
    rows: list[tuple[str, str, Any]] = []
    unchanged = (
        known
        and previous is not None
        and previous.consented
        and kept == _storable(dict(previous.user_data or {}))
    )
    if not unchanged:
        rows.append((USER_DATA, str(user.id), kept))
    for name, key, state in changed:
        keep = state is not None and name not in NOT_STORED_CONVERSATIONS
        if keep and user_of_key(key) != user.id and not await may_store(session, user_of_key(key)):
            keep = False
        rows.append(
            (CONVERSATION, _conversation_key(name, key), {"state": state} if keep else None)
        )
    await put_rows(session, rows, now)


def _note_memory_only(app: Application, update: Update, user_id: int, storable: bool) -> None:
    """Remember whether the person's memory now holds what the table will not (kept in memory)."""
    residents = residents_of(app)
    if residents is None:
        return
    data = app.user_data.get(user_id) or {}
    states = conversation_states(app)
    unwritten = not storable or any(key in data for key in NOT_STORED)
    if not unwritten:
        unwritten = any(
            key in states.get(name, {})
            for name, key in _update_keys(app, update, NOT_STORED_CONVERSATIONS)
        )
    if unwritten:
        residents.memory_only.add(user_id)
    else:
        residents.memory_only.discard(user_id)


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
        self.residents = Residents()
        """Whose rows are in memory (read per person on demand, see load_update_state)."""

    async def _put(self, kind: str, key: str, data: Any) -> None:
        """Insert or replace one row in its own transaction."""
        async with self._sessions() as session, session.begin():
            await put_row(session, kind, key, data, self._now())

    async def may_store(self, user_id: int) -> bool:
        """Whether this Telegram user's drafts may be written: consent in force, or staff."""
        async with self._sessions() as session:
            return await may_store(session, user_id)

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """Nothing at start-up: each person's drafts are read with their first update."""
        return {}

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Nothing: a person's drafts are written in their update's transaction instead."""

    async def drop_user_data(self, user_id: int) -> None:
        """Forget a user's drafts (erasure)."""
        await self._put(USER_DATA, str(user_id), None)

    async def get_conversations(self, name: str) -> ConversationDict:
        """Nothing at start-up: states are read with the first update that needs them."""
        return {}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Nothing: states are written in their update's transaction instead."""

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

    async def purge_stale(self, cutoff: datetime) -> int:
        """Delete drafts untouched since `cutoff` and the conversation states of their owners."""
        async with self._sessions() as session, session.begin():
            stale = await session.execute(
                select(BotState.key).where(BotState.kind == USER_DATA, BotState.updated_at < cutoff)
            )
            owners = {int(key) for key in stale.scalars()}
            states = await session.execute(select(BotState).where(BotState.kind == CONVERSATION))
            for row in states.scalars():
                key = tuple(json.loads(row.key.partition(":")[2]))
                if user_of_key(key) in owners or row.updated_at < cutoff:
                    await session.delete(row)
            await session.execute(
                delete(BotState).where(BotState.kind == USER_DATA, BotState.updated_at < cutoff)
            )
            return len(owners)
