"""Inline-button polls: creation, one changeable vote per person, and results by segment.

Segments are read from the voter's profile when counting (municipality of their subscription,
age band, role), so a vote stores nothing but the chosen option.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Authority, Poll, PollVote, Subscription, User
from db.repositories import audit

MIN_OPTIONS, MAX_OPTIONS, MAX_OPTION = 2, 8, 60
MAX_QUESTION = 300
SEPARATOR = "|"
REGION = "region:"
"""Prefix of a municipality segment value that is a whole region (people following a qark)."""


class OptionsProblem(enum.StrEnum):
    """Why typed options were refused."""

    TOO_FEW = "too_few"
    TOO_MANY = "too_many"
    TOO_LONG = "too_long"
    NO_ALBANIAN = "no_albanian"
    REPEATED = "repeated"


class OptionsError(ValueError):
    """Typed options that cannot make a poll; ``detail`` is the line or count at fault."""

    def __init__(self, problem: OptionsProblem, detail: str = "", count: int = 0) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.detail = detail
        self.count = count


def parse_options(text: str) -> list[dict[str, str]]:
    """One option per non-empty line, "Albanian" or "Albanian | English"; OptionsError if bad."""
    options: list[dict[str, str]] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        sq, _, en = (part.strip() for part in line.partition(SEPARATOR))
        if not sq:
            raise OptionsError(OptionsProblem.NO_ALBANIAN, line)
        for label in (sq, en):
            if len(label) > MAX_OPTION:
                raise OptionsError(OptionsProblem.TOO_LONG, label)
        if any(option["sq"].casefold() == sq.casefold() for option in options):
            raise OptionsError(OptionsProblem.REPEATED, sq)
        options.append({"sq": sq, "en": en} if en else {"sq": sq})
    if len(options) < MIN_OPTIONS:
        raise OptionsError(OptionsProblem.TOO_FEW, count=len(options))
    if len(options) > MAX_OPTIONS:
        raise OptionsError(OptionsProblem.TOO_MANY, count=len(options))
    return options


def label(option: dict[str, str], locale: str) -> str:
    """An option (or any {"sq", "en"} pair) in a language, Albanian when no English was given."""
    return (option.get("en") or option["sq"]) if locale == "en" else option["sq"]


def question(poll: Poll, locale: str) -> str:
    """The question in a language, Albanian when no English was given."""
    return (poll.question_en or poll.question_sq) if locale == "en" else poll.question_sq


async def create(
    session: AsyncSession,
    *,
    question_sq: str,
    question_en: str | None,
    options: list[dict[str, str]],
    by_user_id: int | None,
    now: datetime,
) -> Poll:
    """Store a new open poll, audited."""
    poll = Poll(
        question_sq=question_sq[:MAX_QUESTION],
        question_en=question_en[:MAX_QUESTION] if question_en else None,
        options=options,
        created_by_user_id=by_user_id,
        created_at=now,
    )
    session.add(poll)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_kind="staff" if by_user_id else "system",
        actor_user_id=by_user_id,
        action="poll.created",
        subject_type="poll",
        subject_id=poll.id,
        after={"options": len(options)},
    )
    return poll


async def get(session: AsyncSession, poll_id: int) -> Poll | None:
    """A poll by id."""
    return await session.get(Poll, poll_id)


class Vote(enum.StrEnum):
    """What a tap on an option did."""

    NEW = "new"
    CHANGED = "changed"
    SAME = "same"
    CLOSED = "closed"
    UNKNOWN = "unknown"


async def vote(
    session: AsyncSession, poll_id: int, option: int, user: User, now: datetime
) -> tuple[Vote, Poll | None]:
    """Record or change a person's answer; closed polls and unknown options change nothing."""
    poll = await get(session, poll_id)
    if poll is None or not 0 <= option < len(poll.options):
        return Vote.UNKNOWN, poll
    if poll.closed_at is not None:
        return Vote.CLOSED, poll
    current = await session.get(PollVote, (poll_id, user.id))
    if current is None:
        session.add(PollVote(poll_id=poll_id, user_id=user.id, option=option, voted_at=now))
        await session.flush()
        return Vote.NEW, poll
    if current.option == option:
        return Vote.SAME, poll
    current.option, current.voted_at = option, now
    return Vote.CHANGED, poll


