"""How cases look to staff: never who sent a confidential or anonymous report."""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup

from bot.cases import views as case_views
from bot.cases.services import case_rules
from bot.core.i18n import N_, Translator, join_lines, shorten
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, rows_of
from db.models import (
    AttachmentKind,
    AuditEntry,
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
MERGE_YES = ButtonCodec("stf:mrgy:", int, int)
"""Merge confirmed: the duplicate (by id) into the kept case (by id)."""
INBOX = ButtonCodec("stf:inbox:", ("open", "mine", "overdue", "all"), int)
"""The inbox with a filter, at a page."""
ROLES = {
    StaffRole.ADMIN: N_("admin"),
    StaffRole.CASEWORKER: N_("caseworker"),
    StaffRole.VIEWER: N_("viewer"),
}
"""Staff roles in words (the /staff list, and /privacy for a staff member)."""


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
    return [
        Markup("{} · {}: {}").format(t.date(event.at), labels[event.kind], _said(t, event))
        for event in events
        if event.kind in labels
    ]


def _said(t: Translator, event: CaseEvent) -> Markup:
    """What an exchange said: the words, that they were erased, or that a file came alone."""
    if event.public_text:
        return Markup("“{}”").format(shorten(event.public_text, 300))
    if event.erased_by == ErasedBy.REPORTER:
        return Markup("“{}”").format(t.gettext("erased by the reporter"))
    if event.erased_by == ErasedBy.RETENTION:
        return Markup("“{}”").format(t.gettext("anonymised after the retention period"))
    return t.gettext("a file (see 📎 Files)")


def reported(t: Translator, case: Case, now: datetime) -> Markup:
    """How long ago the case was reported, in calendar days where staff are: "today" first."""
    days = (now.astimezone(t.timezone).date() - case.created_at.astimezone(t.timezone).date()).days
    if days < 1:
        return t.gettext("Reported today")
    return t.ngettext("Reported {count} day ago", "Reported {count} days ago", days)


def file_count(t: Translator, kind: str, count: int) -> Markup:
    """How many files of one kind a case holds ("1 photo", "3 documents")."""
    if kind == AttachmentKind.PHOTO:
        return t.ngettext("{count} photo", "{count} photos", count)
    if kind == AttachmentKind.VOICE:
        return t.ngettext("{count} voice note", "{count} voice notes", count)
    return t.ngettext("{count} document", "{count} documents", count)


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
        reported(t, case, now),
    ]
    if case.happened_when:
        lines.append(t.gettext("When: {when}", when=case.happened_when))
    if case.latitude is not None and case.longitude is not None:
        lines.append(f"📍 {case.latitude:.5f}, {case.longitude:.5f}")
    elif case.location_text:
        lines.append(Markup("📍 {}").format(case.location_text))
    if counts:
        parts = [file_count(t, kind, n) for kind, n in sorted(counts.items())]
        lines.append("📎 " + Markup(", ").join(parts))
    if case.description:
        lines.append(Markup("“{}”").format(shorten(case.description, 1500)))
    elif case.erased_by:
        lines.append(Markup("“{}”").format(erased_label(t, case)))
    if events:
        lines.append(t.gettext("<b>Messages</b>"))
        lines.extend(exchange_lines(t, events))
    return Markup("\n").join(lines)


def can_take(case: Case, viewer_user_id: int | None) -> bool:
    """Taking fits an open case that is not already this staff member's."""
    return case.status in case_rules.OPEN and case.assignee_user_id != viewer_user_id


def can_reopen(case: Case) -> bool:
    """Reopening fits a closed case only (resolved, not resolved, rejected, duplicate)."""
    return case.status not in case_rules.OPEN


def buttons(t: Translator, case: Case, viewer_user_id: int | None) -> list[list[Button]]:
    """The actions on a case card that fit its state and the staff member looking at it."""
    cid = case.id
    status = (t.gettext("🔄 Status"), STATUS.data(cid))
    return [
        [(t.gettext("🙋 Take"), TAKE.data(cid)), status]
        if can_take(case, viewer_user_id)
        else [status],
        [(t.gettext("✉️ Reply"), REPLY.data(cid)), (t.gettext("📝 Note"), NOTE.data(cid))],
        [(t.gettext("👥 Assign"), ASSIGN.data(cid)), (t.gettext("📎 Files"), FILES.data(cid))],
        [(t.gettext("⋯ More"), MORE.data(cid))],
    ]


def more_buttons(t: Translator, case: Case, member: StaffMember | None) -> list[list[Button]]:
    """Less frequent actions that fit the case's state; the audit log is for admins."""
    cid = case.id
    rows: list[list[Button]] = []
    if case.status != CaseStatus.DUPLICATE:
        rows.append([(t.gettext("🔗 Merge into another case"), MERGE.data(cid))])
    redact = (t.gettext("✂️ Redact text"), REDACT.data(cid))
    reopen = (t.gettext("🔁 Reopen"), REOPEN.data(cid))
    rows.append([reopen, redact] if can_reopen(case) else [redact])
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


