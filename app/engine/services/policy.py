"""The shape every linked service's policy has, and the registry of the five."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.domain.camera_index import CameraIndex
from app.domain.enums import AgencyKind
from app.domain.geo import Area, GeoPoint
from app.domain.selection import Chosen
from app.engine.settings import SelectionSettings


@dataclass(frozen=True, slots=True)
class Pick:
    """A chosen camera with the reason it was chosen."""

    chosen: Chosen
    role: str


class ServicePolicy(Protocol):
    # Agencies (by kind) that receive a share besides the requester; e.g. an SOS goes to 112 and 119 at once.
    also_share_with: tuple[AgencyKind, ...]
    # Whether nearby facilities (hazardous sites, hospitals, hydrants) come with the incident.
    wants_facilities: bool
    # Whether location updates build a track (a moving person).
    tracks_location: bool

    def choose(
        self, index: CameraIndex, point: GeoPoint, area: Area | None, sel: SelectionSettings
    ) -> list[Pick]:
        """The cameras for this incident, in display order."""
        ...


def dedupe(picks: list[Pick]) -> list[Pick]:
    seen: set[str] = set()
    out: list[Pick] = []
    for p in picks:
        if p.chosen.camera.id not in seen:
            seen.add(p.chosen.camera.id)
            out.append(p)
    return out
