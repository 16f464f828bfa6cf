"""My cases: the list, a case's timeline, adding information, withdrawing, checking an anonymous
case by number and secret code, and the "Is the problem solved?" follow-up (see my_cases.mmd).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.cases import evidence_intake
from bot.cases import notify as case_notify
from bot.cases import views as case_views
from bot.cases.services import case_rules, quota
from bot.core import routing
from bot.core.application import PactContext
from bot.core.i18n import Translator
from bot.core.runtime import after_commit_effect
from bot.kit import answers, menu
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import answer, close_buttons, edit_or_send, keyboard, send, send_after_commit
from bot.staff.services import casework
from db.models import AttachmentKind, Case

# States
CHECK_REFERENCE, CHECK_CODE, ADD, ANSWER = range(4)
KEY = "case_step"


async def my_cases(update: Update, context: PactContext) -> None:
    """Cases the person filed or follows; "Check a case" for anonymous ones."""
    if update.callback_query:
        await answer(update)
    t = context.t
    found = (
        await case_rules.for_user(context.scope.session, context.user_row)
        if context.user_row
        else []
    )
    rows = [[(case_views.button_label(t, c), case_views.OPEN_CASE.data(c.id))] for c in found[:20]]
    text = (
        t.gettext("<b>My cases</b>")
        if found
        else t.gettext("You have no cases linked to this account.")
    )
    await edit_or_send(
        update,
        context,
        text,
        keyboard(*rows, [(t.gettext("🔎 Check a case"), case_views.CHECK)], [menu.menu_button(t)]),
    )


async def _case(
    update: Update, context: PactContext, button: ButtonCodec
) -> tuple[Case, str | None] | None:
    """The case a button names (its first field) if this person may see it, with the button's
    second field (None without one); else a stale-button answer."""
    parsed = button.parse(update.callback_query.data if update.callback_query else None)
    number, choice = parsed if isinstance(parsed, tuple) else (parsed, None)
    case = await context.scope.session.get(Case, number) if number is not None else None
    if case is None or not await case_rules.can_see(context.scope.session, case, context.user_row):
        await stale_button(update, context)
        return None
    return case, choice


async def _show(
    update: Update, context: PactContext, case: Case, reporter: bool, note: str = ""
) -> None:
    """A case card: the whole public timeline for its reporter, status lines for a follower."""
    t = context.t
    events = await case_rules.timeline(context.scope.session, case, reporter=reporter)
    text = case_views.card(t, case, events, reporter=reporter)
    await edit_or_send(
        update,
        context,
        f"{note}\n\n{text}" if note else text,
        keyboard(*case_views.card_buttons(t, case, reporter)),
    )


async def open_case(update: Update, context: PactContext) -> None:
    """Tap on a case."""
    found = await _case(update, context, case_views.OPEN_CASE)
    if found is None:
        return
    await answer(update)
    case = found[0]
    reporter = await case_rules.is_reporter(context.scope.session, case, context.user_row)
    await _show(update, context, case, reporter)


async def withdraw(update: Update, context: PactContext) -> None:
    """Ask before withdrawing (reporter only, open cases only)."""
    found = await _case(update, context, case_views.WITHDRAW)
    if found is None:
        return
    if not await case_rules.reporter_may_change(context.scope.session, found[0], context.user_row):
        await stale_button(update, context)
        return
    await answer(update)
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext(
            "Withdraw case {reference}? The team will stop working on it.",
            reference=found[0].reference,
        ),
        keyboard(
            [
                (t.gettext("Yes, withdraw"), case_views.WITHDRAW_YES.data(found[0].id)),
                (t.gettext("No"), case_views.OPEN_CASE.data(found[0].id)),
            ]
        ),
    )


async def withdraw_confirmed(update: Update, context: PactContext) -> None:
    """Withdraw (reporter only, open cases only)."""
    found = await _case(update, context, case_views.WITHDRAW_YES)
    if found is None:
        return
    case = found[0]
    session = context.scope.session
    if not await case_rules.reporter_may_change(session, case, context.user_row):
        await stale_button(update, context)
        return
    await answer(update)
    await case_rules.withdraw(session, case, context.services.clock.now())
    await case_notify.staff(
        context.bot,
        context.services,
        lambda t: t.gettext("↩️ The reporter withdrew case {reference}.", reference=case.reference),
        case,
    )
    note = context.t.gettext("The case is withdrawn.")
    after_commit_effect(lambda: _show(update, context, case, reporter=True, note=note))


async def followup(update: Update, context: PactContext) -> None:
    """Yes / partly / no, from the reporter only, never a follower; "no" reopens the case."""
    found = await _case(update, context, case_views.FOLLOWUP)
    if found is None:
        return
    case, raw = found
    session = context.scope.session
    if not await case_rules.is_reporter(session, case, context.user_row):
        await stale_button(update, context)
        return
    await answer(update)
    reopened = await case_rules.followup_answer(
        context.scope.session, case, raw, context.services.clock.now()
    )
    t = context.t
    if reopened:
        await case_notify.staff(
            context.bot,
            context.services,
            lambda staff: staff.gettext(
                "🔁 The reporter says case {reference} is not solved: it is reopened.",
                reference=case.reference,
            ),
            case,
        )
        note = t.gettext("Thank you. The case is reopened and the team is told.")
    else:
        note = t.gettext("Thank you for telling us.")
    after_commit_effect(lambda: _show(update, context, case, reporter=True, note=note))


# --- adding information ----------------------------------------------------------------------


async def add_start(update: Update, context: PactContext) -> int:
    """Ask for text or a photo to add to an open case."""
    found = await _case(update, context, case_views.ADD_INFO)
    if found is None:
        return ConversationHandler.END
    case = found[0]
    if not await case_rules.reporter_may_change(context.scope.session, case, context.user_row):
        await stale_button(update, context)
        return ConversationHandler.END
    await answer(update)
    context.user_data[KEY] = {"case_id": case.id}
    await send(
        update,
        context,
        context.t.gettext(
            "Send the text or a photo to add to {reference}.", reference=case.reference
        ),
        keyboard([(context.t.gettext("✖️ Cancel"), "cs:addcancel")]),
    )
    return ADD


async def add_received(update: Update, context: PactContext) -> int:
    """Store what was sent and tell the team."""
    t = context.t
    message = update.effective_message
    state = context.user_data.pop(KEY, {})
    case = await context.scope.session.get(Case, state.get("case_id", 0))
    if case is None or message is None:
        return await answers.cancel(update, context)
    text = (message.text or message.caption or "").strip() or None
    if text and len(text) > case_rules.MAX_TEXT:
        context.user_data[KEY] = state
        await send(
            update,
            context,
            t.gettext(
                "Please use at most {limit} characters.", limit=t.number(case_rules.MAX_TEXT)
            ),
        )
        return ADD
    files = (
        [case_rules.Attachment(kind=AttachmentKind.PHOTO, file_id=message.photo[-1].file_id)]
        if message.photo
        else []
    )
    limit = context.services.settings.files_per_case
    incoming = len(files) + (1 if message.document else 0)
    if incoming and await quota.files_of(context.scope.session, case.id) + incoming > limit:
        context.user_data[KEY] = state
        await send(update, context, _files_full(t, limit))
        return ADD
    if message.document:
        number = len(await case_rules.attachments(context.scope.session, case)) + 1
        item = await evidence_intake.take_document(update, context, number, case.identification)
        if item is None:
            context.user_data[KEY] = state
            return ADD
        files = [case_rules.Attachment(**item)]
    await case_rules.add_information(
        context.scope.session, case, text, files, context.services.clock.now()
    )
    await case_notify.staff(
        context.bot,
        context.services,
        lambda staff: staff.gettext(
            "➕ The reporter added information to {reference}.", reference=case.reference
        ),
        case,
    )
    await _show_new(
        update, context, case, t.gettext("Added to {reference}.", reference=case.reference)
    )
    return ConversationHandler.END


def _files_full(t: Translator, limit: int) -> str:
    """Why a file is not added: the case holds FILES_PER_CASE files already."""
    return t.ngettext(
        "This case already has {count} file, the most one case can take. You can still add text.",
        "This case already has {count} files, the most one case can take. You can still add text.",
        limit,
    )


async def _show_new(update: Update, context: PactContext, case: Case, note: str) -> None:
    """A fresh card message (after typed input there is no message to edit)."""
    t = context.t
    events = await case_rules.timeline(context.scope.session, case, reporter=True)
    send_after_commit(  # it reports what was just stored
        update,
        context,
        f"{note}\n\n{case_views.card(t, case, events, reporter=True)}",
        keyboard(*case_views.card_buttons(t, case, reporter=True)),
    )


# --- answering the team ----------------------------------------------------------------------


async def answer_start(update: Update, context: PactContext) -> int:
    """The reporter answers a message the team relayed: words, a photo or a document."""
    number = case_views.ANSWER.parse(update.callback_query.data if update.callback_query else None)
    case = await context.scope.session.get(Case, number) if number is not None else None
    if case is None or not await case_rules.is_reporter(
        context.scope.session, case, context.user_row
    ):
        await stale_button(update, context)
        return ConversationHandler.END
    await answer(update)
    context.user_data[KEY] = {"case_id": case.id}
    await send(
        update,
        context,
        context.t.gettext(
            "Type your answer to the team about {reference}, or send a photo or a document:",
            reference=case.reference,
        ),
        keyboard([(context.t.gettext("✖️ Cancel"), "cs:addcancel")]),
    )
    return ANSWER


async def answer_received(update: Update, context: PactContext) -> int:
    """Keep the answer (and its cleaned file) in the case and pass it to the assignee (or the
    staff chat); a file is cleaned and renamed exactly like a report's evidence."""
    t = context.t
    message = update.effective_message
    state = context.user_data.pop(KEY, {})
    case = await context.scope.session.get(Case, state.get("case_id", 0))
    if case is None or message is None:
        return await answers.cancel(update, context)
    text = (message.text or message.caption or "").strip() or None
    if len(text or "") > case_rules.MAX_TEXT or not (text or message.photo or message.document):
        context.user_data[KEY] = state
        await send(
            update,
            context,
            t.gettext(
                "Please use at most {limit} characters.", limit=t.number(case_rules.MAX_TEXT)
            ),
        )
        return ANSWER
    files = await _answer_files(update, context, case)
    if files is None:
        context.user_data[KEY] = state
        return ANSWER
    session = context.scope.session
    now = context.services.clock.now()
    await casework.reporter_answer(session, case, text, now)
    await casework.answer_files(session, case, files, now)
    await case_notify.reporter_answered(context.bot, context.services, session, case, text, files)
    send_after_commit(
        update,
        context,
        t.gettext("Sent to the team."),
        keyboard(*case_views.card_buttons(t, case, reporter=True)),
    )
    return ConversationHandler.END


