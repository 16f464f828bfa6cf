"""/broadcast (staff with the broadcast permission): compose, target, schedule a campaign message.

Albanian text or photo/document with caption → English (or skip) → buttons (link, event, poll)
→ topics → municipality or region → role, language, age band (the audience count updates) →
now, at a moment, weekly or monthly → confirm. Each text is first sent back to the composer as
a test, which is also how Telegram validates its HTML (see broadcast_composer.mmd).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup
from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.broadcasting import sender as delivery
from bot.broadcasting.message import DOCUMENT, PHOTO
from bot.campaigns.services import audience, campaigns
from bot.campaigns.services import composer_rules as broadcast_drafts
from bot.campaigns.services.recurrence import Recurrence
from bot.campaigns.subscribe import TOPICS
from bot.core import routing
from bot.core.access import current_member
from bot.core.application import PactContext
from bot.core.i18n import N_, Translator, escaped_within, shorten
from bot.kit import flow, moments, pickers
from bot.kit.ui import Button, answer, close_buttons, edit_or_send, keyboard, send
from bot.staff.services.permissions import Permission
from db.models import AgeBand, Authority, Role, Topic

# States
TEXT_SQ, TEXT_EN, BUTTONS, LINK, TOPIC, PLACE, REFINE, WHEN, MOMENT, CONFIRM = range(10)

P = "adm:bc:"
SKIP = f"{P}skip"
ADD_LINK, ADD_EVENT, ADD_POLL, BUTTONS_DONE, BUTTONS_CLEAR = (
    f"{P}b:link",
    f"{P}b:event",
    f"{P}b:poll",
    f"{P}b:done",
    f"{P}b:clear",
)
EVENT, POLL = f"{P}ev:", f"{P}pl:"
TOPIC_CB, TOPICS_DONE = f"{P}t:", f"{P}tok"
ALL, REGION, WHOLE_REGION, PICK = f"{P}all", f"{P}r:", f"{P}wr:", f"{P}m:"
FILTER, REFINE_DONE = f"{P}f:", f"{P}fok"
NOW, AT, WEEKLY, MONTHLY = f"{P}w:now", f"{P}w:at", f"{P}w:weekly", f"{P}w:monthly"
GO, DROP, BACK = f"{P}go", f"{P}no", f"{P}b:back"
KEY = "broadcast_draft"
EXAMPLE = "2026-12-01 10:00"

CHOICES: dict[str, list[tuple[str | None, str]]] = {
    "roles": [
        (None, N_("everyone")),
        (Role.CITIZEN, N_("citizens")),
        (Role.ACTIVIST, N_("activists")),
    ],
    "languages": [(None, N_("everyone")), ("sq", N_("Albanian")), ("en", N_("English"))],
    "age_bands": [
        (None, N_("everyone")),
        (AgeBand.AGE_16_17, "16–17"),
        (AgeBand.AGE_18_29, "18–29"),
        (AgeBand.AGE_30_PLUS, "30+"),
    ],
}
FILTER_NAMES = {"roles": N_("Role"), "languages": N_("Language"), "age_bands": N_("Age")}


def _draft(context: PactContext) -> dict[str, Any]:
    """The draft being composed (kept across restarts by the persistence)."""
    return context.user_data.setdefault(KEY, {})


async def start(update: Update, context: PactContext) -> int:
    """/broadcast: a fresh draft."""
    context.user_data[KEY] = {"buttons": [], "topics": [], "filters": {}}
    await send(
        update,
        context,
        context.t.gettext(
            "Send the Albanian text of the message, or a photo or document with the Albanian "
            "text as its caption. Formatting: <b>bold</b>, <i>italic</i>, links. I will send "
            "it back to you as a test first."
        ),
    )
    return TEXT_SQ


def _media(message: Message) -> tuple[str, str] | None:
    """The photo or document a message carries, as (kind, file_id)."""
    if message.photo:
        return PHOTO, message.photo[-1].file_id
    if message.document:
        return DOCUMENT, message.document.file_id
    return None


async def _test_send(
    update: Update, context: PactContext, text: str, media: tuple[str, str] | None
) -> bool:
    """Send the message back as it will look; Telegram refuses broken formatting here."""
    assert update.effective_chat is not None
    chat = update.effective_chat.id
    try:
        if media is None:
            await context.bot.send_message(chat, text)
        elif media[0] == PHOTO:
            await context.bot.send_photo(chat, media[1], caption=text)
        else:
            await context.bot.send_document(chat, media[1], caption=text)
    except BadRequest as error:
        await send(
            update,
            context,
            context.t.gettext(
                "Telegram refused this text: {error}. Please send it again.",
                error=shorten(str(error), 200),
            ),
        )
        return False
    return True


async def _take_text(update: Update, context: PactContext, allow_media: bool) -> str | None:
    """The formatted text of a step, tested; None (with the reason said) if unusable."""
    message = update.effective_message
    assert message is not None
    t = context.t
    draft = _draft(context)
    media = _media(message) if allow_media else None
    if media is None and (message.photo or message.document):
        await send(update, context, t.gettext("Please send text only here: the caption."))
        return None
    if media is not None:
        draft["media"] = list(media)
    kept = tuple(draft["media"]) if draft.get("media") else None
    text = (message.caption_html if media else message.text_html) or ""
    if not text.strip():
        await send(
            update,
            context,
            t.gettext("Please send the text of the message (or a photo with a caption)."),
        )
        return None
    limit = broadcast_drafts.text_limit(kept is not None)
    if len(text) > limit:
        await send(
            update,
            context,
            t.gettext(
                "That is {length} characters; Telegram allows {limit} here. Please shorten it.",
                length=len(text),
                limit=limit,
            ),
        )
        return None
    if not await _test_send(update, context, text, kept):  # type: ignore[arg-type]
        return None
    return text


async def text_sq(update: Update, context: PactContext) -> int:
    """The Albanian text, or media with an Albanian caption (required)."""
    text = await _take_text(update, context, allow_media=True)
    if text is None:
        return TEXT_SQ
    _draft(context)["sq"] = text
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
    text = await _take_text(update, context, allow_media=False)
    if text is None:
        return TEXT_EN
    _draft(context)["en"] = text
    return await _buttons_screen(update, context)


async def skip_en(update: Update, context: PactContext) -> int:
    """No English text: English users get the Albanian one."""
    await answer(update)
    await close_buttons(update)
    return await _buttons_screen(update, context)


def _button_line(t: Translator, button: dict[str, Any]) -> str:
    """One attached button, described for the composer."""
    if button["kind"] == "link":
        return t.gettext("🔗 {label} → {url}", label=button["label_sq"], url=button["url"])
    if button["kind"] == "event":
        return t.gettext("🗓 Event: {title}", title=button.get("title", ""))
    return t.gettext("📊 Poll: {question}", question=button.get("title", ""))


async def _buttons_screen(update: Update, context: PactContext) -> int:
    """Which buttons go under the message (up to three)."""
    t = context.t
    buttons = _draft(context)["buttons"]
    lines = [t.gettext("Add a button under the message?")]
    lines += [_button_line(t, b) for b in buttons]
    rows: list[list[Button]] = []
    if len(buttons) < broadcast_drafts.MAX_BUTTONS:
        rows.append([(t.gettext("🔗 Link"), ADD_LINK), (t.gettext("🗓 Join event"), ADD_EVENT)])
        rows.append([(t.gettext("📊 Poll"), ADD_POLL)])
    if buttons:
        rows.append([(t.gettext("🗑 Remove the buttons"), BUTTONS_CLEAR)])
    rows.append([(t.gettext("Continue ➡️") if buttons else t.gettext("No buttons ➡️"), BUTTONS_DONE)])
    await edit_or_send(update, context, Markup("\n").join(lines), keyboard(*rows))
    return BUTTONS


async def buttons_clear(update: Update, context: PactContext) -> int:
    """Start the buttons over."""
    await answer(update)
    _draft(context)["buttons"] = []
    return await _buttons_screen(update, context)


async def ask_link(update: Update, context: PactContext) -> int:
    """A link button: its label and address, typed on one line."""
    await answer(update)
    await close_buttons(update)
    await send(
        update,
        context,
        context.t.gettext(
            "Send the button's label and the web address on one line, for example: {example}",
            example="Lexo më shumë https://example.org",
        ),
    )
    return LINK


async def link(update: Update, context: PactContext) -> int:
    """A typed link button."""
    typed = update.effective_message.text if update.effective_message else ""
    found = broadcast_drafts.parse_link(typed or "")
    if found is None:
        await send(
            update,
            context,
            context.t.gettext(
                "I need a label of up to {limit} characters, a space, then an address "
                "starting with https://. Please try again.",
                limit=broadcast_drafts.LABEL_LIMIT,
            ),
        )
        return LINK
    _draft(context)["buttons"].append({"kind": "link", "label_sq": found.label, "url": found.url})
    return await _buttons_screen(update, context)


async def ask_event(update: Update, context: PactContext) -> int:
    """Attach an upcoming event: people answer "I will attend" or "Not this time"."""
    await answer(update)
    t = context.t
    found = await broadcast_drafts.attachable_events(
        context.scope.session, context.services.clock.now()
    )
    if not found:
        await edit_or_send(
            update,
            context,
            t.gettext("There is no upcoming event. Create one with /event first."),
            keyboard([(t.gettext("⬅️ Back"), BACK)]),
        )
        return BUTTONS
    rows = [[(f"{e.title[:40]} · {t.date(e.starts_at)}", f"{EVENT}{e.id}")] for e in found]
    rows.append([(t.gettext("⬅️ Back"), BACK)])
    await edit_or_send(update, context, t.gettext("Which event?"), keyboard(*rows))
    return BUTTONS


async def ask_poll(update: Update, context: PactContext) -> int:
    """Attach an open poll: its options become the buttons."""
    await answer(update)
    t = context.t
    found = await broadcast_drafts.attachable_polls(context.scope.session)
    if not found:
        await edit_or_send(
            update,
            context,
            t.gettext("There is no open poll. Create one with /poll first."),
            keyboard([(t.gettext("⬅️ Back"), BACK)]),
        )
        return BUTTONS
    rows = [[(p.question_sq[:50], f"{POLL}{p.id}")] for p in found]
    rows.append([(t.gettext("⬅️ Back"), BACK)])
    await edit_or_send(update, context, t.gettext("Which poll?"), keyboard(*rows))
    return BUTTONS


async def attach(update: Update, context: PactContext) -> int:
    """An event or poll chosen from the list."""
    query = await answer(update)
    data = query.data or ""
    session = context.scope.session
    buttons = _draft(context)["buttons"]
    if data.startswith(EVENT) and data.removeprefix(EVENT).isdigit():
        found = await broadcast_drafts.attachable_events(session, context.services.clock.now())
        event = next((e for e in found if e.id == int(data.removeprefix(EVENT))), None)
        if event is not None and len(buttons) < broadcast_drafts.MAX_BUTTONS:
            buttons.append({"kind": "event", "event_id": event.id, "title": event.title[:60]})
    elif data.startswith(POLL) and data.removeprefix(POLL).isdigit():
        polls = await broadcast_drafts.attachable_polls(session)
        poll = next((p for p in polls if p.id == int(data.removeprefix(POLL))), None)
        if poll is not None and len(buttons) < broadcast_drafts.MAX_BUTTONS:
            buttons.append({"kind": "poll", "poll_id": poll.id, "title": poll.question_sq[:60]})
    return await _buttons_screen(update, context)


async def back_to_buttons(update: Update, context: PactContext) -> int:
    """Back from the event or poll list."""
    await answer(update)
    return await _buttons_screen(update, context)


async def buttons_done(update: Update, context: PactContext) -> int:
    """Buttons settled: which topics' subscribers?"""
    await answer(update)
    await close_buttons(update)
    return await _topics_screen(update, context, fresh=True)


