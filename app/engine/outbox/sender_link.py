"""The engine's side of the delivery sender: start it, keep it running, hand it jobs, take its outcomes.

:class:`ProcessLink` runs :mod:`app.engine.outbox.sender` as a child process (the engine's CPU stays with
intake; the sender's runs on another core). It makes a fresh socket pair for every start, sends the
configuration, then every job not yet answered. The process starts with the first job (an engine that
never delivers never starts one). When it exits — a crash, a SIGKILL, an out-of-memory kill — it is
started again after a capped backoff (0.1 s doubling to 5 s; back to 0.1 s once a start has lived 30 s)
and every job it had not answered is sent again: the same delivery id, so the same ``webhook-id``.

:class:`LocalLink` runs the same :class:`~app.engine.outbox.post.Poster` in the engine's loop: for an
engine given an httpx transport of its own, or ``[outbox] sender_process = false``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from app.engine.outbox.frames import FrameProtocol, jobs_frame, message_frame
from app.engine.outbox.post import OutcomeRow, PostConfig, Poster

log = logging.getLogger(__name__)
OnOutcomes = Callable[[list[OutcomeRow]], None]
APP_ROOT = Path(__file__).resolve().parents[3]  # the directory holding the ``app`` package


def sender_command(control_fd: int) -> list[str]:
    return [sys.executable, "-m", "app.engine.outbox.sender", "--control-fd", str(control_fd)]


def sender_env() -> dict[str, str]:
    """The engine's environment with the ``app`` package importable (a source checkout run from
    anywhere, or an installed package: then the path is simply already there)."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = str(APP_ROOT) + (os.pathsep + path if path else "")
    return env


class ProcessLink:
    BACKOFF_INITIAL = 0.1
    BACKOFF_MAX = 5.0
    HEALTHY_AFTER = 30.0

    def __init__(self, cfg: PostConfig, on_outcomes: OnOutcomes, now_ts: Callable[[], float]) -> None:
        self._cfg = cfg
        self._on_outcomes = on_outcomes
        self._now_ts = now_ts
        self.pending: dict[str, str] = {}  # delivery id -> job, from submit until its outcome
        self.proc: asyncio.subprocess.Process | None = None
        self.state = "idle"  # idle (starts with the first job), starting, running, restarting, stopped
        self.restarts = 0
        self.failed_starts = 0  # starts in a row that never said hello
        self.last_exit: str | None = None
        self.since = time.time()
        self._proto: FrameProtocol | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = False

    def submit(self, jobs: list[tuple[str, str]]) -> None:
        if not jobs:
            return
        for delivery_id, text in jobs:
            self.pending[delivery_id] = text
        proto = self._proto
        if proto is not None:
            proto.write(jobs_frame(self._now_ts(), [text for _, text in jobs]))
        else:
            self._ensure_started()

    def _ensure_started(self) -> None:
        if self._task is None and not self._stopping and self._loop is not None:
            self._task = self._loop.create_task(self._run(), name="delivery-sender-supervisor")

    @property
    def alive(self) -> bool:
        """Not given up on: idle, running, or restarting after fewer than three failed starts in a row."""
        if self._stopping:
            return False
        if self._task is not None and self._task.done():
            return False
        return self.failed_starts < 3

    @property
    def pid(self) -> int | None:
        proc = self.proc
        return proc.pid if proc is not None and proc.returncode is None else None

    def health(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "pid": self.pid,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "in_flight": len(self.pending),
            "since": self.since,
        }

    async def _run(self) -> None:
        delay = self.BACKOFF_INITIAL
        while not self._stopping:
            started = time.monotonic()
            try:
                await self._run_once()
            except Exception:
                log.exception("delivery sender: supervisor failure")
            if self._stopping:
                break
            self.restarts += 1
            if time.monotonic() - started > self.HEALTHY_AFTER:
                delay = self.BACKOFF_INITIAL
            self.state, self.since = "restarting", time.time()
            log.warning(
                "delivery sender exited (%s) with %d deliveries in flight; restarting in %.1f s",
                self.last_exit,
                len(self.pending),
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(self.BACKOFF_MAX, delay * 2)

    async def _run_once(self) -> None:
        loop = asyncio.get_running_loop()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.state, self.since = "starting", time.time()
        self.failed_starts += 1  # until it says hello
        try:
            proc = await asyncio.create_subprocess_exec(
                *sender_command(child.fileno()),
                stdin=asyncio.subprocess.DEVNULL,
                pass_fds=(child.fileno(),),
                env=sender_env(),
                start_new_session=True,  # a Ctrl-C in the terminal reaches the engine, which stops it
            )
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        self.proc = proc
        log.info("delivery sender started (pid %d)", proc.pid)
        try:
            _, proto = await loop.create_unix_connection(lambda: FrameProtocol(self._on_message), sock=parent)
        except BaseException:
            parent.close()
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            self.proc = None
            raise
        proto.write(message_frame({"t": "config", "cfg": self._cfg.to_json()}))
        if self.pending:  # what the last process had not answered, and what came meanwhile
            proto.write(jobs_frame(self._now_ts(), list(self.pending.values())))
        self._proto = proto  # no await since the line above: nothing submitted in between is missed
        exited = asyncio.ensure_future(proc.wait())
        try:
            either: list[asyncio.Future[Any]] = [proto.closed, exited]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._proto = None
            proto.close()
            if not exited.done():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(3):
                        await asyncio.shield(exited)
            if not exited.done():
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await exited
        code = proc.returncode
        self.last_exit = (
            f"killed by {signal.Signals(-code).name}"
            if code is not None and code < 0
            else f"exit code {code}"
        )
        self.proc = None

    def _on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("t")
        if kind == "done":
            rows: list[OutcomeRow] = message.get("o") or []
            for row in rows:
                self.pending.pop(str(row[0]), None)
            self._on_outcomes(rows)
        elif kind == "hello":
            self.state, self.since = "running", time.time()
            self.failed_starts = 0

    async def stop(self) -> None:
        """Close the channel (the process exits by itself), wait for it, kill it if it does not."""
        self._stopping = True
        if self._proto is not None:
            self._proto.close()
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(6):
                    await asyncio.shield(self._task)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await proc.wait()
        self.pending.clear()
        self.state, self.since = "stopped", time.time()


class LocalLink:
    """The same sending in the engine's own loop (an injected transport, or no sender process)."""

    def __init__(
        self,
        cfg: PostConfig,
        on_outcomes: OnOutcomes,
        now_ts: Callable[[], float],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._cfg = cfg
        self._on_outcomes = on_outcomes
        self._now_ts = now_ts
        self._transport = transport
        self._poster: Poster | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.state = "in-process"
        self.pid = None
        self.alive = True

    async def start(self) -> None:
        self._poster = Poster(self._cfg, self._transport)
        self.alive = True

    def submit(self, jobs: list[tuple[str, str]]) -> None:
        ts = self._now_ts()
        for _, text in jobs:
            task = asyncio.get_running_loop().create_task(self._one(json.loads(text), ts))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _one(self, job: list[Any], ts: float) -> None:
        assert self._poster is not None
        self._on_outcomes([await self._poster.send(job, ts)])

    def health(self) -> dict[str, Any]:
        return {"state": self.state, "pid": None, "in_flight": len(self._tasks)}

    async def stop(self) -> None:
        self.alive = False
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._poster is not None:
            await self._poster.aclose()
            self._poster = None
