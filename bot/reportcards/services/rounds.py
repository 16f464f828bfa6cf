"""Report-card rounds for staff: define, edit the wording, launch with an invitation, close.

A round is a draft until launched; launching makes the salt of its respondent codes and stores
the invitation broadcast; from then on the question set is frozen. A launched round closes by
itself once its closing day has ended in the bot's time zone (`close_due`, run by the reminders
job) or earlier when staff close it: the salt and every response's respondent code are wiped in
the same transaction, after which no answer can be tied to anyone. Dates are local calendar days
(opens_on..closes_on inclusive).
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaigns.services import audience, campaigns
from bot.cases.services import case_rules
from bot.reportcards.services import questions as question_set
from bot.rti.services import directory
from db.models import (
    Authority,
    AuthorityKind,
    Broadcast,
    BroadcastStatus,
    ReportCardResponse,
    ReportCardRound,
    Topic,
)
from db.repositories import audit

MAX_TITLE = 200
"""Longest round title (the column's size)."""
SUBJECT = "report_card_round"
SERVICE = "{service}"
"""The placeholder a per-service question's wording must keep."""


class Status(enum.StrEnum):
    """Where a round is in its life, on a given local day."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    """Launched; opens on a later day."""
    OPEN = "open"
    ENDED = "ended"
    """Launched, its closing day is over, the closing job has not run yet."""
    CLOSED = "closed"


def status(round_: ReportCardRound, today: date) -> Status:
    """The round's status on a local day."""
    if round_.closed_at is not None:
        return Status.CLOSED
    if round_.launched_at is None:
        return Status.DRAFT
    if today < round_.opens_on:
        return Status.SCHEDULED
    if today > round_.closes_on:
        return Status.ENDED
    return Status.OPEN


def local_today(now: datetime, tz: ZoneInfo) -> date:
    """The calendar day it is in the bot's time zone."""
    return now.astimezone(tz).date()


def opening_moment(round_: ReportCardRound, tz: ZoneInfo) -> datetime:
    """Midnight at the start of the opening day, in the time zone."""
    return datetime.combine(round_.opens_on, time(0, 0), tzinfo=tz)


# --- reading -----------------------------------------------------------------------------------


async def get(session: AsyncSession, round_id: int) -> ReportCardRound | None:
    """One round by id."""
    return await session.get(ReportCardRound, round_id)


async def locked(session: AsyncSession, round_id: int) -> ReportCardRound | None:
    """One round, its row locked until the commit (launch, close and edits do not cross)."""
    return await session.get(
        ReportCardRound, round_id, with_for_update=True, populate_existing=True
    )


async def listing(session: AsyncSession, limit: int) -> list[tuple[ReportCardRound, int]]:
    """The newest rounds with their number of responses."""
    counted = (
        select(ReportCardResponse.round_id, func.count().label("n"))
        .group_by(ReportCardResponse.round_id)
        .subquery()
    )
    found = await session.execute(
        select(ReportCardRound, func.coalesce(counted.c.n, 0))
        .outerjoin(counted, counted.c.round_id == ReportCardRound.id)
        .order_by(ReportCardRound.id.desc())
        .limit(limit)
    )
    return [(round_, int(count)) for round_, count in found.all()]


async def responses(session: AsyncSession, round_id: int) -> int:
    """How many people answered a round."""
    found = await session.execute(
        select(func.count()).where(ReportCardResponse.round_id == round_id)
    )
    return int(found.scalar_one())


async def programme_municipalities(session: AsyncSession) -> list[Authority]:
    """The programme's municipalities, in the order the programme lists them."""
    found = await session.execute(
        select(Authority).where(
            Authority.kind == AuthorityKind.MUNICIPALITY, Authority.in_programme.is_(True)
        )
    )
    return sorted(found.scalars(), key=directory.sort_key)


def service_keys() -> list[str]:
    """The services a round may cover: the case categories, in their order."""
    return [category.key for category in case_rules.categories()]


async def reach(session: AsyncSession, round_: ReportCardRound) -> int:
    """How many subscribers the invitation would reach now."""
    return await audience.count(
        session,
        audience.Audience(
            topics=(Topic.POLLS.value,), municipality_ids=tuple(round_.municipality_ids)
        ),
    )


# --- defining ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    """What staff choose in the new-round wizard."""

    title_sq: str
    title_en: str | None
    services: list[str]
    municipality_ids: list[int]
    opens_on: date
    closes_on: date


class DefinitionProblem(enum.StrEnum):
    """Why a definition cannot be stored."""

    TITLE = "title"
    SERVICES = "services"
    MUNICIPALITIES = "municipalities"
    OPENS_IN_PAST = "opens_in_past"
    CLOSES_BEFORE_OPENING = "closes_before_opening"


def problem(definition: Definition, today: date, known_ids: set[int]) -> DefinitionProblem | None:
    """The first thing wrong with a definition, or None."""
    if not definition.title_sq.strip() or len(definition.title_sq) > MAX_TITLE:
        return DefinitionProblem.TITLE
    if definition.title_en is not None and len(definition.title_en) > MAX_TITLE:
        return DefinitionProblem.TITLE
    keys = set(service_keys())
    if not definition.services or not set(definition.services) <= keys:
        return DefinitionProblem.SERVICES
    if not definition.municipality_ids or not set(definition.municipality_ids) <= known_ids:
        return DefinitionProblem.MUNICIPALITIES
    if definition.opens_on < today:
        return DefinitionProblem.OPENS_IN_PAST
    if definition.closes_on <= definition.opens_on:
        return DefinitionProblem.CLOSES_BEFORE_OPENING
    return None


class RoundError(Exception):
    """A staff action the round's state does not allow; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def create(
    session: AsyncSession, definition: Definition, *, by_user_id: int | None, now: datetime
) -> ReportCardRound:
    """Store a draft round with the default question set, audited."""
    order = service_keys()
    round_ = ReportCardRound(
        title_sq=definition.title_sq,
        title_en=definition.title_en or None,
        services=sorted(set(definition.services), key=order.index),
        municipality_ids=sorted(set(definition.municipality_ids)),
        opens_on=definition.opens_on,
        closes_on=definition.closes_on,
        questions=question_set.default_questions(),
        created_by_user_id=by_user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(round_)
    await session.flush()
    await _audit(
        session,
        round_,
        "report_card_round.created",
        by_user_id,
        now,
        after={
            "title": round_.title_sq,
            "services": round_.services,
            "municipality_ids": round_.municipality_ids,
            "opens_on": round_.opens_on.isoformat(),
            "closes_on": round_.closes_on.isoformat(),
        },
    )
    return round_


async def delete_draft(
    session: AsyncSession, round_id: int, *, by_user_id: int | None, now: datetime
) -> bool:
    """Delete a round that was never launched; False if it is gone or launched."""
    round_ = await locked(session, round_id)
    if round_ is None or round_.launched_at is not None:
        return False
    await _audit(
        session,
        round_,
        "report_card_round.deleted",
        by_user_id,
        now,
        before={"title": round_.title_sq},
    )
    await session.delete(round_)
    await session.flush()
    return True


# --- the question set --------------------------------------------------------------------------


class WordingProblem(enum.StrEnum):
    """Why new wording is refused."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    PLACEHOLDER = "placeholder"
    """A per-service question's wording without "{service}"."""


@dataclass(frozen=True)
class Field:
    """Which wording: a question's (option None) or one of its options', in one language."""

    code: str
    language: str
    option: int | None = None


def question(questions: list[dict[str, Any]], code: str) -> dict[str, Any] | None:
    """A question of a set by code."""
    return next((q for q in questions if q.get("code") == code), None)


def field_exists(questions: list[dict[str, Any]], field: Field) -> bool:
    """Whether the set has this wording to change."""
    found = question(questions, field.code)
    if found is None or field.language not in ("sq", "en"):
        return False
    if field.option is None:
        return True
    return found["kind"] == "choice" and 0 <= field.option < len(found.get("options") or [])


def current_wording(questions: list[dict[str, Any]], field: Field) -> str:
    """The wording as stored ("" for an English text not given)."""
    found = question(questions, field.code)
    assert found is not None
    holder = found if field.option is None else found["options"][field.option]
    return holder.get(field.language) or ""


def wording_problem(
    questions: list[dict[str, Any]], field: Field, text: str
) -> WordingProblem | None:
    """What is wrong with new wording, or None. English may be empty (Albanian is shown)."""
    found = question(questions, field.code)
    assert found is not None
    if not text.strip():
        return WordingProblem.EMPTY if field.language == "sq" else None
    if len(text) > question_set.MAX_TEXT:
        return WordingProblem.TOO_LONG
    if field.option is None and found.get("per_service") and text and SERVICE not in text:
        return WordingProblem.PLACEHOLDER
    return None


def with_wording(questions: list[dict[str, Any]], field: Field, text: str) -> list[dict[str, Any]]:
    """A copy of the set with one wording changed (nothing else)."""
    changed = [dict(q) for q in questions]
    target = question(changed, field.code)
    assert target is not None
    if field.option is None:
        target[field.language] = text
    else:
        target["options"] = [dict(option) for option in target["options"]]
        target["options"][field.option][field.language] = text
    return changed


async def set_wording(
    session: AsyncSession,
    round_id: int,
    field: Field,
    text: str,
    *,
    by_user_id: int | None,
    now: datetime,
) -> ReportCardRound:
    """Change one wording of a draft round's questions, audited.

    Raises RoundError("gone"/"launched"/"field") or ValueError(WordingProblem) when refused.
    """
    round_ = await _draft(session, round_id)
    if not field_exists(round_.questions, field):
        raise RoundError("field")
    text = text.strip()
    trouble = wording_problem(round_.questions, field, text)
    if trouble is not None:
        raise ValueError(trouble)
    before = current_wording(round_.questions, field)
    changed = with_wording(round_.questions, field, text)
    if not question_set.valid(changed):
        raise ValueError(WordingProblem.EMPTY)
    round_.questions = changed
    round_.updated_at = now
    await _audit(
        session,
        round_,
        "report_card_round.question_changed",
        by_user_id,
        now,
        before={"code": field.code, "option": field.option, field.language: before},
        after={"code": field.code, "option": field.option, field.language: text},
    )
    return round_


async def reset_questions(
    session: AsyncSession, round_id: int, *, by_user_id: int | None, now: datetime
) -> ReportCardRound:
    """Put back the default question set of a draft round, audited."""
    round_ = await _draft(session, round_id)
    round_.questions = question_set.default_questions()
    round_.updated_at = now
    await _audit(session, round_, "report_card_round.questions_reset", by_user_id, now)
    return round_


def edited(round_: ReportCardRound) -> bool:
    """Whether the round's wording differs from the default set."""
    return round_.questions != question_set.DEFAULT_QUESTIONS


async def _draft(session: AsyncSession, round_id: int) -> ReportCardRound:
    """A round that may still change (locked), or RoundError."""
    round_ = await locked(session, round_id)
    if round_ is None:
        raise RoundError("gone")
    if round_.launched_at is not None:
        raise RoundError("launched")
    return round_


# --- launching and closing ---------------------------------------------------------------------


async def launch(
    session: AsyncSession,
    round_id: int,
    *,
    title: str,
    text_sq: str,
    text_en: str,
    by_user_id: int | None,
    now: datetime,
    tz: ZoneInfo,
) -> ReportCardRound:
    """Launch a draft round: its salt, and its invitation to "Polls and surveys" subscribers of
    its municipalities at the opening moment (now when already open), audited.

    Raises RoundError("gone"/"launched"/"ended"/"questions").
    """
    round_ = await _draft(session, round_id)
    if round_.closes_on < local_today(now, tz):
        raise RoundError("ended")
    if not question_set.valid(round_.questions):
        raise RoundError("questions")
    broadcast = await campaigns.create_broadcast(
        session,
        title=title,
        text_sq=text_sq,
        text_en=text_en,
        topic=Topic.POLLS,
        municipality_ids=list(round_.municipality_ids),
        send_at=max(now, opening_moment(round_, tz)),
        by_user_id=by_user_id,
        now=now,
        buttons=[{"kind": "report_card", "round_id": round_.id}],
    )
    round_.launched_at = now
    round_.salt = secrets.token_hex(32)
    round_.invitation_broadcast_id = broadcast.id
    round_.updated_at = now
    await _audit(
        session,
        round_,
        "report_card_round.launched",
        by_user_id,
        now,
        after={"broadcast_id": broadcast.id, "send_at": broadcast.send_at.isoformat()},
    )
    return round_


async def close(
    session: AsyncSession, round_id: int, *, by_user_id: int | None, now: datetime
) -> ReportCardRound | None:
    """Close a launched round: no more answers, the salt and every respondent code wiped, an
    invitation not yet sent cancelled; audited. None when it is gone, a draft or closed already.
    """
    round_ = await locked(session, round_id)
    if round_ is None or round_.launched_at is None or round_.closed_at is not None:
        return None
    round_.closed_at = now
    round_.salt = None
    round_.updated_at = now
    wiped = await session.execute(
        update(ReportCardResponse)
        .where(ReportCardResponse.round_id == round_.id, ReportCardResponse.respondent.is_not(None))
        .values(respondent=None)
        .execution_options(synchronize_session="fetch")
    )
    await _stop_invitation(session, round_, by_user_id, now)
    await _audit(
        session,
        round_,
        "report_card_round.closed",
        by_user_id,
        now,
        after={"early": by_user_id is not None, "codes_wiped": wiped.rowcount},
    )
    return round_


async def _stop_invitation(
    session: AsyncSession, round_: ReportCardRound, by_user_id: int | None, now: datetime
) -> None:
    """An invitation still waiting or going out when the round closes is stopped."""
    if round_.invitation_broadcast_id is None:
        return
    broadcast = await session.get(Broadcast, round_.invitation_broadcast_id, with_for_update=True)
    if broadcast is None:
        return
    if broadcast.status == BroadcastStatus.SCHEDULED:
        broadcast.status = BroadcastStatus.CANCELLED
        broadcast.finished_at = now
        broadcast.updated_at = now
        await audit.record(
            session,
            at=now,
            actor_kind="staff" if by_user_id else "system",
            actor_user_id=by_user_id,
            action="broadcast.cancelled",
            subject_type="broadcast",
            subject_id=broadcast.id,
            before={"status": BroadcastStatus.SCHEDULED},
            after={"status": BroadcastStatus.CANCELLED},
        )
    elif broadcast.status in (BroadcastStatus.SENDING, BroadcastStatus.PAUSED):
        await campaigns.cancel(session, broadcast.id, by_user_id, now)


async def close_due(session: AsyncSession, now: datetime, tz: ZoneInfo) -> list[int]:
    """Close every launched round whose closing day has ended in the time zone; their ids.

    Rows another process is closing are skipped (it does them); running again changes nothing.
    """
    today = local_today(now, tz)
    due = await session.execute(
        select(ReportCardRound.id)
        .where(
            ReportCardRound.launched_at.is_not(None),
            ReportCardRound.closed_at.is_(None),
            ReportCardRound.closes_on < today,
        )
        .order_by(ReportCardRound.id)
        .with_for_update(skip_locked=True)
    )
    closed = []
    for round_id in list(due.scalars()):
        if await close(session, round_id, by_user_id=None, now=now) is not None:
            closed.append(round_id)
    return closed


async def _audit(
    session: AsyncSession,
    round_: ReportCardRound,
    action: str,
    by_user_id: int | None,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """One audit entry about a round."""
    await audit.record(
        session,
        at=now,
        actor_kind="staff" if by_user_id else "system",
        actor_user_id=by_user_id,
        action=action,
        subject_type=SUBJECT,
        subject_id=round_.id,
        before=before,
        after=after,
    )
