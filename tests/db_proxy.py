"""A TCP proxy a test controls, between the bot and PostgreSQL: cut the database off, restore it.

It listens on 127.0.0.1:<free port> and forwards to the real server. ``cut()`` drops every open
connection and refuses new ones (they are accepted and closed at once, as a server that went
away); ``restore()`` forwards again. The shared server itself is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.engine import make_url

CHUNK = 65536


class DatabaseProxy:
    """Forwards 127.0.0.1:<port> to the database server until cut, and again once restored."""

    def __init__(self, target_host: str = "127.0.0.1", target_port: int = 5432) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.cut_off = False
        self.refused = 0
        """Connections refused while cut (proof that the bot really tried during the cut)."""
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def url(self, database_url: str) -> str:
        """The same database URL, through the proxy."""
        return (
            make_url(database_url)
            .set(host="127.0.0.1", port=self.port)
            .render_as_string(hide_password=False)
        )

    async def cut(self) -> None:
        """Drop every open connection and refuse new ones until restore()."""
        self.cut_off = True
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def restore(self) -> None:
        """Accept and forward connections again."""
        self.cut_off = False

    async def stop(self) -> None:
        """Close everything, the listening socket too."""
        await self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection: refused while cut, else piped both ways to the server."""
        if self.cut_off:
            self.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        pipes = [
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._pipes.difference_update(pipes)
            for end in (writer, up_writer):
                self._writers.discard(end)
                end.transport.abort()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Copy bytes one way until either side closes."""
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await source.read(CHUNK):
                sink.write(chunk)
                await sink.drain()
