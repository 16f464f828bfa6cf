"""Right to information menu, "My requests", outcomes, complaint and the Commissioner."""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot.account.services.consent import has_consent
from bot.broadcasting import outbox
from bot.broadcasting.services import outbox_rows
from bot.core import routing
from bot.core.application import PactContext
from bot.core.i18n import N_, Translator, plain
from bot.kit import menu
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import answer, edit_or_send, keyboard, list_line, send
from bot.rti import builder as rti_builder
from bot.rti import views
from bot.rti.letter_sending import (
    send_complaint,
    send_complaint_copy,
    send_prepared_request,
    send_request_copy,
)
from bot.rti.services import directory
from bot.rti.services import requests as rti
from db.models import RequestStatus, RtiRequest
from db.repositories import authorities as authorities_repo

GUIDE = "rtg:index"
COMPLAINT_COPY = ButtonCodec("rtq:", int)
"""The filed complaint again, from the request's card."""


async def rti_menu(update: Update, context: PactContext) -> None:
    """The Right to information entry: guide, builder, my requests."""
    await answer(update)
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext(
            "<b>Right to information</b>\nAnyone may ask any public authority for the "
            "information it holds, without giving a reason (Law 119/2014). I can explain your "
            "right, write the request, count the deadline and draft a complaint if they do "
            "not answer."
        ),
        keyboard(
            [(t.gettext("📖 What is my right?"), GUIDE)],
            [(t.gettext("✍️ Ask for information"), "rti:new")],
            [(t.gettext("📋 My requests"), views.LIST)],
            [menu.menu_button(t)],
        ),
    )


async def my_requests(update: Update, context: PactContext) -> None:
    """The person's requests, newest first, each a button to its card."""
    if update.callback_query:
        await answer(update)
    t = context.t
    user = context.user_row
    found = await rti.for_user(context.scope.session, user) if has_consent(user) else []
    if not found:
        await edit_or_send(
            update,
            context,
            t.gettext("You have no requests yet."),
            keyboard([(t.gettext("✍️ Ask for information"), "rti:new")], [menu.menu_button(t)]),
        )
        return
    rows = [[(_line(t, request), views.OPEN.data(request.id))] for request in found[:20]]
    await edit_or_send(
        update, context, t.gettext("<b>My requests</b>"), keyboard(*rows, [menu.menu_button(t)])
    )


def _line(t: Translator, request: RtiRequest) -> str:
    """A short button label for one request: the authority's own name leaves the status room."""
    status = plain(t.gettext(views.STATUS[request.status]))
    return list_line(f"#{request.id}", request.authority.name, status)


async def _owned(
    update: Update, context: PactContext, button: ButtonCodec
) -> tuple[RtiRequest, Any] | None:
    """The request the button names (its first field) if it is the person's, with the button's
    second field (None without one); else a stale-button answer."""
    parsed = button.parse(update.callback_query.data if update.callback_query else None)
    number, choice = parsed if isinstance(parsed, tuple) else (parsed, None)
    request = (
        await rti.owned(context.scope.session, context.user_row, number)
        if number is not None
        else None
    )
    if request is None:
        await stale_button(update, context)
        return None
    return request, choice


def _has_letter(request: RtiRequest) -> bool:
    """Whether the request's letter can still be written (retention clears its text)."""
    return request.anonymised_at is None


def _has_filed_complaint(request: RtiRequest) -> bool:
    """Whether a complaint was filed whose letter can be written again."""
    return (
        _has_letter(request)
        and request.complaint_filed_on is not None
        and request.complaint_ground is not None
    )


def card_keyboard(
    t: Translator, request: RtiRequest, today: date | None = None
) -> InlineKeyboardMarkup:
    """The card's actions, with the request letter and the filed complaint to download again
    whatever the status (above "My requests")."""
    rows = views.card_buttons(t, request, today)
    extra = []
    if request.status != RequestStatus.PREPARED and _has_letter(request):
        extra.append([(t.gettext("📄 The request letter"), views.LETTER.data(request.id))])
    if _has_filed_complaint(request):
        extra.append([(t.gettext("📄 The complaint letter"), COMPLAINT_COPY.data(request.id))])
    return keyboard(*rows[:-1], *extra, *rows[-1:])


async def open_request(update: Update, context: PactContext) -> None:
    """A request's card with the actions that fit."""
    found = await _owned(update, context, views.OPEN)
    if found is None:
        return
    await answer(update)
    request, _ = found
    t = context.t
    today = _today(context)
    await edit_or_send(
        update, context, views.card(t, request, today), card_keyboard(t, request, today)
    )


def _today(context: PactContext) -> date:
    """Today in Tirana (or the configured zone): the day deadlines are counted against."""
    return context.services.clock.now().astimezone(context.services.settings.tz).date()


