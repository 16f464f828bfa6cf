"""How requests for information, authorities and reminders look in the chat (both languages)."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup

from bot.core.i18n import N_, Translator, plain
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, rows_of
from bot.rti.services import directory
from bot.rti.services.requests import (
    COMPLAINABLE,
    WAITING,
    Outcome,
    ReminderKind,
    complaint_time_over,
)
from db.models import Authority, RequestStatus, RtiRequest

OPEN, COMPLAINT, FILED, SENT, LETTER = (
    ButtonCodec(prefix, int) for prefix in ("rtr:", "rtc:", "rtf:", "rts:", "rtl:")
)
OUTCOME = ButtonCodec("rto:", int, Outcome)
DECIDED = ButtonCodec("rtk:", int, ("upheld", "rejected"))
LIST = "rti:mine"
WRONG_CONTACT = "rtw:"
CONTACT_IS_WRONG = ButtonCodec(WRONG_CONTACT, int)
"""The "contact is wrong" button under an authority's contact (bot/rti/builder.py draws it)."""

STATUS = {
    RequestStatus.PREPARED: N_("prepared, not sent yet"),
    RequestStatus.SENT: N_("sent, waiting for the answer"),
    RequestStatus.EXTENDED: N_("deadline extended, waiting"),
    RequestStatus.TRANSFERRED: N_("transferred to another authority, waiting"),
    RequestStatus.CLARIFY: N_("the authority asked you to clarify"),
    RequestStatus.ANSWERED: N_("answered"),
    RequestStatus.PARTIAL: N_("partly answered"),
    RequestStatus.REFUSED: N_("refused"),
    RequestStatus.NO_ANSWER: N_("no answer within the deadline"),
    RequestStatus.COMPLAINT_FILED: N_("complaint filed with the Commissioner"),
    RequestStatus.CLOSED: N_("closed"),
}
OUTCOMES = (
    (Outcome.ANSWERED, N_("✅ Full answer")),
    (Outcome.PARTIAL, N_("◐ Partial answer")),
    (Outcome.REFUSED, N_("⛔ Refused")),
    (Outcome.CLARIFY, N_("❓ Asked me to clarify")),
    (Outcome.EXTENDED, N_("⏳ Extended (+5 working days)")),
    (Outcome.TRANSFERRED, N_("↪️ Transferred")),
    (Outcome.NO_ANSWER, N_("🔇 No answer")),
)
FORMATS = {
    "electronic": N_("electronic copy"),
    "paper": N_("paper copy"),
    "on_site": N_("consult on site"),
}


def authority_label(t: Translator, authority: Authority) -> str:
    """A municipality as "Bashkia X" / "Municipality of X"; other bodies by name (plain text)."""
    if authority.kind == directory.MUNICIPALITY:
        return plain(t.gettext("Municipality of {name}", name=authority.name))
    return authority.name


PYET_SHTETIN = "https://www.pyetshtetin.al"
CONTACT_FIELDS = (
    ("coordinator_name", N_("RTI coordinator")),
    ("rti_email", N_("RTI coordinator's e-mail")),
    ("email", N_("E-mail")),
    ("phone", N_("Phone")),
    ("postal_address", N_("Postal address")),
    ("transparency_url", N_("Transparency Programme")),
    ("website", N_("Website")),
)
"""Contact fields in card order, with their labels (staff edit the same fields)."""
EMAILS, LINKS = ("rti_email", "email"), ("transparency_url", "website")


def _contact_value(name: str, value: str) -> Markup:
    """An e-mail as a mailto: link, a web address as a link, anything else as text."""
    if name in EMAILS:
        return Markup('<a href="mailto:{0}">{0}</a>').format(value)
    if name in LINKS:
        return Markup('<a href="{0}">{0}</a>').format(value)
    return Markup("{}").format(value)


