"""Events (public hearings, forums, trainings): RSVPs, attendance, reminders, cancellation.

Reminders are rows in ``reminders`` (event_id set), due a day and an hour before the start.
``queue_due_reminders`` turns each due row into an EVENT_REMINDER broadcast to the people
attending, which the outbox then delivers like any other broadcast.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaigns.services import audience, campaigns
from bot.core.i18n import I18n, Translator, escaped_within
from bot.kit import moments
from db.models import (
    Authority,
    Broadcast,
    BroadcastKind,
    Event,
    EventRsvp,
    Reminder,
    Topic,
    User,
)
from db.repositories import audit
from db.repositories import reminders as reminders_repo

MAX_TITLE, MAX_PLACE, MAX_DESCRIPTION, MAX_NAME = 200, 200, 1000, 100
LOCALES = ("sq", "en")


class ReminderKind(enum.StrEnum):
    """The two reminders of an event."""

    DAY_BEFORE = "event_day_before"
    HOUR_BEFORE = "event_hour_before"


BEFORE = {
    ReminderKind.DAY_BEFORE: timedelta(hours=24),
    ReminderKind.HOUR_BEFORE: timedelta(hours=1),
}
LATE = {ReminderKind.DAY_BEFORE: timedelta(hours=12), ReminderKind.HOUR_BEFORE: timedelta(hours=1)}
"""How late a reminder may still go out; later than that its wording ("tomorrow") is wrong."""


def parse_start(text: str, tz: ZoneInfo, now: datetime) -> datetime | None:
    """A typed local "YYYY-MM-DD HH:MM" in the future, or None."""
    moment = moments.parse_local(text, tz)
    return moment if moment is not None and moment > now else None


def reminder_moments(starts_at: datetime, now: datetime) -> list[tuple[ReminderKind, datetime]]:
    """The reminders an event gets: a day and an hour before, leaving out those already past."""
    return [
        (kind, starts_at - before) for kind, before in BEFORE.items() if starts_at - before > now
    ]


async def create(
    session: AsyncSession,
    *,
    title: str,
    municipality_id: int | None,
    place: str,
    starts_at: datetime,
    description: str,
    by_user_id: int | None,
    now: datetime,
) -> Event:
    """Store an event with its reminder rows, audited."""
    event = Event(
        title=title[:MAX_TITLE],
        municipality_id=municipality_id,
        place=place[:MAX_PLACE],
        starts_at=starts_at,
        description=description[:MAX_DESCRIPTION],
        created_by_user_id=by_user_id,
        created_at=now,
    )
    session.add(event)
    await session.flush()
    for kind, due in reminder_moments(starts_at, now):
        session.add(Reminder(event_id=event.id, kind=kind, due_at=due))
    await audit.record(
        session,
        at=now,
        actor_kind="staff" if by_user_id else "system",
        actor_user_id=by_user_id,
        action="event.created",
        subject_type="event",
        subject_id=event.id,
        after={"starts_at": starts_at.isoformat(), "municipality_id": municipality_id},
    )
    await session.flush()
    return event


async def get(session: AsyncSession, event_id: int) -> Event | None:
    """An event by id."""
    return await session.get(Event, event_id)


async def town_name(session: AsyncSession, event: Event) -> str | None:
    """The name of the event's municipality, if it has one."""
    if event.municipality_id is None:
        return None
    town = await session.get(Authority, event.municipality_id)
    return town.name if town else None


class Rsvp(enum.StrEnum):
    """What an answer did."""

    NEW = "new"
    CHANGED = "changed"
    SAME = "same"
    CANCELLED = "cancelled"
    STARTED = "started"
    UNKNOWN = "unknown"


def closed(event: Event | None, now: datetime) -> Rsvp | None:
    """Why answers are no longer taken (unknown, cancelled, started), or None if they are."""
    if event is None:
        return Rsvp.UNKNOWN
    if event.cancelled_at is not None:
        return Rsvp.CANCELLED
    if event.starts_at <= now:
        return Rsvp.STARTED
    return None


async def respond(
    session: AsyncSession, event_id: int, user: User, attending: bool, now: datetime
) -> tuple[Rsvp, Event | None]:
    """Record or change whether a person attends; "not attending" forgets any name."""
    event = await get(session, event_id)
    refused = closed(event, now)
    if refused is not None:
        return refused, event
    current = await session.get(EventRsvp, (event_id, user.id))
    if current is None:
        session.add(
            EventRsvp(event_id=event_id, user_id=user.id, attending=attending, responded_at=now)
        )
        await session.flush()
        return Rsvp.NEW, event
    outcome = Rsvp.SAME if current.attending == attending else Rsvp.CHANGED
    current.attending, current.responded_at = attending, now
    if not attending:
        current.display_name = None
    return outcome, event


