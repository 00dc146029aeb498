"""``ledger export``: the use-and-provision ledger (개인영상정보 이용·제공 관리대장) as CSV or XLSX.

The export is audited like a read through the API (``ledger.export``, actor ``cli:<user>``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cmd_ledger_export(args: argparse.Namespace) -> int:
    from app.cli import _settings, _store
    from app.engine.auth import Principal
    from app.engine.services.ledger import ledger_rows, to_csv, to_xlsx

    settings = _settings(args)
    uow = _store(args)
    who = Principal(kind="system", id="cli", name=f"cli:{getpass.getuser()}")
    with uow(who) as work:
        rows = ledger_rows(work.session, settings.provision, work.now, args.since, args.until)
        work.audit(
            "ledger.export",
            "ledger",
            None,
            since=None if args.since is None else args.since.isoformat(),
            until=None if args.until is None else args.until.isoformat(),
            rows=len(rows),
            format=args.format,
        )
    out = Path(args.out)
    try:
        if args.format == "xlsx":
            out.write_bytes(to_xlsx(rows))
        else:
            out.write_text(to_csv(rows), encoding="utf-8-sig")  # with a BOM: spreadsheet programs read UTF-8
    except OSError as exc:
        print(f"error: cannot write {out}: {exc}", file=sys.stderr)
        return 1
    print(f"{len(rows)} provisions written to {out}")
    return 0


def register(sub: Any, db_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("ledger", help="the use-and-provision ledger (개인영상정보 이용·제공 관리대장)")
    s2 = p.add_subparsers(dest="what", required=True)
    e = s2.add_parser("export", help="one row per provision, as CSV or XLSX")
    e.add_argument("--from", dest="since", type=_when, help="first day (ISO date or date-time, inclusive)")
    e.add_argument("--to", dest="until", type=_when, help="end (ISO date or date-time, exclusive)")
    e.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    e.add_argument("--out", required=True, help="the file to write")
    db_options(e)
    e.set_defaults(func=cmd_ledger_export)