async def close(session: AsyncSession, poll: Poll, now: datetime, by_user_id: int | None) -> bool:
    """Stop accepting votes; False if it was already closed."""
    if poll.closed_at is not None:
        return False
    poll.closed_at = now
    await audit.record(
        session,
        at=now,
        actor_kind="staff" if by_user_id else "system",
        actor_user_id=by_user_id,
        action="poll.closed",
        subject_type="poll",
        subject_id=poll.id,
    )
    return True


async def listing(session: AsyncSession, limit: int = 20) -> list[tuple[Poll, int]]:
    """The newest polls with their number of votes."""
    votes = select(PollVote.poll_id, func.count().label("n")).group_by(PollVote.poll_id).subquery()
    rows = await session.execute(
        select(Poll, func.coalesce(votes.c.n, 0))
        .outerjoin(votes, votes.c.poll_id == Poll.id)
        .order_by(Poll.created_at.desc(), Poll.id.desc())
        .limit(limit)
    )
    return [(poll, int(count)) for poll, count in rows.all()]


Row = tuple[int, str | None, str | None, str | None]
"""One vote: option index, municipality (or REGION + qark), age band, role (None: not given)."""


@dataclass(frozen=True)
class Results:
    """Votes per option, overall and per segment value (None: not given)."""

    totals: list[int]
    by_municipality: list[tuple[str | None, list[int]]]
    by_age_band: list[tuple[str | None, list[int]]]
    by_role: list[tuple[str | None, list[int]]]

    @property
    def total(self) -> int:
        """All votes."""
        return sum(self.totals)


def _segment(rows: list[Row], options: int, column: int) -> list[tuple[str | None, list[int]]]:
    """Votes per option for each value of one column: biggest first, "not given" last."""
    counts: dict[str | None, list[int]] = defaultdict(lambda: [0] * options)
    for row in rows:
        counts[row[column]][row[0]] += 1
    return sorted(counts.items(), key=lambda item: (item[0] is None, -sum(item[1]), item[0] or ""))


def tally(rows: list[Row], options: int) -> Results:
    """Count votes overall and by municipality, age band and role; stray options are ignored."""
    kept = [row for row in rows if 0 <= row[0] < options]
    per_option = Counter(row[0] for row in kept)
    return Results(
        totals=[per_option[index] for index in range(options)],
        by_municipality=_segment(kept, options, 1),
        by_age_band=_segment(kept, options, 2),
        by_role=_segment(kept, options, 3),
    )


async def results(session: AsyncSession, poll: Poll) -> Results:
    """A poll's votes with each voter's current segments."""
    rows = await session.execute(
        select(PollVote.option, Authority.name, Subscription.region, User.age_band, User.role)
        .join(User, User.id == PollVote.user_id)
        .outerjoin(Subscription, Subscription.user_id == User.id)
        .outerjoin(Authority, Authority.id == Subscription.municipality_id)
        .where(PollVote.poll_id == poll.id)
    )
    return tally(
        [
            (option, town or (f"{REGION}{region}" if region else None), age_band, role)
            for option, town, region, age_band, role in rows.all()
        ],
        len(poll.options),
    )


def percent(part: int, whole: int) -> int:
    """A whole-number share, 0 when there is nothing to share."""
    return round(100 * part / whole) if whole else 0


async def votes_of(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """A person's votes as plain data for their data download."""
    rows = await session.execute(
        select(PollVote, Poll)
        .join(Poll, Poll.id == PollVote.poll_id)
        .where(PollVote.user_id == user.id)
        .order_by(PollVote.voted_at)
    )
    return [
        {
            "poll": poll.id,
            "question": poll.question_sq,
            "answer": poll.options[vote.option]["sq"] if vote.option < len(poll.options) else None,
            "voted_at": vote.voted_at.isoformat(),
        }
        for vote, poll in rows.all()
    ]
