"""Events: the /event composer and /events attendance for staff, and RSVP buttons for everyone.

/event: title → municipality (region, then municipality, or none) → place → date and time →
description or skip → preview → save, then announce now or later (see events.mmd). People
answer on the buttons under the invitation and the reminders ("ev:y:{id}", "ev:n:{id}"); saying
yes asks once whether their name may appear on the attendance list ("ev:nm:{id}:1" or ":0").
"""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.account.fallback import stale_button
from bot.broadcasting import sender as delivery
from bot.broadcasting.message import RSVP_NO, RSVP_YES
from bot.broadcasting.services import received
from bot.campaigns import subscribe as campaign_handlers
from bot.campaigns.services import audience
from bot.campaigns.services import hearings as events
from bot.core import routing
from bot.core.access import acting_user_id
from bot.core.application import PactContext
from bot.core.i18n import Translator, join_lines, shorten
from bot.core.runtime import after_commit_effect
from bot.kit import flow, pickers
from bot.kit.ui import (
    Button,
    answer,
    close_buttons,
    edit_or_send,
    keyboard,
    send,
    send_after_commit,
)
from bot.staff.services.permissions import Permission
from db.models import Authority, Event, Topic

# States
TITLE, TOWN, PLACE, WHEN, DESCRIPTION, PREVIEW = range(6)

REGION, PICK, NO_TOWN, TOWNS = "sb:ev:r:", "sb:ev:m:", "sb:ev:none", "sb:ev:towns"
SKIP, SAVE, CANCEL = "sb:ev:skip", "sb:ev:save", "sb:ev:cancel"
ANNOUNCE, LATER = "sb:ev:ann:", "sb:ev:later"
LIST, SHOW, DROP, DROP_YES = "sb:ev:list", "sb:ev:show:", "sb:ev:cx:", "sb:ev:cxy:"
NAMED = "ev:nm:"
KEY = "event_draft"


async def _ask_again(update: Update, context: PactContext, limit: int) -> None:
    """An empty answer or one over the limit."""
    t = context.t
    await send(
        update,
        context,
        t.gettext("That is longer than {limit} characters. Please shorten it.", limit=limit)
        if flow.typed_text(update)
        else t.gettext("Please type your answer as text."),
    )


async def start(update: Update, context: PactContext) -> int:
    """/event."""
    context.user_data[KEY] = {}
    await send(
        update,
        context,
        context.t.gettext(
            "New event. What is its title? For example: “Public hearing on the 2027 budget”."
        ),
    )
    return TITLE


async def title(update: Update, context: PactContext) -> int:
    """The title."""
    text = flow.typed_text(update)
    if not text or len(text) > events.MAX_TITLE:
        await _ask_again(update, context, events.MAX_TITLE)
        return TITLE
    context.user_data.setdefault(KEY, {})["title"] = text
    return await _ask_town(update, context)


def _town_markup(t: Translator) -> InlineKeyboardMarkup:
    """Regions, and no specific municipality."""
    return keyboard(
        *pickers.region_rows(REGION), [(t.gettext("No specific municipality"), NO_TOWN)]
    )


async def _ask_town(update: Update, context: PactContext) -> int:
    """Which municipality."""
    t = context.t
    await send(update, context, t.gettext("In which municipality?"), _town_markup(t))
    return TOWN


async def towns_again(update: Update, context: PactContext) -> int:
    """Back from a region to the regions."""
    await answer(update)
    t = context.t
    await edit_or_send(update, context, t.gettext("In which municipality?"), _town_markup(t))
    return TOWN


async def region(update: Update, context: PactContext) -> int:
    """A region's programme municipalities."""
    query = await answer(update)
    t = context.t
    found = await pickers.in_region(context, (query.data or "").removeprefix(REGION))
    await edit_or_send(
        update,
        context,
        t.gettext("Choose the municipality:"),
        keyboard(*pickers.choice_rows(t, found, PICK), [(t.gettext("⬅️ Back"), TOWNS)]),
    )
    return TOWN