async def _topics_screen(update: Update, context: PactContext, fresh: bool = False) -> int:
    """Topics as toggles; people following any of them are reached."""
    t = context.t
    chosen = set(_draft(context)["topics"])
    rows: list[list[Button]] = [
        [(("✅ " if topic.value in chosen else "⬜ ") + t.gettext(label), f"{TOPIC_CB}{topic}")]
        for topic, label in TOPICS.items()
    ]
    if chosen:
        rows.append([(t.gettext("Continue ➡️"), TOPICS_DONE)])
    text = t.gettext("Which topics is it about? People following any of them receive it.")
    if fresh:
        await send(update, context, text, keyboard(*rows))
    else:
        await edit_or_send(update, context, text, keyboard(*rows))
    return TOPIC


async def topic(update: Update, context: PactContext) -> int:
    """Toggle one topic."""
    query = await answer(update)
    raw = (query.data or "").removeprefix(TOPIC_CB)
    if raw in set(Topic):
        chosen = set(_draft(context)["topics"]) ^ {raw}
        _draft(context)["topics"] = sorted(chosen)
    return await _topics_screen(update, context)


async def topics_done(update: Update, context: PactContext) -> int:
    """Topics chosen: where?"""
    await answer(update)
    if not _draft(context)["topics"]:
        return await _topics_screen(update, context)
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext("For which municipality's subscribers?"),
        keyboard([(t.gettext("All municipalities"), ALL)], *pickers.region_rows(REGION)),
    )
    return PLACE