def delivery_advice(t: Translator, authority: Authority) -> Markup:
    """How to deliver a letter without an e-mail: by hand, by post, or through Pyet Shtetin."""
    lines = [
        t.gettext("<b>No e-mail is known for this authority.</b> Deliver your letter, signed:"),
        t.gettext(
            "• by hand at its protocol office (at a municipality, the one-stop office, Zyra me "
            "Një Ndalesë): ask for the protocol number and keep it;"
        ),
    ]
    if authority.postal_address:
        lines.append(
            t.gettext(
                "• by post to {address}: keep the postal receipt;",
                address=authority.postal_address,
            )
        )
    else:
        lines.append(
            t.gettext(
                "• by post to its office (ask the office for the address): keep the postal receipt;"
            )
        )
    lines.append(
        t.gettext(
            "• or online through Pyet Shtetin, {link} (registration needed).", link=PYET_SHTETIN
        )
    )
    return Markup("\n").join(lines)


def authority_card(t: Translator, authority: Authority) -> Markup:
    """What we know of an authority's right-to-information contacts, for a citizen."""
    lines = [Markup("<b>{}</b>").format(authority_label(t, authority))]
    for name, label in CONTACT_FIELDS:
        value = getattr(authority, name)
        if value:
            lines.append(Markup("{}: {}").format(t.gettext(label), _contact_value(name, value)))
    if not authority.request_email:
        lines.append(delivery_advice(t, authority))
    lines.append(
        t.gettext(
            "💡 Check its Transparency Programme and its Register of Requests and Responses "
            "first: the information may already be published (arts. 4, 5, 7 and 8)."
        )
    )
    return Markup("\n").join(lines)


def authority_staff_card(t: Translator, authority: Authority, verified_by: str | None) -> Markup:
    """Every contact field, where the contacts come from, when checked, and who verified them."""
    unknown = t.gettext("not known yet")
    lines = [Markup("<b>{}</b>").format(authority_label(t, authority))]
    for name, label in CONTACT_FIELDS:
        value = getattr(authority, name)
        shown = _contact_value(name, value) if value else unknown
        lines.append(Markup("{}: {}").format(t.gettext(label), shown))
    lines.append(
        t.gettext("Source: {source}", source=authority.contact_source)
        if authority.contact_source
        else t.gettext("Source: none recorded")
    )
    lines.append(
        t.gettext("Last checked: {date}", date=t.date(authority.checked_on))
        if authority.checked_on
        else t.gettext("Last checked: never")
    )
    if authority.verified_at:
        lines.append(
            t.gettext(
                "✅ Verified by {name} on {date}",
                name=verified_by or t.gettext("a former staff member"),
                date=t.date(authority.verified_at),
            )
        )
    else:
        lines.append(t.gettext("Not verified by staff yet."))
    if authority.staff_fields:
        labels = dict(CONTACT_FIELDS)
        edited = [plain(t.gettext(labels[n])) for n in authority.staff_fields if n in labels]
        lines.append(t.gettext("Set by staff: {fields}", fields=", ".join(edited)))
    return Markup("\n").join(lines)


def card(t: Translator, request: RtiRequest, today: date | None = None) -> Markup:
    """One request: authority, status, dates and the next step (as of `today`, when given)."""
    lines = [
        t.gettext("<b>Request no. {number}</b>", number=request.id),
        t.gettext("To: {authority}", authority=authority_label(t, request.authority)),
        t.gettext("Status: {status}", status=t.gettext(STATUS[RequestStatus(request.status)])),
    ]
    if request.sent_on:
        lines.append(t.gettext("Sent on: {date}", date=t.date(request.sent_on)))
    if request.protocol_number:
        lines.append(t.gettext("Protocol no.: {number}", number=request.protocol_number))
    if request.due_on and request.status in WAITING:
        lines.append(t.gettext("Answer due by: <b>{date}</b>", date=t.date(request.due_on)))
    if request.complaint_due_on and request.status in COMPLAINABLE:
        text = (
            N_("The time to complain to the Commissioner ended on: <b>{date}</b>")
            if complaint_time_over(request, today)
            else N_("Complain to the Commissioner by: <b>{date}</b>")
        )
        lines.append(t.gettext(text, date=t.date(request.complaint_due_on)))
    lines.append(next_step(t, request, today))
    return Markup("\n").join(lines)


