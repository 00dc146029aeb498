"""The role × route matrix, checked against a real engine.

Every route the engine serves (``/openapi.json``, the media routes, the WebSocket) must have exactly one
rule in :mod:`app.engine.access_rules`, and every caller — each console role, a wall key, an agency key and
no credentials at all — must be let through exactly where its rule says and refused everywhere else.
A route added without a rule fails here (and the gate refuses it to everyone).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from app.domain.enums import AgencyKind, Role
from app.engine.access_rules import RULES, Caller, render_markdown, rule_for
from app.engine.auth import issue_session
from app.engine.services.directory import add_user
from app.engine.services.wall_keys import add_wall_key
from app.store.models import DeliveryRow, ReportRow
from tests.engine.conftest import ADMIN, EngineUnderTest, grid_cameras, request_body, start_engine

ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR)
DENIED_BEARER = {401, 403}
DENIED_URL = {401, 403, 404}  # a media token that is not the caller's own: refused, or a miss (no leak)
_SERIAL = itertools.count(100)


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[Any, str]]:
    """Every route with its full path, through included routers (FastAPI ≥ 0.16x keeps them nested)."""
    for r in routes:
        if isinstance(r, APIRoute | APIWebSocketRoute):
            yield r, prefix + r.path
        elif hasattr(r, "original_router"):
            inner_prefix = prefix + getattr(getattr(r, "include_context", None), "prefix", "")
            yield from _walk(list(r.original_router.routes), inner_prefix)


def served_routes(engine: EngineUnderTest) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves behind the gate (docs pages excepted)."""
    out: set[tuple[str, str]] = set()
    for r, path in _walk(list(engine.server.app.routes)):
        if isinstance(r, APIWebSocketRoute):
            out.add(("WS", path))
        elif path.startswith("/media/{rest"):
            out.add(("ANY", path))
        else:
            out.update((m, path) for m in r.methods if m != "HEAD")
    spec = engine.http.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        out.update((m.upper(), path) for m in ops)
    return out


@dataclass
class World:
    engine: EngineUnderTest
    police_key: str
    wall_key: str
    incident_id: str
    external_id: str
    share_token: str
    share_id: str
    spare_share_id: str
    camera_id: str
    report_id: str
    report_token: str
    delivery_id: str
    agency_id: str
    user_ids: dict[Role, str]

    def session(self, role: Role) -> str:
        """A fresh session of the role's user (some routes end or use up the caller's session)."""
        from app.store.models import UserRow

        with self.engine.server.uow(ADMIN) as work:
            user = work.session.get(UserRow, int(self.user_ids[role]))
            assert user is not None
            return issue_session(work.session, user, work.now, 1.0)

    def bearer(self, caller: Caller) -> dict[str, str]:
        if caller is Caller.NONE:
            return {}
        if caller is Caller.AGENCY:
            secret = self.police_key
        elif caller is Caller.WALL:
            secret = self.wall_key
        else:
            secret = self.session(Role(caller.value))
        return {"authorization": f"Bearer {secret}"}

    def media_token(self, caller: Caller) -> str:
        """The caller's own media credential: a grant for consoles and walls, the share token for the
        agency; an auditor's session token (never valid in a URL), a made-up token for no one."""
        if caller is Caller.AGENCY:
            return self.share_token
        if caller is Caller.NONE:
            return "gtm_" + "x" * 43
        headers = self.bearer(caller)
        r = self.engine.http.post("/api/v1/media/grants", headers=headers)
        if r.status_code == 201:
            return str(r.json()["token"])
        return headers["authorization"].split()[1]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # The matrix checks the role rules; the per-kind service policy (only disaster rooms post CAP by
    # default) is tested in test_agency_privilege.py, so here the police room may post CAP too.
    engine = start_engine(
        tmp_path_factory.mktemp("matrix"), agency_access={"cap_alerts": ["police", "disaster"]}
    )
    try:
        engine.add_cameras(grid_cameras())
        police = engine.add_agency("Jinju 112", AgencyKind.POLICE)
        engine.add_agency("Jinju 119", AgencyKind.FIRE)
        user_ids: dict[Role, str] = {}
        with engine.server.uow(ADMIN) as work:
            for role in ROLES:
                user_ids[role] = str(
                    add_user(work.session, f"u-{role.value}", role, "password-123", work.now).id
                )
            work.session.flush()
            add_user(work.session, "someone-else", Role.OPERATOR, "password-123", work.now)
            wall_key = add_wall_key(work.session, "WALL-1", work.now)
        world = World(
            engine, police.api_key, wall_key, "", "M-1", "", "", "", "", "", "", "", police.id, user_ids
        )
        # Re-read the ids now that the session committed.
        from app.store.models import UserRow

        with engine.server.uow.read() as s:
            for role in ROLES:
                row = s.query(UserRow).filter(UserRow.username == f"u-{role.value}").one()
                user_ids[role] = str(row.id)
        made = engine.http.post(
            "/api/v1/requests",
            headers={"authorization": f"Bearer {police.api_key}"},
            json=request_body("M-1"),
        )
        assert made.status_code == 201, made.text
        body = made.json()
        world.incident_id = body["incident"]["id"]
        world.share_id = body["shares"][0]["id"]
        share_url = next(iter(body["shares"][0]["urls"].values()))
        world.share_token = share_url.split("/media/")[1].split("/")[0]
        world.camera_id = body["shares"][0]["camera_ids"][0]
        op = world.bearer(Caller.OPERATOR)
        spare = engine.http.post(
            f"/api/v1/incidents/{world.incident_id}/shares",
            headers=op,
            json={
                "agency_id": police.id,
                "camera_ids": [world.camera_id],
                "minutes": 30,
                "purpose": "t",
                "legal_basis": "pipa-18-2-3",
            },
        )
        assert spare.status_code == 201, spare.text
        world.spare_share_id = spare.json()["id"]
        report = engine.http.post(
            f"/api/v1/incidents/{world.incident_id}/reports",
            headers=op,
            json={"agency_id": police.id, "kind": "fire", "note": "n", "camera_id": world.camera_id},
        )
        assert report.status_code == 201, report.text
        world.report_id = report.json()["id"]
        world.report_token = report.json()["snapshot_url"].split("/media/")[1].split("/")[0]
        snapshots = engine.server.settings.data_dir / "snapshots"
        snapshots.mkdir(parents=True, exist_ok=True)
        (snapshots / f"{world.report_id}.jpg").write_bytes(b"\xff\xd8\xff\xd9")
        put1 = engine.http.put("/api/v1/walls/WALL-1", headers=op, json={"layout": {"grid": 1, "tiles": []}})
        assert put1.status_code == 200, put1.text
        taken = engine.http.post(
            "/api/v1/walls/WALL-1/takeover", headers=op, json={"incident_id": world.incident_id}
        )
        assert taken.status_code == 200, taken.text
        assert world.camera_id in taken.json()["tiles"]
        put = engine.http.put("/api/v1/walls/WALL-2", headers=op, json={"layout": {"grid": 1, "tiles": []}})
        assert put.status_code == 200, put.text
        with engine.server.uow.read() as s:
            world.delivery_id = s.query(DeliveryRow).first().id  # type: ignore[union-attr]
            assert s.get(ReportRow, world.report_id) is not None
        yield world
    finally:
        engine.close()