async def choose_name(
    session: AsyncSession, event_id: int, user: User, display_name: str | None, now: datetime
) -> tuple[Rsvp, Event | None]:
    """Named participation (a name) or only counted (None), for someone attending."""
    event = await get(session, event_id)
    refused = closed(event, now)
    if refused is not None:
        return refused, event
    current = await session.get(EventRsvp, (event_id, user.id))
    if current is None or not current.attending:
        return Rsvp.UNKNOWN, event
    name = display_name.strip()[:MAX_NAME] if display_name else None
    outcome = Rsvp.SAME if current.display_name == name else Rsvp.CHANGED
    current.display_name, current.responded_at = name or None, now
    return outcome, event


@dataclass(frozen=True)
class Attendance:
    """Answers to one event; names only of those who chose named participation."""

    attending: int
    not_attending: int
    names: list[str]

    @property
    def unnamed(self) -> int:
        """People attending who asked to be counted without their name."""
        return self.attending - len(self.names)


async def attendance(session: AsyncSession, event_id: int) -> Attendance:
    """Counts and the visible names of an event's answers."""
    rows = (
        await session.execute(
            select(EventRsvp.attending, EventRsvp.display_name).where(
                EventRsvp.event_id == event_id
            )
        )
    ).all()
    names = sorted((name for attending, name in rows if attending and name), key=str.casefold)
    yes = sum(1 for attending, _name in rows if attending)
    return Attendance(attending=yes, not_attending=len(rows) - yes, names=names)


async def listing(
    session: AsyncSession,
    now: datetime,
    recent: timedelta = timedelta(days=30),
    upcoming: int = 15,
    past: int = 5,
) -> list[tuple[Event, int]]:
    """The last few events of recent weeks, then the next upcoming ones, with how many attend."""
    yes = (
        select(EventRsvp.event_id, func.count().label("n"))
        .where(EventRsvp.attending.is_(True))
        .group_by(EventRsvp.event_id)
        .subquery()
    )
    query = select(Event, func.coalesce(yes.c.n, 0)).outerjoin(yes, yes.c.event_id == Event.id)
    before = await session.execute(
        query.where(Event.starts_at >= now - recent, Event.starts_at <= now)
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(past)
    )
    after = await session.execute(
        query.where(Event.starts_at > now).order_by(Event.starts_at, Event.id).limit(upcoming)
    )
    rows = [*reversed(before.all()), *after.all()]
    return [(event, int(count)) for event, count in rows]


def where(t: Translator, event: Event, town: str | None) -> Markup:
    """The place line (with the municipality) and the local date and time."""
    place = Markup("{}").format(event.place)
    if town:
        town_label = t.gettext("Municipality of {name}", name=town)
        place = Markup("{}, {}").format(place, town_label)
    return Markup("📍 {}\n🕒 {}").format(place, t.datetime(event.starts_at))


def announcement(t: Translator, event: Event, town: str | None) -> Markup:
    """The invitation: title, place, local date and time, description, and the question."""
    parts = [Markup("📅 <b>{}</b>").format(event.title), where(t, event, town)]
    if event.description:
        parts.append(event.description)
    parts.append(t.gettext("Will you come? Tell us with the buttons below."))
    return Markup("\n\n").join(parts)


def reminder(t: Translator, event: Event, town: str | None, kind: ReminderKind) -> Markup:
    """The day-before or hour-before reminder to those attending."""
    head = (
        t.gettext("⏰ <b>Reminder: tomorrow</b>, {title}", title=event.title)
        if kind == ReminderKind.DAY_BEFORE
        else t.gettext("⏰ <b>Reminder: in one hour</b>, {title}", title=event.title)
    )
    foot = t.gettext("Cannot come after all? Tap “Not this time” below.")
    return Markup("\n\n").join([head, where(t, event, town), foot])


def cancellation(t: Translator, event: Event, town: str | None) -> Markup:
    """The notice to those attending that the event will not take place."""
    return Markup("\n\n").join(
        [
            t.gettext("❌ <b>Cancelled</b>: {title}", title=event.title),
            where(t, event, town),
            t.gettext("This event will not take place. Thank you for wanting to come."),
        ]
    )


