"""Screenshot of the public site's overview (docs/transparency-overview.png) with sample figures.

Seeds a temporary SQLite database with made-up but plausible figures (cases, requests for
information, a closed report-card round with published cards, initiatives: every organisation
and round title says "shembull", sample), starts the bot against the fake Telegram server with
its HTTP server on a loopback port, builds the site's snapshot, and has Debian's Chromium
(/usr/bin/chromium, driven by Playwright; it downloads no browser) take the screenshot.

    .venv/bin/python scripts/screenshot_site.py [--language sq] [--width 1280] [--full] [--out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import sys
import tempfile
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/site_world.py, which the browser test seeds with too

from PIL import Image  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402
from telegram.warnings import PTBUserWarning  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.core.clock import ManualClock  # noqa: E402
from bot.core.lifecycle import shutdown, startup  # noqa: E402
from bot.core.settings import Settings  # noqa: E402
from bot.core.webhook import start_http  # noqa: E402
from bot.rti.services import directory  # noqa: E402
from bot.transparency import snapshot  # noqa: E402
from db import migrate  # noqa: E402
from db.engine import create_engine, create_sessionmaker  # noqa: E402
from db.models import GrantBand  # noqa: E402
from fakeapi import FakeTelegram  # noqa: E402
from tests.site_world import World, programme_towns  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
OUT = ROOT / "docs" / "transparency-overview.png"

SIZE = {
    "Shkodër": 3.0,
    "Lezhë": 1.8,
    "Kukës": 1.4,
    "Dibër": 1.3,
    "Kurbin": 1.1,
    "Mirditë": 0.9,
    "Mat": 0.9,
    "Malësi e Madhe": 0.8,
    "Vau i Dejës": 0.7,
    "Bulqizë": 0.6,
    "Tropojë": 0.6,
    "Pukë": 0.45,
    "Has": 0.4,
    "Fushë-Arrëz": 0.2,
    "Klos": 0.15,
}
"""How much each municipality reports, relative to a typical one (Shkodër is the largest)."""
CATEGORIES = {
    "water": 9,
    "waste": 7,
    "roads": 6,
    "lighting": 3,
    "sewerage": 3,
    "social_assistance": 2,
}
"""Cases per category in a typical municipality."""
SATISFACTION = {
    "Shkodër": 3.6,
    "Lezhë": 3.2,
    "Kukës": 2.7,
    "Dibër": 2.4,
    "Kurbin": 3.0,
    "Mat": 2.9,
    "Malësi e Madhe": 3.4,
    "Tropojë": 2.2,
    "Has": 3.8,
    "Pukë": 3.1,
}
"""Mean satisfaction (1-5) of the sample round's respondents, where it ran."""
INITIATIVES = [
    (1, "Has", "Monitorimi i buxhetit vendor"),
    (1, "Kukës", "Transparenca e prokurimeve publike"),
    (1, "Kukës", "Të rinjtë në këshillin bashkiak"),
    (1, "Tropojë", "Llogaridhënia për shërbimin e ujit"),
    (1, "Lezhë", "Dëgjesat publike për buxhetin"),
    (1, "Lezhë", "Monitorimi i lejeve të ndërtimit"),
    (1, "Shkodër", "Karta e raportimit për mbetjet"),
    (1, "Shkodër", "E drejta për informim në shkolla"),
    (1, "Pukë", "Transparenca e ndihmës ekonomike"),
    (1, "Fushë-Arrëz", "Qeverisja e mirë në njësitë administrative"),
    (1, "Bulqizë", "Monitorimi i fondeve për rrugët rurale"),
    (1, "Dibër", "Buxheti me pjesëmarrje"),
    (1, "Dibër", "Antikorrupsioni në arsimin parashkollor"),
    (1, "Has", "Informimi i fermerëve për skemat e mbështetjes"),
    (2, "Mat", "Monitorimi i tregjeve vendore"),
    (2, "Kurbin", "Transparenca e tarifave vendore"),
]
"""(grant round, municipality, topic): round one's 14 projects in the municipalities the issue
names, and two of round two."""
BANDS = list(GrantBand)


