"""Sensor readings that open nothing, recorded in batches.

A reading below its threshold, for a sensor with no open incident, changes nothing but the record of
readings. One audited transaction each would put every reading of every gateway through the writer with
its own audit-chain link. Here one thread of its own (the *flusher*) writes the readings of many requests
together: when readings are pending it asks for the writer (a unit of the group commit), takes everything
pending at that moment, and writes it with one multi-row insert into ``sensor_readings`` and one
``sensor.readings`` audit row per gateway (and client) with the count, the sensors and the time range.
Readings that arrive meanwhile wait for the next flush; flushes are at least ``min_interval_s`` apart, so
under load each carries more readings. Every caller is answered once its flush is durable (a
:class:`concurrent.futures.Future`: the API awaits it on the event loop without holding a request thread),
so an accepted reading is never lost; a flush that fails fails every caller in it (503 "Not stored", send
it again), and nothing of it was written. The flusher stops after ``idle_exit_s`` without readings and
starts again with the next one.

Which sensors exist and which have an open incident is kept in memory (``cache``,
app/engine/sensor_cache.py), so a reading that opens nothing costs no read transaction either. The rows go
in with a Core insert (no ORM objects).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert

from app.engine.auth import Principal
from app.engine.sensor_cache import SensorCache
from app.engine.work import UnitOfWorkFactory
from app.store import audit_chain
from app.store.group_commit import GroupCommitFailed
from app.store.models import SensorReadingRow

_log = logging.getLogger(__name__)

_TABLE: Table = SensorReadingRow.__table__  # type: ignore[assignment]
# Most sensor ids one audit row names (a gateway's batch may span more; ``sensor_count`` has them all).
AUDIT_SENSORS = 500

Caller = tuple[str, str, str | None]  # (actor, agency id, client address)


class SensorReadings:
    """The readings waiting for the next flush, and the flusher (one per engine)."""

    def __init__(self, min_interval_s: float = 0.25, idle_exit_s: float = 5.0) -> None:
        self.min_interval_s = min_interval_s
        self.idle_exit_s = idle_exit_s
        self._cond = threading.Condition()
        self._pending: list[tuple[Caller, dict[str, Any]]] = []
        self._waiters: list[Future[None]] = []
        self._uow: UnitOfWorkFactory | None = None
        self._thread: threading.Thread | None = None
        self._last_flush = float("-inf")
        self.batches = 0  # flushes written so far (for tests and benches)
        self.readings = 0
        self.cache = SensorCache()

    def pending(self) -> int:
        """Readings waiting for a flush (for tests)."""
        with self._cond:
            return len(self._pending)

    def submit(
        self, uow: UnitOfWorkFactory, principal: Principal, client: str | None, readings: list[dict[str, Any]]
    ) -> Future[None]:
        """Queue ``readings`` (``sensor_readings`` rows) for the next flush; the future is done once they
        are durable (or failed with the flush's error)."""
        done: Future[None] = Future()
        caller = (principal.actor, principal.id, client)
        with self._cond:
            self._pending.extend((caller, r) for r in readings)
            self._waiters.append(done)
            self._uow = uow
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sensor-readings", daemon=True)
                self._thread.start()
            self._cond.notify()
        return done

    def record(
        self, uow: UnitOfWorkFactory, principal: Principal, client: str | None, *readings: dict[str, Any]
    ) -> None:
        """:meth:`submit`, then wait until the readings are durable (from a request thread)."""
        self.submit(uow, principal, client, list(readings)).result()

    def _run(self) -> None:
        try:
            while self._next():
                pass
        except BaseException as exc:
            _log.exception("the sensor readings flusher stopped; the next reading starts another")
            with self._cond:  # the queued callers must not wait for a flush that never comes
                self._thread = None
                waiters, self._waiters, self._pending = self._waiters, [], []
            for w in waiters:
                w.set_exception(GroupCommitFailed(f"the sensor readings were not stored: {exc}"))
            raise

    def _next(self) -> bool:
        """Wait for readings and flush them; False once idle for ``idle_exit_s`` (the thread ends)."""
        with self._cond:
            idle_until = time.monotonic() + self.idle_exit_s
            while not self._pending:
                left = idle_until - time.monotonic()
                if left <= 0:
                    self._thread = None
                    return False
                self._cond.wait(left)
            uow = self._uow
        assert uow is not None
        # Pacing, not synchronisation: readings arriving within the interval join this flush.
        rest = self._last_flush + self.min_interval_s - time.monotonic()
        if rest > 0:
            time.sleep(rest)
        self._flush(uow)
        self._last_flush = time.monotonic()
        return True

    def _flush(self, uow: UnitOfWorkFactory) -> None:
        waiters: list[Future[None]] = []
        try:
            with uow.writing() as s:
                with self._cond:  # holding the writer: everything pending now goes into this flush
                    rows, self._pending = self._pending, []
                    waiters, self._waiters = self._waiters, []
                s.execute(insert(_TABLE), [r for _, r in rows])
                audit_chain.add_audit(s, _audit_rows(rows, uow.clock.now()))
        except BaseException as exc:
            _log.exception("a flush of %d callers' sensor readings failed", len(waiters))
            # Answered as the group commit's failures are: 503, nothing of it stored, send it again.
            error = GroupCommitFailed(f"the sensor readings were not stored: {exc}")
            error.__cause__ = exc
            if not waiters:  # failed before it took them: they wait for the next flush
                return
            for w in waiters:
                w.set_exception(error)
            return
        self.batches += 1
        self.readings += len(rows)
        for w in waiters:
            w.set_result(None)


def _audit_rows(rows: list[tuple[Caller, dict[str, Any]]], now: datetime) -> list[dict[str, Any]]:
    """One ``sensor.readings`` row per gateway (and client) of a batch: who sent how many readings of
    which sensors, received when (the readings themselves are the ``sensor_readings`` rows of that
    gateway in that time range)."""
    per_caller: dict[Caller, list[dict[str, Any]]] = defaultdict(list)
    for caller, r in rows:
        per_caller[caller].append(r)
    out = []
    for (actor, actor_id, client), rs in per_caller.items():
        sensors = sorted({r["sensor_id"] for r in rs})
        out.append(
            {
                "at": now,
                "actor": actor,
                "action": "sensor.readings",
                "target_type": "sensor",
                "target_id": None,
                "client": client,
                "detail": {
                    "actor_id": actor_id,  # as Work.audit does for agencies
                    "count": len(rs),
                    "sensor_count": len(sensors),
                    "sensors": sensors[:AUDIT_SENSORS],
                    "first": min(r["at"] for r in rs).isoformat(),
                    "last": max(r["at"] for r in rs).isoformat(),
                },
            }
        )
    return out
