"""``python main.py agencies disable|enable|rotate-key|rotate-secret ID``: shutting an agency out and
rotating its credentials from the command line (same rules as the admin API, app/engine/services/agency_admin).

A running engine sees the change within a second (its API-key cache lives one second; the media relay
re-checks every viewer's share every second).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any


def _run(args: argparse.Namespace, action: Callable[[Any, Any, Any], dict[str, Any]]) -> int:
    from app.cli import _cli_principal, _settings, _store
    from app.engine.context import CameraCatalog, EngineContext
    from app.store.models import AgencyRow

    settings = _settings(args)
    uow = _store(args)
    ctx = EngineContext(
        settings=settings,
        clock=uow.clock,
        uow=uow,
        cameras=CameraCatalog(uow.read),
        base_url=lambda: settings.base_url(),
    )
    with uow(_cli_principal()) as work:
        row = work.session.get(AgencyRow, args.id)
        if row is None:
            print(f"error: no agency with id {args.id!r}", file=sys.stderr)
            return 2
        out = action(ctx, work, row)
    print(json.dumps(out, ensure_ascii=False, default=str))
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    from app.engine.services.agency_admin import set_enabled

    return _run(
        args,
        lambda ctx, w, r: {"id": r.id, "enabled": False, "revoked_shares": set_enabled(ctx, w, r, False)},
    )


def cmd_enable(args: argparse.Namespace) -> int:
    from app.engine.services.agency_admin import set_enabled

    return _run(
        args, lambda ctx, w, r: {"id": r.id, "enabled": True, "revoked_shares": set_enabled(ctx, w, r, True)}
    )


def cmd_rotate_key(args: argparse.Namespace) -> int:
    from app.engine.services.agency_admin import rotate_key

    def action(_ctx: Any, work: Any, row: Any) -> dict[str, Any]:
        key, until = rotate_key(work, row, args.grace)
        return {"id": row.id, "api_key": key, "previous_key_until": until}

    return _run(args, action)


def cmd_rotate_secret(args: argparse.Namespace) -> int:
    from app.engine.services.agency_admin import rotate_secret

    def action(_ctx: Any, work: Any, row: Any) -> dict[str, Any]:
        secret = rotate_secret(work, row)
        return {"id": row.id, "webhook_secret": secret, "previous_secret_until": row.previous_secret_until}

    return _run(args, action)


def register(agencies: Any, db_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the sub-commands to ``main.py agencies`` (``agencies`` is its sub-parsers object)."""
    for name, func, text in (
        (
            "disable",
            cmd_disable,
            "refuse the agency's key, revoke its shares (cutting its video), hold its deliveries",
        ),
        ("enable", cmd_enable, "let the agency in again; its held deliveries go out"),
        ("rotate-key", cmd_rotate_key, "print a new API key once; the old one stops now or after --grace"),
        (
            "rotate-secret",
            cmd_rotate_secret,
            "print a new webhook secret once; both sign for 24 h, then the old one is erased",
        ),
    ):
        p = agencies.add_parser(name, help=text)
        p.add_argument("id", help="the agency id (see 'agencies list')")
        if name == "rotate-key":
            p.add_argument(
                "--grace", type=float, default=0.0, metavar="MINUTES", help="old key keeps working this long"
            )
        db_options(p)
        p.set_defaults(func=func)
