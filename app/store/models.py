"""SQLAlchemy 2.0 typed models: the engine's one source of truth (SQLite in WAL mode or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.store.sealed import SealedString


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone (SQLite keeps none) and always hands back an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class CameraRow(Base):
    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    purpose: Mapped[str] = mapped_column(String(32), index=True)
    direction_deg: Mapped[float | None] = mapped_column(Float)
    fov_deg: Mapped[float | None] = mapped_column(Float)
    # Stream URLs carry the camera's password: sealed at rest (app/store/sealed.py).
    stream_main: Mapped[str] = mapped_column(SealedString(2000), default="")
    stream_sub: Mapped[str] = mapped_column(SealedString(2000), default="")
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
    # What a camera register (전국CCTV표준데이터) says of the camera (migration register_0002).
    provider: Mapped[str] = mapped_column(String(200), default="", index=True)
    provider_code: Mapped[str] = mapped_column(String(40), default="", index=True)
    register_no: Mapped[str] = mapped_column(String(100), default="")
    road_address: Mapped[str] = mapped_column(String(300), default="")
    lot_address: Mapped[str] = mapped_column(String(300), default="")
    purpose_text: Mapped[str] = mapped_column(String(200), default="")
    installed: Mapped[str] = mapped_column(String(40), default="")
    pixels: Mapped[str] = mapped_column(String(40), default="")
    view: Mapped[str] = mapped_column(String(300), default="")
    retention_days: Mapped[int | None] = mapped_column(Integer, default=None)
    phone: Mapped[str] = mapped_column(String(60), default="")
    data_date: Mapped[str] = mapped_column(String(40), default="")
    approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    # A camera its register no longer lists (``cameras import --sync``): kept for the incidents that
    # used it, out of every search and selection.
    retired_at: Mapped[datetime | None] = mapped_column(default=None)


class CameraPendingRow(Base):
    """A register row held until its position is corrected (``cameras pending``): the cameras it stands
    for, ``id``-1 … -``count``, with everything but a usable position."""

    __tablename__ = "camera_pending"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(200), index=True)
    provider_code: Mapped[str] = mapped_column(String(40), index=True)
    register: Mapped[dict[str, Any]]
    lat_text: Mapped[str] = mapped_column(String(64))
    lon_text: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(300))
    line: Mapped[int] = mapped_column(Integer)
    held_at: Mapped[datetime]


class FacilityRow(Base):
    __tablename__ = "facilities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")


class SensorRow(Base):
    __tablename__ = "sensors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    # The gateway agency whose API key may post this sensor's events; None: no key may.
    agency_id: Mapped[str | None] = mapped_column(String(64))


class AgencyRow(Base):
    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(16))
    endpoint: Mapped[str] = mapped_column(String(2000))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    # SHA-256 of a 256-bit random key: a fast hash is right for high-entropy keys (no brute force).
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # After a rotation with a grace period the old key works until previous_key_until.
    api_key_previous_hash: Mapped[str | None] = mapped_column(String(64))
    previous_key_until: Mapped[datetime | None]
    webhook_secret: Mapped[str] = mapped_column(SealedString(200))  # sealed at rest
    # During a rotation both secrets sign, so receivers can switch without losing a delivery.
    webhook_secret_previous: Mapped[str | None] = mapped_column(SealedString(200))
    previous_secret_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    # A disabled user's sessions, live feeds and video stop within a second (privilege_users_0001).
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SessionRow(Base):
    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # Last request seen (written at most once a minute): the idle timeout counts from it.
    last_seen_at: Mapped[datetime | None]


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("agency_id", "external_id", name="uq_incident_agency_external"),
        Index("ix_incident_status_priority", "status", "priority", "created_at"),
        # Open incidents by source (migration sensors_0001): the sensor path asks which sensors have one.
        Index(
            "ix_incidents_open_source",
            "source",
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    service: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    priority: Mapped[int] = mapped_column(Integer)
    exercise: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(500))
    area: Mapped[dict[str, Any] | None]
    external_id: Mapped[str | None] = mapped_column(String(128))
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    source: Mapped[str] = mapped_column(
        String(200)
    )  # "agency:<id>", "sensor:<id>", "cap:<identifier>", "user:<name>"
    assignee: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    units: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class IncidentCameraRow(Base):
    __tablename__ = "incident_cameras"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(Integer)
    distance_m: Mapped[float] = mapped_column(Float)
    covers_point: Mapped[bool] = mapped_column(Boolean, default=False)


class IncidentFacilityRow(Base):
    __tablename__ = "incident_facilities"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    facility_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"), primary_key=True)
    distance_m: Mapped[float] = mapped_column(Float)


class TrackPointRow(Base):
    __tablename__ = "track_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime]


class TimelineRow(Base):
    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ShareRow(Base):
    __tablename__ = "shares"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    # The capability token of the share's media URLs is never stored: only its SHA-256 (looked up by) and
    # the salt it is derived from with the secrets key (app/store/share_tokens.py; migration
    # privilege_agency_0003 renamed the column and hashed the tokens in place). No salt: a share from
    # before, whose token cannot be given out again.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_salt: Mapped[str | None] = mapped_column(String(32))
    camera_ids: Mapped[list[Any]]
    purpose: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # Lawful provision (migration lawful_approval_0001): the legal basis (an id of settings.provision),
    # who asked for it, and the approval: auto (within the operator's policy), pending (a supervisor's),
    # confirm (an operator's, for an agency's request above its camera cap), approved, rejected.
    legal_basis: Mapped[str] = mapped_column(String(64), default="", server_default="")
    requesting_agency_id: Mapped[str | None] = mapped_column(String(40))
    requesting_officer: Mapped[str] = mapped_column(String(200), default="", server_default="")
    case_number: Mapped[str] = mapped_column(String(100), default="", server_default="")
    minutes: Mapped[int | None] = mapped_column(Integer)
    approval: Mapped[str] = mapped_column(String(16), default="auto", server_default="auto", index=True)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # An extension waiting for a supervisor: minutes, reason and who asked.
    ext_minutes: Mapped[int | None] = mapped_column(Integer)
    ext_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    ext_by: Mapped[str | None] = mapped_column(String(200))


class ReportRow(Base):
    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    kind: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    camera_id: Mapped[str | None] = mapped_column(String(64))
    share_id: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class DeliveryRow(Base):
    """The outbox: one row per event per agency, written in the transaction that caused it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("agency_id", "incident_id", "sequence", name="uq_delivery_sequence"),
        Index("ix_delivery_due", "state", "next_attempt_at"),
        Index("ix_delivery_stream", "agency_id", "incident_id", "sequence"),
        # Agency health (queue depth, dead letters, last success) on every delivery.updated (issue 17).
        Index("ix_delivery_agency_state", "agency_id", "state", "delivered_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # also the webhook-id
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(32))
    sequence: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))
    last_status: Mapped[int | None] = mapped_column(Integer)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]