async def region(update: Update, context: PactContext) -> int:
    """A region: all of it, or one of its programme municipalities."""
    query = await answer(update)
    name = (query.data or "").removeprefix(REGION)
    found = await pickers.in_region(context, name)
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext("Choose the municipality:"),
        keyboard(
            [(t.gettext("The whole region of {region}", region=name), f"{WHOLE_REGION}{name}")],
            *pickers.choice_rows(t, found, PICK),
        ),
    )
    return PLACE


async def place(update: Update, context: PactContext) -> int:
    """All, a whole region, or one municipality."""
    query = await answer(update)
    data = query.data or ""
    draft = _draft(context)
    if data.startswith(WHOLE_REGION):
        name = data.removeprefix(WHOLE_REGION)
        towns = await pickers.in_region(context, name)
        draft["municipalities"] = [town.id for town in towns]
        draft["place"] = name
    elif data.startswith(PICK) and data.removeprefix(PICK).isdigit():
        town = await context.scope.session.get(Authority, int(data.removeprefix(PICK)))
        draft["municipalities"] = [town.id] if town else None
        draft["place"] = town.name if town else None
    else:
        draft["municipalities"], draft["place"] = None, None
    return await _refine_screen(update, context)


def _audience(draft: dict[str, Any], default_language: str) -> audience.Audience:
    """The draft's audience."""
    chosen = draft.get("filters", {})
    return audience.Audience(
        topics=tuple(draft["topics"]),
        municipality_ids=tuple(draft.get("municipalities") or ()),
        roles=tuple(chosen.get("roles") or ()),
        languages=tuple(chosen.get("languages") or ()),
        age_bands=tuple(chosen.get("age_bands") or ()),
        default_language=default_language,
    )


