"""Campaigns & events for citizens: opt in, choose topics and a municipality, opt out in one tap."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.account import views as account_views
from bot.account.services import accounts
from bot.account.services.consent import BaseConsentMissingError, MinorConsentError, has_consent
from bot.broadcasting.message import UNSUBSCRIBE
from bot.broadcasting.services import received
from bot.campaigns.services import audience, campaigns
from bot.core import routing
from bot.core.application import PactContext
from bot.core.i18n import N_, Translator
from bot.kit import menu, pickers
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, answer, edit_or_send, keyboard, send
from bot.rti.services import directory
from db.models import Authority, Broadcast, ConsentPurpose, Subscription, Topic, User

OPEN = "menu:campaigns"
OPT_IN, PLACE, STOP = "cmp:optin", "cmp:place", "cmp:stop"
TOPIC = ButtonCodec("cmp:t:", Topic)
REGION, WHOLE_REGION = (ButtonCodec(p, directory.REGION_ORDER) for p in ("cmp:reg:", "cmp:wr:"))
PICK, EVERYWHERE = ButtonCodec("cmp:m:", int), ButtonCodec("cmp:m:", ("all",))
UNSUBSCRIBE_TOPIC = ButtonCodec(UNSUBSCRIBE.prefix, Topic)
"""Older campaign messages carry the topic itself."""
TOPICS = {
    Topic.RTI: N_("Right-to-information tips"),
    Topic.SERVICES: N_("Municipal services monitoring"),
    Topic.ANTICORRUPTION: N_("Anti-corruption"),
    Topic.HEARINGS: N_("Public hearings and events"),
    Topic.POLLS: N_("Polls and surveys"),
    Topic.YOUTH: N_("Youth activism"),
}


async def _screen(update: Update, context: PactContext, note: str = "") -> None:
    """Topics as toggles, the municipality, and the way out."""
    t = context.t
    user = context.user_row
    if user is None or not has_consent(user):
        await edit_or_send(
            update,
            context,
            t.gettext("To receive campaign messages, first agree to the privacy notice."),
            keyboard([(t.gettext("✅ I agree"), account_views.ACCEPT)], [menu.menu_button(t)]),
        )
        return
    if not has_consent(user, ConsentPurpose.CAMPAIGNS):
        await edit_or_send(
            update,
            context,
            t.gettext(
                "<b>Campaigns &amp; events</b>\nChoose topics and your municipality and we send "
                "you short messages about them: at most {cap} a week, never at night. You can stop "
                "with one tap under any message, or with /stop.",
                cap=context.services.settings.campaign_weekly_cap,
            ),
            keyboard(
                [(t.gettext("✅ Yes, send me campaign messages"), OPT_IN)], [menu.menu_button(t)]
            ),
        )
        return
    current = await campaigns.subscription(context.scope.session, user)
    followed = set(current.topics or []) if current else set()
    rows: list[list[Button]] = [
        [(("✅ " if topic.value in followed else "⬜ ") + t.gettext(label), TOPIC.data(topic))]
        for topic, label in TOPICS.items()
    ]
    place = await _place(context, current)
    rows.append([(t.gettext("📍 Municipality: {name}", name=place), PLACE)])
    rows.append([(t.gettext("🔕 Stop all campaign messages"), STOP), menu.menu_button(t)])
    text = t.gettext(
        "<b>Campaigns &amp; events</b>\nTap a topic to follow it or stop following it."
    )
    await edit_or_send(update, context, f"{note}\n\n{text}" if note else text, keyboard(*rows))


async def _place(context: PactContext, current: Subscription | None) -> str:
    """The chosen municipality's or region's name, or "all"."""
    if current is not None and current.municipality_id is None and current.region:
        return context.t.gettext("region of {region}", region=current.region)
    if current is None or current.municipality_id is None:
        return context.t.gettext("all")
    town = await context.scope.session.get(Authority, current.municipality_id)
    return town.name if town else context.t.gettext("all")


async def open_campaigns(update: Update, context: PactContext) -> None:
    """Menu → Campaigns & events."""
    await answer(update)
    await _screen(update, context)


async def opt_in(update: Update, context: PactContext) -> None:
    """Consent (c), then the topics; refused without the notice or under 16 (a replayed button)."""
    await answer(update)
    try:
        user = await accounts.change_consent(
            context.scope.session, context.actor(update), ConsentPurpose.CAMPAIGNS, give=True
        )
    except BaseConsentMissingError:
        await _screen(update, context)
        return
    except MinorConsentError:
        t = context.t
        await send(
            update,
            context,
            t.gettext(
                "Under 16, a parent's or guardian's consent is needed. You can still use the "
                "guides and anonymous reports."
            ),
            menu.menu_markup(t),
        )
        return
    context.scope.user = user
    await _screen(update, context)


async def toggle(update: Update, context: PactContext) -> None:
    """Follow or stop following one topic."""
    query = await answer(update)
    topic = TOPIC.parse(query.data)
    user = context.user_row
    if topic is None or user is None:
        await stale_button(update, context)
        return
    try:
        await campaigns.toggle_topic(
            context.scope.session, user, topic, context.services.clock.now()
        )
    except campaigns.NoCampaignConsentError:
        await _screen(update, context)
        return
    await _screen(update, context)


async def choose_place(update: Update, context: PactContext) -> None:
    """Regions, then municipalities (or all)."""
    await answer(update)
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext("Which municipality's news do you want?"),
        keyboard(*pickers.region_rows(REGION.prefix), [(t.gettext("All"), EVERYWHERE.data("all"))]),
    )


async def region(update: Update, context: PactContext) -> None:
    """The whole region, or one of its programme municipalities."""
    query = await answer(update)
    name = REGION.parse(query.data)
    if name is None:
        await stale_button(update, context)
        return
    found = await pickers.in_region(context, name)
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext("Choose the municipality:"),
        keyboard(
            [(t.gettext("The whole region of {region}", region=name), WHOLE_REGION.data(name))],
            *pickers.choice_rows(t, found, PICK.prefix),
        ),
    )


async def pick(update: Update, context: PactContext) -> None:
    """A municipality, a whole region, or all chosen."""
    query = await answer(update)
    municipality_id, region_name = PICK.parse(query.data), WHOLE_REGION.parse(query.data)
    everywhere = EVERYWHERE.parse(query.data) is not None
    user = context.user_row
    if user is None or (municipality_id is None and region_name is None and not everywhere):
        await stale_button(update, context)
        return
    try:
        await campaigns.set_place(
            context.scope.session,
            user,
            context.services.clock.now(),
            municipality_id=municipality_id,
            region=region_name,
        )
    except campaigns.NoCampaignConsentError:
        pass
    await _screen(update, context)


async def unsubscribe(update: Update, context: PactContext) -> None:
    """The button under every campaign message: one tap, and it says what it did."""
    query = await answer(update)
    user = context.user_row
    topics = await _message_topics(context, user, query.data) if user is not None else []
    if not topics or user is None:
        await stale_button(update, context)
        return
    t = context.t
    now = context.services.clock.now()
    for topic in topics:
        await campaigns.unsubscribe_topic(context.scope.session, user, topic, now)
    names = ", ".join(f"“{t.gettext(TOPICS[topic])}”" for topic in topics)
    await send(
        update,
        context,
        t.gettext(
            "Done: you will no longer receive messages about {topics}. /stop stops all campaign "
            "messages.",
            topics=names,
        ),
    )


async def _message_topics(context: PactContext, user: User, data: str | None) -> list[Topic]:
    """The topics of a campaign message sent to this person (older buttons carry the topic)."""
    topic = UNSUBSCRIBE_TOPIC.parse(data)
    if topic is not None:
        return [topic]
    number = UNSUBSCRIBE.parse(data)
    session = context.scope.session
    if number is None or not await received.was_sent_broadcast(session, user.id, number):
        return []
    broadcast = await session.get(Broadcast, number)
    if broadcast is None:
        return []
    found = audience.Audience.of(broadcast).topics
    return [Topic(topic) for topic in found if topic in set(Topic)]


async def stop_command(update: Update, context: PactContext) -> None:
    """/stop and the Stop button: no more campaign messages of any kind."""
    if update.callback_query:
        await answer(update)
    assert update.effective_user is not None
    changed = await campaigns.stop_all(
        context.scope.session, update.effective_user.id, context.services.clock.now()
    )
    t = context.t
    await send(
        update,
        context,
        t.gettext("Done: you will receive no more campaign messages.")
        if changed
        else t.gettext("You were not receiving campaign messages."),
        menu.menu_markup(t),
    )


def topic_label(t: Translator, topic: str) -> str:
    """A topic's name in a language."""
    return t.gettext(TOPICS[Topic(topic)]) if topic in set(Topic) else topic


