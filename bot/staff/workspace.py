"""The staff workspace: short case cards in the staff group, full cards privately, /inbox, and
every action on a case.

The group card shows reference, category, municipality and age only; its one button sends the
full card (scope-checked) to the member's private chat, where every action and all typed input
(replies, notes, status notes, merges, redactions) happen, keyed by user (see staff_cases.mmd).
All of it sits behind bot.core.access.gate.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.broadcasting import outbox
from bot.broadcasting.services import outbox_rows
from bot.cases import views as case_views
from bot.cases.services import case_rules, notices
from bot.core import routing
from bot.core.access import current_member, refuse_button
from bot.core.application import PactContext
from bot.core.i18n import N_, Translator, join_lines, shorten
from bot.kit import answers
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import (
    answer,
    edit_or_send,
    keyboard,
    list_label,
    rows_of,
    send,
    send_after_commit,
)
from bot.staff import views
from bot.staff.services import casework, templates
from bot.staff.services import permissions as staff
from bot.staff.services.permissions import Permission
from db.models import (
    AttachmentKind,
    Case,
    CaseStatus,
    ResponseTemplate,
    StaffRole,
    User,
)
from db.repositories import audit

log = logging.getLogger(__name__)

# States
INPUT = 0

SKIP_NOTE = "stf:skipnote"
TEMPLATE = ButtonCodec("stf:tpl:", int)
KEY = "staff_input"


async def _case(
    update: Update, context: PactContext, button: ButtonCodec
) -> tuple[Case, Any] | None:
    """The case a staff button names (its first field), if this staff member may see it (checked
    in the database), with the button's second field (None without one).

    Pressed in the group, any case button only sends the full card to the private chat (and
    redraws the pressed card, not a notice).
    """
    parsed = button.parse(update.callback_query.data if update.callback_query else None)
    number, choice = parsed if isinstance(parsed, tuple) else (parsed, None)
    case = await context.scope.session.get(Case, number) if number is not None else None
    if case is None or not staff.sees(current_member(context), case):
        await refuse_button(update, context)
        return None
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await _open_privately(update, context, case, redraw=button is not views.PRIVATE_NOTICE)
        return None
    return case, choice


async def _card_text(context: PactContext, case: Case) -> str:
    """The card text in this staff member's language."""
    session = context.scope.session
    files = await case_rules.attachments(session, case)
    assignee = None
    if case.assignee_user_id is not None:
        member = await session.get(staff.StaffMember, case.assignee_user_id)
        assignee = member.display_name if member else None
    events = await casework.exchanges(session, case)
    return views.card(context.t, case, files, assignee, context.services.clock.now(), events)


async def _redraw(update: Update, context: PactContext, case: Case) -> None:
    """Show the case card with its actions in place of the pressed message."""
    await edit_or_send(
        update,
        context,
        await _card_text(context, case),
        keyboard(*views.buttons(context.t, case, _viewer(context))),
    )


def _viewer(context: PactContext) -> int | None:
    """The user id of the staff member at work (the card's buttons depend on it)."""
    member = current_member(context)
    return member.user_id if member else None


async def _viewed(context: PactContext, case: Case) -> None:
    """Staff access to a full card is logged (privacy.md 7)."""
    member = current_member(context)
    await audit.record(
        context.scope.session,
        at=context.services.clock.now(),
        actor_kind="staff",
        actor_user_id=member.user_id if member else None,
        action="case.viewed",
        subject_type="case",
        subject_id=case.id,
    )


async def _reachable_privately(context: PactContext, user_id: int) -> bool:
    """Whether the bot may write to this person's private chat, asked of Telegram now.

    Replies wait for the commit, so a refused card would only show after the toast had promised
    it; a "typing…" action is made at once and shows nothing stored.
    """
    try:
        await context.bot.send_chat_action(user_id, ChatAction.TYPING)
    except Forbidden:
        return False
    except BadRequest as error:
        if "chat not found" in str(error).lower():
            return False
        raise
    return True


