"""Events: the /event composer and /events attendance for staff, and RSVP buttons for everyone.

/event is a wizard on the kernel (bot/kit/wizard.py): title → municipality (region, then
municipality, or none) → place → date and time → description or skip → preview (edit any answer)
→ save, then announce now or later (see hearings.mmd). People answer on the buttons under the
invitation and the reminders ("ev:y:{id}", "ev:n:{id}"); saying yes asks once whether their name
may appear on the attendance list ("ev:nm:{id}:1" or ":0").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

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
from bot.kit import moments, pickers, wizard
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
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

PREFIX, KEY = "sb:ev:", "event_draft"
"""The composer's buttons start with PREFIX (region "r:", municipality "m:", "none", "save");
its draft lives in user_data[KEY]."""
TITLE, TOWN, PLACE, WHEN, DESCRIPTION, PREVIEW = (
    "event.title",
    "event.town",
    "event.place",
    "event.when",
    "event.description",
    "event.preview",
)
REGION, PICK, NO_TOWN, SAVE = "r:", "m:", "none", "save"
LATER, LIST = "sb:ev:later", "sb:ev:list"
ANNOUNCE, SHOW, DROP, DROP_YES = (
    ButtonCodec(prefix, int) for prefix in ("sb:ev:ann:", "sb:ev:show:", "sb:ev:cx:", "sb:ev:cxy:")
)
"""An event (by id): announce it, its attendance, cancel it, cancelling confirmed."""
NAMED = ButtonCodec("ev:nm:", int, ("1", "0"))
"""After saying yes: whether the name may appear on the attendance list ("1") or not ("0")."""


async def _ask_title(context: PactContext, draft: dict) -> wizard.Question:
    """The title."""
    return wizard.Question(
        context.t.gettext(
            "New event. What is its title? For example: “Public hearing on the 2027 budget”."
        )
    )


async def _ask_town(context: PactContext, draft: dict) -> wizard.Question:
    """Regions, and no specific municipality."""
    t = context.t
    return wizard.Question(
        t.gettext("In which municipality?"),
        [
            *pickers.region_rows(PREFIX + REGION),
            [(t.gettext("No specific municipality"), PREFIX + NO_TOWN)],
        ],
    )


async def _town(update: Update, context: PactContext, draft: dict, raw: str) -> wizard.Move:
    """A municipality; a button for one that is gone only gets the stale-button toast."""
    t = context.t
    chosen = await context.scope.session.get(Authority, int(raw)) if raw.isdigit() else None
    if chosen is None:
        await answer(update, t.gettext("This button is no longer active."))
        return wizard.STAY
    await answer(update)
    await close_buttons(update, "✔️ " + t.gettext("Municipality of {name}", name=chosen.name))
    draft.pop("no_town", None)
    draft["town"] = chosen.id
    return wizard.NEXT


async def _no_town(update: Update, context: PactContext, draft: dict, _value: str) -> wizard.Move:
    """No specific municipality."""
    await close_buttons(update, "✔️ " + context.t.gettext("No specific municipality"))
    draft.pop("town", None)
    draft["no_town"] = True
    return wizard.NEXT


async def _ask_place(context: PactContext, draft: dict) -> wizard.Question:
    """The place."""
    return wizard.Question(
        context.t.gettext("Where exactly? For example: “Town hall, meeting room 2”.")
    )


def _example(context: PactContext) -> str:
    """An example start that is never in the past: tomorrow at 17:00, Tirana time."""
    return moments.example(context.services.clock.now(), context.services.settings.tz, "17:00")


async def _ask_when(context: PactContext, draft: dict) -> wizard.Question:
    """The moment, in Tirana time."""
    return wizard.Question(
        context.t.gettext(
            "When does it start? Type the date and time in Tirana, for example {example}.",
            example=_example(context),
        )
    )


def _passed(context: PactContext) -> str:
    """The moment typed (or saved) is no longer in the future."""
    return context.t.gettext(
        "That moment has passed. Type a future date and time like {example}.",
        example=_example(context),
    )


async def _when(update: Update, context: PactContext, draft: dict, text: str) -> wizard.Move:
    """A future local date and time."""
    t = context.t
    tz = context.services.settings.tz
    moment = events.parse_start(text, tz, context.services.clock.now())
    if moment is None:
        if events.parse_start(text, tz, datetime.min.replace(tzinfo=tz)) is not None:
            return wizard.retry(_passed(context))
        return wizard.retry(
            t.gettext("Type the date and time like {example}.", example=_example(context))
        )
    draft["starts_at"] = moment.isoformat()
    return wizard.NEXT


async def _ask_description(context: PactContext, draft: dict) -> wizard.Question:
    """An optional description (the kernel adds Skip)."""
    return wizard.Question(
        context.t.gettext("Add a short description (what it is about, who may come), or skip.")
    )


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


async def _ask_preview(context: PactContext, draft: dict) -> wizard.Question:
    """The invitation as subscribers will see it, with save and an edit button per answer."""
    t = context.t
    text = events.announcement(t, _draft_event(draft), await _town_of(context, draft.get("town")))
    edit = WIZARD.edit_button
    return wizard.Question(
        Markup("\n\n").join([t.gettext("<b>Preview</b>"), text]),
        [
            [(t.gettext("✅ Save event"), PREFIX + SAVE)],
            [edit(t.gettext("✏️ Title"), TITLE), edit(t.gettext("✏️ Municipality"), TOWN)],
            [edit(t.gettext("✏️ Place"), PLACE), edit(t.gettext("✏️ When"), WHEN)],
            [edit(t.gettext("✏️ Description"), DESCRIPTION)],
        ],
    )


async def _save(update: Update, context: PactContext, draft: dict, _value: str) -> wizard.Move:
    """Store the event and its reminders, then offer to announce it."""
    if WIZARD.first_missing(draft) is not None:
        return wizard.goto(PREVIEW)
    t = context.t
    now = context.services.clock.now()
    starts_at = datetime.fromisoformat(draft["starts_at"])
    if starts_at <= now:
        await send(update, context, _passed(context))
        return wizard.goto(WHEN, editing=True)
    await close_buttons(update)
    WIZARD.drop(context)
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
            [(t.gettext("📣 Announce to subscribers now"), ANNOUNCE.data(event.id))],
            [(t.gettext("Later"), LATER)],
        ),
    )
    return wizard.END


WIZARD = wizard.Wizard(
    name="event_composer",
    prefix=PREFIX,
    draft_key=KEY,
    title="/event (bot/campaigns/hearings.py): staff with the broadcast permission.",
    steps=(
        wizard.Step(
            TITLE,
            _ask_title,
            (wizard.OnText(wizard.text_answer(events.MAX_TITLE, "title")),),
            keys=("title",),
            label="title (up to 200 characters)",
        ),
        wizard.Step(
            TOWN,
            _ask_town,
            (
                wizard.OnButton(REGION, pickers.open_region, exact=False),
                wizard.OnButton(PICK, _town, exact=False, answer=False),
                wizard.OnButton(NO_TOWN, _no_town),
            ),
            keys=("town", "no_town"),
            screens=(pickers.municipality_screen(PREFIX + PICK),),
            label="a municipality, or no specific municipality",
        ),
        wizard.Step(
            PLACE,
            _ask_place,
            (wizard.OnText(wizard.text_answer(events.MAX_PLACE, "place")),),
            keys=("place",),
            label="place",
        ),
        wizard.Step(
            WHEN,
            _ask_when,
            (wizard.OnText(_when),),
            keys=("starts_at",),
            label="a future date and time (YYYY-MM-DD HH:MM, Tirana)",
        ),
        wizard.Step(
            DESCRIPTION,
            _ask_description,
            (wizard.OnText(wizard.text_answer(events.MAX_DESCRIPTION, "description")),),
            keys=("description",),
            optional=True,
            label="description",
        ),
        wizard.Step(
            PREVIEW,
            _ask_preview,
            (wizard.OnButton(SAVE, _save),),
            goes={
                WHEN: "save, but the moment has passed meanwhile",
                "[*]": "save (the event and its reminders; then announce now or later)",
            },
        ),
    ),
    branches={"/event": (TITLE, TOWN, PLACE, WHEN, DESCRIPTION, PREVIEW)},
    branch_of=lambda draft: "/event",
    entries=(wizard.Entry(fresh=lambda context: {}, command="event"),),
    preview=PREVIEW,
    resume_text=lambda t: t.gettext("You have an event in progress. Continue where you stopped?"),
    discarded=lambda t: t.gettext("Your draft event was discarded."),
)


async def _loaded(update: Update, context: PactContext, button: ButtonCodec) -> Event | None:
    """The event a button points at; the stale-button answer if it is gone."""
    query = update.callback_query
    assert query is not None
    event_id = button.parse(query.data)
    event = await events.get(context.scope.session, event_id) if event_id else None
    if event is None:
        await stale_button(update, context)
    return event


def _upcoming(event: Event, now: datetime) -> bool:
    """Not cancelled and not started yet."""
    return events.closed(event, now) is None


async def _reach(context: PactContext, event: Event) -> int:
    """How many "hearings" subscribers of the event's municipality an announcement reaches now
    (those already attending are not invited again)."""
    towns = (event.municipality_id,) if event.municipality_id else ()
    return await audience.count(
        context.scope.session,
        audience.Audience(
            topics=(Topic.HEARINGS.value,), municipality_ids=towns, not_attending=event.id
        ),
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
    lines = [
        t.ngettext(
            "Scheduled: the invitation goes out now to {count} person (quiet hours apply).",
            "Scheduled: the invitation goes out now to {count} people (quiet hours apply).",
            await _reach(context, event),
        )
    ]
    coming = (await events.attendance(context.scope.session, event.id)).attending
    if coming:
        lines.append(
            t.ngettext(
                "The {count} person already attending is not invited again.",
                "The {count} people already attending are not invited again.",
                coming,
            )
        )
    await send(
        update,
        context,
        join_lines(lines),
        keyboard([(t.gettext("👥 Attendance"), SHOW.data(event.id))]),
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
        rows.append([(f"{mark} {short}", SHOW.data(event.id))])
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
        rows.append([(t.gettext("📣 Announce to subscribers now"), ANNOUNCE.data(event.id))])
        rows.append([(t.gettext("❌ Cancel event"), DROP.data(event.id))])
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
            [(t.gettext("Yes, cancel the event"), DROP_YES.data(event.id))],
            [(t.gettext("No, keep it"), SHOW.data(event.id))],
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


async def _event_for_answer(
    update: Update, context: PactContext, event_id: int | None
) -> Event | None:
    """The event an RSVP button points at, if open, consented to and sent to this person."""
    session = context.scope.session
    event = await events.get(session, event_id) if event_id is not None else None
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


def _pressed(update: Update, button: ButtonCodec) -> Any:
    """What the pressed button's data carries, read by its codec (None when it does not fit)."""
    query = update.callback_query
    return button.parse(query.data) if query else None


