"""/broadcast (admins): compose a campaign message, see who it reaches, send now or schedule.

Albanian text → (English text or skip) → topic → municipality → confirm (audience count) →
now or at a typed Tirana time. Each text is first sent back to the composer as a test, which
is also how Telegram validates its HTML (see broadcast_composer.mmd).
"""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import current_member
from bot.application import PactContext
from bot.handlers import cancel as cancel_handlers
from bot.handlers import pickers
from bot.handlers.campaigns import TOPICS
from bot.services import audience, campaigns
from bot.services.staff import member as staff_member
from bot.ui import answer, close_buttons, keyboard, send
from db.models import Topic

# States
TEXT_SQ, TEXT_EN, TOPIC, PLACE, CONFIRM, WHEN = range(6)

P = "adm:bc:"
SKIP, ALL, NOW, LATER = "adm:bc:skip", "adm:bc:all", "adm:bc:now", "adm:bc:later"
TOPIC_CB, REGION, PICK = "adm:bc:t:", "adm:bc:r:", "adm:bc:m:"
KEY = "broadcast_draft"
MAX_TEXT = 4000


async def start(update: Update, context: PactContext) -> int:
    """/broadcast."""
    context.user_data[KEY] = {}
    await send(
        update,
        context,
        context.t.gettext(
            "Send the Albanian text of the message. Formatting: <b>bold</b>, <i>italic</i>, "
            "links. I will send it back to you as a test first."
        ),
    )
    return TEXT_SQ


async def _test_send(update: Update, context: PactContext, text: str) -> bool:
    """Send the text back as it will look; Telegram refuses broken formatting here."""
    assert update.effective_chat is not None
    try:
        await context.bot.send_message(update.effective_chat.id, text)
    except BadRequest as error:
        await send(
            update,
            context,
            context.t.gettext(
                "Telegram refused this text: {error}. Please send it again.", error=str(error)[:200]
            ),
        )
        return False
    return True


async def text_sq(update: Update, context: PactContext) -> int:
    """The Albanian text (required)."""
    text = update.effective_message.text_html if update.effective_message else ""
    if not text or len(text) > MAX_TEXT or not await _test_send(update, context, text):
        return TEXT_SQ
    context.user_data[KEY]["sq"] = text
    t = context.t
    await send(
        update,
        context,
        t.gettext("Now the English text, or skip."),
        keyboard([(t.gettext("Skip"), SKIP)]),
    )
    return TEXT_EN


async def text_en(update: Update, context: PactContext) -> int:
    """The English text (optional)."""
    text = update.effective_message.text_html if update.effective_message else ""
    if not text or len(text) > MAX_TEXT or not await _test_send(update, context, text):
        return TEXT_EN
    context.user_data[KEY]["en"] = text
    return await _ask_topic(update, context)


async def skip_en(update: Update, context: PactContext) -> int:
    """No English text: English users get the Albanian one."""
    await answer(update)
    await close_buttons(update)
    return await _ask_topic(update, context)


async def _ask_topic(update: Update, context: PactContext) -> int:
    """Which topic's subscribers."""
    t = context.t
    rows = [[(t.gettext(label), f"{TOPIC_CB}{topic}")] for topic, label in TOPICS.items()]
    await send(update, context, t.gettext("Which topic is it about?"), keyboard(*rows))
    return TOPIC


async def topic(update: Update, context: PactContext) -> int:
    """Topic chosen: where?"""
    query = await answer(update)
    raw = (query.data or "").removeprefix(TOPIC_CB)
    if raw not in set(Topic):
        return TOPIC
    await close_buttons(update)
    context.user_data[KEY]["topic"] = raw
    t = context.t
    await send(
        update,
        context,
        t.gettext("For which municipality's subscribers?"),
        keyboard([(t.gettext("All municipalities"), ALL)], *pickers.region_rows(REGION)),
    )
    return PLACE


