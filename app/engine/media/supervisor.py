"""The engine's side of the media process: start it, keep it running, talk to it.

The supervisor owns the media port's listening socket and makes a fresh control socket pair for every
start; the child (``python main.py media --listen-fd … --control-fd …``) inherits both. The process
starts on demand: on the first connection waiting on the media port (the engine watches the listening
socket until then), or the first pre-warm, snapshot or statistics call. When it exits — a crash, a
SIGKILL, an out-of-memory kill — it is started again after a capped exponential backoff (0.2 s, then
doubling to 10 s; back to 0.2 s once a start has lived 30 s); connections made meanwhile wait in the
socket's backlog. Its health (state, pid, restarts, last exit) is part of ``GET /api/v1/health``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from app.engine.media.control import ChannelClosed, ControlChannel

log = logging.getLogger(__name__)

MAIN_PY = Path(__file__).resolve().parents[3] / "main.py"
Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


def media_command(listen_fd: int, control_fd: int, extra: list[str]) -> list[str]:
    if MAIN_PY.exists():
        head = [sys.executable, str(MAIN_PY)]
    else:  # installed as a package
        head = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())"]
    return [*head, "media", "--listen-fd", str(listen_fd), "--control-fd", str(control_fd), *extra]


class MediaSupervisor:
    BACKOFF_INITIAL = 0.2
    BACKOFF_MAX = 10.0
    HEALTHY_AFTER = 30.0

    def __init__(
        self,
        host: str,
        port: int,
        handler: Handler,
        *,
        extra_args: list[str] | None = None,
        on_connected: Callable[[], None] | None = None,
    ) -> None:
        self._handler = handler
        self._extra = list(extra_args or [])
        self._on_connected = on_connected
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind(address)
            sock.listen(1024)
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self.host = host
        self.channel: ControlChannel | None = None
        self.proc: asyncio.subprocess.Process | None = None
        self.state = "not started"
        self.restarts = 0
        self.last_exit: str | None = None
        self.last_delay: float | None = None  # the wait before the last restart (seconds)
        self.since = time.time()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._connected = asyncio.Event()
        self._pending: deque[dict[str, Any]] = deque(maxlen=256)
        self._watching = False

    # ------------------------------------------------------------------ lifetime

    async def start(self) -> None:
        """Bind to the running loop; the process itself starts on demand."""
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sock.fileno(), self._on_connection_waiting)
        self._watching = True

    def _on_connection_waiting(self) -> None:
        self._unwatch()
        self.ensure_started()

    def _unwatch(self) -> None:
        if self._watching and self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
            self._watching = False

    def ensure_started(self) -> None:
        if self._stopping or self._loop is None:
            return
        if self._task is None:
            self._unwatch()
            self._task = self._loop.create_task(self._run(), name="media-supervisor")

    async def _run(self) -> None:
        delay = self.BACKOFF_INITIAL
        while not self._stopping:
            started = time.monotonic()
            try:
                await self._run_once()
            except Exception:
                log.exception("media process: supervisor failure")
            if self._stopping:
                break
            self.restarts += 1
            if time.monotonic() - started > self.HEALTHY_AFTER:
                delay = self.BACKOFF_INITIAL
            self.state = "restarting"
            self.since = time.time()
            self.last_delay = delay
            log.warning("media process exited (%s); restarting in %.1f s", self.last_exit, delay)
            await asyncio.sleep(delay)
            delay = min(self.BACKOFF_MAX, delay * 2)

    async def _run_once(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            cmd = media_command(self.sock.fileno(), child.fileno(), self._extra)
            self.state = "starting"
            self.since = time.time()
            self.proc = await asyncio.create_subprocess_exec(
                *cmd,
                stdin=asyncio.subprocess.DEVNULL,
                pass_fds=(self.sock.fileno(), child.fileno()),
                start_new_session=True,  # a Ctrl-C in the terminal reaches the engine, which stops it
            )
        finally:
            child.close()
        proc = self.proc
        log.info("media process started (pid %d, port %d)", proc.pid, self.port)
        channel = await ControlChannel.open(parent, self._handle)
        self.channel = channel
        serving = asyncio.create_task(channel.serve(), name="media-control")
        exited = asyncio.create_task(proc.wait(), name="media-wait")
        try:
            await asyncio.wait({serving, exited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._connected.clear()
            self.channel = None
            channel.close()
            if not exited.done():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(3):
                        await asyncio.shield(exited)
            if not exited.done():
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await exited
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
        code = proc.returncode
        self.last_exit = (
            f"killed by {signal.Signals(-code).name}"
            if code is not None and code < 0
            else f"exit code {code}"
        )
        self.proc = None

    async def _handle(self, message: dict[str, Any]) -> dict[str, Any] | None:
        if message.get("t") == "hello":
            self.state = "running"
            self.since = time.time()
            self._connected.set()
            channel = self.channel
            while self._pending and channel is not None:
                channel.send(self._pending.popleft())
            if self._on_connected is not None:
                self._on_connected()
            return None
        return await self._handler(message)

    async def stop(self) -> None:
        self._stopping = True
        self._unwatch()
        if self.channel is not None:
            self.channel.close()  # EOF: the child exits by itself
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(6):
                    await asyncio.shield(self._task)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await proc.wait()
        self.state = "stopped"
        self.sock.close()

    # ------------------------------------------------------------------ talking

    def send(self, message: dict[str, Any], *, keep: bool = False) -> None:
        """A notice to the media process; with ``keep``, held until it is connected (pre-warming)."""
        self.ensure_started()
        channel = self.channel
        if channel is not None and self._connected.is_set():
            channel.send(message)
        elif keep:
            self._pending.append(message)

    async def request(self, message: dict[str, Any], wait_s: float = 10.0) -> dict[str, Any]:
        """A request; waits (up to ``wait_s``) for the process to be connected."""
        self.ensure_started()
        async with asyncio.timeout(wait_s):
            await self._connected.wait()
        channel = self.channel
        if channel is None:
            raise ChannelClosed("media process not connected")
        return await channel.request(message, wait_s)

    def health(self) -> dict[str, Any]:
        proc = self.proc
        return {
            "state": self.state,
            "pid": proc.pid if proc is not None and proc.returncode is None else None,
            "port": self.port,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "restart_delay_s": self.last_delay,
            "since": self.since,
        }

    @property
    def pid(self) -> int | None:
        proc = self.proc
        return proc.pid if proc is not None and proc.returncode is None else None
