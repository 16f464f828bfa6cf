"""A citizen's answers to a report-card round: whether it is open, storing, export and erasure.

A response is found only by its respondent code (a keyed hash of the person under the round's
salt), never by a user id: it holds the municipality, age band and role the person gave, the
optional suggestion, the day it was sent and the answers. When the round closes the salt and the
codes are wiped, and nothing ties a response to anyone any more. No Telegram here.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reportcards.services import questions as qs
from db.models import AgeBand, ReportCardAnswer, ReportCardResponse, ReportCardRound, User

TAKING_PART = frozenset({AgeBand.AGE_16_17, AgeBand.AGE_18_29, AgeBand.AGE_30_PLUS})
"""Age bands that may answer: under-16s are excluded, and a band must be known."""


class RoundState(enum.StrEnum):
    """Whether a round takes answers today, and if not, why."""

    UNKNOWN = "unknown"
    NOT_LAUNCHED = "not_launched"
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"
    OPEN = "open"


def local_today(now: datetime, tz: ZoneInfo) -> date:
    """Today in the bot's time zone (rounds open and close on local days)."""
    return now.astimezone(tz).date()


def state(round_: ReportCardRound | None, today: date) -> RoundState:
    """Open on opens_on..closes_on (inclusive) once launched, until closed."""
    if round_ is None:
        return RoundState.UNKNOWN
    if round_.closed_at is not None:
        return RoundState.CLOSED
    if round_.launched_at is None:
        return RoundState.NOT_LAUNCHED
    if round_.salt is None or today > round_.closes_on:
        return RoundState.CLOSED  # a launched round keeps its salt until it is closed
    if today < round_.opens_on:
        return RoundState.NOT_YET_OPEN
    return RoundState.OPEN


async def get(session: AsyncSession, round_id: int) -> ReportCardRound | None:
    """A round by id."""
    return await session.get(ReportCardRound, round_id)


async def open_rounds(session: AsyncSession, today: date) -> list[ReportCardRound]:
    """Rounds taking answers today, newest first."""
    found = await session.execute(
        select(ReportCardRound)
        .where(
            ReportCardRound.launched_at.is_not(None),
            ReportCardRound.closed_at.is_(None),
            ReportCardRound.salt.is_not(None),
            ReportCardRound.opens_on <= today,
            ReportCardRound.closes_on >= today,
        )
        .order_by(ReportCardRound.id.desc())
    )
    return list(found.scalars())


def respondent(round_: ReportCardRound, user_id: int) -> str:
    """The person's code in this round (the round must still have its salt)."""
    assert round_.salt is not None
    return hmac.new(bytes.fromhex(round_.salt), str(user_id).encode(), hashlib.sha256).hexdigest()


def per_service(round_: ReportCardRound) -> list[dict[str, Any]]:
    """The round's questions asked once per service, screening first, in order."""
    return [q for q in round_.questions if q.get("per_service")]


def question(round_: ReportCardRound, code: str) -> dict[str, Any] | None:
    """One of the round's questions by code."""
    return next((q for q in round_.questions if q.get("code") == code), None)


@dataclass(frozen=True)
class Held:
    """A person's stored response, as the survey loads it into a draft."""

    municipality_id: int
    suggestion: str | None
    submitted_on: date
    answers: dict[str, dict[str, int]] = field(default_factory=dict)


async def _response(
    session: AsyncSession, round_: ReportCardRound, user: User
) -> ReportCardResponse | None:
    """The person's response row, found by their code (None once the round has no salt)."""
    if round_.salt is None:
        return None
    found = await session.execute(
        select(ReportCardResponse).where(
            ReportCardResponse.round_id == round_.id,
            ReportCardResponse.respondent == respondent(round_, user.id),
        )
    )
    return found.scalar_one_or_none()


async def _answers(session: AsyncSession, response_id: int) -> dict[str, dict[str, int]]:
    """A response's answers as {service: {question code: value}}."""
    rows = await session.execute(
        select(ReportCardAnswer).where(ReportCardAnswer.response_id == response_id)
    )
    held: dict[str, dict[str, int]] = {}
    for answer in rows.scalars():
        held.setdefault(answer.service, {})[answer.question] = answer.value
    return held


async def held(session: AsyncSession, round_: ReportCardRound, user: User) -> Held | None:
    """What the person already sent to this round, if anything (and it is still theirs)."""
    response = await _response(session, round_, user)
    if response is None:
        return None
    answers = await _answers(session, response.id)
    return Held(response.municipality_id, response.suggestion, response.submitted_on, answers)