async def _open_privately(
    update: Update, context: PactContext, case: Case, *, redraw: bool = True
) -> None:
    """Send the full card with its actions to the staff member's private chat, never the group."""
    assert update.effective_user is not None
    t = context.t
    if not await _reachable_privately(context, update.effective_user.id):
        await answer(update, t.gettext("Start a private chat with the bot first."), alert=True)
        return
    await context.bot.send_message(
        update.effective_user.id,
        await _card_text(context, case),
        reply_markup=keyboard(*views.buttons(t, case, _viewer(context))),
    )
    await _viewed(context, case)
    await answer(update, t.gettext("Sent to your private chat."))
    if redraw:
        await _refresh_group_card(update, context, case)


async def _refresh_group_card(update: Update, context: PactContext, case: Case) -> None:
    """Redraw the pressed group message as the short card (fresh age; old full cards shrink)."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    t = context.services.i18n.translator(None)
    try:
        await query.message.edit_text(
            views.group_card(t, case, context.services.clock.now()),
            reply_markup=keyboard(*views.group_buttons(t, case)),
        )
    except BadRequest as error:
        log.info("group card not redrawn: %s", type(error).__name__)


async def open_privately(update: Update, context: PactContext) -> None:
    """The group card's button: the full card privately, if this member may see the case."""
    data = update.callback_query.data if update.callback_query else None
    button = views.PRIVATE_NOTICE if views.PRIVATE_NOTICE.parse(data) is not None else views.PRIVATE
    found = await _case(update, context, button)  # in the group, _case opens privately
    if found is not None:
        await _open_privately(update, context, found[0], redraw=False)


async def open_card(update: Update, context: PactContext) -> None:
    """Show (or redraw) a case card with its actions; staff access is logged (privacy.md 7)."""
    found = await _case(update, context, views.OPEN)
    if found is None:
        return
    await answer(update)
    case = found[0]
    await _viewed(context, case)
    await _redraw(update, context, case)


async def take(update: Update, context: PactContext) -> None:
    """Assign the case to oneself."""
    found = await _case(update, context, views.TAKE)
    if found is None:
        return
    case = found[0]
    member = current_member(context)
    assert member is not None
    if not views.can_take(case, member.user_id):
        await stale_button(update, context)
        return
    await casework.assign(
        context.scope.session,
        case,
        member.user_id,
        staff_user_id=member.user_id,
        now=context.services.clock.now(),
    )
    await answer(update, context.t.gettext("You took {reference}.", reference=case.reference))
    await _redraw(update, context, case)


async def assign_menu(update: Update, context: PactContext) -> None:
    """Choose a caseworker who may see the case."""
    found = await _case(update, context, views.ASSIGN)
    if found is None:
        return
    await answer(update)
    case = found[0]
    people = [
        (m.display_name, views.ASSIGN_TO.data(case.id, m.user_id))
        for m, _user in await staff.everyone(context.scope.session)
        if staff.sees(m, case)
    ]
    rows = rows_of(people)
    await edit_or_send(
        update,
        context,
        context.t.gettext("Assign {reference} to:", reference=case.reference),
        keyboard(*rows, [(context.t.gettext("⬅️ Back"), views.OPEN.data(case.id))]),
    )


async def assign_to(update: Update, context: PactContext) -> None:
    """Assignment chosen."""
    found = await _case(update, context, views.ASSIGN_TO)
    if found is None:
        return
    case, user_id = found
    target = await context.scope.session.get(staff.StaffMember, user_id)
    member = current_member(context)
    if target is None or member is None or not staff.sees(target, case):
        await stale_button(update, context)
        return
    await casework.assign(
        context.scope.session,
        case,
        target.user_id,
        staff_user_id=member.user_id,
        now=context.services.clock.now(),
    )
    await answer(update, context.t.gettext("Assigned to {name}.", name=target.display_name))
    await _redraw(update, context, case)


async def status_menu(update: Update, context: PactContext) -> None:
    """The statuses to choose from."""
    found = await _case(update, context, views.STATUS)
    if found is None:
        return
    await answer(update)
    case = found[0]
    await edit_or_send(
        update,
        context,
        context.t.gettext("New status for {reference}:", reference=case.reference),
        keyboard(*views.status_buttons(context.t, case)),
    )


async def more(update: Update, context: PactContext) -> None:
    """Merge, reopen, redact, audit."""
    found = await _case(update, context, views.MORE)
    if found is None:
        return
    await answer(update)
    case = found[0]
    await edit_or_send(
        update,
        context,
        await _card_text(context, case),
        keyboard(*views.more_buttons(context.t, case, current_member(context))),
    )


