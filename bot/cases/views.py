"""How cases look in the chat: labels, the card with its timeline, the status notices."""

from __future__ import annotations

from markupsafe import Markup

from bot.cases.services import case_rules
from bot.core.i18n import N_, Translator, plain, shorten
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, list_line
from db.models import Case, CaseEvent, CaseEventKind, CaseKind, CaseStatus, Identification

ANSWER, OPEN_CASE, ADD_INFO, WITHDRAW, WITHDRAW_YES = (
    ButtonCodec(prefix, int) for prefix in ("cs:ans:", "cs:open:", "cs:add:", "cs:wd:", "cs:wdy:")
)
FOLLOWUP = ButtonCodec("cs:fu:", int, ("yes", "partly", "no"))
LIST, CHECK = "menu:cases", "cs:check"

STATUS = {
    CaseStatus.RECEIVED: N_("received"),
    CaseStatus.UNDER_REVIEW: N_("under review"),
    CaseStatus.FORWARDED: N_("forwarded to the institution"),
    CaseStatus.ANSWERED: N_("answered by the institution"),
    CaseStatus.RESOLVED: N_("resolved"),
    CaseStatus.NOT_RESOLVED: N_("not resolved"),
    CaseStatus.REJECTED: N_("rejected"),
    CaseStatus.DUPLICATE: N_("duplicate of another case"),
    CaseStatus.WITHDRAWN: N_("withdrawn by the reporter"),
}
IDENTIFICATION = {
    Identification.NAMED: N_("named"),
    Identification.CONFIDENTIAL: N_("confidential"),
    Identification.ANONYMOUS: N_("anonymous"),
}
EVENTS = {
    CaseEventKind.REPORTER_INFO: N_("You added information"),
    CaseEventKind.REOPENED: N_("Reopened: the problem is not solved"),
    CaseEventKind.FOLLOWUP_YES: N_("You said the problem is solved"),
    CaseEventKind.FOLLOWUP_PARTLY: N_("You said the problem is partly solved"),
    CaseEventKind.FOLLOWUP_NO: N_("You said the problem is not solved"),
    CaseEventKind.STAFF_REPLY: N_("Message from the team"),
    CaseEventKind.REPORTER_REPLY: N_("Your answer"),
}


def what(t: Translator, case: Case) -> str:
    """Category (service) or "Corruption report", as plain text."""
    if case.kind == CaseKind.CORRUPTION:
        return plain(t.gettext("Corruption report"))
    category = case_rules.category(case.category)
    return category.label(t.locale) if category else plain(t.gettext("Service problem"))


def place(t: Translator, case: Case, *, typed_unit_visible: bool) -> str:
    """Municipality and unit, when known. A unit the reporter typed (not on the municipality's
    list) is their words: only the reporter and staff see it (`typed_unit_visible`). Plain text."""
    if case.municipality is None:
        return case.institution or ""
    town = plain(t.gettext("Municipality of {name}", name=case.municipality.name))
    shown = case.unit if typed_unit_visible or case_rules.listed_unit(case) else None
    return f"{town}, {shown}" if shown else town


def button_label(t: Translator, case: Case) -> str:
    """A short label for lists (plain text, a button)."""
    status = plain(t.gettext(STATUS[CaseStatus(case.status)]))
    return list_line(case.reference, what(t, case), status)


ADDED_SHOWN = 200
"""How much of the information a reporter added their timeline repeats (cut at a word)."""


def event_line(t: Translator, event: CaseEvent, *, reporter: bool = False) -> Markup:
    """One timeline line, with the staff's public note when there is one; the reporter also sees
    the information they added, in their own words (shortened)."""
    when = t.date(event.at)
    if event.kind == CaseEventKind.STATUS and event.status:
        line = t.gettext(
            "{date}: {status}", date=when, status=t.gettext(STATUS[CaseStatus(event.status)])
        )
    else:
        line = Markup("{}: {}").format(when, t.gettext(EVENTS.get(event.kind, N_("Update"))))
    if event.public_text and event.kind != CaseEventKind.REPORTER_INFO:
        line += Markup("\n   “{}”").format(event.public_text)
    elif event.public_text and reporter:
        line += Markup("\n   “{}”").format(shorten(event.public_text, ADDED_SHOWN))
    return line


def card(t: Translator, case: Case, events: list[CaseEvent], *, reporter: bool = False) -> Markup:
    """A case with its timeline; a follower's card says it shows status changes only."""
    lines = [
        Markup("<b>{}</b> · {}").format(case.reference, what(t, case)),
        place(t, case, typed_unit_visible=reporter),
        t.gettext("Status: {status}", status=t.gettext(STATUS[CaseStatus(case.status)])),
        t.gettext(
            "Identification: {mode}",
            mode=t.gettext(IDENTIFICATION[Identification(case.identification)]),
        )
        if reporter
        else t.gettext("You follow this case: you see its status changes and the team's notes."),
        "",
        *(event_line(t, e, reporter=reporter) for e in events),
    ]
    return Markup("\n").join(line for line in lines if line is not None)


def card_buttons(t: Translator, case: Case, reporter: bool) -> list[list[Button]]:
    """Add information and withdraw for the reporter of an open case; a follower gets neither."""
    rows: list[list[Button]] = []
    if reporter and case.status in case_rules.OPEN:
        rows.append([(t.gettext("➕ Add information"), ADD_INFO.data(case.id))])
        rows.append([(t.gettext("↩️ Withdraw"), WITHDRAW.data(case.id))])
    rows.append([(t.gettext("📂 My cases"), LIST)])
    return rows


def status_notice(t: Translator, case: Case, note: str | None) -> Markup:
    """What the reporter and followers receive when staff change a case's status."""
    text = t.gettext(
        "🔔 Case {reference} ({what}) is now: <b>{status}</b>.",
        reference=case.reference,
        what=what(t, case),
        status=t.gettext(STATUS[CaseStatus(case.status)]),
    )
    if note:
        text += "\n" + t.gettext("Note from the team: “{note}”", note=note)
    return text


def merge_notice(t: Translator, duplicate: Case, kept: Case) -> Markup:
    """The case is closed as a duplicate: the one the team works on, and whether to follow it."""
    closed = t.gettext(
        "🔔 Case {duplicate} ({what}) reports the same problem as case {kept}, so the team "
        "joined them: {duplicate} is closed as a duplicate.",
        duplicate=duplicate.reference,
        kept=kept.reference,
        what=what(t, duplicate),
    )
    if case_rules.followable(kept):
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


def merge_buttons(t: Translator, kept: Case) -> list[list[Button]]:
    """Under the merge notice: the kept case (when it can be followed) and My cases."""
    rows: list[list[Button]] = [[(t.gettext("📂 My cases"), LIST)]]
    if case_rules.followable(kept):
        rows.insert(0, [(f"📂 {kept.reference}", OPEN_CASE.data(kept.id))])
    return rows


def followup_question(t: Translator, case: Case) -> Markup:
    """Asked 21 days after resolved or answered."""
    return t.gettext(
        "Case {reference} ({what}) was marked as {status}. Is the problem solved?",
        reference=case.reference,
        what=what(t, case),
        status=t.gettext(STATUS[CaseStatus(case.status)]),
    )


def followup_buttons(t: Translator, case: Case) -> list[list[Button]]:
    """Yes / partly / no."""
    return [
        [
            (t.gettext("✅ Yes"), FOLLOWUP.data(case.id, "yes")),
            (t.gettext("◐ Partly"), FOLLOWUP.data(case.id, "partly")),
            (t.gettext("❌ No"), FOLLOWUP.data(case.id, "no")),
        ]
    ]
