"""Live push: every committed change becomes a numbered event that consoles and walls receive.

Events are rows of ``live_events`` written in the same transaction as the change, so a console that
reconnects asks for everything after the last ``seq`` it saw and misses nothing. After a commit the
writer calls :meth:`LiveHub.notify` (from any thread) with the committed events, or with nothing when
another engine or process wrote (PostgreSQL: a LISTEN connection hears every engine's commits): one pump
task on the engine's loop takes them in arrival order, reading the new rows from the store when told
nothing, and fans them out to bounded per-subscriber queues. ``seq`` order is commit order (see
``app.engine.work.add_live``), so "everything after seq N" never misses a later commit. A subscriber
that falls too far behind is dropped and reconnects with ``since``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable

from sqlalchemy import func, make_url, select
from sqlalchemy.orm import Session, sessionmaker

from app.engine.work import LIVE_CHANNEL
from app.formats.api import LiveEvent
from app.store.models import LiveEventRow

_log = logging.getLogger(__name__)
SUBSCRIBER_QUEUE = 2000
CATCH_UP_LIMIT = 5000


class Subscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self.dropped = False


class LiveHub:
    def __init__(self, factory: sessionmaker[Session], listen_url: str | None = None) -> None:
        """``listen_url``: a PostgreSQL database shared with other engines; the hub LISTENs there, so a
        change committed by any engine reaches this engine's consoles too."""
        self._factory = factory
        self._listen_url = listen_url
        self._listener: threading.Thread | None = None
        self._stop_listening = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._subs: set[Subscription] = set()
        self._last_seq = 0
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[LiveEvent], None]] = []
        self._arrivals: deque[list[LiveEvent] | None] = deque()

    @property
    def last_seq(self) -> int:
        return self._last_seq

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._last_seq = await asyncio.to_thread(self._max_seq)
        self._task = asyncio.create_task(self._pump(), name="live-hub")
        if self._listen_url:
            self._stop_listening.clear()
            self._listener = threading.Thread(target=self._listen, name="live-hub-listen", daemon=True)
            self._listener.start()

    def _listen(self) -> None:
        """Thread: LISTEN on the shared database; every notification (a commit with live events, by any
        engine) makes the pump read what is new. Reconnects with backoff; a read after each (re)connect
        covers whatever was committed while not listening."""
        import psycopg

        assert self._listen_url is not None
        conninfo = (
            make_url(self._listen_url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        delay = 0.5
        while not self._stop_listening.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {LIVE_CHANNEL}")
                    delay = 0.5
                    self.notify()
                    while not self._stop_listening.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self.notify()
            except Exception as exc:  # the database restarted or is unreachable: try again
                _log.warning("live hub lost its LISTEN connection (%s); retrying in %.1f s", exc, delay)
                self._stop_listening.wait(delay)
                delay = min(10.0, delay * 2)

    async def stop(self) -> None:
        self._stop_listening.set()
        if self._listener is not None:
            await asyncio.to_thread(self._listener.join, 5.0)
            self._listener = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for sub in list(self._subs):
            self._close(sub)

    def notify(self, events: list[LiveEvent] | None = None) -> None:
        """Thread-safe: something was committed. ``events`` are the committed events themselves (pushed
        as they are); None: read what is new from the store. Items are taken in the order they came."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._arrive, events)
            except RuntimeError:  # closed meanwhile
                pass

    def _arrive(self, events: list[LiveEvent] | None) -> None:
        self._arrivals.append(events)
        self._wake.set()

    def add_listener(self, fn: Callable[[LiveEvent], None]) -> None:
        """In-process listeners (e.g. the relay pre-warming cameras) called on the engine loop."""
        self._listeners.append(fn)

    def subscribe(self) -> Subscription:
        sub = Subscription()
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    def catch_up(self, since: int) -> tuple[list[LiveEvent], bool]:
        """Events after ``since`` (blocking; run in a thread). The flag says the gap was too large."""
        with self._factory() as s:
            rows = s.scalars(
                select(LiveEventRow)
                .where(LiveEventRow.seq > since)
                .order_by(LiveEventRow.seq)
                .limit(CATCH_UP_LIMIT + 1)
            ).all()
        events = [LiveEvent(type=r.type, seq=r.seq, data=r.data) for r in rows[:CATCH_UP_LIMIT]]
        return events, len(rows) > CATCH_UP_LIMIT

    def _max_seq(self) -> int:
        with self._factory() as s:
            return int(s.scalar(select(func.coalesce(func.max(LiveEventRow.seq), 0))) or 0)

    def _read_new(self, after: int) -> list[LiveEvent]:
        with self._factory() as s:
            rows = s.scalars(
                select(LiveEventRow).where(LiveEventRow.seq > after).order_by(LiveEventRow.seq)
            ).all()
            return [LiveEvent(type=r.type, seq=r.seq, data=r.data) for r in rows]

    async def _pump(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._arrivals:
                item = self._arrivals.popleft()
                if item is None:
                    while self._arrivals and self._arrivals[0] is None:
                        self._arrivals.popleft()  # one read covers them all
                    try:
                        item = await asyncio.to_thread(self._read_new, self._last_seq)
                    except Exception:
                        _log.exception("live hub could not read new events; will retry on the next change")
                        continue
                for ev in item:
                    if ev.seq <= self._last_seq:
                        continue  # a read already brought it
                    self._last_seq = ev.seq
                    self._fan_out(ev)

    def _fan_out(self, ev: LiveEvent) -> None:
        for fn in self._listeners:
            try:
                fn(ev)
            except Exception:
                _log.exception("live listener failed on %s", ev.type)
        for sub in list(self._subs):
            try:
                sub.queue.put_nowait(ev)
            except asyncio.QueueFull:
                _log.warning("dropping a live subscriber that fell %d events behind", SUBSCRIBER_QUEUE)
                self._close(sub)

    def _close(self, sub: Subscription) -> None:
        sub.dropped = True
        self._subs.discard(sub)
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.queue.put_nowait(None)
