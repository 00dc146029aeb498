"""Live push: every committed change becomes a numbered event that consoles and walls receive.

Events are rows of ``live_events`` written in the same transaction as the change, so a console that
reconnects asks for everything after the last ``seq`` it saw and misses nothing. After a commit the
writer calls :meth:`LiveHub.notify` (from any thread) with the committed events (SQLite, where writers
are serialised and seq order is commit order) or with nothing (PostgreSQL, or a write from elsewhere):
one pump task on the engine's loop takes them in arrival order, reading the new rows from the store when
told nothing, and fans them out to bounded per-subscriber queues. A subscriber that falls too far
behind is dropped and reconnects with ``since`` (SQLite serialises writers, so ``seq`` order is commit order).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

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
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
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

    async def stop(self) -> None:
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