async def _answer_files(
    update: Update, context: PactContext, case: Case
) -> list[case_rules.Attachment] | None:
    """The photo or cleaned document of an answer ([] without one); None after saying why not
    (the case holds the most files, or the document cannot be taken in this identification)."""
    message = update.effective_message
    assert message is not None
    if not message.photo and not message.document:
        return []
    session = context.scope.session
    limit = context.services.settings.files_per_case
    if await quota.files_of(session, case.id) + 1 > limit:
        await send(update, context, _files_full(context.t, limit))
        return None
    if message.photo:  # already recompressed by Telegram, as in a report
        return [case_rules.Attachment(kind=AttachmentKind.PHOTO, file_id=message.photo[-1].file_id)]
    number = len(await case_rules.attachments(session, case)) + 1
    item = await evidence_intake.take_document(update, context, number, case.identification)
    return None if item is None else [case_rules.Attachment(**item)]


# --- checking an anonymous case --------------------------------------------------------------


async def check_start(update: Update, context: PactContext) -> int:
    """Ask for the case number."""
    await answer(update)
    context.user_data[KEY] = {}
    await send(
        update,
        context,
        context.t.gettext("Type the case number, for example PACT-2026-00042:"),
        keyboard([(context.t.gettext("✖️ Cancel"), "cs:addcancel")]),
    )
    return CHECK_REFERENCE


