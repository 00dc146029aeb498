"""Every bad input gets a precise problem+json, the engine keeps running, and nothing accepted is lost."""

from __future__ import annotations

import socket

import pytest

from app.domain.enums import AgencyKind
from tests.engine.conftest import JINJU, AgencyKeys, EngineUnderTest, grid_cameras

GOOD = {
    "service": "112-emergency-video",
    "external_id": "H-1",
    "title": "t",
    "location": {"lat": JINJU[0], "lon": JINJU[1]},
}


@pytest.fixture
def police(engine: EngineUnderTest) -> AgencyKeys:
    engine.add_cameras(grid_cameras())
    return engine.add_agency("Jinju 112", AgencyKind.POLICE)


def _problem(r: object, status: int, *words: str) -> dict[str, object]:
    import httpx

    assert isinstance(r, httpx.Response)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    for w in words:
        assert w in body["detail"], body["detail"]
    return body


def test_malformed_json(engine: EngineUnderTest, police: AgencyKeys) -> None:
    r = engine.http.post(
        "/api/v1/requests",
        headers={**police.headers, "content-type": "application/json"},
        content=b'{"service": ',
    )
    _problem(r, 400, "not valid JSON")


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        ({"priority": "high"}, ("priority",)),
        ({"priority": 9}, ("priority",)),
        ({"service": "pizza"}, ("service",)),
        ({"location": {"lat": 91, "lon": 128}}, ("location.lat",)),
        ({"location": {"lat": 35, "lon": -181}}, ("location.lon",)),
        ({"location": {"lat": "NaN", "lon": 128}}, ("location.lat",)),
        ({"colour": "red"}, ("colour",)),
        ({"external_id": "../../etc"}, ("external_id",)),
        (
            {
                "area": {
                    "circle": {"lat": 35, "lon": 128, "radius_m": 10},
                    "polygon": [[35, 128], [35.1, 128], [35, 128.1]],
                }
            },
            ("exactly one",),
        ),
        ({"area": {"polygon": [[35, 128], [35.1, 128]]}}, ("area.polygon",)),
    ],
)
def test_wrong_types_unknown_fields_and_out_of_range(
    engine: EngineUnderTest, police: AgencyKeys, patch: dict[str, object], words: tuple[str, ...]
) -> None:
    r = engine.http.post("/api/v1/requests", headers=police.headers, json={**GOOD, **patch})
    _problem(r, 422, *words)


def test_body_over_the_limit_is_413_declared_or_streamed(engine: EngineUnderTest, police: AgencyKeys) -> None:
    big = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    _problem(
        engine.http.post(
            "/api/v1/requests", headers={**police.headers, "content-type": "application/json"}, content=big
        ),
        413,
    )

    def chunks():  # no Content-Length: the guard counts while reading
        for _ in range(40):
            yield b"a" * 65536

    r = engine.http.post(
        "/api/v1/requests", headers={**police.headers, "content-type": "application/json"}, content=chunks()
    )
    _problem(r, 413)


def test_wrong_content_type_is_415(engine: EngineUnderTest, police: AgencyKeys) -> None:
    r = engine.http.post(
        "/api/v1/requests", headers={**police.headers, "content-type": "text/plain"}, content=b"hello"
    )
    _problem(r, 415, "application/json")
    r = engine.http.post(
        "/api/v1/alerts/cap", headers={**police.headers, "content-type": "application/json"}, content=b"{}"
    )
    _problem(r, 415, "application/cap+xml")


def test_unknown_route_and_wrong_method(engine: EngineUnderTest, police: AgencyKeys) -> None:
    _problem(engine.http.get("/api/v1/nothing-here", headers=police.headers), 404, "no such route")
    _problem(engine.http.put("/api/v1/requests", headers=police.headers, json=GOOD), 405)


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer gtk_wrong", "Basic dXNlcjpwYXNz", "Bearer gts_expired"]
)
def test_missing_or_wrong_key_is_401(engine: EngineUnderTest, police: AgencyKeys, header: str | None) -> None:
    headers = {} if header is None else {"authorization": header}
    r = engine.http.post("/api/v1/requests", headers=headers, json=GOOD)
    body = _problem(r, 401)
    assert r.headers.get("www-authenticate") == "Bearer"
    assert "gtk_" not in str(body)