async def town(update: Update, context: PactContext) -> int:
    """A municipality, or none: then the place."""
    query = await answer(update)
    t = context.t
    raw = (query.data or "").removeprefix(PICK)
    chosen = await context.scope.session.get(Authority, int(raw)) if raw.isdigit() else None
    if chosen is None:
        await close_buttons(update, "✔️ " + t.gettext("No specific municipality"))
    else:
        await close_buttons(update, "✔️ " + t.gettext("Municipality of {name}", name=chosen.name))
    context.user_data.setdefault(KEY, {})["town"] = chosen.id if chosen else None
    await send(
        update,
        context,
        t.gettext("Where exactly? For example: “Town hall, meeting room 2”."),
    )
    return PLACE


async def place(update: Update, context: PactContext) -> int:
    """The place: then the moment."""
    text = flow.typed_text(update)
    if not text or len(text) > events.MAX_PLACE:
        await _ask_again(update, context, events.MAX_PLACE)
        return PLACE
    context.user_data.setdefault(KEY, {})["place"] = text
    await send(
        update,
        context,
        context.t.gettext(
            "When does it start? Type the date and time in Tirana, for example {example}.",
            example=events.TIME_EXAMPLE,
        ),
    )
    return WHEN


async def when(update: Update, context: PactContext) -> int:
    """A future local date and time: then the description."""
    t = context.t
    text = flow.typed_text(update)
    now = context.services.clock.now()
    tz = context.services.settings.tz
    moment = events.parse_start(text, tz, now)
    if moment is None:
        past = events.parse_start(text, tz, datetime.min.replace(tzinfo=tz)) is not None
        await send(
            update,
            context,
            t.gettext(
                "That moment has passed. Type a future date and time like {example}.",
                example=events.TIME_EXAMPLE,
            )
            if past
            else t.gettext("Type the date and time like {example}.", example=events.TIME_EXAMPLE),
        )
        return WHEN
    context.user_data.setdefault(KEY, {})["starts_at"] = moment.isoformat()
    await send(
        update,
        context,
        t.gettext("Add a short description (what it is about, who may come), or skip."),
        keyboard([(t.gettext("Skip"), SKIP)]),
    )
    return DESCRIPTION


async def description(update: Update, context: PactContext) -> int:
    """The description: then the preview."""
    text = flow.typed_text(update)
    if not text or len(text) > events.MAX_DESCRIPTION:
        await _ask_again(update, context, events.MAX_DESCRIPTION)
        return DESCRIPTION
    context.user_data.setdefault(KEY, {})["description"] = text
    return await _preview(update, context)


async def skip_description(update: Update, context: PactContext) -> int:
    """No description."""
    await answer(update)
    await close_buttons(update, "✔️ " + context.t.gettext("Skip"))
    context.user_data.setdefault(KEY, {})["description"] = ""
    return await _preview(update, context)


def _draft_event(draft: dict) -> Event:
    """The draft as an unsaved event, to render it."""
    return Event(
        title=draft["title"],
        place=draft["place"],
        municipality_id=draft.get("town"),
        starts_at=datetime.fromisoformat(draft["starts_at"]),
        description=draft.get("description", ""),
    )


async def _town_of(context: PactContext, town_id: int | None) -> str | None:
    """A municipality's name."""
    if town_id is None:
        return None
    found = await context.scope.session.get(Authority, town_id)
    return found.name if found else None


async def _preview(update: Update, context: PactContext) -> int:
    """The invitation as subscribers will see it, with save and cancel."""
    t = context.t
    draft = context.user_data[KEY]
    text = events.announcement(t, _draft_event(draft), await _town_of(context, draft.get("town")))
    await send(
        update,
        context,
        Markup("\n\n").join([t.gettext("<b>Preview</b>"), text]),
        keyboard([(t.gettext("✅ Save event"), SAVE), (t.gettext("✖️ Cancel"), CANCEL)]),
    )
    return PREVIEW