async def region(update: Update, context: PactContext) -> int:
    """A region's programme municipalities."""
    query = await answer(update)
    found = await pickers.in_region(context, (query.data or "").removeprefix(REGION))
    await send(
        update,
        context,
        context.t.gettext("Choose the municipality:"),
        keyboard(*pickers.choice_rows(context.t, found, PICK)),
    )
    return PLACE


async def place(update: Update, context: PactContext) -> int:
    """Municipality (or all) chosen: show the audience and the choices."""
    query = await answer(update)
    await close_buttons(update)
    raw = (query.data or "").removeprefix(PICK)
    draft = context.user_data[KEY]
    draft["municipalities"] = [int(raw)] if raw.isdigit() else None
    reach = await audience.count(
        context.scope.session,
        audience.Audience(
            topics=(draft["topic"],), municipality_ids=tuple(draft["municipalities"] or ())
        ),
    )
    t = context.t
    await send(
        update,
        context,
        t.ngettext(
            "It reaches {count} person now (weekly limits and quiet hours apply).",
            "It reaches {count} people now (weekly limits and quiet hours apply).",
            reach,
        ),
        keyboard([(t.gettext("📣 Send now"), NOW), (t.gettext("🕒 Schedule"), LATER)]),
    )
    return CONFIRM


async def now(update: Update, context: PactContext) -> int:
    """Send as soon as the next delivery run comes."""
    await answer(update)
    await close_buttons(update)
    return await _create(update, context, context.services.clock.now())


async def later(update: Update, context: PactContext) -> int:
    """Ask for the moment."""
    await answer(update)
    await close_buttons(update)
    await send(
        update,
        context,
        context.t.gettext(
            "Type the date and time in Tirana, for example {example}.", example="2026-12-01 10:00"
        ),
    )
    return WHEN


async def when(update: Update, context: PactContext) -> int:
    """A typed moment in the future."""
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    tz = context.services.settings.tz
    try:
        moment = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
    except ValueError:
        moment = None
    if moment is None or moment <= context.services.clock.now():
        await send(
            update,
            context,
            context.t.gettext(
                "Type a future date and time like {example}.", example="2026-12-01 10:00"
            ),
        )
        return WHEN
    return await _create(update, context, moment)


async def _create(update: Update, context: PactContext, send_at: datetime) -> int:
    """Store the broadcast; the delivery job does the rest."""
    draft = context.user_data.pop(KEY, {})
    member = current_member(context) or (
        await staff_member(context.scope.session, update.effective_user.id)
        if update.effective_user
        else None
    )
    await campaigns.create_broadcast(
        context.scope.session,
        title=draft["sq"][:60],
        text_sq=draft["sq"],
        text_en=draft.get("en"),
        topic=Topic(draft["topic"]),
        municipality_ids=draft.get("municipalities"),
        send_at=send_at,
        by_user_id=member.user_id if member else None,
        now=context.services.clock.now(),
    )
    t = context.t
    await send(update, context, t.gettext("Scheduled for {time}.", time=t.datetime(send_at)))
    return ConversationHandler.END


def conversation() -> ConversationHandler:
    """The composer, persistent like the other flows."""
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        name="broadcast_composer",
        persistent=True,
        allow_reentry=True,
        entry_points=[CommandHandler("broadcast", start, filters=filters.ChatType.PRIVATE)],
        states={
            TEXT_SQ: [MessageHandler(text, text_sq)],
            TEXT_EN: [
                MessageHandler(text, text_en),
                CallbackQueryHandler(skip_en, pattern=f"^{SKIP}$"),
            ],
            TOPIC: [CallbackQueryHandler(topic, pattern=f"^{TOPIC_CB}")],
            PLACE: [
                CallbackQueryHandler(region, pattern=f"^{REGION}"),
                CallbackQueryHandler(place, pattern=f"^({PICK}|{ALL}$)"),
            ],
            CONFIRM: [
                CallbackQueryHandler(now, pattern=f"^{NOW}$"),
                CallbackQueryHandler(later, pattern=f"^{LATER}$"),
            ],
            WHEN: [MessageHandler(text, when)],
        },
        fallbacks=[CommandHandler("cancel", cancel_handlers.cancel)],
    )