def test_agency_cannot_use_console_routes_and_console_cannot_make_requests(
    engine: EngineUnderTest, police: AgencyKeys
) -> None:
    op = engine.add_user()
    _problem(engine.http.post("/api/v1/requests", headers=op, json=GOOD), 403)
    iid = engine.http.post("/api/v1/requests", headers=police.headers, json=GOOD).json()["incident"]["id"]
    _problem(
        engine.http.patch(f"/api/v1/incidents/{iid}", headers=police.headers, json={"status": "closed"}), 403
    )
    _problem(engine.http.get("/api/v1/audit", headers=op), 403)


XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""


@pytest.mark.parametrize(
    "payload", [XML_BOMB, XXE, b"<alert", b"\x00\xff\xfe garbage", b"<alert xmlns='urn:wrong'/>"]
)
def test_hostile_cap_is_rejected_and_engine_keeps_serving(
    engine: EngineUnderTest, police: AgencyKeys, payload: bytes
) -> None:
    accepted = engine.http.post("/api/v1/requests", headers=police.headers, json=GOOD)
    assert accepted.status_code == 201
    disaster = engine.add_agency("Jinju disaster room", AgencyKind.DISASTER)  # only disaster rooms post CAP
    r = engine.http.post(
        "/api/v1/alerts/cap",
        headers={**disaster.headers, "content-type": "application/cap+xml"},
        content=payload,
    )
    body = _problem(r, 422)
    assert "root:" not in str(body)  # nothing of /etc/passwd leaks into the answer
    # Still running, and the incident accepted before is still there.
    again = engine.http.post("/api/v1/requests", headers=police.headers, json=GOOD)
    assert again.status_code == 200 and again.json()["incident"]["id"] == accepted.json()["incident"]["id"]


def test_a_client_that_drops_mid_body_does_not_hurt_the_engine(
    engine: EngineUnderTest, police: AgencyKeys
) -> None:
    host, port = engine.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(
            b"POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer "
            + police.api_key.encode()
            + b'\r\nContent-Length: 1000\r\n\r\n{"service":'
        )
    r = engine.http.post("/api/v1/requests", headers=police.headers, json=GOOD)
    assert r.status_code == 201


@pytest.mark.parametrize("depth", [40, 300, 5000])
def test_deeply_nested_details_are_refused_not_a_server_error(
    engine: EngineUnderTest, police: AgencyKeys, depth: int
) -> None:
    import json

    # Built as text: the JSON encoder itself cannot write 5000 levels.
    nested = '{"k":' * depth + '"leaf"' + "}" * depth
    body = json.dumps({**GOOD, "external_id": f"DEEP-{depth}", "details": "@"}).replace('"@"', nested)
    r = engine.http.post(
        "/api/v1/requests", headers={**police.headers, "content-type": "application/json"}, content=body
    )
    _problem(r, 422 if depth < 1000 else 400, "details" if depth < 1000 else "nested")
    # The engine still takes the next good request.
    ok = engine.http.post(
        "/api/v1/requests", headers=police.headers, json={**GOOD, "external_id": "AFTER-DEEP"}
    )
    assert ok.status_code == 201, ok.text


def test_details_within_the_limits_are_kept(engine: EngineUnderTest, police: AgencyKeys) -> None:
    nested: object = "leaf"
    for _ in range(8):
        nested = {"k": nested}
    body = {**GOOD, "external_id": "DEEP-OK", "details": {"caller": "김", "n": [1, 2, 3], "tree": nested}}
    r = engine.http.post("/api/v1/requests", headers=police.headers, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["incident"]["details"]["tree"] == nested
