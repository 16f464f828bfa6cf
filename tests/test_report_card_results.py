"""Report-card results: the grouped counts, the index and shares, suppression at the threshold."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases.services import case_rules
from bot.core.i18n import I18n
from bot.core.jobs import send_broadcasts
from bot.reportcards import card_pdf
from bot.reportcards.results import (
    CONFIRM,
    MUNICIPALITY,
    RESULTS,
    SUGGESTIONS,
    UNPUBLISH_YES,
)
from bot.reportcards.services import results
from bot.reportcards.services.questions import default_questions
from bot.transparency import snapshot
from db.engine import create_engine, create_sessionmaker
from db.models import (
    AgeBand,
    Authority,
    Broadcast,
    PublicSnapshot,
    ReportCardAnswer,
    ReportCardPublication,
    ReportCardResponse,
    ReportCardRound,
    Role,
    StaffMember,
    Topic,
    User,
)
from tests import staff_steps
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english, pdf_text

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
I18N = I18n("sq", "Europe/Tirane")


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
        age_band=AgeBand.AGE_18_29,
        role=Role.CITIZEN,
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


async def card_of(seeded: Seeded, threshold: int, locale: str) -> bytes:
    """Shkodër's PDF card at a threshold, in a locale."""
    async with seeded.maker() as session:
        round_ = await session.get(ReportCardRound, seeded.round_id)
        found = await results.round_results(session, round_, threshold)
    shkoder = by_id(found)[seeded.shkoder]
    return card_pdf.card_pdf(I18N.translator(locale), round_, shkoder, "Shkodër", threshold)


def pdf_words(content: bytes) -> tuple[int, str]:
    """A PDF's page count and its text with blanks as single spaces."""
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), " ".join(
        " ".join(page.extract_text().split()) for page in reader.pages
    )


async def test_the_pdf_card_is_one_page_without_a_suppressed_cells_figures(
    seeded: Seeded,
) -> None:
    """Waste in Shkodër (2 users: index 12/100, asked 0%, paid 50%) shows at threshold 2 and
    is only "< 3" at threshold 3; water (75/100, 67%, 33%) shows at both."""
    pages, shown = pdf_words(await card_of(seeded, 2, "en"))
    assert pages == 1
    assert "12/100" in shown and "50%" in shown
    content = await card_of(seeded, 3, "en")
    pages, text = pdf_words(content)
    assert pages == 1
    for words in (
        "Citizen Report Card",
        "Shkodër",
        "First round",
        "Open from 23 November 2026 to 6 December 2026",
        "Respondents: 3",
        "Drinking water supply 3 75/100 67% 33%",
        "< 3 – – –",
        "not a representative survey",
        "Figures from fewer than 3 people are not shown (“< 3”)",
        "PACT – Partnership Against Corruption Together",
    ):
        assert words in text, words
    assert "12/100" not in text and "50%" not in text and re.search(r"(?<!\d)0%", text) is None
    assert content == await card_of(seeded, 3, "en"), "the same results, the same bytes"
    pages, albanian = pdf_words(await card_of(seeded, 3, "sq"))
    assert pages == 1 and "Raundi i parë" in albanian and "23 nëntor 2026" in albanian


def test_index_and_shares_of_counts() -> None:
    assert results.satisfaction_index({1: 2}) == 0.0
    assert results.satisfaction_index({5: 1}) == 100.0
    assert results.satisfaction_index({}) is None
    assert results.share({0: 3, 2: 1}, (1, 2)) == 0.25
    assert results.share({}, (1, 2)) is None


# The staff screens, driven through the real bot.


async def _subscribe(person: Person) -> None:
    """Follow municipal services in Shkodër."""
    await onboard_english(person)
    await person.command("/menu")
    await person.press("📣 Campaigns & events")
    await person.press("✅ Yes, send me campaign messages")
    await person.press("⬜ Municipal services monitoring")
    await person.press("📍 Municipality: all")
    await person.press("Shkodër")
    await person.press("Municipality of Shkodër")


