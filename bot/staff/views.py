"""How cases look to staff: never who sent a confidential or anonymous report."""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup

from bot.cases import views as case_views
from bot.core.i18n import N_, Translator, shorten
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, rows_of
from db.models import (
    Case,
    CaseAttachment,
    CaseEvent,
    CaseStatus,
    ErasedBy,
    Identification,
    StaffMember,
    StaffRole,
)

STAFF_STATUSES = (
    CaseStatus.UNDER_REVIEW,
    CaseStatus.FORWARDED,
    CaseStatus.ANSWERED,
    CaseStatus.RESOLVED,
    CaseStatus.NOT_RESOLVED,
    CaseStatus.REJECTED,
)
TAKE, STATUS, REPLY, NOTE, ASSIGN, FILES, MORE, MERGE, REOPEN, REDACT, AUDIT, OPEN, PRIVATE = (
    ButtonCodec(prefix, int)
    for prefix in (
        "stf:take:",
        "stf:st:",
        "stf:reply:",
        "stf:note:",
        "stf:asg:",
        "stf:files:",
        "stf:more:",
        "stf:merge:",
        "stf:reopen:",
        "stf:redact:",
        "stf:audit:",
        "stf:open:",
        "stf:priv:",
    )
)
"""Actions on one case (by its id)."""
PRIVATE_NOTICE = ButtonCodec("stf:priv:", int, "keep")
"""The full card privately from a notice, which keeps its text (a card is redrawn)."""
SET_STATUS = ButtonCodec("stf:setst:", int, STAFF_STATUSES)
ASSIGN_TO = ButtonCodec("stf:asgto:", int, int)
"""A case (by id) assigned to a staff member (by user id)."""
INBOX = ButtonCodec("stf:inbox:", ("open", "mine", "overdue", "all"), int)
"""The inbox with a filter, at a page."""
KINDS = {"photo": N_("photos"), "voice": N_("voice notes"), "document": N_("documents")}


def erased_label(t: Translator, case: Case) -> str:
    """Why a case's personal data is gone: erased by the reporter, or the retention period."""
    if case.erased_by == ErasedBy.REPORTER:
        return t.gettext("erased by the reporter")
    return t.gettext("anonymised after the retention period")


def identity(t: Translator, case: Case) -> Markup:
    """The identification mode; the Telegram name only for named reports."""
    mode = t.gettext(case_views.IDENTIFICATION[Identification(case.identification)])
    if case.erased_by:
        return Markup("{} ({})").format(mode, erased_label(t, case))
    if case.identification == Identification.NAMED and case.reporter_display:
        return Markup("{} ({})").format(mode, case.reporter_display)
    return mode