async def seed_sample(world: World, rng: random.Random) -> None:
    """Sample figures for every programme municipality (some under the threshold)."""
    for town, size in SIZE.items():
        for category, typical in CATEGORIES.items():
            received = round(typical * size * rng.uniform(0.7, 1.3))
            resolved = round(received * rng.uniform(0.35, 0.8))
            days = [rng.randint(1, 30) for _ in range(resolved)]
            start = datetime(2026, 3, 1, 8, tzinfo=UTC) + timedelta(days=rng.randint(0, 20))
            await world.add_cases(
                town, category, received, start, days, spread=timedelta(hours=rng.randint(20, 60))
            )
        sent = round(12 * size * rng.uniform(0.8, 1.2))
        on_time = round(sent * rng.uniform(0.4, 0.9))
        world.add_requests(town, on_time, sent - on_time, date(2026, 5, 4 + rng.randint(0, 20)))
    answers = {}
    for town, mean in SATISFACTION.items():
        people = round(16 * SIZE[town] * rng.uniform(0.8, 1.2))
        responses = []
        for _ in range(people):
            given = {}
            for service in ("water", "waste", "roads"):
                if rng.random() < 0.75:
                    satisfaction = min(5, max(1, round(rng.gauss(mean, 1))))
                    payment = rng.choices([0, 1, 2, 3], weights=[80, 10, 6, 4])[0]
                    given[service] = (satisfaction, payment)
                else:
                    given[service] = None
            responses.append(given)
        answers[town] = responses
    await world.add_round(
        "Karta e Raportimit të Qytetarëve 2026 (shembull)",
        "Citizen Report Card 2026 (sample)",
        ["water", "waste", "roads"],
        date(2026, 10, 1),
        date(2026, 10, 31),
        answers,
        published=list(answers),
        published_at=datetime(2026, 11, 10, 10, tzinfo=UTC),
    )
    for number, (grant_round, town, topic) in enumerate(INITIATIVES, start=1):
        starts_on = date(2025, 3, 1) if grant_round == 1 else date(2026, 2, 1)
        world.add_initiative(
            grant_round,
            f"Organizata shembull {number}",
            town,
            topic,
            starts_on,
            starts_on + timedelta(days=300),
            rng.choice(BANDS),
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def take(out: Path, language: str, width: int, full: bool) -> None:
    """Seed, serve, shoot, stop."""
    with tempfile.TemporaryDirectory(prefix="pact-screenshot-") as folder:
        url = f"sqlite+aiosqlite:///{folder}/site.sqlite3"
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
            async with create_sessionmaker(engine)() as session, session.begin():
                await directory.seed(session, NOW)
                await session.flush()
                world = World(session, await programme_towns(session))
                await seed_sample(world, random.Random(2026))
        finally:
            await engine.dispose()
        fake = FakeTelegram(bot_username="pact_civic_bot")
        await fake.start()
        port = free_port()
        settings = Settings(
            _env_file=None,
            bot_token="123456:SCREENSHOT",
            database_url=url,
            telegram_base_url=fake.base_url,
            telegram_base_file_url=fake.base_file_url,
            webhook_listen="127.0.0.1",
            reminder_poll_seconds=0,
        )
        app = build_application(settings, clock=ManualClock(NOW))
        await startup(app)
        runner = None
        try:
            # No HEALTH_PORT in the settings, so no start-up job races this one build.
            await snapshot.rebuild(app.services)
            runner = await start_http(app, settings, port)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM)
                page = await browser.new_page(viewport={"width": width, "height": 900})
                await page.route(
                    "**/*",
                    lambda route: (
                        route.continue_()
                        if route.request.url.startswith(f"http://127.0.0.1:{port}/")
                        else route.abort()
                    ),
                )
                response = await page.goto(f"http://127.0.0.1:{port}/{language}/")
                if response is None or response.status != 200:
                    raise SystemExit(f"the overview answered {response and response.status}")
                if full:
                    await page.screenshot(path=str(out), full_page=True)
                else:  # down to the end of the map's section: the map, legend and table
                    part = page.locator('section:has([data-testid="figures-table"])')
                    box = await part.bounding_box(timeout=5000)
                    if box is None:
                        raise SystemExit("the overview shows no figures table")
                    height = box["y"] + box["height"] + 24
                    await page.set_viewport_size({"width": width, "height": round(height)})
                    await page.screenshot(path=str(out))
                await browser.close()
        finally:
            if runner is not None:
                await runner.cleanup()
            await shutdown(app)
            await fake.stop()
    shrink(out)
    print(f"saved {out}")


def shrink(path: Path) -> None:
    """The PNG in 128 colours, undithered: a third of the size, the text as crisp."""
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(
            colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    small.save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", default="sq", choices=["sq", "en"])
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--full", action="store_true", help="the whole page, not down to the table")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=PTBUserWarning)
    asyncio.run(take(args.out, args.language, args.width, args.full))


if __name__ == "__main__":
    main()
