"""Operations sub-commands: ``settings check``, ``backup``, ``restore``, ``doctor``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def cmd_settings_check(args: argparse.Namespace) -> int:
    from app.engine.settings import SettingsError, load_settings

    try:
        settings = load_settings(Path(args.file))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{args.file}: valid (database {settings.database_url.split('://', 1)[0]}, data in {settings.data_dir})"
    )
    return 0


def engine_log_file(settings: Any) -> bool:
    """Open the engine's rotating log file if ``[log] file`` is set; True (after saying why) if it cannot."""
    from app.engine.log_files import LogFileError, engine_log

    try:
        engine_log(settings.log)
    except LogFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return True
    return False


def cmd_settings_doc(args: argparse.Namespace) -> int:
    from app.engine.settings_doc import render

    text = render()
    if args.write:
        out = Path(__file__).resolve().parents[1] / "docs" / "SETTINGS.md"
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")
    else:
        print(text, end="")
    return 0


def _settings(args: argparse.Namespace) -> Any:
    from app.cli import _settings as load

    return load(args)


def cmd_backup(args: argparse.Namespace) -> int:
    from app.engine.backup import BackupError, backup

    settings = _settings(args)
    try:
        manifest = backup(settings.database_url, settings.data_dir, Path(args.out))
    except (BackupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"out": str(args.out), **manifest}, ensure_ascii=False))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from app.engine.backup import BackupError, restore

    settings = _settings(args)
    try:
        manifest = restore(Path(args.file), settings.database_url, settings.data_dir)
    except (BackupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"restored {manifest['database']} backup of {manifest['created_at']} (version {manifest['version']})"
    )
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from app.doctor import Check, run_checks
    from app.engine.settings import SettingsError, load_settings

    try:
        settings = load_settings(args.config, db_url=args.db, data_dir=args.data_dir)
    except SettingsError as exc:
        print(Check("settings", "FAIL", str(exc), "goldentime settings check FILE").line())
        return 1
    checks = run_checks(
        settings,
        args.engine,
        Path(args.ca) if args.ca else None,
        Path(args.console_settings) if args.console_settings else None,
    )
    for check in checks:
        print(check.line())
    return 1 if any(c.level == "FAIL" for c in checks) else 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.store.database import Database

    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    try:
        db.migrate()
    finally:
        db.dispose()
    print("database schema is current")
    return 0


def register(sub: Any, db_options: Any) -> None:
    p = sub.add_parser(
        "migrate", help="bring the database schema to this version (the engine also does at start)"
    )
    db_options(p)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("settings", help="check a settings file, or document every key")
    s2 = p.add_subparsers(dest="action", required=True)
    chk = s2.add_parser("check", help="validate FILE; names each wrong key, its line and what is allowed")
    chk.add_argument("file")
    chk.set_defaults(func=cmd_settings_check)
    doc = s2.add_parser(
        "doc", help="every settings key (type, default, allowed, meaning) as docs/SETTINGS.md"
    )
    doc.add_argument("--write", action="store_true", help="write docs/SETTINGS.md instead of printing it")
    doc.set_defaults(func=cmd_settings_doc)

    p = sub.add_parser("backup", help="back up the database and the data dir's keys (safe while running)")
    p.add_argument("--out", required=True, help="the .tar.gz to write (mode 0600: it holds the keys)")
    db_options(p)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup (stop the engine first)")
    p.add_argument("file")
    db_options(p)
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("doctor", help="check this machine: video, fonts, GPU, disk, database, engine, TLS")
    db_options(p)
    p.add_argument("--engine", help="URL of the engine to check (reachability, clock skew, TLS)")
    p.add_argument("--ca", help="CA certificate that signs the engine's TLS certificate")
    p.add_argument(
        "--console-settings",
        help="the console's settings folder, for its basemaps (default: this user's console settings)",
    )
    p.set_defaults(func=cmd_doctor)