def _choice_label(t: Translator, name: str, value: list[str] | None) -> str:
    """The current choice of one filter, as a word."""
    current = value[0] if value else None
    label = next(label for key, label in CHOICES[name] if key == current)
    return t.gettext(label) if label[0].isalpha() else label


async def _reach(context: PactContext) -> int:
    """How many people the draft reaches right now."""
    draft = _draft(context)
    return await audience.count(
        context.scope.session, _audience(draft, context.services.settings.default_locale)
    )


async def _refine_screen(update: Update, context: PactContext) -> int:
    """Narrow by role, language and age band; tapping a button moves to its next choice."""
    t = context.t
    chosen = _draft(context).get("filters", {})
    reach = await _reach(context)
    rows = [
        [
            (
                t.gettext(
                    "{filter}: {choice}",
                    filter=t.gettext(FILTER_NAMES[name]),
                    choice=_choice_label(t, name, chosen.get(name)),
                ),
                f"{FILTER}{name}",
            )
        ]
        for name in CHOICES
    ]
    rows.append([(t.gettext("Continue ➡️"), REFINE_DONE)])
    text = t.ngettext(
        "It reaches {count} person now (weekly limits and quiet hours apply). "
        "Narrow it down, or continue.",
        "It reaches {count} people now (weekly limits and quiet hours apply). "
        "Narrow it down, or continue.",
        reach,
    )
    await edit_or_send(update, context, text, keyboard(*rows))
    return REFINE


async def refine(update: Update, context: PactContext) -> int:
    """Move one filter to its next choice."""
    query = await answer(update)
    name = (query.data or "").removeprefix(FILTER)
    if name in CHOICES:
        filters_ = _draft(context).setdefault("filters", {})
        keys = [key for key, _ in CHOICES[name]]
        current = (filters_.get(name) or [None])[0]
        following = keys[(keys.index(current) + 1) % len(keys)] if current in keys else None
        filters_[name] = [following] if following else []
    return await _refine_screen(update, context)


