"""Sensor readings that open nothing, recorded in batches.

A reading below its threshold, for a sensor with no open incident, changes nothing but the record of
readings. One audited transaction each would put every reading of every gateway through the writer with
its own audit-chain link; here the readings that arrive while a batch waits for the writer are written
together: one multi-row insert into ``sensor_readings`` and one audit row per gateway (and client) with
the count, in the next group commit. The first reading of a batch leads it (it asks for the writer); the
others wait for it. Every caller is answered once its batch is durable, so an accepted reading (202) is
never lost.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from sqlalchemy import insert

from app.engine.auth import Principal
from app.engine.work import UnitOfWorkFactory
from app.store import audit_chain
from app.store.models import SensorReadingRow


class _Batch:
    __slots__ = ("done", "error", "led", "rows")

    def __init__(self) -> None:
        self.rows: list[tuple[tuple[str, str, str | None], dict[str, Any]]] = []
        self.led = False
        self.done = threading.Event()
        self.error: BaseException | None = None


class SensorReadings:
    """The batch being gathered (one per engine)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._batch = _Batch()
        self.batches = 0  # written so far (for tests and benches)
        self.readings = 0

    def record(
        self, uow: UnitOfWorkFactory, principal: Principal, client: str | None, *readings: dict[str, Any]
    ) -> None:
        """Add ``readings`` (``sensor_readings`` rows) to the current batch; return once they are durable."""
        with self._mutex:
            batch = self._batch
            batch.rows.extend(((principal.actor, principal.id, client), r) for r in readings)
            lead, batch.led = not batch.led, True
        if not lead:
            batch.done.wait()
            if batch.error is not None:
                raise RuntimeError(
                    f"the batch of sensor readings was not written: {batch.error}"
                ) from batch.error
            return
        try:
            with uow.writing() as s:
                with self._mutex:  # from here on, new readings gather in the next batch
                    rows, self._batch = batch.rows, _Batch()
                s.execute(insert(SensorReadingRow), [r for _, r in rows])
                per_caller: dict[tuple[str, str, str | None], list[dict[str, Any]]] = defaultdict(list)
                for caller, r in rows:
                    per_caller[caller].append(r)
                now = uow.clock.now()
                audit_chain.add_audit(
                    s,
                    [
                        {
                            "at": now,
                            "actor": actor,
                            "action": "sensor.readings",
                            "target_type": "sensor",
                            "target_id": None,
                            "client": cl,
                            "detail": {
                                "actor_id": actor_id,  # as Work.audit does for agencies
                                "count": len(rs),
                                "sensors": sorted({r["sensor_id"] for r in rs})[:50],
                                "first": min(r["at"] for r in rs).isoformat(),
                                "last": max(r["at"] for r in rs).isoformat(),
                            },
                        }
                        for (actor, actor_id, cl), rs in per_caller.items()
                    ],
                )
            self.batches += 1
            self.readings += len(rows)
        except BaseException as exc:
            batch.error = exc
            with self._mutex:  # failed before it was closed: later readings must not join a dead batch
                if self._batch is batch:
                    self._batch = _Batch()
            raise
        finally:
            batch.done.set()
