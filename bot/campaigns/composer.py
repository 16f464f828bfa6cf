"""/broadcast (staff with the broadcast permission): compose, target, schedule a campaign message.

Albanian text or photo/document with caption → English (or skip) → buttons (link, event, poll)
→ topics → municipality or region → role, language, age band (the audience count updates) →
now, at a moment, weekly or monthly → confirm, where each answer can be edited. Each text is
first sent back to the composer as a test, which is also how Telegram validates its HTML.
Declared on the wizard kernel (bot/kit/wizard.py); composer.mmd is generated from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup
from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import ConversationHandler, filters

from bot.broadcasting import sender as delivery
from bot.broadcasting.message import DOCUMENT, PHOTO
from bot.campaigns.services import audience, campaigns
from bot.campaigns.services import composer_rules as rules
from bot.campaigns.services.recurrence import Recurrence
from bot.campaigns.subscribe import TOPICS
from bot.core import routing
from bot.core.access import current_member
from bot.core.application import PactContext
from bot.core.i18n import N_, Translator, escaped_within, shorten
from bot.kit import codec, moments, pickers
from bot.kit import wizard as wz
from bot.kit.ui import Button, close_buttons, list_label, rows_of, send
from bot.kit.wizard import END, NEXT, REDRAW, OnButton, OnMessage, OnText, Question, Screen, Step
from bot.rti.services import directory
from bot.staff.services.permissions import Permission
from db.models import AgeBand, Authority, Role, Topic

SQ, EN, BUTTONS, LINK = "broadcast.sq", "broadcast.en", "broadcast.buttons", "broadcast.link"
TOPIC, PLACE, AUDIENCE = "broadcast.topics", "broadcast.place", "broadcast.audience"
WHEN, MOMENT, CONFIRM = "broadcast.when", "broadcast.moment", "broadcast.confirm"
PREFIX = "adm:bc:"
SCHEDULES = {"at": None, "weekly": Recurrence.WEEKLY.value, "monthly": Recurrence.MONTHLY.value}
"""The "when" choices other than now, and the repeat each stands for."""
ANY_MESSAGE = ~filters.StatusUpdate.ALL

CHOICES: dict[str, list[tuple[str | None, str]]] = {
    "roles": [
        (None, N_("everyone")),
        (Role.CITIZEN, N_("citizens")),
        (Role.ACTIVIST, N_("activists")),
    ],
    "languages": [(None, N_("all")), ("sq", N_("Albanian")), ("en", N_("English"))],
    "age_bands": [
        (None, N_("all")),
        (AgeBand.AGE_16_17, "16–17"),
        (AgeBand.AGE_18_29, "18–29"),
        (AgeBand.AGE_30_PLUS, "30+"),
    ],
}
FILTER_NAMES = {"roles": N_("Role"), "languages": N_("Language"), "age_bands": N_("Age")}


def _fresh(context: PactContext) -> dict[str, Any]:
    """A new draft."""
    return {"buttons": [], "topics": [], "filters": {}}


# --- the texts ----------------------------------------------------------------------------------


def _media(message: Message) -> tuple[str, str] | None:
    """The photo or document a message carries, as (kind, file_id)."""
    if message.photo:
        return PHOTO, message.photo[-1].file_id
    if message.document:
        return DOCUMENT, message.document.file_id
    return None


async def _test_send(
    update: Update, context: PactContext, text: str, media: tuple[str, str] | None
) -> str | None:
    """Send the text back as it will look; Telegram's refusal of broken formatting, if any."""
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
        return context.t.gettext(
            "Telegram refused this text: {error}. Please send it again.",
            error=shorten(str(error), 200),
        )
    return None


async def _problem(
    update: Update, context: PactContext, text: str, media: tuple[str, str] | None
) -> str | None:
    """Why a text cannot go out (empty, too long, refused by the test send), or None."""
    t = context.t
    if not text.strip():
        return t.gettext("Please send the text of the message (or a photo with a caption).")
    limit = rules.text_limit(media is not None)
    if len(text) > limit:
        return t.gettext(
            "That is {length} characters; Telegram allows {limit} here. Please shorten it.",
            length=len(text),
            limit=limit,
        )
    return await _test_send(update, context, text, media)


