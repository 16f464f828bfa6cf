"""Sending a prepared request or a complaint: the text, the PDF letter, and how to send it."""

from __future__ import annotations

import io
from datetime import date
from zoneinfo import ZoneInfo

from markupsafe import Markup
from telegram import InputFile, Update

from bot.core.application import PactContext
from bot.core.i18n import Translator
from bot.core.settings import Settings
from bot.kit import menu
from bot.kit.ui import keyboard, send
from bot.rti import views
from bot.rti.services import directory, letters
from bot.rti.services import requests as rti
from db.models import Authority, AuthorityKind, RequestStatus, RtiRequest

PYET_SHTETIN = views.PYET_SHTETIN
CHUNK = 3800


def _chunks(text: str) -> list[str]:
    """Split long plain text at line breaks so each message stays under Telegram's limit."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > CHUNK:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:CHUNK])
            line = line[CHUNK:]
        if len(current) + len(line) > CHUNK:
            parts.append(current)
            current = ""
        current += line
    if current.strip():
        parts.append(current)
    return parts


async def _send_pdf(
    update: Update, context: PactContext, pdf: bytes, filename: str, caption: str
) -> None:
    """A letter as a PDF document."""
    assert update.effective_chat is not None
    await context.bot.send_document(
        update.effective_chat.id, InputFile(io.BytesIO(pdf), filename=filename), caption=caption
    )


async def _send_text_and_pdf(
    update: Update, context: PactContext, text: str, pdf: bytes, filename: str, caption: str
) -> None:
    """The letter as messages (escaped) and as a PDF document."""
    for part in _chunks(text):
        await send(update, context, Markup("<pre>{}</pre>").format(part))
    await _send_pdf(update, context, pdf, filename, caption)


def letter_date(request: RtiRequest, tz: ZoneInfo) -> date:
    """The date a request letter bears: the day it was prepared, or the day it was handed in
    when the person says that was earlier (a letter cannot postdate its own submission)."""
    prepared = request.created_at.astimezone(tz).date()
    return min(prepared, request.sent_on) if request.sent_on else prepared


def letter_place(authority: Authority) -> str | None:
    """The town printed before the date: the municipality's seat, else none.

    An Albanian letter opens with the place it is written in ("Koplik, më 2 dhjetor 2026"),
    i.e. where the requester lives. The bot does not ask where people live (data minimisation,
    privacy.md), and a request to a municipality comes from someone living in it, so its seat
    stands for the requester's town. For a ministry or an agency in Tirana the seat says nothing
    about the requester, so the date stands alone.
    """
    return authority.seat if authority.kind == AuthorityKind.MUNICIPALITY else None


def request_letter(request: RtiRequest, tz: ZoneInfo) -> letters.RequestLetter:
    """The letter of a stored request, the same at every download.

    Regenerated rather than stored: every field of the body (name, reply address, information,
    format) is kept on the request and never edited, the date comes from `letter_date` and the
    rendering is deterministic, so the copy downloaded for the complaint's annex has the text and
    date of the letter that was sent. Storing PDFs would keep a second copy of the personal data
    that retention anonymises and erasure removes (privacy.md). The addressee block follows the
    directory: a contact staff correct later shows corrected.
    """
    authority = request.authority
    return letters.RequestLetter(
        authority_name=directory.display_name(authority),
        coordinator_name=authority.coordinator_name,
        authority_email=authority.request_email,
        authority_address=authority.postal_address,
        requester_name=request.requester_name,
        reply_channel=request.reply_channel,
        reply_address=request.reply_address,
        information=request.information,
        format=request.format,
        written_on=letter_date(request, tz),
        place=letter_place(authority),
    )


def request_filename(request: RtiRequest) -> str:
    """The request letter's file name, the same at every download."""
    return f"kerkese-informimi-{request.id}.pdf"


async def send_prepared_request(update: Update, context: PactContext, request: RtiRequest) -> None:
    """The finished request: text, PDF, and the ways to send it."""
    t = context.t
    letter = request_letter(request, context.services.settings.tz)
    await send(
        update, context, t.gettext("✅ Your request no. {number} is ready.", number=request.id)
    )
    await _send_text_and_pdf(
        update,
        context,
        letters.request_text(letter),
        letters.request_pdf(letter),
        request_filename(request),
        t.gettext("Your request as a letter: print and sign it, or attach it to an e-mail."),
    )
    mailto = letters.request_mailto(letter)
    if mailto:
        ways = [
            t.gettext("<b>How to send it</b>"),
            t.gettext(
                '• By e-mail: <a href="{link}">open the e-mail, ready to send</a>, to {email}. '
                "Attach the PDF.",
                link=mailto,
                email=letter.authority_email or "",
            ),
            t.gettext(
                "• Online through Pyet Shtetin: {link} (registration needed).",
                link=PYET_SHTETIN,
            ),
            t.gettext(
                "• By hand or by post, signed. Ask for the protocol number and keep it, or keep "
                "the postal receipt."
            ),
        ]
    else:
        ways = [t.gettext("<b>How to send it</b>"), views.delivery_advice(t, request.authority)]
    ways.append(t.gettext("Then tap “I have sent it”: I will count the legal deadline for you."))
    await send(
        update,
        context,
        Markup("\n").join(ways),
        keyboard(*views.card_buttons(t, request), [menu.menu_button(t)]),
    )


