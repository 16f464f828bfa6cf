"""aiohttp routes: Bot API method calls and file downloads, answered the way Telegram does."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import methods  # noqa: F401  # importing it registers the method handlers
from .errors import ApiError, not_found_method
from .params import Params, read_params
from .registry import ApiCall, lookup

if TYPE_CHECKING:
    from .core import FakeTelegram

FAKE_KEY: web.AppKey[FakeTelegram] = web.AppKey("fake_telegram")
_LOG = logging.getLogger(__name__)


def build_app(fake: FakeTelegram) -> web.Application:
    """The aiohttp application serving one FakeTelegram."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[FAKE_KEY] = fake
    app.router.add_route("*", "/bot{token}/{method}", _handle_method)
    app.router.add_get("/file/bot{token}/{path:.+}", _handle_file)
    return app


def _unauthorized(fake: FakeTelegram, token: str) -> bool:
    """True when the fake was given a token and the request used another one."""
    return fake.token is not None and token != fake.token


async def _handle_method(request: web.Request) -> web.Response:
    """Parse the request, run the method and answer Telegram-style JSON."""
    fake = request.app[FAKE_KEY]
    if _unauthorized(fake, request.match_info["token"]):
        return web.json_response(
            {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
        )
    name = request.match_info["method"]
    try:
        params = await read_params(request)
    except ApiError as error:
        fake.record(ApiCall(name, {}, False, error))
        return web.json_response(error.to_json(), status=error.code)
    params.alive = lambda: request.transport is not None and not request.transport.is_closing()
    status, body = await call_method(fake, name, params)
    return web.json_response(body, status=status)


async def call_method(fake: FakeTelegram, name: str, params: Params) -> tuple[int, dict[str, Any]]:
    """Run one Bot API method and log it; returns the HTTP status and the JSON body."""
    found = lookup(name)
    canonical = found[0] if found else name
    try:
        if found is None:
            raise not_found_method()
        flood = fake.flood.check(canonical)
        if flood is not None:
            raise flood
        if fake.latency and canonical != "getUpdates":
            await asyncio.sleep(fake.latency)
            if not params.alive():  # the caller is gone (killed): the call never arrived
                return 499, {"ok": False, "description": "client closed the connection"}
        held = fake.held_chats.get(_int(params.get("chat_id")))
        if held is not None and canonical.startswith("send"):
            await held.wait()
        result = await found[1](fake, params)
    except ApiError as error:
        _LOG.debug("%s refused: %s", canonical, error.description)
        fake.record(ApiCall(canonical, params.public(), False, error))
        return error.code, error.to_json()
    except Exception as exc:
        _LOG.exception("fake Bot API crashed in %s", canonical)
        error = ApiError(500, f"Internal Server Error: fake crashed: {exc!r}")
        fake.record(ApiCall(canonical, params.public(), False, error))
        return error.code, error.to_json()
    fake.record(ApiCall(canonical, params.public(), True, result))
    return 200, {"ok": True, "result": result}


async def _handle_file(request: web.Request) -> web.Response:
    """Serve the bytes behind a getFile path."""
    fake = request.app[FAKE_KEY]
    stored = fake.state.files.by_path(request.match_info["path"])
    if _unauthorized(fake, request.match_info["token"]) or stored is None:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )
    return web.Response(
        body=stored.content, content_type=stored.mime_type or "application/octet-stream"
    )


def _int(value: Any) -> int | None:
    """A chat id as a number (None when it is not one)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