async def files(update: Update, context: PactContext) -> None:
    """Send the case's files to the staff member privately (location, photos, voice, documents)."""
    found = await _case(update, context, views.FILES)
    if found is None:
        return
    case = found[0]
    assert update.effective_user is not None
    chat = update.effective_user.id
    if not await _reachable_privately(context, chat):
        await answer(
            update, context.t.gettext("Start a private chat with the bot first."), alert=True
        )
        return
    if case.latitude is not None and case.longitude is not None:
        await context.bot.send_location(chat, case.latitude, case.longitude)
    for item in await case_rules.attachments(context.scope.session, case):
        caption = case.reference
        if item.kind == AttachmentKind.PHOTO:
            await context.bot.send_photo(chat, item.file_id, caption=caption)
        elif item.kind == AttachmentKind.VOICE:
            await context.bot.send_voice(chat, item.file_id, caption=caption)
        else:
            await context.bot.send_document(chat, item.file_id, caption=caption)
    await answer(update, context.t.gettext("Sent to your private chat."))


async def reopen(update: Update, context: PactContext) -> None:
    """Back to under review; the reporter is told."""
    found = await _case(update, context, views.REOPEN)
    if found is None:
        return
    case = found[0]
    if not views.can_reopen(case):
        await stale_button(update, context)
        return
    member = current_member(context)
    assert member is not None
    await casework.set_status(
        context.scope.session,
        case,
        CaseStatus.UNDER_REVIEW,
        None,
        staff_user_id=member.user_id,
        now=context.services.clock.now(),
    )
    await notices.status_changed(context.services, context.scope.session, case, None)
    await answer(update, context.t.gettext("Reopened."))
    await _redraw(update, context, case)


async def merge_confirmed(update: Update, context: PactContext) -> None:
    """Merge as confirmed: followers move, everyone is told which case to follow."""
    found = await _case(update, context, views.MERGE_YES)
    if found is None:
        return
    case, kept_id = found
    session = context.scope.session
    kept = await session.get(Case, kept_id)
    member = current_member(context)
    if (
        kept is None
        or member is None
        or kept.id == case.id
        or not staff.sees(member, kept)
        or case.status == CaseStatus.DUPLICATE
    ):
        await stale_button(update, context)
        return
    t = context.t
    if not casework.same_kind(case, kept):
        await answer(update, t.gettext(CROSS_KIND_MERGE), alert=True)
        return
    await casework.merge(
        session, case, kept, staff_user_id=member.user_id, now=context.services.clock.now()
    )
    told = await notices.merged(context.services, session, case, kept)
    await answer(update)
    await edit_or_send(
        update,
        context,
        t.ngettext(
            "{duplicate} is now a duplicate of {kept}; {count} person was told.",
            "{duplicate} is now a duplicate of {kept}; {count} people were told.",
            told,
            duplicate=case.reference,
            kept=kept.reference,
        ),
        keyboard([(t.gettext("📂 Open the case"), views.OPEN.data(kept.id))]),
    )


async def audit_log(update: Update, context: PactContext) -> None:
    """Admins: who did what to this case, when, with before and after."""
    found = await _case(update, context, views.AUDIT)
    member = current_member(context)
    if found is None:
        return
    if member is None or member.role != StaffRole.ADMIN:
        await stale_button(update, context)
        return
    await answer(update)
    case = found[0]
    t = context.t
    names = {m.user_id: m.display_name for m, _user in await staff.everyone(context.scope.session)}
    lines = [t.gettext("<b>Audit log of {reference}</b>", reference=case.reference)]
    for entry in await audit.for_subject(context.scope.session, "case", case.id):
        lines.append(views.audit_line(t, entry, names))
    if case.original_description is not None:
        lines.append(
            t.gettext(
                "Original text before redaction: “{text}”",
                text=shorten(case.original_description, 1500),
            )
        )
    await send(
        update,
        context,
        join_lines(lines),
        keyboard([(t.gettext("⬅️ Back"), views.OPEN.data(case.id))]),
    )


# --- typed input in the private chat ---------------------------------------------------------

