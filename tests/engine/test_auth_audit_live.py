"""Sessions, the append-only audit trail, and the live push."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from websockets.sync.client import connect

from app.domain.enums import AgencyKind, Role
from tests.engine.conftest import JINJU, EngineUnderTest, grid_cameras

REQ = {
    "service": "112-emergency-video",
    "external_id": "L-1",
    "title": "t",
    "location": {"lat": JINJU[0], "lon": JINJU[1]},
}


def test_session_login_logout(engine: EngineUnderTest) -> None:
    op = engine.add_user("kim", Role.OPERATOR, "s3cret-pass")
    assert engine.http.get("/api/v1/incidents", headers=op).status_code == 200
    bad = engine.http.post("/api/v1/sessions", json={"username": "kim", "password": "wrong"})
    assert bad.status_code == 401
    nobody = engine.http.post("/api/v1/sessions", json={"username": "nobody", "password": "wrong"})
    assert nobody.status_code == 401 and nobody.json()["detail"] == bad.json()["detail"]
    assert engine.http.delete("/api/v1/sessions", headers=op).status_code == 204
    assert engine.http.get("/api/v1/incidents", headers=op).status_code == 401


def test_every_read_and_change_is_audited_and_audit_is_append_only(engine: EngineUnderTest) -> None:
    engine.add_cameras(grid_cameras())
    police = engine.add_agency("Jinju 112", AgencyKind.POLICE)
    sup = engine.add_user("lee", Role.SUPERVISOR)
    iid = engine.http.post("/api/v1/requests", headers=police.headers, json=REQ).json()["incident"]["id"]
    engine.http.get(f"/api/v1/incidents/{iid}", headers=sup)
    engine.http.get("/api/v1/cameras/CAM-0001", headers=sup)
    engine.http.get(
        "/api/v1/cameras", params={"near": f"{JINJU[0]},{JINJU[1]}", "radius_m": 200}, headers=sup
    )
    rows = engine.http.get("/api/v1/audit", headers=sup).json()
    actions = {(r["action"], r["actor"]) for r in rows}
    assert ("incident.create", "agency:Jinju 112") in actions
    assert ("share.create", "agency:Jinju 112") in actions
    assert ("incident.read", "user:lee") in actions
    assert ("camera.read", "user:lee") in actions
    assert ("camera.search", "user:lee") in actions
    assert all(r["client"] == "127.0.0.1" for r in rows if r["actor"] == "user:lee")
    only = engine.http.get(
        "/api/v1/audit", params={"action": "incident.read", "target_id": iid}, headers=sup
    ).json()
    assert [r["target_id"] for r in only] == [iid]
    exported = engine.http.get("/api/v1/audit", params={"format": "csv"}, headers=sup)
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert {"id", "at", "actor", "action", "target_type", "target_id", "client", "detail"} <= set(table[0])
    assert any(r["action"] == "incident.read" for r in table)
    with engine.server.db.write.connect() as conn:
        for stmt in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit"):
            with pytest.raises(DBAPIError, match="append-only"):
                with conn.begin():
                    conn.execute(text(stmt))


def test_live_push_after_commit_and_catch_up_since(engine: EngineUnderTest) -> None:
    engine.add_cameras(grid_cameras())
    police = engine.add_agency("Jinju 112", AgencyKind.POLICE)
    op = engine.add_user()
    ws_url = engine.url.replace("http://", "ws://") + "/api/v1/live"
    with connect(ws_url, additional_headers=op) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "hello"
        iid = engine.http.post("/api/v1/requests", headers=police.headers, json=REQ).json()["incident"]["id"]
        seen = []
        while not any(e["type"] == "incident.created" for e in seen):
            seen.append(json.loads(ws.recv(timeout=5)))
        created = next(e for e in seen if e["type"] == "incident.created")
        assert created["data"]["id"] == iid and len(created["data"]["camera_ids"]) == 4
        last = max(e["seq"] for e in seen)
    # While disconnected, more happens; reconnecting with since= replays exactly what was missed.
    engine.http.patch(f"/api/v1/incidents/{iid}", headers=op, json={"status": "acknowledged"})
    token = op["authorization"].split()[1]
    with connect(f"{ws_url}?since={last}") as ws:  # the token in the first message, never in the URL
        ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
        replay = json.loads(ws.recv(timeout=5))
        while replay["type"] != "incident.updated":
            assert replay["seq"] > last
            replay = json.loads(ws.recv(timeout=5))
        assert replay["data"]["status"] == "acknowledged" and replay["seq"] > last


def test_live_refuses_agencies_and_bad_tokens(engine: EngineUnderTest) -> None:
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    police = engine.add_agency("Jinju 112", AgencyKind.POLICE)
    ws_url = engine.url.replace("http://", "ws://") + "/api/v1/live"
    for headers in (police.headers, {"authorization": "Bearer gts_nope"}):
        with pytest.raises((InvalidStatus, ConnectionClosed)):
            with connect(ws_url, additional_headers=headers) as ws:
                ws.recv(timeout=5)


def test_verified_api_keys_are_cached_but_an_agency_rename_is_seen_at_once(engine: EngineUnderTest) -> None:
    engine.add_cameras(grid_cameras())
    police = engine.add_agency("Jinju 112", AgencyKind.POLICE)
    admin = engine.add_user("root", Role.ADMIN)
    assert engine.http.post("/api/v1/requests", headers=police.headers, json=REQ).status_code == 201
    assert engine.server.ctx.keys.get(police.api_key) is not None  # the next request skips the lookup
    # A key that differs in one character is not taken for the cached one.
    forged = police.api_key[:-1] + ("A" if police.api_key[-1] != "A" else "B")
    r = engine.http.get("/api/v1/incidents", headers={"authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    r = engine.http.patch(f"/api/v1/agencies/{police.id}", headers=admin, json={"name": "Jinju 112 room"})
    assert r.status_code == 200
    second = {**REQ, "external_id": "L-2"}
    assert engine.http.post("/api/v1/requests", headers=police.headers, json=second).status_code == 201
    actors = {r["actor"] for r in engine.http.get("/api/v1/audit", headers=admin).json()}
    assert "agency:Jinju 112 room" in actors


def test_key_cache_entries_expire() -> None:
    from app.engine.auth import KeyCache, Principal

    p = Principal(kind="agency", id="a", name="A")
    cache = KeyCache(ttl_s=0.0)
    cache.put("gtk_x", p)
    assert cache.get("gtk_x") is None
    cache = KeyCache(ttl_s=60.0, max_entries=2)
    cache.put("gtk_x", p)
    assert cache.get("gtk_x") is p and cache.get("gtk_y") is None
    cache.put("gtk_y", p)
    cache.put("gtk_z", p)  # full: starts over rather than growing
    assert cache.get("gtk_x") is None and cache.get("gtk_z") is p
