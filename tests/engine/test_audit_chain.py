"""The tamper-evident audit chain: `audit verify` catches rows changed, deleted or inserted directly in the
database with the append-only triggers dropped (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from app.domain.enums import AgencyKind
from tests.engine.conftest import grid_cameras, request_body, start_engine

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=dict(os.environ),
    )


def _filled(data: Path, db_url: str | None) -> str:
    e = start_engine(data, db_url=db_url)
    try:
        e.add_cameras(grid_cameras())
        police = e.add_agency("Jinju 112", AgencyKind.POLICE)
        for i in range(3):
            r = e.http.post("/api/v1/requests", headers=police.headers, json=request_body(f"C-{i}"))
            assert r.status_code == 201, r.text
        return e.server.settings.database_url
    finally:
        e.close()


def _drop_triggers(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text("DROP TRIGGER audit_no_update"))
        conn.execute(sa.text("DROP TRIGGER audit_no_delete"))
    else:
        conn.execute(sa.text("DROP TRIGGER audit_append_only ON audit"))


def _ids(url: str) -> list[int]:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as c:
            return [int(i) for i in c.execute(sa.text("SELECT id FROM audit ORDER BY id")).scalars()]
    finally:
        eng.dispose()


def _tamper(url: str, sql: str, **params: object) -> None:
    eng = sa.create_engine(url)
    try:
        with eng.begin() as c:
            _drop_triggers(c)
            c.execute(sa.text(sql), params)
    finally:
        eng.dispose()


def _verify(data: Path, url: str) -> subprocess.CompletedProcess[str]:
    return _cli("audit", "verify", "--data-dir", str(data), "--db", url)


def test_verify_names_a_changed_a_deleted_and_an_inserted_row(tmp_path: Path, db_url: str | None) -> None:
    data = tmp_path / "data"
    url = _filled(data, db_url)
    ok = _verify(data, url)
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    ids = _ids(url)
    assert len(ids) >= 6

    # Changed: the actor of one row rewritten.
    changed = ids[2]
    _tamper(url, "UPDATE audit SET actor = 'someone-else' WHERE id = :i", i=changed)
    r = _verify(data, url)
    assert r.returncode == 1
    first = next(line for line in r.stderr.splitlines() if "BROKEN" in line)
    assert f"row {changed}:" in first and "content changed" in first


def test_verify_catches_each_kind(tmp_path: Path, db_url: str | None) -> None:
    for kind in ("deleted", "inserted-unchained", "inserted-forged-link"):
        data = tmp_path / kind
        url = _filled(data, db_url if db_url is None else _fresh(db_url))
        ids = _ids(url)
        if kind == "deleted":
            _tamper(url, "DELETE FROM audit WHERE id = :i", i=ids[3])
            expect = ids[4]
        elif kind == "inserted-unchained":
            _tamper(
                url,
                "INSERT INTO audit (at, actor, action, target_type, target_id, client, detail) "
                "SELECT at, actor, action, target_type, target_id, client, detail FROM audit WHERE id = :i",
                i=ids[0],
            )
            expect = max(_ids(url))
        else:
            # A row copied with its chain columns: it claims to follow a row it does not follow.
            _tamper(
                url,
                "INSERT INTO audit (at, actor, action, target_type, target_id, client, detail, prev_hash, "
                "row_hash) SELECT at, actor, action, target_type, target_id, client, detail, prev_hash, "
                "row_hash FROM audit WHERE id = :i",
                i=ids[1],
            )
            expect = max(_ids(url))
        r = _verify(data, url)
        assert r.returncode == 1, (kind, r.stdout)
        first = next(line for line in r.stderr.splitlines() if "BROKEN" in line)
        assert f"row {expect}:" in first, (kind, r.stderr)


def _fresh(_pg: str) -> str:
    from tests.engine.conftest import fresh_pg_database

    return fresh_pg_database()


def test_a_whole_chain_rewrite_is_caught_by_a_signed_checkpoint(tmp_path: Path) -> None:
    from app.store import audit_chain

    data = tmp_path / "data"
    url = _filled(data, None)
    cp = tmp_path / "offsite" / "cp.json"
    cp.parent.mkdir()
    made = _cli("audit", "checkpoint", "--out", str(cp), "--data-dir", str(data), "--db", url)
    assert made.returncode == 0, made.stderr
    assert (data / "audit-signing.key").stat().st_mode & 0o777 == 0o600
    assert (
        _cli("audit", "verify", "--data-dir", str(data), "--db", url, "--checkpoint", str(cp)).returncode == 0
    )

    # Rewrite row 2 and recompute every hash after it: the chain alone is consistent again.
    eng = sa.create_engine(url)
    with eng.begin() as c:
        _drop_triggers(c)
        c.execute(sa.text("UPDATE audit SET actor = 'forger' WHERE id = 2"))
        from datetime import datetime as _dt

        rows = (
            c.execute(
                sa.text(
                    "SELECT id, at, actor, action, target_type, target_id, client, detail FROM audit ORDER BY id"
                )
            )
            .mappings()
            .all()
        )
        prev = audit_chain.GENESIS
        for r in rows:
            d = dict(r)
            d["detail"] = json.loads(d["detail"]) if isinstance(d["detail"], str) else d["detail"]
            d["at"] = _dt.fromisoformat(d["at"]) if isinstance(d["at"], str) else d["at"]
            h = audit_chain.row_hash(d, prev)
            c.execute(
                sa.text("UPDATE audit SET prev_hash = :p, row_hash = :h WHERE id = :i"),
                {"p": prev, "h": h, "i": r["id"]},
            )
            prev = h
    eng.dispose()
    # The engine's own checkpoint (written at its shutdown) catches it already…
    stored = _verify(data, url)
    assert stored.returncode == 1 and "stored checkpoint" in stored.stderr and "rewritten" in stored.stderr
    # …unless the forger also deletes the stored checkpoints: then only one kept off the machine can.
    eng = sa.create_engine(url)
    with eng.begin() as c:
        if c.dialect.name == "sqlite":
            c.execute(sa.text("DROP TRIGGER audit_checkpoints_no_delete"))
        else:
            c.execute(sa.text("DROP TRIGGER audit_checkpoints_append_only ON audit_checkpoints"))
        c.execute(sa.text("DELETE FROM audit_checkpoints"))
    eng.dispose()
    alone = _verify(data, url)
    assert alone.returncode == 0, alone.stderr  # the limit of a bare chain
    r = _cli("audit", "verify", "--data-dir", str(data), "--db", url, "--checkpoint", str(cp))
    assert r.returncode == 1
    assert "rewritten" in r.stderr

    # A checkpoint file changed by hand fails its signature.
    forged = tmp_path / "forged.json"
    forged.write_text(cp.read_text().replace('"row_id": ', '"row_id": 1', 1))
    r = _cli("audit", "verify", "--data-dir", str(data), "--db", url, "--checkpoint", str(forged))
    assert r.returncode == 1 and "signature" in r.stderr


def test_the_engine_makes_its_key_at_first_start_and_signs_checkpoints_periodically_and_at_shutdown(
    tmp_path: Path, db_url: str | None
) -> None:
    import time

    from app.engine.retention_settings import AuditSettings

    data = tmp_path / "data"
    e = start_engine(data, db_url=db_url, audit=AuditSettings(checkpoint_interval_minutes=0.005))
    url = e.server.settings.database_url
    try:
        key = data / "audit-signing.key"
        assert key.exists() and key.stat().st_mode & 0o777 == 0o600  # before any checkpoint was asked for
        police = e.add_agency("Jinju 112", AgencyKind.POLICE)
        e.add_cameras(grid_cameras())
        r = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("CP-1"))
        assert r.status_code == 201, r.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            eng = sa.create_engine(url)
            with eng.connect() as c:
                periodic = c.execute(
                    sa.text("SELECT count(*) FROM audit_checkpoints WHERE reason = 'periodic'")
                ).scalar_one()
            eng.dispose()
            if periodic:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("no periodic checkpoint was written")
    finally:
        e.close()
    key_bytes = key.read_bytes()
    # A second start (hourly checkpoints): the same key; the head at shutdown is signed.
    e = start_engine(data, db_url=url)
    try:
        r = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("CP-2"))
        assert r.status_code == 201, r.text
    finally:
        e.close()
    assert key.read_bytes() == key_bytes
    eng = sa.create_engine(url)
    with eng.connect() as c:
        reasons = list(c.execute(sa.text("SELECT reason FROM audit_checkpoints ORDER BY id")).scalars())
        head = c.execute(sa.text("SELECT max(id) FROM audit")).scalar_one()
        last_cp = c.execute(
            sa.text("SELECT row_id FROM audit_checkpoints ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    eng.dispose()
    assert "periodic" in reasons and reasons[-1] == "shutdown" and last_cp == head
    jsonl = data / "audit-checkpoints" / "checkpoints.jsonl"
    lines = [json.loads(x) for x in jsonl.read_text().splitlines()]
    assert len(lines) == len(reasons)
    ok = _cli("audit", "verify", "--data-dir", str(data), "--db", url, "--checkpoint", str(jsonl))
    assert ok.returncode == 0, ok.stderr
    assert f"{2 * len(reasons)} checkpoints hold" in ok.stdout