PROMPTS = {
    "reply": N_(
        "Type the message for the reporter of {reference}. It goes through the bot; they never "
        "see who you are."
    ),
    "note": N_("Type an internal note for {reference} (never sent to the reporter)."),
    "status": N_(
        "Type a public note for {reference}, or tap Skip. The reporter and the people following "
        "the case will read it."
    ),
    "reason": N_(
        "Type the reason for rejecting {reference}; the reporter and the people following the "
        "case will read it."
    ),
    "merge": N_("Type the reference of the case to keep; {reference} becomes its duplicate."),
    "redact": N_("Type the new text of {reference}. The original stays visible to admins only."),
}


DISCARDED = {
    "reply": N_("Your reply was not sent."),
    "note": N_("Your note was not saved."),
    "status": N_("The status was not changed."),
    "reason": N_("The status was not changed."),
    "merge": N_("Nothing was merged."),
    "redact": N_("The text was not replaced."),
}
"""What /cancel says it discarded, by the pending staff step."""


def _discarded(t: Translator, draft: Any) -> str:
    """The /cancel line for a pending staff step (a reply, a note, a status note …)."""
    words = DISCARDED.get(draft.get("action")) if isinstance(draft, dict) else None
    return t.gettext(words or "Cancelled. Your unfinished answers were discarded.")


answers.DISCARDED_BY_CONTENT[KEY] = _discarded

PRIVATE_TOAST = N_("Continue in your private chat with the bot.")
CROSS_KIND_MERGE = N_(
    "A service report and a corruption report cannot be merged: the reporter of one would learn "
    "the reference of the other, and corruption reports stay confidential."
)


async def _ask(update: Update, context: PactContext, case: Case, action: str, **extra: str) -> int:
    """Open the private step for typed input."""
    t = context.t
    context.user_data[KEY] = {"case_id": case.id, "action": action, **extra}
    assert update.effective_user is not None
    markup = keyboard([(t.gettext("Skip"), SKIP_NOTE)]) if action == "status" else None
    if action == "reply":
        found = await templates.all_templates(context.scope.session)
        markup = (
            keyboard(*[[(list_label(f"📄 {x.title}"), TEMPLATE.data(x.id))] for x in found])
            if found
            else None
        )
    if not await _reachable_privately(context, update.effective_user.id):
        context.user_data.pop(KEY, None)
        await answer(update, t.gettext("Start a private chat with the bot first."), alert=True)
        return ConversationHandler.END
    await context.bot.send_message(
        update.effective_user.id,
        t.gettext(PROMPTS[action], reference=case.reference),
        reply_markup=markup,
    )
    chat = update.effective_chat
    # Pressed in the private chat already: the prompt is right there, no toast needed.
    toast = None if chat is None or chat.type == ChatType.PRIVATE else PRIVATE_TOAST
    await answer(update, t.gettext(toast) if toast else None)
    await _redraw(update, context, case)
    return INPUT


async def ask_reply(update: Update, context: PactContext) -> int:
    """Reply: only when the reporter can be reached (named or confidential)."""
    found = await _case(update, context, views.REPLY)
    if found is None:
        return ConversationHandler.END
    case = found[0]
    if await case_rules.reporter_of(context.scope.session, case) is None:
        await answer(
            update,
            context.t.gettext("This reporter cannot be reached (anonymous report)."),
            alert=True,
        )
        return ConversationHandler.END
    return await _ask(update, context, case, "reply")


async def ask_note(update: Update, context: PactContext) -> int:
    """Internal note."""
    found = await _case(update, context, views.NOTE)
    return (
        ConversationHandler.END if found is None else await _ask(update, context, found[0], "note")
    )


async def ask_status_note(update: Update, context: PactContext) -> int:
    """A status was chosen: ask for the public note (a reason is required to reject)."""
    found = await _case(update, context, views.SET_STATUS)
    if found is None:
        return ConversationHandler.END
    case, status = found
    action = "reason" if status == CaseStatus.REJECTED else "status"
    return await _ask(update, context, case, action, status=status)


async def ask_merge(update: Update, context: PactContext) -> int:
    """Merge into another case."""
    found = await _case(update, context, views.MERGE)
    return (
        ConversationHandler.END if found is None else await _ask(update, context, found[0], "merge")
    )


async def ask_redact(update: Update, context: PactContext) -> int:
    """Redact the text."""
    found = await _case(update, context, views.REDACT)
    return (
        ConversationHandler.END
        if found is None
        else await _ask(update, context, found[0], "redact")
    )


async def typed(update: Update, context: PactContext) -> int:
    """The typed input, applied to the case."""
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    return await _apply(update, context, text)


