"""112 emergency video support: a 112 call comes in; the 112 room gets the nearest cameras live."""

from __future__ import annotations

from app.domain.camera_index import CameraIndex
from app.domain.enums import AgencyKind
from app.domain.geo import Area, GeoPoint
from app.domain.selection import select_nearest
from app.engine.services.policy import Pick
from app.engine.settings import SelectionSettings


class EmergencyVideo112:
    also_share_with: tuple[AgencyKind, ...] = ()
    wants_facilities = False
    tracks_location = False

    def choose(
        self, index: CameraIndex, point: GeoPoint, area: Area | None, sel: SelectionSettings
    ) -> list[Pick]:
        return [
            Pick(c, "nearest") for c in select_nearest(index, point, sel.nearest_count, sel.nearest_radius_m)
        ]