async def require_campaign_consent(update: Update, context: PactContext) -> bool:
    """Votes and RSVPs need consent (c); without it, say how to give it and answer the button."""
    user = context.user_row
    if has_consent(user, ConsentPurpose.CAMPAIGNS):
        return True
    t = context.t
    await answer(update)
    if not has_consent(user):
        await send(
            update,
            context,
            t.gettext("To take part, first agree to the privacy notice."),
            keyboard([(t.gettext("✅ I agree"), account_views.ACCEPT)]),
        )
        return False
    await send(
        update,
        context,
        t.gettext(
            "Polls and event answers are part of Campaigns &amp; events. Turn them on, then tap "
            "your answer again."
        ),
        keyboard([(t.gettext("✅ Yes, send me campaign messages"), OPT_IN)]),
    )
    return False


def routes() -> list[routing.Route]:
    """Opt in, topics, municipality or region, one-tap opt-out, /stop."""
    return routing.citizen(
        CommandHandler("stop", stop_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(open_campaigns, pattern=f"^{OPEN}$"),
        CallbackQueryHandler(opt_in, pattern=f"^{OPT_IN}$"),
        CallbackQueryHandler(toggle, pattern=TOPIC.pattern),
        CallbackQueryHandler(choose_place, pattern=f"^{PLACE}$"),
        CallbackQueryHandler(region, pattern=REGION.pattern),
        CallbackQueryHandler(pick, pattern=PICK.pattern),
        CallbackQueryHandler(pick, pattern=EVERYWHERE.pattern),
        CallbackQueryHandler(pick, pattern=WHOLE_REGION.pattern),
        CallbackQueryHandler(unsubscribe, pattern=UNSUBSCRIBE.pattern),
        CallbackQueryHandler(unsubscribe, pattern=UNSUBSCRIBE_TOPIC.pattern),
        CallbackQueryHandler(stop_command, pattern=f"^{STOP}$"),
    )
