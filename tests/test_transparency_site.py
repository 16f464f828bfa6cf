"""The public transparency site over real HTTP: figures from the snapshot, suppression of small
counts in pages and open data, both languages, the 404, the headers, a page view reading only
the snapshot, and the refresh job."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from sqlalchemy import event, select

from bot.app import build_application
from bot.cases.services import case_rules
from bot.core.lifecycle import shutdown, startup
from bot.core.runtime import unit_of_work
from bot.core.webhook import start_http, start_webhook
from bot.transparency import opendata, snapshot
from bot.transparency.services import figures
from db.models import (
    Authority,
    AuthorityKind,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseKind,
    CaseStatus,
    GrantBand,
    Identification,
    Initiative,
    PublicSnapshot,
    ReportCardAnswer,
    ReportCardPublication,
    ReportCardResponse,
    ReportCardRound,
    RtiRequest,
)
from fakeapi import FakeTelegram
from tests.harness import START, BotHarness

SLUGS = {
    "shkoder", "malesi-e-madhe", "vau-i-dejes", "puke", "fushe-arrez", "lezhe", "mirdite",
    "kurbin", "kukes", "has", "tropoje", "diber", "mat", "bulqize", "klos",
}  # fmt: skip
COUNT_KEYS = {
    "received", "resolved", "sent", "due_or_answered", "answered_on_time", "respondents",
    "cases_received", "cases_resolved", "rti_sent", "rti_answered",
}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Site:
    """The running bot, its HTTP port, and an HTTP client."""

    harness: BotHarness
    port: int
    http: aiohttp.ClientSession

    async def get(self, path: str, method: str = "GET") -> tuple[int, Any, str]:
        """Status, headers and body of a request (redirects not followed)."""
        async with self.http.request(
            method, f"http://127.0.0.1:{self.port}{path}", allow_redirects=False
        ) as response:
            return response.status, response.headers, await response.text()

    async def rebuild(self) -> None:
        """Build the snapshot now, as the refresh job does."""
        await snapshot.rebuild(self.harness.app.services)


@pytest.fixture
async def site(fake: FakeTelegram, database_url: str) -> AsyncIterator[Site]:
    """The bot polling with its HTTP server on HEALTH_PORT, as `pact-bot run` serves it."""
    port = _free_port()
    harness = BotHarness(fake, database_url, health_port=port, webhook_listen="127.0.0.1")
    await harness.start()
    runner = await start_http(harness.app, harness.settings, port)
    try:
        async with aiohttp.ClientSession() as http:
            yield Site(harness, port, http)
    finally:
        await runner.cleanup()
        await harness.stop()


async def town_ids(harness: BotHarness) -> dict[str, int]:
    """Programme municipalities' ids by slug."""
    async with harness.app.services.sessions() as session:
        rows = await session.execute(
            select(Authority.id, Authority.name).where(
                Authority.kind == AuthorityKind.MUNICIPALITY, Authority.in_programme.is_(True)
            )
        )
        return {figures.slug(name): number for number, name in rows}


def a_case(number: int, town: int, category: str, status: CaseStatus) -> Case:
    """A service complaint created at START."""
    return Case(
        reference=f"PACT-2026-{number:05d}",
        kind=CaseKind.SERVICE,
        status=status,
        identification=Identification.ANONYMOUS,
        municipality_id=town,
        category=category,
        description="Uji mungon prej tri ditësh në lagjen time, Arta Kola",
        created_at=START,
        updated_at=START,
    )


def a_request(town: int, status: str, sent_on: date, due_on: date, outcome: date | None) -> Any:
    """A request for information sent to a municipality (already anonymised: no user)."""
    return RtiRequest(
        user_id=None,
        authority_id=town,
        information="Buxheti i vitit 2026",
        format="email",
        reply_channel="email",
        reply_address="arta@example.com",
        requester_name="Arta Kola",
        status=status,
        sent_on=sent_on,
        due_on=due_on,
        outcome_on=outcome,
        created_at=START,
        updated_at=START,
    )


