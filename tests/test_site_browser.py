"""The public transparency site in a real headless browser: Debian's Chromium driven by Playwright.

The bot starts on a database seeded with known figures, builds the site's snapshot and serves its
HTTP server on a loopback port; Chromium then opens every page in Albanian and English and checks
what a visitor gets: the figures on the map and in the table, nothing under the suppression
threshold, no request leaving the host, landmarks, alt texts, table captions, the map legend's
contrast, and no horizontal scrolling on a 360-pixel phone.

SQLite only: the browser sees HTML rendered from the snapshot row (JSON), which is the same
whichever database built it; the queries behind the figures run on both SQLite and PostgreSQL in
tests/test_transparency_site.py, so PostgreSQL here would add a slower run and nothing the
browser can see.

Chromium is /usr/bin/chromium from Debian (.ci/run installs it); Playwright never downloads a
browser. Without it these tests skip, except on CI (CI=true), where they fail.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from bot.app import build_application
from bot.core.application import PactApplication
from bot.core.clock import ManualClock
from bot.core.lifecycle import shutdown, startup
from bot.core.playground import Playground
from bot.core.settings import Settings
from bot.core.webhook import start_http
from bot.rti.services import directory
from bot.transparency import snapshot
from db.engine import create_engine, create_sessionmaker
from db.models import GrantBand
from fakeapi import FakeTelegram
from tests.databases import migrated_database
from tests.harness import BotHarness
from tests.site_world import World, programme_towns

try:
    from playwright.async_api import Browser, Page, Route, async_playwright
except ImportError:  # the test extra not installed: the fixture below says so
    async_playwright = None  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
ON_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")
THRESHOLD = 10
LANGUAGES = ("sq", "en")
SLUGS = (
    "shkoder",
    "malesi-e-madhe",
    "vau-i-dejes",
    "puke",
    "fushe-arrez",
    "lezhe",
    "mirdite",
    "kurbin",
    "kukes",
    "has",
    "tropoje",
    "diber",
    "mat",
    "bulqize",
    "klos",
)
PAGES = ("", *(f"m/{slug}" for slug in SLUGS), "data")
"""Every page under /{lang}/: the overview, the 15 municipality pages, the data page."""
PHONE = {"width": 360, "height": 740}

in_module_loop = pytest.mark.asyncio(loop_scope="module")
"""Async tests share the module's event loop, where the site fixture's server runs."""


# --- WCAG contrast, from the colours the page computes --------------------------------------


def parse_colour(text: str) -> tuple[float, float, float, float]:
    """(r, g, b, alpha) of "#rgb", "#rrggbb", "rgb(r, g, b)" or "rgba(r, g, b, a)"."""
    text = text.strip().lower()
    if text.startswith("#"):
        digits = text[1:]
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        if len(digits) != 6:
            raise ValueError(f"not a colour: {text!r}")
        r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        return r, g, b, 1.0
    found = re.fullmatch(
        r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:[,/\s]+([\d.]+))?\s*\)", text
    )
    if not found:
        raise ValueError(f"not a colour: {text!r}")
    r, g, b = (float(found.group(i)) for i in (1, 2, 3))
    return r, g, b, float(found.group(4)) if found.group(4) is not None else 1.0


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance: each sRGB channel linearised, then 0.2126 R + 0.7152 G +
    0.0722 B."""
    r, g, b, alpha = parse_colour(colour)
    assert alpha == 1.0, f"{colour} is translucent: blend it with its background first"

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio (L1 + 0.05) / (L2 + 0.05), the lighter over the darker: 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_contrast_formula_gives_wcags_reference_values() -> None:
    assert contrast("#000", "#ffffff") == pytest.approx(21)
    assert contrast("rgb(255, 255, 255)", "#fff") == pytest.approx(1)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # just fails AA
    assert contrast("#767676", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)
    assert contrast("rgb(0, 0, 255)", "#ffffff") == pytest.approx(8.59, abs=0.01)
    assert parse_colour("rgba(0, 0, 0, 0)")[3] == 0
    with pytest.raises(ValueError):
        parse_colour("url(#pattern)")


