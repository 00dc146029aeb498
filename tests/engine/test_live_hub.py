"""The live hub: committed events pushed as they are, reads from the store when told nothing, in order."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event

from app.domain.clock import SystemClock
from app.engine.live import LiveHub
from app.engine.work import UnitOfWorkFactory, add_live
from app.formats.api import LiveEvent
from app.store.database import Database, sqlite_url
from app.store.models import LiveEventRow
from tests.engine.conftest import PG_ADMIN_URL, fresh_pg_database


@pytest.fixture
def pg_url() -> str:
    if not PG_ADMIN_URL:
        pytest.skip("no PostgreSQL (set GOLDENTIME_TEST_PG; the test setup does)")
    return fresh_pg_database()


def test_pushed_and_read_events_reach_a_subscriber_once_each_in_commit_order(
    tmp_path: Path, db_url: str | None
) -> None:
    """Four threads commit live events while the hub is also told to read; on PostgreSQL (no single
    writer) a pause between numbering an event and committing it would let a later number commit first
    and be missed for good, unless numbering follows commit order."""
    db = Database(db_url or sqlite_url(tmp_path / "hub.db"))
    db.migrate()
    uow = UnitOfWorkFactory(db, SystemClock())
    rng = random.Random(7)

    @event.listens_for(uow.factory, "before_commit")
    def pause(_session: object) -> None:  # after the live rows are written, before the commit
        time.sleep(rng.uniform(0, 0.004))

    @event.listens_for(uow.factory, "after_commit", insert=True)
    def pause_after(_session: object) -> None:  # between the commit and the hub hearing of it
        time.sleep(rng.uniform(0, 0.004))

    hub = LiveHub(db.reader)
    uow.on_live(hub.notify)
    got: list[int] = []

    async def main() -> None:
        await hub.start()
        sub = hub.subscribe()

        def write(k: int) -> None:
            for i in range(25):
                with uow.writing() as s:
                    add_live(s, datetime.now(UTC), "t", {"k": k, "i": i})
                if i % 5 == 0:
                    uow.notify_live()  # as a write from elsewhere would

        def writers() -> None:
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


def test_a_second_engine_on_the_same_postgresql_hears_every_commit(pg_url: str) -> None:
    """Two engines share PostgreSQL: what one commits reaches the other's live subscribers (LISTEN)."""
    db = Database(pg_url)
    db.migrate()
    writer = UnitOfWorkFactory(db, SystemClock())  # "engine A" (no hub of its own needed here)
    hub = LiveHub(Database(pg_url).reader, listen_url=pg_url)  # "engine B"

    async def main() -> list[str]:
        await hub.start()
        sub = hub.subscribe()
        await asyncio.sleep(0)  # let the listener thread connect (the first read covers a race)
        for i in range(3):
            await asyncio.to_thread(_commit_one, writer, f"e{i}")
        types = []
        for _ in range(3):
            ev = await asyncio.wait_for(sub.queue.get(), 10)
            assert isinstance(ev, LiveEvent)
            types.append(str(ev.data["name"]))
        await hub.stop()
        return types

    assert asyncio.run(main()) == ["e0", "e1", "e2"]
    db.dispose()


def _commit_one(uow: UnitOfWorkFactory, name: str) -> None:
    with uow.writing() as s:
        add_live(s, datetime.now(UTC), "t", {"name": name})


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