async def use_template(update: Update, context: PactContext) -> int:
    """A template as the reply, in the reporter's language."""
    await answer(update)
    number = TEMPLATE.parse(update.callback_query.data if update.callback_query else None)
    template = (
        await context.scope.session.get(ResponseTemplate, number) if number is not None else None
    )
    case = await context.scope.session.get(Case, context.user_data.get(KEY, {}).get("case_id", 0))
    if template is None or case is None:
        return INPUT
    reporter = await case_rules.reporter_of(context.scope.session, case)
    return await _apply(
        update, context, templates.body_for(template, reporter.language if reporter else None)
    )


async def skip_note(update: Update, context: PactContext) -> int:
    """A status change without a public note."""
    await answer(update)
    return await _apply(update, context, "")


async def _apply(update: Update, context: PactContext, text: str) -> int:
    """Do what the pending step asked for."""
    t = context.t
    state = context.user_data.pop(KEY, {})
    session = context.scope.session
    member = (
        await staff.member(session, update.effective_user.id) if update.effective_user else None
    )
    case = await session.get(Case, state.get("case_id", 0))
    if case is None or not staff.sees(member, case):
        await send(update, context, t.gettext("That case is no longer available to you."))
        return ConversationHandler.END
    assert member is not None
    action, now = state.get("action"), context.services.clock.now()
    if len(text) > case_rules.MAX_TEXT or (not text and action not in ("status",)):
        context.user_data[KEY] = state
        await send(
            update,
            context,
            t.gettext(
                "Please type the text (at most {limit} characters).",
                limit=t.number(case_rules.MAX_TEXT),
            ),
        )
        return INPUT
    if action == "reply":
        await casework.reply(session, case, text, staff_user_id=member.user_id, now=now)
        await _relay(context, case, text)
        done = t.gettext("Sent to the reporter of {reference}.", reference=case.reference)
    elif action == "note":
        await casework.note(session, case, text, staff_user_id=member.user_id, now=now)
        done = t.gettext("Note added to {reference}.", reference=case.reference)
    elif action in ("status", "reason"):
        status = CaseStatus(state["status"])
        await casework.set_status(
            session, case, status, text or None, staff_user_id=member.user_id, now=now
        )
        reached = await notices.status_changed(context.services, session, case, text or None)
        done = t.ngettext(
            "{reference} is now {status}; {count} person was told.",
            "{reference} is now {status}; {count} people were told.",
            reached,
            reference=case.reference,
            status=t.gettext(case_views.STATUS[status]),
        )
    elif action == "merge":
        kept = await case_rules.by_reference(session, text)
        if kept is None or kept.id == case.id or not staff.sees(member, kept):
            context.user_data[KEY] = state
            await send(
                update, context, t.gettext("No such case. Type the reference again, or /cancel.")
            )
            return INPUT
        if not casework.same_kind(case, kept):
            context.user_data[KEY] = state
            again = t.gettext("Type the reference of a case of the same kind, or /cancel.")
            await send(update, context, join_lines([t.gettext(CROSS_KIND_MERGE), again]))
            return INPUT
        people = len(await case_rules.recipients(session, case))
        send_after_commit(
            update,
            context,
            views.merge_question(t, case, kept, people),
            keyboard(*views.merge_buttons(t, case, kept)),
        )
        return ConversationHandler.END
    else:
        await casework.redact(session, case, text, staff_user_id=member.user_id, now=now)
        done = t.gettext("The text of {reference} was replaced.", reference=case.reference)
    send_after_commit(
        update, context, done, keyboard([(t.gettext("📂 Open the case"), views.OPEN.data(case.id))])
    )
    return ConversationHandler.END


async def _relay(context: PactContext, case: Case, text: str) -> None:
    """Deliver a staff message to the reporter in their language, with an answer button."""
    session = context.scope.session
    person: User | None = await case_rules.reporter_of(session, case)
    if person is None:
        return
    t = context.services.i18n.translator(person.language)
    # Sent once, after the reply is stored (the outbox row commits with it).
    await outbox.enqueue(
        context.services,
        kind=outbox_rows.RELAY,
        chat_id=person.telegram_id,
        user_id=person.id,
        text=t.gettext(
            "✉️ Message from the PACT team about {reference}:\n“{text}”",
            reference=case.reference,
            text=text,
        ),
        markup=keyboard([(t.gettext("↩️ Answer"), case_views.ANSWER.data(case.id))]),
    )


