"""A TCP proxy a test controls, between the bot and PostgreSQL: cut the database off, restore it.

It listens on 127.0.0.1:<free port> and forwards to the real server. ``cut()`` drops every open
connection and refuses new ones (they are accepted and closed at once, as a server that went
away); ``cut(stall=True)`` is a network partition instead: open connections stop carrying bytes
and new ones are accepted but never answered, so only the bot's own timeouts end the wait.
``restore()`` forwards again. The shared server itself is never touched.
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
        self.stalled = False
        self.refused = 0
        """Connections refused while cut (proof that the bot really tried during the cut)."""
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._held: set[asyncio.StreamWriter] = set()

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

    async def cut(self, stall: bool = False) -> None:
        """Until restore(): drop every connection and refuse new ones, or (stall) go silent."""
        self.cut_off, self.stalled = True, stall
        if stall:
            self._held.update(self._writers)  # kept open, carrying nothing
            self._writers.clear()
        else:
            for writer in list(self._writers):
                writer.transport.abort()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def restore(self) -> None:
        """Close what a stall held open; accept and forward connections again."""
        for writer in self._held:
            writer.transport.abort()
        self._held.clear()
        self.cut_off = self.stalled = False

    async def stop(self) -> None:
        """Close everything, the listening socket too."""
        await self.cut()
        self.restore()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection: refused while cut, else piped both ways to the server."""
        if self.cut_off:
            self.refused += 1
            if self.stalled:
                self._held.add(writer)  # accepted, never answered
            else:
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
                if end not in self._held:
                    end.transport.abort()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Copy bytes one way until either side closes."""
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await source.read(CHUNK):
                sink.write(chunk)
                await sink.drain()