@dataclass(frozen=True)
class Submission:
    """Answers ready to store: where, per service {code: value}, and the optional suggestion."""

    municipality_id: int
    answers: dict[str, dict[str, int]]
    suggestion: str | None = None


class Problem(enum.StrEnum):
    """Why a submission does not fit its round."""

    MUNICIPALITY = "municipality"
    SERVICE = "service"
    VALUE = "value"
    SUGGESTION = "suggestion"


def problem(round_: ReportCardRound, submission: Submission) -> Problem | None:
    """Checks the answers against the round: every service screened, values in range."""
    if submission.municipality_id not in round_.municipality_ids:
        return Problem.MUNICIPALITY
    if set(submission.answers) != set(round_.services):
        return Problem.SERVICE
    asked = {q["code"]: q for q in per_service(round_)}
    for given in submission.answers.values():
        used = given.get(qs.SCREENING)
        if used not in (0, 1):
            return Problem.SERVICE
        for code, value in given.items():
            if code not in asked or (used == 0 and code != qs.SCREENING):
                return Problem.VALUE
            if isinstance(value, bool) or value not in qs.values_of(asked[code]):
                return Problem.VALUE
    suggestion = submission.suggestion
    if suggestion is not None and (not suggestion.strip() or len(suggestion) > qs.SUGGESTION_MAX):
        return Problem.SUGGESTION
    return None


class Outcome(enum.StrEnum):
    """What became of a submission."""

    NEW = "new"
    REPLACED = "replaced"
    CLOSED = "closed"
    EXCLUDED = "excluded"
    INVALID = "invalid"


async def submit(
    session: AsyncSession,
    round_id: int,
    user: User,
    submission: Submission,
    now: datetime,
    tz: ZoneInfo,
) -> Outcome:
    """Store the person's response, or replace the answers of the one they sent before.

    The round is read under a row lock, so a round closing meanwhile either waits for this
    response (and then wipes its code with the others) or refuses it. Only the municipality,
    the person's age band and role, the suggestion, the day and the answers are stored.
    """
    found = await session.execute(
        select(ReportCardRound)
        .where(ReportCardRound.id == round_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    round_ = found.scalar_one_or_none()
    today = local_today(now, tz)
    if state(round_, today) is not RoundState.OPEN:
        return Outcome.CLOSED
    assert round_ is not None
    if user.age_band not in TAKING_PART:
        return Outcome.EXCLUDED
    if problem(round_, submission) is not None:
        return Outcome.INVALID
    response = await _response(session, round_, user)
    outcome = Outcome.NEW if response is None else Outcome.REPLACED
    if response is None:
        response = ReportCardResponse(round_id=round_.id, respondent=respondent(round_, user.id))
        session.add(response)
    else:
        await session.execute(
            delete(ReportCardAnswer).where(ReportCardAnswer.response_id == response.id)
        )
    response.municipality_id = submission.municipality_id
    response.age_band = user.age_band
    response.role = user.role
    response.suggestion = submission.suggestion
    response.submitted_on = today
    await session.flush()
    session.add_all(
        ReportCardAnswer(response_id=response.id, service=service, question=code, value=value)
        for service, given in submission.answers.items()
        for code, value in given.items()
    )
    await session.flush()
    return outcome


async def _linkable(session: AsyncSession) -> list[ReportCardRound]:
    """Rounds whose responses can still be tied to people (they keep their salt)."""
    found = await session.execute(
        select(ReportCardRound)
        .where(ReportCardRound.salt.is_not(None))
        .order_by(ReportCardRound.id)
    )
    return list(found.scalars())


async def of_person(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """For the data download: the person's responses to rounds not yet closed.

    Responses to closed rounds are tied to no one, so they cannot be found for anyone.
    """
    held_rows = []
    for round_ in await _linkable(session):
        response = await _response(session, round_, user)
        if response is None:
            continue
        held_rows.append(
            {
                "round_id": round_.id,
                "round": round_.title_sq,
                "municipality_id": response.municipality_id,
                "age_band": response.age_band,
                "role": response.role,
                "suggestion": response.suggestion,
                "submitted_on": response.submitted_on.isoformat(),
                "answers": await _answers(session, response.id),
            }
        )
    return held_rows


async def erase_of_person(session: AsyncSession, user: User) -> int:
    """Delete the person's responses to rounds not yet closed (their answers go with them)."""
    erased = 0
    for round_ in await _linkable(session):
        response = await _response(session, round_, user)
        if response is None:
            continue
        await session.execute(
            delete(ReportCardAnswer).where(ReportCardAnswer.response_id == response.id)
        )
        await session.execute(
            delete(ReportCardResponse).where(ReportCardResponse.id == response.id)
        )
        erased += 1
    return erased
