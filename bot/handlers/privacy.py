"""/privacy: the notice, each consent with give/withdraw, download of one's data, erasure."""

from __future__ import annotations

import io
import json

from telegram import InputFile, Update

from bot.application import PactContext
from bot.handlers import menu
from bot.handlers.fallback import stale_button
from bot.handlers.onboarding import ACCEPT
from bot.handlers.texts import full_notice
from bot.i18n import N_, Translator
from bot.services import accounts, campaigns, events, polls, rti
from bot.services import cases as case_rules
from bot.services.privacy import BaseConsentMissingError, MinorConsentError, active_consent
from bot.ui import Button, answer, edit_or_send, keyboard, send
from db.models import ConsentPurpose, User

PREFIX = "prv:"
GIVE, WITHDRAW = "prv:give:", "prv:withdraw:"
NOTICE, EXPORT, ERASE, ERASE_YES, SHOW = (
    "prv:notice",
    "prv:export",
    "prv:erase",
    "prv:erase:yes",
    "prv:show",
)

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
                        WITHDRAW + purpose,
                    )
                ]
            )
        else:
            lines.append(t.gettext("⬜ {purpose}: not given", purpose=t.gettext(label)))
            rows.append(
                [(t.gettext("Give: {what}", what=t.gettext(SHORT[purpose])), GIVE + purpose)]
            )
    rows.append([(t.gettext("📄 Full privacy notice"), NOTICE)])
    rows.append([(t.gettext("⬇️ Download my data"), EXPORT), (t.gettext("🗑 Delete my data"), ERASE)])
    return "\n".join(lines), rows


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
    data = query.data or ""
    give = data.startswith(GIVE)
    raw = data.removeprefix(GIVE if give else WITHDRAW)
    if raw not in set(ConsentPurpose) or context.user_row is None:
        await stale_button(update, context)
        return
    purpose = ConsentPurpose(raw)
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


async def export(update: Update, context: PactContext) -> None:
    """Send everything held about the person as a JSON file, at once."""
    await answer(update)
    t = context.t
    user = context.user_row
    if user is None:
        await send(update, context, t.gettext("We hold no data about you."))
        return
    session = context.scope.session
    requests = await rti.for_user(session, user)
    held = [
        (case, await case_rules.is_reporter(session, case, user))
        for case in await case_rules.for_user(session, user)
    ]
    payload = json.dumps(
        accounts.export(
            user,
            requests,
            held,
            await campaigns.subscription(session, user),
            poll_votes=await polls.votes_of(session, user),
            event_rsvps=await events.rsvps_of(session, user),
        ),
        ensure_ascii=False,
        indent=2,
    ).encode("utf-8")
    assert update.effective_chat is not None
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(io.BytesIO(payload), filename="pact-my-data.json"),
        caption=t.gettext("All the data we hold about you."),
    )


async def erase(update: Update, context: PactContext) -> None:
    """Ask before deleting."""
    await answer(update)
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext(
            "Delete all your data? Your settings and consents will be erased. "
            "This cannot be undone."
        ),
        keyboard([(t.gettext("Yes, delete everything"), ERASE_YES), (t.gettext("No"), SHOW)]),
    )


async def erase_confirmed(update: Update, context: PactContext) -> None:
    """Delete now and confirm."""
    await answer(update)
    erased = await accounts.erase(context.scope.session, context.actor(update))
    assert update.effective_user is not None
    context.application.drop_user_data(update.effective_user.id)
    context.application.unsaved_languages.pop(update.effective_user.id, None)  # type: ignore[attr-defined]
    context.scope.user = None
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext("Done. We deleted all your data.")
        if erased
        else t.gettext("We hold no data about you."),
    )
    await menu.show_menu(update, context)
