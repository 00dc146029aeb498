"""The live hub: committed events pushed as they are, reads from the store when told nothing, in order."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

from app.domain.clock import SystemClock
from app.engine.live import LiveHub
from app.engine.work import UnitOfWorkFactory
from app.formats.api import LiveEvent
from app.store.database import Database, sqlite_url
from app.store.models import LiveEventRow


def test_pushed_and_read_events_reach_a_subscriber_once_each_in_commit_order(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "hub.db"))
    db.migrate()
    uow = UnitOfWorkFactory(db, SystemClock())
    hub = LiveHub(db.reader)
    uow.on_live(hub.notify)
    got: list[int] = []

    async def main() -> None:
        await hub.start()
        sub = hub.subscribe()

        def writers() -> None:
            # Four threads commit events; one in five commits also tells the hub "read the store"
            # (as a write from elsewhere would), so pushes and reads interleave.
            def write(k: int) -> None:
                for i in range(25):
                    with uow.writing() as s:
                        s.add(LiveEventRow(at=datetime.now(UTC), type="t", data={"k": k, "i": i}))
                    if i % 5 == 0:
                        uow.notify_live()

            threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        await asyncio.to_thread(writers)
        while len(got) < 100:
            ev = await asyncio.wait_for(sub.queue.get(), 10)
            assert isinstance(ev, LiveEvent)
            got.append(ev.seq)
        await hub.stop()

    asyncio.run(main())
    db.dispose()
    assert got == sorted(got) and len(set(got)) == 100
    assert hub.last_seq == got[-1]


def test_events_written_elsewhere_are_read_when_the_hub_is_told(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "hub.db"))
    db.migrate()
    hub = LiveHub(db.reader)

    async def main() -> list[int]:
        await hub.start()
        sub = hub.subscribe()
        # A plain session that is not the unit-of-work factory's: nothing is pushed, the hub must read.
        other = Database(db.url)
        with other.writer() as s, s.begin():
            s.add_all(LiveEventRow(at=datetime.now(UTC), type="x", data={}) for _ in range(3))
        other.dispose()
        hub.notify()
        seqs = [(await asyncio.wait_for(sub.queue.get(), 10)).seq for _ in range(3)]  # type: ignore[union-attr]
        await hub.stop()
        return seqs

    assert asyncio.run(main()) == [1, 2, 3]
    db.dispose()
