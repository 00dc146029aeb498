"""``incident export`` and ``incident verify``: the evidence bundle of one incident (app/engine/evidence.py).

``export`` reads the database (``--db`` or the settings), signs with the engine's audit key (the data dir's
``audit-signing.key``) and audits itself (``incident.export``, with the manifest's SHA-256). ``verify`` needs
neither the engine nor its database: it reads only the zip (and the checkpoint files given to it).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cmd_incident_export(args: argparse.Namespace) -> int:
    from app.cli import _settings, _store
    from app.engine.auth import Principal
    from app.engine.evidence import export_bundle
    from app.store import audit_checkpoint

    settings = _settings(args)
    uow = _store(args)
    who = Principal(kind="system", id="cli", name=f"cli:{getpass.getuser()}")
    out = Path(args.out)
    tmp = out.with_name(out.name + ".part")
    key = audit_checkpoint.signing_key(settings.data_dir)
    try:
        with uow.read() as session, tmp.open("wb") as fh:
            summary = export_bundle(
                session, settings, args.incident_id, fh, key=key, actor=who.actor, now=uow.clock.now()
            )
    except LookupError:
        tmp.unlink(missing_ok=True)
        print(f"error: no incident {args.incident_id!r}", file=sys.stderr)
        return 2
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        print(f"error: cannot write {out}: {exc}", file=sys.stderr)
        return 1
    os.replace(tmp, out)
    with uow(who) as work:
        work.audit(
            "incident.export",
            "incident",
            args.incident_id,
            manifest_sha256=summary.manifest_sha256,
            files=summary.files,
            audit_rows=summary.audit_rows,
        )
    for w in summary.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(
        f"evidence bundle of {args.incident_id} written to {out}: {summary.files} files, "
        f"{summary.audit_rows} audit rows, {summary.chain_links} chain links; "
        f"signed by {summary.key_fingerprint}"
    )
    return 0


def cmd_incident_verify(args: argparse.Namespace) -> int:
    from app.engine.evidence import verify_bundle

    checkpoints: list[tuple[str, dict[str, Any]]] = []
    for name in args.checkpoint or []:
        try:
            checkpoints.append((name, json.loads(Path(name).read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            print(f"error: cannot read checkpoint {name}: {exc}", file=sys.stderr)
            return 2
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file {path}", file=sys.stderr)
        return 2
    report = verify_bundle(path, expect_key=args.key, checkpoints=checkpoints)
    for note in report.notes:
        print(f"note: {note}")
    if report.problems:
        print(f"evidence bundle {path} is NOT intact:", file=sys.stderr)
        for p in report.problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(
        f"evidence bundle {path} is intact: incident {report.incident_id}, "
        f"signed by {report.key_fingerprint}"
        + ("" if args.key else " (compare this fingerprint with the one the operating body publishes)")
    )
    return 0


def register(sub: Any, db_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("incident", help="an incident's evidence bundle (export, verify)")
    s2 = p.add_subparsers(dest="what", required=True)
    e = s2.add_parser(
        "export",
        help="write the signed evidence bundle (EIDO, timeline, shares, viewings, audit with chain proof)",
    )
    e.add_argument("incident_id", metavar="ID")
    e.add_argument("--out", required=True, help="the zip file to write")
    db_options(e)
    e.set_defaults(func=cmd_incident_export)
    v = s2.add_parser("verify", help="check a bundle offline; exit 1 naming what is wrong")
    v.add_argument("file", metavar="FILE.zip")
    v.add_argument("--key", help="the fingerprint (sha256:…) or public key the manifest must be signed by")
    v.add_argument(
        "--checkpoint", action="append", help="a signed audit checkpoint kept off the machine (repeatable)"
    )
    v.set_defaults(func=cmd_incident_verify)