async def letter_again(update: Update, context: PactContext) -> None:
    """The request letter again: with the ways to send it while prepared, else the PDF alone,
    identical to the one first given (the complaint's annex)."""
    found = await _owned(update, context, views.LETTER)
    if found is None:
        return
    request = found[0]
    if not _has_letter(request):
        await stale_button(update, context)
        return
    await answer(update)
    if request.status == RequestStatus.PREPARED:
        await send_prepared_request(update, context, request)
    else:
        await send_request_copy(update, context, request)


async def complaint_again(update: Update, context: PactContext) -> None:
    """The filed complaint again."""
    found = await _owned(update, context, COMPLAINT_COPY)
    if found is None:
        return
    request = found[0]
    if not _has_filed_complaint(request):
        await stale_button(update, context)
        return
    await answer(update)
    await send_complaint_copy(update, context, request)


OUTCOME_TEXT = {
    rti.Outcome.ANSWERED: lambda t, r: t.gettext(
        "Good. I marked request no. {number} as answered.", number=r.id
    ),
    rti.Outcome.PARTIAL: lambda t, r: t.gettext(
        "A restriction must be explained in writing, and only the protected part may be "
        "withheld: the rest must be given (art. 17). You can complain to the Commissioner "
        "until {date}.",
        date=t.date(r.complaint_due_on),
    ),
    rti.Outcome.REFUSED: lambda t, r: t.gettext(
        "A refusal must be in writing, with reasons, and only on the grounds of art. 17. "
        "You can complain to the Commissioner until {date} (30 working days, art. 24).",
        date=t.date(r.complaint_due_on),
    ),
    rti.Outcome.CLARIFY: lambda t, r: t.gettext(
        "Answer the authority's question in writing and keep proof that you did."
    ),
    rti.Outcome.EXTENDED: lambda t, r: t.gettext(
        "The deadline may be extended by at most 5 working days, only for many or large "
        "documents, searching offices away from the headquarters, or consulting other "
        "authorities, and you must be told at once (art. 15(3)). New deadline: {date}.",
        date=t.date(r.due_on),
    ),
    rti.Outcome.TRANSFERRED: lambda t, r: t.gettext(
        "An authority that does not hold the information forwards the request within 10 "
        "calendar days and tells you. The answer is then due 15 working days from the day "
        "your request reached the first authority (art. 15(2)): {date}.",
        date=t.date(r.due_on),
    ),
    rti.Outcome.NO_ANSWER: lambda t, r: t.gettext(
        "No answer within the deadline counts as a refusal (art. 15(4)). You can complain "
        "to the Commissioner until {date}.",
        date=t.date(r.complaint_due_on),
    ),
}
TOO_LATE_TO_COMPLAIN = N_(
    "No answer within the deadline counts as a refusal (art. 15(4)). The 30 working days to "
    "complain to the Commissioner (art. 24) ended on {date}. You can send the request again: "
    "a new request starts a new deadline."
)


async def outcome(update: Update, context: PactContext) -> None:
    """One tap: what happened with the request."""
    found = await _owned(update, context, views.OUTCOME)
    if found is None:
        return
    request, chosen = found
    t = context.t
    settings = context.services.settings
    now = context.services.clock.now()
    try:
        await rti.record_outcome(
            context.scope.session,
            request,
            chosen,
            today=now.astimezone(settings.tz).date(),
            tz=settings.tz,
            now=now,
        )
    except rti.OutcomeRefusedError as refusal:
        await answer(update)
        await send(update, context, _refusal_text(t, request, refusal.reason))
        return
    await answer(update)
    said = OUTCOME_TEXT[chosen](t, request)
    today = now.astimezone(settings.tz).date()
    if rti.complaint_time_over(request, today):
        assert request.complaint_due_on is not None
        said = t.gettext(TOO_LATE_TO_COMPLAIN, date=t.date(request.complaint_due_on))
    await edit_or_send(
        update,
        context,
        f"{said}\n\n{views.card(t, request, today)}",
        card_keyboard(t, request, today),
    )


def _refusal_text(t: Translator, request: RtiRequest, reason: str) -> str:
    """Why an outcome cannot be recorded now."""
    if reason == "not_yet_due" and request.due_on:
        return t.gettext(
            "The deadline is {date}. Silence counts as a refusal only after it has passed.",
            date=t.date(request.due_on),
        )
    if reason == "already_extended":
        return t.gettext("The deadline can be extended only once, by at most 5 working days.")
    return t.gettext("That does not apply to this request now.")


