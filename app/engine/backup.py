"""Backup and restore of an engine's data: the database and the key files beside it.

A backup is one ``.tar.gz``: ``manifest.json`` (version, database kind, time, SHA-256 of every member), the
database (SQLite through its online backup API, consistent while the engine writes; PostgreSQL through
``pg_dump --format=custom``), and every ``*.key`` / ``*.pem`` file of the data dir (without the keys that
encrypt secrets and sign the audit, a restored database is of no use). The file is written ``0600``: it
holds those keys.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from app import __version__

KEY_PATTERNS = ("*.key", "*.pem")


class BackupError(RuntimeError):
    pass


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise BackupError("the SQLite URL names no file")
    return Path(database)


def _libpq(url: str) -> str:
    """``postgresql+psycopg://…`` → ``postgresql://…`` for pg_dump / pg_restore."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def backup(db_url: str, data_dir: Path, out: Path) -> dict[str, object]:
    """Write a backup of ``db_url`` and the data dir's keys to ``out``; returns the manifest."""
    with tempfile.TemporaryDirectory(prefix="goldentime-backup-") as tmp:
        staging = Path(tmp)
        if db_url.startswith("sqlite"):
            kind, member = "sqlite", "database.sqlite"
            source = sqlite3.connect(_sqlite_path(db_url))
            target = sqlite3.connect(staging / member)
            try:
                source.backup(target)  # the online backup API: a consistent copy while writers go on
            finally:
                target.close()
                source.close()
        elif db_url.startswith("postgresql"):
            kind, member = "postgresql", "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={staging / member}", _libpq(db_url)])
        else:
            raise BackupError(f"cannot back up a {make_url(db_url).get_backend_name()} database")
        keys = []
        for pattern in KEY_PATTERNS:
            for key in sorted(data_dir.glob(pattern)):
                shutil.copy2(key, staging / f"keys__{key.name}")
                keys.append(key.name)
        members = sorted(p.name for p in staging.iterdir())
        manifest: dict[str, object] = {
            "format": "goldentime-backup/1",
            "version": __version__,
            "database": kind,
            "created_at": datetime.now(UTC).isoformat(),
            "keys": keys,
            "sha256": {name: _digest(staging / name) for name in members},
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            body = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mode = len(body), 0o600
            tar.addfile(info, io.BytesIO(body))
            for name in members:
                tar.add(staging / name, arcname=name)
        return manifest


def restore(archive: Path, db_url: str, data_dir: Path) -> dict[str, object]:
    """Put a backup back: the database (the engine must be stopped) and the keys. Checks every digest first.

    SQLite: the current file is kept beside it as ``<name>.before-restore-<time>``. PostgreSQL: the dump is
    restored with ``--clean`` into the configured database.
    """
    with tempfile.TemporaryDirectory(prefix="goldentime-restore-") as tmp:
        staging = Path(tmp)
        try:
            with tarfile.open(archive, mode="r:gz") as tar:
                tar.extractall(staging, filter="data")
            manifest = json.loads((staging / "manifest.json").read_text())
        except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
            raise BackupError(f"{archive} is not a GoldenTime backup: {exc}") from exc
        if manifest.get("format") != "goldentime-backup/1":
            raise BackupError(f"{archive}: unknown backup format {manifest.get('format')!r}")
        for name, want in dict(manifest["sha256"]).items():
            path = staging / name
            if not path.is_file() or _digest(path) != want:
                raise BackupError(f"{archive}: {name} is missing or changed (digest mismatch)")
        kind = manifest["database"]
        if kind == "sqlite":
            if not db_url.startswith("sqlite"):
                raise BackupError("this backup holds a SQLite database; the settings name another kind")
            target = _sqlite_path(db_url)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                target.rename(target.with_name(f"{target.name}.before-restore-{stamp}"))
            for suffix in ("-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            shutil.copy2(staging / "database.sqlite", target)
        elif kind == "postgresql":
            if not db_url.startswith("postgresql"):
                raise BackupError("this backup holds a PostgreSQL dump; the settings name another kind")
            _run(
                [
                    "pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                    f"--dbname={_libpq(db_url)}", str(staging / "database.pgdump"),
                ]
            )  # fmt: skip
        else:
            raise BackupError(f"{archive}: unknown database kind {kind!r}")
        data_dir.mkdir(parents=True, exist_ok=True)
        for name in manifest.get("keys", []):
            dest = data_dir / str(name)
            shutil.copy2(staging / f"keys__{name}", dest)
            os.chmod(dest, 0o600)
        return dict(manifest)


def _run(argv: list[str]) -> None:
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError as exc:
        raise BackupError(f"{argv[0]} is not installed (Debian: postgresql-client)") from exc
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"{argv[0]} failed: {exc.stderr.strip()[-500:]}") from exc