# --- the seeded figures -----------------------------------------------------------------------

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
"""The harness clock's start: the snapshot is built at this moment."""


async def seed_known(world: World) -> None:
    """Cases per category in three municipalities, requests on time and late, a closed round
    with two published cards, and three initiatives. With the threshold 10 the site shows:

    - Shkodër: 32 cases received (water 14, roads 12, waste 6 hidden), 15 resolved (water 10;
      roads 4 and waste 1 hidden), 47% resolved, median 5 days; 16 requests, 12 of them on
      time: 75%; report card: water 12 respondents, index 75, 25% asked and 17% paid an
      unofficial payment; waste used by 5: hidden.
    - Lezhë: 14 received (water 11, lighting 3 hidden), 2 resolved (hidden); 5 requests
      (hidden); report card of 6 respondents: hidden.
    - Kukës: 4 received (hidden); in the round but nobody answered, no card published.
    - The other twelve: nothing, shown as "< 10" like any small count.
    """
    shkoder_water_days = [1, 2, 2, 3, 3, 4, 4, 5, 6, 6]
    await world.add_cases(
        "Shkodër", "water", 14, datetime(2026, 9, 2, 8, tzinfo=UTC), shkoder_water_days
    )
    await world.add_cases(
        "Shkodër", "roads", 12, datetime(2026, 10, 1, 8, tzinfo=UTC), [7, 8, 9, 12]
    )
    await world.add_cases("Shkodër", "waste", 6, datetime(2026, 10, 10, 8, tzinfo=UTC), [10])
    await world.add_cases("Lezhë", "water", 11, datetime(2026, 9, 15, 8, tzinfo=UTC), [2, 3])
    await world.add_cases("Lezhë", "lighting", 3, datetime(2026, 10, 5, 8, tzinfo=UTC))
    await world.add_cases("Kukës", "roads", 4, datetime(2026, 10, 12, 8, tzinfo=UTC))
    world.add_requests("Shkodër", on_time=12, late=4, sent_on=date(2026, 9, 7))
    world.add_requests("Lezhë", on_time=3, late=2, sent_on=date(2026, 9, 8))
    satisfaction = [5, 5, 5, 4, 4, 4, 4, 4, 4, 3, 3, 3]  # mean 4: index 75
    payments = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3]  # asked 3 of 12, paid 2 of 12
    shkoder = [
        {"water": (s, p), "waste": (2, 0) if i < 5 else None}
        for i, (s, p) in enumerate(zip(satisfaction, payments, strict=True))
    ]
    lezhe = [{"water": (4, 0), "waste": None} for _ in range(6)]
    await world.add_round(
        "Karta e Raportimit të Qytetarëve 2026",
        "Citizen Report Card 2026",
        ["water", "waste"],
        date(2026, 10, 1),
        date(2026, 10, 31),
        {"Shkodër": shkoder, "Lezhë": lezhe, "Kukës": []},
        published=["Shkodër", "Lezhë"],
        published_at=datetime(2026, 11, 10, 10, tzinfo=UTC),
    )
    world.add_initiative(
        1, "Qendra Rinore Has", "Has", "Monitorimi i buxhetit vendor",
        date(2025, 3, 1), date(2025, 12, 31), GrantBand.FROM_5K_TO_10K,
    )  # fmt: skip
    world.add_initiative(
        1, "Shoqata Kukësi Transparent", "Kukës", "Transparenca e prokurimeve publike",
        date(2025, 3, 1), date(2026, 2, 28), GrantBand.UP_TO_5K,
    )  # fmt: skip
    world.add_initiative(
        2, "Forumi Rinor Shkodër", "Shkodër", "Dëgjesat publike për buxhetin",
        date(2026, 1, 15), None, GrantBand.FROM_10K_TO_20K,
    )  # fmt: skip


