"""``audit verify``: walk the tamper-evident audit chain (app/store/audit_chain.py) from genesis or from the
newest signed archive segment, check it against the signed checkpoints (stored by the engine, or files
kept off the machine), and with ``--archive DIR`` the archive segments and their join to the live chain;
names the first row changed, deleted or inserted behind the engine's back and exits 1 if any."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _read_checkpoints(path: Path) -> list[dict[str, Any]]:
    """A checkpoint file: one JSON object, or JSON lines (the engine's checkpoints.jsonl)."""
    text = path.read_text(encoding="utf-8")
    try:
        one = json.loads(text)
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return one if isinstance(one, list) else [one]


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from app.cli import _settings, _store
    from app.store import audit_archive, audit_chain, audit_checkpoint

    settings = _settings(args)
    trusted = audit_checkpoint.public_hex(settings.data_dir)
    uow = _store(args)
    broken: list[str] = []
    with uow.read() as session:
        start = audit_archive.live_start(session, trusted)
        if start.problem:
            broken.append(start.problem)
        n, problems, head = audit_chain.verify(session, start.prev, start.after_id)
        cps: list[tuple[str, dict[str, Any]]] = [("stored", cp) for cp in audit_checkpoint.stored(session)]
        for cp_path in args.checkpoint or []:
            try:
                cps += [(cp_path, cp) for cp in _read_checkpoints(Path(cp_path))]
            except (OSError, ValueError) as exc:
                broken.append(f"checkpoint {cp_path}: cannot read it: {exc}")
        archived_cps: dict[int, str] = {}
        checked = 0
        for where, cp in cps:
            why = audit_checkpoint.check_signature(cp, trusted)
            if why is None and int(cp["row_id"]) <= start.after_id:
                archived_cps[int(cp["row_id"])] = str(cp["row_hash"])
                continue
            why = why or _check_checkpoint(session, cp)
            checked += 1
            if why:
                label = "a stored checkpoint" if where == "stored" else f"checkpoint {where}"
                broken.append(f"against {label} (row {cp.get('row_id')}): {why}")
    archive_note = ""
    if args.archive:
        rep = audit_archive.verify_dir(Path(args.archive), trusted, archived_cps)
        broken += [f"archive {p}" for p in rep.problems or []]
        if not rep.problems and (rep.last_id, rep.last_hash or None) != (start.after_id, start.prev):
            broken.append(
                f"archive {args.archive} ends at row {rep.last_id}, but the live chain continues from row "
                f"{start.after_id} (a segment is missing, or the archive is another engine's)"
            )
        archive_note = f"; archive: {rep.segments} segments, {rep.rows} rows, joined to the live chain"
    elif archived_cps:
        archive_note = f"; {len(archived_cps)} checkpoints name archived rows (check them with --archive)"
    if problems:
        first = problems[0]
        print(f"audit chain BROKEN at row {first.row_id}: {first.what}", file=sys.stderr)
        for p in problems[1:20]:
            print(f"  also row {p.row_id}: {p.what}", file=sys.stderr)
    for b in broken:
        print(f"audit chain BROKEN {b}", file=sys.stderr)
    if problems or broken:
        return 1
    since = f" after archived row {start.after_id}" if start.after_id else ""
    print(f"audit chain intact: {n} rows{since}, head {head}; {checked} checkpoints hold{archive_note}")
    return 0


def _check_checkpoint(session: Any, cp: dict[str, Any]) -> str | None:
    from sqlalchemy import select

    from app.store.models import AuditRow

    have = session.scalar(select(AuditRow.row_hash).where(AuditRow.id == int(cp["row_id"])))
    if have is None:
        return f"row {cp['row_id']} of the checkpoint is gone"
    if have != cp["row_hash"]:
        return f"row {cp['row_id']} no longer has the checkpointed hash (the chain was rewritten)"
    return None


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    from app.cli import _settings, _store
    from app.store import audit_chain, audit_checkpoint

    settings = _settings(args)
    uow = _store(args)
    with uow.read() as session:
        row_id, head = audit_chain.head(session)
    cp = audit_checkpoint.make(
        audit_checkpoint.signing_key(settings.data_dir), row_id, head, datetime.now(UTC)
    )
    out = Path(args.out)
    out.write_text(json.dumps(cp, indent=2) + "\n", encoding="utf-8")
    print(f"checkpoint of row {row_id} (head {head}) written to {out}; keep it off this machine")
    return 0


def register(sub: Any, db_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("audit", help="the tamper-evident audit chain")
    s2 = p.add_subparsers(dest="what", required=True)
    v = s2.add_parser(
        "verify", help="walk the chain; exit 1 naming the first row changed, deleted or inserted"
    )
    v.add_argument(
        "--checkpoint",
        action="append",
        help="a signed checkpoint file (JSON, or the engine's checkpoints.jsonl) the chain must still hold",
    )
    v.add_argument(
        "--archive",
        help="a directory of archive segments ([retention] archive_dir): check them and their join to the chain",
    )
    db_options(v)
    v.set_defaults(func=cmd_audit_verify)
    c = s2.add_parser(
        "checkpoint", help="write a signed checkpoint of the chain head, to keep off the machine"
    )
    c.add_argument("--out", required=True, help="the file to write")
    db_options(c)
    c.set_defaults(func=cmd_audit_checkpoint)
