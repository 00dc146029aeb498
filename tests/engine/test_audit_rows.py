"""What audit rows say (issue 13): agencies by id and name; an agency's own rows carry its id; a refused
media token is audited."""

from __future__ import annotations

import time

from sqlalchemy import select

from app.domain.enums import AgencyKind, Role
from app.store.models import AuditRow
from tests.engine.conftest import EngineUnderTest, grid_cameras, request_body


def _rows(e: EngineUnderTest, action: str) -> list[AuditRow]:
    with e.server.uow.read() as s:
        return list(s.scalars(select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id)))


def test_audit_rows_name_agencies_by_id_and_name(engine: EngineUnderTest) -> None:
    e = engine
    e.add_cameras(grid_cameras())
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    fire = e.add_agency("Jinju 119", AgencyKind.FIRE)
    op = e.add_user("op", Role.OPERATOR)
    r = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("N-1"))
    assert r.status_code == 201, r.text
    iid = r.json()["incident"]["id"]

    # The agency's own request: its name in the actor, its id in the row.
    created = _rows(e, "incident.create")
    assert created and created[-1].actor == "agency:Jinju 112" and created[-1].detail["actor_id"] == police.id

    # An operator's share to another agency names that agency by id and name.
    body = {
        "agency_id": fire.id,
        "camera_ids": [r.json()["shares"][0]["camera_ids"][0]],
        "minutes": 10,
        "purpose": "smoke seen",
        "legal_basis": "pipa-18-2-3",
    }
    s = e.http.post(f"/api/v1/incidents/{iid}/shares", headers=op, json=body)
    assert s.status_code == 201, s.text
    row = next(x for x in _rows(e, "share.create") if x.target_id == s.json()["id"])
    assert row.actor == "user:op"
    assert row.detail["agency_id"] == fire.id
    assert row.detail["agencies"][fire.id] == "Jinju 119"


def test_a_refused_media_token_is_audited(engine: EngineUnderTest) -> None:
    e = engine
    e.add_cameras(grid_cameras())
    r = e.http.get("/media/not-a-real-token-abcdefgh/CAM-0001.ts")
    assert r.status_code in (401, 403)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not _rows(e, "media.refused"):
        time.sleep(0.05)
    rows = _rows(e, "media.refused")
    assert rows and rows[0].client == "127.0.0.1" and "not-a-real-token" not in str(rows[0].detail)