# --- the server and the browser ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def need_chromium() -> None:
    """Skip (locally) or fail (on CI) when Debian's Chromium or Playwright is missing."""
    problem = None
    if async_playwright is None:
        problem = "Playwright is not installed: .venv/bin/pip install -e '.[test]'"
    elif not CHROMIUM.exists():
        problem = "Debian's Chromium is not installed (/usr/bin/chromium): apt-get install chromium"
    if problem and ON_CI:
        pytest.fail(f"{problem} (on CI it must be: .ci/run installs it)")
    if problem:
        pytest.skip(problem)


def test_without_chromium_the_tests_skip_locally_and_fail_on_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setattr(sys.modules[__name__], "ON_CI", False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        need_chromium()
    monkeypatch.setattr(sys.modules[__name__], "ON_CI", True)
    with pytest.raises(pytest.fail.Exception, match=r"on CI it must be: \.ci/run installs it"):
        need_chromium()


@dataclass
class Site:
    """The running bot's site and a Chromium to look at it with."""

    base: str
    port: int
    browser: Browser
    app: PactApplication


@dataclass
class Browsing:
    """A page in a fresh browser context whose every request is recorded (and, if it would
    leave the host, blocked and recorded as such)."""

    page: Page
    base: str
    requested: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Console errors and uncaught page errors (a style or script the CSP refused, say)."""

    async def open(self, path: str, status: int = 200) -> Any:
        """Go to a path of the site; the response, checked for its status."""
        response = await self.page.goto(self.base + path)
        assert response is not None, path
        assert response.status == status, f"{path}: HTTP {response.status}"
        return response


async def seed(url: str, now: datetime) -> None:
    """The authorities (as start-up seeds them) and the known figures, committed."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await directory.seed(session, now)
            await session.flush()
            await seed_known(World(session, await programme_towns(session)))
    finally:
        await engine.dispose()


async def started_with_figures(start: Callable[[], Awaitable[None]]) -> None:
    """Start the bot and wait until its start-up job has built the site's figures (an event
    the job sets, no sleeping); a failed build shows as the pages' 503."""
    built = asyncio.Event()
    refresh = snapshot.refresh_job

    async def noted(context: Any) -> None:
        try:
            await refresh(context)
        finally:
            built.set()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(snapshot, "refresh_job", noted)  # what start-up schedules
        await start()
    await asyncio.wait_for(built.wait(), timeout=30)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    """The bot in polling mode with WEB_PORT set on the seeded database, once its start-up job
    has built the site's figures, and Debian's Chromium."""
    need_chromium()
    url = await migrated_database("sqlite", tmp_path_factory.mktemp("site"))
    port = free_port()
    fake = FakeTelegram(bot_username="pact_site_bot")
    await fake.start()
    try:
        harness = BotHarness(
            fake, url, health_port=port, webhook_listen="127.0.0.1", suppression_threshold=THRESHOLD
        )
        await seed(url, harness.clock.now())
        app = build_application(harness.settings, clock=harness.clock)
        runner = None
        try:
            await started_with_figures(lambda: startup(app))
            runner = await start_http(app, harness.settings, port)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
                try:
                    yield Site(f"http://127.0.0.1:{port}", port, browser, app)
                finally:
                    await browser.close()
        finally:
            if runner is not None:
                await runner.cleanup()
            await shutdown(app)
    finally:
        await fake.stop()


@asynccontextmanager
async def browsing(site: Site, clean: bool = True, **options: Any) -> AsyncIterator[Browsing]:
    """A fresh context (no cookies, nothing cached) routing every request through a guard that
    lets only the site's own host through; on leaving (when `clean`), nothing may have been
    blocked and the browser may have reported no error."""
    context = await site.browser.new_context(**options)
    context.set_default_timeout(15_000)  # a local page: slower means something hangs
    page = await context.new_page()
    seen = Browsing(page, site.base)

    async def guard(route: Route) -> None:
        url = route.request.url
        seen.requested.append(url)
        if urlsplit(url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            seen.blocked.append(url)
            await route.abort("blockedbyclient")

    await context.route("**/*", guard)
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    try:
        yield seen
        if clean:
            assert seen.blocked == [], f"requests leaving the host: {seen.blocked}"
            assert seen.errors == [], f"errors in the browser: {seen.errors}"
            assert await context.cookies() == [], "the site set a cookie"
    finally:
        await context.close()


def other(language: str) -> str:
    return "en" if language == "sq" else "sq"


# --- every page -------------------------------------------------------------------------------


@in_module_loop
async def test_the_root_goes_to_the_albanian_overview(site: Site) -> None:
    async with browsing(site) as b:
        response = await b.open("/")
        assert response.request.redirected_from is not None
        assert b.page.url == f"{site.base}/sq/"
        assert await b.page.get_attribute("html", "lang") == "sq"


@in_module_loop
@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_page_renders_with_its_language_and_a_switch_to_the_same_page(
    site: Site, language: str
) -> None:
    async with browsing(site) as b:
        for page_path in PAGES:
            path = f"/{language}/{page_path}"
            await b.open(path)
            assert await b.page.get_attribute("html", "lang") == language, path
            headings = await b.page.locator("h1").all_inner_texts()
            assert len(headings) == 1 and headings[0].strip(), f"{path}: h1 {headings}"
            assert (await b.page.title()).strip(), f"{path}: no <title>"
            switch = b.page.locator(f'nav a[hreflang="{other(language)}"]')
            assert await switch.count() == 1, f"{path}: no single language switch in <nav>"
            await switch.click()
            await b.page.wait_for_load_state()
            assert b.page.url == f"{site.base}/{other(language)}/{page_path}", path
            assert await b.page.get_attribute("html", "lang") == other(language), path


# --- the figures ------------------------------------------------------------------------------


async def row_cells(b: Browsing, slug: str) -> list[str]:
    """The figures-table row of a municipality: its cells' texts after the name."""
    row = b.page.locator(f'[data-testid="figures-table"] tbody tr[data-municipality="{slug}"]')
    assert await row.count() == 1, slug
    return [text.strip() for text in await row.locator("td").all_inner_texts()]


async def map_labels(b: Browsing) -> dict[str, str]:
    """Each seat's figure as the map writes it, by municipality slug."""
    seats = b.page.locator('[data-testid="map"] a[data-slug]')
    labels = {}
    for index in range(await seats.count()):
        seat = seats.nth(index)
        slug = await seat.get_attribute("data-slug")
        assert slug is not None
        labels[slug] = (await seat.locator(".map-value").text_content() or "").strip()
    return labels


@in_module_loop
@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_map_and_the_table_show_the_seeded_figures(site: Site, language: str) -> None:
    async with browsing(site) as b:
        await b.open(f"/{language}/")
        rows = b.page.locator('[data-testid="figures-table"] tbody tr[data-municipality]')
        slugs = [
            await rows.nth(i).get_attribute("data-municipality") for i in range(await rows.count())
        ]
        assert sorted(slugs) == sorted(SLUGS)
        # Received, share resolved, median days, requests sent, share on time, satisfaction.
        assert await row_cells(b, "shkoder") == ["32", "47%", "5", "16", "75%", "75"]
        assert await row_cells(b, "lezhe") == ["14", "—", "—", "< 10", "—", "—"]
        assert await row_cells(b, "kukes") == ["< 10", "—", "—", "< 10", "—", "—"]
        assert await row_cells(b, "klos") == ["< 10", "—", "—", "< 10", "—", "—"]

        assert await b.page.locator('[data-testid="map"]').is_visible()
        assert await b.page.locator('[data-testid="map-legend"]').is_visible()
        labels = await map_labels(b)
        assert sorted(labels) == sorted(SLUGS)
        assert labels["shkoder"] == "32" and labels["lezhe"] == "14"
        assert labels["kukes"] == "< 10"
        for slug in SLUGS:  # the map shows the chosen indicator's column of the table
            href = await b.page.locator(f'[data-testid="map"] a[data-slug="{slug}"]').get_attribute(
                "href"
            )
            assert href == f"/{language}/m/{slug}"
            assert labels[slug] == (await row_cells(b, slug))[0], slug

        await b.open(f"/{language}/?indicator=satisfaction")
        labels = await map_labels(b)
        assert labels["shkoder"] == "75"
        for slug in SLUGS:
            assert labels[slug] == (await row_cells(b, slug))[5], slug

        initiatives = await b.page.locator('[data-testid="initiatives"]').inner_text()
        for organisation in (
            "Qendra Rinore Has",
            "Shoqata Kukësi Transparent",
            "Forumi Rinor Shkodër",
        ):
            assert organisation in initiatives
        markers = await b.page.locator('[data-testid="map"] a[data-slug]').evaluate_all(
            """seats => Object.fromEntries(seats
                .filter(seat => seat.querySelector("[data-initiatives]"))
                .map(seat => [seat.dataset.slug,
                              seat.querySelector("[data-initiatives]").textContent.trim()]))"""
        )
        assert markers == {"has": "1", "kukes": "1", "shkoder": "1"}  # one initiative each


async def cell_texts(b: Browsing, row: str) -> list[str]:
    """The texts of a row's cells (after its header cell)."""
    found = b.page.locator(row)
    assert await found.count() == 1, row
    return [text.strip() for text in await found.locator("td").all_inner_texts()]


async def text_of_testid(b: Browsing, testid: str) -> str:
    return (await b.page.locator(f'[data-testid="{testid}"]').first.inner_text()).strip()


@in_module_loop
@pytest.mark.parametrize("language", LANGUAGES)
async def test_municipality_pages_show_their_figures_and_hide_the_small_ones(
    site: Site, language: str
) -> None:
    hidden = "< 10"
    async with browsing(site) as b:
        await b.open(f"/{language}/m/shkoder")
        assert await text_of_testid(b, "cases-received") == "32"
        assert await text_of_testid(b, "cases-resolved") == "15"
        assert await text_of_testid(b, "rti-sent") == "16"
        assert await text_of_testid(b, "rti-on-time") == "75%"
        categories = '[data-testid="cases-by-category"] tr[data-category="{}"]'
        assert await cell_texts(b, categories.format("water")) == ["14", "10"]
        assert await cell_texts(b, categories.format("roads")) == ["12", hidden]  # 4 resolved
        assert await cell_texts(b, categories.format("waste")) == [hidden, hidden]  # 6 and 1
        cards = b.page.locator('[data-testid="report-cards"] article')
        assert await cards.count() == 1
        card = '[data-testid="report-cards"] tr[data-service="{}"]'
        assert await cell_texts(b, card.format("water")) == ["12", "75", "25%", "17%"]
        assert await cell_texts(b, card.format("waste")) == [hidden, "—", "—", "—"]  # 5 used it

        await b.open(f"/{language}/m/lezhe")
        assert await text_of_testid(b, "cases-received") == "14"
        assert await text_of_testid(b, "cases-resolved") == hidden  # 2
        assert await text_of_testid(b, "rti-sent") == hidden  # 5
        assert await text_of_testid(b, "rti-on-time") == "—"
        assert await cell_texts(b, categories.format("water")) == ["11", hidden]
        assert await cell_texts(b, categories.format("lighting")) == [hidden, hidden]  # 3
        card_text = await b.page.locator('[data-testid="report-cards"] article').inner_text()
        assert f"{hidden}." in card_text and ": 6" not in card_text  # 6 respondents
        assert await cell_texts(b, card.format("water")) == [hidden, "—", "—", "—"]

        await b.open(f"/{language}/m/kukes")
        assert await text_of_testid(b, "cases-received") == hidden  # 4
        assert await cell_texts(b, categories.format("roads")) == [hidden, hidden]
        assert await b.page.locator('[data-testid="report-cards"] article').count() == 0
        initiatives = await b.page.locator('[data-testid="initiatives"]').inner_text()
        assert (
            "Shoqata Kukësi Transparent" in initiatives and "Qendra Rinore Has" not in initiatives
        )


@in_module_loop
async def test_no_page_shows_what_citizens_wrote_or_who_they_are(site: Site) -> None:
    """The seed's free texts and names ("Sample ...", an e-mail address) appear nowhere."""
    async with browsing(site) as b:
        for language in LANGUAGES:
            for page_path in PAGES:
                await b.open(f"/{language}/{page_path}")
                text = await b.page.locator("body").inner_text()
                html = await b.page.content()
                for secret in ("Sample", "sample@example.org", "never published"):
                    assert secret not in text and secret not in html, (page_path, secret)


# --- requests, accessibility, contrast, phones ----------------------------------------------


ADDRESSES = """() => [...document.querySelectorAll("[src], [href], [srcset], [action], [data]")]
    .filter(e => e.localName !== "a")
    .filter(e => e.localName !== "link"
        || !["alternate", "license", "canonical"].includes(e.rel.toLowerCase()))
    .flatMap(e => ["src", "href", "srcset", "action", "data"]
        .map(name => e.getAttribute(name)).filter(value => value !== null))"""
"""Addresses the page's elements load from or send to (images, styles, SVG uses, forms,
objects): everything but links, HTML's and SVG's, which go nowhere until followed."""


@in_module_loop
async def test_no_request_leaves_the_host(site: Site) -> None:
    async with browsing(site) as b:
        for language in LANGUAGES:
            for page_path in (*PAGES, "?indicator=rti_on_time_share"):
                await b.open(f"/{language}/{page_path}")
                assert await b.page.locator("script").count() == 0, page_path
                for address in await b.page.evaluate(ADDRESSES):
                    assert urlsplit(address).hostname in (None, "127.0.0.1"), (page_path, address)
        hosts = {(urlsplit(url).scheme, urlsplit(url).netloc) for url in b.requested}
        assert hosts == {("http", f"127.0.0.1:{site.port}")}
        assert f"{site.base}/static/site.css" in b.requested  # the recording sees subresources


@in_module_loop
async def test_the_guard_and_the_error_log_catch_an_outside_request(site: Site) -> None:
    """What the other tests rely on: an image from elsewhere on a site page is refused by the
    page's Content-Security-Policy (an error the log records), and on a page without one it
    reaches the guard, which blocks and records it."""
    tracker = "https://tracker.example.com/pixel.png"
    add_image = """src => new Promise(done => {
        const img = document.createElement("img");
        img.alt = "";
        img.onerror = img.onload = done;
        img.src = src;
        document.body.append(img);
    })"""
    async with browsing(site, clean=False) as b:
        await b.open("/sq/")
        await b.page.evaluate(add_image, tracker)
        assert b.blocked == []
        assert any("Content Security Policy" in error for error in b.errors), b.errors
        await b.page.goto("about:blank")
        await b.page.evaluate(add_image, tracker)
        assert b.blocked == [tracker]
        assert b.requested[0] == f"{site.base}/sq/"


ACCESSIBILITY = """() => {
    const count = selector => document.querySelectorAll(selector).length;
    const text = element => (element ? element.textContent.trim() : "");
    return {
        landmarks: ["header", "nav", "main", "footer"].map(count),
        imagesWithoutAlt: [...document.images].filter(i => !i.hasAttribute("alt")).map(i => i.src),
        tablesWithoutCaption: [...document.querySelectorAll("table")]
            .filter(t => !text(t.caption)).length,
        headersWithoutScope: [...document.querySelectorAll("th")]
            .filter(th => !["col", "row", "colgroup", "rowgroup"]
                .includes(th.getAttribute("scope")))
            .map(th => text(th)),
        svgsUnlabelled: [...document.querySelectorAll("svg")]
            .filter(svg => !svg.parentElement.closest("svg"))
            .filter(svg => svg.getAttribute("aria-hidden") !== "true")
            .filter(svg => svg.getAttribute("role") !== "img"
                || !text(svg.querySelector(":scope > title")))
            .length,
        controlsWithoutLabel: [...document.querySelectorAll("select, input, textarea")]
            .filter(c => c.type !== "hidden" && !c.labels.length && !c.getAttribute("aria-label"))
            .length,
        linksWithoutText: [...document.querySelectorAll("a[href]")]
            .filter(a => !a.closest("svg") && !text(a) && !a.getAttribute("aria-label")).length,
    };
}"""


@in_module_loop
@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_page_passes_the_basic_accessibility_checks(site: Site, language: str) -> None:
    async with browsing(site) as b:
        for page_path in PAGES:
            await b.open(f"/{language}/{page_path}")
            found = await b.page.evaluate(ACCESSIBILITY)
            assert found == {
                "landmarks": [1, 1, 1, 1],
                "imagesWithoutAlt": [],
                "tablesWithoutCaption": 0,
                "headersWithoutScope": [],
                "svgsUnlabelled": 0,
                "controlsWithoutLabel": 0,
                "linksWithoutText": 0,
            }, page_path
        await b.open(f"/{language}/")
        svg = b.page.locator('svg[data-testid="map"]')
        assert await svg.get_attribute("role") == "img"
        assert (await svg.locator(":scope > title").text_content() or "").strip()
        table = b.page.locator('table[data-testid="figures-table"]')
        assert (await table.locator("caption").inner_text()).strip()
        assert await table.locator('thead th[scope="col"]').count() == 7
        assert await table.locator('tbody th[scope="row"]').count() == len(SLUGS)


LEGEND = """legend => {
    const background = element => {
        for (let e = element; e; e = e.parentElement) {
            const colour = getComputedStyle(e).backgroundColor;
            if (colour && colour !== "transparent" && colour !== "rgba(0, 0, 0, 0)") return colour;
        }
        return "rgb(255, 255, 255)";  // the canvas
    };
    const title = legend.querySelector(":scope > :not(ul)");
    const items = [...legend.querySelectorAll("li")].map(li => {
        const label = li.querySelector("span") || li;
        const shape = li.querySelector("svg circle, svg rect, svg path, svg polygon");
        const style = shape ? getComputedStyle(shape) : null;
        return {
            text: li.textContent.trim(),
            colour: getComputedStyle(label).color,
            background: background(li),
            fill: shape ? shape.getAttribute("fill") : null,
            computedFill: style ? style.fill : null,
            stroke: style ? style.stroke : null,
            patternInk: [...document.querySelectorAll("pattern line, pattern path")]
                .map(p => getComputedStyle(p).stroke),
        };
    });
    return {
        title: title ? {text: title.textContent.trim(), colour: getComputedStyle(title).color,
                        background: background(title)} : null,
        items,
    };
}"""


@in_module_loop
@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_map_legend_has_enough_contrast(site: Site, language: str) -> None:
    """Legend text ≥ 4.5:1 and each swatch ≥ 3:1 against what is behind them (WCAG 1.4.3 and
    1.4.11), from the colours the browser computes; a hatched "no data" swatch by its ink."""
    async with browsing(site) as b:
        await b.open(f"/{language}/")
        legend = await b.page.locator('[data-testid="map-legend"]').evaluate(LEGEND)
        assert legend["title"] and legend["title"]["text"]
        assert contrast(legend["title"]["colour"], legend["title"]["background"]) >= 4.5
        assert len(legend["items"]) >= 3
        for item in legend["items"]:
            assert item["text"], item
            assert contrast(item["colour"], item["background"]) >= 4.5, item
            assert item["fill"] is not None, f"no swatch: {item}"
            if item["computedFill"].startswith("url("):  # hatched: its ring and its lines
                inks = [item["stroke"], *item["patternInk"]]
            else:
                inks = [item["computedFill"]]
            for ink in inks:
                assert contrast(ink, item["background"]) >= 3, (ink, item)


PHONE_CHECK = """width => ({
    scrollWidth: document.documentElement.scrollWidth,
    layoutWidth: document.documentElement.clientWidth,
    overflowing: [...document.querySelectorAll("body *")]
        .filter(e => e.getBoundingClientRect().right > width + 1)
        .filter(e => !e.closest("svg, [class*=scroll], [style*=overflow]"))
        .slice(0, 5)
        .map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")),
})"""


@in_module_loop
@pytest.mark.parametrize("language", LANGUAGES)
async def test_pages_fit_a_phone_without_sideways_scrolling(site: Site, language: str) -> None:
    too_wide = {}
    async with browsing(site, viewport=PHONE, is_mobile=True, has_touch=True) as b:
        for page_path in PAGES:
            await b.open(f"/{language}/{page_path}")
            found = await b.page.evaluate(PHONE_CHECK, PHONE["width"])
            assert found["layoutWidth"] == PHONE["width"], (page_path, found)
            if found["scrollWidth"] > PHONE["width"]:
                too_wide[page_path or "(overview)"] = found
    assert too_wide == {}, f"wider than {PHONE['width']} px: {too_wide}"


@in_module_loop
async def test_the_playground_serves_the_page_when_web_port_is_set(
    site: Site, tmp_path: Path
) -> None:
    """The README's way to see the page after the quick start: WEB_PORT in .env, then the
    playground (no BOT_TOKEN) serves it too."""
    port = free_port()
    url = await migrated_database("sqlite", tmp_path)
    settings = Settings(_env_file=None, database_url=url, web_port=port, webhook_listen="127.0.0.1")
    assert settings.health_port == port
    printed: list[str] = []
    ground = Playground(settings, "sq", printed.append, clock=ManualClock(NOW), files_dir=tmp_path)
    try:
        await started_with_figures(ground.start)
        async with browsing(site) as b:
            b.base = f"http://127.0.0.1:{port}"
            await b.open("/")
            assert b.page.url == f"{b.base}/sq/"
            assert await b.page.locator('[data-testid="figures-table"] tbody tr').count() == 15
            await b.open("/en/m/klos")
            assert await b.page.get_attribute("html", "lang") == "en"
    finally:
        await ground.stop()
    async with browsing(site, clean=False) as b:
        with pytest.raises(Exception, match="ERR_CONNECTION_REFUSED"):
            await b.page.goto(f"http://127.0.0.1:{port}/")  # stopped with the playground


@in_module_loop
@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_data_page_links_every_dataset_in_csv_and_json(site: Site, language: str) -> None:
    async with browsing(site) as b:
        await b.open(f"/{language}/data")
        links = await b.page.locator('main a[href^="/open-data/"]').evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        expected = {
            f"/open-data/{name}.{ext}"
            for name in ("municipalities", "report-cards", "initiatives")
            for ext in ("csv", "json")
        }
        assert expected <= set(links)
        for link in sorted(expected):
            response = await b.page.request.get(site.base + link)
            assert response.status == 200, link
            kind = "text/csv" if link.endswith(".csv") else "application/json"
            assert response.headers["content-type"].startswith(kind), link
        footer = await b.page.locator("footer").inner_text()
        assert "CC BY 4.0" in footer and "GeoNames" in footer and "Natural Earth" in footer