async def seed_round(bot: BotHarness, *, closed: bool = True) -> tuple[int, int, int]:
    """A launched round about water and waste in Shkodër and Lezhë (closed unless told): in
    Shkodër two responses (both used water, one used waste), in Lezhë one. Returns the ids of
    the round, Shkodër and Lezhë."""
    async with bot.app.services.sessions() as session, session.begin():
        found = await session.execute(
            select(Authority.name, Authority.id).where(
                Authority.kind == "municipality", Authority.name.in_(["Shkodër", "Lezhë"])
            )
        )
        towns = {name: number for name, number in found.all()}
        round_ = new_round([towns["Shkodër"], towns["Lezhë"]])
        if closed:
            round_.closed_at = NOW
        session.add(round_)
        await session.flush()
        await add_response(
            session,
            round_.id,
            towns["Shkodër"],
            {"water": used(5, 1), "waste": used(2, 0)},
            suggestion="Më shumë <kosha> në lagje.",
        )
        await add_response(
            session, round_.id, towns["Shkodër"], {"water": used(3, 0), "waste": NOT_USED}
        )
        await add_response(
            session,
            round_.id,
            towns["Lezhë"],
            {"water": used(1, 2), "waste": used(1, 2)},
            suggestion="Sekret nga Lezha.",
        )
    return round_.id, towns["Shkodër"], towns["Lezhë"]


def edited(person: Person, message_id: int) -> Any:
    """A message of the chat as it reads now (after edits)."""
    return next(m for m in person.messages if m.message_id == message_id)


def with_button(person: Person, label: str) -> Any:
    """The newest message of the chat carrying a button."""
    return next(m for m in reversed(person.messages) if label in m.labels)


async def staff_bot(fake, database_url: str, **overrides: Any) -> tuple[BotHarness, Person]:
    """A bot with threshold 2 and the admin (who holds the report-card permission)."""
    bot = await staff_steps.start(fake, database_url, suppression_threshold=2, **overrides)
    return bot, staff_steps.person(bot, staff_steps.ADMIN, "Ledi")


async def test_staff_read_a_rounds_results_with_small_cells_hidden(fake, database_url) -> None:
    bot, admin = await staff_bot(fake, database_url)
    try:
        round_id, _shkoder, _lezhe = await seed_round(bot)
        await admin.command("/rcresults")
        assert admin.last.text == "Results of which report-card round?"
        await admin.press("First round · November 2026")
        overview = admin.last.text
        assert "• Shkodër: 2" in overview and "• Lezhë: < 2" in overview
        assert "not a representative survey" in overview and "fewer than 2 people" in overview
        assert "Closed: final results." in overview
        await admin.press("Shkodër")
        text = admin.last.text
        assert "Drinking water supply: 2 respondents" in text
        assert "Satisfaction index: 75/100" in text  # (5 + 3) / 2 = 4
        assert "Asked for an unofficial payment: 50% · paid one: 0%" in text
        assert "Satisfaction answers 1–5: 0 · 0 · 1 · 0 · 1" in text
        assert "Waste collection and street cleaning: < 2 respondents, not shown" in text
        assert "monitorim qytetar" in text
        assert admin.last.labels == [
            "📊 Chart",
            "📄 PDF card",
            "💬 Suggestions",
            "📣 Publish the card",
            "⬅️ All municipalities",
        ]
        await admin.press("💬 Suggestions")
        assert "Më shumë <kosha> në lagje." in admin.last.text, "escaped, shown as written"
        assert "Sekret" not in admin.last.text
        screen = admin.messages[-2].message_id
        await admin.press("⬅️ All municipalities", message=admin.messages[-2])
        await admin.press("Lezhë", message=edited(admin, screen))
        lezhe = edited(admin, screen)
        assert "Respondents: < 2" in lezhe.text
        assert "%" not in lezhe.text and "/100" not in lezhe.text
        assert lezhe.labels == ["📊 Chart", "📄 PDF card", "⬅️ All municipalities"]
        await admin.press_data(SUGGESTIONS.data(round_id, _lezhe), screen)
        assert "Sekret" not in admin.last.text
        assert "fewer than 2 responses, so no suggestions are shown" in admin.last.text
    finally:
        await bot.stop()