async def save(update: Update, context: PactContext) -> int:
    """Store the event and its reminders, then offer to announce it."""
    await answer(update)
    draft = context.user_data.pop(KEY, None)
    if not draft or "starts_at" not in draft:
        await stale_button(update, context)
        return ConversationHandler.END
    t = context.t
    now = context.services.clock.now()
    starts_at = datetime.fromisoformat(draft["starts_at"])
    if starts_at <= now:
        context.user_data[KEY] = draft
        await send(
            update,
            context,
            t.gettext(
                "That moment has passed. Type a future date and time like {example}.",
                example=events.TIME_EXAMPLE,
            ),
        )
        return WHEN
    await close_buttons(update)
    event = await events.create(
        context.scope.session,
        title=draft["title"],
        municipality_id=draft.get("town"),
        place=draft["place"],
        starts_at=starts_at,
        description=draft.get("description", ""),
        by_user_id=await acting_user_id(update, context),
        now=now,
    )
    await send(
        update,
        context,
        t.gettext(
            "Event #{number} saved. Those who say they will attend get a reminder a day and an "
            "hour before.",
            number=event.id,
        ),
        keyboard(
            [(t.gettext("📣 Announce to subscribers now"), f"{ANNOUNCE}{event.id}")],
            [(t.gettext("Later"), LATER)],
        ),
    )
    return ConversationHandler.END


def conversation() -> ConversationHandler:
    """The /event composer, persistent like the other flows."""
    text = filters.TEXT & ~filters.COMMAND
    anything = ~filters.COMMAND & ~filters.StatusUpdate.ALL
    not_text: list[BaseHandler] = [MessageHandler(anything & ~filters.TEXT, flow.type_text)]
    return ConversationHandler(
        name="event_composer",
        persistent=True,
        allow_reentry=True,
        entry_points=[CommandHandler("event", start, filters=filters.ChatType.PRIVATE)],
        states={
            TITLE: [MessageHandler(text, title), *not_text],
            TOWN: [
                CallbackQueryHandler(region, pattern=f"^{REGION}"),
                CallbackQueryHandler(town, pattern=f"^({PICK}|{NO_TOWN}$)"),
                CallbackQueryHandler(towns_again, pattern=f"^{TOWNS}$"),
                MessageHandler(anything, flow.use_buttons),
            ],
            PLACE: [MessageHandler(text, place), *not_text],
            WHEN: [MessageHandler(text, when), *not_text],
            DESCRIPTION: [
                MessageHandler(text, description),
                CallbackQueryHandler(skip_description, pattern=f"^{SKIP}$"),
                *not_text,
            ],
            PREVIEW: [
                CallbackQueryHandler(save, pattern=f"^{SAVE}$"),
                CallbackQueryHandler(flow.cancel_button, pattern=f"^{CANCEL}$"),
                MessageHandler(anything, flow.use_buttons),
            ],
        },
        fallbacks=flow.exits(),
    )


async def _loaded(update: Update, context: PactContext, prefix: str) -> Event | None:
    """The event a button points at; the stale-button answer if it is gone."""
    query = update.callback_query
    assert query is not None
    event_id = flow.number_after(query.data, prefix)
    event = await events.get(context.scope.session, event_id) if event_id else None
    if event is None:
        await stale_button(update, context)
    return event


def _upcoming(event: Event, now: datetime) -> bool:
    """Not cancelled and not started yet."""
    return events.closed(event, now) is None


async def _reach(context: PactContext, event: Event) -> int:
    """How many "hearings" subscribers of the event's municipality there are now."""
    towns = (event.municipality_id,) if event.municipality_id else ()
    return await audience.count(
        context.scope.session,
        audience.Audience(topics=(Topic.HEARINGS.value,), municipality_ids=towns),
    )