async def check_reference(update: Update, context: PactContext) -> int:
    """Keep the number, ask for the code."""
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    if len(text) > 40:
        await send(update, context, context.t.gettext("That is not a case number. Try again."))
        return CHECK_REFERENCE
    context.user_data[KEY] = {"reference": text}
    await send(update, context, context.t.gettext("Now type the secret code:"))
    return CHECK_CODE


async def check_code(update: Update, context: PactContext) -> int:
    """Check the code; wrong tries are limited per person (per case and across cases)."""
    t = context.t
    code = (update.effective_message.text or "").strip() if update.effective_message else ""
    reference = context.user_data.pop(KEY, {}).get("reference", "")
    user = context.user_row
    try:
        if user is None:
            raise case_rules.LookupRefusedError
        case = await case_rules.lookup(
            context.scope.session, reference, code, user, context.services.clock.now()
        )
    except case_rules.LookupRefusedError:
        await send(
            update,
            context,
            _refusal(t),
            keyboard([(t.gettext("🔎 Check a case"), case_views.CHECK)], [menu.menu_button(t)]),
        )
        return ConversationHandler.END
    events = await case_rules.timeline(context.scope.session, case, reporter=True)
    await send(
        update,
        context,
        case_views.card(t, case, events, reporter=True),
        keyboard([menu.menu_button(t)]),
    )
    return ConversationHandler.END