def buttons(event: Event) -> list[dict[str, Any]]:
    """The RSVP buttons a broadcast about the event carries."""
    return [{"kind": "event", "event_id": event.id}]


async def announce(
    session: AsyncSession,
    event: Event,
    i18n: I18n,
    now: datetime,
    by_user_id: int | None,
    progress_chat_id: int | None = None,
) -> Broadcast:
    """A campaign broadcast to "hearings" subscribers of the event's municipality (or all),
    except those already attending: announcing again invites only the others."""
    town = await town_name(session, event)
    texts = {code: announcement(i18n.translator(code), event, town) for code in LOCALES}
    return await campaigns.create_broadcast(
        session,
        title=escaped_within(event.title, 100),
        text_sq=texts["sq"],
        text_en=texts["en"],
        topic=Topic.HEARINGS,
        municipality_ids=[event.municipality_id] if event.municipality_id else None,
        send_at=now,
        by_user_id=by_user_id,
        now=now,
        buttons=buttons(event),
        audience=audience.Audience(not_attending=event.id).stored(),
        progress_chat_id=progress_chat_id,
    )


async def queue_due_reminders(session: AsyncSession, now: datetime, i18n: I18n) -> int:
    """Turn due event reminder rows into broadcasts to those attending; returns how many."""
    rows = await session.execute(
        select(Reminder, Event)
        .join(Event, Reminder.event_id == Event.id)
        .where(*reminders_repo.due(now))
        .order_by(Reminder.due_at, Reminder.id)
        .with_for_update(skip_locked=True, of=Reminder)
    )
    queued = 0
    for row, event in rows.all():
        kind = ReminderKind(row.kind) if row.kind in set(ReminderKind) else None
        late = kind is None or now > row.due_at + LATE[kind]
        if kind is None or late or closed(event, now) is not None:
            row.cancelled_at = now
            continue
        town = await town_name(session, event)
        texts = {code: reminder(i18n.translator(code), event, town, kind) for code in LOCALES}
        await campaigns.create_broadcast(
            session,
            title=escaped_within(f"{kind.value}: {event.title}", 100),
            text_sq=texts["sq"],
            text_en=texts["en"],
            topic=Topic.HEARINGS,
            municipality_ids=None,
            send_at=now,
            by_user_id=None,
            now=now,
            kind=BroadcastKind.EVENT_REMINDER,
            audience={"event_id": event.id},
            buttons=buttons(event),
        )
        row.sent_at = now
        queued += 1
    await session.flush()
    return queued


async def cancel(
    session: AsyncSession, event: Event, i18n: I18n, now: datetime, by_user_id: int | None
) -> Broadcast | None:
    """Cancel the event and its pending reminders, and tell those attending; None if done before."""
    if event.cancelled_at is not None:
        return None
    event.cancelled_at = now
    pending = await session.execute(
        select(Reminder).where(
            Reminder.event_id == event.id,
            Reminder.sent_at.is_(None),
            Reminder.cancelled_at.is_(None),
        )
    )
    for row in pending.scalars():
        row.cancelled_at = now
    await audit.record(
        session,
        at=now,
        actor_kind="staff" if by_user_id else "system",
        actor_user_id=by_user_id,
        action="event.cancelled",
        subject_type="event",
        subject_id=event.id,
    )
    town = await town_name(session, event)
    texts = {code: cancellation(i18n.translator(code), event, town) for code in LOCALES}
    return await campaigns.create_broadcast(
        session,
        title=escaped_within(f"cancelled: {event.title}", 100),
        text_sq=texts["sq"],
        text_en=texts["en"],
        topic=Topic.HEARINGS,
        municipality_ids=None,
        send_at=now,
        by_user_id=by_user_id,
        now=now,
        kind=BroadcastKind.EVENT_REMINDER,
        audience={"event_id": event.id},
    )


async def rsvps_of(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """A person's answers to events as plain data for their data download."""
    rows = await session.execute(
        select(EventRsvp, Event)
        .join(Event, Event.id == EventRsvp.event_id)
        .where(EventRsvp.user_id == user.id)
        .order_by(EventRsvp.responded_at)
    )
    return [
        {
            "event": event.id,
            "title": event.title,
            "starts_at": event.starts_at.isoformat(),
            "attending": rsvp.attending,
            "name_on_attendance_list": rsvp.display_name,
            "responded_at": rsvp.responded_at.isoformat(),
        }
        for rsvp, event in rows.all()
    ]
