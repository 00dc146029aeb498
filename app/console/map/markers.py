"""What the map page draws for an incident (pure, no Qt): the console and the wall display both use it."""

from __future__ import annotations

from typing import Any

from app.formats.api import IncidentOut

__all__ = ["incident_map_payload"]


def incident_map_payload(inc: IncidentOut) -> dict[str, Any]:
    """What :meth:`MapView.upsert_incident` (and the wall's takeover map) take: with every area of a CAP
    alert (``details.areas``) and, for a detail, the SOS track with each fix's time."""
    from app.console.viewmodels.map_overlays import incident_overlays

    extra = incident_overlays(inc)
    out: dict[str, Any] = {
        "id": inc.id,
        "service": str(inc.service),
        "lat": inc.location.lat,
        "lon": inc.location.lon,
        "title": inc.title,
        "priority": inc.priority,
        "status": str(inc.status),
        "drill": inc.exercise,
        "area": inc.area,
    }
    if extra["areas"]:
        out["areas"] = extra["areas"]
    if extra["track"]:
        out["track"] = extra["track"]
    return out