def _refusal(t: Translator) -> str:
    """The one answer to every failed check: unknown number, wrong code and too many tries alike."""
    return t.gettext(
        "The case number or the code is not right, or there were too many tries. "
        "Check them and try again later."
    )


async def cancel_step(update: Update, context: PactContext) -> int:
    """Cancel button of these small steps."""
    await answer(update)
    await close_buttons(update)
    return await answers.cancel(update, context)


async def not_text(update: Update, context: PactContext) -> int:
    """Something other than text where text is expected."""
    await send(update, context, context.t.gettext("Please type your answer as text."))
    return None  # type: ignore[return-value]


async def answer_not_text(update: Update, context: PactContext) -> int:
    """Something other than words, a photo or a document as an answer to the team."""
    hint = context.t.gettext("Please type your answer, or send a photo or a document.")
    await send(update, context, hint)
    return None  # type: ignore[return-value]


def conversations() -> list[ConversationHandler]:
    """Checking a case, and adding information."""
    text = filters.TEXT & ~filters.COMMAND
    other = ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    cancel_button = CallbackQueryHandler(cancel_step, pattern="^cs:addcancel$")
    fallbacks = [CommandHandler("cancel", answers.cancel)]
    check = ConversationHandler(
        name="case_check",
        persistent=True,
        allow_reentry=True,
        entry_points=[CallbackQueryHandler(check_start, pattern=f"^{case_views.CHECK}$")],
        states={
            CHECK_REFERENCE: [
                MessageHandler(text, check_reference),
                MessageHandler(other, not_text),
                cancel_button,
            ],
            CHECK_CODE: [
                MessageHandler(text, check_code),
                MessageHandler(other, not_text),
                cancel_button,
            ],
        },
        fallbacks=fallbacks,
    )
    add = ConversationHandler(
        name="case_add",
        persistent=True,
        allow_reentry=True,
        entry_points=[CallbackQueryHandler(add_start, pattern=case_views.ADD_INFO.pattern)],
        states={
            ADD: [
                MessageHandler(text | filters.PHOTO | filters.Document.ALL, add_received),
                MessageHandler(other & ~filters.PHOTO & ~filters.Document.ALL, not_text),
                cancel_button,
            ]
        },
        fallbacks=fallbacks,
    )
    reply = ConversationHandler(
        name="case_answer",
        persistent=True,
        allow_reentry=True,
        entry_points=[CallbackQueryHandler(answer_start, pattern=case_views.ANSWER.pattern)],
        states={
            ANSWER: [
                MessageHandler(text | filters.PHOTO | filters.Document.ALL, answer_received),
                MessageHandler(other & ~filters.PHOTO & ~filters.Document.ALL, answer_not_text),
                cancel_button,
            ]
        },
        fallbacks=fallbacks,
    )
    return [check, add, reply]


def routes() -> list[routing.Route]:
    """Checking and adding to a case, the list, a case's card, withdrawal, the follow-up."""
    return routing.citizen(
        *conversations(),
        CallbackQueryHandler(my_cases, pattern=f"^{menu.CASES}$"),
        CallbackQueryHandler(open_case, pattern=case_views.OPEN_CASE.pattern),
        CallbackQueryHandler(withdraw, pattern=case_views.WITHDRAW.pattern),
        CallbackQueryHandler(withdraw_confirmed, pattern=case_views.WITHDRAW_YES.pattern),
        CallbackQueryHandler(followup, pattern=case_views.FOLLOWUP.pattern),
    )
