"""/privacy and /mydata: the notice, each consent, download of one's data, erasure."""

from __future__ import annotations

import io
import json
from typing import Any

from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.account import menu
from bot.account.services import accounts, my_data
from bot.account.services.consent import (
    BaseConsentMissingError,
    MinorConsentError,
    active_consent,
    has_consent,
    is_minor,
)
from bot.account.texts import full_notice
from bot.account.views import ACCEPT, AGE_LABELS, UNDER_16_NOTE
from bot.core import routing, state_memory
from bot.core.application import PactContext
from bot.core.i18n import N_, Translator
from bot.core.persistence import TOUCHED
from bot.core.runtime import after_commit_effect
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, answer, edit_or_send, keyboard, send
from bot.staff.services import permissions as staff
from bot.staff.views import ROLES
from db.models import AgeBand, ConsentPurpose, StaffMember, StaffRole, User
from db.repositories import users as users_repo

GIVE, WITHDRAW = (ButtonCodec(prefix, ConsentPurpose) for prefix in ("prv:give:", "prv:withdraw:"))
NOTICE, EXPORT, ERASE, ERASE_YES, ERASE_ALL, SHOW = (
    "prv:notice",
    "prv:export",
    "prv:erase",
    "prv:erase:yes",
    "prv:erase:all",
    "prv:show",
)
FILE_NAME = "pact-my-data.json"
AGE_ASK, AGE = "prv:age", ButtonCodec("prv:age:", AgeBand)

PURPOSES = {
    ConsentPurpose.CASES: N_("Storing and handling your requests and reports"),
    ConsentPurpose.FORWARD: N_("Passing your reports to the responsible authority"),
    ConsentPurpose.CAMPAIGNS: N_("Receiving campaign messages"),
}
SHORT = {
    ConsentPurpose.CASES: N_("requests and reports"),
    ConsentPurpose.FORWARD: N_("passing to the authority"),
    ConsentPurpose.CAMPAIGNS: N_("campaign messages"),
}


def _status(t: Translator, user: User | None) -> tuple[str, list[list[Button]]]:
    """The text listing each consent and the buttons to change them."""
    if user is None:
        text = t.gettext(
            "<b>Your privacy</b>\nWe hold no data about you. Read the notice and decide."
        )
        return text, [[(t.gettext("📄 Full privacy notice"), NOTICE)]]
    lines = [t.gettext("<b>Your privacy</b>")]
    rows: list[list[Button]] = []
    for purpose, label in PURPOSES.items():
        consent = active_consent(user, purpose)
        if consent is not None:
            lines.append(
                t.gettext(
                    "✅ {purpose}: given on {date}",
                    purpose=t.gettext(label),
                    date=t.date(consent.given_at),
                )
            )
            rows.append(
                [
                    (
                        t.gettext("Withdraw: {what}", what=t.gettext(SHORT[purpose])),
                        WITHDRAW.data(purpose),
                    )
                ]
            )
        else:
            lines.append(t.gettext("⬜ {purpose}: not given", purpose=t.gettext(label)))
            rows.append(
                [(t.gettext("Give: {what}", what=t.gettext(SHORT[purpose])), GIVE.data(purpose))]
            )
    if _may_change_age(user):
        band = AGE_LABELS.get(AgeBand(user.age_band)) if user.age_band in set(AgeBand) else None
        lines.append(
            t.gettext("Age: {band}", band=t.gettext(band)) if band else t.gettext("Age: not given")
        )
        rows.append([(t.gettext("✏️ Change my age"), AGE_ASK)])
    rows.append([(t.gettext("📄 Full privacy notice"), NOTICE)])
    rows.append([(t.gettext("⬇️ Download my data"), EXPORT), (t.gettext("🗑 Delete my data"), ERASE)])
    return "\n".join(lines), rows


def _may_change_age(user: User | None) -> bool:
    """The age band is kept with consent (a), and under 16 (then it is all that is kept)."""
    return has_consent(user) or is_minor(user)


async def privacy_command(update: Update, context: PactContext) -> None:
    """/privacy."""
    text, rows = _status(context.t, context.user_row)
    await send(update, context, text, keyboard(*rows, [menu.menu_button(context.t)]))


async def privacy_button(update: Update, context: PactContext) -> None:
    """Privacy from the menu, or "back" from a sub-screen."""
    await answer(update)
    text, rows = _status(context.t, context.user_row)
    await edit_or_send(update, context, text, keyboard(*rows, [menu.menu_button(context.t)]))


