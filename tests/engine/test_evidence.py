"""The evidence bundle (issue 13): ``incident export`` / ``incident verify`` and
``GET /api/v1/incidents/{id}/evidence`` — round trip, EIDO valid against NENA's schema, shares with their legal
basis and decisions, viewings, snapshots, the audit rows with their chain proof, the signed manifest; and
``verify`` naming a changed byte, a missing or added file, a bad signature and a broken chain link."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.domain.clock import ManualClock
from app.domain.enums import AgencyKind, Role
from app.engine.evidence import CHAIN, CHECKPOINT, EIDO, MANIFEST, ROWS, SIGNATURE, STORED, verify_bundle
from app.formats.eido import validate_eido
from app.store import audit_chain, audit_checkpoint
from app.store.models import AuditRow, ReportRow, ShareRow
from tests.engine.conftest import EngineUnderTest, grid_cameras, request_body, start_engine

BASIS = "pipa-18-2-3"
JPEG = b"\xff\xd8\xff\xe0" + b"snapshot bytes" + b"\xff\xd9"


@pytest.fixture
def eng(tmp_path: Path, db_url: str | None) -> Iterator[EngineUnderTest]:
    e = start_engine(tmp_path / "engine", clock=ManualClock(), db_url=db_url)
    e.add_cameras(grid_cameras())
    yield e
    e.close()


class Case:
    """An incident with an automatic share, a share a supervisor approved, a viewing, a report snapshot."""

    def __init__(self, eng: EngineUnderTest) -> None:
        self.eng = eng
        police = eng.add_agency("Jinju 112", AgencyKind.POLICE)
        self.fire = eng.add_agency("Jinju 119", AgencyKind.FIRE)
        self.op = eng.add_user("op", Role.OPERATOR)
        self.sup = eng.add_user("sup", Role.SUPERVISOR)
        self.aud = eng.add_user("aud", Role.AUDITOR)
        body = eng.http.post("/api/v1/requests", headers=police.headers, json=request_body("E-1")).json()
        self.iid = body["incident"]["id"]
        r = eng.http.post(
            f"/api/v1/incidents/{self.iid}/shares",
            headers=self.op,
            json={
                "agency_id": self.fire.id,
                "camera_ids": ["CAM-0055"],
                "minutes": 10,
                "purpose": "smoke seen",
                "legal_basis": BASIS,
                "requesting_officer": "소방위 박",
                "case_number": "C-9",
            },
        )
        assert r.status_code == 201, r.text
        self.share = r.json()
        assert self.share["status"] == "pending"
        ok = eng.http.post(
            f"/api/v1/shares/{self.share['id']}/approve",
            headers=self.sup,
            json={"reason": "fire at the scene"},
        )
        assert ok.status_code == 200, ok.text
        with eng.server.uow.writing() as s:
            at = eng.server.clock.now()
            audit_chain.add_audit(
                s,
                [
                    dict(
                        at=at,
                        actor="agency:Jinju 119",
                        action="video.view",
                        target_type="camera",
                        target_id="CAM-0055",
                        client="10.0.0.9",
                        detail={
                            "from": (at - timedelta(seconds=95)).isoformat(),
                            "to": at.isoformat(),
                            "share_id": self.share["id"],
                            "kind": "share",
                            "bytes": 123456,
                        },
                    )
                ],
            )
        rep = eng.http.post(
            f"/api/v1/incidents/{self.iid}/reports",
            headers=self.op,
            json={"agency_id": self.fire.id, "kind": "fire", "note": "smoke", "camera_id": "CAM-0055"},
        )
        assert rep.status_code == 201, rep.text
        self.report_id = rep.json()["id"]
        snaps = eng.server.settings.data_dir / "snapshots"
        snaps.mkdir(parents=True, exist_ok=True)
        (snaps / f"{self.report_id}.jpg").write_bytes(JPEG)
        # A checkpoint the engine signs at the time (hourly in a running engine), before the export.
        with eng.server.uow.writing() as s:
            key = audit_checkpoint.signing_key(eng.server.settings.data_dir)
            self.stored = audit_checkpoint.record(s, key, "manual", eng.server.clock.now())
        assert self.stored is not None
        # Something about another incident after ours: its content must stay out of the bundle.
        eng.http.post(
            "/api/v1/requests", headers=police.headers, json=request_body("OTHER-7")
        ).raise_for_status()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        settings = self.eng.server.settings
        db = ["--db", settings.database_url, "--data-dir", str(settings.data_dir)]
        return subprocess.run(
            [sys.executable, "main.py", "incident", *args, *db], capture_output=True, text=True, timeout=180
        )


def _verify(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", "incident", "verify", str(path), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _rewrite(src: Path, dst: Path, change: dict[str, bytes | None]) -> None:
    """Copy a zip, replacing (bytes) or dropping (None) members, plus any new ones in ``change``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in change:
                data = change[info.filename]
                if data is not None:
                    zout.writestr(info.filename, data)
            else:
                zout.writestr(info.filename, zin.read(info.filename))
        for name, data in change.items():
            if name not in zin.namelist() and data is not None:
                zout.writestr(name, data)


