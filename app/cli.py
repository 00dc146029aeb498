"""The one command line: parses arguments and wires the parts (DESIGN §2)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app import __version__
from app.cli_cameras import register as register_camera_commands


def _settings(args: argparse.Namespace) -> Any:
    from app.engine.settings import SettingsError, load_settings

    try:
        return load_settings(
            getattr(args, "config", None),
            db_url=getattr(args, "db", None),
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            data_dir=getattr(args, "data_dir", None),
        )
    except SettingsError as exc:
        raise SystemExit(f"error: {exc}") from None


def _store(args: argparse.Namespace) -> Any:
    """Open the database for an offline admin command (migrated, like the engine does on start)."""
    from app.domain.clock import SystemClock
    from app.engine.work import UnitOfWorkFactory
    from app.store.database import Database

    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    db.migrate()
    from app.store.sealed import seal_database

    seal_database(db.write, db.read, settings.data_dir)
    return UnitOfWorkFactory(db, SystemClock())


def _cli_principal() -> Any:
    from app.engine.auth import Principal

    user = os.environ.get("USER") or os.environ.get("USERNAME") or "cli"
    return Principal(kind="system", id="cli", name=f"cli:{user}")


# ---------------------------------------------------------------------- commands


def cmd_engine(args: argparse.Namespace) -> int:
    from app.cli_ops import engine_log_file
    from app.engine.server import EngineServer

    settings = _settings(args)
    if engine_log_file(settings):  # [log] file: rotating, or a clear error before anything starts
        return 1
    server = EngineServer(settings)
    logging.getLogger(__name__).info("engine on http://%s:%s", settings.host, settings.port)
    server.run()
    return 0


def _import_layer(
    args: argparse.Namespace,
    parse: Callable[[bytes, str], Any],
    items: str,
    upsert: Callable[[Any, Any], Any],
) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    try:
        result = parse(data, path.name)
    except ValueError as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    rows = getattr(result, items)
    for err in result.errors:
        print(f"{path}:{err.line}: skipped: {err.reason}", file=sys.stderr)
    uow = _store(args)
    with uow(_cli_principal()) as work:
        counts = upsert(work, rows)
        work.audit(
            f"{items}.import",
            items.rstrip("s"),
            None,
            file=path.name,
            count=len(rows),
            errors=len(result.errors),
        )
    summary = {"imported": len(rows), "skipped": len(result.errors)}
    if isinstance(counts, tuple):
        summary.update(inserted=counts[0], updated=counts[1])
    print(json.dumps(summary))
    return 0 if rows or not result.errors else 1


def cmd_facilities_import(args: argparse.Namespace) -> int:
    from app.domain.layers_import import parse_facilities
    from app.engine.services.directory import upsert_facilities

    return _import_layer(args, parse_facilities, "facilities", upsert_facilities)


def cmd_sensors_import(args: argparse.Namespace) -> int:
    from app.domain.layers_import import parse_sensors
    from app.engine.errors import ServiceError
    from app.engine.services.directory import upsert_sensors

    try:
        return _import_layer(
            args, parse_sensors, "sensors", lambda w, r: upsert_sensors(w, r, getattr(args, "agency", None))
        )
    except ServiceError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2


def cmd_agencies_add(args: argparse.Namespace) -> int:
    from app.domain.enums import AgencyKind, DeliveryFormat
    from app.engine.errors import ServiceError
    from app.engine.services.directory import create_agency
    from app.formats.api import AgencyIn

    settings = _settings(args)
    uow = _store(args)
    try:
        body = AgencyIn(
            name=args.name,
            kind=AgencyKind(args.kind),
            format=DeliveryFormat(args.format),
            endpoint=args.endpoint,
        )
        with uow(_cli_principal()) as work:
            created = create_agency(work.session, body, settings.outbox, work.now)
            work.audit(
                "agency.create", "agency", created.id, name=args.name, kind=args.kind, endpoint=args.endpoint
            )
    except ServiceError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    print(created.model_dump_json())
    return 0


def cmd_agencies_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.store.models import AgencyRow

    uow = _store(args)
    with uow.read() as s:
        for a in s.scalars(select(AgencyRow).order_by(AgencyRow.created_at)):
            print(
                json.dumps(
                    {
                        "id": a.id,
                        "name": a.name,
                        "kind": a.kind,
                        "format": a.format,
                        "endpoint": a.endpoint,
                        "enabled": a.enabled,
                    },
                    ensure_ascii=False,
                )
            )
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    import getpass

    from app.domain.enums import Role
    from app.engine.errors import ServiceError
    from app.engine.services.directory import add_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
    uow = _store(args)
    try:
        with uow(_cli_principal()) as work:
            row = add_user(work.session, args.name, Role(args.role), password, work.now)
            work.session.flush()
            work.audit("user.create", "user", str(row.id), username=args.name, role=args.role)
    except ServiceError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    print(json.dumps({"id": row.id, "username": args.name, "role": args.role}))
    return 0


def _embedded_engine(settings: Any) -> Any:
    """The console's own engine: the same server a control room runs, on a thread of this process."""
    from app.engine.server import EngineServer

    server = EngineServer(settings)
    server.start_in_thread()
    return server