async def complaint(update: Update, context: PactContext) -> None:
    """Draft the complaint to the Commissioner."""
    found = await _owned(update, context, views.COMPLAINT)
    if found is None:
        return
    request = found[0]
    await answer(update)
    if request.status not in rti.COMPLAINABLE:
        await stale_button(update, context)
        return
    t = context.t
    today = _today(context)
    if rti.complaint_time_over(request, today):
        assert request.complaint_due_on is not None
        said = t.gettext(TOO_LATE_TO_COMPLAIN, date=t.date(request.complaint_due_on))
        await send(
            update,
            context,
            f"{said}\n\n{views.card(t, request, today)}",
            card_keyboard(t, request, today),
        )
        return
    rti.complaint_drafted(request, today)
    await send_complaint(update, context, request)


async def filed(update: Update, context: PactContext) -> None:
    """The person filed the complaint."""
    found = await _owned(update, context, views.FILED)
    if found is None:
        return
    request = found[0]
    settings = context.services.settings
    now = context.services.clock.now()
    try:
        await rti.mark_complaint_filed(
            context.scope.session, request, today=now.astimezone(settings.tz).date(), now=now
        )
    except rti.OutcomeRefusedError:
        await stale_button(update, context)
        return
    await answer(update)
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext(
            "Recorded. The Commissioner may ask both sides for written submissions and may "
            "hold a hearing, and decides within {days} working days. Tell me the decision when "
            "it comes.",
            days=settings.commissioner_decision_days,
        ),
        card_keyboard(t, request),
    )


async def decided(update: Update, context: PactContext) -> None:
    """The Commissioner's decision."""
    found = await _owned(update, context, views.DECIDED)
    if found is None:
        return
    request, decision = found
    try:
        await rti.record_commissioner_outcome(
            context.scope.session, request, decision, now=context.services.clock.now()
        )
    except rti.OutcomeRefusedError:
        await stale_button(update, context)
        return
    await answer(update)
    t = context.t
    recorded = t.gettext("Recorded.")
    await edit_or_send(
        update,
        context,
        f"{recorded}\n\n{views.card(t, request)}",
        card_keyboard(t, request),
    )


async def _contact_shown(context: PactContext, authority_id: int) -> bool:
    """Whether this person was shown this authority's card (their draft or their requests)."""
    user = context.user_row
    if user is None or not has_consent(user):
        return False
    draft = context.user_data.get(rti_builder.DRAFT) or {}
    if draft.get("authority_id") == authority_id:
        return True
    mine = await rti.for_user(context.scope.session, user)
    return any(request.authority_id == authority_id for request in mine)


async def wrong_contact(update: Update, context: PactContext) -> None:
    """A citizen says an authority's contact is wrong: audited, and staff are told."""
    query = update.callback_query
    assert query is not None
    number = views.CONTACT_IS_WRONG.parse(query.data)
    authority = (
        await authorities_repo.get(context.scope.session, number) if number is not None else None
    )
    if authority is None or not await _contact_shown(context, authority.id):
        await stale_button(update, context)
        return
    await directory.report_wrong_contact(
        context.scope.session,
        authority,
        reporter_user_id=context.user_row.id if context.user_row else None,
        now=context.services.clock.now(),
    )
    await answer(
        update, context.t.gettext("Thank you. The team will check this contact."), alert=True
    )
    chat_id = context.services.settings.staff_chat_id
    if chat_id is not None:
        staff = context.services.i18n.translator(None)
        await outbox.enqueue(  # after the commit, retried; a refusal alerts the admins
            context.services,
            kind=outbox_rows.STAFF_NOTICE,
            chat_id=chat_id,
            text=staff.gettext(
                "⚠️ A citizen reports a wrong contact: {authority} (no. {number}). "
                "Correct it with /authority.",
                authority=directory.display_name(authority),
                number=authority.id,
            ),
        )


def routes() -> list[routing.Route]:
    """The submenu, my requests, outcomes, the complaint, the letters again, a wrong contact."""
    return routing.citizen(
        CallbackQueryHandler(rti_menu, pattern=f"^{menu.RTI}$"),
        CallbackQueryHandler(my_requests, pattern=f"^{views.LIST}$"),
        CallbackQueryHandler(open_request, pattern=views.OPEN.pattern),
        CallbackQueryHandler(outcome, pattern=views.OUTCOME.pattern),
        CallbackQueryHandler(complaint, pattern=views.COMPLAINT.pattern),
        CallbackQueryHandler(filed, pattern=views.FILED.pattern),
        CallbackQueryHandler(decided, pattern=views.DECIDED.pattern),
        CallbackQueryHandler(letter_again, pattern=views.LETTER.pattern),
        CallbackQueryHandler(complaint_again, pattern=COMPLAINT_COPY.pattern),
        CallbackQueryHandler(wrong_contact, pattern=views.CONTACT_IS_WRONG.pattern),
    )