async def send_request_copy(update: Update, context: PactContext, request: RtiRequest) -> None:
    """The request letter again, as a PDF identical to the one first given."""
    t = context.t
    letter = request_letter(request, context.services.settings.tz)
    await _send_pdf(
        update,
        context,
        letters.request_pdf(letter),
        request_filename(request),
        t.gettext(
            "Your request no. {number} of {date}, the same letter as the first time.",
            number=request.id,
            date=t.date(letter.written_on),
        ),
    )


def complaint_letter(
    request: RtiRequest, written_on: date, commissioner_address: str
) -> letters.ComplaintLetter:
    """The complaint of a refused, partly answered or unanswered request, also after filing."""
    assert request.sent_on is not None and request.due_on is not None
    happened = request.complaint_ground or RequestStatus(request.status).value
    return letters.ComplaintLetter(
        requester_name=request.requester_name,
        reply_channel=request.reply_channel,
        reply_address=request.reply_address,
        authority_name=directory.display_name(request.authority),
        information=request.information,
        request_sent_on=request.sent_on,
        protocol_number=request.protocol_number,
        due_on=request.due_on,
        what_happened=happened,
        outcome_on=request.outcome_on,
        written_on=written_on,
        commissioner_address=commissioner_address,
        place=letter_place(request.authority),
    )


def complaint_filename(request: RtiRequest) -> str:
    """The complaint's file name, the same at every download."""
    return f"ankese-komisioneri-{request.id}.pdf"


def _complaint_of(context: PactContext, request: RtiRequest) -> letters.ComplaintLetter:
    """The complaint as drafted last (or filed), dated today when it never was."""
    settings = context.services.settings
    today = context.services.clock.now().astimezone(settings.tz).date()
    written_on = rti.complaint_date(request) or today
    return complaint_letter(request, written_on, settings.idp_postal_address)


async def send_complaint(update: Update, context: PactContext, request: RtiRequest) -> None:
    """The complaint to the Commissioner: text, PDF, its annex (the request letter as sent),
    where to send it and what to attach."""
    t = context.t
    settings = context.services.settings
    complaint = _complaint_of(context, request)
    await _send_text_and_pdf(
        update,
        context,
        letters.complaint_text(complaint),
        letters.complaint_pdf(complaint),
        complaint_filename(request),
        t.gettext("Your complaint to the Commissioner: sign it and send it."),
    )
    request_copy = request_letter(request, settings.tz)
    await _send_pdf(
        update,
        context,
        letters.request_pdf(request_copy),
        request_filename(request),
        t.gettext(
            "Annex 1 of the complaint: your request of {date}, the same letter as the first time.",
            date=t.date(request_copy.written_on),
        ),
    )
    assert request.complaint_due_on is not None
    today = context.services.clock.now().astimezone(settings.tz).date()
    await send(
        update,
        context,
        _late_filing(t, request.complaint_due_on, settings)
        if rti.complaint_time_over(request, today)
        else t.gettext(
            "<b>How to file it</b>\n"
            "• Send it to the Commissioner for the Right to Information and Personal Data "
            "Protection by e-mail to {email}, or by post to {address}, or through {portal}.\n"
            "• Attach a copy of your request and proof of sending (postal receipt, sent e-mail "
            "or protocol number), and the authority's answer if there was one.\n"
            "• Deadline: <b>{date}</b> (30 working days, art. 24). There is no internal "
            "review first: the complaint goes straight to the Commissioner.\n"
            "• The Commissioner decides within {days} working days.",
            email=letters.COMMISSIONER_EMAIL,
            address=letters.typographic(settings.idp_postal_address),
            portal=PYET_SHTETIN,
            date=t.date(request.complaint_due_on),
            days=settings.commissioner_decision_days,
        ),
        keyboard(
            [(t.gettext("✅ I have filed it"), views.FILED.data(request.id))],
            [(t.gettext("📋 My requests"), views.LIST), menu.menu_button(t)],
        ),
    )


def _late_filing(t: Translator, due_on: date, settings: Settings) -> str:
    """How to file a complaint drafted after its 30 working days: the deadline shown as passed."""
    return t.gettext(
        "<b>How to file it</b>\n"
        "• The deadline to complain (30 working days, art. 24) ended on <b>{date}</b>: the "
        "Commissioner may refuse a late complaint. You can send the request again: a new "
        "request starts a new deadline.\n"
        "• If you file it all the same: send it to the Commissioner for the Right to Information "
        "and Personal Data Protection by e-mail to {email}, or by post to {address}, or through "
        "{portal}, with a copy of your request and proof of sending.",
        date=t.date(due_on),
        email=letters.COMMISSIONER_EMAIL,
        address=letters.typographic(settings.idp_postal_address),
        portal=PYET_SHTETIN,
    )


async def send_complaint_copy(update: Update, context: PactContext, request: RtiRequest) -> None:
    """The filed complaint again, as a PDF with the text and date of the one filed."""
    t = context.t
    complaint = _complaint_of(context, request)
    await _send_pdf(
        update,
        context,
        letters.complaint_pdf(complaint),
        complaint_filename(request),
        t.gettext(
            "Your complaint to the Commissioner about request no. {number}, of {date}.",
            number=request.id,
            date=t.date(complaint.written_on),
        ),
    )
