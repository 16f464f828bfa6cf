"""Telling reporters and followers about their cases, each in their own language."""

from __future__ import annotations

import logging
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.handlers import case_views, staff_views
from bot.runtime import Services
from bot.services import accounts
from bot.services import cases as case_rules
from bot.services import staff as staff_rules
from bot.ui import keyboard
from db.models import Case, CaseKind, User

log = logging.getLogger(__name__)


async def status_changed(
    bot: ExtBot[None], services: Services, session: AsyncSession, case: Case, note: str | None
) -> int:
    """Send the status notice to everyone who should hear it; returns how many got it."""
    delivered = 0
    for person in await case_rules.recipients(session, case):
        t = services.i18n.translator(person.language)
        reporter = await case_rules.is_reporter(session, case, person)
        try:
            await bot.send_message(
                person.telegram_id,
                case_views.status_notice(t, case, note),
                reply_markup=keyboard(*case_views.card_buttons(t, case, reporter)),
            )
            delivered += 1
        except Forbidden:
            await accounts.set_blocked(
                session, accounts.Actor(person.telegram_id, services.clock.now()), True
            )
        except TelegramError as error:
            log.warning("status notice for a case not sent: %s", type(error).__name__)
    return delivered


async def reporter_answered(
    bot: ExtBot[None], services: Services, session: AsyncSession, case: Case, text: str
) -> None:
    """Pass a reporter's answer to the assignee privately, if their grant still sees the case.

    Otherwise the answer is held in the case (the private staff card shows it to whoever opens
    it next) and the staff chat hears only that there is one, never its words.
    """
    if case.assignee_user_id is not None and await staff_rules.sees_now(
        session, case.assignee_user_id, case
    ):
        assignee = await session.get(User, case.assignee_user_id)
        if assignee is not None:
            t = services.i18n.translator(assignee.language)
            try:
                await bot.send_message(
                    assignee.telegram_id,
                    t.gettext(
                        "↩️ The reporter of {reference} answered: “{text}”",
                        reference=case.reference,
                        text=escape(text),
                    ),
                )
                return
            except TelegramError as error:
                log.warning("answer not passed to the assignee: %s", type(error).__name__)
    await staff(
        bot,
        services,
        lambda t: t.gettext(
            "↩️ The reporter of {reference} answered. Open the case in your private chat to "
            "read it.",
            reference=case.reference,
        ),
        case,
        open_button=True,
    )


async def staff(
    bot: ExtBot[None],
    services: Services,
    text_for: object,
    case: Case | None = None,
    *,
    open_button: bool = False,
) -> None:
    """A line to the staff chat in the default language; never about corruption reports there.

    The staff group may hold people without the corruption permission, so corruption cases are
    only ever shown in the staff workspace to those allowed to see them. The line never carries
    what the reporter wrote; `open_button` adds the button that opens the case privately.
    """
    chat_id = services.settings.staff_chat_id
    if chat_id is None or (case is not None and case.kind == CaseKind.CORRUPTION):
        return
    t = services.i18n.translator(None)
    markup = (
        keyboard(*staff_views.group_buttons(t, case, notice=True))
        if open_button and case is not None
        else None
    )
    try:
        await bot.send_message(chat_id, text_for(t), reply_markup=markup)  # type: ignore[operator]
    except TelegramError as error:
        log.warning("staff chat notice not sent: %s", type(error).__name__)