async def notice(update: Update, context: PactContext) -> None:
    """The full notice; an agree button when no consent is in force."""
    await answer(update)
    t = context.t
    rows: list[list[Button]] = []
    if active_consent(context.user_row, ConsentPurpose.CASES) is None:
        rows.append([(t.gettext("✅ I agree"), ACCEPT)])
    rows.append([menu.menu_button(t)])
    await send(update, context, full_notice(t, context.services.settings), keyboard(*rows))


async def change(update: Update, context: PactContext) -> None:
    """Give or withdraw one purpose, then redraw the status."""
    query = await answer(update)
    given = GIVE.parse(query.data)
    give = given is not None
    purpose = given if give else WITHDRAW.parse(query.data)
    if purpose is None or context.user_row is None:
        await stale_button(update, context)
        return
    t = context.t
    try:
        user = await accounts.change_consent(
            context.scope.session, context.actor(update), purpose, give
        )
    except BaseConsentMissingError:
        await send(update, context, t.gettext("First agree to the privacy notice."))
        return
    except MinorConsentError:
        await send(
            update,
            context,
            t.gettext(
                "Under 16, a parent's or guardian's consent is needed. You can still use the "
                "guides and anonymous reports."
            ),
        )
        return
    context.scope.user = user
    text, rows = _status(t, user)
    done = (
        t.gettext("Consent given: {what}.", what=t.gettext(SHORT[purpose]))
        if give
        else t.gettext("Consent withdrawn: {what}.", what=t.gettext(SHORT[purpose]))
    )
    await edit_or_send(update, context, f"{done}\n\n{text}", keyboard(*rows, [menu.menu_button(t)]))


async def ask_age(update: Update, context: PactContext) -> None:
    """The age bands, to correct a mis-tapped one."""
    await answer(update)
    if not _may_change_age(context.user_row):
        await stale_button(update, context)
        return
    t = context.t
    bands = [(t.gettext(label), AGE.data(band)) for band, label in AGE_LABELS.items()]
    await edit_or_send(
        update,
        context,
        t.gettext("How old are you? Under 16, we keep nothing but your age band."),
        keyboard(bands[:2], bands[2:], [(t.gettext("⬅️ Back"), SHOW)]),
    )


async def change_age(update: Update, context: PactContext) -> None:
    """A corrected age band: stored and audited, its rules applied, the status redrawn."""
    query = await answer(update)
    band = AGE.parse(query.data)
    user = context.user_row
    if band is None or user is None or not _may_change_age(user):
        await stale_button(update, context)
        return
    t = context.t
    was_minor = is_minor(user)
    user = await accounts.correct_age_band(context.scope.session, context.actor(update), band)
    context.scope.user = user
    notes = [t.gettext("Your age is now: {band}.", band=t.gettext(AGE_LABELS[band]))]
    if band is AgeBand.UNDER_16 and not was_minor:
        notes.append(t.gettext(UNDER_16_NOTE))
    elif was_minor and band is not AgeBand.UNDER_16:
        notes.append(t.gettext("You can now give your consents below."))
    text, rows = _status(t, user)
    notes.append(text)
    await edit_or_send(update, context, "\n\n".join(notes), keyboard(*rows, [menu.menu_button(t)]))


def _role_name(t: Translator, role: str) -> str:
    """A staff role in the person's language."""
    label = ROLES.get(StaffRole(role)) if role in set(StaffRole) else None
    return t.gettext(label) if label else role


def _counted(t: Translator, counts: dict[str, int]) -> list[str]:
    """One counted line per kind of data held (literal msgids, so the catalogs find them)."""
    lines = [
        t.ngettext("{count} case you reported", "{count} cases you reported", counts["reported"]),
        t.ngettext("{count} case you follow", "{count} cases you follow", counts["followed"]),
        t.ngettext(
            "{count} request for information",
            "{count} requests for information",
            counts["requests"],
        ),
        t.ngettext("{count} poll vote", "{count} poll votes", counts["votes"]),
        t.ngettext(
            "{count} report card answered (round still open)",
            "{count} report cards answered (rounds still open)",
            counts["report_cards"],
        ),
        t.ngettext("{count} answer to an event", "{count} answers to events", counts["rsvps"]),
        t.ngettext(
            "{count} campaign message sent to you",
            "{count} campaign messages sent to you",
            counts["deliveries"],
        ),
        t.ngettext(
            "campaign subscription: {count} topic",
            "campaign subscription: {count} topics",
            counts["topics"],
        ),
        t.ngettext("{count} consent record", "{count} consent records", counts["consents"]),
        t.ngettext(
            "{count} unfinished draft or step",
            "{count} unfinished drafts or steps",
            counts["drafts"],
        ),
    ]
    names = ("reported", "followed", "requests", "votes", "report_cards", "rsvps", "deliveries")
    names += ("topics",)
    names += ("consents", "drafts")
    return ["• " + line for name, line in zip(names, lines, strict=True) if counts[name]]


