"""Report-card results: the grouped counts, the index and shares, suppression at the threshold."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.reportcards.services import results
from bot.reportcards.services.questions import default_questions
from db.engine import create_engine, create_sessionmaker
from db.models import (
    Authority,
    ReportCardAnswer,
    ReportCardResponse,
    ReportCardRound,
)

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    """The session factory and the seeded ids."""

    maker: async_sessionmaker[AsyncSession]
    round_id: int
    other_round_id: int
    shkoder: int
    lezhe: int
    kukes: int


def new_round(municipality_ids: list[int], title: str = "Raundi i parë") -> ReportCardRound:
    """A launched round about water and waste."""
    return ReportCardRound(
        title_sq=title,
        title_en="First round",
        services=["water", "waste"],
        municipality_ids=municipality_ids,
        opens_on=date(2026, 11, 23),
        closes_on=date(2026, 12, 6),
        questions=default_questions(),
        launched_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


async def add_response(
    session: AsyncSession,
    round_id: int,
    municipality_id: int,
    answers: dict[str, dict[str, int]],
    suggestion: str | None = None,
) -> None:
    """A response with its answers (service → question → value)."""
    response = ReportCardResponse(
        round_id=round_id,
        municipality_id=municipality_id,
        age_band="25_34",
        role="resident",
        suggestion=suggestion,
        submitted_on=date(2026, 11, 24),
    )
    session.add(response)
    await session.flush()
    session.add_all(
        ReportCardAnswer(response_id=response.id, service=service, question=code, value=value)
        for service, values in answers.items()
        for code, value in values.items()
    )


def used(satisfaction: int, payment: int, resolution: int = 1, rating: int = 4) -> dict[str, int]:
    """The answers of someone who used a service."""
    return {
        "used": 1,
        "availability": rating,
        "reliability": rating,
        "quality": rating,
        "responsiveness": rating,
        "resolution": resolution,
        "payment": payment,
        "satisfaction": satisfaction,
    }


NOT_USED = {"used": 0}


@pytest.fixture
async def seeded(database_url: str) -> AsyncIterator[Seeded]:
    """Shkodër: water used by 3 (satisfaction 5, 4, 3; payments none, asked-not-paid, paid),
    waste by 2 (and one said no but answered anyway, which must not count); Lezhë: 2 responses;
    Kukës: none. Another round holds a response in Shkodër that must not count."""
    engine = create_engine(database_url)
    maker = create_sessionmaker(engine)
    async with maker() as session, session.begin():
        places = [
            Authority(
                kind="municipality", name=name, in_programme=True, created_at=NOW, updated_at=NOW
            )
            for name in ("Shkodër_t", "Lezhë_t", "Kukës_t")
        ]
        session.add_all(places)
        await session.flush()
        shkoder, lezhe, kukes = (place.id for place in places)
        round_ = new_round([shkoder, lezhe, kukes])
        other = new_round([shkoder], "Tjetri")
        session.add_all([round_, other])
        await session.flush()
        await add_response(
            session,
            round_.id,
            shkoder,
            {"water": used(5, 0, resolution=0), "waste": used(2, 3)},
            suggestion="Më shumë kosha në lagje.",
        )
        await add_response(
            session,
            round_.id,
            shkoder,
            {"water": used(4, 1), "waste": used(1, 0)},
            suggestion="  ",
        )
        await add_response(
            session,
            round_.id,
            shkoder,
            {"water": used(3, 2, resolution=4), "waste": {**used(5, 2), "used": 0}},
            suggestion="Ujë gjatë gjithë ditës.",
        )
        await add_response(session, round_.id, lezhe, {"water": used(5, 0), "waste": NOT_USED})
        await add_response(session, round_.id, lezhe, {"water": used(1, 2), "waste": NOT_USED})
        await add_response(session, other.id, shkoder, {"water": used(1, 2), "waste": used(1, 2)})
    yield Seeded(maker, round_.id, other.id, shkoder, lezhe, kukes)
    await engine.dispose()


async def results_of(seeded: Seeded, threshold: int) -> results.RoundResults:
    """The round's results in a fresh session."""
    async with seeded.maker() as session:
        round_ = await session.get(ReportCardRound, seeded.round_id)
        return await results.round_results(session, round_, threshold)


def by_id(found: results.RoundResults) -> dict[int, results.MunicipalityResults]:
    """Municipality results by id."""
    return {m.municipality_id: m for m in found.municipalities}


