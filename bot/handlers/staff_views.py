"""How cases look to staff: never who sent a confidential or anonymous report."""

from __future__ import annotations

from datetime import datetime
from html import escape

from bot.handlers import case_views
from bot.i18n import N_, Translator
from bot.ui import Button, rows_of
from db.models import Case, CaseAttachment, CaseStatus, Identification, StaffMember

P = "stf:"
TAKE, STATUS, SET_STATUS, REPLY, NOTE, ASSIGN, ASSIGN_TO = (
    "stf:take:",
    "stf:st:",
    "stf:setst:",
    "stf:reply:",
    "stf:note:",
    "stf:asg:",
    "stf:asgto:",
)
FILES, MORE, MERGE, REOPEN, REDACT, AUDIT, OPEN, INBOX = (
    "stf:files:",
    "stf:more:",
    "stf:merge:",
    "stf:reopen:",
    "stf:redact:",
    "stf:audit:",
    "stf:open:",
    "stf:inbox:",
)
STAFF_STATUSES = (
    CaseStatus.UNDER_REVIEW,
    CaseStatus.FORWARDED,
    CaseStatus.ANSWERED,
    CaseStatus.RESOLVED,
    CaseStatus.NOT_RESOLVED,
    CaseStatus.REJECTED,
)
KINDS = {"photo": N_("photos"), "voice": N_("voice notes"), "document": N_("documents")}


def identity(t: Translator, case: Case) -> str:
    """The identification mode; the Telegram name only for named reports."""
    mode = t.gettext(case_views.IDENTIFICATION[Identification(case.identification)])
    if case.identification == Identification.NAMED and case.reporter_display:
        return f"{mode} ({escape(case.reporter_display)})"
    return mode


def card(
    t: Translator,
    case: Case,
    files: list[CaseAttachment],
    assignee: str | None,
    now: datetime,
) -> str:
    """The staff card of a case."""
    counts: dict[str, int] = {}
    for item in files:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    lines = [
        f"<b>{case.reference}</b> · {escape(case_views.what(t, case))}",
        case_views.place(t, case),
        t.gettext(
            "Status: {status} · Identification: {mode}",
            status=t.gettext(case_views.STATUS[CaseStatus(case.status)]),
            mode=identity(t, case),
        ),
        t.gettext("Assignee: {name}", name=escape(assignee) if assignee else t.gettext("nobody")),
        t.ngettext(
            "Reported {count} day ago", "Reported {count} days ago", (now - case.created_at).days
        ),
    ]
    if case.happened_when:
        lines.append(t.gettext("When: {when}", when=escape(case.happened_when)))
    if case.latitude is not None and case.longitude is not None:
        lines.append(f"📍 {case.latitude:.5f}, {case.longitude:.5f}")
    elif case.location_text:
        lines.append(f"📍 {escape(case.location_text)}")
    if counts:
        parts = [f"{n} {t.gettext(KINDS.get(k, k))}" for k, n in sorted(counts.items())]
        lines.append("📎 " + ", ".join(parts))
    if case.description:
        lines.append(f"“{escape(case.description[:1500])}”")
    return "\n".join(lines)


def buttons(t: Translator, case: Case) -> list[list[Button]]:
    """The actions on a case card."""
    cid = case.id
    return [
        [(t.gettext("🙋 Take"), f"{TAKE}{cid}"), (t.gettext("🔄 Status"), f"{STATUS}{cid}")],
        [(t.gettext("✉️ Reply"), f"{REPLY}{cid}"), (t.gettext("📝 Note"), f"{NOTE}{cid}")],
        [(t.gettext("👥 Assign"), f"{ASSIGN}{cid}"), (t.gettext("📎 Files"), f"{FILES}{cid}")],
        [(t.gettext("⋯ More"), f"{MORE}{cid}")],
    ]


def more_buttons(t: Translator, case: Case, member: StaffMember | None) -> list[list[Button]]:
    """Less frequent actions; the audit log is for admins."""
    cid = case.id
    rows = [
        [(t.gettext("🔗 Merge into another case"), f"{MERGE}{cid}")],
        [
            (t.gettext("🔁 Reopen"), f"{REOPEN}{cid}"),
            (t.gettext("✂️ Redact text"), f"{REDACT}{cid}"),
        ],
    ]
    if member is not None and member.role == "admin":
        rows.append([(t.gettext("📜 Audit log"), f"{AUDIT}{cid}")])
    rows.append([(t.gettext("⬅️ Back"), f"{OPEN}{cid}")])
    return rows


def status_buttons(t: Translator, case: Case) -> list[list[Button]]:
    """The statuses staff can set."""
    items = [
        (t.gettext(case_views.STATUS[s]), f"{SET_STATUS}{case.id}:{s}")
        for s in STAFF_STATUSES
        if s != case.status
    ]
    return [*rows_of(items), [(t.gettext("⬅️ Back"), f"{OPEN}{case.id}")]]