def _summary(t: Translator, data: dict[str, Any]) -> str:
    """The short text beside the file: how much of each kind we hold, in the person's language."""
    lines = [t.gettext("<b>What we hold about you</b>")]
    lines += _counted(t, my_data.summary_counts(data, frozenset({TOUCHED})))
    role = data.get("staff_role")
    if role:
        lines.append("• " + t.gettext("staff role: {role}", role=_role_name(t, role["role"])))
    if len(lines) == 1:
        lines.append(t.gettext("Only your settings (language and answers to the first questions)."))
    lines.append(t.gettext("Everything is in the file below, as readable text (JSON)."))
    return "\n".join(lines)


async def _send_my_data(update: Update, context: PactContext) -> None:
    """Send everything held about the person: a short summary, then the JSON file."""
    t = context.t
    assert update.effective_user is not None and update.effective_chat is not None
    telegram_id = update.effective_user.id
    drafts = dict(context.application.user_data.get(telegram_id, {}))
    data = await my_data.collect(
        context.scope.session,
        telegram_id,
        context.user_row,
        drafts,
        state_memory.conversations_of(context.application, telegram_id),
    )
    if context.user_row is None and not set(drafts) - {TOUCHED}:
        await send(update, context, t.gettext("We hold no data about you."))
        return
    payload = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    await send(update, context, _summary(t, data))
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(io.BytesIO(payload), filename=FILE_NAME),
        caption=t.gettext("All the data we hold about you."),
    )


async def export(update: Update, context: PactContext) -> None:
    """The "Download my data" button: everything held, at once."""
    await answer(update)
    await _send_my_data(update, context)


async def my_data_command(update: Update, context: PactContext) -> None:
    """/mydata: everything held, at once."""
    await _send_my_data(update, context)


REVOCATION_KEPT = N_(
    "We keep your Telegram account number and the date your staff role was revoked, so that "
    "it is not given back automatically."
)


def _erase_question(
    t: Translator, member: StaffMember | None, revoked: bool = False
) -> tuple[str, list[list[Button]]]:
    """What erasure deletes and keeps, and the buttons; staff choose about their role.

    The record of a revoked staff role is mentioned only to those who have one (or would have
    one by ending their role here)."""
    text = t.gettext(
        "<b>Delete your data?</b>\n"
        "We delete your settings and consents, your requests for information, the cases you "
        "follow, your poll votes and answers to events, your campaign subscription, the record "
        "of campaign messages sent to you, and unfinished drafts.\n\n"
        "Reports you filed under your name or confidentially stay for the programme's "
        "statistics, without you: your name, the description and everything else you wrote in "
        "them, the place details, the files and the link to you are removed, and staff see "
        "“erased by the reporter”. Category, municipality, dates and status stay.\n"
        "Anonymous reports were never linked to you and stay as they are.\n"
        "The log keeps only that an erasure happened, without content. Messages already "
        "delivered in Telegram chats are not in our database and stay there.\n\n"
        "This cannot be undone."
    )
    if member is None:
        if revoked:
            text += "\n\n" + t.gettext(REVOCATION_KEPT)
        return text, [[(t.gettext("Yes, delete everything"), ERASE_YES), (t.gettext("No"), SHOW)]]
    text += "\n\n" + t.gettext(
        "You are a staff member ({role}). If you keep your staff role, we keep your Telegram "
        "account number, your language and your staff grant so that you can go on working. "
        "“Delete everything, including my staff role” ends it too.",
        role=_role_name(t, member.role),
    )
    text += " " + t.gettext(
        "If you end it, we keep your Telegram account number and the date, as a record that "
        "the role was revoked, so that it is not given back automatically."
    )
    return text, [
        [(t.gettext("Delete, keep my staff role"), ERASE_YES)],
        [(t.gettext("Delete everything, including my staff role"), ERASE_ALL)],
        [(t.gettext("No"), SHOW)],
    ]


