"""``audit verify``: walk the tamper-evident audit chain (app/store/audit_chain.py) and name the first
row that was changed, deleted or inserted behind the engine's back; exits 1 if any."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from app.cli import _settings, _store
    from app.store import audit_chain

    uow = _store(args)
    with uow.read() as session:
        n, problems, head = audit_chain.verify(session)
        for cp_path in args.checkpoint or []:
            why = _check_checkpoint(session, _settings(args).data_dir, Path(cp_path))
            if why:
                print(f"audit chain BROKEN against checkpoint {cp_path}: {why}", file=sys.stderr)
                return 1
    if problems:
        first = problems[0]
        print(f"audit chain BROKEN at row {first.row_id}: {first.what}", file=sys.stderr)
        for p in problems[1:20]:
            print(f"  also row {p.row_id}: {p.what}", file=sys.stderr)
        return 1
    print(f"audit chain intact: {n} rows, head {head}")
    return 0


def _check_checkpoint(session: Any, data_dir: Path, path: Path) -> str | None:
    from sqlalchemy import select

    from app.store import audit_checkpoint
    from app.store.models import AuditRow

    try:
        cp = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"cannot read it: {exc}"
    why = audit_checkpoint.check_signature(cp, audit_checkpoint.public_hex(data_dir))
    if why:
        return why
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
        "--checkpoint", action="append", help="a signed checkpoint file the chain must still contain"
    )
    db_options(v)
    v.set_defaults(func=cmd_audit_verify)
    c = s2.add_parser(
        "checkpoint", help="write a signed checkpoint of the chain head, to keep off the machine"
    )
    c.add_argument("--out", required=True, help="the file to write")
    db_options(c)
    c.set_defaults(func=cmd_audit_checkpoint)
