"""The HTTP side: the webhook route (secret header checked) and /healthz, on aiohttp."""

from __future__ import annotations

import hmac
import json
import logging
from urllib.parse import urlparse

from aiohttp import web
from sqlalchemy import text
from telegram import Update

from bot.application import PactApplication
from bot.settings import Settings

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_path(settings: Settings) -> str:
    """The path Telegram posts to, taken from WEBHOOK_URL."""
    return urlparse(settings.webhook_url or "").path or "/"


def make_web_app(app: PactApplication, settings: Settings) -> web.Application:
    """GET /healthz always; POST <webhook path> for updates in webhook mode."""

    async def receive(request: web.Request) -> web.Response:
        """Accept an update only with the right secret; queue it for processing."""
        secret = settings.require_webhook_secret()
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook call with a missing or wrong secret token")
            return web.Response(status=403)
        try:
            data = await request.json()
        except json.JSONDecodeError:
            return web.Response(status=400)
        await app.update_queue.put(Update.de_json(data, app.bot))
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

    web_app = web.Application(client_max_size=2**20)
    web_app.router.add_get("/healthz", healthz)
    if settings.webhook_mode:
        web_app.router.add_post(webhook_path(settings), receive)
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
