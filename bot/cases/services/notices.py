"""Notices to reporters and followers about their cases, each in their own language (outbox).

Written as outbox rows in the deciding transaction and sent after it commits, so a staff action in
another feature (bot/staff/workspace.py) tells people through this module, not through handlers.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcasting import outbox
from bot.broadcasting.services import outbox_rows
from bot.cases import views as case_views
from bot.cases.services import case_rules
from bot.core.runtime import Services
from bot.kit.ui import keyboard
from db.models import Case


async def status_changed(
    services: Services, session: AsyncSession, case: Case, note: str | None
) -> int:
    """Queue the status notice for everyone who should hear it; returns how many."""
    queued = 0
    for person in await case_rules.recipients(session, case):
        t = services.i18n.translator(person.language)
        reporter = await case_rules.is_reporter(session, case, person)
        queued += await outbox.enqueue(
            services,
            kind=outbox_rows.STATUS_NOTICE,
            chat_id=person.telegram_id,
            user_id=person.id,
            text=case_views.status_notice(t, case, note),
            markup=keyboard(*case_views.card_buttons(t, case, reporter)),
        )
    return queued


async def merged(services: Services, session: AsyncSession, duplicate: Case, kept: Case) -> int:
    """Tell the duplicate's reporter and followers which case to follow now; returns how many."""
    queued = 0
    for person in await case_rules.recipients(session, duplicate):
        t = services.i18n.translator(person.language)
        queued += await outbox.enqueue(
            services,
            kind=outbox_rows.STATUS_NOTICE,
            chat_id=person.telegram_id,
            user_id=person.id,
            text=case_views.merge_notice(t, duplicate, kept),
            markup=keyboard(*case_views.merge_buttons(t, kept)),
        )
    return queued
