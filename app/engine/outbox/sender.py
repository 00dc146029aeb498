"""The delivery sender: a process of its own that renders, signs and POSTs webhooks for the engine.

``python -m app.engine.outbox.sender --control-fd N`` is started and supervised by the engine
(:mod:`app.engine.outbox.sender_link`), which hands it its end of a socket pair (nobody else can talk to
it; nothing listens on a port or a path). It never opens the database. It reads jobs, sends each one
(at most ``concurrency`` at a time) through the egress guard (:mod:`.egress`: every connection
resolves, vets and connects to an allowed address), and writes the outcomes back, many to a frame. When
the channel closes (the engine stopped or died) it exits: the attempts it had in flight were not
recorded, so the engine sends them again (with the same ``webhook-id``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any

from app.engine.outbox.frames import FrameProtocol, message_frame
from app.engine.outbox.post import OutcomeRow, PostConfig, Poster

log = logging.getLogger("app.engine.outbox.sender")


class SenderProcess:
    def __init__(self) -> None:
        self.poster: Poster | None = None
        self.proto: FrameProtocol | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self._done: list[OutcomeRow] = []
        self._flush_scheduled = False
        self._early: list[dict[str, Any]] = []  # jobs before the config (not expected; kept anyway)

    def on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("t")
        if kind == "config":
            self.poster = Poster(PostConfig.from_json(message["cfg"]))
            early, self._early = self._early, []
            for m in early:
                self.on_message(m)
        elif kind == "jobs":
            if self.poster is None:
                self._early.append(message)
                return
            ts = float(message["ts"])
            for job in message["jobs"]:
                task = asyncio.get_running_loop().create_task(self._one(job, ts))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    async def _one(self, job: list[Any], ts: float) -> None:
        assert self.poster is not None
        r = await self.poster.send(job, ts)
        self._done.append(r)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Every outcome finished in this turn of the loop goes back in one frame."""
        self._flush_scheduled = False
        done, self._done = self._done, []
        if done and self.proto is not None:
            self.proto.write(message_frame({"t": "done", "o": done}))

    async def run(self, fd: int) -> None:
        sock = socket.socket(fileno=fd)
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_unix_connection(lambda: FrameProtocol(self.on_message), sock=sock)
        self.proto = proto
        proto.write(message_frame({"t": "hello", "pid": os.getpid()}))
        await proto.closed
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.poster is not None:
            await self.poster.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="goldentime-delivery-sender")
    ap.add_argument("--control-fd", type=int, required=True)
    ap.add_argument("--log-level", default="WARNING")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s delivery-sender: %(message)s",
        stream=sys.stderr,
    )
    run = SenderProcess().run(args.control_fd)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            import uvloop  # the engine's own loop when uvicorn runs it (uvicorn[standard])
        except ImportError:
            asyncio.run(run)
        else:
            uvloop.run(run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
