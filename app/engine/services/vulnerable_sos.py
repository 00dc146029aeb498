"""Support for the socially vulnerable: an SOS from a child's or patient's device shows the person's
position (tracked as they move) and nearby cameras with child-protection cameras first, and reaches
112 and 119 at once."""

from __future__ import annotations

from app.domain.camera_index import CameraIndex
from app.domain.enums import AgencyKind, Purpose
from app.domain.geo import Area, GeoPoint
from app.domain.selection import select_for_vulnerable
from app.engine.services.policy import Pick
from app.engine.settings import SelectionSettings


class VulnerableSos:
    also_share_with: tuple[AgencyKind, ...] = (AgencyKind.POLICE, AgencyKind.FIRE)
    wants_facilities = False
    tracks_location = True

    def choose(
        self, index: CameraIndex, point: GeoPoint, area: Area | None, sel: SelectionSettings
    ) -> list[Pick]:
        chosen = select_for_vulnerable(index, point, sel.nearest_count, sel.nearest_radius_m)
        return [
            Pick(c, "child-protection" if c.camera.purpose is Purpose.CHILD_PROTECTION else "nearest")
            for c in chosen
        ]