async def refine_done(update: Update, context: PactContext) -> int:
    """When should it go?"""
    await answer(update)
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext("When should it be sent?"),
        keyboard(
            [(t.gettext("📣 Send now"), NOW), (t.gettext("🕒 At a date and time"), AT)],
            [(t.gettext("🔁 Every week"), WEEKLY), (t.gettext("🔁 Every month"), MONTHLY)],
        ),
    )
    return WHEN


async def when_now(update: Update, context: PactContext) -> int:
    """Send as soon as the next delivery run comes."""
    await answer(update)
    draft = _draft(context)
    draft["send_at"] = context.services.clock.now().isoformat()
    draft["recurrence"] = None
    return await _confirm_screen(update, context)


async def ask_moment(update: Update, context: PactContext) -> int:
    """Ask for the moment (for a repeat: the first one, which sets the weekday or day)."""
    query = await answer(update)
    data = query.data or ""
    draft = _draft(context)
    draft["recurrence"] = {WEEKLY: Recurrence.WEEKLY.value, MONTHLY: Recurrence.MONTHLY.value}.get(
        data
    )
    t = context.t
    if draft["recurrence"] == Recurrence.WEEKLY:
        text = t.gettext(
            "Type the first date and time in Tirana, for example {example}. "
            "It repeats every week on that weekday at that time.",
            example=EXAMPLE,
        )
    elif draft["recurrence"] == Recurrence.MONTHLY:
        text = t.gettext(
            "Type the first date and time in Tirana, for example {example}. "
            "It repeats every month on that day at that time.",
            example=EXAMPLE,
        )
    else:
        text = t.gettext(
            "Type the date and time in Tirana, for example {example}.", example=EXAMPLE
        )
    await close_buttons(update)
    await send(update, context, text)
    return MOMENT


async def moment(update: Update, context: PactContext) -> int:
    """A typed moment in the future."""
    typed = update.effective_message.text if update.effective_message else ""
    found = moments.parse_local(typed or "", context.services.settings.tz)
    if found is None or found <= context.services.clock.now():
        await send(
            update,
            context,
            context.t.gettext("Type a future date and time like {example}.", example=EXAMPLE),
        )
        return MOMENT
    _draft(context)["send_at"] = found.isoformat()
    return await _confirm_screen(update, context)


def _when_text(t: Translator, draft: dict[str, Any]) -> str:
    """The schedule, in words."""
    moment_ = datetime.fromisoformat(draft["send_at"])
    if draft.get("recurrence") == Recurrence.WEEKLY:
        return t.gettext("every week, first on {time}", time=t.datetime(moment_))
    if draft.get("recurrence") == Recurrence.MONTHLY:
        return t.gettext("every month, first on {time}", time=t.datetime(moment_))
    return t.datetime(moment_)


async def _confirm_screen(update: Update, context: PactContext) -> int:
    """The summary, and the last chance to stop."""
    t = context.t
    draft = _draft(context)
    reach = await _reach(context)
    topics = Markup(", ").join(t.gettext(TOPICS[Topic(x)]) for x in draft["topics"])
    lines = [
        t.gettext("<b>Ready to schedule</b>"),
        t.gettext("Topics: {topics}", topics=topics),
        t.gettext("Place: {place}", place=draft.get("place") or t.gettext("all municipalities")),
        t.ngettext("Reaches now: {count} person", "Reaches now: {count} people", reach),
        t.gettext("When: {when}", when=_when_text(t, draft)),
    ]
    lines += [_button_line(t, b) for b in draft["buttons"]]
    await send(
        update,
        context,
        Markup("\n").join(lines),
        keyboard([(t.gettext("✅ Confirm"), GO), (t.gettext("✖️ Cancel"), DROP)]),
    )
    return CONFIRM