class LiveEventRow(Base):
    """Every change pushed to consoles, kept so that a console that reconnects can catch up."""

    __tablename__ = "live_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]


class AuditRow(Base):
    """Append-only (the migration adds triggers that refuse UPDATE and DELETE)."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(128))
    client: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The tamper-evident chain (app/store/audit_chain.py): previous row's hash and this row's.
    prev_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    row_hash: Mapped[str | None] = mapped_column(String(64), default=None)


class WallRow(Base):
    """A video wall: its layout and tile assignments, pushed live to the wall process."""

    __tablename__ = "walls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    layout: Mapped[dict[str, Any]]
    previous_layout: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime]


class MediaGrantRow(Base):
    """A console's or wall's right to watch through the relay, tied to its session: it ends with it."""

    __tablename__ = "media_grants"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_hash: Mapped[str] = mapped_column(
        ForeignKey("sessions.token_hash", ondelete="CASCADE"), index=True
    )
    viewer: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class WallKeyRow(Base):
    """A wall display PC's key (``gtw_…``, stored as SHA-256): it reads its own wall and the video its
    layout shows, nothing else."""

    __tablename__ = "wall_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    wall_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class WallGrantRow(Base):
    """A wall's media grant: it ends with the wall key, and plays only cameras of the wall's layout."""

    __tablename__ = "wall_grants"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_hash: Mapped[str] = mapped_column(ForeignKey("wall_keys.key_hash", ondelete="CASCADE"), index=True)
    wall_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AuditCheckpointRow(Base):
    """A signed checkpoint of the audit chain's head (app/store/audit_checkpoint.py), written by the engine
    periodically and at shutdown; append-only (migration lawful_audit_0002)."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    row_id: Mapped[int] = mapped_column(Integer)
    row_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(16))  # "periodic" | "shutdown" | "manual"
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))


class AuditArchiveRow(Base):
    """A signed archive segment of audit rows ``first_id``..``last_id`` (app/store/audit_archive.py): the
    live chain continues from ``last_hash``, and only rows up to the highest ``last_id`` may be deleted."""

    __tablename__ = "audit_archives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    first_id: Mapped[int] = mapped_column(Integer)
    last_id: Mapped[int] = mapped_column(Integer, unique=True)
    rows: Mapped[int] = mapped_column(Integer)
    first_prev: Mapped[str | None] = mapped_column(String(64))
    last_hash: Mapped[str] = mapped_column(String(64))
    up_to: Mapped[datetime]
    file: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))


class DistrictRow(Base):
    """An administrative district (issue #18): its GeoJSON geometry as text, with its box for a quick
    prefilter; ``code`` is the 행정구역코드 (or another scheme's code) that CAP ``<geocode>`` names."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON MultiPolygon, lon/lat
    south: Mapped[float] = mapped_column(Float, index=True)
    west: Mapped[float] = mapped_column(Float)
    north: Mapped[float] = mapped_column(Float, index=True)
    east: Mapped[float] = mapped_column(Float)
    points: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime]


class CapAlertRow(Base):
    """Every CAP alert received, by its sending agency: repeats, Updates and Cancels find their alert here
    whichever kind of agency sent it (the incident of a non-disaster sender has no ``agency_id``)."""

    __tablename__ = "cap_alerts"
    __table_args__ = (UniqueConstraint("agency_id", "identifier", name="uq_cap_alert_agency_identifier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    identifier: Mapped[str] = mapped_column(String(128))
    sender: Mapped[str] = mapped_column(String(200))
    msg_type: Mapped[str] = mapped_column(String(16))
    all_clear: Mapped[bool] = mapped_column(Boolean, default=False)
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    incident_id: Mapped[str | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime]


class SensorReadingRow(Base):
    """A sensor reading that opened nothing (below its threshold, no open incident): recorded in batches,
    many readings to one insert and one audit row per gateway (app/engine/services/sensor_readings.py)."""

    __tablename__ = "sensor_readings"
    __table_args__ = (Index("ix_sensor_readings_sensor_at", "sensor_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sensor_id: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[str] = mapped_column(String(64))  # the gateway that posted it
    at: Mapped[datetime]  # received
    observed_at: Mapped[datetime | None]  # as the device said
    value: Mapped[float | None] = mapped_column(Float)
    alarm: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
