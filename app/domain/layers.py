"""Map layers besides cameras: IoT sensors and facilities a responder must know about."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.enums import FacilityKind, SensorKind


@dataclass(frozen=True, slots=True)
class Sensor:
    """An IoT sensor or alarm point. ``threshold`` is the alarm level in the sensor's own unit
    (metres of water, ppm of gas), None when the device raises its own alarm (an emergency bell)."""

    id: str
    name: str
    lat: float
    lon: float
    kind: SensorKind
    threshold: float | None = None
    agency_id: str | None = None  # the gateway agency whose key posts its events


@dataclass(frozen=True, slots=True)
class Facility:
    """A facility near which an incident needs special care (fuel store, hospital, shelter, hydrant)."""

    id: str
    name: str
    lat: float
    lon: float
    kind: FacilityKind
    notes: str = ""