async def confirm(update: Update, context: PactContext) -> int:
    """Store the broadcast; the delivery job does the rest and reports progress here."""
    await answer(update)
    await close_buttons(update)
    draft = context.user_data.pop(KEY, {})
    member = current_member(context)
    settings = context.services.settings
    send_at = datetime.fromisoformat(draft["send_at"])
    recurrence = Recurrence(draft["recurrence"]) if draft.get("recurrence") else None
    media = draft.get("media")
    chat = update.effective_chat.id if update.effective_chat else None
    await campaigns.create_broadcast(
        context.scope.session,
        title=escaped_within(Markup(draft["sq"]).striptags(), 60),
        text_sq=draft["sq"],
        text_en=draft.get("en"),
        topic=Topic(draft["topics"][0]),
        municipality_ids=draft.get("municipalities"),
        audience=_audience(draft, settings.default_locale).stored(),
        buttons=[{k: v for k, v in b.items() if k != "title"} for b in draft["buttons"]],
        media_kind=media[0] if media else None,
        media_file_id=media[1] if media else None,
        recurrence=recurrence,
        recur_day=broadcast_drafts.recur_day(send_at, recurrence, settings.tz)
        if recurrence
        else None,
        send_at=send_at,
        by_user_id=member.user_id if member else None,
        progress_chat_id=chat,
        now=context.services.clock.now(),
    )
    delivery.kick_when_committed(context.application)
    t = context.t
    await send(
        update,
        context,
        t.gettext(
            "Scheduled: {when}. I will report the progress here.",
            when=_when_text(t, draft),
        ),
    )
    return ConversationHandler.END


async def drop(update: Update, context: PactContext) -> int:
    """Cancel at the summary: nothing is stored."""
    return await flow.cancel_button(update, context)


async def wrong_input(update: Update, context: PactContext) -> int | None:
    """A message where a button is expected: say so, keep the draft and the step."""
    await send(update, context, context.t.gettext("Please use the buttons above, or /cancel."))
    return None


def conversation() -> ConversationHandler:
    """The composer, persistent like the other flows."""
    text = filters.TEXT & ~filters.COMMAND
    anything = ~filters.COMMAND
    return ConversationHandler(
        name="broadcast_composer",
        persistent=True,
        allow_reentry=True,
        entry_points=[CommandHandler("broadcast", start, filters=filters.ChatType.PRIVATE)],
        states={
            TEXT_SQ: [MessageHandler(anything, text_sq)],
            TEXT_EN: [
                MessageHandler(anything, text_en),
                CallbackQueryHandler(skip_en, pattern=f"^{SKIP}$"),
            ],
            BUTTONS: _buttons_handlers(),
            LINK: [MessageHandler(text, link)],
            TOPIC: [
                CallbackQueryHandler(topics_done, pattern=f"^{TOPICS_DONE}$"),
                CallbackQueryHandler(topic, pattern=f"^{TOPIC_CB}"),
            ],
            PLACE: [
                CallbackQueryHandler(region, pattern=f"^{REGION}"),
                CallbackQueryHandler(place, pattern=f"^({PICK}|{WHOLE_REGION}|{ALL}$)"),
            ],
            REFINE: [
                CallbackQueryHandler(refine, pattern=f"^{FILTER}"),
                CallbackQueryHandler(refine_done, pattern=f"^{REFINE_DONE}$"),
            ],
            WHEN: [
                CallbackQueryHandler(when_now, pattern=f"^{NOW}$"),
                CallbackQueryHandler(ask_moment, pattern=f"^({AT}|{WEEKLY}|{MONTHLY})$"),
            ],
            MOMENT: [MessageHandler(text, moment)],
            CONFIRM: [
                CallbackQueryHandler(confirm, pattern=f"^{GO}$"),
                CallbackQueryHandler(drop, pattern=f"^{DROP}$"),
            ],
        },
        fallbacks=[
            *flow.exits(),
            MessageHandler(anything, wrong_input),
        ],
    )


def _buttons_handlers() -> list[BaseHandler]:
    """The buttons step: add a link, an event or a poll, clear, go on."""
    return [
        CallbackQueryHandler(ask_link, pattern=f"^{ADD_LINK}$"),
        CallbackQueryHandler(ask_event, pattern=f"^{ADD_EVENT}$"),
        CallbackQueryHandler(ask_poll, pattern=f"^{ADD_POLL}$"),
        CallbackQueryHandler(attach, pattern=f"^({EVENT}|{POLL})"),
        CallbackQueryHandler(back_to_buttons, pattern=f"^{P}b:back$"),
        CallbackQueryHandler(buttons_clear, pattern=f"^{BUTTONS_CLEAR}$"),
        CallbackQueryHandler(buttons_done, pattern=f"^{BUTTONS_DONE}$"),
    ]


def routes() -> list[routing.Route]:
    """The composer: the broadcast permission at its start and at every step."""
    return [routing.staff_flow(conversation(), Permission.BROADCAST, KEY)]