async def erase(update: Update, context: PactContext) -> None:
    """Ask before deleting, saying what goes and what stays."""
    await answer(update)
    member = None
    if context.user_row is not None:
        member = await context.scope.session.get(StaffMember, context.user_row.id)
    assert update.effective_user is not None
    revoked = await staff.revoked(context.scope.session, update.effective_user.id)
    text, rows = _erase_question(context.t, member, revoked)
    await edit_or_send(update, context, text, keyboard(*rows))


def _erased_text(t: Translator, erasure: accounts.Erasure | None) -> str:
    """The confirmation: what was deleted, and exactly what was kept and why."""
    if erasure is None:
        return t.gettext("We hold no data about you.")
    lines = [
        t.gettext("Done. We deleted your data; your staff role stays.")
        if erasure.staff_role_kept
        else t.gettext("Done. We deleted all your data.")
    ]
    if erasure.cases_kept:
        lines.append(
            t.ngettext(
                "{count} report you filed stays for statistics (category, municipality, dates, "
                "status) without your name, your words, the place details, files or any link to "
                "you; staff see “erased by the reporter”.",
                "{count} reports you filed stay for statistics (category, municipality, dates, "
                "status) without your name, your words, the place details, files or any link to "
                "you; staff see “erased by the reporter”.",
                erasure.cases_kept,
            )
        )
    if erasure.staff_role_kept:
        lines.append(
            t.gettext(
                "We keep your Telegram account number, your language and your staff grant, so "
                "that you can go on working as staff, and the work you did on cases."
            )
        )
    if erasure.revocation_kept:
        lines.append(t.gettext(REVOCATION_KEPT))
    lines.append(t.gettext("The log keeps only that an erasure happened, without content."))
    return "\n\n".join(lines)


async def _erase(update: Update, context: PactContext, keep_staff_role: bool) -> None:
    """Erase now (database rows and the bot's memory of the person) and confirm."""
    await answer(update)
    assert update.effective_user is not None
    session = context.scope.session
    erasure = await accounts.erase(session, context.actor(update), keep_staff_role=keep_staff_role)
    state_memory.forget_person(context.application, update.effective_user.id)
    context.scope.user = (
        await users_repo.by_telegram_id(session, update.effective_user.id)
        if erasure is not None and erasure.staff_role_kept
        else None
    )
    text = _erased_text(context.t, erasure)

    async def confirm() -> None:
        """Only once the erasure is committed: say what was deleted, then the menu."""
        await edit_or_send(update, context, text)
        await menu.show_menu(update, context)

    after_commit_effect(confirm)


async def erase_confirmed(update: Update, context: PactContext) -> None:
    """Delete now; a staff member keeps the role (the default never removes it silently)."""
    await _erase(update, context, keep_staff_role=True)


async def erase_everything(update: Update, context: PactContext) -> None:
    """Delete now, including the staff role: only from the button that says so."""
    await _erase(update, context, keep_staff_role=False)


def routes() -> list[routing.Route]:
    """/privacy, /mydata and the privacy screens: consents, notice, download, erasure."""
    private = filters.ChatType.PRIVATE
    return routing.citizen(
        CommandHandler("privacy", privacy_command, filters=private),
        CommandHandler("mydata", my_data_command, filters=private),
        CallbackQueryHandler(privacy_button, pattern=f"^({menu.PRIVACY}|{SHOW})$"),
        CallbackQueryHandler(notice, pattern=f"^{NOTICE}$"),
        CallbackQueryHandler(export, pattern=f"^{EXPORT}$"),
        CallbackQueryHandler(erase, pattern=f"^{ERASE}$"),
        CallbackQueryHandler(erase_confirmed, pattern=f"^{ERASE_YES}$"),
        CallbackQueryHandler(erase_everything, pattern=f"^{ERASE_ALL}$"),
        CallbackQueryHandler(ask_age, pattern=f"^{AGE_ASK}$"),
        CallbackQueryHandler(change_age, pattern=AGE.pattern),
        CallbackQueryHandler(change, pattern=GIVE.pattern),
        CallbackQueryHandler(change, pattern=WITHDRAW.pattern),
    )
