"""Camera and agency health, decided without a screen: which cameras are offline (per the engine or
per the console's own tiles) and which agencies' deliveries are failing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.formats.api import AgencyHealthOut, AgencyOut, CameraOut

__all__ = ["AgencyStatus", "HealthVM"]


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort "가호동 2" before "가호동 10": digit runs compare as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part)


@dataclass(frozen=True, slots=True)
class AgencyStatus:
    agency: AgencyOut
    state: str  # "ok", "failing", "disabled", "idle" (the engine's), or "dead-letter"
    dead_letters: int
    queue_depth: int
    consecutive_failures: int

    @property
    def problem(self) -> bool:
        return self.state in ("failing", "dead-letter", "disabled")


class HealthVM:
    """Feed it the camera list, tile reports and the agency list; read the problems."""

    def __init__(self) -> None:
        self._cameras: dict[str, CameraOut] = {}
        self._tile_offline: set[str] = set()
        self._agencies: dict[str, AgencyOut] = {}
        self.version = 0

    def set_cameras(self, cameras: Iterable[CameraOut]) -> None:
        self._cameras = {c.id: c for c in cameras}
        self._tile_offline &= set(self._cameras)
        self.version += 1

    def set_tile_state(self, camera_id: str, offline: bool) -> bool:
        """A tile saw the camera offline (or live again). True when that changed anything."""
        before = camera_id in self._tile_offline
        if offline == before or camera_id not in self._cameras:
            return False
        if offline:
            self._tile_offline.add(camera_id)
        else:
            self._tile_offline.discard(camera_id)
        self.version += 1
        return True

    def set_camera_online(self, camera_id: str, online: bool) -> bool:
        """The engine's relay saw the camera go online or offline (``camera.updated``). True if it changed."""
        cam = self._cameras.get(camera_id)
        if cam is None or cam.online == online:
            return False
        self._cameras[camera_id] = cam.model_copy(update={"online": online})
        self.version += 1
        return True

    def set_agencies(self, agencies: Iterable[AgencyOut]) -> None:
        self._agencies = {a.id: a for a in agencies}
        self.version += 1

    def apply_agency_health(self, agency_id: str, health: AgencyHealthOut) -> AgencyOut | None:
        """A live ``delivery.updated`` carried the agency's health after the change: apply it as it is (no
        reload). Returns the updated agency, or None when the agency is unknown here (then reload)."""
        a = self._agencies.get(agency_id)
        if a is None:
            return None
        if a.health != health:
            a = self._agencies[agency_id] = a.model_copy(update={"health": health})
            self.version += 1
        return a

    @property
    def camera_count(self) -> int:
        return len(self._cameras)

    def camera(self, camera_id: str) -> CameraOut | None:
        return self._cameras.get(camera_id)

    def cameras(self) -> list[CameraOut]:
        return sorted(self._cameras.values(), key=lambda c: natural_key(c.name))

    def is_offline(self, camera_id: str) -> bool:
        c = self._cameras.get(camera_id)
        return c is not None and (not c.online or camera_id in self._tile_offline)

    def offline_cameras(self) -> list[CameraOut]:
        return sorted(
            (c for c in self._cameras.values() if self.is_offline(c.id)), key=lambda c: natural_key(c.name)
        )

    def agencies(self) -> list[AgencyStatus]:
        """Every agency, problems first."""
        out = [self._status(a) for a in self._agencies.values()]
        return sorted(out, key=lambda s: (not s.problem, s.agency.name))

    def failing_agencies(self) -> list[AgencyStatus]:
        return [s for s in self.agencies() if s.problem]

    @staticmethod
    def _status(a: AgencyOut) -> AgencyStatus:
        h = a.health
        if not a.enabled:
            return AgencyStatus(a, "disabled", h.dead_letters if h else 0, h.queue_depth if h else 0, 0)
        if h is None:
            return AgencyStatus(a, "idle", 0, 0, 0)
        state = h.state
        if state in ("ok", "idle") and h.dead_letters:
            state = "dead-letter"
        return AgencyStatus(a, state, h.dead_letters, h.queue_depth, h.consecutive_failures)
