"""Lawful provision (issue 13): legal bases, approval of shares beyond the operator's policy, extensions as
decisions, nothing revived, closed and drill incidents refused, and the provision ledger (API and export)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.domain.clock import ManualClock
from app.domain.enums import AgencyKind, Role
from app.engine.services.shares import open_share
from app.store.models import AgencyRow, AuditRow, CameraRow, IncidentRow, ShareRow
from tests.engine.conftest import ADMIN, EngineUnderTest, grid_cameras, request_body, start_engine

BASIS = "pipa-18-2-3"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def eng(tmp_path: Path, db_url: str | None, clock: ManualClock) -> Iterator[EngineUnderTest]:
    e = start_engine(tmp_path, clock=clock, db_url=db_url)
    e.add_cameras(grid_cameras())
    yield e
    e.close()


class World:
    def __init__(self, eng: EngineUnderTest) -> None:
        self.eng = eng
        self.police = eng.add_agency("Jinju 112", AgencyKind.POLICE)
        self.fire = eng.add_agency("Jinju 119", AgencyKind.FIRE)
        self.op = eng.add_user("op", Role.OPERATOR)
        self.sup = eng.add_user("sup", Role.SUPERVISOR)
        self.aud = eng.add_user("aud", Role.AUDITOR)
        body = eng.http.post("/api/v1/requests", headers=self.police.headers, json=request_body("L-1")).json()
        self.iid = body["incident"]["id"]
        self.request_share = body["shares"][0]

    def share(self, headers: dict[str, str], agency_id: str, minutes: int = 10, **extra: object) -> dict:  # type: ignore[type-arg]
        body = {
            "agency_id": agency_id,
            "camera_ids": ["CAM-0055"],
            "minutes": minutes,
            "purpose": "suspect seen",
            "legal_basis": BASIS,
            **extra,
        }
        r = self.eng.http.post(f"/api/v1/incidents/{self.iid}/shares", headers=headers, json=body)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def token(self, share_id: str) -> str:
        with self.eng.server.uow.writing() as s:
            row = s.get(ShareRow, share_id)
            assert row is not None
            token = self.eng.server.ctx.share_token(row)  # the store keeps only its hash
            assert token is not None
            return token

    def deliveries(self, agency_id: str) -> list[str]:
        detail = self.eng.http.get(f"/api/v1/incidents/{self.iid}", headers=self.op).json()
        return [d["event_type"] for d in detail["deliveries"] if d["agency_id"] == agency_id]


@pytest.fixture
def world(eng: EngineUnderTest) -> World:
    return World(eng)


def test_legal_bases_are_served_and_every_share_names_a_known_one(world: World) -> None:
    eng = world.eng
    bases = eng.http.get("/api/v1/legal-bases", headers=world.op).json()
    ids = {b["id"] for b in bases}
    assert {"pipa-18-2-3", "pipa-18-2-7", "pipa-18-2-8", "dsa-74-3", "cpa-215"} <= ids
    crime = next(b for b in bases if b["id"] == "pipa-18-2-7")
    assert (
        crime["law"] == "개인정보 보호법" and crime["article"] == "제18조 제2항 제7호" and crime["title_en"]
    )
    assert "112-emergency-video" in next(b for b in bases if b["id"] == BASIS)["services"]
    # The share an agency's request made carries the basis configured for its service, and the requester.
    assert world.request_share["legal_basis"] == BASIS
    assert world.request_share["requesting_agency_id"] == world.police.id
    url = f"/api/v1/incidents/{world.iid}/shares"
    base = {"agency_id": world.police.id, "camera_ids": ["CAM-0055"], "minutes": 5, "purpose": "p"}
    missing = eng.http.post(url, headers=world.op, json=base)
    assert missing.status_code == 422 and "legal_basis" in missing.json()["detail"]
    unknown = eng.http.post(url, headers=world.op, json={**base, "legal_basis": "made-up"})
    assert unknown.status_code == 422 and "made-up" in unknown.json()["detail"]
    ok = world.share(world.op, world.police.id, 5, requesting_officer="경위 김", case_number="2026-112-1")
    assert ok["legal_basis"] == BASIS and ok["requesting_officer"] == "경위 김"
    assert ok["case_number"] == "2026-112-1" and ok["created_by"] == "user:op"


def test_an_operator_shares_alone_only_within_the_policy(world: World) -> None:
    own = world.share(world.op, world.police.id, 30)
    assert own["status"] == "active" and own["approval"] == "auto" and own["urls"]
    other = world.share(world.op, world.fire.id, 10)  # another agency
    longer = world.share(world.op, world.police.id, 31)  # longer than 30 minutes
    many = world.eng.http.post(
        f"/api/v1/incidents/{world.iid}/shares",
        headers=world.op,
        json={
            "agency_id": world.police.id,
            "camera_ids": [f"CAM-{k:04d}" for k in range(17)],  # more than 16 cameras
            "minutes": 5,
            "purpose": "p",
            "legal_basis": BASIS,
        },
    ).json()
    for s in (other, longer, many):
        assert s["status"] == "pending" and s["approval"] == "pending"
        assert s["urls"] == {} and s["viewer_url"] is None
    # The agency is told nothing while the share waits.
    assert "share.created" not in world.deliveries(world.fire.id)
    pending = world.eng.http.get("/api/v1/shares/pending", headers=world.sup).json()
    assert {s["id"] for s in pending} == {other["id"], longer["id"], many["id"]}


def test_pending_media_refuses_then_a_supervisor_approves(world: World) -> None:
    eng = world.eng
    pending = world.share(world.op, world.fire.id, 10)
    token = world.token(pending["id"])
    refused = eng.http.get(f"/media/{token}/CAM-0055.jpg")
    assert refused.status_code in (401, 403, 404, 410), refused.status_code
    page = eng.http.get(f"/view/{token}/share.json")
    assert page.status_code != 200 or page.json().get("cameras") == []
    # Operators cannot approve: the role × route gate refuses them.
    assert (
        eng.http.post(f"/api/v1/shares/{pending['id']}/approve", headers=world.op, json={}).status_code == 403
    )
    assert (
        eng.http.post(
            f"/api/v1/shares/{pending['id']}/reject", headers=world.op, json={"reason": "no"}
        ).status_code
        == 403
    )
    # Nor can an operator "confirm" it: confirmation is only for an agency's over-cap request.
    assert (
        eng.http.post(f"/api/v1/shares/{pending['id']}/confirm", headers=world.op, json={}).status_code == 409
    )
    approved = eng.http.post(
        f"/api/v1/shares/{pending['id']}/approve", headers=world.sup, json={"reason": "fire at the scene"}
    )
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "active" and body["approval"] == "approved" and body["approved_by"] == "user:sup"
    assert body["urls"] and body["approved_at"] is not None
    assert world.deliveries(world.fire.id)[-1] == "share.created"
    again = eng.http.post(f"/api/v1/shares/{pending['id']}/approve", headers=world.sup, json={})
    assert again.status_code == 409
    with eng.server.uow.writing() as s:
        actions = [a.action for a in s.query(AuditRow).filter(AuditRow.target_id == pending["id"])]
    assert actions[:2] == ["share.create", "share.approve"]


def test_a_supervisor_rejects_with_a_reason_and_nothing_revives_it(world: World) -> None:
    eng = world.eng
    pending = world.share(world.op, world.fire.id, 10)
    no_reason = eng.http.post(f"/api/v1/shares/{pending['id']}/reject", headers=world.sup, json={})
    assert no_reason.status_code == 422
    rejected = eng.http.post(
        f"/api/v1/shares/{pending['id']}/reject", headers=world.sup, json={"reason": "no legal basis shown"}
    ).json()
    assert rejected["status"] == "rejected" and rejected["decision_reason"] == "no legal basis shown"
    assert rejected["urls"] == {}
    assert (
        eng.http.post(f"/api/v1/shares/{pending['id']}/approve", headers=world.sup, json={}).status_code
        == 409
    )
    extend = eng.http.patch(
        f"/api/v1/shares/{pending['id']}", headers=world.sup, json={"minutes": 5, "reason": "r"}
    )
    assert extend.status_code == 409
    assert "share.created" not in world.deliveries(world.fire.id)


def test_an_extension_is_a_decision_with_a_reason(world: World, clock: ManualClock) -> None:
    eng = world.eng
    share = world.share(world.op, world.police.id, 10)
    url = f"/api/v1/shares/{share['id']}"
    assert eng.http.patch(url, headers=world.op, json={"minutes": 10}).status_code == 422  # no reason
    asked = eng.http.patch(
        url, headers=world.op, json={"minutes": 20, "reason": "suspect still there"}
    ).json()
    assert asked["status"] == "active" and asked["expires_at"] == share["expires_at"]
    assert asked["pending_extension_minutes"] == 20
    approved = eng.http.post(f"{url}/approve", headers=world.sup, json={}).json()
    assert approved["expires_at"] > share["expires_at"] and approved["pending_extension_minutes"] is None
    eng.http.patch(url, headers=world.op, json={"minutes": 60, "reason": "more"})
    kept = eng.http.post(f"{url}/reject", headers=world.sup, json={"reason": "enough"}).json()
    assert kept["expires_at"] == approved["expires_at"] and kept["pending_extension_minutes"] is None
    with eng.server.uow.writing() as s:
        rows = list(s.query(AuditRow).filter(AuditRow.target_id == share["id"]).order_by(AuditRow.id))
    extend = next(r for r in rows if r.action == "share.extend")
    assert extend.detail["reason"] == "suspect still there" and extend.detail["requested_by"] == "user:op"
    assert extend.actor == "user:sup"
    assert [r.action for r in rows].count("share.extension.reject") == 1


def test_an_expired_or_revoked_share_is_never_revived(world: World, clock: ManualClock) -> None:
    eng = world.eng
    share = world.share(world.op, world.police.id, 10)
    waiting = world.share(world.op, world.fire.id, 10)
    eng.http.patch(f"/api/v1/shares/{share['id']}", headers=world.op, json={"minutes": 5, "reason": "r"})
    clock.advance(11 * 60)
    for who in (world.op, world.sup):
        r = eng.http.patch(f"/api/v1/shares/{share['id']}", headers=who, json={"minutes": 5, "reason": "r"})
        assert r.status_code == 409 and "expired" in r.json()["detail"]
    # The extension asked before the expiry cannot bring it back either.
    assert (
        eng.http.post(f"/api/v1/shares/{share['id']}/approve", headers=world.sup, json={}).status_code == 409
    )
    revoked = eng.http.delete(f"/api/v1/shares/{waiting['id']}", headers=world.op).json()
    assert revoked["status"] == "revoked"
    assert (
        eng.http.post(f"/api/v1/shares/{waiting['id']}/approve", headers=world.sup, json={}).status_code
        == 409
    )


def test_a_closed_incident_accepts_no_share_extension_approval_or_report(world: World) -> None:
    eng = world.eng
    live = world.share(world.op, world.police.id, 10)
    waiting = world.share(world.op, world.fire.id, 10)
    closed = eng.http.patch(f"/api/v1/incidents/{world.iid}", headers=world.op, json={"status": "closed"})
    assert closed.json()["status"] == "closed"
    new = eng.http.post(
        f"/api/v1/incidents/{world.iid}/shares",
        headers=world.sup,
        json={
            "agency_id": world.police.id,
            "camera_ids": ["CAM-0055"],
            "minutes": 5,
            "purpose": "p",
            "legal_basis": BASIS,
        },
    )
    assert new.status_code == 409 and "closed" in new.json()["detail"]
    ext = eng.http.patch(
        f"/api/v1/shares/{live['id']}", headers=world.sup, json={"minutes": 5, "reason": "r"}
    )
    assert ext.status_code == 409
    assert (
        eng.http.post(f"/api/v1/shares/{waiting['id']}/approve", headers=world.sup, json={}).status_code
        == 409
    )
    report = eng.http.post(
        f"/api/v1/incidents/{world.iid}/reports",
        headers=world.op,
        json={"agency_id": world.fire.id, "kind": "fire", "camera_id": "CAM-0055"},
    )
    assert report.status_code == 409


def test_drills_share_no_real_video(world: World) -> None:
    eng = world.eng
    drill = eng.http.post(
        "/api/v1/requests", headers=world.police.headers, json=request_body("X-1", exercise=True)
    ).json()
    assert drill["incident"]["exercise"] is True and drill["shares"] == []
    did = drill["incident"]["id"]
    r = eng.http.post(
        f"/api/v1/incidents/{did}/shares",
        headers=world.sup,
        json={
            "agency_id": world.police.id,
            "camera_ids": ["CAM-0055"],
            "minutes": 5,
            "purpose": "p",
            "legal_basis": BASIS,
        },
    )
    assert r.status_code == 409 and "drill" in r.json()["detail"]
    report = eng.http.post(
        f"/api/v1/incidents/{did}/reports",
        headers=world.op,
        json={"agency_id": world.fire.id, "kind": "fire", "camera_id": "CAM-0055"},
    )
    assert report.status_code == 409


def test_drills_share_when_the_settings_allow_it(tmp_path: Path) -> None:
    eng = start_engine(tmp_path, provision={"drill_real_video": True})
    try:
        eng.add_cameras(grid_cameras())
        police = eng.add_agency("Jinju 112", AgencyKind.POLICE)
        drill = eng.http.post(
            "/api/v1/requests", headers=police.headers, json=request_body("X-2", exercise=True)
        )
        assert drill.json()["shares"] and drill.json()["shares"][0]["status"] == "active"
    finally:
        eng.close()


def test_an_operator_confirms_an_agency_request_above_its_camera_cap(world: World) -> None:
    """The mechanism issue 12's over-cap area request uses: a share waiting for an operator's confirmation."""
    eng = world.eng
    with eng.server.uow(ADMIN) as work:
        incident = work.session.get(IncidentRow, world.iid)
        agency = work.session.get(AgencyRow, world.police.id)
        assert incident is not None and agency is not None
        row = open_share(
            eng.server.ctx,
            work,
            incident,
            agency,
            ["CAM-0001", "CAM-0002"],
            30,
            "area",
            legal_basis=BASIS,
            requesting_agency_id=agency.id,
            approval="confirm",
        )
        sid = row.id
    detail = eng.http.get(f"/api/v1/incidents/{world.iid}", headers=world.police.headers).json()
    mine = next(s for s in detail["shares"] if s["id"] == sid)
    assert mine["status"] == "pending" and mine["urls"] == {}  # the agency sees it waiting, without video
    assert mine["created_by"] is None and mine["approved_by"] is None  # no operator names for agencies
    assert mine["requesting_agency_id"] == world.police.id and mine["legal_basis"] == BASIS
    confirmed = eng.http.post(f"/api/v1/shares/{sid}/confirm", headers=world.op, json={})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "active" and confirmed.json()["approved_by"] == "user:op"
    assert world.deliveries(world.police.id)[-1] == "share.created"


def test_the_ledger_lists_each_provision_for_supervisors_and_auditors(world: World, tmp_path: Path) -> None:
    eng = world.eng
    pending = world.share(world.op, world.fire.id, 10, requesting_officer="소방위 박", case_number="C-7")
    eng.http.post(f"/api/v1/shares/{pending['id']}/approve", headers=world.sup, json={})
    # A viewing recorded by the media path (video.view: from, to, share).
    with eng.server.uow.writing() as s:
        at = eng.server.clock.now()
        s.add(
            AuditRow(
                at=at,
                actor="agency:Jinju 119",
                action="video.view",
                target_type="camera",
                target_id="CAM-0055",
                client="10.0.0.9",
                detail={
                    "from": (at - timedelta(seconds=95)).isoformat(),
                    "to": at.isoformat(),
                    "share_id": pending["id"],
                    "kind": "share",
                },
            )
        )
    with eng.server.uow.writing() as s:
        cam = s.get(CameraRow, "CAM-0055")
        assert cam is not None
        cam.provider = "경상남도 진주시"  # the register's 관리기관명
    assert eng.http.get("/api/v1/ledger", headers=world.op).status_code == 403
    rows = eng.http.get("/api/v1/ledger", headers=world.aud).json()
    assert eng.http.get("/api/v1/ledger", headers=world.sup).status_code == 200
    row = next(r for r in rows if r["share_id"] == pending["id"])
    assert row["recipient"] == "Jinju 119" and row["purpose"] == "suspect seen"
    assert row["legal_basis"] == BASIS and "제18조 제2항 제3호" in row["legal_basis_title"]
    assert row["form"] == "live view" and row["approver"] == "user:sup" and row["created_by"] == "user:op"
    assert row["requesting_officer"] == "소방위 박" and row["case_number"] == "C-7"
    assert row["period_from"] and row["period_to"]
    assert row["camera_providers"] == ["경상남도 진주시"]
    [view] = row["viewings"]
    assert view["actor"] == "agency:Jinju 119" and view["camera_id"] == "CAM-0055" and view["seconds"] == 95
    assert any(r["share_id"] == world.request_share["id"] for r in rows)
    with eng.server.uow.writing() as s:
        assert s.query(AuditRow).filter(AuditRow.action == "ledger.read").count() == 2

    db = ["--db", eng.server.settings.database_url, "--data-dir", str(eng.server.settings.data_dir)]
    out_csv, out_xlsx = tmp_path / "ledger.csv", tmp_path / "ledger.xlsx"
    for fmt, out in (("csv", out_csv), ("xlsx", out_xlsx)):
        done = subprocess.run(
            [sys.executable, "main.py", "ledger", "export", "--format", fmt, "--out", str(out), *db],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    table = list(csv.reader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))
    head, body = table[0], table[1:]
    assert len(body) == len(rows)
    line = dict(zip(head, next(r for r in body if pending["id"] in r), strict=True))
    assert line["제공받는 자 (recipient)"] == "Jinju 119"
    assert line["승인자 (approver)"] == "user:sup"
    assert line["형태 (form)"] == "live view"
    assert line["관리기관 (camera provider)"] == "경상남도 진주시"
    assert "agency:Jinju 119 CAM-0055" in line["열람 (who watched which camera, when, how long)"]
    assert "(95 s)" in line["열람 (who watched which camera, when, how long)"]
    sheet = load_workbook(out_xlsx).active
    assert sheet is not None
    cells = [[c.value or "" for c in r] for r in sheet.iter_rows()]
    assert cells == [[c for c in r] for r in table]
    future = subprocess.run(
        [sys.executable, "main.py", "ledger", "export", "--from", "2999-01-01", "--out", str(out_csv), *db],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert future.returncode == 0 and "0 provisions" in future.stdout