def next_step(t: Translator, request: RtiRequest, today: date | None = None) -> str:
    """One sentence telling the person what to do now."""
    status = RequestStatus(request.status)
    if status in COMPLAINABLE and complaint_time_over(request, today):
        return t.gettext(
            "Next: you can send the request again: a new request starts a new deadline."
        )
    if status is RequestStatus.PREPARED:
        return t.gettext("Next: send it, then tap “I have sent it” to start the clock.")
    if status is RequestStatus.CLARIFY:
        return t.gettext(
            "Next: answer the authority's question in writing and keep proof; then tell me "
            "what happens."
        )
    if status in WAITING:
        return t.gettext("Next: when the authority answers, tell me what happened.")
    if status in COMPLAINABLE:
        return t.gettext("Next: you can complain to the Commissioner. I can draft it for you.")
    if status is RequestStatus.COMPLAINT_FILED:
        return t.gettext("Next: tell me what the Commissioner decides.")
    if request.commissioner_outcome == "rejected":
        return t.gettext(
            "If you disagree with the Commissioner, you can go to the administrative court "
            "(art. 25). Free legal aid or a lawyer can help you."
        )
    return t.gettext("Nothing more to do.")


def card_buttons(
    t: Translator, request: RtiRequest, today: date | None = None
) -> list[list[Button]]:
    """The actions that fit the request's status (no complaint once its time is over)."""
    status = RequestStatus(request.status)
    rid = request.id
    rows: list[list[Button]] = []
    if status is RequestStatus.PREPARED:
        rows.append([(t.gettext("📮 I have sent it"), SENT.data(rid))])
        rows.append([(t.gettext("📄 The letter again"), LETTER.data(rid))])
    elif status in WAITING:
        rows.extend(outcome_rows(t, request))
    elif status in COMPLAINABLE and not complaint_time_over(request, today):
        rows.append([(t.gettext("📝 Complaint to the Commissioner"), COMPLAINT.data(rid))])
    elif status is RequestStatus.COMPLAINT_FILED:
        rows.append(
            [
                (t.gettext("👍 Decided in my favour"), DECIDED.data(rid, "upheld")),
                (t.gettext("👎 Rejected"), DECIDED.data(rid, "rejected")),
            ]
        )
    rows.append([(t.gettext("📋 My requests"), LIST)])
    return rows


def outcome_rows(t: Translator, request: RtiRequest) -> list[list[Button]]:
    """The one-tap outcome buttons, two per row."""
    buttons = [
        (t.gettext(label), OUTCOME.data(request.id, outcome))
        for outcome, label in OUTCOMES
        if not (outcome is Outcome.EXTENDED and request.extended)
    ]
    return rows_of(buttons)


def reminder_text(t: Translator, request: RtiRequest, kind: ReminderKind) -> str:
    """The text of a reminder about a request."""
    authority = authority_label(t, request.authority)
    if kind is ReminderKind.BEFORE_DUE:
        assert request.due_on is not None
        return t.gettext(
            "⏰ {authority} must answer your request no. {number} by {date}. Has it answered? "
            "Tell me with one tap.",
            authority=authority,
            number=request.id,
            date=t.date(request.due_on),
        )
    if kind is ReminderKind.AFTER_DUE:
        assert request.due_on is not None
        return t.gettext(
            "⏰ The deadline for {authority} to answer your request no. {number} was {date}. "
            "If it has not answered, silence counts as a refusal (art. 15(4)) and you can "
            "complain to the Commissioner.",
            authority=authority,
            number=request.id,
            date=t.date(request.due_on),
        )
    assert request.complaint_due_on is not None
    return t.gettext(
        "⏰ You can complain to the Commissioner about request no. {number} until {date}. "
        "After that the 30 working days (art. 24) are over.",
        number=request.id,
        date=t.date(request.complaint_due_on),
    )
