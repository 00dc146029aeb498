"""The five linked services end to end over HTTP against a real engine (SQLite, and PostgreSQL when set up)."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.camera import Camera
from app.domain.enums import AgencyKind, FacilityKind, Purpose, Role
from app.domain.layers import Facility
from app.engine.services.directory import upsert_facilities
from app.store.models import DeliveryRow, TrackPointRow
from tests.engine.conftest import ADMIN, JINJU, EngineUnderTest, grid_cameras


def _request(
    service: str, ext: str, lat: float = JINJU[0], lon: float = JINJU[1], **extra: object
) -> dict[str, object]:
    return {
        "service": service,
        "external_id": ext,
        "title": f"{service} test",
        "location": {"lat": lat, "lon": lon},
        **extra,
    }


def _deliveries(e: EngineUnderTest, incident_id: str) -> list[DeliveryRow]:
    with e.server.uow.read() as s:
        return list(
            s.scalars(
                select(DeliveryRow)
                .where(DeliveryRow.incident_id == incident_id)
                .order_by(DeliveryRow.agency_id, DeliveryRow.sequence)
            )
        )


def test_112_video_gets_nearest_cameras_and_a_share_with_media_urls(engine: EngineUnderTest) -> None:
    engine.add_cameras(grid_cameras())
    police = engine.add_agency("Jinju 112", AgencyKind.POLICE)
    r = engine.http.post(
        "/api/v1/requests", headers=police.headers, json=_request("112-emergency-video", "C-1")
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["incident"]["service"] == "112-emergency-video"
    cams = body["cameras"]
    assert len(cams) == 4
    assert cams[0]["distance_m"] == 0.0
    assert [c["distance_m"] for c in cams] == sorted(c["distance_m"] for c in cams)
    (share,) = body["shares"]
    assert share["agency_id"] == police.id
    assert set(share["urls"]) == {c["id"] for c in cams}
    assert all(
        u.startswith(engine.server.media.base_url() + "/media/") and u.endswith(".ts")
        for u in share["urls"].values()
    )
    # The outbox row was written in the same transaction.
    (d,) = _deliveries(engine, body["incident"]["id"])
    assert (d.event_type, d.sequence, d.agency_id) == ("share.created", 1, police.id)


def test_repeat_external_id_is_idempotent(engine: EngineUnderTest) -> None:
    engine.add_cameras(grid_cameras())
    police = engine.add_agency("Jinju 112", AgencyKind.POLICE)
    first = engine.http.post(
        "/api/v1/requests", headers=police.headers, json=_request("112-emergency-video", "C-7")
    )
    again = engine.http.post(
        "/api/v1/requests", headers=police.headers, json=_request("112-emergency-video", "C-7")
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["incident"]["id"] == again.json()["incident"]["id"]
    assert first.json()["shares"][0]["id"] == again.json()["shares"][0]["id"]
    # Another agency may use the same number for its own request.
    other = engine.add_agency("Other 112", AgencyKind.POLICE)
    third = engine.http.post(
        "/api/v1/requests", headers=other.headers, json=_request("112-emergency-video", "C-7")
    )
    assert third.status_code == 201
    assert third.json()["incident"]["id"] != first.json()["incident"]["id"]


def test_112_dispatch_adds_escape_route_ring_and_share_follows_location(engine: EngineUnderTest) -> None:
    engine.add_cameras(grid_cameras(n_side=30, step_deg=0.002))
    police = engine.add_agency("Jinju 112", AgencyKind.POLICE)
    r = engine.http.post("/api/v1/requests", headers=police.headers, json=_request("112-dispatch", "D-1"))
    assert r.status_code == 201, r.text
    roles = [c["role"] for c in r.json()["cameras"]]
    assert roles.count("nearest") >= 1 and roles.count("escape-route") >= 3
    ring = [c for c in r.json()["cameras"] if c["role"] == "escape-route"]
    assert all(300 <= c["distance_m"] <= 1200 for c in ring)
    before = set(r.json()["shares"][0]["camera_ids"])

    moved = engine.http.post(
        "/api/v1/requests/D-1/updates",
        headers=police.headers,
        json={"location": {"lat": JINJU[0] + 0.01, "lon": JINJU[1] + 0.01}, "units": ["Patrol 12"]},
    )
    assert moved.status_code == 200, moved.text
    after = moved.json()
    assert after["incident"]["location"]["lat"] == JINJU[0] + 0.01
    assert after["incident"]["units"] == ["Patrol 12"]
    assert set(after["shares"][0]["camera_ids"]) != before
    assert after["shares"][0]["camera_ids"] == [c["id"] for c in after["cameras"]]
    kinds = [(d.event_type, d.sequence) for d in _deliveries(engine, after["incident"]["id"])]
    assert kinds == [("share.created", 1), ("share.updated", 2)]


def test_119_dispatch_brings_nearby_facilities(engine: EngineUnderTest) -> None:
    engine.add_cameras(grid_cameras())
    with engine.server.uow(ADMIN) as work:
        upsert_facilities(
            work,
            [
                Facility(
                    "F-1",
                    "Gas station",
                    JINJU[0] + 0.001,
                    JINJU[1],
                    FacilityKind.HAZARDOUS,
                    "LPG tanks; access from the east gate",
                ),
                Facility("F-2", "Far depot", JINJU[0] + 0.1, JINJU[1], FacilityKind.HAZARDOUS, ""),
            ],
        )
    fire = engine.add_agency("Jinju 119", AgencyKind.FIRE)
    r = engine.http.post(
        "/api/v1/requests", headers=fire.headers, json=_request("119-dispatch", "F-100", priority=1)
    )
    assert r.status_code == 201, r.text
    facilities = r.json()["facilities"]
    assert [f["id"] for f in facilities] == ["F-1"]
    assert "east gate" in facilities[0]["notes"]
    assert r.json()["incident"]["priority"] == 1


def test_disaster_response_takes_every_camera_in_the_area_and_shares_with_the_disaster_room(
    engine: EngineUnderTest,
) -> None:
    cams = grid_cameras(n_side=20, step_deg=0.001)
    engine.add_cameras(cams)
    disaster = engine.add_agency("Disaster room", AgencyKind.DISASTER)
    poly = [
        [JINJU[0] - 0.002, JINJU[1] - 0.002],
        [JINJU[0] - 0.002, JINJU[1] + 0.002],
        [JINJU[0] + 0.002, JINJU[1] + 0.002],
        [JINJU[0] + 0.002, JINJU[1] - 0.002],
    ]
    r = engine.http.post(
        "/api/v1/requests",
        headers=disaster.headers,
        json=_request("disaster-response", "DIS-1", area={"polygon": poly}),
    )
    assert r.status_code == 201, r.text
    inside = {
        c.id
        for c in cams
        if JINJU[0] - 0.002 <= c.lat <= JINJU[0] + 0.002 and JINJU[1] - 0.002 <= c.lon <= JINJU[1] + 0.002
    }
    got = {c["id"] for c in r.json()["cameras"]}
    # Points on the polygon's edge may fall either way in floating point; everything strictly inside is in.
    strictly = {
        c.id
        for c in cams
        if JINJU[0] - 0.0019 < c.lat < JINJU[0] + 0.0019 and JINJU[1] - 0.0019 < c.lon < JINJU[1] + 0.0019
    }
    assert strictly <= got <= inside
    assert r.json()["shares"][0]["agency_id"] == disaster.id
    assert r.json()["incident"]["area"] == {"polygon": poly}
    # A new reported position keeps the alert area: the cameras are still every camera inside it.
    moved = engine.http.post(
        "/api/v1/requests/DIS-1/updates",
        headers=disaster.headers,
        json={"location": {"lat": JINJU[0] + 0.001, "lon": JINJU[1]}},
    )
    assert moved.status_code == 200, moved.text
    assert {c["id"] for c in moved.json()["cameras"]} == got


def test_vulnerable_sos_tracks_the_person_prefers_child_protection_and_shares_with_112_and_119(
    engine: EngineUnderTest,
) -> None:
    cams = grid_cameras()
    cams.append(Camera("CP-1", "School gate", JINJU[0] + 0.0015, JINJU[1], Purpose.CHILD_PROTECTION))
    engine.add_cameras(cams)
    service = engine.add_agency("Protection service", AgencyKind.VULNERABLE)
    police = engine.add_agency("Jinju 112", AgencyKind.POLICE)
    fire = engine.add_agency("Jinju 119", AgencyKind.FIRE)
    r = engine.http.post(
        "/api/v1/requests",
        headers=service.headers,
        json=_request("vulnerable-sos", "SOS-1", details={"person": "child"}),
    )
    assert r.status_code == 201, r.text
    cams_out = r.json()["cameras"]
    assert cams_out[0]["purpose"] == "child-protection"
    incident_id = r.json()["incident"]["id"]
    agencies = {d.agency_id for d in _deliveries(engine, incident_id)}
    assert agencies == {service.id, police.id, fire.id}
    for step in range(1, 4):
        u = engine.http.post(
            "/api/v1/requests/SOS-1/updates",
            headers=service.headers,
            json={"location": {"lat": JINJU[0] + step * 0.0005, "lon": JINJU[1]}},
        )
        assert u.status_code == 200, u.text
    with engine.server.uow.read() as s:
        track = s.scalars(
            select(TrackPointRow).where(TrackPointRow.incident_id == incident_id).order_by(TrackPointRow.id)
        ).all()
    assert [round(p.lat, 4) for p in track] == [round(JINJU[0] + k * 0.0005, 4) for k in range(4)]
    op = engine.add_user()
    detail = engine.http.get(f"/api/v1/incidents/{incident_id}", headers=op).json()
    assert len(detail["track"]) == 4
    assert {s["agency_id"] for s in detail["shares"]} == {service.id, police.id, fire.id}


def test_drills_are_marked_and_kept_apart(engine: EngineUnderTest) -> None:
    engine.add_cameras(grid_cameras())
    police = engine.add_agency("Jinju 112", AgencyKind.POLICE)
    real = engine.http.post(
        "/api/v1/requests", headers=police.headers, json=_request("112-emergency-video", "R-1")
    )
    drill = engine.http.post(
        "/api/v1/requests", headers=police.headers, json=_request("112-emergency-video", "X-1", exercise=True)
    )
    assert drill.json()["incident"]["exercise"] is True
    op = engine.add_user()
    real_only = engine.http.get("/api/v1/incidents", params={"exercise": "false"}, headers=op).json()
    assert [i["id"] for i in real_only] == [real.json()["incident"]["id"]]
    drills = engine.http.get("/api/v1/incidents", params={"exercise": "true"}, headers=op).json()
    assert [i["id"] for i in drills] == [drill.json()["incident"]["id"]]


def test_an_agency_sees_only_its_own_incidents(engine: EngineUnderTest) -> None:
    engine.add_cameras(grid_cameras())
    a = engine.add_agency("A 112", AgencyKind.POLICE)
    b = engine.add_agency("B 112", AgencyKind.POLICE)
    mine = engine.http.post(
        "/api/v1/requests", headers=a.headers, json=_request("112-emergency-video", "A-1")
    ).json()
    iid = mine["incident"]["id"]
    assert engine.http.get(f"/api/v1/incidents/{iid}", headers=a.headers).status_code == 200
    theirs = engine.http.get(f"/api/v1/incidents/{iid}", headers=b.headers)
    missing = engine.http.get("/api/v1/incidents/INC-DOES-NOT-EXIST", headers=b.headers)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.headers["content-type"] == "application/problem+json"
    assert engine.http.get("/api/v1/incidents", headers=b.headers).json() == []
    assert (
        engine.http.post("/api/v1/requests/A-1/updates", headers=b.headers, json={"note": "x"}).status_code
        == 404
    )


def test_operator_workflow_ack_share_extend_revoke_report_close(engine: EngineUnderTest) -> None:
    engine.add_cameras(grid_cameras())
    police = engine.add_agency("Jinju 112", AgencyKind.POLICE)
    fire = engine.add_agency("Jinju 119", AgencyKind.FIRE)
    op = engine.add_user()
    iid = engine.http.post(
        "/api/v1/requests", headers=police.headers, json=_request("112-emergency-video", "W-1")
    ).json()["incident"]["id"]
    ack = engine.http.patch(
        f"/api/v1/incidents/{iid}",
        headers=op,
        json={"status": "acknowledged", "assignee": "op", "priority": 1},
    )
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged" and ack.json()["priority"] == 1
    # Another agency than the one that asked: beyond an operator's policy, so a supervisor shares it.
    sup = engine.add_user("sup", Role.SUPERVISOR)
    share = engine.http.post(
        f"/api/v1/incidents/{iid}/shares",
        headers=sup,
        json={
            "agency_id": fire.id,
            "camera_ids": ["CAM-0055"],
            "minutes": 10,
            "purpose": "smoke seen",
            "legal_basis": "pipa-18-2-3",
        },
    )
    assert share.status_code == 201, share.text
    sid = share.json()["id"]
    longer = engine.http.patch(
        f"/api/v1/shares/{sid}", headers=sup, json={"minutes": 20, "reason": "still burning"}
    )
    assert longer.json()["expires_at"] > share.json()["expires_at"]
    missing_field = engine.http.post(
        f"/api/v1/incidents/{iid}/shares",
        headers=op,
        json={"agency_id": fire.id, "camera_ids": ["CAM-0055"], "minutes": 10},
    )
    assert missing_field.status_code == 422 and "purpose" in missing_field.json()["detail"]
    revoked = engine.http.delete(f"/api/v1/shares/{sid}", headers=op)
    assert revoked.json()["status"] == "revoked" and revoked.json()["urls"] == {}
    report = engine.http.post(
        f"/api/v1/incidents/{iid}/reports",
        headers=op,
        json={"agency_id": fire.id, "kind": "fire", "note": "smoke", "camera_id": "CAM-0055"},
    )
    assert report.status_code == 201, report.text
    closed = engine.http.patch(
        f"/api/v1/incidents/{iid}", headers=op, json={"status": "closed", "note": "resolved"}
    )
    assert closed.json()["status"] == "closed"
    detail = engine.http.get(f"/api/v1/incidents/{iid}", headers=op).json()
    kinds = [t["kind"] for t in detail["timeline"]]
    for k in (
        "created",
        "cameras.selected",
        "status.changed",
        "share.created",
        "share.extended",
        "share.revoked",
        "report.created",
        "closed",
    ):
        assert k in kinds
    fire_events = [d["event_type"] for d in detail["deliveries"] if d["agency_id"] == fire.id]
    assert fire_events[:4] == ["share.created", "share.updated", "share.revoked", "report.created"]
    police_events = [d["event_type"] for d in detail["deliveries"] if d["agency_id"] == police.id]
    assert police_events[-1] == "incident.closed"
    assert all(s["status"] != "active" for s in detail["shares"])
