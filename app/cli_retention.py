"""``retention run [--as-of ISO-DATE]``: apply the retention policy (``[retention]`` in the settings) now,
or as if it were ``--as-of``; prints what was deleted and archived; exits 1 if the audit could not be
archived (a broken chain is never archived)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def _as_of(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"error: --as-of {text!r} is not an ISO date or date-time") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def cmd_retention_run(args: argparse.Namespace) -> int:
    from app.cli import _cli_principal, _settings, _store
    from app.engine.services.retention import Retention

    settings = _settings(args)
    as_of = _as_of(args.as_of)
    out = Retention(_store(args), settings.retention, settings.data_dir).run(as_of, _cli_principal())
    print(json.dumps(out.summary(), indent=2, ensure_ascii=False))
    if out.archive_error:
        print(f"audit NOT archived: {out.archive_error}", file=sys.stderr)
        return 1
    return 0


def register(sub: Any, db_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "retention", help="the retention policy: delete what is kept no longer, archive old audit"
    )
    s2 = p.add_subparsers(dest="what", required=True)
    r = s2.add_parser("run", help="apply the policy now (or as of --as-of); every deletion is audited")
    r.add_argument(
        "--as-of", help="apply the policy as if it were this ISO date or date-time (UTC if no zone)"
    )
    db_options(r)
    r.set_defaults(func=cmd_retention_run)