async def announce(update: Update, context: PactContext) -> None:
    """The invitation as a campaign broadcast, now."""
    event = await _loaded(update, context, ANNOUNCE)
    if event is None:
        return
    t = context.t
    now = context.services.clock.now()
    if not _upcoming(event, now):
        await answer(update, t.gettext("This event is cancelled or has started."), alert=True)
        return
    await answer(update)
    await close_buttons(update)
    await events.announce(
        context.scope.session,
        event,
        context.services.i18n,
        now,
        await acting_user_id(update, context),
        progress_chat_id=update.effective_chat.id if update.effective_chat else None,
    )
    delivery.kick_when_committed(context.application)
    await send(
        update,
        context,
        t.ngettext(
            "Scheduled: the invitation goes out now to {count} person (quiet hours apply).",
            "Scheduled: the invitation goes out now to {count} people (quiet hours apply).",
            await _reach(context, event),
        ),
        keyboard([(t.gettext("👥 Attendance"), f"{SHOW}{event.id}")]),
    )


async def later(update: Update, context: PactContext) -> None:
    """Keep the event unannounced; /events has it."""
    await answer(update)
    await close_buttons(update, "✔️ " + context.t.gettext("Later"))
    await send(
        update,
        context,
        context.t.gettext(
            "Saved. Announce it later from /events, or attach it to a message in /broadcast."
        ),
    )


async def list_command(update: Update, context: PactContext) -> None:
    """/events."""
    text, markup = await _listing(context)
    await send(update, context, text, markup)


async def list_button(update: Update, context: PactContext) -> None:
    """Back to the list."""
    await answer(update)
    text, markup = await _listing(context)
    await edit_or_send(update, context, text, markup)


async def _listing(context: PactContext) -> tuple[str, InlineKeyboardMarkup | None]:
    """Upcoming and recent events with how many attend, one button each."""
    t = context.t
    now = context.services.clock.now()
    found = await events.listing(context.scope.session, now)
    if not found:
        return t.gettext("No upcoming or recent events. Create one with /event."), None
    lines = [t.gettext("<b>Events</b>")]
    rows: list[list[Button]] = []
    for event, attending in found:
        mark = "❌" if event.cancelled_at else ("📅" if event.starts_at > now else "✔️")
        short = shorten(event.title, 40)
        lines.append(
            Markup("{} {}, {} · {}").format(
                mark,
                t.datetime(event.starts_at),
                short,
                t.ngettext("{count} attending", "{count} attending", attending),
            )
        )
        rows.append([(f"{mark} {short}", f"{SHOW}{event.id}")])
    return join_lines(lines), keyboard(*rows)


async def _card(context: PactContext, event: Event) -> tuple[str, InlineKeyboardMarkup]:
    """An event with its attendance: counts, and names only of those who chose to be named."""
    t = context.t
    session = context.scope.session
    now = context.services.clock.now()
    town = await events.town_name(session, event)
    seen = await events.attendance(session, event.id)
    lines = [Markup("📅 <b>{}</b>").format(event.title), events.where(t, event, town)]
    if event.cancelled_at:
        lines.append(t.gettext("❌ Cancelled on {date}", date=t.date(event.cancelled_at)))
    elif event.starts_at <= now:
        lines.append(t.gettext("✔️ Already started or held"))
    lines += [
        "",
        t.gettext("✅ Attending: {count}", count=t.number(seen.attending)),
        t.gettext("🚫 Not this time: {count}", count=t.number(seen.not_attending)),
    ]
    if seen.names:
        lines += [
            "",
            t.gettext("<b>Names</b>"),
            *(Markup("• {}").format(name) for name in seen.names),
        ]
    if seen.unnamed:
        lines.append(
            t.ngettext(
                "and {count} more without a name", "and {count} more without a name", seen.unnamed
            )
            if seen.names
            else t.ngettext(
                "{count} counted without a name", "{count} counted without a name", seen.unnamed
            )
        )
    rows: list[list[Button]] = []
    if _upcoming(event, now):
        rows.append([(t.gettext("📣 Announce to subscribers now"), f"{ANNOUNCE}{event.id}")])
        rows.append([(t.gettext("❌ Cancel event"), f"{DROP}{event.id}")])
    rows.append([(t.gettext("⬅️ Back"), LIST)])
    return join_lines(lines), keyboard(*rows)


