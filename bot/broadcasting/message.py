"""What one broadcast looks like to one person: text in their language, media and buttons.

``load`` reads what the buttons need once per broadcast; ``render`` is then pure and cheap, so
the sender renders each recipient's message without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.i18n import Translator
from bot.kit.codec import ButtonCodec
from bot.reportcards.links import OPEN_SURVEY
from db.models import Broadcast, BroadcastKind, Event, Poll, ReportCardRound

VOTE = ButtonCodec("pv:", int, int)
"""A poll option under a broadcast: its poll's id and position (bot/campaigns/polls.py)."""
RSVP_YES, RSVP_NO = ButtonCodec("ev:y:", int), ButtonCodec("ev:n:", int)
"""An answer to an event's invitation, by the event's id (bot/campaigns/hearings.py)."""
UNSUBSCRIBE = ButtonCodec("cmp:unsub:", int)
"""Under a campaign message: its broadcast's id (bot/campaigns/subscribe.py)."""
PHOTO, DOCUMENT = "photo", "document"


@dataclass(frozen=True)
class Content:
    """A broadcast as the sender needs it, detached from the database session."""

    broadcast_id: int
    kind: str
    text_sq: str
    text_en: str | None
    media_kind: str | None
    media_file_id: str | None
    buttons: tuple[dict[str, Any], ...]
    polls: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    events: frozenset[int] = frozenset()
    rounds: frozenset[int] = frozenset()
    """Report-card rounds (by id) its buttons open that exist and are not closed."""


@dataclass(frozen=True)
class Rendered:
    """One recipient's message."""

    text: str
    markup: InlineKeyboardMarkup | None
    media_kind: str | None
    media_file_id: str | None


async def load(session: AsyncSession, broadcast: Broadcast) -> Content:
    """Snapshot a broadcast with the poll options, events and report-card rounds its buttons
    point at."""
    buttons = tuple(broadcast.buttons or ())
    poll_ids = [b["poll_id"] for b in buttons if b.get("kind") == "poll"]
    event_ids = [b["event_id"] for b in buttons if b.get("kind") == "event"]
    polls: dict[int, list[dict[str, str]]] = {}
    if poll_ids:
        found = await session.execute(select(Poll).where(Poll.id.in_(poll_ids)))
        polls = {poll.id: list(poll.options) for poll in found.scalars()}
    events: frozenset[int] = frozenset()
    if event_ids:
        found_events = await session.execute(
            select(Event.id).where(Event.id.in_(event_ids), Event.cancelled_at.is_(None))
        )
        events = frozenset(found_events.scalars())
    round_ids = [b["round_id"] for b in buttons if b.get("kind") == "report_card"]
    rounds: frozenset[int] = frozenset()
    if round_ids:
        found_rounds = await session.execute(
            select(ReportCardRound.id).where(
                ReportCardRound.id.in_(round_ids), ReportCardRound.closed_at.is_(None)
            )
        )
        rounds = frozenset(found_rounds.scalars())
    return Content(
        broadcast_id=broadcast.id,
        kind=broadcast.kind,
        text_sq=broadcast.text_sq,
        text_en=broadcast.text_en,
        media_kind=broadcast.media_kind,
        media_file_id=broadcast.media_file_id,
        buttons=buttons,
        polls=polls,
        events=events,
        rounds=rounds,
    )


def _label(t: Translator, sq: str, en: str | None) -> str:
    """A staff-written label in the reader's language (Albanian when no English was given)."""
    return en if t.locale == "en" and en else sq


def _rows(content: Content, t: Translator) -> list[list[InlineKeyboardButton]]:
    """Button rows for one language: links, poll options, RSVP, report cards, then the way out."""
    rows: list[list[InlineKeyboardButton]] = []
    for button in content.buttons:
        kind = button.get("kind")
        if kind == "link":
            label = _label(t, button["label_sq"], button.get("label_en"))
            rows.append([InlineKeyboardButton(label, url=button["url"])])
        elif kind == "poll" and button.get("poll_id") in content.polls:
            poll_id = button["poll_id"]
            for index, option in enumerate(content.polls[poll_id]):
                label = _label(t, option["sq"], option.get("en"))
                rows.append([InlineKeyboardButton(label, callback_data=VOTE.data(poll_id, index))])
        elif kind == "event" and button.get("event_id") in content.events:
            event_id = button["event_id"]
            rows.append(
                [
                    InlineKeyboardButton(
                        t.gettext("✅ I will attend"), callback_data=RSVP_YES.data(event_id)
                    ),
                    InlineKeyboardButton(
                        t.gettext("Not this time"), callback_data=RSVP_NO.data(event_id)
                    ),
                ]
            )
        elif kind == "report_card" and button.get("round_id") in content.rounds:
            label = t.gettext("📋 Fill in the report card")
            rows.append(
                [InlineKeyboardButton(label, callback_data=OPEN_SURVEY.data(button["round_id"]))]
            )
    if content.kind == BroadcastKind.CAMPAIGN:
        rows.append(
            [
                InlineKeyboardButton(
                    t.gettext("🔕 Unsubscribe"),
                    callback_data=UNSUBSCRIBE.data(content.broadcast_id),
                )
            ]
        )
    return rows


def render(content: Content, t: Translator) -> Rendered:
    """The message for a reader of ``t``'s language: English text if given, else Albanian."""
    text = content.text_en if t.locale == "en" and content.text_en else content.text_sq
    rows = _rows(content, t)
    return Rendered(
        text=text,
        markup=InlineKeyboardMarkup(rows) if rows else None,
        media_kind=content.media_kind,
        media_file_id=content.media_file_id,
    )