def received(t: Translator, case: Case, now: datetime) -> str:
    """How long ago the case came in: hours on the first day, then days."""
    age = now - case.created_at
    hours = int(age.total_seconds() // 3600)
    if hours < 1:
        return t.gettext("received less than an hour ago")
    if hours < 24:
        return t.ngettext("received {count} hour ago", "received {count} hours ago", hours)
    return t.ngettext("received {count} day ago", "received {count} days ago", age.days)


def group_card(t: Translator, case: Case, now: datetime) -> Markup:
    """The staff group's card: reference, category, municipality, age; nothing the reporter said.

    The group may hold members of other municipalities; the full card opens privately, scoped.
    """
    lines = [Markup("<b>{}</b> · {}").format(case.reference, case_views.what(t, case))]
    if case.municipality is not None:
        lines.append(t.gettext("Municipality of {name}", name=case.municipality.name))
    lines.append(received(t, case, now))
    return Markup("\n").join(lines)


def group_buttons(t: Translator, case: Case, *, notice: bool = False) -> list[list[Button]]:
    """The one button of a group card (or notice): the full card in the member's private chat.

    On a card the press also redraws the card (fresh age); a notice keeps its text (`:keep`).
    """
    data = PRIVATE_NOTICE.data(case.id) if notice else PRIVATE.data(case.id)
    return [[(t.gettext("🔓 Open in my private chat"), data)]]


def exchange_lines(t: Translator, events: list[CaseEvent]) -> list[Markup]:
    """The latest staff messages and reporter answers, shortened, for the private card."""
    labels = {
        "staff_reply": t.gettext("Team"),
        "reporter_reply": t.gettext("Reporter"),
    }
    erased = {
        ErasedBy.REPORTER: t.gettext("erased by the reporter"),
        ErasedBy.RETENTION: t.gettext("anonymised after the retention period"),
    }
    return [
        Markup("{} · {}: “{}”").format(t.date(event.at), labels[event.kind], said)
        for event in events
        if event.kind in labels
        for said in [
            shorten(event.public_text, 300)
            if event.public_text
            else erased.get(event.erased_by or "", "")
        ]
    ]


def card(
    t: Translator,
    case: Case,
    files: list[CaseAttachment],
    assignee: str | None,
    now: datetime,
    events: list[CaseEvent] | None = None,
) -> Markup:
    """The full staff card of a case (private chat only), with the latest exchanges."""
    counts: dict[str, int] = {}
    for item in files:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    lines = [
        Markup("<b>{}</b> · {}").format(case.reference, case_views.what(t, case)),
        case_views.place(t, case, typed_unit_visible=True),
        t.gettext(
            "Status: {status} · Identification: {mode}",
            status=t.gettext(case_views.STATUS[CaseStatus(case.status)]),
            mode=identity(t, case),
        ),
        t.gettext("Assignee: {name}", name=assignee if assignee else t.gettext("nobody")),
        t.ngettext(
            "Reported {count} day ago", "Reported {count} days ago", (now - case.created_at).days
        ),
    ]
    if case.happened_when:
        lines.append(t.gettext("When: {when}", when=case.happened_when))
    if case.latitude is not None and case.longitude is not None:
        lines.append(f"📍 {case.latitude:.5f}, {case.longitude:.5f}")
    elif case.location_text:
        lines.append(Markup("📍 {}").format(case.location_text))
    if counts:
        parts = [
            Markup("{} {}").format(n, t.gettext(KINDS.get(k, k))) for k, n in sorted(counts.items())
        ]
        lines.append("📎 " + Markup(", ").join(parts))
    if case.description:
        lines.append(Markup("“{}”").format(shorten(case.description, 1500)))
    elif case.erased_by:
        lines.append(Markup("“{}”").format(erased_label(t, case)))
    if events:
        lines.append(t.gettext("<b>Messages</b>"))
        lines.extend(exchange_lines(t, events))
    return Markup("\n").join(lines)


def buttons(t: Translator, case: Case) -> list[list[Button]]:
    """The actions on a case card."""
    cid = case.id
    return [
        [(t.gettext("🙋 Take"), TAKE.data(cid)), (t.gettext("🔄 Status"), STATUS.data(cid))],
        [(t.gettext("✉️ Reply"), REPLY.data(cid)), (t.gettext("📝 Note"), NOTE.data(cid))],
        [(t.gettext("👥 Assign"), ASSIGN.data(cid)), (t.gettext("📎 Files"), FILES.data(cid))],
        [(t.gettext("⋯ More"), MORE.data(cid))],
    ]


def more_buttons(t: Translator, case: Case, member: StaffMember | None) -> list[list[Button]]:
    """Less frequent actions; the audit log is for admins."""
    cid = case.id
    rows = [
        [(t.gettext("🔗 Merge into another case"), MERGE.data(cid))],
        [
            (t.gettext("🔁 Reopen"), REOPEN.data(cid)),
            (t.gettext("✂️ Redact text"), REDACT.data(cid)),
        ],
    ]
    if member is not None and member.role == StaffRole.ADMIN:
        rows.append([(t.gettext("📜 Audit log"), AUDIT.data(cid))])
    rows.append([(t.gettext("⬅️ Back"), OPEN.data(cid))])
    return rows


def status_buttons(t: Translator, case: Case) -> list[list[Button]]:
    """The statuses staff can set."""
    items = [
        (t.gettext(case_views.STATUS[s]), SET_STATUS.data(case.id, s))
        for s in STAFF_STATUSES
        if s != case.status
    ]
    return [*rows_of(items), [(t.gettext("⬅️ Back"), OPEN.data(case.id))]]