def merge_question(t: Translator, duplicate: Case, kept: Case, people: int) -> Markup:
    """What a merge will do, asked before it is done: both cases and who will be told."""
    return join_lines(
        [
            t.gettext(
                "Merge <b>{duplicate}</b> into <b>{kept}</b>?",
                duplicate=duplicate.reference,
                kept=kept.reference,
            ),
            "",
            t.gettext("Case to keep:"),
            Markup("<b>{}</b> · {}").format(kept.reference, case_views.what(t, kept)),
            case_views.place(t, kept, typed_unit_visible=True),
            t.gettext(
                "Status: {status}", status=t.gettext(case_views.STATUS[CaseStatus(kept.status)])
            ),
            "",
            t.ngettext(
                "{duplicate} becomes its duplicate; {count} person who reported or follows it "
                "will be told which case to follow.",
                "{duplicate} becomes its duplicate; {count} people who reported or follow it "
                "will be told which case to follow.",
                people,
                duplicate=duplicate.reference,
            )
            if people
            else t.gettext(
                "{duplicate} becomes its duplicate; nobody can be told (no reporter to reach, "
                "no followers).",
                duplicate=duplicate.reference,
            ),
        ]
    )


def merge_buttons(t: Translator, duplicate: Case, kept: Case) -> list[list[Button]]:
    """Confirm the merge, or go back to the duplicate's card."""
    return [
        [(t.gettext("🔗 Yes, merge"), MERGE_YES.data(duplicate.id, kept.id))],
        [(t.gettext("✖️ Cancel"), OPEN.data(duplicate.id))],
    ]


AUDITED = {
    "case.note": N_("Internal note added by {who}"),
    "case.reply": N_("Message sent to the reporter by {who}"),
    "case.redacted": N_("Text redacted by {who}"),
    "case.viewed": N_("Card opened by {who}"),
}
"""Audited case actions said in one sentence that names only the staff member."""


def audit_line(t: Translator, entry: AuditEntry, names: dict[int, str]) -> Markup:
    """One audit entry in words, with its moment. Staff are named; a reporter never is."""
    return Markup("{} · {}").format(t.datetime(entry.at), _audit_words(t, entry, names))


def _audit_words(t: Translator, entry: AuditEntry, names: dict[int, str]) -> Markup:
    """What happened, in a sentence ("Status changed: received → under review by Arta")."""
    who = _actor(t, entry, names)
    before, after = entry.before or {}, entry.after or {}
    if entry.action == "case.created":
        return t.gettext("Case created by the reporter")
    if entry.action == "case.status" and before.get("status") and after.get("status"):
        return t.gettext(
            "Status changed: {before} → {after} by {who}",
            before=_status(t, before["status"]),
            after=_status(t, after["status"]),
            who=who,
        )
    if entry.action == "case.status":
        return t.gettext("Status changed by {who}", who=who)
    if entry.action == "case.assigned":
        assignee = after.get("assignee")
        if assignee is not None and assignee == entry.actor_user_id:
            return t.gettext("Taken by {who}", who=who)
        return t.gettext("Assigned to {name} by {who}", name=_staff(t, names, assignee), who=who)
    if entry.action == "case.unassigned":
        return t.gettext(
            "Back in the queue: {name} no longer has access to it",
            name=_staff(t, names, before.get("assignee")),
        )
    if entry.action == "case.merged":
        return t.gettext(
            "Case {duplicate} merged into this one by {who}",
            duplicate=after.get("duplicate") or "?",
            who=who,
        )
    if entry.action in AUDITED:
        return t.gettext(AUDITED[entry.action], who=who)
    return t.gettext("{action} by {who}", action=entry.action, who=who)


def _actor(t: Translator, entry: AuditEntry, names: dict[int, str]) -> str:
    """Who acted: a staff member's name, "the bot", or "the reporter" (never their name)."""
    if entry.actor_kind == "staff":
        return _staff(t, names, entry.actor_user_id)
    if entry.actor_kind == "system":
        return t.gettext("the bot")
    return t.gettext("the reporter")


def _staff(t: Translator, names: dict[int, str], user_id: object) -> str:
    """A staff member's display name; someone no longer on the staff list is not named."""
    name = names.get(user_id) if isinstance(user_id, int) else None
    return name or t.gettext("a former staff member")


def _status(t: Translator, key: str) -> str:
    """A stored status in words (an unknown value as it is)."""
    return t.gettext(case_views.STATUS[CaseStatus(key)]) if key in set(CaseStatus) else key
