"""119 dispatch support: fire/EMS units get nearby cameras plus hazardous facilities and access notes
from the facilities layer (chosen in the intake, since they come from the store)."""

from __future__ import annotations

from app.domain.camera_index import CameraIndex
from app.domain.enums import AgencyKind
from app.domain.geo import Area, GeoPoint
from app.domain.selection import select_nearest
from app.engine.services.policy import Pick
from app.engine.settings import SelectionSettings


class Dispatch119:
    also_share_with: tuple[AgencyKind, ...] = ()
    wants_facilities = True
    tracks_location = False

    def choose(
        self, index: CameraIndex, point: GeoPoint, area: Area | None, sel: SelectionSettings
    ) -> list[Pick]:
        return [
            Pick(c, "nearest") for c in select_nearest(index, point, sel.nearest_count, sel.nearest_radius_m)
        ]
