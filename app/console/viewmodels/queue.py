"""The incident queue, decided without a screen: order, service filter, golden-time countdown, new-emergency cue.

Order: priority (1 first), then age (oldest first), then id. Closed incidents leave the queue. The golden
time runs from the incident's creation for ``golden_time_s``; it is *met* when the incident was
acknowledged in time, *late* when it was acknowledged after, *overdue* while it is still new past its
deadline. A new emergency is an open incident of priority 1–2 that the console had not seen before,
arriving live (not in a reload): the console flashes and sounds a cue for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.clock import Clock, SystemClock
from app.domain.enums import IncidentStatus, Service
from app.formats.api import IncidentOut

__all__ = [
    "EMERGENCY_MAX_PRIORITY",
    "GoldenTime",
    "GoldenTimeState",
    "IncidentQueueVM",
    "QueueChange",
    "format_countdown",
    "golden_time",
]

#: Priorities (1 highest) that count as an emergency for the audible/visual cue.
EMERGENCY_MAX_PRIORITY = 2


class GoldenTimeState(StrEnum):
    RUNNING = "running"  # new, deadline ahead
    OVERDUE = "overdue"  # new, deadline passed
    MET = "met"  # acknowledged (or closed) before the deadline
    LATE = "late"  # acknowledged (or closed) after the deadline


@dataclass(frozen=True, slots=True)
class GoldenTime:
    """``remaining_s``: seconds to the deadline now (negative once passed), or at acknowledgement."""

    state: GoldenTimeState
    remaining_s: float
    text: str

    @property
    def overdue(self) -> bool:
        return self.state is GoldenTimeState.OVERDUE


def format_countdown(seconds: float) -> str:
    """``4:05``, ``0:00``, ``-1:05`` (past the deadline), ``1:02:03`` beyond an hour. Whole seconds, rounded
    toward the deadline so that a countdown never shows 0:00 while time is left."""
    neg = seconds < 0
    total = int(-seconds) if neg else int(seconds + 0.999)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    body = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    return f"-{body}" if neg and total else body


def golden_time(
    incident: IncidentOut, now: datetime, overrides: Mapping[Service, int] | None = None
) -> GoldenTime:
    """``overrides``: the console's own countdown per service in seconds (settings), else the engine's."""
    budget = (overrides or {}).get(incident.service, incident.golden_time_s)
    deadline = incident.created_at.timestamp() + budget
    handled_at = incident.acknowledged_at or incident.closed_at
    if handled_at is not None:
        left = deadline - handled_at.timestamp()
        state = GoldenTimeState.MET if left >= 0 else GoldenTimeState.LATE
        return GoldenTime(state, left, format_countdown(left))
    left = deadline - now.timestamp()
    state = GoldenTimeState.RUNNING if left >= 0 else GoldenTimeState.OVERDUE
    return GoldenTime(state, left, format_countdown(left))


@dataclass(frozen=True, slots=True)
class QueueChange:
    """What :meth:`IncidentQueueVM.upsert` did: ``new_emergency`` asks for the cue."""

    incident_id: str
    inserted: bool = False
    removed: bool = False
    new_emergency: bool = False


def _sort_key(inc: IncidentOut) -> tuple[int, float, str]:
    return (inc.priority, inc.created_at.timestamp(), inc.id)


class IncidentQueueVM:
    """The open incidents the operator works through.

    ``rows`` is the visible, sorted list (after the service filter). Feed it with :meth:`reset` (a reload)
    and :meth:`upsert` (each live ``incident.*`` event); :attr:`version` increases on every change so a
    table model can tell when to refresh.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._open: dict[str, IncidentOut] = {}
        self._seen: set[str] = set()
        self._services: frozenset[Service] | None = None
        self._rows: list[IncidentOut] = []
        self.version = 0
        #: The golden-time countdown per service set in the console's settings (seconds).
        self.golden_overrides: dict[Service, int] = {}

    # ------------------------------------------------------------------ input

    def reset(self, incidents: Iterable[IncidentOut]) -> None:
        """Replace everything (initial load or resync); never cues."""
        self._open = {i.id: i for i in incidents if i.status is not IncidentStatus.CLOSED}
        self._seen.update(self._open)
        self._rebuild()

    def upsert(self, incident: IncidentOut) -> QueueChange:
        """A live change: insert, update, or remove (closed). Stale updates (older ``updated_at``) are ignored."""
        known = self._open.get(incident.id)
        first_sight = incident.id not in self._seen
        self._seen.add(incident.id)
        if known is not None and incident.updated_at < known.updated_at:
            return QueueChange(incident.id)
        if incident.status is IncidentStatus.CLOSED:
            if known is None:
                return QueueChange(incident.id)
            del self._open[incident.id]
            self._rebuild()
            return QueueChange(incident.id, removed=True)
        self._open[incident.id] = incident
        self._rebuild()
        emergency = (
            first_sight
            and incident.status is IncidentStatus.NEW
            and incident.priority <= EMERGENCY_MAX_PRIORITY
        )
        return QueueChange(incident.id, inserted=known is None, new_emergency=emergency)

    def remove(self, incident_id: str) -> None:
        if self._open.pop(incident_id, None) is not None:
            self._rebuild()

    def set_service_filter(self, services: Iterable[Service] | None) -> None:
        """Show only these services (None or empty: all)."""
        chosen = frozenset(services) if services else None
        if chosen != self._services:
            self._services = chosen
            self._rebuild()

    # ------------------------------------------------------------------ output

    @property
    def service_filter(self) -> frozenset[Service] | None:
        return self._services

    @property
    def rows(self) -> list[IncidentOut]:
        return self._rows

    @property
    def open_count(self) -> int:
        """Open incidents, whatever the filter."""
        return len(self._open)

    def get(self, incident_id: str) -> IncidentOut | None:
        return self._open.get(incident_id)

    def index_of(self, incident_id: str) -> int | None:
        for i, inc in enumerate(self._rows):
            if inc.id == incident_id:
                return i
        return None

    def golden_time(self, incident: IncidentOut) -> GoldenTime:
        return golden_time(incident, self._clock.now(), self.golden_overrides)

    def overdue_count(self) -> int:
        now = self._clock.now()
        return sum(1 for inc in self._open.values() if golden_time(inc, now, self.golden_overrides).overdue)

    def newest_emergency(self) -> IncidentOut | None:
        """The newest open incident of priority 1 (else 2) still ``new``: where the jump key goes."""
        for prio in range(1, EMERGENCY_MAX_PRIORITY + 1):
            cands = [i for i in self._open.values() if i.priority == prio and i.status is IncidentStatus.NEW]
            if cands:
                return max(cands, key=lambda i: (i.created_at, i.id))
        return None

    def _rebuild(self) -> None:
        items: Iterable[IncidentOut] = self._open.values()
        if self._services is not None:
            items = (i for i in items if i.service in self._services)
        self._rows = sorted(items, key=_sort_key)
        self.version += 1
