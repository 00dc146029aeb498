"""112 dispatch support: dispatched police units get the nearest cameras plus a wider ring of
escape-route cameras spread over several directions; a location update re-selects both."""

from __future__ import annotations

from app.domain.camera_index import CameraIndex
from app.domain.enums import AgencyKind
from app.domain.geo import Area, GeoPoint
from app.domain.selection import select_escape_ring, select_nearest
from app.engine.services.policy import Pick, dedupe
from app.engine.settings import SelectionSettings


class Dispatch112:
    also_share_with: tuple[AgencyKind, ...] = ()
    wants_facilities = False
    tracks_location = True

    def choose(
        self, index: CameraIndex, point: GeoPoint, area: Area | None, sel: SelectionSettings
    ) -> list[Pick]:
        near = [
            Pick(c, "nearest") for c in select_nearest(index, point, sel.nearest_count, sel.nearest_radius_m)
        ]
        ring = select_escape_ring(index, point, sel.escape_inner_m, sel.escape_outer_m, sel.escape_count)
        return dedupe(near + [Pick(c, "escape-route") for c in ring])
