"""/start: greeting, language, privacy consent, age band, optional role (see onboarding.mmd).

The step is derived from the stored user row (services.accounts.next_step), so a restart of the
bot mid-way loses nothing and old buttons keep working or say that they are no longer active.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.account import menu
from bot.account.fallback import stale_button
from bot.account.services import accounts
from bot.account.services.accounts import Step
from bot.account.services.consent import has_consent
from bot.account.texts import full_notice, short_notice
from bot.account.views import ACCEPT, AGE_LABELS, FULL, REFUSE, ROLE_LABELS, UNDER_16_NOTE
from bot.core import routing
from bot.core.application import PactContext
from bot.core.i18n import Translator
from bot.kit import after_consent
from bot.kit.codec import ButtonCodec
from bot.kit.ui import answer, close_buttons, edit_or_send, keyboard, send
from db.models import AgeBand, Role

# States: NOTICE -> AGE -> ROLE -> DONE (refusal: NOTICE -> DONE without storing a profile).
NOTICE, AGE, ROLE, DONE = Step.NOTICE, Step.AGE, Step.ROLE, Step.DONE

SWITCH = ButtonCodec("onb:lang:", ("sq", "en"))
SKIP = "skip"
AGE_CHOICE = ButtonCodec("onb:age:", (*AgeBand, SKIP))
ROLE_CHOICE = ButtonCodec("onb:role:", (*Role, SKIP))


def _notice_markup(t: Translator):
    """Consent buttons plus the switch to the other language."""
    other = "en" if t.locale == "sq" else "sq"
    return keyboard(
        [(t.gettext("✅ I agree"), ACCEPT), (t.gettext("No, thanks"), REFUSE)],
        [(t.gettext("📄 Full privacy notice"), FULL)],
        [("🇬🇧 English" if other == "en" else "🇦🇱 Shqip", SWITCH.data(other))],
    )


def _notice_text(context: PactContext) -> str:
    """Greeting and short notice in one message."""
    t = context.t
    greeting = t.gettext(
        "👋 Welcome! This is the bot of PACT – Partnership Against Corruption Together. "
        "It helps you ask for public information, report problems and take part in local "
        "decisions."
    )
    return f"{greeting}\n\n{short_notice(t, context.services.settings)}"


async def start(update: Update, context: PactContext) -> None:
    """/start: continue onboarding where the person is, or greet them back."""
    step = accounts.next_step(context.user_row)
    if step is NOTICE:
        await send(update, context, _notice_text(context), _notice_markup(context.t))
    elif step is AGE:
        await _ask_age(update, context)
    elif step is ROLE:
        await _ask_role(update, context)
    else:
        await send(update, context, context.t.gettext("👋 Welcome back!"))
        await menu.show_menu(update, context)


async def switch_language(update: Update, context: PactContext) -> None:
    """Language button on the notice: redraw it in the other language."""
    await answer(update)
    code = SWITCH.parse(update.callback_query.data if update.callback_query else None)
    if code is None:
        return
    context.remember_language(update, code)
    await accounts.set_language(context.scope.session, context.actor(update), code)
    context.use_locale(code)
    await edit_or_send(update, context, _notice_text(context), _notice_markup(context.t))


async def full(update: Update, context: PactContext) -> None:
    """The complete privacy notice, with the same choice under it."""
    await answer(update)
    t = context.t
    await send(
        update,
        context,
        full_notice(t, context.services.settings),
        keyboard([(t.gettext("✅ I agree"), ACCEPT), (t.gettext("No, thanks"), REFUSE)]),
    )


async def accept(update: Update, context: PactContext) -> None:
    """Consent given: store it, then ask the age band."""
    await answer(update)
    t = context.t
    already = has_consent(context.user_row)
    user = await accounts.accept_notice(context.scope.session, context.actor(update), t.locale)
    context.scope.user = user
    await close_buttons(update, t.gettext("✅ Thank you. Your consent is recorded."))
    if already and user.onboarded_at is not None:
        await _menu_or_go_on(update, context)
    else:
        await _ask_age(update, context)


async def refuse(update: Update, context: PactContext) -> None:
    """Consent refused: remember only that, keep public information open."""
    await answer(update)
    t = context.t
    if has_consent(context.user_row):
        await menu.show_menu(update, context)
        return
    await accounts.refuse_notice(context.scope.session, context.actor(update), t.locale)
    after_consent.forget(context)
    await close_buttons(update)
    await send(
        update,
        context,
        t.gettext(
            "Understood. We store nothing about you except this choice and your language. "
            "You can still read the guides and the help. If you change your mind, use /privacy."
        ),
    )
    await menu.show_menu(update, context)


async def _ask_age(update: Update, context: PactContext) -> None:
    """One question: the age band (or skip)."""
    t = context.t
    rows = [[(t.gettext(label), AGE_CHOICE.data(band)) for band, label in AGE_LABELS.items()]]
    await send(
        update,
        context,
        t.gettext("How old are you? We ask so that we can protect young people's data."),
        keyboard(rows[0][:2], rows[0][2:], [(t.gettext("Skip"), AGE_CHOICE.data(SKIP))]),
    )


async def choose_age(update: Update, context: PactContext) -> None:
    """Age band chosen: under 16 gets anonymous-only use, others the role question."""
    query = await answer(update)
    t = context.t
    raw = AGE_CHOICE.parse(query.data)
    if raw is None:
        return await _stale(update, context)
    band = None if raw == SKIP else AgeBand(raw)
    if not has_consent(context.user_row):
        return await _stale(update, context)
    await accounts.set_age_band(context.scope.session, context.actor(update), band)
    await close_buttons(update, "✔️ " + (t.gettext(AGE_LABELS[band]) if band else t.gettext("Skip")))
    if band is AgeBand.UNDER_16:
        after_consent.forget(context)
        await send(update, context, t.gettext(UNDER_16_NOTE))
        await menu.show_menu(update, context)
        return None
    await _ask_role(update, context)
    return None


async def _ask_role(update: Update, context: PactContext) -> None:
    """One question: the optional role."""
    t = context.t
    await send(
        update,
        context,
        t.gettext(
            "Are you a young activist? Activists hear first about campaigns, polls and "
            "public hearings. You can skip this."
        ),
        keyboard(
            [(t.gettext(label), ROLE_CHOICE.data(role)) for role, label in ROLE_LABELS.items()],
            [(t.gettext("Skip"), ROLE_CHOICE.data(SKIP))],
        ),
    )


async def choose_role(update: Update, context: PactContext) -> None:
    """Role chosen (or skipped): onboarding done, show the menu."""
    query = await answer(update)
    t = context.t
    raw = ROLE_CHOICE.parse(query.data)
    if raw is None or not has_consent(context.user_row):
        return await _stale(update, context)
    role = None if raw == SKIP else Role(raw)
    await accounts.set_role(context.scope.session, context.actor(update), role)
    await close_buttons(
        update, "✔️ " + (t.gettext(ROLE_LABELS[role]) if role else t.gettext("Skip"))
    )
    await send(
        update, context, t.gettext("All set. You can see what we keep about you with /privacy.")
    )
    await _menu_or_go_on(update, context)
    return None


async def _menu_or_go_on(update: Update, context: PactContext) -> None:
    """The menu; or, when consent was asked for in the middle of a flow, the way back into it."""
    button = after_consent.take(context)
    if button is None:
        await menu.show_menu(update, context)
        return
    t = context.t
    await send(
        update,
        context,
        t.gettext("Thank you. You can go on where you were."),
        keyboard([button], [menu.menu_button(t)]),
    )


async def _stale(update: Update, context: PactContext) -> None:
    """A button from an earlier step that no longer applies."""
    await stale_button(update, context)


def routes() -> list[routing.Route]:
    """/start and the onboarding buttons: consent, language switch on the notice, age, role."""
    return routing.citizen(
        CommandHandler("start", start, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(accept, pattern=f"^{ACCEPT}$"),
        CallbackQueryHandler(refuse, pattern=f"^{REFUSE}$"),
        CallbackQueryHandler(full, pattern=f"^{FULL}$"),
        CallbackQueryHandler(switch_language, pattern=SWITCH.pattern),
        CallbackQueryHandler(choose_age, pattern=AGE_CHOICE.pattern),
        CallbackQueryHandler(choose_role, pattern=ROLE_CHOICE.pattern),
    )
