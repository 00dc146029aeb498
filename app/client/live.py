"""The engine's live push (``WS /api/v1/live``) for consoles and walls, reconnecting by itself.

:class:`LiveFeed` keeps the ``seq`` of the last event it delivered and reconnects with
``?since=<seq>``, so the engine replays what was missed while the connection was down; a ``resync``
event (the gap was too large) or the very first connection asks the application to reload its lists
instead. Reconnects wait with capped exponential backoff and jitter. Callbacks run on the event loop
that runs the feed (with qasync: the Qt thread). No Qt here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import ssl
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from app.client.tls import tls_context
from app.formats.api import LiveEvent

__all__ = ["Backoff", "FeedState", "LiveFeed", "live_url"]

_log = logging.getLogger(__name__)


class FeedState(StrEnum):
    """Where the feed is. ``offline``: the last attempt failed, a retry is scheduled."""

    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    OFFLINE = "offline"
    UNAUTHORIZED = "unauthorized"  # the session token was refused: log in again
    STOPPED = "stopped"


class Backoff:
    """Capped exponential delays with jitter: base, 2·base, 4·base … up to ``cap`` (each ±``jitter``)."""

    def __init__(
        self, base_s: float = 0.5, cap_s: float = 15.0, jitter: float = 0.25, rng: random.Random | None = None
    ) -> None:
        if base_s <= 0 or cap_s < base_s or not 0 <= jitter < 1:
            raise ValueError("invalid backoff")
        self.base_s = base_s
        self.cap_s = cap_s
        self.jitter = jitter
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        delay = min(self.cap_s, self.base_s * 2 ** min(self.attempt, 30))
        self.attempt += 1
        if self.jitter:
            delay *= self._rng.uniform(1 - self.jitter, 1 + self.jitter)
        return min(self.cap_s, delay)

    def reset(self) -> None:
        self.attempt = 0


def live_url(base_url: str, since: int) -> str:
    """``ws(s)://host/api/v1/live?since=N`` for an ``http(s)://`` engine URL."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    return f"{base}/api/v1/live?since={since}"


