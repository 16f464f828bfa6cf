"""Notices to reporters and followers about their cases, each in their own language (outbox).

Written as outbox rows in the deciding transaction and sent after it commits, so a staff action in
another feature (bot/staff/workspace.py) tells people through this module, not through handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcasting import outbox
from bot.broadcasting.services import outbox_rows
from bot.cases import views as case_views
from bot.cases.services import case_rules
from bot.core.i18n import Translator
from bot.core.runtime import Services
from bot.kit.ui import Button, keyboard
from db.models import Case, User

Notice = Callable[[Translator, User], Awaitable[tuple[str, list[list[Button]]]]]
"""A notice's text and buttons for one person, in their language."""


async def status_changed(
    services: Services, session: AsyncSession, case: Case, note: str | None
) -> int:
    """Queue the status notice for everyone who should hear it; returns how many."""

    async def notice(t: Translator, person: User) -> tuple[str, list[list[Button]]]:
        reporter = await case_rules.is_reporter(session, case, person)
        return case_views.status_notice(t, case, note), case_views.card_buttons(t, case, reporter)

    return await _tell(services, session, case, notice)


async def merged(services: Services, session: AsyncSession, duplicate: Case, kept: Case) -> int:
    """Tell the duplicate's reporter and followers which case to follow now; returns how many."""

    async def notice(t: Translator, person: User) -> tuple[str, list[list[Button]]]:
        return case_views.merge_notice(t, duplicate, kept), case_views.merge_buttons(t, kept)

    return await _tell(services, session, duplicate, notice)


async def _tell(services: Services, session: AsyncSession, case: Case, notice: Notice) -> int:
    """One notice to each person who hears about the case (reporter, followers); how many."""
    queued = 0
    for person in await case_rules.recipients(session, case):
        text, rows = await notice(services.i18n.translator(person.language), person)
        queued += await outbox.enqueue(
            services,
            kind=outbox_rows.STATUS_NOTICE,
            chat_id=person.telegram_id,
            user_id=person.id,
            text=text,
            markup=keyboard(*rows),
        )
    return queued
