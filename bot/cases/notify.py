"""Telling reporters, followers and staff about cases, each in their own language (outbox)."""

from __future__ import annotations

import logging

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import ExtBot

from bot.broadcasting import outbox
from bot.broadcasting.services import outbox_rows
from bot.cases import views as case_views
from bot.cases.services import case_rules
from bot.core.i18n import Translator
from bot.core.runtime import Services
from bot.kit.ui import keyboard
from bot.staff import views as staff_views
from bot.staff.services import permissions as staff_rules
from db.models import Case, CaseKind, User

log = logging.getLogger(__name__)


async def status_changed(
    bot: ExtBot[None], services: Services, session: AsyncSession, case: Case, note: str | None
) -> int:
    """Queue the status notice for everyone who should hear it (outbox); returns how many."""
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
    """Tell the duplicate's reporter and followers, each in their language, which case to
    follow now (outbox); returns how many were told."""
    queued = 0
    follow = case_rules.followable(kept)
    for person in await case_rules.recipients(session, duplicate):
        t = services.i18n.translator(person.language)
        rows = [[(t.gettext("📂 My cases"), case_views.LIST)]]
        if follow:
            rows.insert(0, [(f"📂 {kept.reference}", case_views.OPEN_CASE.data(kept.id))])
        queued += await outbox.enqueue(
            services,
            kind=outbox_rows.STATUS_NOTICE,
            chat_id=person.telegram_id,
            user_id=person.id,
            text=_merge_notice(t, duplicate, kept, follow),
            markup=keyboard(*rows),
        )
    return queued


def _merge_notice(t: Translator, duplicate: Case, kept: Case, follow: bool) -> Markup:
    """The case is closed as a duplicate: the one the team works on, and whether to follow it."""
    closed = t.gettext(
        "🔔 Case {duplicate} ({what}) reports the same problem as case {kept}, so the team "
        "joined them: {duplicate} is closed as a duplicate.",
        duplicate=duplicate.reference,
        kept=kept.reference,
        what=case_views.what(t, duplicate),
    )
    if follow:
        then = t.gettext(
            "Follow case {kept} from now on: you will hear here when its status changes.",
            kept=kept.reference,
        )
    else:
        then = t.gettext(
            "The team goes on with the problem in case {kept}; news of that case goes to its "
            "reporter only.",
            kept=kept.reference,
        )
    return Markup("\n\n").join([closed, then])


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
