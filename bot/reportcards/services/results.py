"""A report-card round's results per municipality and service, small cells suppressed.

Counts are grouped in SQL (no response is read one by one); the satisfaction index and the
unofficial-payment shares are worked out from those counts. A cell (municipality, service) counts
the responses that said they used the service; one under the threshold is suppressed: no figures
at all, only that it is small. A municipality's total under the threshold is suppressed too.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.campaigns.services import audience, campaigns
from bot.reportcards.services.questions import (
    ASKED,
    PAID,
    PAYMENT,
    SATISFACTION,
    SCREENING,
    values_of,
)
from db.models import (
    ReportCardAnswer,
    ReportCardPublication,
    ReportCardResponse,
    ReportCardRound,
    Topic,
)
from db.repositories import audit


@dataclass(frozen=True)
class Cell:
    """One service in one municipality; every figure None (and no distribution) if suppressed."""

    service: str
    respondents: int | None
    suppressed: bool
    satisfaction_index: float | None
    """(mean satisfaction − 1) / 4 × 100: 0 to 100; None when nobody answered it."""
    asked_share: float | None
    """Share (0-1) of those answering the payment question who were asked for a payment."""
    paid_share: float | None
    """Share (0-1) of those answering the payment question who paid one."""
    distributions: dict[str, list[int]]
    """Question code → counts per answer value, in ``values_of`` order; empty when suppressed."""


@dataclass(frozen=True)
class MunicipalityResults:
    """A municipality's responses: its total (None when under the threshold) and its cells."""

    municipality_id: int
    respondents: int | None
    cells: list[Cell]


@dataclass(frozen=True)
class RoundResults:
    """A round's results, municipality by municipality, in the round's order."""

    round_id: int
    threshold: int
    municipalities: list[MunicipalityResults]


def suppressed(count: int, threshold: int) -> bool:
    """Whether a count is too small to show."""
    return count < threshold


def satisfaction_index(counts: dict[int, int]) -> float | None:
    """The 0-100 index from counts of the 1-5 answers (None when there are none)."""
    answered = sum(counts.values())
    if not answered:
        return None
    mean = sum(value * n for value, n in counts.items()) / answered
    return (mean - 1) / 4 * 100


def share(counts: dict[int, int], values: tuple[int, ...]) -> float | None:
    """The share of answers among `values` (None when there are no answers)."""
    answered = sum(counts.values())
    if not answered:
        return None
    return sum(n for value, n in counts.items() if value in values) / answered


def cell(
    service: str,
    respondents: int,
    counts: dict[str, dict[int, int]],
    questions: list[dict[str, Any]],
    threshold: int,
) -> Cell:
    """A cell from its respondents and its answers' counts (question → value → count)."""
    if suppressed(respondents, threshold):
        return Cell(service, None, True, None, None, None, {})
    distributions = {
        question["code"]: [counts.get(question["code"], {}).get(v, 0) for v in values_of(question)]
        for question in questions
        if question.get("per_service") and question["code"] != SCREENING
    }
    return Cell(
        service=service,
        respondents=respondents,
        suppressed=False,
        satisfaction_index=satisfaction_index(counts.get(SATISFACTION, {})),
        asked_share=share(counts.get(PAYMENT, {}), ASKED),
        paid_share=share(counts.get(PAYMENT, {}), PAID),
        distributions=distributions,
    )