async def show(update: Update, context: PactContext) -> None:
    """An event's card."""
    event = await _loaded(update, context, SHOW)
    if event is None:
        return
    await answer(update)
    text, markup = await _card(context, event)
    await edit_or_send(update, context, text, markup)


async def cancel_event(update: Update, context: PactContext) -> None:
    """Ask before cancelling."""
    event = await _loaded(update, context, DROP)
    if event is None:
        return
    t = context.t
    if not _upcoming(event, context.services.clock.now()):
        await answer(update, t.gettext("This event is cancelled or has started."), alert=True)
        return
    await answer(update)
    seen = await events.attendance(context.scope.session, event.id)
    await edit_or_send(
        update,
        context,
        t.ngettext(
            "Cancel “{title}”? The {count} person attending will be told.",
            "Cancel “{title}”? The {count} people attending will be told.",
            seen.attending,
            title=event.title,
        ),
        keyboard(
            [(t.gettext("Yes, cancel the event"), f"{DROP_YES}{event.id}")],
            [(t.gettext("No, keep it"), f"{SHOW}{event.id}")],
        ),
    )


async def cancel_confirmed(update: Update, context: PactContext) -> None:
    """Cancel: reminders stop, those attending are told."""
    event = await _loaded(update, context, DROP_YES)
    if event is None:
        return
    await answer(update)
    t = context.t
    done = await events.cancel(
        context.scope.session,
        event,
        context.services.i18n,
        context.services.clock.now(),
        await acting_user_id(update, context),
    )
    delivery.kick_when_committed(context.application)
    text, markup = await _card(context, event)
    note = (
        t.gettext("Cancelled. Those attending are being told.")
        if done
        else t.gettext("This event was already cancelled.")
    )
    await edit_or_send(update, context, f"{note}\n\n{text}", markup)


def _refusal(t: Translator, outcome: events.Rsvp) -> str:
    """Why an answer to an event is no longer taken."""
    if outcome == events.Rsvp.CANCELLED:
        return t.gettext("This event was cancelled.")
    return t.gettext("This event has already started.")


async def _event_for_answer(update: Update, context: PactContext, prefix: str) -> Event | None:
    """The event an RSVP button points at, if open, consented to and sent to this person."""
    query = update.callback_query
    assert query is not None
    raw = (query.data or "").removeprefix(prefix).split(":", 1)[0]
    session = context.scope.session
    event = await events.get(session, int(raw)) if raw.isdigit() else None
    if event is None:
        await stale_button(update, context)
        return None
    refused = events.closed(event, context.services.clock.now())
    if refused is not None:
        await answer(update, _refusal(context.t, refused), alert=True)
        return None
    if not await campaign_handlers.require_campaign_consent(update, context):
        return None
    assert context.user_row is not None
    if not await received.was_sent_button(session, context.user_row.id, "event", event.id):
        await stale_button(update, context)
        return None
    return event


def _named_markup(t: Translator, event: Event) -> InlineKeyboardMarkup:
    """Whether the name may appear on the attendance list."""
    return keyboard(
        [(t.gettext("Yes, show my name"), f"{NAMED}{event.id}:1")],
        [(t.gettext("No, just count me"), f"{NAMED}{event.id}:0")],
    )