def test_export_then_verify_round_trip(eng: EngineUnderTest, tmp_path: Path) -> None:
    case = Case(eng)
    out = tmp_path / "bundle.zip"
    done = case.cli("export", case.iid, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "signed by sha256:" in done.stdout
    ok = _verify(out)
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout and case.iid in ok.stdout

    z = zipfile.ZipFile(out)
    names = set(z.namelist())
    assert {
        EIDO,
        "incident.json",
        "timeline.json",
        "shares.json",
        "viewings.json",
        ROWS,
        CHAIN,
        CHECKPOINT,
        MANIFEST,
        SIGNATURE,
        "README.txt",
        f"snapshots/{case.report_id}.jpg",
    } <= names
    # The incident as NENA EIDO, valid against the schema in /work/shared/standards (vendored copy).
    eido = json.loads(z.read(EIDO))
    assert validate_eido(eido) == []
    assert eido["incidentComponent"]["internalIncidentId"] == case.iid
    # Every share with its legal basis and the decisions on it.
    shares = {s["id"]: s for s in json.loads(z.read("shares.json"))}
    mine = shares[case.share["id"]]
    assert mine["legal_basis"]["id"] == BASIS and "제18조" in mine["legal_basis"]["article"]
    assert mine["approval"] == "approved" and mine["approved_by"] == "user:sup"
    assert mine["decision_reason"] == "fire at the scene" and mine["created_by"] == "user:op"
    assert mine["requesting_officer"] == "소방위 박" and mine["case_number"] == "C-9"
    assert mine["form"] == "live view"
    assert [d["action"] for d in mine["decisions"]][:2] == ["share.create", "share.approve"]
    # The request's automatic share, the approved one, and the report's (snapshot and live view).
    assert len(shares) == 3
    assert [s["form"] for s in shares.values()].count("snapshot and live view") == 1
    # Every viewing from the audit.
    [view] = json.loads(z.read("viewings.json"))
    assert view["viewer"] == "agency:Jinju 119" and view["camera_id"] == "CAM-0055"
    assert view["seconds"] == 95 and view["through"] == "share" and view["client"] == "10.0.0.9"
    assert z.read(f"snapshots/{case.report_id}.jpg") == JPEG
    # No capability token or media URL leaves in a bundle.
    with eng.server.uow.writing() as s:
        tokens = [t for r in s.query(ShareRow) if (t := eng.server.ctx.share_token(r))]  # only hashes stored
    assert tokens
    blob = b"".join(z.read(n) for n in names)
    assert not any(t.encode() in blob for t in tokens)
    # The audit rows with their chain proof, and nothing of the other incident's content.
    rows = json.loads(z.read(ROWS))
    actions = [r["action"] for r in rows]
    assert "incident.create" in actions and "share.approve" in actions and "video.view" in actions
    assert "report.create" in actions or any(r["target_id"] == case.report_id for r in rows)
    assert b"OTHER-7" not in z.read(ROWS)
    for r in rows:
        assert r["row_hash"] and len(r["prev_hash"]) == 64
    links = [json.loads(line) for line in z.read(CHAIN).splitlines()]
    cp = json.loads(z.read(CHECKPOINT))
    assert [cp["row_id"], cp["row_hash"]] == [links[-1][0], links[-1][2]]
    [stored] = json.loads(z.read(STORED))  # the engine's own checkpoint, signed before the export
    assert (stored["row_id"], stored["row_hash"]) == (case.stored["row_id"], case.stored["row_hash"])
    assert stored["row_id"] < cp["row_id"] and "1 checkpoint(s) the engine signed" in ok.stdout
    with eng.server.uow.writing() as s:
        db_rows = {r.id: (r.prev_hash, r.row_hash) for r in s.query(AuditRow)}
    assert all(db_rows[i] == (p, h) for i, p, h in links)  # the proof is the database's own chain
    manifest = json.loads(z.read(MANIFEST))
    assert manifest["public_key"] == audit_checkpoint.public_hex(eng.server.settings.data_dir)
    assert set(manifest["files"]) == names - {MANIFEST, SIGNATURE}
    # The export itself is audited, with the digest of what was given out.
    with eng.server.uow.writing() as s:
        exp = s.query(AuditRow).filter(AuditRow.action == "incident.export").one()
    assert exp.target_id == case.iid and len(exp.detail["manifest_sha256"]) == 64
    # The right key passes, another is named.
    assert _verify(out, "--key", manifest["key_fingerprint"]).returncode == 0
    wrong = _verify(out, "--key", "sha256:" + "0" * 64)
    assert wrong.returncode == 1 and "not by the expected key" in wrong.stderr
    # A checkpoint kept off the machine, taken before the export, is checked against the bundle's chain.
    cp_file = tmp_path / "cp.json"
    cp_file.write_text(json.dumps(cp))
    assert "matches the bundle's chain" in _verify(out, "--checkpoint", str(cp_file)).stdout


def test_verify_names_a_changed_byte_a_missing_or_added_file_and_a_bad_signature(
    engine: EngineUnderTest, tmp_path: Path
) -> None:
    engine.add_cameras(grid_cameras())
    case = Case(engine)
    out = tmp_path / "bundle.zip"
    assert case.cli("export", case.iid, "--out", str(out)).returncode == 0
    assert verify_bundle(out).ok
    z = zipfile.ZipFile(out)

    # One byte changed in a file (re-zipped, so only the manifest's digest can tell).
    timeline = bytearray(z.read("timeline.json"))
    timeline[len(timeline) // 2] ^= 0x01
    bad = tmp_path / "changed.zip"
    _rewrite(out, bad, {"timeline.json": bytes(timeline)})
    r = _verify(bad)
    assert r.returncode == 1 and "timeline.json: changed" in r.stderr

    # One byte flipped in the zip file itself, inside the snapshot's stored data.
    raw = bytearray(out.read_bytes())
    info = z.getinfo(f"snapshots/{case.report_id}.jpg")
    raw[info.header_offset + 30 + len(info.filename) + (info.compress_size // 2)] ^= 0x40
    flipped = tmp_path / "flipped.zip"
    flipped.write_bytes(bytes(raw))
    report = verify_bundle(flipped)
    assert not report.ok and any(f"snapshots/{case.report_id}.jpg" in p for p in report.problems)

    missing = tmp_path / "missing.zip"
    _rewrite(out, missing, {"viewings.json": None})
    r = _verify(missing)
    assert r.returncode == 1 and "viewings.json: missing" in r.stderr

    added = tmp_path / "added.zip"
    _rewrite(out, added, {"extra.txt": b"planted"})
    assert any("extra.txt: not in the manifest" in p for p in verify_bundle(added).problems)

    # The manifest edited to match a changed file: the signature no longer holds.
    manifest = json.loads(z.read(MANIFEST))
    manifest["files"]["timeline.json"]["sha256"] = hashlib.sha256(bytes(timeline)).hexdigest()
    forged = tmp_path / "forged.zip"
    _rewrite(out, forged, {"timeline.json": bytes(timeline), MANIFEST: json.dumps(manifest).encode()})
    r = _verify(forged)
    assert r.returncode == 1 and "manifest.sig" in r.stderr and "invalid" in r.stderr

    # Re-signed with another key: verify passes only without --key, and names the other fingerprint.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate()
    from app.engine.evidence import fingerprint

    pub = other.public_key().public_bytes_raw().hex()
    manifest["public_key"], manifest["key_fingerprint"] = pub, fingerprint(pub)
    body = json.dumps(manifest).encode()
    resigned = tmp_path / "resigned.zip"
    _rewrite(
        out,
        resigned,
        {"timeline.json": bytes(timeline), MANIFEST: body, SIGNATURE: other.sign(body).hex().encode()},
    )
    rep = verify_bundle(resigned)
    assert any(CHECKPOINT in p for p in rep.problems)  # the checkpoint is signed by the engine's key
    real = json.loads(z.read(MANIFEST))["key_fingerprint"]
    assert any("expected key" in p for p in verify_bundle(resigned, expect_key=real).problems)


def test_verify_names_a_changed_audit_row_and_a_broken_link(engine: EngineUnderTest, tmp_path: Path) -> None:
    """The chain proof is checked on its own too: an audit row edited in the bundle (manifest re-signed by
    the engine's own key, as a forger holding the key would) still fails its hash and its links."""
    engine.add_cameras(grid_cameras())
    case = Case(engine)
    out = tmp_path / "bundle.zip"
    assert case.cli("export", case.iid, "--out", str(out)).returncode == 0
    z = zipfile.ZipFile(out)
    key = audit_checkpoint.signing_key(engine.server.settings.data_dir)

    def resign(changes: dict[str, bytes]) -> Path:
        manifest = json.loads(z.read(MANIFEST))
        for name, data in changes.items():
            manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        body = json.dumps(manifest).encode()
        dst = tmp_path / f"resigned-{len(list(tmp_path.iterdir()))}.zip"
        _rewrite(out, dst, {**changes, MANIFEST: body, SIGNATURE: key.sign(body).hex().encode()})
        return dst

    rows = json.loads(z.read(ROWS))
    approve = next(r for r in rows if r["action"] == "share.approve")
    approve["actor"] = "user:somebody-else"
    r = _verify(resign({ROWS: json.dumps(rows).encode()}))
    assert r.returncode == 1 and f"audit row {approve['id']}: content changed" in r.stderr

    # The chain rewritten from the stored checkpoint's row on, and the head checkpoint re-signed: the
    # checkpoint the engine signed at the time no longer matches.
    links = z.read(CHAIN).splitlines()
    stored = json.loads(z.read(STORED))[0]
    at = next(i for i, line in enumerate(links) if json.loads(line)[0] == stored["row_id"])
    forged_links = [json.loads(line) for line in links]
    prev = forged_links[at][1]
    for link in forged_links[at:]:
        link[1], link[2] = prev, hashlib.sha256((prev + "forged").encode()).hexdigest()
        prev = link[2]
    head = audit_checkpoint.make(key, forged_links[-1][0], forged_links[-1][2], engine.server.clock.now())
    r = _verify(
        resign(
            {
                CHAIN: b"".join(json.dumps(x).encode() + b"\n" for x in forged_links),
                CHECKPOINT: json.dumps(head).encode(),
            }
        )
    )
    assert r.returncode == 1 and f"row {stored['row_id']} does not match the chain links" in r.stderr

    dropped = b"\n".join(links[:2] + links[3:]) + b"\n"  # a row deleted from the chain
    second = json.loads(links[2])[0]
    r = _verify(resign({CHAIN: dropped}))
    assert r.returncode == 1 and "audit chain broken between rows" in r.stderr
    assert str(second) not in r.stderr or "does not follow" in r.stderr


def test_the_console_route_gives_the_bundle_to_supervisors_and_auditors(
    engine: EngineUnderTest, tmp_path: Path
) -> None:
    engine.add_cameras(grid_cameras())
    case = Case(engine)
    url = f"/api/v1/incidents/{case.iid}/evidence"
    assert engine.http.get(url, headers=case.op).status_code == 403
    assert engine.http.get(url, headers=case.fire.headers).status_code == 403
    assert engine.http.get(url).status_code == 401
    r = engine.http.get(url, headers=case.aud)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert case.iid in r.headers["content-disposition"]
    report = verify_bundle(io.BytesIO(r.content))
    assert report.ok, report.problems
    assert report.incident_id == case.iid
    missing = engine.http.get("/api/v1/incidents/INC-nope/evidence", headers=case.sup)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(
        "application/problem+json"
    )
    with engine.server.uow.writing() as s:
        rows = s.query(AuditRow).filter(AuditRow.action == "incident.export").all()
    assert [(x.actor, x.target_id) for x in rows] == [("user:aud", case.iid)]
    with engine.server.uow.writing() as s:
        assert s.get(ReportRow, case.report_id) is not None


def test_a_viewing_start_and_its_end_are_one_viewing_and_a_start_alone_stays_open() -> None:
    from app.engine.evidence import _viewings

    def row(i: int, action: str, **detail: object) -> dict[str, object]:
        return {
            "id": i,
            "at": "2026-12-06T01:00:00.000000Z",
            "actor": "agency:Jinju 119",
            "action": action,
            "target_id": "CAM-1",
            "client": "10.0.0.9",
            "detail": {"share_id": "shr_1", "kind": "share", **detail},
        }

    rows = [
        row(1, "video.view.start", viewing="vw_a", **{"from": "2026-12-06T01:00:00+00:00"}),
        row(2, "video.view.start", viewing="vw_b", **{"from": "2026-12-06T01:00:05+00:00"}),
        row(
            3,
            "video.view",
            viewing="vw_a",
            bytes=10,
            **{"from": "2026-12-06T01:00:00.300000+00:00", "to": "2026-12-06T01:01:00.300000+00:00"},
        ),
    ]
    open_, ended = sorted(_viewings(rows, {"shr_1"}), key=lambda v: v["audit_row"])
    assert ended["audit_row"] == 3 and ended["seconds"] == 60 and ended["through"] == "share"
    assert open_["audit_row"] == 2 and open_["to"] is None and open_["seconds"] is None


def test_the_commands_name_an_unknown_incident_and_a_file_that_is_no_bundle(
    engine: EngineUnderTest, tmp_path: Path
) -> None:
    settings = engine.server.settings
    db = ["--db", settings.database_url, "--data-dir", str(settings.data_dir)]
    out = tmp_path / "none.zip"
    done = subprocess.run(
        [sys.executable, "main.py", "incident", "export", "INC-nope", "--out", str(out), *db],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "no incident 'INC-nope'" in done.stderr and not out.exists()
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    r = _verify(junk)
    assert r.returncode == 1 and "not a readable zip" in r.stderr
    r = _verify(tmp_path / "missing.zip")
    assert r.returncode == 2 and "no such file" in r.stderr