async def seed(harness: BotHarness) -> dict[str, int]:
    """Shkodër: 12 water complaints (10 resolved after 1..10 days), 11 waste, 7 roads; 12
    requests (10 answered on time, 2 past their deadline); a published card (12 water users,
    4 waste users); 2 initiatives. Lezhë: 4 complaints, 3 requests, an unpublished card of 11.
    Has: 1 initiative. A corruption report in Shkodër, never counted."""
    ids = await town_ids(harness)
    shkoder, lezhe = ids["shkoder"], ids["lezhe"]
    number = 0
    rows: list[Any] = []

    def add_case(town: int, category: str, status: CaseStatus) -> Case:
        nonlocal number
        number += 1
        row = a_case(number, town, category, status)
        rows.append(row)
        return row

    water = [
        add_case(shkoder, "water", CaseStatus.RESOLVED if i < 10 else CaseStatus.RECEIVED)
        for i in range(12)
    ]
    for _ in range(11):
        add_case(shkoder, "waste", CaseStatus.RECEIVED)
    for _ in range(7):
        add_case(shkoder, "roads", CaseStatus.UNDER_REVIEW)
    for _ in range(4):
        add_case(lezhe, "water", CaseStatus.RECEIVED)
    corruption = add_case(shkoder, "water", CaseStatus.RECEIVED)
    corruption.kind, corruption.category = CaseKind.CORRUPTION, None
    sent = date(2026, 9, 1)
    for i in range(10):
        rows.append(a_request(shkoder, "answered", sent, date(2026, 9, 15), date(2026, 9, 5 + i)))
    for _ in range(2):
        rows.append(a_request(shkoder, "no_answer", sent, date(2026, 9, 15), None))
    for _ in range(3):
        rows.append(a_request(lezhe, "answered", sent, date(2026, 9, 15), date(2026, 9, 10)))
    round_ = ReportCardRound(
        title_sq="Karta e parë",
        title_en="First card",
        services=["water", "waste"],
        municipality_ids=[shkoder, lezhe],
        opens_on=date(2026, 10, 1),
        closes_on=date(2026, 10, 14),
        questions=[],
        salt=None,
        launched_at=START - timedelta(days=60),
        closed_at=START - timedelta(days=38),
        created_at=START - timedelta(days=61),
        updated_at=START - timedelta(days=38),
    )
    rows += [
        Initiative(
            grant_round=1,
            organisation="Qendra Rinore Shkodër",
            municipality_id=shkoder,
            topic="Monitorimi i buxhetit vendor",
            starts_on=date(2026, 3, 1),
            ends_on=date(2026, 12, 31),
            grant_band=GrantBand.FROM_5K_TO_10K,
            link="https://example.org/buxheti",
            created_at=START,
            updated_at=START,
        ),
        Initiative(
            grant_round=1,
            organisation="Gazetarët e Veriut",
            municipality_id=shkoder,
            topic="Gazetari investigative për prokurimet",
            starts_on=date(2026, 4, 1),
            ends_on=None,
            grant_band=GrantBand.UP_TO_5K,
            link="javascript:alert(1)",
            created_at=START,
            updated_at=START,
        ),
        Initiative(
            grant_round=2,
            organisation="Gratë e Hasit",
            municipality_id=ids["has"],
            topic="Dëgjesa publike për ujin",
            starts_on=date(2026, 5, 1),
            ends_on=date(2026, 11, 30),
            grant_band=GrantBand.UP_TO_5K,
            link=None,
            created_at=START,
            updated_at=START,
        ),
    ]
    async with harness.app.services.sessions() as session:
        session.add_all(rows)
        session.add(round_)
        await session.flush()
        for days, case in enumerate(water[:10], start=1):
            session.add(
                CaseEvent(
                    case_id=case.id,
                    at=START + timedelta(days=days),
                    kind=CaseEventKind.STATUS,
                    status=CaseStatus.RESOLVED,
                )
            )
        # Shkodër: 12 used water (satisfaction 5 ×6, 3 ×6: index 75; 3 asked, 1 paid), 4 waste.
        for i in range(12):
            response = ReportCardResponse(
                round_id=round_.id,
                respondent=None,
                municipality_id=shkoder,
                suggestion="Kryetari Arben Hoxha merr ryshfet",
                submitted_on=date(2026, 10, 2),
            )
            session.add(response)
            await session.flush()
            answers = [("water", "used", 1), ("water", "satisfaction", 5 if i < 6 else 3)]
            answers.append(("water", "payment", 2 if i == 0 else 1 if i < 3 else 0))
            answers.append(("waste", "used", 1 if i < 4 else 0))
            if i < 4:
                answers.append(("waste", "satisfaction", 1))
            session.add_all(
                ReportCardAnswer(response_id=response.id, service=s, question=q, value=v)
                for s, q, v in answers
            )
        for _ in range(11):
            response = ReportCardResponse(
                round_id=round_.id,
                respondent=None,
                municipality_id=lezhe,
                submitted_on=date(2026, 10, 3),
            )
            session.add(response)
            await session.flush()
            session.add_all(
                [
                    ReportCardAnswer(
                        response_id=response.id, service="water", question="used", value=1
                    ),
                    ReportCardAnswer(
                        response_id=response.id, service="water", question="satisfaction", value=2
                    ),
                ]
            )
        session.add(
            ReportCardPublication(
                round_id=round_.id, municipality_id=shkoder, published_at=START - timedelta(days=30)
            )
        )
        await session.commit()
    return ids