def _kept_media(draft: dict[str, Any]) -> tuple[str, str] | None:
    """The photo or document the Albanian text came with."""
    media = draft.get("media")
    return (media[0], media[1]) if media else None


async def ask_sq(context: PactContext, draft: dict) -> Question:
    """The Albanian text, or media with an Albanian caption."""
    return Question(
        context.t.gettext(
            "Send the Albanian text of the message, or a photo or document with the Albanian "
            "text as its caption. Formatting: <b>bold</b>, <i>italic</i>, links. I will send "
            "it back to you as a test first."
        )
    )


async def take_sq(update: Update, context: PactContext, draft: dict, message: Message) -> wz.Move:
    """The Albanian text (tested); it sets the media, so an English text too long is re-asked."""
    media = _media(message)
    text = (message.caption_html if media else message.text_html) or ""
    problem = await _problem(update, context, text, media)
    if problem is not None:
        return wz.retry(problem)
    draft["sq"] = text
    draft["media"] = list(media) if media else None
    if len(draft.get("en") or "") > rules.text_limit(media is not None):
        draft.pop("en")
        return wz.goto(EN)
    return NEXT


async def ask_en(context: PactContext, draft: dict) -> Question:
    """The English text (optional: English users then get the Albanian one)."""
    return Question(context.t.gettext("Now the English text, or skip."))


async def take_en(update: Update, context: PactContext, draft: dict, message: Message) -> wz.Move:
    """The English text, tested with the Albanian text's media."""
    if _media(message) is not None:
        return wz.retry(context.t.gettext("Please send text only here: the caption."))
    text = message.text_html or ""
    problem = await _problem(update, context, text, _kept_media(draft))
    if problem is not None:
        return wz.retry(problem)
    draft["en"] = text
    return NEXT


# --- the buttons under the message --------------------------------------------------------------


def _button_line(t: Translator, button: dict[str, Any]) -> str:
    """One attached button, described for the composer."""
    if button["kind"] == "link":
        return t.gettext("🔗 {label} → {url}", label=button["label_sq"], url=button["url"])
    if button["kind"] == "event":
        return t.gettext("🗓 Event: {title}", title=button.get("title", ""))
    return t.gettext("📊 Poll: {question}", question=button.get("title", ""))


async def ask_buttons(context: PactContext, draft: dict) -> Question:
    """Which buttons go under the message (up to three)."""
    t = context.t
    buttons = draft["buttons"]
    lines = [t.gettext("Add a button under the message?"), *(_button_line(t, b) for b in buttons)]
    rows: list[list[Button]] = []
    if len(buttons) < rules.MAX_BUTTONS:
        rows.append(
            [
                (t.gettext("🔗 Link"), f"{PREFIX}b:link"),
                (t.gettext("🗓 Join event"), f"{PREFIX}b:event"),
            ]
        )
        rows.append([(t.gettext("📊 Poll"), f"{PREFIX}b:poll")])
    if buttons:
        rows.append([(t.gettext("🗑 Remove the buttons"), f"{PREFIX}b:clear")])
    done = t.gettext("Continue ➡️") if buttons else t.gettext("No buttons ➡️")
    rows.append([(done, f"{PREFIX}b:done")])
    return Question(Markup("\n").join(lines), rows)


def _room(draft: dict) -> bool:
    """Whether another button fits."""
    return len(draft["buttons"]) < rules.MAX_BUTTONS


async def add_link(update: Update, context: PactContext, draft: dict, _: str) -> wz.Move:
    """A link button: typed on the next step."""
    if not _room(draft):
        return REDRAW
    await close_buttons(update)
    return wz.goto(LINK)


async def list_events(update: Update, context: PactContext, draft: dict, _: str) -> wz.Move:
    """The upcoming events to attach."""
    if not _room(draft):
        return REDRAW
    await close_buttons(update)
    return wz.show("events")


async def list_polls(update: Update, context: PactContext, draft: dict, _: str) -> wz.Move:
    """The open polls to attach."""
    if not _room(draft):
        return REDRAW
    await close_buttons(update)
    return wz.show("polls")


async def events_screen(context: PactContext, draft: dict, _: Any) -> Question:
    """Upcoming events: people answer "I will attend" or "Not this time"."""
    t = context.t
    found = await rules.attachable_events(context.scope.session, context.services.clock.now())
    if not found:
        return Question(t.gettext("There is no upcoming event. Create one with /event first."))
    rows = [
        [(list_label(f"{shorten(e.title, 28)} · {t.date(e.starts_at)}"), f"{PREFIX}ev:{e.id}")]
        for e in found
    ]
    return Question(t.gettext("Which event?"), rows)


