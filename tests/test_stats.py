"""Statistics on both backends with every figure known in advance, and the PNG charts."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.i18n import I18n
from bot.staff import reports
from bot.staff.services import charts, stats
from bot.staff.services.filters import Scope
from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import (
    Authority,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseKind,
    CaseStatus,
    RtiRequest,
    User,
)
from tests import staff_steps
from tests.rti_steps import onboard_english

TZ = ZoneInfo("Europe/Tirane")
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
STAFF = 7
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Places:
    """Ids of the seeded authorities."""

    shkoder: int
    lezhe: int
    kukes: int
    commissioner: int


def utc(*parts: int) -> datetime:
    """A moment given in UTC."""
    return datetime(*parts, tzinfo=UTC)


def authority(kind: str, name: str) -> Authority:
    """An authority row with only what statistics read."""
    return Authority(kind=kind, name=name, in_programme=True, created_at=NOW, updated_at=NOW)


def add_case(
    session: AsyncSession,
    number: int,
    created: datetime,
    status: str,
    municipality_id: int | None,
    category: str | None,
    kind: str = CaseKind.SERVICE,
) -> Case:
    """A case with its "received" timeline entry, as cases.create stores them."""
    case = Case(
        id=number,
        reference=f"PACT-2026-{number:05d}",
        kind=kind,
        status=status,
        identification="named",
        municipality_id=municipality_id,
        category=category,
        created_at=created,
        updated_at=created,
    )
    session.add(case)
    session.add(CaseEvent(case_id=number, at=created, kind="status", status=CaseStatus.RECEIVED))
    return case


def staff_event(
    session: AsyncSession, case: Case, after: timedelta, status: CaseStatus | None = None
) -> None:
    """A staff action on a case, `after` its creation (a status change when given one)."""
    session.add(
        CaseEvent(
            case_id=case.id,
            at=case.created_at + after,
            kind="status" if status else "note",
            status=status,
            public_text=None if status else "Po e shqyrtojmë.",
            staff_user_id=STAFF,
        )
    )


async def add_cases(session: AsyncSession, places: Places) -> None:
    """Five service cases in three municipalities and two corruption reports.

    Staff actions (hours): 2, 4, 1, 10 for service cases, 1 and 2 for corruption reports;
    resolutions (days): 3 and 5 for service cases, 1 for a corruption report.
    """
    hour, day = timedelta(hours=1), timedelta(days=1)
    # 23:30 UTC on 31 January is 00:30 on 1 February in Tirana (UTC+1).
    first = add_case(session, 1, utc(2026, 1, 31, 23, 30), "resolved", places.shkoder, "water")
    second = add_case(session, 2, utc(2026, 2, 10, 10), "under_review", places.shkoder, "water")
    add_case(session, 3, utc(2026, 3, 15, 8), "received", places.shkoder, "roads")
    fourth = add_case(session, 4, utc(2026, 3, 20, 12), "resolved", places.lezhe, "waste")
    # 21:30 UTC on 30 April is 23:30 the same day in Tirana (UTC+2): still April.
    fifth = add_case(session, 5, utc(2026, 4, 30, 21, 30), "rejected", places.kukes, "water")
    # 23:30 UTC on 28 February is already 1 March in Tirana.
    sixth = add_case(session, 6, utc(2026, 2, 28, 23, 30), "under_review", None, None, "corruption")
    seventh = add_case(session, 7, utc(2026, 5, 5, 9), "resolved", places.lezhe, None, "corruption")
    await session.flush()
    staff_event(session, first, 2 * hour)
    staff_event(session, first, 3 * day, CaseStatus.RESOLVED)
    staff_event(session, second, 4 * hour, CaseStatus.UNDER_REVIEW)
    staff_event(session, fourth, 6 * hour)
    staff_event(session, fourth, 1 * hour, CaseStatus.UNDER_REVIEW)
    staff_event(session, fourth, 5 * day, CaseStatus.RESOLVED)
    staff_event(session, fourth, 8 * day, CaseStatus.RESOLVED)
    session.add(
        CaseEvent(
            case_id=5,
            at=fifth.created_at + hour,
            kind=CaseEventKind.REPORTER_INFO,
            public_text="+",
        )
    )
    staff_event(session, fifth, 10 * hour, CaseStatus.REJECTED)
    staff_event(session, sixth, 1 * hour, CaseStatus.UNDER_REVIEW)
    staff_event(session, seventh, 2 * hour)
    staff_event(session, seventh, 1 * day, CaseStatus.RESOLVED)


def request(
    authority_id: int,
    status: str,
    sent_on: date | None,
    outcome_on: date | None = None,
) -> RtiRequest:
    """An information request with only what statistics read filled in meaningfully."""
    return RtiRequest(
        user_id=1,
        authority_id=authority_id,
        information="Buxheti i vitit 2026",
        format="email",
        reply_channel="email",
        reply_address="arta@example.com",
        requester_name="Arta Kola",
        status=status,
        sent_on=sent_on,
        outcome_on=outcome_on,
        created_at=NOW,
        updated_at=NOW,
    )


def add_requests(session: AsyncSession, places: Places) -> None:
    """Shkodër: 4 sent (3 answered after 10, 20 and 4 days), 1 unsent; Lezhë: 1 refused;
    the Commissioner: 1 answered after 7 days."""
    session.add_all(
        [
            request(places.shkoder, "answered", date(2026, 2, 2), date(2026, 2, 12)),
            request(places.shkoder, "partial", date(2026, 2, 5), date(2026, 2, 25)),
            request(places.shkoder, "no_answer", date(2026, 3, 1)),
            request(places.shkoder, "prepared", None),
            request(places.lezhe, "refused", date(2026, 3, 10), date(2026, 3, 15)),
            request(places.commissioner, "answered", date(2026, 4, 1), date(2026, 4, 8)),
            request(places.shkoder, "answered", date(2026, 4, 1), date(2026, 4, 5)),
        ]
    )


async def seed(session: AsyncSession) -> Places:
    """Authorities, a reporter and a staff member, cases and requests."""
    rows = [
        authority("municipality", "Shkodër"),
        authority("municipality", "Lezhë"),
        authority("municipality", "Kukës"),
        authority("other", "Komisioneri për të Drejtën e Informimit"),
    ]
    session.add_all(rows)
    for user_id in (1, STAFF):
        session.add(User(id=user_id, telegram_id=1000 + user_id, created_at=NOW, updated_at=NOW))
    await session.flush()
    places = Places(*(row.id for row in rows))
    await add_cases(session, places)
    add_requests(session, places)
    return places


@pytest.fixture
async def seeded(
    database_url: str,
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], Places]]:
    """A migrated database with the data set above."""
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    maker = create_sessionmaker(engine)
    async with maker() as session, session.begin():
        places = await seed(session)
    yield maker, places
    await engine.dispose()


async def case_stats(maker: async_sessionmaker[AsyncSession], **scope: Any) -> stats.CaseStats:
    """Case statistics in a fresh session."""
    async with maker() as session:
        return await stats.case_stats(session, Scope(**scope), TZ)


async def rti_stats(
    maker: async_sessionmaker[AsyncSession], **scope: Any
) -> list[stats.AuthorityRti]:
    """Request statistics in a fresh session."""
    async with maker() as session:
        return await stats.rti_stats(session, Scope(**scope), TZ)


async def test_service_cases_whole_period(seeded: tuple[Any, Places]) -> None:
    maker, _places = seeded
    assert await case_stats(maker) == stats.CaseStats(
        total=5,
        by_municipality=[("Shkodër", 3), ("Kukës", 1), ("Lezhë", 1)],
        by_category=[("water", 3), ("roads", 1), ("waste", 1)],
        by_status=[("resolved", 2), ("received", 1), ("rejected", 1), ("under_review", 1)],
        by_month=[("2026-02", 2), ("2026-03", 2), ("2026-04", 1)],
        median_hours_to_first_action=3.0,
        median_days_to_resolution=4.0,
    )


async def test_corruption_included_when_allowed(seeded: tuple[Any, Places]) -> None:
    maker, _places = seeded
    assert await case_stats(maker, include_corruption=True) == stats.CaseStats(
        total=7,
        by_municipality=[("Shkodër", 3), ("Lezhë", 2), ("Kukës", 1), ("—", 1)],
        by_category=[("water", 3), ("corruption", 2), ("roads", 1), ("waste", 1)],
        by_status=[
            ("resolved", 3),
            ("under_review", 2),
            ("received", 1),
            ("rejected", 1),
        ],
        by_month=[("2026-02", 2), ("2026-03", 3), ("2026-04", 1), ("2026-05", 1)],
        median_hours_to_first_action=2.0,
        median_days_to_resolution=3.0,
    )


async def test_months_follow_the_given_zone(seeded: tuple[Any, Places]) -> None:
    maker, _places = seeded
    async with maker() as session:
        in_utc = await stats.case_stats(session, Scope(include_corruption=True), ZoneInfo("UTC"))
    assert in_utc.by_month == [
        ("2026-01", 1),
        ("2026-02", 2),
        ("2026-03", 2),
        ("2026-04", 1),
        ("2026-05", 1),
    ]


async def test_period_is_in_tirana_days(seeded: tuple[Any, Places]) -> None:
    maker, _places = seeded
    february = await case_stats(
        maker, start=date(2026, 2, 1), end=date(2026, 2, 28), include_corruption=True
    )
    assert february.total == 2
    assert february.by_month == [("2026-02", 2)]
    assert february.by_municipality == [("Shkodër", 2)]
    assert february.median_hours_to_first_action == 3.0
    assert february.median_days_to_resolution == 3.0


async def test_municipality_scope(seeded: tuple[Any, Places]) -> None:
    maker, places = seeded
    lezhe = await case_stats(maker, municipality_ids=(places.lezhe,), include_corruption=True)
    assert lezhe.total == 2
    assert lezhe.by_municipality == [("Lezhë", 2)]
    assert lezhe.by_category == [("corruption", 1), ("waste", 1)]
    assert lezhe.median_hours_to_first_action == 1.5
    assert lezhe.median_days_to_resolution == 3.0
    without = await case_stats(maker, municipality_ids=(places.lezhe,))
    assert (without.total, without.by_category) == (1, [("waste", 1)])


async def test_nothing_in_scope(seeded: tuple[Any, Places]) -> None:
    maker, places = seeded
    empty = await case_stats(maker, end=date(2026, 1, 31), municipality_ids=(places.kukes,))
    assert empty == stats.CaseStats(0, [], [], [], [], None, None)


async def test_rti_per_authority(seeded: tuple[Any, Places]) -> None:
    maker, places = seeded
    assert await rti_stats(maker) == [
        stats.AuthorityRti("Bashkia Shkodër", 4, 3, 0.75, 10.0),
        stats.AuthorityRti("Bashkia Lezhë", 1, 0, 0.0, None),
        stats.AuthorityRti("Komisioneri për të Drejtën e Informimit", 1, 1, 1.0, 7.0),
    ]
    february = await rti_stats(maker, start=date(2026, 2, 1), end=date(2026, 2, 28))
    assert february == [stats.AuthorityRti("Bashkia Shkodër", 2, 2, 1.0, 15.0)]
    lezhe = await rti_stats(maker, municipality_ids=(places.lezhe,))
    assert lezhe == [stats.AuthorityRti("Bashkia Lezhë", 1, 0, 0.0, None)]
    assert await rti_stats(maker, end=date(2026, 1, 31)) == []


def image(png: bytes) -> Image.Image:
    """The decoded PNG, after checking its signature."""
    assert png.startswith(PNG)
    return Image.open(io.BytesIO(png))


def test_capped_sums_the_rest_into_one_bar() -> None:
    items = [(f"k{i}", 20 - i) for i in range(20)]
    shown = charts.capped(items, other_label="Të tjera")
    assert len(shown) == charts.MAX_BARS
    assert shown[:-1] == items[:14]
    assert shown[-1] == ("Të tjera", sum(count for _key, count in items[14:]))
    assert charts.capped(items[:15]) == items[:15]


def test_charts_are_pngs() -> None:
    places = [(f"Fushë-Arrëz {i}", 40 - i) for i in range(20)]
    horizontal = image(charts.bar_chart("Rastet sipas bashkisë", places, other_label="Të tjera"))
    vertical = image(charts.bar_chart("Gjendja ç", places[:4], horizontal=False))
    trend = image(charts.line_chart("Rastet çdo muaj", [("2026-02", 2), ("2026-03", 3)]))
    for chart in (horizontal, vertical, trend):
        width, height = chart.size
        assert width >= 600 and height >= 300
    assert horizontal.size[1] > trend.size[1]


def test_empty_chart_says_so() -> None:
    png = charts.bar_chart("Rastet", [], empty_label="Nuk ka të dhëna")
    assert image(png).size[0] >= 600
    assert len(png) > 2000
    assert image(charts.line_chart("Rastet", [])).size[0] >= 600


async def test_charts_drawn_from_threads() -> None:
    items = [("Shkodër", 3), ("Lezhë", 2), ("$x$ ç", 1)]
    pngs = await asyncio.gather(
        *(asyncio.to_thread(charts.bar_chart, f"Chart {i}", items) for i in range(4)),
        asyncio.to_thread(charts.line_chart, "Trend", [("2026-01", 1), ("2026-02", 4)]),
    )
    assert all(png.startswith(PNG) and len(png) > 5000 for png in pngs)


# --- /stats as staff read it -------------------------------------------------------------------

I18N = I18n("sq", "Europe/Tirane")
NOTHING_MEASURED = stats.CaseStats(
    total=2,
    by_municipality=[("Shkodër", 1), (stats.NO_MUNICIPALITY, 1)],
    by_category=[("lighting", 1), ("corruption", 1)],
    by_status=[("received", 2)],
    by_month=[("2026-02", 1), ("2026-11", 1)],
    median_hours_to_first_action=None,
    median_days_to_resolution=None,
)


def test_summary_has_categories_a_no_municipality_line_and_no_dashes() -> None:
    t = I18N.translator("en")
    no_answer = stats.AuthorityRti("Bashkia Shkodër", 2, 0, 0.0, None)
    lines = str(reports.summary(t, NOTHING_MEASURED, [no_answer])).splitlines()
    assert "Median time to the first staff action: no staff action yet" in lines
    assert "Median time to resolution: no resolved cases yet" in lines
    assert "• No municipality (corruption reports): 1" in lines
    assert lines[lines.index("<b>By category</b>") + 1 :][:2] == [
        "• Street lighting: 1",
        "• Corruption report: 1",
    ]
    assert "• Bashkia Shkodër: 2 · 0 (0%) · no answer yet" in lines
    assert not any("—" in line for line in lines), "nothing to measure is said in words"


def test_medians_count_whole_hours_and_days_with_ngettext() -> None:
    t = I18N.translator("en")
    one = stats.CaseStats(1, [], [], [], [], 1.0, 1.0)
    assert [str(line) for line in reports.medians(t, one)] == [
        "Median time to the first staff action: 1 hour",
        "Median time to resolution: 1 day",
    ]
    some = stats.CaseStats(1, [], [], [], [], 2.54, 3.0)
    assert [str(line) for line in reports.medians(t, some)] == [
        "Median time to the first staff action: 2.5 hours",
        "Median time to resolution: 3 days",
    ]


def test_charts_are_labelled_in_the_staff_members_language() -> None:
    albanian = {
        name: items
        for name, _title, items in reports.chart_series(I18N.translator("sq"), NOTHING_MEASURED)
    }
    assert albanian["months.png"] == [("shkurt 2026", 1), ("nëntor 2026", 1)], "Babel, not English"
    assert albanian["categories.png"][0] == ("Ndriçimi rrugor", 1)
    assert albanian["municipalities.png"][0] == ("Shkodër", 1)
    assert albanian["municipalities.png"][1][0] != stats.NO_MUNICIPALITY, "a labelled bar"
    english = {
        name: items
        for name, _title, items in reports.chart_series(I18N.translator("en"), NOTHING_MEASURED)
    }
    assert english["months.png"] == [("February 2026", 1), ("November 2026", 1)]
    assert english["municipalities.png"][1] == ("No municipality (corruption reports)", 1)


async def test_stats_sends_the_summary_and_three_charts(fake, database_url) -> None:
    bot = await staff_steps.start(fake, database_url)
    try:
        admin = staff_steps.person(bot, staff_steps.ADMIN, "Ledi")
        await admin.command("/start")
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await staff_steps.report(arta, "👤 Named")
        await admin.command("/stats")
        await admin.press("Everything")
        text = next(m.text for m in admin.messages if m.text and "By category" in m.text)
        assert "• Street lighting: 1" in text and "Median time to resolution: no resolved" in text
        assert "—" not in text
        charts_sent = [m for m in admin.messages if m.photo]
        assert len(charts_sent) == 3
    finally:
        await bot.stop()
