"""``audit verify``: walk the tamper-evident audit chain (app/store/audit_chain.py) and name the first
row that was changed, deleted or inserted behind the engine's back; exits 1 if any."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from app.cli import _store
    from app.store import audit_chain

    uow = _store(args)
    with uow.read() as session:
        n, problems, head = audit_chain.verify(session)
    if problems:
        first = problems[0]
        print(f"audit chain BROKEN at row {first.row_id}: {first.what}", file=sys.stderr)
        for p in problems[1:20]:
            print(f"  also row {p.row_id}: {p.what}", file=sys.stderr)
        return 1
    print(f"audit chain intact: {n} rows, head {head}")
    return 0


def register(sub: Any, db_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("audit", help="the tamper-evident audit chain")
    s2 = p.add_subparsers(dest="what", required=True)
    v = s2.add_parser("verify", help="walk the chain; exit 1 naming the first row changed, deleted or inserted")
    db_options(v)
    v.set_defaults(func=cmd_audit_verify)
