"""Closed vocabularies shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class Service(StrEnum):
    """The five linked services of the smart-city integrated platform."""

    EMERGENCY_VIDEO_112 = "112-emergency-video"
    DISPATCH_112 = "112-dispatch"
    DISPATCH_119 = "119-dispatch"
    DISASTER_RESPONSE = "disaster-response"
    VULNERABLE_SOS = "vulnerable-sos"


class Purpose(StrEnum):
    """Why a camera was installed (drives map colour and selection filters)."""

    CRIME = "crime"
    TRAFFIC = "traffic"
    DISASTER = "disaster"
    CHILD_PROTECTION = "child-protection"
    OTHER = "other"


class AgencyKind(StrEnum):
    POLICE = "police"
    FIRE = "fire"
    DISASTER = "disaster"
    VULNERABLE = "vulnerable"


class DeliveryFormat(StrEnum):
    JSON = "json"
    CAP = "cap"
    EIDO = "eido"


class IncidentStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class ShareStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
    PENDING = "pending"  # waits for a supervisor's approval (or an operator's confirmation); media refuses
    REJECTED = "rejected"


class DeliveryState(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    DEAD = "dead"


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"  # reads the audit trail and the provision ledger, nothing else


class SensorKind(StrEnum):
    EMERGENCY_BELL = "emergency-bell"
    WATER_LEVEL = "water-level"
    GAS = "gas"


class FacilityKind(StrEnum):
    """Facilities a 119 unit must know about near an incident."""

    HAZARDOUS = "hazardous"  # fuel, chemicals, gas storage
    HOSPITAL = "hospital"
    SHELTER = "shelter"
    HYDRANT = "hydrant"
    OTHER = "other"
