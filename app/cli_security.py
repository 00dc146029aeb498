"""``users`` (list, disable, enable, set-role, reset-password, end-sessions), ``walls`` (add, revoke, list)
and ``certs init``: offline administration of who may do what (the engine's admin API does the same)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROLES = ["operator", "supervisor", "admin", "auditor"]


def _store(args: argparse.Namespace) -> Any:
    from app.cli import _store as store

    return store(args)


def _principal() -> Any:
    from app.cli import _cli_principal

    return _cli_principal()


def _run(args: argparse.Namespace, fn: Callable[[Any], Any]) -> int:
    from app.engine.errors import ServiceError

    uow = _store(args)
    try:
        with uow(_principal()) as work:
            out = fn(work)
    except ServiceError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    if out is not None:
        print(json.dumps(out, default=str, ensure_ascii=False))
    return 0


def _password(args: argparse.Namespace, who: str) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass(f"new password for {who}: ")


def cmd_users_list(args: argparse.Namespace) -> int:
    from app.engine.services.users import list_users

    def go(work: Any) -> Any:
        work.audit("user.list", "user", None)
        return [u.model_dump(mode="json") for u in list_users(work.session, work.now)]

    return _run(args, go)


def _patch(args: argparse.Namespace, **fields: Any) -> int:
    from app.engine.services.users import patch_user
    from app.formats.users import UserPatchIn

    body = UserPatchIn(**fields)
    return _run(args, lambda work: patch_user(work, args.name, body).model_dump(mode="json"))


def cmd_users_disable(args: argparse.Namespace) -> int:
    return _patch(args, disabled=True)


def cmd_users_enable(args: argparse.Namespace) -> int:
    return _patch(args, disabled=False)


def cmd_users_set_role(args: argparse.Namespace) -> int:
    return _patch(args, role=args.role)


def cmd_users_reset_password(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    try:
        return _patch(args, password=_password(args, args.name))
    except ValidationError:
        print("error: a password needs at least 8 characters", file=sys.stderr)
        return 2


def cmd_users_end_sessions(args: argparse.Namespace) -> int:
    from app.engine.services.users import end_sessions

    return _run(args, lambda work: {"username": args.name, "ended": end_sessions(work, args.name)})


def cmd_walls_add(args: argparse.Namespace) -> int:
    from app.engine.services.wall_keys import add_wall_key

    def go(work: Any) -> Any:
        key = add_wall_key(work.session, args.wall_id, work.now)
        work.audit("wall.key", "wall", args.wall_id)
        if args.key_file:
            path = Path(args.key_file)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(key + "\n")
            return {"wall": args.wall_id, "key_file": str(path)}
        return {"wall": args.wall_id, "key": key}

    return _run(args, go)


def cmd_walls_revoke(args: argparse.Namespace) -> int:
    from app.engine.services.wall_keys import revoke_wall_keys

    def go(work: Any) -> Any:
        n = revoke_wall_keys(work.session, args.wall_id, work.now)
        work.audit("wall.key_revoke", "wall", args.wall_id, revoked=n)
        return {"wall": args.wall_id, "revoked": n}

    return _run(args, go)


def cmd_walls_list(args: argparse.Namespace) -> int:
    from app.engine.services.wall_keys import wall_key_ids

    return _run(
        args,
        lambda work: [
            {"wall": w, "created_at": c, "revoked_at": r} for w, c, r in wall_key_ids(work.session)
        ],
    )


def cmd_certs_init(args: argparse.Namespace) -> int:
    from app.engine.tls import init_site_certs

    try:
        made = init_site_certs(Path(args.out), list(args.host), days=args.days)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        json.dumps(
            {
                "ca": str(made.ca_cert),
                "ca_key": str(made.ca_key),
                "tls_cert": str(made.server_cert),
                "tls_key": str(made.server_key),
                "hosts": list(args.host),
            }
        )
    )
    print(
        "settings: [security] tls_cert and tls_key as above; give ca.pem to consoles, walls and "
        "simulators (--ca); keep ca.key offline",
        file=sys.stderr,
    )
    return 0


def register_users(s2: Any, db_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Sub-commands of ``users`` (besides ``add``)."""
    ls = s2.add_parser("list", help="list users, their role, whether disabled, open sessions")
    db_options(ls)
    ls.set_defaults(func=cmd_users_list)
    for name, fn, text in (
        ("disable", cmd_users_disable, "disable a user: their sessions, live feed and video end at once"),
        ("enable", cmd_users_enable, "enable a disabled user"),
        ("end-sessions", cmd_users_end_sessions, "end every session of a user"),
    ):
        p = s2.add_parser(name, help=text)
        p.add_argument("name")
        db_options(p)
        p.set_defaults(func=fn)
    p = s2.add_parser("set-role", help="change a user's role")
    p.add_argument("name")
    p.add_argument("role", choices=ROLES)
    db_options(p)
    p.set_defaults(func=cmd_users_set_role)
    p = s2.add_parser("reset-password", help="set a new password (ends the user's sessions)")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    db_options(p)
    p.set_defaults(func=cmd_users_reset_password)


def register(sub: Any, db_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("walls", help="wall display keys")
    s2 = p.add_subparsers(dest="action", required=True)
    add = s2.add_parser("add", help="a key for a wall PC (printed once; an earlier key of the wall stops)")
    add.add_argument("wall_id")
    add.add_argument("--key-file", help="write the key to this file (0600) instead of printing it")
    db_options(add)
    add.set_defaults(func=cmd_walls_add)
    rv = s2.add_parser("revoke", help="revoke a wall's key (its display stops within a second)")
    rv.add_argument("wall_id")
    db_options(rv)
    rv.set_defaults(func=cmd_walls_revoke)
    ls = s2.add_parser("list", help="wall keys (never the keys themselves)")
    db_options(ls)
    ls.set_defaults(func=cmd_walls_list)

    p = sub.add_parser("certs", help="a private CA and server certificate for the engine's TLS")
    s2 = p.add_subparsers(dest="action", required=True)
    init = s2.add_parser("init", help="write ca.pem, ca.key, server.pem, server.key into --out")
    init.add_argument("--out", required=True, help="directory for the files (keys are written 0600)")
    init.add_argument(
        "--host",
        action="append",
        required=True,
        help="a name or address consoles use for the engine (repeat)",
    )
    init.add_argument("--days", type=int, default=825, help="server certificate lifetime (default 825)")
    init.set_defaults(func=cmd_certs_init)