class Tables(HTMLParser):
    """Rows of the page's tables keyed by their data-* attribute, as lists of cell texts; the
    texts of the elements carrying a data-testid."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self.testids: dict[str, str] = {}
        self.landmarks: list[str] = []
        self.html_lang: str | None = None
        self._row: tuple[str, list[str]] | None = None
        self._cell: list[str] | None = None
        self._open: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = dict(attrs)
        if tag == "html":
            self.html_lang = data.get("lang")
        if tag in ("header", "nav", "main", "footer"):
            self.landmarks.append(tag)
        if tag == "tr":
            key = next((f"{k}={v}" for k, v in attrs if k.startswith("data-")), None)
            self._row = (key, []) if key else None
        if tag in ("td", "th") and self._row is not None:
            self._cell = []
        if "data-testid" in data:
            self._open.append((tag, data["data-testid"] or "", []))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row[1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows[self._row[0]] = self._row[1]
            self._row = None
        if self._open and self._open[-1][0] == tag:
            _tag, testid, texts = self._open.pop()
            self.testids[testid] = " ".join("".join(texts).split())

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        for _tag, _testid, texts in self._open:
            texts.append(data)


def parsed(html: str) -> Tables:
    """The page's tables and test ids."""
    tables = Tables()
    tables.feed(html)
    return tables