def cells(municipality: results.MunicipalityResults) -> dict[str, results.Cell]:
    """A municipality's cells by service."""
    return {c.service: c for c in municipality.cells}


async def test_figures_of_a_cell_at_the_threshold(seeded: Seeded) -> None:
    found = await results_of(seeded, threshold=3)
    assert (found.round_id, found.threshold) == (seeded.round_id, 3)
    assert [m.municipality_id for m in found.municipalities] == [
        seeded.shkoder,
        seeded.lezhe,
        seeded.kukes,
    ]
    shkoder = by_id(found)[seeded.shkoder]
    assert shkoder.respondents == 3
    water = cells(shkoder)["water"]
    assert water == results.Cell(
        service="water",
        respondents=3,
        suppressed=False,
        satisfaction_index=75.0,
        asked_share=pytest.approx(2 / 3),
        paid_share=pytest.approx(1 / 3),
        distributions={
            "availability": [0, 0, 0, 3, 0],
            "reliability": [0, 0, 0, 3, 0],
            "quality": [0, 0, 0, 3, 0],
            "responsiveness": [0, 0, 0, 3, 0],
            "resolution": [1, 1, 0, 0, 1],
            "payment": [1, 1, 1, 0],
            "satisfaction": [0, 0, 1, 1, 1],
        },
    )


async def test_a_cell_one_under_the_threshold_is_suppressed(seeded: Seeded) -> None:
    """Waste in Shkodër has 2 users (the third said no: their answers do not count)."""
    found = await results_of(seeded, threshold=3)
    waste = cells(by_id(found)[seeded.shkoder])["waste"]
    assert waste == results.Cell("waste", None, True, None, None, None, {})
    lezhe = by_id(found)[seeded.lezhe]
    assert lezhe.respondents is None, "two responses: under 3"
    assert all(c.suppressed and c.respondents is None for c in lezhe.cells)
    kukes = by_id(found)[seeded.kukes]
    assert kukes.respondents is None and all(c.suppressed for c in kukes.cells)


async def test_a_lower_threshold_shows_what_the_higher_one_hid(seeded: Seeded) -> None:
    found = await results_of(seeded, threshold=2)
    shkoder, lezhe = by_id(found)[seeded.shkoder], by_id(found)[seeded.lezhe]
    waste = cells(shkoder)["waste"]
    assert (waste.respondents, waste.suppressed) == (2, False)
    assert waste.satisfaction_index == pytest.approx(((2 + 1) / 2 - 1) / 4 * 100)
    assert (waste.asked_share, waste.paid_share) == (0.0, 0.5)
    assert waste.distributions["satisfaction"] == [1, 1, 0, 0, 0]
    assert lezhe.respondents == 2
    assert cells(lezhe)["water"].satisfaction_index == 50.0
    assert cells(lezhe)["waste"].suppressed, "nobody in Lezhë used waste collection"
    assert by_id(found)[seeded.kukes].respondents is None


async def test_a_threshold_of_one_still_hides_empty_cells(seeded: Seeded) -> None:
    found = await results_of(seeded, threshold=1)
    assert cells(by_id(found)[seeded.lezhe])["waste"].suppressed
    assert by_id(found)[seeded.kukes].respondents is None


async def test_another_rounds_responses_do_not_count(seeded: Seeded) -> None:
    async with seeded.maker() as session:
        other = await session.get(ReportCardRound, seeded.other_round_id)
        found = await results.round_results(session, other, 1)
    [shkoder] = found.municipalities
    assert shkoder.respondents == 1
    assert cells(shkoder)["water"].satisfaction_index == 0.0


async def test_suggestions_only_where_the_total_is_shown(seeded: Seeded) -> None:
    async with seeded.maker() as session:
        round_ = await session.get(ReportCardRound, seeded.round_id)
        shown = await results.suggestions(session, round_, seeded.shkoder, 3)
        hidden = await results.suggestions(session, round_, seeded.shkoder, 4)
        lezhe = await results.suggestions(session, round_, seeded.lezhe, 2)
    assert shown == ["Më shumë kosha në lagje.", "Ujë gjatë gjithë ditës."]
    assert hidden is None
    assert lezhe == []


def test_index_and_shares_of_counts() -> None:
    assert results.satisfaction_index({1: 2}) == 0.0
    assert results.satisfaction_index({5: 1}) == 100.0
    assert results.satisfaction_index({}) is None
    assert results.share({0: 3, 2: 1}, (1, 2)) == 0.25
    assert results.share({}, (1, 2)) is None
