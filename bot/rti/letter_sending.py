"""Sending a prepared request or a complaint: the text, the PDF letter, and how to send it."""

from __future__ import annotations

import io
from datetime import date

from markupsafe import Markup
from telegram import InputFile, Update

from bot.core.application import PactContext
from bot.kit import menu
from bot.kit.ui import keyboard, send
from bot.rti import views
from bot.rti.services import directory, letters
from db.models import RequestStatus, RtiRequest

PYET_SHTETIN = "https://www.pyetshtetin.al"
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


async def _send_text_and_pdf(
    update: Update, context: PactContext, text: str, pdf: bytes, filename: str, caption: str
) -> None:
    """The letter as messages (escaped) and as a PDF document."""
    for part in _chunks(text):
        await send(update, context, Markup("<pre>{}</pre>").format(part))
    assert update.effective_chat is not None
    await context.bot.send_document(
        update.effective_chat.id, InputFile(io.BytesIO(pdf), filename=filename), caption=caption
    )


def request_letter(request: RtiRequest, written_on: date) -> letters.RequestLetter:
    """The letter data for a stored request."""
    authority = request.authority
    return letters.RequestLetter(
        authority_name=directory.display_name(authority),
        coordinator_name=authority.coordinator_name,
        authority_email=authority.email,
        authority_address=authority.postal_address,
        requester_name=request.requester_name,
        reply_channel=request.reply_channel,
        reply_address=request.reply_address,
        information=request.information,
        format=request.format,
        written_on=written_on,
    )


async def send_prepared_request(update: Update, context: PactContext, request: RtiRequest) -> None:
    """The finished request: text, PDF, and the ways to send it."""
    t = context.t
    letter = request_letter(
        request, context.services.clock.now().astimezone(context.services.settings.tz).date()
    )
    await send(
        update, context, t.gettext("✅ Your request no. {number} is ready.", number=request.id)
    )
    await _send_text_and_pdf(
        update,
        context,
        letters.request_text(letter),
        letters.request_pdf(letter),
        f"kerkese-informimi-{request.id}.pdf",
        t.gettext("Your request as a letter: print and sign it, or attach it to an e-mail."),
    )
    ways = [t.gettext("<b>How to send it</b>")]
    mailto = letters.request_mailto(letter)
    if mailto:
        ways.append(
            t.gettext(
                '• By e-mail: <a href="{link}">open the e-mail, ready to send</a>, to {email}. '
                "Attach the PDF.",
                link=mailto,
                email=request.authority.email or "",
            )
        )
    else:
        ways.append(
            t.gettext(
                "• By e-mail: I do not know this authority's e-mail yet; look for it on its "
                "website or ask its office."
            )
        )
    ways.append(
        t.gettext(
            "• Online through Pyet Shtetin: {link} (registration needed).",
            link=PYET_SHTETIN,
        )
    )
    ways.append(
        t.gettext(
            "• By hand or by post, signed. Ask for the protocol number and keep it, or keep "
            "the postal receipt."
        )
    )
    ways.append(t.gettext("Then tap “I have sent it”: I will count the legal deadline for you."))
    await send(
        update,
        context,
        Markup("\n").join(ways),
        keyboard(*views.card_buttons(t, request), [menu.menu_button(t)]),
    )


def complaint_letter(
    request: RtiRequest, written_on: date, commissioner_address: str
) -> letters.ComplaintLetter:
    """The complaint data for a refused, partly answered or unanswered request."""
    assert request.sent_on is not None and request.due_on is not None
    happened = {
        RequestStatus.REFUSED: "refused",
        RequestStatus.PARTIAL: "partial",
        RequestStatus.NO_ANSWER: "no_answer",
    }[RequestStatus(request.status)]
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
    )


async def send_complaint(update: Update, context: PactContext, request: RtiRequest) -> None:
    """The complaint to the Commissioner: text, PDF, where to send it and what to attach."""
    t = context.t
    settings = context.services.settings
    today = context.services.clock.now().astimezone(settings.tz).date()
    complaint = complaint_letter(request, today, settings.idp_postal_address)
    await _send_text_and_pdf(
        update,
        context,
        letters.complaint_text(complaint),
        letters.complaint_pdf(complaint),
        f"ankese-komisioneri-{request.id}.pdf",
        t.gettext("Your complaint to the Commissioner: sign it and send it."),
    )
    assert request.complaint_due_on is not None
    await send(
        update,
        context,
        t.gettext(
            "<b>How to file it</b>\n"
            "• Send it to the Commissioner for the Right to Information and Personal Data "
            "Protection by e-mail to {email}, or by post to {address}, or through {portal}.\n"
            "• Attach a copy of your request and proof of sending (postal receipt, sent e-mail "
            "or protocol number), and the authority's answer if there was one.\n"
            "• Deadline: <b>{date}</b> (30 working days, art. 24). There is no internal "
            "review first: the complaint goes straight to the Commissioner.\n"
            "• The Commissioner decides within {days} working days.",
            email=letters.COMMISSIONER_EMAIL,
            address=settings.idp_postal_address,
            portal=PYET_SHTETIN,
            date=t.date(request.complaint_due_on),
            days=settings.commissioner_decision_days,
        ),
        keyboard(
            [(t.gettext("✅ I have filed it"), views.FILED.data(request.id))],
            [(t.gettext("📋 My requests"), views.LIST), menu.menu_button(t)],
        ),
    )