async def round_results(
    session: AsyncSession, round: ReportCardRound, threshold: int
) -> RoundResults:
    """Every municipality of the round (and any other a response names), every service."""
    response = ReportCardResponse
    totals = dict(
        (
            await session.execute(
                select(response.municipality_id, func.count())
                .where(response.round_id == round.id)
                .group_by(response.municipality_id)
            )
        ).all()
    )
    answer = ReportCardAnswer
    respondents = {
        (municipality_id, service): n
        for municipality_id, service, n in (
            await session.execute(
                select(response.municipality_id, answer.service, func.count())
                .join(response, response.id == answer.response_id)
                .where(
                    response.round_id == round.id,
                    answer.question == SCREENING,
                    answer.value == 1,
                )
                .group_by(response.municipality_id, answer.service)
            )
        ).all()
    }
    screening = aliased(ReportCardAnswer)
    counts: dict[tuple[int, str], dict[str, dict[int, int]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for municipality_id, service, code, value, n in (
        await session.execute(
            select(
                response.municipality_id,
                answer.service,
                answer.question,
                answer.value,
                func.count(),
            )
            .join(response, response.id == answer.response_id)
            .join(  # only the answers of people who said they used the service
                screening,
                and_(
                    screening.response_id == answer.response_id,
                    screening.service == answer.service,
                    screening.question == SCREENING,
                    screening.value == 1,
                ),
            )
            .where(response.round_id == round.id, answer.question != SCREENING)
            .group_by(response.municipality_id, answer.service, answer.question, answer.value)
        )
    ).all():
        counts[(municipality_id, service)][code][value] = n
    ids = list(dict.fromkeys(round.municipality_ids))
    ids += sorted(set(totals) - set(ids))
    return RoundResults(
        round_id=round.id,
        threshold=threshold,
        municipalities=[
            MunicipalityResults(
                municipality_id=municipality_id,
                respondents=(
                    None
                    if suppressed(totals.get(municipality_id, 0), threshold)
                    else totals[municipality_id]
                ),
                cells=[
                    cell(
                        service,
                        respondents.get((municipality_id, service), 0),
                        counts.get((municipality_id, service), {}),
                        round.questions,
                        threshold,
                    )
                    for service in round.services
                ],
            )
            for municipality_id in ids
        ],
    )


async def suggestions(
    session: AsyncSession, round: ReportCardRound, municipality_id: int, threshold: int
) -> list[str] | None:
    """The open suggestions of a municipality's responses, for staff only: None when its total
    is under the threshold. Sorted by their text, so their order tells nothing about who or when.
    """
    response = ReportCardResponse
    where = (response.round_id == round.id, response.municipality_id == municipality_id)
    total = (
        await session.execute(select(func.count()).select_from(response).where(*where))
    ).scalar_one()
    if suppressed(total, threshold):
        return None
    rows = await session.execute(
        select(response.suggestion).where(*where, func.length(response.suggestion) > 0)
    )
    return sorted(text.strip() for text in rows.scalars() if text and text.strip())


class Refusal(enum.StrEnum):
    """Why a card cannot be published."""

    NOT_CLOSED = "not_closed"
    """Answers still come in (or never did): only a closed round's figures are final."""
    PUBLISHED = "published"
    """Already published: once is enough."""
    TOO_FEW = "too_few"
    """The municipality's total is under the threshold: there is nothing to show."""
    NOT_IN_ROUND = "not_in_round"


def card_audience(municipality_id: int) -> audience.Audience:
    """Who a published card reaches: the municipality's followers of services or of surveys."""
    return audience.Audience(
        topics=(Topic.SERVICES.value, Topic.POLLS.value), municipality_ids=(municipality_id,)
    )


async def published(session: AsyncSession, round_id: int) -> set[int]:
    """The municipalities whose card of this round is published."""
    rows = await session.execute(
        select(ReportCardPublication.municipality_id).where(
            ReportCardPublication.round_id == round_id
        )
    )
    return set(rows.scalars())


async def publish(
    session: AsyncSession,
    round: ReportCardRound,
    municipality: MunicipalityResults | None,
    *,
    title: str,
    text_sq: str,
    text_en: str,
    by_user_id: int | None,
    now: datetime,
    progress_chat_id: int | None = None,
    buttons: list[dict[str, Any]] | None = None,
) -> ReportCardPublication | Refusal:
    """Publish a municipality's card once: its publication row and a broadcast of the text card
    to the municipality's subscribers now (quiet hours and the weekly cap apply), audited."""
    if municipality is None:
        return Refusal.NOT_IN_ROUND
    if round.closed_at is None:
        return Refusal.NOT_CLOSED
    if municipality.respondents is None:
        return Refusal.TOO_FEW
    key = (round.id, municipality.municipality_id)
    if await session.get(ReportCardPublication, key) is not None:
        return Refusal.PUBLISHED
    publication = ReportCardPublication(
        round_id=round.id,
        municipality_id=municipality.municipality_id,
        published_at=now,
        published_by_user_id=by_user_id,
    )
    session.add(publication)
    await session.flush()  # a second publisher at the same moment stops here, on the key
    targets = card_audience(municipality.municipality_id)
    broadcast = await campaigns.create_broadcast(
        session,
        title=title,
        text_sq=text_sq,
        text_en=text_en,
        topic=Topic.SERVICES,
        municipality_ids=[municipality.municipality_id],
        audience=targets.stored(),
        buttons=buttons,
        send_at=now,
        by_user_id=by_user_id,
        progress_chat_id=progress_chat_id,
        now=now,
    )
    publication.broadcast_id = broadcast.id
    await audit.record(
        session,
        at=now,
        actor_kind="staff" if by_user_id else "system",
        actor_user_id=by_user_id,
        action="report_card.published",
        subject_type="report_card_round",
        subject_id=round.id,
        after={"municipality_id": municipality.municipality_id, "broadcast_id": broadcast.id},
    )
    return publication


async def unpublish(
    session: AsyncSession,
    round_id: int,
    municipality_id: int,
    by_user_id: int | None,
    now: datetime,
) -> bool:
    """Take a card off the public site (messages already sent stay sent); False if it was not
    published. Audited; the card may be published again."""
    publication = await session.get(ReportCardPublication, (round_id, municipality_id))
    if publication is None:
        return False
    broadcast_id = publication.broadcast_id
    await session.delete(publication)
    await audit.record(
        session,
        at=now,
        actor_kind="staff" if by_user_id else "system",
        actor_user_id=by_user_id,
        action="report_card.unpublished",
        subject_type="report_card_round",
        subject_id=round_id,
        after={"municipality_id": municipality_id, "broadcast_id": broadcast_id},
    )
    return True