def cmd_console(args: argparse.Namespace) -> int:
    from app.console.bootstrap import run_console

    server = None
    url = args.engine
    if url is None:
        settings = _settings(args)
        server = _embedded_engine(
            settings.model_copy(update={"port": args.port if args.port is not None else 0})
        )
        url = server.base_url
    try:
        return run_console(url, language=args.language, ca=args.ca)
    finally:
        if server is not None:
            server.stop()


def _demo_admin(server: Any) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """The demo back end's three administrative steps, done engine-side (the simulators may not)."""
    from app.domain.camera_import import parse_cameras
    from app.domain.enums import AgencyKind, DeliveryFormat, Role
    from app.domain.layers_import import parse_facilities, parse_sensors
    from app.engine.services.directory import (
        add_user,
        create_agency,
        upsert_cameras,
        upsert_facilities,
        upsert_sensors,
    )
    from app.formats.api import AgencyIn

    admin = _cli_principal()
    gateway: list[str] = []  # the demo's sensor gateway: the disaster room (its key posts sensor events)

    def new_agency(name: str, kind: AgencyKind, fmt: DeliveryFormat, endpoint: str) -> tuple[str, str, str]:
        with server.uow(admin) as work:
            out = create_agency(
                work.session,
                AgencyIn(name=name, kind=kind, format=fmt, endpoint=endpoint),
                server.settings.outbox,
                work.now,
            )
        if kind is AgencyKind.DISASTER and not gateway:
            gateway.append(out.id)
        return out.id, out.api_key, out.webhook_secret

    def new_user(username: str, role: Role, password: str) -> None:
        with server.uow(admin) as work:
            add_user(work.session, username, role, password, work.now)

    def import_file(kind: str, path: Path) -> None:
        data = path.read_bytes()
        with server.uow(admin) as work:
            if kind == "cameras":
                upsert_cameras(work, parse_cameras(data, path.name).cameras)
            elif kind == "facilities":
                upsert_facilities(work, parse_facilities(data, path.name).facilities)
            elif kind == "districts":
                from app.domain.districts import parse_district_geojson
                from app.engine.services.districts import store_districts

                store_districts(work.session, parse_district_geojson(data).districts, work.now, path.name)
            else:
                upsert_sensors(work, parse_sensors(data, path.name).sensors, gateway[0] if gateway else None)
        if kind == "cameras":
            server.ctx.cameras.refresh(force=True)

    return new_agency, new_user, import_file


