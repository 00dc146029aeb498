"""Outbound events for format and simulator tests (no engine needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from app.domain.enums import IncidentStatus, Purpose, Service, ShareStatus
from app.formats.api import (
    CameraOut,
    EventType,
    FacilityOut,
    IncidentOut,
    LocationOut,
    OutboundEvent,
    ReportOut,
    ShareOut,
)

T0 = datetime(2026, 3, 1, 9, 30, 12, 345000, tzinfo=UTC)
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
MEDIA_BASE = "http://127.0.0.1:8765/media/tok-abc"

POLYGON_AREA: dict[str, Any] = {"polygon": [[37.5665, 126.978], [37.5700, 126.978], [37.5700, 126.985]]}
CIRCLE_AREA: dict[str, Any] = {"circle": {"lat": 37.5665, "lon": 126.978, "radius_m": 750.0}}


def make_event(
    event_type: EventType = "share.created",
    *,
    exercise: bool = False,
    with_share: bool = True,
    with_report: bool = False,
    area: dict[str, Any] | None = None,
    sequence: int = 1,
    event_id: str | None = None,
    media_base: str = MEDIA_BASE,
    service: Service = Service.DISPATCH_119,
) -> OutboundEvent:
    closed = event_type == "incident.closed"
    incident = IncidentOut(
        id="INC-01JABCDEF",
        service=service,
        status=IncidentStatus.CLOSED if closed else IncidentStatus.ACKNOWLEDGED,
        title="Smoke from a market building <b>& stalls</b>",
        priority=1,
        exercise=exercise,
        location=LocationOut(lat=37.5665, lon=126.978, address="Jung-gu, Sejong-daero 110"),
        area=area,
        external_id="119-2026-000123",
        agency_id="AG-FIRE",
        details={"caller": "anonymous"},
        units=["Engine 3", "Ladder 1"],
        created_at=T0 - timedelta(minutes=3),
        updated_at=T0,
        acknowledged_at=T0 - timedelta(minutes=2),
        closed_at=T0 if closed else None,
    )
    cameras = [
        CameraOut(id="CAM-0001", name="Market north", lat=37.5667, lon=126.9781, purpose=Purpose.CRIME),
        CameraOut(id="CAM-0002", name="Market gate", lat=37.5663, lon=126.9779, purpose=Purpose.TRAFFIC),
    ]
    facilities = [
        FacilityOut(
            id="FAC-1", name="Gas station", kind="hazardous", lat=37.567, lon=126.979, distance_m=120.0
        )
    ]
    share = None
    if with_share:
        revoked = event_type == "share.revoked"
        share = ShareOut(
            id="SHR-01JXYZ",
            incident_id=incident.id,
            agency_id="AG-FIRE",
            camera_ids=[c.id for c in cameras],
            purpose="fire attack planning",
            status=ShareStatus.REVOKED if revoked else ShareStatus.ACTIVE,
            created_at=T0 - timedelta(minutes=1),
            expires_at=T0 + timedelta(minutes=30),
            revoked_at=T0 if revoked else None,
            urls={c.id: f"{media_base}/{c.id}.ts" for c in cameras},
            viewer_url=None if revoked else "https://goldentime.city.example/view/tok-1",
        )
    report = None
    if with_report or event_type == "report.created":
        report = ReportOut(
            id="RPT-01J",
            incident_id=incident.id,
            agency_id="AG-FIRE",
            kind="fire",
            note="Flames visible on the second floor",
            camera_id="CAM-0001",
            snapshot_url=f"{media_base}/CAM-0001.jpg",
            created_by="operator1",
            created_at=T0,
        )
    alert = None
    if event_type == "alert.received":
        alert = {
            "identifier": "KR-NDMS-2026-0042",
            "sender": "ndms@safekorea.example",
            "sent": "2026-03-01T18:29:00+09:00",
            "status": "Exercise" if exercise else "Actual",
            "msg_type": "Alert",
            "event": "Flood warning",
            "headline": "Cheonggyecheon water level rising",
        }
    return OutboundEvent(
        type=event_type,
        id=event_id or f"EVT-{event_type.replace('.', '-')}-{sequence}",
        occurred_at=T0,
        sequence=sequence,
        incident=incident,
        cameras=cameras,
        facilities=facilities,
        share=share,
        report=report,
        alert=alert,
        note="Wind from the west" if event_type == "incident.updated" else None,
    )


def all_events() -> list[tuple[str, OutboundEvent]]:
    """Every event type, live and drill, with and without a share, with and without a report."""
    out: list[tuple[str, OutboundEvent]] = []
    for event_type in EVENT_TYPES:
        for exercise in (False, True):
            for with_share in (True, False):
                for with_report in (False, True):
                    area = POLYGON_AREA if with_report else (CIRCLE_AREA if exercise else None)
                    label = (
                        f"{event_type}-{'drill' if exercise else 'live'}"
                        f"-{'share' if with_share else 'noshare'}-{'report' if with_report else 'noreport'}"
                    )
                    out.append(
                        (
                            label,
                            make_event(
                                event_type,
                                exercise=exercise,
                                with_share=with_share,
                                with_report=with_report,
                                area=area,
                                sequence=len(out) + 1,
                            ),
                        )
                    )
    return out
