"""The operations commands as an administrator runs them: settings check, backup/restore, doctor."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from app.domain.enums import AgencyKind, Role
from app.engine.backup import BackupError, backup, restore
from app.engine.settings import SettingsError, load_settings
from tests.engine.conftest import EngineUnderTest, grid_cameras, request_body, start_engine

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def test_settings_check_names_each_key_its_line_and_what_is_allowed(tmp_path: Path) -> None:
    bad = tmp_path / "settings.toml"
    bad.write_text(
        'port = 8740\n\n[outbox]\n# comment\nconcurrency = 999\n\n[selection]\nnearest_count = "x"\n'
    )
    r = run_cli("settings", "check", str(bad))
    assert r.returncode == 1
    assert "outbox.concurrency (line 5)" in r.stderr and "less than or equal to 256" in r.stderr
    assert "selection.nearest_count (line 8)" in r.stderr
    good = tmp_path / "good.toml"
    good.write_text("[outbox]\nconcurrency = 32\n")
    ok = run_cli("settings", "check", str(good))
    assert ok.returncode == 0, ok.stderr
    assert "valid" in ok.stdout


def test_unknown_key_is_named_with_its_line(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text("[outbox]\nconcurency = 3\n")
    with pytest.raises(SettingsError, match=r"outbox\.concurency \(line 2\): Extra inputs"):
        load_settings(f)


def test_environment_overrides_the_file_key_by_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "s.toml"
    f.write_text("share_minutes = 20\n[outbox]\nconcurrency = 32\nallowed_schemes = ['https']\n")
    monkeypatch.setenv("GOLDENTIME_OUTBOX__CONCURRENCY", "48")
    monkeypatch.setenv("GOLDENTIME_SHARE_MINUTES", "15")
    s = load_settings(f)
    assert s.outbox.concurrency == 48 and s.share_minutes == 15
    assert s.outbox.allowed_schemes == ["https"]  # the rest of the table stays
    monkeypatch.setenv("GOLDENTIME_OUTBOX__CONCURRENCY", "9999")
    with pytest.raises(SettingsError, match=r"outbox\.concurrency"):
        load_settings(f)


def _fill(e: EngineUnderTest, n: int) -> list[str]:
    e.add_cameras(grid_cameras())
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    ids = []
    for i in range(n):
        r = e.http.post("/api/v1/requests", headers=police.headers, json=request_body(f"B-{i}"))
        assert r.status_code == 201, r.text
        ids.append(r.json()["incident"]["id"])
    return ids


def test_backup_while_running_and_restore_round_trip(tmp_path: Path, db_url: str | None) -> None:
    data = tmp_path / "data"
    e = start_engine(data, db_url=db_url)
    try:
        kept = _fill(e, 3)
        key_bytes = (data / "secrets.key").read_bytes()  # the engine's own key, made 0600 at first start
        archive = tmp_path / "out" / "backup.tar.gz"
        manifest = backup(e.server.settings.database_url, data, archive)  # the engine is still running
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        # Every key of the data dir: the secrets key and the audit chain's signing key.
        assert manifest["keys"] == sorted(p.name for p in data.glob("*.key")) and "secrets.key" in manifest["keys"]
        lost = _fill_more(e)
    finally:
        e.close()
    url = e.server.settings.database_url
    (data / "secrets.key").unlink()
    restore(archive, url, data)
    assert (data / "secrets.key").read_bytes() == key_bytes  # sealed secrets are readable again
    e2 = start_engine(data, db_url=db_url)
    try:
        admin = e2.add_user("sup", role=Role.SUPERVISOR)
        listed = {i["id"] for i in e2.http.get("/api/v1/incidents", headers=admin).json()}
        assert set(kept) <= listed and lost not in listed
    finally:
        e2.close()


def _fill_more(e: EngineUnderTest) -> str:
    police = e.add_agency("Other 112", AgencyKind.POLICE)
    r = e.http.post("/api/v1/requests", headers=police.headers, json=request_body("AFTER-BACKUP"))
    assert r.status_code == 201
    return str(r.json()["incident"]["id"])


def test_restore_refuses_a_changed_backup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    e = start_engine(data)
    try:
        _fill(e, 1)
        archive = tmp_path / "b.tar.gz"
        backup(e.server.settings.database_url, data, archive)
    finally:
        e.close()
    # Rewrite the archive with one byte of the database changed.
    tampered = tmp_path / "t.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w:gz") as dst:
        for m in src.getmembers():
            body = src.extractfile(m).read()  # type: ignore[union-attr]
            if m.name == "database.sqlite":
                body = body[:-1] + bytes([body[-1] ^ 1])
            dst.addfile(m, io.BytesIO(body))
    with pytest.raises(BackupError, match=r"database\.sqlite is missing or changed"):
        restore(tampered, e.server.settings.database_url, tmp_path / "elsewhere")


def test_doctor_reports_each_check_and_fails_when_the_engine_is_down(
    engine: EngineUnderTest, tmp_path: Path
) -> None:
    up = run_cli("doctor", "--data-dir", str(tmp_path), "--engine", engine.url)
    lines = up.stdout.splitlines()
    assert any(line.startswith("OK   engine:") for line in lines), up.stdout
    assert any(line.startswith("OK   clock:") for line in lines), up.stdout
    assert {line.split(":")[0].split()[-1] for line in lines} >= {
        "settings",
        "database",
        "fonts",
        "disk",
        "engine",
    }
    assert up.returncode == (1 if any(line.startswith("FAIL") for line in lines) else 0)
    down = run_cli("doctor", "--data-dir", str(tmp_path), "--engine", "http://127.0.0.1:9")
    assert down.returncode == 1
    assert any(
        line.startswith("FAIL engine:") and "not reachable" in line for line in down.stdout.splitlines()
    )