def counts_in(data: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every value under a count key anywhere in the snapshot's data."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in COUNT_KEYS:
                yield f"{path}.{key}", value
            yield from counts_in(value, f"{path}.{key}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from counts_in(value, f"{path}[{index}]")


@contextmanager
def statements(harness: BotHarness) -> Iterator[list[str]]:
    """Every SQL statement the bot's engine runs meanwhile for an HTTP request (run in one of
    aiohttp's request tasks; the bot's own background work is left out)."""
    seen: list[str] = []
    engine = harness.app.services.engine.sync_engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        task = asyncio.current_task()
        coroutine = task.get_coro() if task is not None else None
        if "RequestHandler" in getattr(coroutine, "__qualname__", ""):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_pages_show_the_seeded_figures_and_hide_small_counts(site: Site) -> None:
    await seed(site.harness)
    await site.rebuild()

    status, headers, html = await site.get("/sq/m/shkoder")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = parsed(html)
    assert page.html_lang == "sq"
    assert page.landmarks == ["header", "nav", "main", "footer"]
    assert page.testids["cases-received"] == "30"  # 12 + 11 + 7; the corruption report is not
    assert page.testids["cases-resolved"] == "10"
    assert page.rows["data-category=water"] == ["Furnizimi me ujë të pijshëm", "12", "10"]
    assert page.rows["data-category=waste"] == ["Grumbullimi i mbetjeve dhe pastrimi", "11", "< 10"]
    assert page.rows["data-category=roads"][1:] == ["< 10", "< 10"], "7 is under the threshold"
    assert ">7<" not in html and "&lt; 10" in html
    assert page.testids["rti-sent"] == "12"
    assert page.testids["rti-on-time"] == "83%"  # 10 of 12
    assert "Uji mungon" not in html and "Arta Kola" not in html and "Arben" not in html
    # The published card: water shown (12 users, index 75, 25% asked, 8% paid), waste hidden.
    cards = page.testids["report-cards"]
    assert "Karta e parë" in cards
    assert page.rows["data-service=water"] == [
        "Furnizimi me ujë të pijshëm",
        "12",
        "75",
        "25%",
        "8%",
    ]
    assert page.rows["data-service=waste"][1:] == ["< 10", "—", "—", "—"]
    initiatives = page.testids["initiatives"]
    assert "Qendra Rinore Shkodër" in initiatives and "Gazetarët e Veriut" in initiatives
    assert 'href="https://example.org/buxheti"' in html
    assert "javascript:" not in html, "only http(s) links are published"
    assert "Gratë e Hasit" not in initiatives

    status, _headers, html = await site.get("/en/m/lezhe")
    page = parsed(html)
    assert status == 200 and page.html_lang == "en"
    assert page.testids["cases-received"] == "< 10"
    assert page.testids["rti-sent"] == "< 10"
    assert "No report card has been published for this municipality yet." in html
    assert "First card" not in html, "Lezhë's card was never published"

    status, _headers, html = await site.get("/en/m/shkoder")
    initiatives = parsed(html).testids["initiatives"]
    assert "Grant round 1; 1 March 2026 to 31 December 2026; grant €5,000–10,000." in initiatives
    assert "Grant round 1; since 1 April 2026, ongoing; grant up to €5,000." in initiatives

    status, _headers, html = await site.get("/en/?indicator=rti_on_time_share")
    page = parsed(html)
    assert status == 200
    assert page.rows["data-municipality=shkoder"] == [
        "Shkodër", "30", "33%", "5.5", "12", "83%", "75",
    ]  # fmt: skip
    assert page.rows["data-municipality=lezhe"] == ["Lezhë", "< 10", "—", "—", "< 10", "—", "—"]
    assert {row.split("=")[1] for row in page.rows if row.startswith("data-municipality")} == SLUGS
    assert 'aria-current="true">Share of requests answered on time' in html
    assert 'href="/sq/?indicator=rti_on_time_share" hreflang="sq"' in html, "switch keeps it"
    assert 'data-testid="map"' in html and 'data-testid="map-legend"' in html
    assert "<title>Shkodër: 83%; 2 funded initiatives</title>" in html
    assert "<title>Lezhë: —</title>" in html, "no initiative in Lezhë: no diamond"
    assert 'data-initiatives="2"' in html and 'data-initiatives="1"' in html
    assert "Funded civil-society initiatives (number)" in page.testids["map-legend"]
    assert 'href="/en/m/shkoder"' in page.testids["map"] or "/en/m/shkoder" in html
    assert "Gratë e Hasit" in page.testids["initiatives"]
    assert "Figures last updated: 23 November 2026, 10:00." in page.testids["built-at"]
    for slug in SLUGS:
        assert f'href="/en/m/{slug}"' in html

    # No count under the threshold anywhere in the stored figures.
    async with site.harness.app.services.sessions() as session:
        stored = await session.get(PublicSnapshot, snapshot.KEY)
        assert stored is not None
        small = [(path, value) for path, value in counts_in(stored.data) if value is not None]
        assert small and all(value == "hidden" or value >= 10 for _path, value in small), small


async def test_open_data_agrees_with_the_pages_and_hides_small_counts(site: Site) -> None:
    await seed(site.harness)
    await site.rebuild()
    for name in ("municipalities", "report-cards", "initiatives"):
        status, headers, text = await site.get(f"/open-data/{name}.csv")
        assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
        assert 'rel="license"' in headers["Link"]
        rows = list(csv.DictReader(io.StringIO(text)))
        status, headers, body = await site.get(f"/open-data/{name}.json")
        assert status == 200 and headers["Content-Type"].startswith("application/json")
        document = json.loads(body)
        assert document["licence"]["id"] == "CC-BY-4.0"
        assert document["built_at"] == "2026-11-23T09:00:00+00:00"
        assert list(rows[0]) == [*document["fields"], "licence", "built_at"]
        assert len(rows) == len(document["records"])
        for row, record in zip(rows, document["records"], strict=True):
            assert row["licence"] == "CC-BY-4.0" and row["built_at"] == document["built_at"]
            for field in document["fields"]:
                value = record[field]
                if field in record["suppressed"]:
                    assert value is None and row[field] in ("<10", "hidden")
                else:
                    assert row[field] == ("" if value is None else str(value))
        if name == "municipalities":
            by_key = {(r["municipality"], r["category"]): r for r in rows}
            assert by_key["shkoder", "all"]["cases_received"] == "30"
            assert by_key["shkoder", "all"]["rti_on_time_share"] == "0.833"
            assert by_key["shkoder", "roads"]["cases_received"] == "<10"
            assert by_key["lezhe", "all"]["rti_sent"] == "<10"
            assert by_key["shkoder", "all"]["median_days_to_resolve"] == "5.5"
            assert {r["municipality"] for r in rows} == SLUGS
        if name == "report-cards":
            assert {(r["municipality"], r["service"]) for r in rows} == {
                ("shkoder", "all"), ("shkoder", "water"), ("shkoder", "waste"),
            }  # fmt: skip
            waste = next(r for r in document["records"] if r["service"] == "waste")
            assert waste["respondents"] is None and waste["suppressed"] == ["respondents"]
            assert "Arben" not in text + body
        if name == "initiatives":
            assert [r["organisation"] for r in rows] == [
                "Qendra Rinore Shkodër", "Gazetarët e Veriut", "Gratë e Hasit",
            ]  # fmt: skip
            assert rows[0]["link"] == "https://example.org/buxheti" and rows[1]["link"] == ""
        for small in (",7,", ",4,", ",3,"):
            assert small not in text, small

    status, _headers, html = await site.get("/sq/data")
    assert status == 200
    for field in opendata.FIELDS:
        assert f"<code>{field}</code>" in html
    assert 'href="/open-data/report-cards.json"' in html


async def test_redirects_languages_404_headers_and_head(site: Site) -> None:
    await site.rebuild()
    status, headers, _ = await site.get("/")
    assert status == 302 and headers["Location"] == "/sq/"
    status, headers, _ = await site.get("/en")
    assert status == 301 and headers["Location"] == "/en/"

    status, headers, html = await site.get("/sq/")
    assert status == 200
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "script-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "public, max-age=60"
    assert "Last-Modified" in headers and "Set-Cookie" not in headers
    assert "<script" not in html and "<style" not in html
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"].split("style-src-attr")[0]
    assert re.findall(r'src="(?:https?:)?//', html) == [], "nothing loaded from elsewhere"
    assert re.findall(r'<link[^>]*href="(?:https?:)?//', html) == []
    assert 'href="/en/"' in html and 'lang="sq"' in html
    assert "23 nëntor 2026, 10:00" in html, "dates in Albanian on the Albanian page"

    modified = headers["Last-Modified"]
    async with site.http.get(
        f"http://127.0.0.1:{site.port}/sq/", headers={"If-Modified-Since": modified}
    ) as response:
        assert response.status == 304 and await response.read() == b""
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    async with site.http.get(
        f"http://127.0.0.1:{site.port}/open-data/initiatives.csv",
        headers={"If-Modified-Since": "Mon, 02 Nov 2026 09:00:00 GMT"},
    ) as response:
        assert response.status == 200, "built after that"

    status, headers, body = await site.get("/sq/", method="HEAD")
    assert status == 200 and body == "" and headers["X-Content-Type-Options"] == "nosniff"

    status, headers, css = await site.get("/static/site.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert headers["Cache-Control"] == "public, max-age=3600" and "url(http" not in css

    status, headers, html = await site.get("/en/m/tirane")
    assert status == 404 and "Page not found" in html and 'lang="en"' in html
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, _headers, html = await site.get("/sq/nuk-ka")
    albanian = site.harness.app.services.i18n.translator("sq").gettext("Page not found")
    assert status == 404 and 'lang="sq"' in html and f"<h1>{albanian}</h1>" in html
    status, _headers, html = await site.get("/open-data/people.csv")
    assert status == 404

    status, _headers, html = await site.get("/en/?indicator=<script>")
    assert status == 200 and "<script>" not in html


async def test_a_page_view_reads_only_the_snapshot(site: Site) -> None:
    await seed(site.harness)
    await site.rebuild()
    await site.get("/sq/")  # warm the cache
    with statements(site.harness) as seen:
        for path in ("/sq/", "/en/m/shkoder", "/sq/data", "/open-data/municipalities.csv"):
            assert (await site.get(path))[0] == 200
    assert seen, "each view asks for built_at"
    assert all("public_snapshots" in statement for statement in seen), seen
    assert not any("data" in statement.split("FROM")[0] for statement in seen), (
        "the figures themselves are read only when they changed"
    )
    site.harness.clock.advance(timedelta(minutes=15))
    await site.rebuild()
    with statements(site.harness) as seen:
        assert (await site.get("/sq/"))[0] == 200
    assert len(seen) == 2 and all("public_snapshots" in statement for statement in seen)


async def test_before_the_first_build_pages_say_the_figures_are_coming(
    fake: FakeTelegram, database_url: str
) -> None:
    """A process serving HTTP without the jobs (another holds them) and no snapshot yet."""
    harness = BotHarness(fake, database_url)
    await harness.start()
    port = _free_port()
    runner = await start_http(harness.app, harness.settings, port)
    try:
        assert harness.app.job_queue is not None
        assert not harness.app.job_queue.get_jobs_by_name(snapshot.JOB), "no HTTP, no rebuilds"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/en/") as response:
                assert response.status == 503 and response.headers["Retry-After"] == "60"
                assert "The figures are being prepared" in await response.text()
            async with http.get(f"http://127.0.0.1:{port}/open-data/initiatives.json") as response:
                assert response.status == 503
    finally:
        await runner.cleanup()
        await harness.stop()


async def test_the_refresh_job_is_scheduled_where_http_is_served(site: Site) -> None:
    jobs = site.harness.app.job_queue.get_jobs_by_name(snapshot.JOB)  # type: ignore[union-attr]
    assert len(jobs) == 1
    assert jobs[0].job.trigger.interval == timedelta(minutes=15)
    await seed(site.harness)
    site.harness.clock.advance(timedelta(hours=1))
    await jobs[0].run(site.harness.app)  # what the job queue runs every 15 minutes
    async with site.harness.app.services.sessions() as session:
        stored = await session.get(PublicSnapshot, snapshot.KEY)
    assert stored is not None and stored.built_at == START + timedelta(hours=1)
    shkoder = next(m for m in stored.data["municipalities"] if m["slug"] == "shkoder")
    assert shkoder["cases"]["received"] == 30
    status, _headers, html = await site.get("/en/m/shkoder")
    assert status == 200 and "23 November 2026, 11:00" in html, "the new figures at once"


def test_pybabel_extracts_the_template_strings() -> None:
    """babel.cfg hands the templates to Jinja2's extractor, so the lead's catalog update sees
    every text of the site."""
    root = Path(__file__).resolve().parents[1]
    with (root / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    site_dir = root / "bot" / "transparency"

    def on_the_way(path: str) -> bool:
        folder = Path(path).resolve()
        return folder in site_dir.parents or folder == site_dir or site_dir in folder.parents

    found = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(root), method_map, options_map, directory_filter=on_the_way
        )
    }
    assert "Page not found" in found
    assert (
        "The programme funds {count} local civil-society initiative.",
        "The programme funds {count} local civil-society initiatives.",
    ) in found
    assert "Median days to resolve" in found  # an N_() label in site.py


def test_slugs_and_secondary_suppression() -> None:
    assert figures.slug("Fushë-Arrëz") == "fushe-arrez"
    assert figures.slug("Malësi e Madhe") == "malesi-e-madhe"
    assert figures.slug("Vau i Dejës") == "vau-i-dejes"
    # One hidden category and a shown total: the smallest shown one goes too.
    assert figures.suppress_group({"a": 30, "b": 12, "c": 3}, 45, 10) == {
        "a": 30, "b": "hidden", "c": None,
    }  # fmt: skip
    assert figures.suppress_group({"a": 30, "b": 3, "c": 0}, 33, 10) == {
        "a": 30, "b": None, "c": None,
    }  # fmt: skip
    assert figures.suppress_group({"a": 30, "b": 12, "c": 3}, None, 10) == {
        "a": 30,
        "b": 12,
        "c": None,
    }, "without a total nothing gives the small one away"
    assert figures.suppress_group({"a": 30, "b": 12}, 42, 10) == {"a": 30, "b": 12}
    assert figures.full_months(date(2026, 1, 5), 2) == [
        (date(2025, 12, 1), date(2025, 12, 31)), (date(2025, 11, 1), date(2025, 11, 30)),
    ]  # fmt: skip


async def test_a_single_small_category_hides_the_smallest_other_one_too(site: Site) -> None:
    """Kukës: 15 categories of 12 complaints, water 11, "other" 2: the total (193) would give
    "other" away, so water is hidden too (not as "< 10": it is not under the threshold)."""
    ids = await town_ids(site.harness)
    keys = [category.key for category in case_rules.categories()]
    sizes = {key: 12 for key in keys} | {"water": 11, "other": 2}
    number = 0
    async with site.harness.app.services.sessions() as session:
        for key, size in sizes.items():
            for _ in range(size):
                number += 1
                session.add(a_case(number, ids["kukes"], key, CaseStatus.RECEIVED))
        await session.commit()
    await site.rebuild()

    status, _headers, html = await site.get("/en/m/kukes")
    page = parsed(html)
    assert status == 200 and page.testids["cases-received"] == "193"
    assert page.rows["data-category=water"] == ["Drinking water supply", "hidden", "< 10"]
    assert page.rows["data-category=other"] == ["Other", "< 10", "< 10"]
    assert page.rows["data-category=roads"] == ["Local roads and sidewalks", "12", "< 10"]
    assert "hidden so that a smaller count cannot be worked out from the total" in html
    assert ">11<" not in html and ">2<" not in html

    _status, _headers, text = await site.get("/open-data/municipalities.csv")
    rows = {(r["municipality"], r["category"]): r for r in csv.DictReader(io.StringIO(text))}
    assert rows["kukes", "water"]["cases_received"] == "hidden"
    assert rows["kukes", "other"]["cases_received"] == "<10"
    _status, _headers, body = await site.get("/open-data/municipalities.json")
    water = next(
        r
        for r in json.loads(body)["records"]
        if r["municipality"] == "kukes" and r["category"] == "water"
    )
    assert water["cases_received"] is None
    assert water["suppressed"] == ["cases_received", "cases_resolved"]


async def test_webhook_mode_serves_the_site_beside_the_webhook(
    fake: FakeTelegram, database_url: str
) -> None:
    """In webhook mode the site is on the webhook's port, and the rebuild job is scheduled."""
    port = _free_port()
    harness = BotHarness(
        fake,
        database_url,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_secret="Zq8-Ue4_" * 5,
        webhook_listen="127.0.0.1",
        webhook_port=port,
    )
    harness.app = build_application(harness.settings, clock=harness.clock)
    await startup(harness.app)
    runner = await start_webhook(harness.app, harness.settings)
    try:
        assert harness.app.job_queue is not None
        assert harness.app.job_queue.get_jobs_by_name(snapshot.JOB)
        await snapshot.rebuild(harness.app.services)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/sq/m/has") as response:
                assert response.status == 200
                assert 'data-testid="initiatives"' in await response.text()
            async with http.post(f"http://127.0.0.1:{port}/telegram", data=b"{}") as response:
                assert response.status == 403, "the webhook still wants its secret"
    finally:
        await runner.cleanup()
        await shutdown(harness.app)


async def test_pages_stay_up_on_the_last_figures_while_the_database_is_away(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(site.harness)
    await site.rebuild()
    assert (await site.get("/en/m/shkoder"))[0] == 200

    async def away(_cache: snapshot.SnapshotCache) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(snapshot.SnapshotCache, "_read", away)
    status, _headers, html = await site.get("/en/m/shkoder")
    assert status == 200 and parsed(html).testids["cases-received"] == "30"


async def test_a_change_can_ask_for_a_rebuild_once_committed(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A published card or one taken off the page need not wait for the next scheduled run."""
    app = site.harness.app
    runs: list[datetime] = []
    done = asyncio.Event()
    refresh = snapshot.refresh_job

    async def counted(context: Any) -> None:
        await refresh(context)
        runs.append(app.services.clock.now())
        done.set()

    monkeypatch.setattr(snapshot, "refresh_job", counted)
    with pytest.raises(RuntimeError):
        async with unit_of_work(app.services):
            snapshot.rebuild_when_committed(app)
            raise RuntimeError("rolled back")

    await seed(site.harness)
    site.harness.clock.advance(timedelta(minutes=3))
    async with unit_of_work(app.services):
        snapshot.rebuild_when_committed(app)
        assert runs == [], "not before the commit"
    await asyncio.wait_for(done.wait(), timeout=10)
    assert runs == [START + timedelta(minutes=3)], "once, and not for the rolled-back work"
    status, _headers, html = await site.get("/en/m/shkoder")
    assert status == 200 and parsed(html).testids["cases-received"] == "30"
    assert "23 November 2026, 10:03" in html


async def test_the_figures_are_built_at_start_up(
    fake: FakeTelegram, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However late the job queue starts after scheduling, the start-up rebuild runs."""
    built = asyncio.Event()
    refresh = snapshot.refresh_job

    async def noted(context: Any) -> None:
        await refresh(context)
        built.set()

    monkeypatch.setattr(snapshot, "refresh_job", noted)
    port = _free_port()
    harness = BotHarness(fake, database_url, health_port=port, webhook_listen="127.0.0.1")
    await harness.start()
    try:
        await asyncio.wait_for(built.wait(), timeout=20)
        async with harness.app.services.sessions() as session:
            stored = await session.get(PublicSnapshot, snapshot.KEY)
        assert stored is not None and stored.built_at == START
        assert len(stored.data["municipalities"]) == 15
    finally:
        await harness.stop()


async def test_an_older_build_stored_late_never_replaces_a_newer_one(site: Site) -> None:
    """store() is one upsert that keeps the newest figures: two rebuilds finishing out of order
    (the start-up one and one after a publication) leave the later build in the row."""
    services = site.harness.app.services
    newer, older = START + timedelta(hours=2), START + timedelta(hours=1)
    async with services.sessions() as session, session.begin():
        await snapshot.store(session, newer, {"schema": "newer"})
    async with services.sessions() as session, session.begin():
        await snapshot.store(session, older, {"schema": "older"})
    async with services.sessions() as session:
        row = await session.get(PublicSnapshot, snapshot.KEY)
        assert row is not None and (row.built_at, row.data) == (newer, {"schema": "newer"})