async def test_chart_pdf_and_files_keep_small_cells_hidden(fake, database_url) -> None:
    bot, admin = await staff_bot(fake, database_url)
    try:
        await seed_round(bot)
        await admin.command("/rcresults")
        await admin.press("First round · November 2026")
        await admin.press("⬇️ CSV")
        await admin.press("⬇️ XLSX")
        await admin.press("Shkodër")
        await admin.press("📊 Chart")
        photo = admin.last.photo
        assert photo is not None
        assert Image.open(io.BytesIO(photo["content"])).format == "PNG"
        await admin.press("📄 PDF card", message=with_button(admin, "📄 PDF card"))
        [csv_file, xlsx_file, pdf_file] = [m.document for m in admin.messages if m.document]
        assert csv_file["file_name"] == xlsx_file["file_name"][:-4] + "csv"
        rows = list(csv.DictReader(io.StringIO(csv_file["content"].decode("utf-8-sig"))))
        assert [
            (r["Municipality"], r["Service"], r["Respondents using the service"]) for r in rows
        ] == [
            ("Shkodër", "Drinking water supply", "2"),
            ("Shkodër", "Waste collection and street cleaning", "< 2"),
            ("Lezhë", "Drinking water supply", "< 2"),
            ("Lezhë", "Waste collection and street cleaning", "< 2"),
        ]
        water, waste = rows[0], rows[1]
        assert water["Satisfaction index (0-100)"] == "75.0"
        assert water["satisfaction_5"] == "1" and water["payment_1"] == "1"
        assert {k: v for k, v in waste.items() if v and k not in ("Round", "Municipality")} == {
            "Respondents in the municipality": "2",
            "Service": "Waste collection and street cleaning",
            "Respondents using the service": "< 2",
        }
        assert rows[2]["Respondents in the municipality"] == "< 2"
        assert all(not v for k, v in rows[2].items() if k.startswith(("satisfaction", "payment")))
        sheet = load_workbook(io.BytesIO(xlsx_file["content"])).active
        assert [c.value for c in sheet[3]][:5] == [
            "First round",
            "Shkodër",
            2,
            "Waste collection and street cleaning",
            "< 2",
        ]
        assert all(c.value is None for c in sheet[3][5:])
        text = pdf_text(pdf_file)
        assert "Citizen Report Card" in text and "Shkodër" in text and "75/100" in text
        assert len(PdfReader(io.BytesIO(pdf_file["content"])).pages) == 1
        [entry, _] = await staff_steps.audit_rows(bot, "report_card.export")
        assert entry.after["format"] in ("csv", "xlsx")
    finally:
        await bot.stop()


async def test_publishing_a_card_once_to_the_municipalitys_subscribers(fake, database_url) -> None:
    bot, admin = await staff_bot(fake, database_url, public_url="https://pact.example/")
    try:
        round_id, shkoder, lezhe = await seed_round(bot)
        drita = bot.person(language_code="en", first_name="Drita")
        await _subscribe(drita)
        await admin.command("/rcresults")
        await admin.press("First round · November 2026")
        await admin.press("Shkodër")
        await admin.press("📣 Publish the card")
        assert "It goes to 1 subscriber of the municipality" in admin.last.text
        confirm = admin.last
        await admin.press("✅ Publish")
        assert admin.last.text.startswith("Published. The card of Shkodër goes out now")
        assert await send_broadcasts(bot.app) == 1
        card = drita.last.text
        assert card.startswith("Citizen Report Card: Shkodër")
        assert "Satisfaction index: 75/100" in card and "< 2 respondents, not shown" in card
        assert "Satisfaction answers" not in card and "kosha" not in card
        assert drita.last.button("🌐 See it on the public page")["url"] == (
            "https://pact.example/sq/m/shkoder"
        )
        async with bot.app.services.sessions() as session:
            [publication] = (await session.execute(select(ReportCardPublication))).scalars()
            broadcast = await session.get(Broadcast, publication.broadcast_id)
        assert (publication.round_id, publication.municipality_id) == (round_id, shkoder)
        assert broadcast.text_sq.startswith("<b>")
        assert "&lt; 2" in broadcast.text_sq and "&lt; 2" in broadcast.text_en
        assert broadcast.municipality_ids == [shkoder] and broadcast.topic == Topic.SERVICES
        [entry] = await staff_steps.audit_rows(bot, "report_card.published")
        assert entry.after == {"municipality_id": shkoder, "broadcast_id": broadcast.id}

        # The same button again (a double tap, or the confirmation still open elsewhere).
        await admin.press_data(CONFIRM.data(round_id, shkoder), confirm.message_id)
        assert edited(admin, confirm.message_id).text == "This card is already published."
        await admin.press_data(CONFIRM.data(round_id, lezhe), confirm.message_id)
        assert edited(admin, confirm.message_id).text == (
            "Too few responses in this municipality to publish a card."
        )
        async with bot.app.services.sessions() as session:
            assert len((await session.execute(select(ReportCardPublication))).all()) == 1
        await admin.command("/rcresults")
        await admin.press("First round · November 2026")
        assert "• Shkodër: 2 · published" in admin.last.text
        await admin.press("Shkodër")
        assert "📣 Publish the card" not in admin.last.labels
    finally:
        await bot.stop()