def _request(world: World, method: str, path: str, caller: Caller) -> int:
    """Call one route as one caller with real ids and a plausible body; returns the status."""
    rule = rule_for(method, path)
    assert rule is not None
    ids = {
        "incident_id": world.incident_id,
        "share_id": world.spare_share_id,
        "camera_id": world.camera_id,
        "agency_id": world.agency_id,
        "delivery_id": world.delivery_id,
        "report_id": world.report_id,
        "external_id": world.external_id,
        "wall_id": "WALL-1",
        "username": "someone-else",
        "rest": "nothing/here",
        "name": "viewer.js",
    }
    headers: dict[str, str] = {}
    if rule.credential == "url":
        ids["token"] = world.media_token(caller)
    else:
        headers = world.bearer(caller)
    if method in ("PUT", "POST"):
        ids["wall_id"] = "WALL-2"  # leave WALL-1's layout (the wall key's cameras) alone
    if path == "/media/{token}/reports/{report_id}.jpg" and caller is Caller.AGENCY:
        ids["token"] = world.report_token
    url = path.replace("{rest:path}", "{rest}").format(**ids)
    body: Any = SAMPLE_BODIES.get((method, path), {})
    kwargs: dict[str, Any] = {"headers": headers}
    if method == "ANY":
        method = "GET"
    if path == "/api/v1/alerts/cap":
        kwargs["content"] = b"<alert/>"
        headers["content-type"] = "application/cap+xml"
    elif method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = body(world) if callable(body) else body
    if path == "/api/v1/sessions" and method == "POST":
        kwargs["json"] = {"username": "u-operator", "password": "password-123"}
    with world.engine.http.stream(method, url, **kwargs) as r:
        return r.status_code


