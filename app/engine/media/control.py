"""The control channel between the engine and its media process: length-prefixed JSON over a Unix socket.

The engine makes a ``socket.socketpair()`` for every start of the media process and hands one end to
the child (an inherited file descriptor): nobody else can connect, so the channel needs no password
and nothing listens on a path or a port. Each frame is a 4-byte big-endian length and a UTF-8 JSON
object of at most :data:`MAX_FRAME` bytes. A message with an ``id`` and ``t`` other than ``"reply"``
is a request; its answer is ``{"t": "reply", "id": …, …}``. Everything else is a one-way notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

MAX_FRAME = 8 * 1024 * 1024
Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


class ChannelClosed(ConnectionError):
    """The other side went away."""


class ControlChannel:
    """One end of the channel. ``handler`` gets every request and notice (a request's return value is
    its reply). Run :meth:`serve` as a task; it returns when the other side closes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler) -> None:
        self._reader = reader
        self._writer = writer
        self._handler = handler
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = False

    @classmethod
    async def open(cls, sock: socket.socket, handler: Handler) -> ControlChannel:
        reader, writer = await asyncio.open_unix_connection(sock=sock, limit=MAX_FRAME + 4)
        return cls(reader, writer, handler)

    def send(self, message: dict[str, Any]) -> None:
        """A one-way notice (dropped if the channel is closed)."""
        if self.closed or self._writer.is_closing():
            return
        data = json.dumps(message, separators=(",", ":")).encode()
        if len(data) > MAX_FRAME:
            raise ValueError("control message too large")
        self._writer.write(len(data).to_bytes(4, "big") + data)

    async def request(self, message: dict[str, Any], wait_s: float = 10.0) -> dict[str, Any]:
        if self.closed:
            raise ChannelClosed("control channel closed")
        ident = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = fut
        try:
            self.send({**message, "id": ident})
            async with asyncio.timeout(wait_s):
                return await fut
        finally:
            self._waiting.pop(ident, None)

    async def serve(self) -> None:
        try:
            while True:
                head = await self._reader.readexactly(4)
                size = int.from_bytes(head, "big")
                if size > MAX_FRAME:
                    log.error("control frame of %d bytes: closing the channel", size)
                    return
                message = json.loads(await self._reader.readexactly(size))
                if not isinstance(message, dict):
                    continue
                if message.get("t") == "reply":
                    fut = self._waiting.get(message.get("id", -1))
                    if fut is not None and not fut.done():
                        fut.set_result(message)
                    continue
                task = asyncio.create_task(self._dispatch(message), name=f"control-{message.get('t')}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except json.JSONDecodeError:
            log.error("control channel: not JSON; closing")
        finally:
            self.close()

    async def _dispatch(self, message: dict[str, Any]) -> None:
        try:
            reply = await self._handler(message)
        except Exception as exc:
            log.exception("control message %r failed", message.get("t"))
            reply = {"error": f"{type(exc).__name__}: {exc}"} if "id" in message else None
        if "id" in message:
            self.send({"t": "reply", "id": message["id"], **(reply or {})})

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(ChannelClosed("control channel closed"))
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            self._writer.close()