class LiveFeed:
    """One live connection to the engine, kept up until :meth:`stop`.

    Callbacks:
        on_event(LiveEvent): every new event, once, in ``seq`` order (``hello`` and ``resync`` excluded).
        on_resync(): reload everything from the REST API (first connection, or the engine said the gap
            was too large). Events that follow are newer than the reload's starting point.
        on_state(FeedState, str): the connection state changed; the text says why (for the log/banner).

    ``token`` is a callable so that a re-login is picked up on the next reconnect.
    """

    def __init__(
        self,
        base_url: str,
        token: Callable[[], str | None],
        *,
        on_event: Callable[[LiveEvent], None],
        on_resync: Callable[[], None],
        on_state: Callable[[FeedState, str], None] | None = None,
        since: int = -1,
        backoff: Backoff | None = None,
        open_timeout_s: float = 5.0,
        ping_interval_s: float | None = 10.0,
        verify: ssl.SSLContext | str | bool = True,
    ) -> None:
        """``verify``: for a ``wss://`` engine, the CA file (or SSL context) its certificate chains to."""
        self.base_url = base_url
        self._verify = verify
        self._token = token
        self._on_event = on_event
        self._on_resync = on_resync
        self._on_state = on_state
        self._last_seq = since
        self._backoff = backoff or Backoff()
        self._open_timeout_s = open_timeout_s
        self._ping_interval_s = ping_interval_s
        self._state = FeedState.IDLE
        self._task: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None
        self._wake = asyncio.Event()
        self.next_retry_in_s: float | None = None
        self.connections = 0

    # ------------------------------------------------------------------ public

    @property
    def state(self) -> FeedState:
        return self._state

    @property
    def last_seq(self) -> int:
        """The ``seq`` of the last event delivered (-1 before the first connection)."""
        return self._last_seq

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the connection task on the running loop (idempotent)."""
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="live-feed")

    def reconnect_now(self) -> None:
        """Skip the current backoff wait (e.g. the operator pressed "retry", or logged in again)."""
        self._backoff.reset()
        self._wake.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_state(FeedState.STOPPED, "stopped")

    # ------------------------------------------------------------------ loop

    async def _run(self) -> None:
        while True:
            reason = await self._connect_once()
            if self._state is FeedState.UNAUTHORIZED:
                # No point hammering the engine with a refused token: wait for reconnect_now().
                self._wake.clear()
                await self._wake.wait()
                continue
            delay = self._backoff.next_delay()
            self.next_retry_in_s = delay
            self._set_state(FeedState.OFFLINE, reason)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self.next_retry_in_s = None

    async def _connect_once(self) -> str:
        """One connection, until it ends; returns why it ended."""
        token = self._token()
        if not token:
            self._set_state(FeedState.UNAUTHORIZED, "not logged in")
            return "not logged in"
        self._set_state(FeedState.CONNECTING, "connecting")
        url = live_url(self.base_url, self._last_seq)
        tls: dict[str, Any] = {}
        if url.startswith("wss://"):
            ctx = tls_context(self._verify)
            tls["ssl"] = ctx if isinstance(ctx, ssl.SSLContext) else ssl.create_default_context()
        try:
            async with connect(
                url,
                **tls,
                additional_headers={"authorization": f"Bearer {token}"},
                open_timeout=self._open_timeout_s,
                ping_interval=self._ping_interval_s,
                ping_timeout=self._ping_interval_s,
                close_timeout=2,
                max_size=8 * 1024 * 1024,
                user_agent_header="GoldenTime-console",
            ) as ws:
                self._ws = ws
                self.connections += 1
                async for message in ws:
                    self._handle(message)
                return "the engine closed the connection"
        except InvalidStatus as exc:
            code = exc.response.status_code
            if code in (401, 403):
                self._set_state(FeedState.UNAUTHORIZED, "the engine refused the session token")
                return "unauthorized"
            return f"the engine answered {code}"
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            if rcvd is not None and rcvd.code == 4401:
                self._set_state(FeedState.UNAUTHORIZED, rcvd.reason or "unauthorized")
                return "unauthorized"
            if rcvd is not None and rcvd.code == 4408:
                self._backoff.reset()  # dropped for being slow: come back at once with since
            return f"connection lost ({rcvd.code if rcvd else 'no close frame'})"
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            return f"cannot connect: {exc or type(exc).__name__}"
        finally:
            self._ws = None

    def _handle(self, message: str | bytes) -> None:
        try:
            raw: Any = json.loads(message)
            event = LiveEvent.model_validate(raw)
        except (ValueError, ValidationError) as exc:
            _log.warning("live: ignoring a malformed message: %s", exc)
            return
        if event.type == "hello":
            self._backoff.reset()
            first = self._last_seq < 0
            if first:
                self._last_seq = event.seq
            self._set_state(FeedState.CONNECTED, "connected")
            if first:
                self._call(self._on_resync)
            return
        if event.type == "resync":
            self._last_seq = max(self._last_seq, event.seq)
            self._call(self._on_resync)
            return
        if event.seq <= self._last_seq:
            return  # already delivered (catch-up overlap)
        self._last_seq = event.seq
        self._call(self._on_event, event)

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            _log.exception("live: a handler failed")

    def _set_state(self, state: FeedState, reason: str) -> None:
        if state is self._state:
            return
        prev, self._state = self._state, state
        if state is FeedState.OFFLINE and prev is FeedState.CONNECTED:
            _log.warning("live feed lost: %s", reason)
        elif state is FeedState.CONNECTED and self.connections > 1:
            _log.info("live feed back (since seq %d)", self._last_seq)
        if self._on_state is not None:
            self._call(self._on_state, state, reason)
