"""Frames between the engine and its delivery sender: a 4-byte big-endian length, then UTF-8 JSON.

Engine → sender: ``{"t": "config", "cfg": {…}}`` once, then ``{"t": "jobs", "ts": …, "jobs": [job, …]}``
(``ts``: the engine's clock, seconds since the epoch, for the signatures' timestamps). Sender → engine:
``{"t": "hello", "pid": …}`` then ``{"t": "done", "o": [outcome, …]}`` (see :mod:`.post`). Many jobs or
outcomes share one frame: the per-delivery cost on the engine's side is a slice of one ``json`` call.
"""

from __future__ import annotations

import asyncio
import json
import logging
import typing
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
MAX_FRAME = 64 * 1024 * 1024


def frame(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) > MAX_FRAME:
        raise ValueError(f"a frame of {len(data)} bytes is over the limit")
    return len(data).to_bytes(4, "big") + data


def jobs_frame(ts: float, jobs: list[str]) -> bytes:
    return frame('{"t":"jobs","ts":' + repr(float(ts)) + ',"jobs":[' + ",".join(jobs) + "]}")


def message_frame(message: dict[str, Any]) -> bytes:
    return frame(json.dumps(message, separators=(",", ":"), ensure_ascii=False))


class FrameProtocol(asyncio.Protocol):
    """Parses frames as they arrive and hands each decoded message to ``on_message`` (in the loop)."""

    def __init__(self, on_message: Callable[[dict[str, Any]], None]) -> None:
        self._on_message = on_message
        self._buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        while len(buf) >= 4:
            size = int.from_bytes(buf[:4], "big")
            if size > MAX_FRAME:
                log.error("a frame of %d bytes from the other side: closing", size)
                self.close()
                return
            if len(buf) < 4 + size:
                return
            body = bytes(buf[4 : 4 + size])
            del buf[: 4 + size]
            try:
                message = json.loads(body)
            except ValueError:
                log.error("a frame that is not JSON: closing")
                self.close()
                return
            if isinstance(message, dict):
                try:
                    self._on_message(message)
                except Exception:
                    log.exception("a %r frame could not be handled", message.get("t"))

    def write(self, data: bytes) -> bool:
        """False when the other side is gone."""
        t = self.transport
        if t is None or t.is_closing():
            return False
        t.write(data)
        return True

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
