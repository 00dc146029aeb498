"""Wall layouts: set by consoles, followed live by wall processes, taken over by incidents and released."""

from __future__ import annotations

import json

from websockets.sync.client import connect

from app.domain.enums import AgencyKind
from tests.engine.conftest import JINJU, EngineUnderTest, grid_cameras


def test_wall_layout_takeover_and_release(engine: EngineUnderTest) -> None:
    engine.add_cameras(grid_cameras())
    op = engine.add_user()
    police = engine.add_agency("Jinju 112", AgencyKind.POLICE)
    put = engine.http.put(
        "/api/v1/walls/WALL-1",
        headers=op,
        json={"name": "상황판 1", "layout": {"grid": 4, "tiles": ["CAM-0001", None, "CAM-0003"]}},
    )
    assert put.status_code == 200, put.text
    assert put.json()["tiles"] == ["CAM-0001", None, "CAM-0003"] and put.json()["mode"] == "normal"
    bad = engine.http.put(
        "/api/v1/walls/WALL-1", headers=op, json={"layout": {"grid": 1, "tiles": ["CAM-0001", "CAM-0002"]}}
    )
    assert bad.status_code == 422 and "do not fit" in bad.json()["detail"]
    unknown = engine.http.put(
        "/api/v1/walls/WALL-1", headers=op, json={"layout": {"grid": 4, "tiles": ["NOPE"]}}
    )
    assert unknown.status_code == 422 and "NOPE" in unknown.json()["detail"]
    assert (
        engine.http.put(
            "/api/v1/walls/WALL-1", headers=police.headers, json={"layout": {"grid": 1}}
        ).status_code
        == 403
    )

    iid = engine.http.post(
        "/api/v1/requests",
        headers=police.headers,
        json={
            "service": "112-dispatch",
            "external_id": "W-1",
            "title": "t",
            "location": {"lat": JINJU[0], "lon": JINJU[1]},
        },
    ).json()["incident"]["id"]
    ws_url = engine.url.replace("http://", "ws://") + "/api/v1/live"
    with connect(ws_url, additional_headers=op) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
        taken = engine.http.post("/api/v1/walls/WALL-1/takeover", headers=op, json={"incident_id": iid})
        assert taken.status_code == 200, taken.text
        body = taken.json()
        assert body["mode"] == "incident" and body["incident_id"] == iid and body["show_map"] is True
        assert len(body["tiles"]) < body["grid"] and body["has_previous"] is True
        event = json.loads(ws.recv(timeout=5))
        while event["type"] != "wall.updated":
            event = json.loads(ws.recv(timeout=5))
        assert event["data"]["mode"] == "incident"
    released = engine.http.post("/api/v1/walls/WALL-1/release", headers=op)
    assert released.json()["tiles"] == ["CAM-0001", None, "CAM-0003"] and released.json()["mode"] == "normal"
    assert engine.http.post("/api/v1/walls/WALL-1/release", headers=op).status_code == 422
    assert [w["id"] for w in engine.http.get("/api/v1/walls", headers=op).json()] == ["WALL-1"]
