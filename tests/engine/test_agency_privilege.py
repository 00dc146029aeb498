"""Least privilege for agencies (issue 12, agency side): service policy, rate limit, object-level
authorisation through every agency-reachable route, sensor ownership, disable and key rotation."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.domain.enums import AgencyKind, Role, SensorKind
from app.domain.layers import Sensor
from app.engine.services.directory import upsert_sensors
from tests.engine.conftest import (
    ADMIN,
    JINJU,
    AgencyKeys,
    EngineUnderTest,
    grid_cameras,
    request_body,
    start_engine,
)


@pytest.fixture
def city(engine: EngineUnderTest) -> EngineUnderTest:
    engine.add_cameras(grid_cameras())
    return engine


def _problem(r: object, status: int) -> dict[str, object]:
    import httpx

    assert isinstance(r, httpx.Response)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = r.json()
    return body


def test_service_policy_per_agency_kind(city: EngineUnderTest) -> None:
    fire = city.add_agency("119", AgencyKind.FIRE)
    police = city.add_agency("112", AgencyKind.POLICE)
    r = city.http.post("/api/v1/requests", headers=fire.headers, json=request_body("F1", "112-dispatch"))
    assert "may not request" in str(_problem(r, 403)["detail"])
    assert (
        city.http.post(
            "/api/v1/requests", headers=fire.headers, json=request_body("F2", "119-dispatch")
        ).status_code
        == 201
    )
    for service in ("112-emergency-video", "112-dispatch"):
        r = city.http.post("/api/v1/requests", headers=police.headers, json=request_body(service, service))
        assert r.status_code == 201, r.text
    for service in ("119-dispatch", "disaster-response", "vulnerable-sos"):
        r = city.http.post("/api/v1/requests", headers=police.headers, json=request_body(service, service))
        _problem(r, 403)
    cap = city.http.post(
        "/api/v1/alerts/cap",
        headers={**police.headers, "content-type": "application/cap+xml"},
        content=b"<alert/>",
    )
    assert "CAP" in str(_problem(cap, 403)["detail"])


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    e = start_engine(tmp_path, agency_access={"limits": {"requests_per_minute": 3}})
    try:
        police = e.add_agency("112", AgencyKind.POLICE)
        other = e.add_agency("112 b", AgencyKind.POLICE)
        codes = [e.http.get("/api/v1/incidents", headers=police.headers).status_code for _ in range(4)]
        assert codes[:3] == [200, 200, 200]
        r = e.http.get("/api/v1/incidents", headers=police.headers)
        _problem(r, 429)
        assert int(r.headers["retry-after"]) >= 1
        # Per agency: another agency is not held back.
        assert e.http.get("/api/v1/incidents", headers=other.headers).status_code == 200
    finally:
        e.close()


def test_a_request_above_the_camera_cap_waits_for_an_operator_to_confirm(tmp_path: Path) -> None:
    """Issue 12: an area request above the automatic cap opens the incident, but its share (with every chosen
    camera) waits for an operator's confirmation; its media refuses and the agency hears nothing until then."""
    from app.store.models import ShareRow

    e = start_engine(tmp_path, agency_access={"limits": {"cameras_per_request": 2}})
    try:
        e.add_cameras(grid_cameras())
        police = e.add_agency("112", AgencyKind.POLICE)
        op = e.add_user("op", Role.OPERATOR)
        area = {"circle": {"lat": JINJU[0], "lon": JINJU[1], "radius_m": 250}}
        r = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("C1", area=area))
        assert r.status_code == 201, r.text
        doc = r.json()
        inc_id = doc["incident"]["id"]
        chosen = [c["id"] for c in doc["cameras"]]
        assert len(chosen) > 2  # the incident keeps every chosen camera
        (share,) = doc["shares"]
        assert share["status"] == "pending" and share["approval"] == "confirm"
        assert share["camera_ids"] == chosen  # nothing trimmed: the operator confirms the whole selection
        assert share["urls"] == {} and share["viewer_url"] is None
        assert any(share["id"] in n and "confirmation" in n for n in doc["notes"])
        with e.server.uow.writing() as s:
            row = s.get(ShareRow, share["id"])
            assert row is not None
            token = e.server.ctx.share_token(row)  # the store keeps only its hash
            assert token is not None
        refused = e.http.get(f"/media/{token}/{chosen[0]}.jpg")
        assert refused.status_code in (401, 403, 404, 410), refused.status_code
        detail = e.http.get(f"/api/v1/incidents/{inc_id}", headers=op).json()
        assert not [d for d in detail["deliveries"] if d["event_type"] == "share.created"]
        assert any(t["kind"] == "share.over_cap" for t in detail["timeline"])
        # The operator sees it among the pending decisions and confirms it.
        pending = e.http.get("/api/v1/shares/pending", headers=op).json()
        assert [p["id"] for p in pending if p["approval"] == "confirm"] == [share["id"]]
        ok = e.http.post(f"/api/v1/shares/{share['id']}/confirm", headers=op, json={"reason": "area search"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["status"] == "active" and sorted(ok.json()["urls"]) == sorted(chosen)
        detail = e.http.get(f"/api/v1/incidents/{inc_id}", headers=op).json()
        assert [d["event_type"] for d in detail["deliveries"]] == ["share.created"]
        # (Within the cap the share is active at once: every other request test, with the default cap.)
    finally:
        e.close()


def test_audit_rows_name_the_agency_by_id_and_name(city: EngineUnderTest) -> None:
    from app.store.models import AuditRow

    police = city.add_agency("Jinju 112", AgencyKind.POLICE)
    doc = city.http.post("/api/v1/requests", headers=police.headers, json=request_body("ID-1")).json()
    city.http.get(f"/api/v1/incidents/{doc['incident']['id']}", headers=police.headers).raise_for_status()
    with city.server.uow.writing() as s:
        rows = s.query(AuditRow).filter(AuditRow.actor == "agency:Jinju 112").all()
    assert {r.action for r in rows} >= {"incident.create", "incident.read"}
    assert all(r.detail["actor_id"] == police.id for r in rows)


def _sos(city: EngineUnderTest) -> tuple[AgencyKeys, AgencyKeys, AgencyKeys, dict[str, object]]:
    """A vulnerable-person SOS: shared with the protection service, every 112 and every 119 room."""
    care = city.add_agency("care", AgencyKind.VULNERABLE)
    police = city.add_agency("112", AgencyKind.POLICE)
    fire = city.add_agency("119", AgencyKind.FIRE)
    doc = city.http.post(
        "/api/v1/requests", headers=care.headers, json=request_body("SOS-1", "vulnerable-sos")
    ).json()
    return care, police, fire, doc


def test_an_agency_sees_only_its_own_shares_and_a_filtered_incident(city: EngineUnderTest) -> None:
    care, police, fire, doc = _sos(city)
    inc_id = str(doc["incident"]["id"])  # type: ignore[index]
    assert {s["agency_id"] for s in doc["shares"]} == {care.id}  # type: ignore[union-attr]
    op = city.add_user("op", Role.OPERATOR)
    r = city.http.patch(
        f"/api/v1/incidents/{inc_id}", headers=op, json={"assignee": "kim", "note": "secret operator note"}
    )
    assert r.status_code == 200
    city.http.post(
        "/api/v1/requests/SOS-1/updates",
        headers=care.headers,
        json={"location": {"lat": JINJU[0] + 0.001, "lon": JINJU[1]}},
    ).raise_for_status()
    for me, others in ((police, {care.id, fire.id}), (fire, {care.id, police.id})):
        d = city.http.get(f"/api/v1/incidents/{inc_id}", headers=me.headers).json()
        text = str(d)
        assert d["assignee"] is None and d["timeline"] == []
        assert "secret operator note" not in text and "kim" not in text
        assert d["agency_id"] is None and d["external_id"] is None  # the requester is another agency
        assert {s["agency_id"] for s in d["shares"]} == {me.id}
        assert all(s["agency_id"] == me.id for s in d["deliveries"])
        assert not any(o in text for o in others)
        assert len(d["track"]) == 2  # its share is active
        lst = city.http.get("/api/v1/incidents", headers=me.headers).json()
        assert [i["id"] for i in lst] == [inc_id] and lst[0]["assignee"] is None
    # The requester sees its own number; the console sees everything.
    mine = city.http.get(f"/api/v1/incidents/{inc_id}", headers=care.headers).json()
    assert mine["external_id"] == "SOS-1"
    full = city.http.get(f"/api/v1/incidents/{inc_id}", headers=op).json()
    assert full["assignee"] == "kim" and len({s["agency_id"] for s in full["shares"]}) == 3


def test_misses_are_404_and_access_ends_with_the_share(city: EngineUnderTest) -> None:
    police = city.add_agency("112", AgencyKind.POLICE)
    fire = city.add_agency("119", AgencyKind.FIRE)
    doc = city.http.post("/api/v1/requests", headers=police.headers, json=request_body("P1")).json()
    inc_id = doc["incident"]["id"]
    share_id = doc["shares"][0]["id"]
    missing = city.http.get("/api/v1/incidents/INC-DOES-NOT-EXIST", headers=fire.headers)
    other = city.http.get(f"/api/v1/incidents/{inc_id}", headers=fire.headers)
    assert _problem(other, 404)["title"] == _problem(missing, 404)["title"]
    assert city.http.get("/api/v1/incidents", headers=fire.headers).json() == []
    # Updates go by the caller's own number only: another agency's number is a 404.
    r = city.http.post("/api/v1/requests/P1/updates", headers=fire.headers, json={"note": "x"})
    _problem(r, 404)
    # Agencies cannot change incidents, shares or reports of anyone, nor read walls or the audit.
    for method, path, body in (
        ("PATCH", f"/api/v1/incidents/{inc_id}", {"note": "x"}),
        ("DELETE", f"/api/v1/shares/{share_id}", None),
        ("PATCH", f"/api/v1/shares/{share_id}", {"minutes": 10}),
        ("POST", f"/api/v1/incidents/{inc_id}/reports", {"agency_id": fire.id, "kind": "fire"}),
        ("GET", "/api/v1/walls", None),
        ("GET", "/api/v1/walls/WALL-1", None),
        ("GET", "/api/v1/audit", None),
        ("POST", f"/api/v1/agencies/{fire.id}/keys", {}),
    ):
        r = city.http.request(method, path, headers=police.headers, json=body)
        assert r.status_code in (403, 404), (method, path, r.status_code)
    agencies = city.http.get("/api/v1/agencies", headers=police.headers).json()
    assert [a["id"] for a in agencies] == [police.id]
    # Closed: the requester's access ends with it.
    op = city.add_user("op", Role.OPERATOR)
    city.http.patch(f"/api/v1/incidents/{inc_id}", headers=op, json={"status": "closed"}).raise_for_status()
    _problem(city.http.get(f"/api/v1/incidents/{inc_id}", headers=police.headers), 404)
    assert city.http.get("/api/v1/incidents", headers=police.headers).json() == []


def test_sensor_events_only_from_the_gateway_and_without_other_agencies_shares(
    city: EngineUnderTest,
) -> None:
    gateway = city.add_agency("gateway", AgencyKind.DISASTER)
    police = city.add_agency("112", AgencyKind.POLICE)
    with city.server.uow(ADMIN) as work:
        upsert_sensors(
            work,
            [
                Sensor("BELL-1", "bell", JINJU[0], JINJU[1], SensorKind.EMERGENCY_BELL, agency_id=gateway.id),
                Sensor("BELL-2", "bell 2", JINJU[0], JINJU[1], SensorKind.EMERGENCY_BELL),
            ],
        )
    body = {"sensor_id": "BELL-1", "alarm": True}
    r = city.http.post("/api/v1/sensors/events", headers=police.headers, json=body)
    assert "gateway" in str(_problem(r, 403)["detail"])
    first = city.http.post("/api/v1/sensors/events", headers=gateway.headers, json=body)
    assert first.status_code == 201, first.text
    again = city.http.post("/api/v1/sensors/events", headers=gateway.headers, json=body)
    assert again.status_code == 200
    # The bell's incident is shared with the police room; the gateway's answers carry none of it.
    for answer in (first.json(), again.json()):
        assert answer["shares"] == []
        assert police.id not in str(answer)
    # An unowned sensor: nobody's key may post for it.
    r = city.http.post(
        "/api/v1/sensors/events", headers=gateway.headers, json={"sensor_id": "BELL-2", "alarm": True}
    )
    _problem(r, 403)


def _until(check: object, timeout: float = 5.0) -> float:
    """Seconds until ``check()`` is true (polled), or fail."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_disable_refuses_the_key_revokes_shares_and_holds_deliveries(city: EngineUnderTest) -> None:
    police = city.add_agency("112", AgencyKind.POLICE)
    admin = city.add_user("root", Role.ADMIN)
    doc = city.http.post("/api/v1/requests", headers=police.headers, json=request_body("D1")).json()
    inc_id = doc["incident"]["id"]
    assert city.http.get("/api/v1/incidents", headers=police.headers).status_code == 200  # key cached
    r = city.http.patch(f"/api/v1/agencies/{police.id}", headers=admin, json={"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False
    _problem(city.http.get("/api/v1/incidents", headers=police.headers), 401)
    full = city.http.get(f"/api/v1/incidents/{inc_id}", headers=admin).json()
    assert [s["status"] for s in full["shares"]] == ["revoked"]
    queued = [d for d in full["deliveries"] if d["event_type"] == "share.revoked"]
    assert queued and queued[0]["state"] in ("pending", "retrying")  # held, not lost
    # Nobody shares new video with a disabled agency, not even an admin (who approves at once).
    camera = full["shares"][0]["camera_ids"][0]
    share = {"agency_id": police.id, "camera_ids": [camera], "minutes": 10, "purpose": "p"}
    share["legal_basis"] = "pipa-18-2-7"
    r = city.http.post(f"/api/v1/incidents/{inc_id}/shares", headers=admin, json=share)
    assert r.status_code == 409 and "disabled" in r.json()["detail"]
    r = city.http.patch(f"/api/v1/agencies/{police.id}", headers=admin, json={"enabled": True})
    assert city.http.get("/api/v1/incidents", headers=police.headers).status_code == 200
    assert city.http.post(f"/api/v1/incidents/{inc_id}/shares", headers=admin, json=share).status_code == 201


def test_cli_disable_is_seen_by_the_engine_within_a_second(city: EngineUnderTest, tmp_path: Path) -> None:
    police = city.add_agency("112", AgencyKind.POLICE)
    assert city.http.get("/api/v1/incidents", headers=police.headers).status_code == 200  # cached now
    db = city.server.settings.database_url
    out = subprocess.run(
        [
            sys.executable,
            "main.py",
            "agencies",
            "disable",
            police.id,
            "--db",
            db,
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    seen = _until(lambda: city.http.get("/api/v1/incidents", headers=police.headers).status_code == 401)
    assert seen < 1.5  # polling adds a little; the key cache lives one second


def test_key_rotation_now_and_with_grace(city: EngineUnderTest) -> None:
    police = city.add_agency("112", AgencyKind.POLICE)
    admin = city.add_user("root", Role.ADMIN)
    r = city.http.post(f"/api/v1/agencies/{police.id}/keys", headers=admin, json={})
    assert r.status_code == 201
    new = r.json()["api_key"]
    _problem(city.http.get("/api/v1/incidents", headers=police.headers), 401)
    assert city.http.get("/api/v1/incidents", headers={"authorization": f"Bearer {new}"}).status_code == 200
    r = city.http.post(f"/api/v1/agencies/{police.id}/keys", headers=admin, json={"grace_minutes": 5})
    newer = r.json()["api_key"]
    assert r.json()["previous_key_until"] is not None
    for key in (new, newer):  # the previous key works during the grace
        assert (
            city.http.get("/api/v1/incidents", headers={"authorization": f"Bearer {key}"}).status_code == 200
        )
    op = city.add_user("op", Role.OPERATOR)
    _problem(city.http.post(f"/api/v1/agencies/{police.id}/keys", headers=op, json={}), 403)


def test_cli_rotates_key_and_secret_and_the_old_secret_is_erased_after_its_overlap(
    city: EngineUnderTest, tmp_path: Path
) -> None:
    import json
    from datetime import timedelta

    from app.store.models import AgencyRow

    police = city.add_agency("112", AgencyKind.POLICE)
    db = city.server.settings.database_url

    def cli(*args: str) -> dict[str, object]:
        out = subprocess.run(
            [sys.executable, "main.py", "agencies", *args, "--db", db, "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        doc: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
        return doc

    rotated = cli("rotate-key", police.id, "--grace", "10")
    new_key = str(rotated["api_key"])
    assert new_key.startswith("gtk_") and rotated["previous_key_until"]
    for key in (police.api_key, new_key):  # the old key keeps working during the grace
        h = {"authorization": f"Bearer {key}"}
        assert _until(lambda h=h: city.http.get("/api/v1/incidents", headers=h).status_code == 200) < 1.5
    secret = cli("rotate-secret", police.id)["webhook_secret"]
    with city.server.uow.read() as s:
        row = s.get(AgencyRow, police.id)
        assert row is not None
        assert row.webhook_secret == secret and row.webhook_secret_previous == police.webhook_secret
    assert city.server.secret_sweeper.sweep() == 0  # still inside the overlap
    with city.server.uow(ADMIN) as work:
        row = work.session.get(AgencyRow, police.id)
        assert row is not None
        row.previous_secret_until = work.now - timedelta(seconds=1)
    assert city.server.secret_sweeper.sweep() == 1
    with city.server.uow.read() as s:
        row = s.get(AgencyRow, police.id)
        assert row is not None and row.webhook_secret_previous is None and row.webhook_secret == secret
