"""Telling staff about cases (outbox): the group card of a new case, lines to the staff chat, a
reporter's answer to the assignee. Notices to reporters and followers: services/notices.py."""

from __future__ import annotations

import logging

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.broadcasting import outbox
from bot.broadcasting.services import outbox_rows
from bot.cases.services import case_rules
from bot.core.i18n import Translator
from bot.core.runtime import Services
from bot.kit.ui import keyboard
from bot.staff import views as staff_views
from bot.staff.services import permissions as staff_rules
from db.models import Case, CaseKind, User

log = logging.getLogger(__name__)


async def new_case_card(bot: ExtBot[None], services: Services, case: Case) -> None:
    """A new service case in the staff group: reference, category, municipality, age, one button.

    No description, photos, map pin or name: the group may hold staff of other municipalities.
    Never corruption reports.
    """
    chat_id = services.settings.staff_chat_id
    if chat_id is None or case.kind == CaseKind.CORRUPTION:
        return
    t = services.i18n.translator(None)
    try:
        thread = await _thread(bot, services, case)
    except TelegramError as error:
        # The card still goes out (in the general topic) once the group takes messages again.
        log.warning("staff topic not found: %s", type(error).__name__)
        thread = None
    # An outbox row in the case's own transaction: sent after the commit, retried, recorded.
    await outbox.enqueue(
        services,
        kind=outbox_rows.STAFF_CARD,
        chat_id=chat_id,
        text=staff_views.group_card(t, case, services.clock.now()),
        markup=keyboard(*staff_views.group_buttons(t, case)),
        thread_id=thread,
    )


async def _thread(bot: ExtBot[None], services: Services, case: Case) -> int | None:
    """The municipality's topic when the staff group is a forum (created on first use)."""
    chat_id = services.settings.staff_chat_id
    if "staff_forum" not in services.cache:
        services.cache["staff_forum"] = bool((await bot.get_chat(chat_id)).is_forum)
    town = case.municipality
    if not services.cache["staff_forum"] or town is None:
        return None
    if town.staff_thread_id is None:
        topic = await bot.create_forum_topic(chat_id, f"Bashkia {town.name}"[:128])
        town.staff_thread_id = topic.message_thread_id
    return town.staff_thread_id


async def reporter_answered(
    bot: ExtBot[None],
    services: Services,
    session: AsyncSession,
    case: Case,
    text: str | None,
    files: list[case_rules.Attachment] | None = None,
) -> None:
    """Pass a reporter's answer (words and cleaned files) to the assignee privately, if their
    grant still sees the case.

    Otherwise the answer is held in the case (the private staff card shows it to whoever opens
    it next) and the staff chat hears only that there is one, never its words or files.
    """
    files = files or []
    if case.assignee_user_id is not None and await staff_rules.sees_now(
        session, case.assignee_user_id, case
    ):
        assignee = await session.get(User, case.assignee_user_id)
        if assignee is not None:
            t = services.i18n.translator(assignee.language)
            await outbox.enqueue(
                services,
                kind=outbox_rows.REPORTER_ANSWER,
                chat_id=assignee.telegram_id,
                user_id=assignee.id,
                text=_answer_text(t, case, text, len(files)),
            )
            for item in files:
                await outbox.enqueue_file(
                    services,
                    kind=outbox_rows.REPORTER_ANSWER,
                    chat_id=assignee.telegram_id,
                    user_id=assignee.id,
                    file_kind=item.kind,
                    file_id=item.file_id,
                    caption=" · ".join(filter(None, (case.reference, item.file_name))),
                )
            return
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


def _answer_text(t: Translator, case: Case, text: str | None, files: int) -> Markup:
    """The relayed answer: the reporter's words, and how many files follow it."""
    lines = []
    if text:
        lines.append(
            t.gettext(
                "↩️ The reporter of {reference} answered: “{text}”",
                reference=case.reference,
                text=text,
            )
        )
    if files:
        lines.append(
            t.ngettext(
                "↩️ The reporter of {reference} sent {count} file (below, and in 📎 Files).",
                "↩️ The reporter of {reference} sent {count} files (below, and in 📎 Files).",
                files,
                reference=case.reference,
            )
        )
    return Markup("\n").join(lines)


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
    await outbox.enqueue(
        services,
        kind=outbox_rows.STAFF_NOTICE,
        chat_id=chat_id,
        text=text_for(t),  # type: ignore[operator]
        markup=markup,
    )
