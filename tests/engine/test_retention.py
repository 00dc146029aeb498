"""The retention policy (``retention run --as-of``) on SQLite and PostgreSQL: nothing younger than the
policy is deleted, every run is audited with its counts, old audit rows leave only into a signed archive
segment after which ``audit verify`` still passes from the archived checkpoint, ``audit verify --archive``
checks the segments and their join, and a changed byte in a segment is caught."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from app.domain.enums import AgencyKind, Role
from app.engine.retention_settings import RetentionSettings
from tests.engine.conftest import grid_cameras, request_body, start_engine

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=dict(os.environ),
    )


def _counts(url: str) -> dict[str, int]:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as c:
            return {
                t: int(c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in ("track_points", "deliveries", "live_events", "sessions", "audit", "incidents")
            }
    finally:
        eng.dispose()


def _scalar(url: str, sql: str, **params: object) -> object:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as c:
            return c.execute(sa.text(sql), params).scalar()
    finally:
        eng.dispose()


def _world(data: Path, db_url: str | None) -> tuple[str, str, str]:
    """Two 112-dispatch incidents with location tracks and webhooks; one closed. A logged-out session.
    Returns (database URL, closed incident id, open incident id)."""
    e = start_engine(data, db_url=db_url)
    try:
        e.add_cameras(grid_cameras())
        police = e.add_agency("Jinju 112", AgencyKind.POLICE)
        ids = []
        for ext in ("R-closed", "R-open"):
            r = e.http.post(
                "/api/v1/requests", headers=police.headers, json=request_body(ext, "112-dispatch")
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["incident"]["id"])
        op = e.add_user("op", Role.OPERATOR)
        reports = []
        for iid in ids:  # a report with a camera: the relay stores its snapshot as <report>.jpg
            cam = e.http.get(f"/api/v1/incidents/{iid}", headers=op).json()["cameras"][0]["id"]
            rep = e.http.post(
                f"/api/v1/incidents/{iid}/reports",
                headers=op,
                json={"agency_id": police.id, "kind": "fire", "note": "n", "camera_id": cam},
            )
            assert rep.status_code == 201, rep.text
            reports.append(rep.json()["id"])
        closed = e.http.patch(f"/api/v1/incidents/{ids[0]}", headers=op, json={"status": "closed"})
        assert closed.status_code == 200, closed.text
        assert e.http.delete("/api/v1/sessions", headers=op).status_code == 204
        url = e.server.settings.database_url
    finally:
        e.close()
    for rid in reports:  # what the relay writes (the simulated cameras here have no stream)
        (data / "snapshots").mkdir(exist_ok=True)
        (data / "snapshots" / f"{rid}.jpg").write_bytes(b"\xff\xd8 jpeg")
    return url, ids[0], ids[1]


def _retention(data: Path, url: str, as_of: datetime) -> dict[str, object]:
    r = _cli("retention", "run", "--as-of", as_of.isoformat(), "--data-dir", str(data), "--db", url)
    assert r.returncode == 0, r.stderr
    out: dict[str, object] = json.loads(r.stdout)
    return out


def _verify(data: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return _cli("audit", "verify", "--data-dir", str(data), "--db", url, *extra)


def test_retention_as_of_keeps_the_young_deletes_the_old_and_the_chain_verifies(
    tmp_path: Path, db_url: str | None
) -> None:
    data = tmp_path / "data"
    url, closed_id, open_id = _world(data, db_url)
    now = datetime.now(UTC)
    before = _counts(url)
    assert before["track_points"] >= 2 and before["deliveries"] >= 2 and before["sessions"] >= 1
    tracks_closed = int(
        _scalar(url, "SELECT count(*) FROM track_points WHERE incident_id = :i", i=closed_id)  # type: ignore[arg-type]
    )
    assert tracks_closed >= 1

    # Day 6: younger than every rule; nothing goes.
    out = _retention(data, url, now + timedelta(days=6))
    after6 = _counts(url)
    assert {k: after6[k] for k in ("track_points", "deliveries", "live_events", "sessions")} == {
        k: before[k] for k in ("track_points", "deliveries", "live_events", "sessions")
    }
    deleted = out["deleted"]
    assert isinstance(deleted, dict)
    assert all(v["count"] == 0 for v in deleted.values())

    # Day 8: live events (all but the newest) and the ended session go; tracks and webhooks stay (30 days).
    out = _retention(data, url, now + timedelta(days=8))
    after8 = _counts(url)
    assert after8["live_events"] == 1
    assert after8["sessions"] == 0
    assert after8["track_points"] == before["track_points"]
    assert after8["deliveries"] == before["deliveries"]
    deleted = out["deleted"]
    assert isinstance(deleted, dict)
    assert deleted["live_events"]["count"] == before["live_events"] - 1
    assert deleted["sessions"]["count"] == before["sessions"]

    # Day 31: the closed incident's tracks and webhooks go; the open incident keeps everything.
    out = _retention(data, url, now + timedelta(days=31))
    after31 = _counts(url)
    assert _scalar(url, "SELECT count(*) FROM track_points WHERE incident_id = :i", i=closed_id) == 0
    assert _scalar(url, "SELECT count(*) FROM deliveries WHERE incident_id = :i", i=closed_id) == 0
    assert _scalar(url, "SELECT count(*) FROM track_points WHERE incident_id = :i", i=open_id) == 1
    assert int(_scalar(url, "SELECT count(*) FROM deliveries WHERE incident_id = :i", i=open_id) or 0) >= 1  # type: ignore[arg-type]
    assert after31["incidents"] == before["incidents"]
    deleted = out["deleted"]
    assert isinstance(deleted, dict)
    assert deleted["track_points"]["count"] == tracks_closed
    assert deleted["snapshots"]["count"] == 1
    left = list((data / "snapshots").glob("*.jpg"))
    assert len(left) == 1
    assert _scalar(url, "SELECT incident_id FROM reports WHERE id = :r", r=left[0].stem) == open_id

    # Each run is itself audited: what, how many, up to when.
    eng = sa.create_engine(url)
    with eng.connect() as c:
        runs = [
            r.detail if isinstance(r.detail, dict) else json.loads(r.detail)
            for r in c.execute(sa.text("SELECT detail FROM audit WHERE action = 'retention.run' ORDER BY id"))
        ]
    eng.dispose()
    assert len(runs) == 3
    assert runs[1]["deleted"]["sessions"]["count"] == before["sessions"]
    assert runs[2]["deleted"]["track_points"] == {
        "count": tracks_closed,
        "incidents_closed_before": (now + timedelta(days=31) - timedelta(days=30)).isoformat(),
    }
    assert _verify(data, url).returncode == 0


def test_old_audit_leaves_only_into_a_signed_segment_and_the_chain_still_verifies(
    tmp_path: Path, db_url: str | None
) -> None:
    data = tmp_path / "data"
    url, _, _ = _world(data, db_url)
    now = datetime.now(UTC)
    n_audit = _counts(url)["audit"]
    newest = int(_scalar(url, "SELECT max(id) FROM audit"))  # type: ignore[arg-type]

    # Day 729: the audit is younger than two years; nothing is archived.
    out = _retention(data, url, now + timedelta(days=729))
    assert out["archive"] is None
    assert _counts(url)["audit"] == n_audit + 1  # the run's own row

    # Day 731: every row but the newest leaves, into a sealed segment.
    out = _retention(data, url, now + timedelta(days=731))
    archive = out["archive"]
    assert isinstance(archive, dict)
    assert archive["first_id"] == 1 and archive["last_id"] == newest
    assert _scalar(url, "SELECT min(id) FROM audit") == newest + 1
    seg_dir = data / "audit-archive"
    segs = sorted(seg_dir.glob("audit-*.jsonl"))
    seals = sorted(seg_dir.glob("audit-*.seal.json"))
    assert len(segs) == 1 and len(seals) == 1
    assert len(segs[0].read_bytes().splitlines()) == newest

    # The chain still verifies, from the archived checkpoint on; with the archive, the join too.
    ok = _verify(data, url)
    assert ok.returncode == 0, ok.stderr
    assert f"after archived row {newest}" in ok.stdout
    ok = _verify(data, url, "--archive", str(seg_dir))
    assert ok.returncode == 0, ok.stderr
    assert "1 segments" in ok.stdout

    # The deletion was audited by the run that made it.
    last = _scalar(url, "SELECT detail FROM audit WHERE action = 'retention.run' ORDER BY id DESC LIMIT 1")
    detail = last if isinstance(last, dict) else json.loads(str(last))
    assert detail["deleted"]["audit"]["count"] == newest
    assert detail["archive"]["last_id"] == newest

    # A changed byte in the segment is caught.
    raw = bytearray(segs[0].read_bytes())
    i = raw.index(b'"actor":"') + len(b'"actor":"')
    raw[i] = ord("X") if raw[i] != ord("X") else ord("Y")
    segs[0].write_bytes(bytes(raw))
    bad = _verify(data, url, "--archive", str(seg_dir))
    assert bad.returncode == 1
    assert segs[0].name in bad.stderr and "SHA-256" in bad.stderr

    # Even with the seal's digest fixed up, the signature and then the rows' hashes give it away.
    seal = json.loads(seals[0].read_text())
    import hashlib

    seal["sha256"] = hashlib.sha256(bytes(raw)).hexdigest()
    seals[0].write_text(json.dumps(seal))
    bad = _verify(data, url, "--archive", str(seg_dir))
    assert bad.returncode == 1 and "signature" in bad.stderr


def test_the_database_refuses_to_delete_an_audit_row_no_archive_holds(
    tmp_path: Path, db_url: str | None
) -> None:
    data = tmp_path / "data"
    url, _, _ = _world(data, db_url)
    eng = sa.create_engine(url)
    try:
        with eng.begin() as c:
            try:
                c.execute(sa.text("DELETE FROM audit WHERE id = 1"))
                raise AssertionError("the delete went through")
            except sa.exc.DBAPIError as exc:
                assert "append-only" in str(exc)
    finally:
        eng.dispose()


def test_a_deleted_live_row_after_the_archive_is_caught(tmp_path: Path, db_url: str | None) -> None:
    data = tmp_path / "data"
    url, _, _ = _world(data, db_url)
    now = datetime.now(UTC)
    _retention(data, url, now + timedelta(days=731))
    first_live = int(_scalar(url, "SELECT min(id) FROM audit"))  # type: ignore[arg-type]
    eng = sa.create_engine(url)
    with eng.begin() as c:
        if c.dialect.name == "sqlite":
            c.execute(sa.text("DROP TRIGGER audit_no_delete"))
        else:
            c.execute(sa.text("DROP TRIGGER audit_append_only ON audit"))
        c.execute(sa.text("DELETE FROM audit WHERE id = :i"), {"i": first_live})
    eng.dispose()
    r = _verify(data, url)
    assert r.returncode == 1
    assert f"row {first_live + 1}:" in r.stderr


def test_the_engine_runs_the_policy_itself(tmp_path: Path, db_url: str | None) -> None:
    e = start_engine(tmp_path, db_url=db_url, retention=RetentionSettings(first_run_delay_s=0))
    try:
        url = e.server.settings.database_url
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if _scalar(url, "SELECT count(*) FROM audit WHERE action = 'retention.run'"):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the engine did not run the retention policy")
    finally:
        e.close()


def test_segments_follow_each_other_and_a_missing_one_is_named(tmp_path: Path, db_url: str | None) -> None:
    data = tmp_path / "data"
    url, _, _ = _world(data, db_url)
    now = datetime.now(UTC)
    first = _retention(data, url, now + timedelta(days=731))["archive"]
    second = _retention(data, url, now + timedelta(days=2000))["archive"]
    assert isinstance(first, dict) and isinstance(second, dict)
    assert second["first_id"] == first["last_id"] + 1
    seg_dir = data / "audit-archive"
    ok = _verify(data, url, "--archive", str(seg_dir))
    assert ok.returncode == 0, ok.stderr
    assert "2 segments" in ok.stdout

    # Without its first segment the archive no longer starts at genesis.
    for f in seg_dir.glob(f"audit-{1:012d}-*"):
        f.unlink()
    bad = _verify(data, url, "--archive", str(seg_dir))
    assert bad.returncode == 1 and "genesis" in bad.stderr


def test_a_broken_chain_is_never_archived(tmp_path: Path, db_url: str | None) -> None:
    data = tmp_path / "data"
    url, _, _ = _world(data, db_url)
    eng = sa.create_engine(url)
    with eng.begin() as c:
        if c.dialect.name == "sqlite":
            c.execute(sa.text("DROP TRIGGER audit_no_update"))
        else:
            c.execute(sa.text("DROP TRIGGER audit_append_only ON audit"))
        c.execute(sa.text("UPDATE audit SET actor = 'forger' WHERE id = 3"))
    eng.dispose()
    n = _counts(url)["audit"]
    r = _cli(
        "retention",
        "run",
        "--as-of",
        (datetime.now(UTC) + timedelta(days=800)).isoformat(),
        "--data-dir",
        str(data),
        "--db",
        url,
    )
    assert r.returncode == 1
    assert "row 3" in r.stderr and "not archiving" in r.stderr
    assert _counts(url)["audit"] == n + 1  # nothing left; the refused run is itself audited
    assert not list((data / "audit-archive").glob("audit-*.jsonl"))