async def polls_screen(context: PactContext, draft: dict, _: Any) -> Question:
    """Open polls: their options become the buttons."""
    t = context.t
    found = await rules.attachable_polls(context.scope.session)
    if not found:
        return Question(t.gettext("There is no open poll. Create one with /poll first."))
    rows = [[(list_label(p.question_sq), f"{PREFIX}pl:{p.id}")] for p in found]
    return Question(t.gettext("Which poll?"), rows)


async def attach_event(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """An event chosen from the list."""
    chosen = codec.read_id(value)
    found = await rules.attachable_events(context.scope.session, context.services.clock.now())
    event = next((e for e in found if e.id == chosen), None)
    if event is not None and _room(draft):
        title = shorten(event.title, 60)
        draft["buttons"].append({"kind": "event", "event_id": event.id, "title": title})
    await close_buttons(update)
    return wz.goto(BUTTONS)


async def attach_poll(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """A poll chosen from the list."""
    chosen = codec.read_id(value)
    found = await rules.attachable_polls(context.scope.session)
    poll = next((p for p in found if p.id == chosen), None)
    if poll is not None and _room(draft):
        draft["buttons"].append(
            {"kind": "poll", "poll_id": poll.id, "title": shorten(poll.question_sq, 60)}
        )
    await close_buttons(update)
    return wz.goto(BUTTONS)


async def clear_buttons(update: Update, context: PactContext, draft: dict, _: str) -> wz.Move:
    """Start the buttons over."""
    draft["buttons"] = []
    return REDRAW


async def buttons_done(update: Update, context: PactContext, draft: dict, _: str) -> wz.Move:
    """The buttons are settled."""
    await close_buttons(update)
    return NEXT


async def ask_link(context: PactContext, draft: dict) -> Question:
    """A link button's label and address, typed on one line."""
    return Question(
        context.t.gettext(
            "Send the button's label and the web address on one line, for example: {example}",
            example="Lexo më shumë https://example.org",
        )
    )


async def typed_link(update: Update, context: PactContext, draft: dict, text: str) -> wz.Move:
    """A typed link button, added to the buttons."""
    found = rules.parse_link(text)
    if found is None:
        return wz.retry(
            context.t.gettext(
                "I need a label of up to {limit} characters, a space, then an address "
                "starting with https://. Please try again.",
                limit=rules.LABEL_LIMIT,
            )
        )
    if _room(draft):
        draft["buttons"].append({"kind": "link", "label_sq": found.label, "url": found.url})
    return wz.goto(BUTTONS)


# --- the audience -------------------------------------------------------------------------------


async def ask_topics(context: PactContext, draft: dict) -> Question:
    """Topics as toggles; people following any of them are reached."""
    t = context.t
    chosen = set(draft["topics"])
    rows: list[list[Button]] = [
        [(("✅ " if topic.value in chosen else "⬜ ") + t.gettext(label), f"{PREFIX}t:{topic}")]
        for topic, label in TOPICS.items()
    ]
    if chosen:
        rows.append([(t.gettext("Continue ➡️"), f"{PREFIX}tok")])
    return Question(
        t.gettext("Which topics is it about? People following any of them receive it."), rows
    )


async def toggle_topic(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Turn one topic on or off."""
    if value in set(Topic):
        draft["topics"] = sorted(set(draft["topics"]) ^ {value})
    return REDRAW


async def topics_done(update: Update, context: PactContext, draft: dict, _: str) -> wz.Move:
    """At least one topic: go on."""
    if not draft["topics"]:
        return REDRAW
    await close_buttons(update)
    return NEXT


async def ask_place(context: PactContext, draft: dict) -> Question:
    """All municipalities, or a region first."""
    t = context.t
    return Question(
        t.gettext("For which municipality's subscribers?"),
        [[(t.gettext("All municipalities"), f"{PREFIX}all")], *pickers.region_rows(f"{PREFIX}r:")],
    )


async def region_screen(context: PactContext, draft: dict, name: Any) -> Question:
    """A region: all of it, or one of its programme municipalities."""
    t = context.t
    found = await pickers.in_region(context, str(name))
    whole = t.gettext("The whole region of {region}", region=name)
    return Question(
        t.gettext("Choose the municipality:"),
        [[(whole, f"{PREFIX}wr:{name}")], *pickers.choice_rows(t, found, f"{PREFIX}m:")],
    )


def _set_place(draft: dict, name: str | None, municipality_ids: list[int] | None) -> None:
    """Where it goes: a name and its municipalities, or everywhere (None, None)."""
    draft["place"], draft["municipalities"] = name, municipality_ids
    draft["everywhere"] = name is None


async def everywhere(update: Update, context: PactContext, draft: dict, _: str) -> wz.Move:
    """All municipalities."""
    _set_place(draft, None, None)
    await close_buttons(update)
    return NEXT


async def open_region(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """A region's municipalities."""
    if value not in directory.REGION_ORDER:
        return REDRAW
    await close_buttons(update)
    return wz.show("region", value)


async def whole_region(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Every programme municipality of the region."""
    if value not in directory.REGION_ORDER:
        return REDRAW
    towns = await pickers.in_region(context, value)
    _set_place(draft, value, [town.id for town in towns])
    await close_buttons(update)
    return NEXT


async def one_town(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """One municipality."""
    chosen = codec.read_id(value)
    town = await context.scope.session.get(Authority, chosen) if chosen is not None else None
    if town is None:
        return REDRAW
    _set_place(draft, town.name, [town.id])
    await close_buttons(update)
    return NEXT


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


async def _reach(context: PactContext, draft: dict) -> int:
    """How many people the draft reaches right now."""
    return await audience.count(
        context.scope.session, _audience(draft, context.services.settings.default_locale)
    )


async def ask_audience(context: PactContext, draft: dict) -> Question:
    """Narrow by role, language and age band; tapping a button moves to its next choice."""
    t = context.t
    chosen = draft.get("filters", {})
    rows = [
        [
            (
                t.gettext(
                    "{filter}: {choice}",
                    filter=t.gettext(FILTER_NAMES[name]),
                    choice=_choice_label(t, name, chosen.get(name)),
                ),
                f"{PREFIX}f:{name}",
            )
        ]
        for name in CHOICES
    ]
    rows.append([(t.gettext("Continue ➡️"), f"{PREFIX}fok")])
    text = t.ngettext(
        "It reaches {count} person now (weekly limits and quiet hours apply). "
        "Narrow it down, or continue.",
        "It reaches {count} people now (weekly limits and quiet hours apply). "
        "Narrow it down, or continue.",
        await _reach(context, draft),
    )
    return Question(text, rows)


async def next_choice(update: Update, context: PactContext, draft: dict, name: str) -> wz.Move:
    """Move one filter to its next choice."""
    if name in CHOICES:
        filters_ = draft.setdefault("filters", {})
        keys = [key for key, _ in CHOICES[name]]
        current = (filters_.get(name) or [None])[0]
        following = keys[(keys.index(current) + 1) % len(keys)] if current in keys else None
        filters_[name] = [following] if following else []
    return REDRAW


async def audience_done(update: Update, context: PactContext, draft: dict, _: str) -> wz.Move:
    """The audience is settled."""
    await close_buttons(update)
    return NEXT


# --- the schedule and the confirmation ----------------------------------------------------------


async def ask_when(context: PactContext, draft: dict) -> Question:
    """Now, at a moment, or repeating."""
    t = context.t
    return Question(
        t.gettext("When should it be sent?"),
        [
            [
                (t.gettext("📣 Send now"), f"{PREFIX}w:now"),
                (t.gettext("🕒 At a date and time"), f"{PREFIX}w:at"),
            ],
            [
                (t.gettext("🔁 Every week"), f"{PREFIX}w:weekly"),
                (t.gettext("🔁 Every month"), f"{PREFIX}w:monthly"),
            ],
        ],
    )


async def choose_when(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Now goes to the summary; the others ask for the (first) moment."""
    if value != "now" and value not in SCHEDULES:
        return REDRAW
    draft["when"] = value
    draft["recurrence"] = SCHEDULES.get(value)
    draft.pop("send_at", None)
    await close_buttons(update)
    return NEXT


def _example(context: PactContext) -> str:
    """A moment to show as an example: tomorrow at 10:00, Tirana time."""
    return moments.example(context.services.clock.now(), context.services.settings.tz)


async def ask_moment(context: PactContext, draft: dict) -> Question:
    """The moment (for a repeat: the first one, which sets the weekday or day)."""
    t = context.t
    example = _example(context)
    if draft.get("recurrence") == Recurrence.WEEKLY:
        return Question(
            t.gettext(
                "Type the first date and time in Tirana, for example {example}. "
                "It repeats every week on that weekday at that time.",
                example=example,
            )
        )
    if draft.get("recurrence") == Recurrence.MONTHLY:
        return Question(
            t.gettext(
                "Type the first date and time in Tirana, for example {example}. "
                "It repeats every month on that day at that time.",
                example=example,
            )
        )
    return Question(
        t.gettext("Type the date and time in Tirana, for example {example}.", example=example)
    )


async def typed_moment(update: Update, context: PactContext, draft: dict, text: str) -> wz.Move:
    """A moment in the future."""
    t, example = context.t, _example(context)
    found = moments.parse_local(text, context.services.settings.tz)
    if found is None:
        return wz.retry(t.gettext("Type the date and time like {example}.", example=example))
    if found <= context.services.clock.now():
        return wz.retry(
            t.gettext(
                "That moment has passed. Type a future date and time like {example}.",
                example=example,
            )
        )
    draft["send_at"] = found.isoformat()
    return NEXT


def _send_at(context: PactContext, draft: dict) -> datetime:
    """The (first) moment: the typed one, or now."""
    if draft.get("when") == "now" or not draft.get("send_at"):
        return context.services.clock.now()
    return datetime.fromisoformat(draft["send_at"])


def _when_text(t: Translator, draft: dict[str, Any], moment: datetime) -> str:
    """The schedule, in words."""
    if draft.get("recurrence") == Recurrence.WEEKLY:
        return t.gettext("every week, first on {time}", time=t.datetime(moment))
    if draft.get("recurrence") == Recurrence.MONTHLY:
        return t.gettext("every month, first on {time}", time=t.datetime(moment))
    return t.datetime(moment)


async def ask_confirm(context: PactContext, draft: dict) -> Question:
    """The summary, each answer editable, and the last chance to stop."""
    t = context.t
    topics = Markup(", ").join(t.gettext(TOPICS[Topic(x)]) for x in draft["topics"])
    reach = await _reach(context, draft)
    lines = [
        t.gettext("<b>Ready to schedule</b>"),
        t.gettext("Topics: {topics}", topics=topics),
        t.gettext("Place: {place}", place=draft.get("place") or t.gettext("all municipalities")),
        t.ngettext("Reaches now: {count} person", "Reaches now: {count} people", reach),
        t.gettext("When: {when}", when=_when_text(t, draft, _send_at(context, draft))),
        *(_button_line(t, b) for b in draft["buttons"]),
    ]
    edits = [
        WIZARD.edit_button(t.gettext("✏️ Albanian text"), SQ),
        WIZARD.edit_button(t.gettext("✏️ English text"), EN),
        WIZARD.edit_button(t.gettext("✏️ Buttons"), BUTTONS),
        WIZARD.edit_button(t.gettext("✏️ Topics"), TOPIC),
        WIZARD.edit_button(t.gettext("✏️ Place"), PLACE),
        WIZARD.edit_button(t.gettext("✏️ Audience"), AUDIENCE),
        WIZARD.edit_button(t.gettext("✏️ When"), WHEN),
    ]
    if draft.get("when") in SCHEDULES:
        edits.append(WIZARD.edit_button(t.gettext("✏️ Date and time"), MOMENT))
    rows = [[(t.gettext("✅ Confirm"), f"{PREFIX}go")], *rows_of(edits)]
    return Question(Markup("\n").join(lines), rows)


async def store(update: Update, context: PactContext, draft: dict, _: str) -> wz.Move:
    """Store the broadcast; the delivery job does the rest and reports progress here."""
    if WIZARD.first_missing(draft) is not None:
        return wz.goto(CONFIRM)
    await close_buttons(update)
    WIZARD.drop(context)
    member = current_member(context)
    settings = context.services.settings
    send_at = _send_at(context, draft)
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
        recur_day=rules.recur_day(send_at, recurrence, settings.tz) if recurrence else None,
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
            when=_when_text(t, draft, send_at),
        ),
    )
    return END


# --- the declaration ----------------------------------------------------------------------------

STEPS = (
    Step(
        SQ,
        ask_sq,
        accepts=(OnMessage(ANY_MESSAGE, take_sq),),
        keys=("sq",),
        label="Albanian text, or photo/document with caption, sent back as a test",
    ),
    Step(
        EN,
        ask_en,
        accepts=(OnMessage(ANY_MESSAGE, take_en),),
        keys=("en",),
        optional=True,
        label="English text (tested)",
    ),
    Step(
        BUTTONS,
        ask_buttons,
        accepts=(
            OnButton("b:link", add_link),
            OnButton("b:event", list_events),
            OnButton("b:poll", list_polls),
            OnButton("ev:", attach_event, exact=False),
            OnButton("pl:", attach_poll, exact=False),
            OnButton("b:clear", clear_buttons),
            OnButton("b:done", buttons_done),
        ),
        screens=(
            Screen("events", events_screen, "Join event: upcoming events"),
            Screen("polls", polls_screen, "Poll: open polls"),
        ),
        label="continue (up to three buttons)",
        goes={LINK: "Link"},
    ),
    Step(
        LINK,
        ask_link,
        accepts=(OnText(typed_link),),
        back=lambda draft: BUTTONS,
        goes={BUTTONS: "link added"},
    ),
    Step(
        TOPIC,
        ask_topics,
        accepts=(OnButton("t:", toggle_topic, exact=False), OnButton("tok", topics_done)),
        keys=("topics",),
        label="continue (at least one topic)",
    ),
    Step(
        PLACE,
        ask_place,
        accepts=(
            OnButton("all", everywhere),
            OnButton("r:", open_region, exact=False),
            OnButton("wr:", whole_region, exact=False),
            OnButton("m:", one_town, exact=False),
        ),
        keys=("place", "everywhere"),
        screens=(Screen("region", region_screen, "a region's municipalities"),),
        label="all, a whole region, or one municipality",
    ),
    Step(
        AUDIENCE,
        ask_audience,
        accepts=(OnButton("f:", next_choice, exact=False), OnButton("fok", audience_done)),
        label="role / language / age band (count updated), continue",
    ),
    Step(
        WHEN,
        ask_when,
        accepts=(OnButton("w:", choose_when, exact=False),),
        keys=("when",),
        label="send now; or at a date and time, every week, every month (scheduled)",
    ),
    Step(
        MOMENT,
        ask_moment,
        accepts=(OnText(typed_moment),),
        keys=("send_at",),
        label="a future Tirana moment (for a repeat: the first one)",
    ),
    Step(
        CONFIRM,
        ask_confirm,
        accepts=(OnButton("go", store),),
        goes={
            "[*]": "confirm (row stored; progress reported to this chat)",
            BUTTONS: "Edit, then back to the preview",
            AUDIENCE: "Edit, then back to the preview",
        },
    ),
)
_BEFORE_WHEN = (SQ, EN, BUTTONS, TOPIC, PLACE, AUDIENCE, WHEN)
WIZARD = wz.Wizard(
    name="broadcast_composer",
    prefix=PREFIX,
    draft_key="broadcast_draft",
    steps=STEPS,
    branches={"send now": (*_BEFORE_WHEN, CONFIRM), "scheduled": (*_BEFORE_WHEN, MOMENT, CONFIRM)},
    branch_of=lambda draft: "scheduled" if draft.get("when") in SCHEDULES else "send now",
    entries=(wz.Entry(fresh=_fresh, command="broadcast"),),
    preview=CONFIRM,
    resume_text=lambda t: t.gettext(
        "You have a broadcast in progress. Continue where you stopped?"
    ),
    discarded=lambda t: t.gettext("Your draft broadcast was discarded."),
    title=(
        "/broadcast (bot/campaigns/composer.py), staff with the broadcast permission:\n"
        "the gate checks the command, bot.core.access.guard_staff_flows every later step."
    ),
)


def conversation() -> ConversationHandler:
    """The composer, persistent like the other flows."""
    return WIZARD.conversation()


def routes() -> list[routing.Route]:
    """The composer: the broadcast permission at its start and at every step."""
    return [routing.staff_flow(conversation(), Permission.BROADCAST, WIZARD.draft_key)]