def cmd_demo(args: argparse.Namespace) -> int:
    """Embedded engine + simulated Jinju (cameras, agencies, scenario) + the console, all in one go."""
    import asyncio
    import shutil
    import threading

    from app.sim.demo import DEMO_PASSWORD, DemoBackend

    log = logging.getLogger("goldentime.demo")
    base = _settings(args)
    demo_dir = base.data_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)  # every demo starts from a fresh city
    demo_dir.mkdir(parents=True)
    settings = base.model_copy(
        update={"data_dir": demo_dir, "db_url": None, "port": args.port if args.port is not None else 0}
    )
    print("GoldenTime demo: starting the engine…", flush=True)
    server = _embedded_engine(settings)
    new_agency, new_user, import_file = _demo_admin(server)
    ready = threading.Event()
    districts: list[Path] = []
    loop = asyncio.new_event_loop()
    failure: list[BaseException] = []

    def progress(message: str) -> None:
        print(f"GoldenTime demo: {message}", flush=True)

    async def backend() -> None:
        async with DemoBackend(
            demo_dir / "city",
            engine_url=server.base_url,
            create_agency=new_agency,
            create_user=new_user,
            import_file=import_file,
            progress=progress,
            speed=args.speed,
            live_cameras=args.live_cameras,
        ) as demo:
            districts.append(demo.plan.districts_geojson)
            ready.set()
            await demo.run_scenario()

    def run_backend() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(backend())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # surfaced below
            failure.append(exc)
            log.exception("the demo back end failed")
        finally:
            ready.set()

    thread = threading.Thread(target=run_backend, name="demo-backend", daemon=True)
    thread.start()
    ready.wait()
    try:
        if failure:
            return 1
        print(f"GoldenTime demo: ready — engine {server.base_url}, operator / {DEMO_PASSWORD}", flush=True)
        if args.headless:
            stop = threading.Event()
            try:
                stop.wait(args.seconds if args.seconds else None)
            except KeyboardInterrupt:
                pass
            return 0
        from app.console.bootstrap import run_console

        # The demo speaks the operators' language unless told otherwise.
        return run_console(
            server.base_url,
            username="operator",
            password=DEMO_PASSWORD,
            language=args.language or "ko",
            districts_geojson=districts[0] if districts else None,
        )
    finally:
        for task in asyncio.all_tasks(loop) if not loop.is_closed() else ():
            loop.call_soon_threadsafe(task.cancel)
        thread.join(30)
        server.stop()


def cmd_wall(args: argparse.Namespace) -> int:
    from app.console.wall.__main__ import read_key
    from app.console.wall.runner import run_wall

    return int(
        run_wall(
            args.engine,
            args.wall,
            screen=args.screen,
            key=read_key(args.key_file),
            language=args.language,
            ca=args.ca,
        )
    )


def cmd_sim_cameras(args: argparse.Namespace, rest: list[str]) -> int:
    from app.sim.cameras import main_sim_cameras

    return int(main_sim_cameras(rest))


def cmd_sim_agency(args: argparse.Namespace, rest: list[str]) -> int:
    from app.sim.agency import main_sim_agency

    return int(main_sim_agency(rest))


# ---------------------------------------------------------------------- parser


