"""Issue 12, agency side, through the media routes: disabling an agency cuts its playing video within a
second; a share token reaches only its own cameras; a rotated key stops at once."""

from __future__ import annotations

import time
from pathlib import Path

from app.domain.enums import AgencyKind, Role
from tests.engine.conftest import EngineUnderTest, request_body
from tests.engine.test_media_engine import _read_some, _seconds_until_cut, video_engine

__all__ = ["video_engine"]  # the fixture, shared with test_media_engine


def test_disabling_an_agency_cuts_its_playing_stream_within_a_second(video_engine: EngineUnderTest) -> None:
    e = video_engine
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    admin = e.add_user("root", Role.ADMIN)
    share = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("DV-1")).json()[
        "shares"
    ][0]
    cut_after = _seconds_until_cut(
        share["urls"]["CAM-1"],
        lambda: e.http.patch(
            f"/api/v1/agencies/{police.id}", headers=admin, json={"enabled": False}
        ).raise_for_status(),
    )
    print(f"disable → stream cut after {cut_after:.3f} s")
    assert cut_after < 1.5, cut_after
    again = e.http.get(share["urls"]["CAM-1"])
    assert again.status_code in (401, 403)
    # Enabled again: the key works, the revoked share stays revoked (nothing revives it).
    e.http.patch(f"/api/v1/agencies/{police.id}", headers=admin, json={"enabled": True}).raise_for_status()
    assert e.http.get("/api/v1/incidents", headers=police.headers).status_code == 200
    assert e.http.get(share["urls"]["CAM-1"]).status_code in (401, 403)


def test_a_share_token_reaches_only_its_own_cameras(video_engine: EngineUnderTest) -> None:
    e = video_engine
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    fire = e.add_agency("Jinju 119", AgencyKind.FIRE)
    mine = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("DV-2")).json()
    theirs = e.http.post(
        "/api/v1/requests", headers=fire.headers, json=request_body("DV-3", "119-dispatch")
    ).json()
    url = mine["shares"][0]["urls"]["CAM-1"]
    token = url.split("/media/")[1].split("/")[0]
    assert token not in str(theirs)  # another agency's answer never carries my token
    base = url.split("/media/")[0]
    status, _ = _read_some(f"{base}/media/{token}/NOT-A-CAMERA.ts")
    assert status == 404
    # Another agency's report snapshot with my token: 404, like a missing one.
    r = e.http.get(f"{base}/media/{token}/reports/rpt-NOT-MINE.jpg")
    assert r.status_code == 404


def test_rotating_a_key_refuses_the_old_one_at_once(video_engine: EngineUnderTest) -> None:
    e = video_engine
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    admin = e.add_user("root", Role.ADMIN)
    assert e.http.get("/api/v1/incidents", headers=police.headers).status_code == 200  # cached
    started = time.monotonic()
    e.http.post(f"/api/v1/agencies/{police.id}/keys", headers=admin, json={}).raise_for_status()
    assert e.http.get("/api/v1/incidents", headers=police.headers).status_code == 401
    print(f"rotate → old key refused after {time.monotonic() - started:.3f} s")


def test_media_auth_answers_only_the_gateways_own_key(tmp_path: Path, camera_sim: object) -> None:
    import hashlib

    from app.domain.camera import Camera
    from app.domain.enums import Purpose
    from tests.engine.conftest import JINJU, start_engine

    key = "gateway-key-of-this-site-0123456789"
    e = start_engine(
        tmp_path, agency_access={"media_gateway_key_sha256": hashlib.sha256(key.encode()).hexdigest()}
    )
    try:
        cam = camera_sim.cameras[0]  # type: ignore[attr-defined]
        e.add_cameras([Camera("CAM-1", "c", JINJU[0], JINJU[1], Purpose.CRIME, stream_main=cam.main_url)])
        police = e.add_agency("Jinju 112", AgencyKind.POLICE)
        url = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("GW-1")).json()[
            "shares"
        ][0]["urls"]["CAM-1"]
        token = url.split("/media/")[1].split("/")[0]
        body = {"action": "read", "path": f"{token}/CAM-1", "protocol": "rtsp"}
        for headers in ({}, police.headers, {"authorization": "Bearer wrong"}):
            r = e.http.post("/api/v1/media/auth", headers=headers, json=body)
            assert r.status_code == 401, r.text
        gw = {"authorization": f"Bearer {key}"}
        assert e.http.post("/api/v1/media/auth", headers=gw, json=body).status_code == 200
        bad = {**body, "path": "not-a-token/CAM-1"}
        assert e.http.post("/api/v1/media/auth", headers=gw, json=bad).status_code == 401
    finally:
        e.close()
