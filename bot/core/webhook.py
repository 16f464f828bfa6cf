"""The HTTP side: the webhook route (secret header checked), /healthz and /metrics, on aiohttp.

/metrics (Prometheus text format, bot/core/metrics.py) holds counts by kind and outcome only, no
personal data; still, serve it to the monitoring network only (the reverse proxy does not route
it), and set METRICS_TOKEN to require `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import json
import logging
from datetime import datetime, timedelta
from urllib.parse import urlparse

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from telegram import Update

from bot.core.application import PactApplication
from bot.core.settings import Settings
from bot.transparency import site
from bot.transparency.snapshot import SnapshotCache

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WARNING_EVERY = timedelta(minutes=1)
"""Wrong-secret calls are warned about at most this often, so a prober cannot flood the log."""


def webhook_path(settings: Settings) -> str:
    """The path Telegram posts to, taken from WEBHOOK_URL."""
    return urlparse(settings.webhook_url or "").path or "/"


class WrongSecretWarnings:
    """At most one wrong-secret warning a minute, saying how many were held back meanwhile."""

    def __init__(self, app: PactApplication) -> None:
        self.app = app
        self.last: datetime | None = None
        self.held_back = 0

    def note(self) -> None:
        """Count a call with a missing or wrong secret; warn if the last warning is old enough."""
        now = self.app.services.clock.now()
        if self.last is not None and now - self.last < WARNING_EVERY:
            self.held_back += 1
            return
        more = f" ({self.held_back} more since the last warning)" if self.held_back else ""
        log.warning("webhook call with a missing or wrong secret token%s", more)
        self.last, self.held_back = now, 0


def parse_update(body: bytes, app: PactApplication) -> Update | None:
    """The update in a UTF-8 JSON object with an integer update_id, or None for anything else."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return None
    try:
        return Update.de_json(data, app.bot)
    except Exception:
        return None


def bearer_matches(request: web.Request, token: str) -> bool:
    """Whether the request carries `Authorization: Bearer <token>` (compared in constant time)."""
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def make_web_app(app: PactApplication, settings: Settings) -> web.Application:
    """GET /healthz and /metrics always; POST <webhook path> for updates in webhook mode; the
    public transparency site (bot/transparency/site.py) in both modes."""

    warnings = WrongSecretWarnings(app)

    async def receive(request: web.Request) -> web.Response:
        """Accept an update only with the right secret and a well-formed body; 200 once stored."""
        secret = settings.require_webhook_secret()
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            warnings.note()
            return web.Response(status=403)
        update = parse_update(await request.read(), app)
        if update is None:
            log.warning("webhook call with a body that is not a Telegram update: refused")
            return web.Response(status=400)
        try:
            assert app.inbox is not None, "startup() first"
            await app.inbox.accept([update.to_dict()])
        except Exception as error:
            log.warning("could not store a webhook update (%s): 503", type(error).__name__)
            return web.Response(status=503)  # not confirmed: Telegram sends it again
        return web.Response(status=200)

    async def healthz(_request: web.Request) -> web.Response:
        """200 when the bot runs and the database answers, 503 otherwise."""
        try:
            async with app.services.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return web.json_response({"status": "database unavailable"}, status=503)
        if not app.running:
            return web.json_response({"status": "stopped"}, status=503)
        return web.json_response({"status": "ok"})

    async def metrics(request: web.Request) -> web.Response:
        """The Prometheus exposition; 401 without the bearer token when METRICS_TOKEN is set."""
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
        if token and not bearer_matches(request, token):
            return web.Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        body = await app.services.metrics.render(app.services)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app = web.Application(client_max_size=2**20)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    if settings.webhook_mode:
        web_app.router.add_post(webhook_path(settings), receive)
    cache = SnapshotCache(app.services.sessions)
    site.install(web_app, app.services.i18n, cache, settings.suppression_threshold)
    return web_app


async def start_http(app: PactApplication, settings: Settings, port: int) -> web.AppRunner:
    """Serve the routes on WEBHOOK_LISTEN:port."""
    runner = web.AppRunner(make_web_app(app, settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.webhook_listen, port).start()
    log.info("HTTP server listening on %s:%s", settings.webhook_listen, port)
    return runner


async def start_webhook(app: PactApplication, settings: Settings) -> web.AppRunner:
    """Listen, then tell Telegram where to post (with the secret)."""
    settings.require_webhook_secret()
    runner = await start_http(app, settings, settings.webhook_port)
    await app.bot.set_webhook(
        url=settings.webhook_url or "",
        secret_token=settings.require_webhook_secret(),
        allowed_updates=Update.ALL_TYPES,
    )
    return runner