def _named_markup(t: Translator, event: Event) -> InlineKeyboardMarkup:
    """Whether the name may appear on the attendance list."""
    return keyboard(
        [(t.gettext("Yes, show my name"), NAMED.data(event.id, "1"))],
        [(t.gettext("No, just count me"), NAMED.data(event.id, "0"))],
    )


async def attend(update: Update, context: PactContext) -> None:
    """The "I will attend" button: recorded, then one question about the name."""
    event = await _event_for_answer(update, context, _pressed(update, RSVP_YES))
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
    event = await _event_for_answer(update, context, _pressed(update, RSVP_NO))
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
    pressed = _pressed(update, NAMED)
    event_id, choice = pressed if pressed is not None else (None, None)
    event = await _event_for_answer(update, context, event_id)
    if event is None:
        return
    assert context.user_row is not None and update.effective_user is not None
    t = context.t
    show_name = choice == "1"
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
        routing.staff_flow(WIZARD.conversation(), Permission.BROADCAST, KEY),
        *routing.citizen(
            CallbackQueryHandler(attend, pattern=RSVP_YES.pattern),
            CallbackQueryHandler(decline, pattern=RSVP_NO.pattern),
            CallbackQueryHandler(named, pattern=NAMED.pattern),
        ),
        *routing.staff(
            Permission.BROADCAST,
            CommandHandler("events", list_command, filters=private),
            CallbackQueryHandler(list_button, pattern=f"^{LIST}$"),
            CallbackQueryHandler(show, pattern=SHOW.pattern),
            CallbackQueryHandler(announce, pattern=ANNOUNCE.pattern),
            CallbackQueryHandler(later, pattern=f"^{LATER}$"),
            CallbackQueryHandler(cancel_event, pattern=DROP.pattern),
            CallbackQueryHandler(cancel_confirmed, pattern=DROP_YES.pattern),
        ),
    ]