async def inbox(update: Update, context: PactContext) -> None:
    """/inbox and its filter buttons: open / mine / overdue / all, paged."""
    member = current_member(context)
    assert member is not None
    t = context.t
    pressed = views.INBOX.parse(update.callback_query.data) if update.callback_query else None
    which, page = pressed or ("open", 0)
    if update.callback_query:
        await answer(update)
    idle = context.services.settings.staff_idle_days
    found, more_pages = await casework.inbox(
        context.scope.session,
        member,
        status="all" if which == "all" else "open",
        mine=which == "mine",
        overdue_days=idle if which == "overdue" else None,
        now=context.services.clock.now(),
        page=page,
    )
    labels = {
        "open": t.gettext("Open"),
        "mine": t.gettext("Mine"),
        "overdue": t.gettext("Overdue"),
        "all": t.gettext("All"),
    }
    filters_row = [
        (("• " if key == which else "") + label, views.INBOX.data(key, 0))
        for key, label in labels.items()
    ]
    rows = [[(case_views.button_label(t, c), views.OPEN.data(c.id))] for c in found]
    paging = []
    if page > 0:
        paging.append((t.gettext("⬅️ Previous"), views.INBOX.data(which, page - 1)))
    if more_pages:
        paging.append((t.gettext("Next ➡️"), views.INBOX.data(which, page + 1)))
    text = (
        t.gettext("<b>Inbox</b> · {filter}", filter=labels[which])
        if found
        else t.gettext("No cases here.")
    )
    await edit_or_send(update, context, text, keyboard(filters_row, *rows, paging))


def conversation() -> ConversationHandler:
    """Typed staff input, keyed by user so a group button can lead to the private chat."""
    return ConversationHandler(
        name="staff_input",
        persistent=True,
        allow_reentry=True,
        per_chat=False,
        entry_points=[
            CallbackQueryHandler(ask_reply, pattern=views.REPLY.pattern),
            CallbackQueryHandler(ask_note, pattern=views.NOTE.pattern),
            CallbackQueryHandler(ask_status_note, pattern=views.SET_STATUS.pattern),
            CallbackQueryHandler(ask_merge, pattern=views.MERGE.pattern),
            CallbackQueryHandler(ask_redact, pattern=views.REDACT.pattern),
        ],
        states={
            INPUT: [
                MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, typed),
                CallbackQueryHandler(skip_note, pattern=f"^{SKIP_NOTE}$"),
                CallbackQueryHandler(use_template, pattern=TEMPLATE.pattern),
            ]
        },
        fallbacks=[CommandHandler("cancel", answers.cancel)],
    )


def buttons() -> list[CallbackQueryHandler]:
    """The stateless staff buttons."""
    return [
        CallbackQueryHandler(inbox, pattern=views.INBOX.pattern),
        CallbackQueryHandler(open_card, pattern=views.OPEN.pattern),
        CallbackQueryHandler(open_privately, pattern=views.PRIVATE.pattern),
        CallbackQueryHandler(open_privately, pattern=views.PRIVATE_NOTICE.pattern),
        CallbackQueryHandler(take, pattern=views.TAKE.pattern),
        CallbackQueryHandler(assign_to, pattern=views.ASSIGN_TO.pattern),
        CallbackQueryHandler(assign_menu, pattern=views.ASSIGN.pattern),
        CallbackQueryHandler(status_menu, pattern=views.STATUS.pattern),
        CallbackQueryHandler(files, pattern=views.FILES.pattern),
        CallbackQueryHandler(more, pattern=views.MORE.pattern),
        CallbackQueryHandler(reopen, pattern=views.REOPEN.pattern),
        CallbackQueryHandler(merge_confirmed, pattern=views.MERGE_YES.pattern),
        CallbackQueryHandler(audit_log, pattern=views.AUDIT.pattern),
    ]


def routes() -> list[routing.Route]:
    """/inbox, the typed-input flow and every case button: the case permission."""
    return [
        routing.staff_flow(conversation(), Permission.CASES, KEY),
        *routing.staff(
            Permission.CASES,
            CommandHandler("inbox", inbox, filters=filters.ChatType.PRIVATE),
            *buttons(),
        ),
    ]