async def test_an_open_round_cannot_be_published(fake, database_url) -> None:
    bot, admin = await staff_bot(fake, database_url)
    try:
        round_id, shkoder, _lezhe = await seed_round(bot, closed=False)
        await admin.command("/rcresults")
        await admin.press("First round · November 2026")
        assert "Still open: the results may change." in admin.last.text
        await admin.press("Shkodër")
        assert "📣 Publish the card" not in admin.last.labels
        await admin.press_data(CONFIRM.data(round_id, shkoder), admin.last.message_id)
        assert admin.last.text == "The round is not closed yet: cards are published once it is."
        assert not await staff_steps.audit_rows(bot, "report_card.published")
    finally:
        await bot.stop()


async def test_results_are_for_report_card_staff_only(fake, database_url) -> None:
    bot, admin = await staff_bot(fake, database_url)
    try:
        round_id, shkoder, _lezhe = await seed_round(bot)
        await admin.command("/staff", args=f"grant {staff_steps.WORKER} caseworker Besnik")
        worker = staff_steps.person(bot, staff_steps.WORKER, "Besnik")
        await worker.command("/rcresults")
        assert worker.seen("I don't know that command.")
        await worker.press_data(RESULTS.data(round_id), worker.last.message_id)
        await worker.press_data(CONFIRM.data(round_id, shkoder), worker.last.message_id)
        assert not any("Shkodër: 2" in text or "Published" in text for text in worker.texts())
        await admin.press_data(RESULTS.data(round_id + 100), admin.last.message_id)
        assert admin.seen("That button is no longer active.")
        assert not await staff_steps.audit_rows(bot, "report_card.published")
    finally:
        await bot.stop()


async def test_staff_limited_to_some_municipalities_see_only_those(fake, database_url) -> None:
    bot, admin = await staff_bot(fake, database_url)
    try:
        round_id, shkoder, lezhe = await seed_round(bot)
        await admin.command("/staff", args=f"grant {staff_steps.WORKER} admin Besnik")
        async with bot.app.services.sessions() as session, session.begin():
            await session.execute(
                update(StaffMember)
                .where(
                    StaffMember.user_id.in_(
                        select(User.id).where(User.telegram_id == staff_steps.WORKER)
                    )
                )
                .values(municipality_ids=[lezhe])
            )
        besnik = staff_steps.person(bot, staff_steps.WORKER, "Besnik")
        await besnik.command("/rcresults")
        await besnik.press("First round · November 2026")
        assert "• Lezhë: < 2" in besnik.last.text and "Shkodër" not in besnik.last.text
        await besnik.press("⬇️ CSV")
        [export] = [m.document for m in besnik.messages if m.document]
        assert "Shkodër" not in export["content"].decode("utf-8-sig")
        await besnik.press_data(
            MUNICIPALITY.data(round_id, shkoder), besnik.messages[-2].message_id
        )
        assert besnik.seen("That button is no longer active.")
        assert not any("Drinking water supply: 2" in text for text in besnik.texts())
    finally:
        await bot.stop()


