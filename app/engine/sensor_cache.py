"""The sensors and which of them have an open incident, kept in memory for the readings path (issue 17):
a reading that opens nothing is checked without a read transaction, then recorded in a batch
(app/engine/sensor_readings.py).

Two things are kept, each reloaded from the store when older than its bound:

- the sensors (id → owner gateway, kind, threshold), at most ``sensors_max_age_s`` old. A change this
  process commits (``sensors import`` inside the engine, tests) invalidates them at once (mapper events on
  :class:`SensorRow`, acted on after the commit); a change by another process (the ``sensors import``
  command, another engine) is seen within the bound. A sensor id the cache does not know makes it look
  again, at most once every ``miss_interval_s`` (a gateway sending unknown ids cannot make every request
  reload).
- the sensors with an open incident, at most ``open_max_age_s`` old, read through the partial index
  ``ix_incidents_open_source`` (migration sensors_0001). This engine adds a sensor the moment it opens
  one. A stale "open" (the incident was closed since) only sends the reading down the slow path, which
  looks again under the writer and records it plainly; a stale "not open" can only come from another engine
  (PostgreSQL) within the bound: a reading below threshold is then recorded as a plain reading instead of
  joining that incident's timeline — a reading above threshold always takes the slow path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import event, select, text
from sqlalchemy.orm import object_session

from app.engine.work import UnitOfWorkFactory
from app.store.group_commit import GROUP_KEY
from app.store.models import IncidentRow, SensorRow

# Literally the partial index's condition: SQLite uses a partial index only for a query naming its term.
OPEN_INCIDENT = text("status != 'closed'")


class SensorInfo(NamedTuple):
    id: str
    agency_id: str | None
    kind: str
    threshold: float | None

    @classmethod
    def of(cls, row: SensorRow) -> SensorInfo:
        return cls(row.id, row.agency_id, row.kind, row.threshold)


_changes_lock = threading.Lock()
_changes = 0  # sensor changes this process committed (and flushed): the cache's generation


def _bump(*_: Any) -> None:
    global _changes
    with _changes_lock:
        _changes += 1


def _sensor_changed(_mapper: Any, _connection: Any, target: SensorRow) -> None:
    _bump()  # a reload from now until the commit still reads the old rows: bumped again after it
    session = object_session(target)
    if session is None:
        return
    group = session.info.get(GROUP_KEY)
    if group is not None:
        group.after_commit(_bump)
    else:
        event.listen(session, "after_commit", _bump, once=True)


for _event in ("after_insert", "after_update", "after_delete"):
    event.listen(SensorRow, _event, _sensor_changed)


class SensorCache:
    def __init__(
        self, sensors_max_age_s: float = 5.0, open_max_age_s: float = 2.0, miss_interval_s: float = 1.0
    ) -> None:
        self.sensors_max_age_s = sensors_max_age_s
        self.open_max_age_s = open_max_age_s
        self.miss_interval_s = miss_interval_s
        self._lock = threading.Lock()  # one load at a time; the others wait for it and use its result
        self._sensors: dict[str, SensorInfo] = {}
        self._sensors_at = float("-inf")
        self._sensors_gen = -1
        self._open: frozenset[str] = frozenset()
        self._open_at = float("-inf")
        self._opened: dict[str, float] = {}  # opened here since the last load began (monotonic time)
        self.loads = 0  # for tests

    def peek(self, ids: Iterable[str]) -> tuple[dict[str, SensorInfo], frozenset[str]] | None:
        """(sensors, ids with an open incident) as they are in memory, when :meth:`sensors` for ``ids``
        and :meth:`open_sensors` would not read the store; None when they would. Never reads the store
        (so may be called on the event loop)."""
        sensors, sensors_at, gen = self._sensors, self._sensors_at, self._sensors_gen
        open_ids, open_at = self._open, self._open_at
        now = time.monotonic()
        if (
            gen != _changes
            or now - sensors_at > self.sensors_max_age_s
            or now - open_at > self.open_max_age_s
        ):
            return None
        if now - sensors_at >= self.miss_interval_s and any(i not in sensors for i in ids):
            return None  # an id it does not know, and it may look again: let the blocking path do so
        return sensors, open_ids

    def sensors(self, uow: UnitOfWorkFactory, ids: Iterable[str]) -> dict[str, SensorInfo]:
        """The sensors by id (all of them; look ``ids`` up in it)."""
        if self._sensors_gen != _changes or time.monotonic() - self._sensors_at > self.sensors_max_age_s:
            self._load_sensors(uow, miss=False)
        elif any(i not in self._sensors for i in ids):
            self._load_sensors(uow, miss=True)
        return self._sensors

    def open_sensors(self, uow: UnitOfWorkFactory) -> frozenset[str]:
        """Ids of the sensors with an open incident."""
        if time.monotonic() - self._open_at > self.open_max_age_s:
            with self._lock:
                if time.monotonic() - self._open_at > self.open_max_age_s:
                    started = time.monotonic()
                    with uow.read() as s:
                        sources = s.scalars(
                            select(IncidentRow.source).where(
                                OPEN_INCIDENT, IncidentRow.source.like("sensor:%")
                            )
                        ).all()
                    loaded = {src[len("sensor:") :] for src in sources}
                    # Opened by this engine while the load ran: the load may not have seen it yet.
                    self._opened = {i: t for i, t in self._opened.items() if t >= started}
                    self._open = frozenset(loaded | self._opened.keys())
                    self._open_at = started
                    self.loads += 1
        return self._open

    def opened(self, sensor_id: str) -> None:
        """This engine committed an incident for ``sensor_id`` (or found one open)."""
        with self._lock:
            self._opened[sensor_id] = time.monotonic()
            self._open = self._open | {sensor_id}

    def closed(self, sensor_id: str) -> None:
        """The slow path found no open incident for ``sensor_id`` after all."""
        with self._lock:
            self._opened.pop(sensor_id, None)
            self._open = self._open - {sensor_id}

    def _load_sensors(self, uow: UnitOfWorkFactory, *, miss: bool) -> None:
        with self._lock:
            now = time.monotonic()
            if miss:
                if now - self._sensors_at < self.miss_interval_s:
                    return  # looked very recently: unknown means unknown
            elif self._sensors_gen == _changes and now - self._sensors_at <= self.sensors_max_age_s:
                return  # another thread just loaded them
            gen = _changes
            with uow.read() as s:
                rows = s.execute(
                    select(SensorRow.id, SensorRow.agency_id, SensorRow.kind, SensorRow.threshold)
                ).all()
            self._sensors = {r[0]: SensorInfo(r[0], r[1], r[2], r[3]) for r in rows}
            self._sensors_at, self._sensors_gen = now, gen
            self.loads += 1