SAMPLE_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/requests"): lambda w: request_body(f"M-{next(_SERIAL)}"),
    ("POST", "/api/v1/requests/{external_id}/updates"): {"note": "n"},
    ("PATCH", "/api/v1/incidents/{incident_id}"): {"assignee": "someone"},
    ("PATCH", "/api/v1/shares/{share_id}"): {"minutes": 30, "reason": "t"},
    ("POST", "/api/v1/shares/{share_id}/reject"): {"reason": "t"},
    ("PUT", "/api/v1/walls/{wall_id}"): {"layout": {"grid": 1, "tiles": []}},
    ("POST", "/api/v1/walls/{wall_id}/takeover"): lambda w: {"incident_id": w.incident_id},
    ("POST", "/api/v1/media/auth"): lambda w: {"action": "read", "path": f"{w.share_token}/{w.camera_id}"},
    ("PATCH", "/api/v1/agencies/{agency_id}"): {},
    ("POST", "/api/v1/agencies/{agency_id}/keys"): {},
    ("POST", "/api/v1/sensors/events"): {"sensor_id": "S-NONE", "alarm": True},
    ("POST", "/api/v1/sensors/readings"): {"readings": [{"sensor_id": "S-NONE", "value": 1.0}]},
    ("PATCH", "/api/v1/users/{username}"): {"role": "operator"},
    ("POST", "/api/v1/users"): lambda w: {
        "username": f"new-{next(_SERIAL)}",
        "role": "operator",
        "password": "password-123",
    },
}


def _ws_allowed(world: World, caller: Caller) -> bool:
    url = world.engine.url.replace("http://", "ws://") + "/api/v1/live"
    try:
        with connect(url, additional_headers=world.bearer(caller), open_timeout=5) as ws:
            if caller is Caller.NONE:
                ws.send(json.dumps({"type": "hello"}))  # a first message without a credential
            return bool(json.loads(ws.recv(timeout=5))["type"] == "hello")
    except (InvalidStatus, ConnectionClosed):
        return False


def test_every_route_has_exactly_one_rule(world: World) -> None:
    served = served_routes(world.engine)
    ruled = {(r.method, r.path) for r in RULES}
    assert len(ruled) == len(RULES), "a route has two rules"
    assert served - ruled == set(), "routes without a rule in app/engine/access_rules.py"
    assert ruled - served == set(), "rules for routes the engine does not serve"


def test_every_caller_gets_exactly_what_its_rule_allows(world: World) -> None:
    wrong: list[str] = []
    for rule in RULES:
        for caller in Caller:
            if rule.method == "WS":
                allowed = _ws_allowed(world, caller)
                status = "ws"
            else:
                status_code = _request(world, rule.method, rule.path, caller)
                status = str(status_code)
                assert status_code != 500, f"{rule.method} {rule.path} as {caller}: 500"
                if rule.credential in ("public", "gateway", "own"):
                    allowed = status_code not in DENIED_BEARER
                else:
                    denied = DENIED_URL if rule.credential == "url" else DENIED_BEARER
                    allowed = status_code not in denied
            if allowed != (caller in rule.allowed):
                wrong.append(
                    f"{rule.method} {rule.path} as {caller.value}: {status}, expected "
                    f"{'allowed' if caller in rule.allowed else 'refused'}"
                )
    assert not wrong, "\n".join(wrong)


def test_refusals_are_audited_in_batches(world: World) -> None:
    engine = world.engine
    before = engine.server.ctx.refusals.recorded
    for _ in range(30):
        assert engine.http.get("/api/v1/audit", headers=world.bearer(Caller.OPERATOR)).status_code == 403
    assert engine.server.ctx.refusals.recorded - before == 30
    engine.server.security.flush()
    auditor = world.bearer(Caller.AUDITOR)
    rows = engine.http.get(
        "/api/v1/audit",
        headers=auditor,
        params={"action": "request.refused", "target_id": "GET /api/v1/audit"},
    ).json()
    mine = [r for r in rows if r["actor"] == "user:u-operator"]
    # 30 refusals, a handful of rows (one per flush window), each with its count.
    assert sum(r["detail"]["count"] for r in mine) >= 30
    assert len(mine) <= 5


def test_an_agencys_refusal_names_it_by_id_and_name(world: World) -> None:
    engine = world.engine
    agency = engine.add_agency("Refused 112", AgencyKind.POLICE)  # its own key: the walk rotates the shared one
    assert engine.http.get("/api/v1/audit", headers=agency.headers).status_code == 403
    engine.server.security.flush()
    rows = engine.http.get(
        "/api/v1/audit",
        headers=world.bearer(Caller.AUDITOR),
        params={"action": "request.refused", "target_id": "GET /api/v1/audit"},
    ).json()
    mine = [r for r in rows if r["actor"] == "agency:Refused 112"]
    assert mine and all(r["detail"]["actor_id"] == agency.id for r in mine)


def test_a_route_without_a_rule_is_refused_to_everyone(world: World) -> None:
    app = world.engine.server.app

    @app.get("/api/v1/unruled")
    def unruled() -> dict[str, str]:
        return {"leak": "yes"}

    r = world.engine.http.get("/api/v1/unruled", headers=world.bearer(Caller.ADMIN))
    assert r.status_code == 403 and "no access rule" in r.json()["detail"]


def test_security_doc_holds_the_current_matrix() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    assert render_markdown() in doc, "docs/SECURITY.md is stale: python -m app.engine.access_rules"