async def attend(update: Update, context: PactContext) -> None:
    """The "I will attend" button: recorded, then one question about the name."""
    event = await _event_for_answer(update, context, RSVP_YES)
    if event is None:
        return
    assert context.user_row is not None
    t = context.t
    outcome, _event = await events.respond(
        context.scope.session, event.id, context.user_row, True, context.services.clock.now()
    )
    values = {"title": event.title, "time": t.datetime(event.starts_at)}
    if outcome == events.Rsvp.NEW:  # toasts and messages only once the answer is stored
        noted = t.gettext("Noted: you will attend.")
        after_commit_effect(lambda: answer(update, noted))
        head = t.gettext("✅ Noted: you will attend “{title}”, {time}.", **values)
    elif outcome == events.Rsvp.CHANGED:
        changed = t.gettext("Changed: you will attend.")
        after_commit_effect(lambda: answer(update, changed))
        head = t.gettext("✅ Changed: you will attend “{title}”, {time}.", **values)
    else:
        await answer(update)
        head = t.gettext("✅ You are already on the list for “{title}”, {time}.", **values)
    question = t.gettext("May the organisers see your name on the attendance list?")
    send_after_commit(update, context, f"{head}\n\n{question}", _named_markup(t, event))


async def decline(update: Update, context: PactContext) -> None:
    """The "Not this time" button: recorded, and it can still change."""
    event = await _event_for_answer(update, context, RSVP_NO)
    if event is None:
        return
    assert context.user_row is not None
    t = context.t
    outcome, _event = await events.respond(
        context.scope.session, event.id, context.user_row, False, context.services.clock.now()
    )
    title = event.title
    noted = t.gettext("Noted: not this time.")
    after_commit_effect(lambda: answer(update, noted))
    head = (
        t.gettext("Changed: you will not attend “{title}”.", title=title)
        if outcome == events.Rsvp.CHANGED
        else t.gettext("Noted: not this time for “{title}”.", title=title)
    )
    more = t.gettext(
        "Thank you for telling us. If you change your mind, tap “✅ I will attend” above."
    )
    send_after_commit(update, context, f"{head} {more}")


async def named(update: Update, context: PactContext) -> None:
    """Named participation or only counted."""
    query = update.callback_query
    assert query is not None
    event = await _event_for_answer(update, context, NAMED)
    if event is None:
        return
    assert context.user_row is not None and update.effective_user is not None
    t = context.t
    show_name = (query.data or "").endswith(":1")
    person = update.effective_user
    name = " ".join(part for part in (person.first_name, person.last_name) if part)
    outcome, _event = await events.choose_name(
        context.scope.session,
        event.id,
        context.user_row,
        name if show_name else None,
        context.services.clock.now(),
    )
    if outcome not in (events.Rsvp.NEW, events.Rsvp.CHANGED, events.Rsvp.SAME):
        await stale_button(update, context)
        return
    await answer(update)
    chosen = t.gettext("Yes, show my name") if show_name else t.gettext("No, just count me")
    await close_buttons(update, f"✔️ {chosen}")
    await send(
        update,
        context,
        t.gettext("Thank you. Your name will be on the attendance list.")
        if show_name
        else t.gettext("Thank you. You are counted without your name."),
    )


def routes() -> list[routing.Route]:
    """RSVPs for everyone; the /event composer, /events and its buttons: the broadcast
    permission."""
    private = filters.ChatType.PRIVATE
    return [
        routing.staff_flow(conversation(), Permission.BROADCAST, KEY),
        *routing.citizen(
            CallbackQueryHandler(attend, pattern=f"^{RSVP_YES}"),
            CallbackQueryHandler(decline, pattern=f"^{RSVP_NO}"),
            CallbackQueryHandler(named, pattern=f"^{NAMED}"),
        ),
        *routing.staff(
            Permission.BROADCAST,
            CommandHandler("events", list_command, filters=private),
            CallbackQueryHandler(list_button, pattern=f"^{LIST}$"),
            CallbackQueryHandler(show, pattern=f"^{SHOW}"),
            CallbackQueryHandler(announce, pattern=f"^{ANNOUNCE}"),
            CallbackQueryHandler(later, pattern=f"^{LATER}$"),
            CallbackQueryHandler(cancel_event, pattern=f"^{DROP}"),
            CallbackQueryHandler(cancel_confirmed, pattern=f"^{DROP_YES}"),
        ),
    ]
