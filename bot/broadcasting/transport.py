"""A PTB request class on aiohttp, for every Bot API call (the replies, getUpdates, the sender).

PTB's default ``HTTPXRequest`` manages about 400-580 ``sendMessage`` calls per second on one
core and gets slower with more calls in flight: httpcore's connection-pool bookkeeping dominates
the profile. The same calls through aiohttp's connector reach several thousand per second
(``docs/benchmarks.md``), so the sender, not Telegram's limit, is never the bottleneck. PTB
accepts any ``BaseRequest``; this one sends what ``HTTPXRequest`` sends (form fields, or
multipart when files are uploaded), verifies TLS against the same CA bundle, and maps failures
to the same PTB errors.
"""

from __future__ import annotations

import ssl
from functools import cache

import aiohttp
import httpx
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


@cache
def verified_tls() -> ssl.SSLContext:
    """httpx's verified TLS context (certifi's CA bundle), made once: loading it takes ~50 ms."""
    return httpx.create_ssl_context()


class AiohttpRequest(BaseRequest):
    """Keep-alive connections (at most ``connections``) through one aiohttp session."""

    def __init__(
        self,
        connections: int = 256,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        write_timeout: float | None = 20.0,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._write_timeout = write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not name one."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session; a second call does nothing, so one instance can serve both requests."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._connections, limit_per_host=0, ssl=verified_tls()
            )
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        """Close the session and its connections (a second call does nothing)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(
        self,
        read_timeout: ODVInput[float],
        connect_timeout: ODVInput[float],
        pool_timeout: ODVInput[float],
        write_timeout: ODVInput[float],
        uploads: bool,
    ) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts from PTB's; connecting includes the pool.

        aiohttp has no write timeout: a call uploading files is bounded as a whole instead
        (pool + connect + write + read), so a stalled upload cannot hang its update's replies.
        """
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = self._write_timeout if isinstance(write_timeout, DefaultValue) else write_timeout
        waiting = None if connect is None or pool is None else connect + pool
        parts = (waiting, write, read)
        total = sum(p for p in parts if p is not None) if uploads and None not in parts else None
        return aiohttp.ClientTimeout(
            total=total, connect=waiting, sock_connect=connect, sock_read=read
        )

    def _body(self, request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
        """Form fields, or a multipart form when the call uploads files."""
        if request_data is None:
            return None
        fields = request_data.json_parameters
        if not request_data.contains_files:
            return fields
        form = aiohttp.FormData(fields)
        for name, (filename, content, mime_type) in request_data.multipart_data.items():
            form.add_field(name, content, filename=filename, content_type=mime_type)
        return form

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; a timeout raises ``TimedOut``, other failures ``NetworkError``."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        uploads = request_data is not None and request_data.contains_files
        timeout = self._timeout(read_timeout, connect_timeout, pool_timeout, write_timeout, uploads)
        try:
            async with self._session.request(
                method, url, data=self._body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
