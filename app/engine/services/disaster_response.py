"""Disaster emergency response: every camera in the alert area goes to the disaster situation room."""

from __future__ import annotations

from app.domain.camera_index import CameraIndex
from app.domain.enums import AgencyKind
from app.domain.geo import Area, Circle, GeoPoint
from app.domain.selection import select_in_area
from app.engine.services.policy import Pick
from app.engine.settings import SelectionSettings


class DisasterResponse:
    also_share_with: tuple[AgencyKind, ...] = (AgencyKind.DISASTER,)
    wants_facilities = True
    tracks_location = False

    def choose(
        self, index: CameraIndex, point: GeoPoint, area: Area | None, sel: SelectionSettings
    ) -> list[Pick]:
        # Without an alert area, the area is a circle of the nearest-camera radius around the point.
        region = area if area is not None else Circle(point, sel.nearest_radius_m)
        return [Pick(c, "area") for c in select_in_area(index, region, limit=sel.area_camera_limit)]