def text_heights(content: bytes) -> tuple[int, list[float]]:
    """A PDF's page count and the heights (points from the bottom) of its first page's texts."""
    reader = PdfReader(io.BytesIO(content))
    heights: list[float] = []

    def seen(text: str, _cm: Any, tm: Any, _font: Any, _size: Any) -> None:
        if text.strip():
            heights.append(tm[5])

    reader.pages[0].extract_text(visitor_text=seen)
    return len(reader.pages), heights


def test_the_longest_card_still_fits_on_its_page() -> None:
    """Every category as a service and a title of the longest allowed: the last line is still
    above the page's bottom edge (fpdf2 would not start a second page: it would draw off it)."""
    keys = [category.key for category in case_rules.categories()]
    round_ = new_round([1])
    round_.id, round_.services, round_.title_sq = 1, keys, "Karta e raportimit " * 10 + "x" * 10
    cells = [
        results.Cell(key, 12, False, 62.5, 0.25, 1 / 12, {})
        if number % 2
        else results.Cell(key, None, True, None, None, None, {})
        for number, key in enumerate(keys)
    ]
    municipality = results.MunicipalityResults(1, 140, cells)
    for locale in ("sq", "en"):
        content = card_pdf.card_pdf(
            I18N.translator(locale), round_, municipality, "Vau i Dejës", 10
        )
        pages, heights = text_heights(content)
        assert pages == 1
        assert min(heights) > 20, "the attribution sits above the bottom margin"


async def site_cards(bot: BotHarness) -> dict[str, list[dict[str, Any]]]:
    """The published cards in the public site's figures, by municipality name."""
    async with bot.app.services.sessions() as session:
        site = await session.get(PublicSnapshot, "site")
    assert site is not None
    return {town["name"]: town["report_cards"] for town in site.data["municipalities"]}


async def test_a_card_taken_off_the_page_can_be_published_again(
    fake, database_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publishing and taking off rebuild the site's figures at once (the bot serves the site:
    HEALTH_PORT is set), not at the next scheduled refresh."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot, admin = await staff_bot(fake, database_url, health_port=port)
    rebuilt = asyncio.Event()
    refresh = snapshot.refresh_job

    async def noted(context: Any) -> None:
        await refresh(context)
        rebuilt.set()

    monkeypatch.setattr(snapshot, "refresh_job", noted)
    try:
        round_id, shkoder, _lezhe = await seed_round(bot)
        await admin.command("/rcresults")
        await admin.press("First round · November 2026")
        await admin.press("Shkodër")
        await admin.press("📣 Publish the card")
        await admin.press("✅ Publish")
        await asyncio.wait_for(rebuilt.wait(), timeout=10)
        rebuilt.clear()
        assert [card["round_id"] for card in (await site_cards(bot))["Shkodër"]] == [round_id]
        await admin.press_data(MUNICIPALITY.data(round_id, shkoder), admin.last.message_id)
        card = with_button(admin, "🗑 Remove from the public page")
        assert "This card is published." in card.text
        await admin.press("🗑 Remove from the public page", message=card)
        assert "Messages already sent stay sent" in admin.last.text
        await admin.press("🗑 Remove")
        assert "is no longer on the public page" in admin.last.text
        await asyncio.wait_for(rebuilt.wait(), timeout=10)
        assert (await site_cards(bot))["Shkodër"] == []
        async with bot.app.services.sessions() as session:
            assert not (await session.execute(select(ReportCardPublication))).all()
        [entry] = await staff_steps.audit_rows(bot, "report_card.unpublished")
        assert entry.after["municipality_id"] == shkoder and entry.after["broadcast_id"]
        await admin.press_data(UNPUBLISH_YES.data(round_id, shkoder), admin.last.message_id)
        assert "This card is not published." in admin.last.text
        assert len(await staff_steps.audit_rows(bot, "report_card.unpublished")) == 1

        await admin.press("⬅️ Back")
        await admin.press("📣 Publish the card")
        await admin.press("✅ Publish")
        async with bot.app.services.sessions() as session:
            [again] = (await session.execute(select(ReportCardPublication))).scalars()
            broadcasts = (await session.execute(select(Broadcast))).scalars().all()
        assert again.broadcast_id == max(b.id for b in broadcasts) and len(broadcasts) == 2
    finally:
        await bot.stop()