def _db_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db", help="database URL (default: SQLite in the data dir); postgresql+psycopg://… works the same"
    )
    p.add_argument(
        "--data-dir", type=Path, help="where the engine keeps its data (default: the user data dir)"
    )
    p.add_argument("--config", type=Path, help="settings file (TOML); also $GOLDENTIME_CONFIG")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="goldentime", description="GoldenTime control-room platform")
    parser.add_argument("--version", action="version", version=f"goldentime {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("engine", help="run the sync engine (API, outbox, media relay)")
    _db_options(p)
    p.add_argument("--host", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default 8740)")
    p.set_defaults(func=cmd_engine)

    register_camera_commands(sub, _db_options)  # app/cli_cameras.py
    for name, func, what in (
        (
            "facilities",
            cmd_facilities_import,
            "facilities (hazardous sites, hospitals, shelters, hydrants): CSV or GeoJSON",
        ),
        ("sensors", cmd_sensors_import, "sensors (emergency bells, water level, gas): CSV or GeoJSON"),
    ):
        p = sub.add_parser(name, help=f"manage {name}")
        s2 = p.add_subparsers(dest="action", required=True)
        imp = s2.add_parser("import", help=f"import {what}; importing again updates in place")
        imp.add_argument("file")
        if name == "sensors":
            imp.add_argument(
                "--agency",
                help="the gateway agency (id or name) of rows without an agency_id column value",
            )
        _db_options(imp)
        imp.set_defaults(func=func)

    p = sub.add_parser("agencies", help="manage agencies")
    s2 = p.add_subparsers(dest="action", required=True)
    add = s2.add_parser("add", help="register an agency; prints its API key and webhook secret once")
    add.add_argument("--name", required=True)
    add.add_argument("--kind", required=True, choices=["police", "fire", "disaster", "vulnerable"])
    add.add_argument("--format", default="json", choices=["json", "cap", "eido"])
    add.add_argument("--endpoint", required=True, help="the agency's webhook URL")
    _db_options(add)
    add.set_defaults(func=cmd_agencies_add)
    ls = s2.add_parser("list", help="list agencies")
    _db_options(ls)
    ls.set_defaults(func=cmd_agencies_list)
    from app.cli_agencies import register as register_agency_commands

    register_agency_commands(s2, _db_options)

    p = sub.add_parser("users", help="manage console users")
    s2 = p.add_subparsers(dest="action", required=True)
    add = s2.add_parser("add", help="add a console user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["operator", "supervisor", "admin", "auditor"])
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _db_options(add)
    add.set_defaults(func=cmd_users_add)
    from app import cli_security

    cli_security.register_users(s2, _db_options)

    p = sub.add_parser("console", help="the operator console (with no --engine: its own embedded engine)")
    _db_options(p)
    p.add_argument("--engine", help="URL of a running engine, e.g. https://engine.example:8740")
    p.add_argument(
        "--ca", help="CA certificate that signs the engine's TLS certificate (a site's private CA)"
    )
    p.add_argument("--port", type=int, help="port of the embedded engine (default: any free port)")
    p.add_argument(
        "--language", choices=["ko", "en"], help="interface language (default: last used, else the system's)"
    )
    p.set_defaults(func=cmd_console)

    p = sub.add_parser(
        "demo", help="the demo: embedded engine, simulated Jinju, cameras, agencies, scenario, console"
    )
    p.add_argument("--data-dir", type=Path, help="where the demo keeps its (throwaway) data")
    p.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help="engine port (default: any free port)")
    p.add_argument("--language", choices=["ko", "en"])
    p.add_argument("--speed", type=float, default=1.0, help="scenario time compression (default 1.0)")
    p.add_argument(
        "--live-cameras",
        type=int,
        default=None,
        help="distinct live camera streams (default: what the machine affords)",
    )
    p.add_argument("--headless", action="store_true", help="no console: engine, simulators and scenario only")
    p.add_argument(
        "--seconds",
        type=float,
        default=0,
        help="with --headless: stop after this long (default: until Ctrl-C)",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("wall", help="fullscreen video-wall display that follows its layout from the engine")
    p.add_argument("--engine", required=True, help="URL of the engine")
    p.add_argument("--wall", required=True, help="the wall's id, e.g. WALL-1")
    p.add_argument("--screen", type=int, help="which screen to fill (default: the primary)")
    p.add_argument(
        "--key-file", help="file holding the wall key from 'walls add' (else $GOLDENTIME_WALL_KEY)"
    )
    p.add_argument("--ca", help="CA certificate that signs an https:// engine's certificate")
    p.add_argument("--language", choices=["ko", "en"])
    p.set_defaults(func=cmd_wall)

    from app import cli_ops

    cli_ops.register(sub, _db_options)
    cli_security.register(sub, _db_options)
    __import__("app.cli_ledger", fromlist=["register"]).register(sub, _db_options)  # app/cli_ledger.py
    __import__("app.cli_audit", fromlist=["register"]).register(sub, _db_options)  # app/cli_audit.py
    __import__("app.cli_retention", fromlist=["register"]).register(sub, _db_options)  # app/cli_retention.py
    __import__("app.cli_districts", fromlist=["register"]).register(sub, _db_options)  # app/cli_districts.py
    __import__("app.cli_incident", fromlist=["register"]).register(sub, _db_options)  # app/cli_incident.py

    p = sub.add_parser("sim", help="simulators for the demo and the tests")
    s2 = p.add_subparsers(dest="what", required=True)
    s2.add_parser(
        "cameras", help="simulated RTSP cameras (see: sim cameras --help)", add_help=False
    ).set_defaults(func_rest=cmd_sim_cameras)
    s2.add_parser(
        "agency", help="a simulated agency webhook receiver (see: sim agency --help)", add_help=False
    ).set_defaults(func_rest=cmd_sim_agency)
    __import__("app.cli_media", fromlist=["register"]).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per HTTP request drowns what matters; the engine audits every request anyway.
    logging.getLogger("httpx").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # 7 lines of noise per command
    if hasattr(args, "func_rest"):
        return int(args.func_rest(args, rest))
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return int(args.func(args))
