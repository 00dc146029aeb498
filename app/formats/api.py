"""Engine API v1 schemas (DESIGN §4), shared by the engine, the client and the simulators.

Inbound models forbid unknown fields so that a typo in an agency's integration fails loudly with a
precise problem+json instead of being silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.domain.enums import (
    AgencyKind,
    DeliveryFormat,
    DeliveryState,
    IncidentStatus,
    Purpose,
    Role,
    Service,
    ShareStatus,
)

Latitude = Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]
ExternalId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]
Priority = Annotated[int, Field(ge=1, le=5)]
Identifier = Annotated[str, Field(min_length=1, max_length=128)]


DETAILS_MAX_DEPTH = 16
DETAILS_MAX_NODES = 5_000


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    """Free-form ``details`` stay small and shallow: every layer that stores, renders or signs them
    recurses, and a 300-level object would pass here only to fail later as a server error."""
    nodes = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > DETAILS_MAX_NODES:
            raise ValueError(f"has more than {DETAILS_MAX_NODES} values")
        if isinstance(item, dict | list):
            if depth > DETAILS_MAX_DEPTH:
                raise ValueError(f"is nested deeper than {DETAILS_MAX_DEPTH} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return value


JsonDetails = Annotated[dict[str, Any], AfterValidator(_bounded_json)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ---------------------------------------------------------------- inbound


class LocationIn(_In):
    lat: Latitude
    lon: Longitude
    address: Annotated[str, Field(max_length=500)] | None = None


class CircleIn(_In):
    lat: Latitude
    lon: Longitude
    radius_m: Annotated[float, Field(gt=0, le=50_000, allow_inf_nan=False)]


class AreaIn(_In):
    """Exactly one of ``circle`` or ``polygon`` (``[[lat, lon], …]``, 3–1000 points)."""

    circle: CircleIn | None = None
    polygon: Annotated[list[tuple[Latitude, Longitude]], Field(min_length=3, max_length=1000)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AreaIn:
        if (self.circle is None) == (self.polygon is None):
            raise ValueError("area needs exactly one of 'circle' or 'polygon'")
        return self


class RequestIn(_In):
    """``POST /api/v1/requests``: a linked-service request from an agency or device."""

    service: Service
    external_id: ExternalId
    title: ShortText
    location: LocationIn
    area: AreaIn | None = None
    priority: Priority = 3
    details: JsonDetails | None = None
    exercise: bool = False


class RequestUpdateIn(_In):
    """``POST /api/v1/requests/{external_id}/updates``."""

    location: LocationIn | None = None
    units: (
        Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=50)] | None
    ) = None
    note: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    closed: bool = False

    @model_validator(mode="after")
    def _not_empty(self) -> RequestUpdateIn:
        if self.location is None and self.units is None and self.note is None and not self.closed:
            raise ValueError("an update needs at least one of 'location', 'units', 'note' or 'closed'")
        return self


class SensorEventIn(_In):
    """``POST /api/v1/sensors/events``: a reading or an alarm from a registered sensor."""

    sensor_id: Identifier
    value: Annotated[float, Field(allow_inf_nan=False)] | None = None
    alarm: bool = False
    observed_at: datetime | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None
    exercise: bool = False

    @model_validator(mode="after")
    def _value_or_alarm(self) -> SensorEventIn:
        if self.value is None and not self.alarm:
            raise ValueError("a sensor event needs a 'value' or 'alarm': true")
        return self


class IncidentPatchIn(_In):
    """``PATCH /api/v1/incidents/{id}``."""

    status: Literal["acknowledged", "closed"] | None = None
    assignee: Annotated[str, Field(max_length=128)] | None = None
    priority: Priority | None = None
    note: Annotated[str, Field(min_length=1, max_length=2000)] | None = None


class ShareIn(_In):
    """``POST /api/v1/incidents/{id}/shares``: every field required."""

    agency_id: Identifier
    camera_ids: Annotated[list[Identifier], Field(min_length=1, max_length=64)]
    minutes: Annotated[int, Field(ge=1, le=1440)]
    purpose: Annotated[str, Field(min_length=1, max_length=500)]
    # An id from ``GET /api/v1/legal-bases`` (unknown: 422).
    legal_basis: Annotated[str, Field(min_length=1, max_length=64)]
    requesting_officer: Annotated[str, Field(max_length=200)] = ""
    case_number: Annotated[str, Field(max_length=100)] = ""


class ShareExtendIn(_In):
    """``PATCH /api/v1/shares/{id}``: extend a share by some minutes from now. An extension is a decision of
    its own: a reason is required, and an operator's waits for a supervisor."""

    minutes: Annotated[int, Field(ge=1, le=1440)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ShareDecisionIn(_In):
    """``POST /api/v1/shares/{id}/approve`` (reason optional) and ``…/reject`` (reason required)."""

    reason: Annotated[str, Field(max_length=500)] = ""


class ReportIn(_In):
    """``POST /api/v1/incidents/{id}/reports``: e.g. an operator reports a fire to 119 with a snapshot."""

    agency_id: Identifier
    kind: Annotated[str, Field(min_length=1, max_length=64)] = "fire"
    note: Annotated[str, Field(max_length=2000)] = ""
    camera_id: Identifier | None = None


class SessionIn(_In):
    username: Annotated[str, Field(min_length=1, max_length=128)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class AgencyIn(_In):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: AgencyKind
    format: DeliveryFormat = DeliveryFormat.JSON
    endpoint: Annotated[str, Field(min_length=1, max_length=2000)]


class AgencyPatchIn(_In):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    format: DeliveryFormat | None = None
    endpoint: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    enabled: bool | None = None
    rotate_secret: bool = False


# ---------------------------------------------------------------- outbound


class LocationOut(_Out):
    lat: float
    lon: float
    address: str | None = None


class CameraRegisterOut(_Out):
    """What the camera register (전국CCTV표준데이터) says of a camera: who runs it (관리기관명,
    개방자치단체코드), its 관리번호, addresses, 설치목적구분 as written, 설치연월, 카메라화소수, 촬영방면정보,
    보관일수 (days of video kept), the provider's phone and the edition's 데이터기준일자."""

    provider: str = ""
    provider_code: str = ""
    register_no: str = ""
    road_address: str = ""
    lot_address: str = ""
    purpose_text: str = ""
    installed: str = ""
    pixels: str = ""
    view: str = ""
    retention_days: int | None = None
    phone: str = ""
    data_date: str = ""


class CameraOut(_Out):
    id: str
    name: str
    lat: float
    lon: float
    purpose: Purpose
    direction_deg: float | None = None
    fov_deg: float | None = None
    online: bool = True
    distance_m: float | None = None
    covers_point: bool | None = None
    role: str | None = None  # "nearest", "escape-route", "area", "child-protection"
    # The position is a stand-in (an area centroid, a point shared by many addresses): ranked after exact
    # cameras, never chosen as nearest, shown as approximate on the map.
    approximate: bool = False
    retired: bool = False  # no longer in its register (kept for the incidents that used it)
    register_entry: CameraRegisterOut | None = None


class FacilityOut(_Out):
    id: str
    name: str
    kind: str
    lat: float
    lon: float
    notes: str = ""
    distance_m: float | None = None


class ShareOut(_Out):
    id: str
    incident_id: str
    agency_id: str
    camera_ids: list[str]
    purpose: str
    status: ShareStatus
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    urls: dict[str, str] = Field(default_factory=dict)
    # The share page: every shared camera live in any current browser (absent once the share ended).
    viewer_url: str | None = None
    # Lawful provision: the legal basis (an id of ``GET /api/v1/legal-bases``), who asked, who decided.
    legal_basis: str | None = None
    requesting_agency_id: str | None = None
    requesting_officer: str | None = None
    case_number: str | None = None
    minutes: int | None = None
    approval: str = "auto"  # auto, pending, confirm, approved, rejected
    approved_by: str | None = None
    approved_at: datetime | None = None
    decision_reason: str | None = None
    created_by: str | None = None
    pending_extension_minutes: int | None = None
    pending_extension_reason: str | None = None


class LegalBasisOut(_Out):
    id: str
    law: str
    article: str
    title_ko: str
    title_en: str
    # The services whose agency requests record this basis (settings: provision.service_basis).
    services: list[str] = Field(default_factory=list)


class LedgerViewing(_Out):
    actor: str
    camera_id: str | None = None
    started_at: datetime
    ended_at: datetime | None = None
    seconds: float | None = None
    client: str | None = None
    # Joins the audit's video.view.start and video.view rows; ended_at None: open (no end recorded yet).
    viewing_id: str | None = None


class LedgerRowOut(_Out):
    """One provision in the use-and-provision ledger (개인영상정보 이용·제공 관리대장)."""

    date: datetime
    share_id: str | None = None
    report_id: str | None = None
    incident_id: str
    recipient_id: str
    recipient: str
    purpose: str
    legal_basis: str
    legal_basis_title: str
    period_from: datetime | None = None
    period_to: datetime | None = None
    form: str  # "live view" or "snapshot"
    cameras: list[str] = Field(default_factory=list)
    camera_providers: list[str] = Field(default_factory=list)
    status: str
    requested_by: str | None = None
    requesting_officer: str | None = None
    case_number: str | None = None
    created_by: str
    approver: str | None = None
    viewings: list[LedgerViewing] = Field(default_factory=list)


class ReportOut(_Out):
    id: str
    incident_id: str
    agency_id: str
    kind: str
    note: str
    camera_id: str | None = None
    snapshot_url: str | None = None
    created_by: str
    created_at: datetime


class IncidentOut(_Out):
    id: str
    service: Service
    status: IncidentStatus
    title: str
    priority: int
    exercise: bool
    location: LocationOut
    area: dict[str, Any] | None = None
    external_id: str | None = None
    agency_id: str | None = None
    assignee: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    units: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    closed_at: datetime | None = None
    golden_time_s: int = 300


class TimelineEventOut(_Out):
    id: int
    at: datetime
    kind: str
    actor: str
    data: dict[str, Any] = Field(default_factory=dict)


class DeliveryOut(_Out):
    id: str
    agency_id: str
    incident_id: str
    event_type: str
    sequence: int
    state: DeliveryState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None


class TrackPointOut(_Out):
    lat: float
    lon: float
    at: datetime


class IncidentDetailOut(IncidentOut):
    timeline: list[TimelineEventOut] = Field(default_factory=list)
    cameras: list[CameraOut] = Field(default_factory=list)
    shares: list[ShareOut] = Field(default_factory=list)
    deliveries: list[DeliveryOut] = Field(default_factory=list)
    facilities: list[FacilityOut] = Field(default_factory=list)
    reports: list[ReportOut] = Field(default_factory=list)
    track: list[TrackPointOut] = Field(default_factory=list)


class RequestResultOut(_Out):
    """Answer to ``POST /api/v1/requests`` (201 new, 200 repeat)."""

    incident: IncidentOut
    cameras: list[CameraOut]
    shares: list[ShareOut]
    facilities: list[FacilityOut] = Field(default_factory=list)
    # Human-readable remarks on the answer, e.g. a share above the agency's automatic camera cap that waits
    # for an operator's confirmation (its ``status`` is ``pending`` and its ``approval`` ``confirm``).
    notes: list[str] = Field(default_factory=list)


class AgencyHealthOut(_Out):
    state: Literal["ok", "failing", "disabled", "idle"]
    last_success_at: datetime | None = None
    consecutive_failures: int = 0
    queue_depth: int = 0
    dead_letters: int = 0
    oldest_undelivered_age_s: float | None = None


class AgencyOut(_Out):
    id: str
    name: str
    kind: AgencyKind
    format: DeliveryFormat
    endpoint: str
    enabled: bool
    health: AgencyHealthOut | None = None


class AgencyCreatedOut(_Out):
    id: str
    api_key: str
    webhook_secret: str


class SessionOut(_Out):
    token: str
    username: str
    role: Role
    expires_at: datetime


class AuditOut(_Out):
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str | None = None
    client: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class LiveEvent(_Out):
    """One message on ``WS /api/v1/live``: ``seq`` lets a console detect a gap and catch up."""

    type: str
    seq: int
    data: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------- outbound to agencies


EventType = Literal[
    "share.created",
    "share.updated",
    "share.revoked",
    "incident.updated",
    "incident.closed",
    "report.created",
    "alert.received",
]


class OutboundEvent(_Out):
    """What the outbox delivers to one agency; each format adapter renders it to a body.

    ``sequence`` counts per incident and agency from 1 so a receiver can order and de-duplicate;
    ``id`` is also the Standard Webhooks ``webhook-id`` and stays the same on every retry.
    """

    type: EventType
    id: str
    occurred_at: datetime
    sequence: int
    incident: IncidentOut
    cameras: list[CameraOut] = Field(default_factory=list)
    facilities: list[FacilityOut] = Field(default_factory=list)
    share: ShareOut | None = None
    report: ReportOut | None = None
    alert: dict[str, Any] | None = None
    note: str | None = None


# ---------------------------------------------------------------- video walls


WallGrid = Literal[1, 4, 9, 16]


class WallLayoutIn(_In):
    """A wall's layout: a grid and one camera (or nothing) per tile, row by row."""

    grid: WallGrid = 4
    tiles: Annotated[list[Identifier | None], Field(max_length=16)] = Field(default_factory=list)
    show_map: bool = False

    @model_validator(mode="after")
    def _fits(self) -> WallLayoutIn:
        if len(self.tiles) > self.grid:
            raise ValueError(f"{len(self.tiles)} tiles do not fit a grid of {self.grid}")
        return self


class WallIn(_In):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    layout: WallLayoutIn


class WallTakeoverIn(_In):
    incident_id: Identifier


class WallOut(_Out):
    id: str
    name: str
    grid: int
    tiles: list[str | None]
    show_map: bool
    mode: Literal["normal", "incident"]
    incident_id: str | None = None
    has_previous: bool = False
    updated_at: datetime


# ---------------------------------------------------------------- agency key rotation


class AgencyKeyIn(_In):
    """``POST /api/v1/agencies/{id}/keys``: the old key stops at once, or after ``grace_minutes``."""

    grace_minutes: Annotated[float, Field(ge=0, le=7 * 24 * 60)] = 0


class AgencyKeyOut(_Out):
    id: str
    api_key: str  # shown once
    previous_key_until: datetime | None = None


class SensorReadingsIn(_In):
    """``POST /api/v1/sensors/readings``: many readings of a gateway's sensors in one request (issue 17)."""

    readings: Annotated[list[SensorEventIn], Field(min_length=1, max_length=500)]


class SensorOutcomeOut(_Out):
    """One reading's outcome, in the order sent: ``recorded`` (opened nothing), ``opened`` or ``updated``
    (with the incident)."""

    sensor_id: str
    outcome: Literal["opened", "updated", "recorded"]
    incident_id: str | None = None


class SensorReadingsOut(_Out):
    results: list[SensorOutcomeOut]
