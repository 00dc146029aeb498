"""``cameras`` sub-commands: import (registers, editions, reports), pending, positions, list.

Rules and limits: docs/CAMERAS.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

SHOWN_PER_KIND = 3
"""Problems printed per kind; the report file has every one."""
_LIST_COLUMNS = (
    "id",
    "name",
    "lat",
    "lon",
    "purpose",
    "approximate",
    "online",
    "provider",
    "provider_code",
    "register_no",
    "road_address",
    "lot_address",
    "purpose_text",
    "installed",
    "pixels",
    "view",
    "retention_days",
    "phone",
    "data_date",
)
_PENDING_COLUMNS = (
    "id",
    "lat",
    "lon",
    "count",
    "name",
    "provider",
    "provider_code",
    "register_no",
    "road_address",
    "lot_address",
    "reason",
    "line",
    "source",
)


def register(sub: Any, db_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``cameras`` and its sub-commands to the main parser's sub-parsers."""
    p = sub.add_parser("cameras", help="manage cameras (import registers, holding list, list)")
    s2 = p.add_subparsers(dest="action", required=True)
    imp = s2.add_parser(
        "import",
        help="import cameras: GoldenTime CSV or GeoJSON, or a camera register (전국CCTV표준데이터, UTF-8 or "
        "CP949); importing again updates in place",
    )
    imp.add_argument("file")
    imp.add_argument(
        "--sync",
        action="store_true",
        help="make the cameras of the file's providers exactly those of the file: the others are removed "
        "(they leave their shares and the walls)",
    )
    imp.add_argument("--dry-run", action="store_true", help="say what the import would do; write nothing")
    imp.add_argument(
        "--report", type=Path, help="write every refused, held, repeated or warned row to this CSV"
    )
    imp.add_argument(
        "--columns",
        help="the file's own column names, e.g. '자치구=관리기관명,주소=소재지지번주소,수량=카메라대수' "
        "(added to [cameras.columns] of the settings)",
    )
    db_options(imp)
    imp.set_defaults(func=cmd_import)

    pend = s2.add_parser(
        "pending",
        help="the holding list: register rows without a usable position, as a CSV to correct and import "
        "back with 'cameras positions'",
    )
    pend.add_argument("--provider", help="only this provider (관리기관명 or 개방자치단체코드)")
    pend.add_argument("--format", choices=["csv", "json"], default="csv")
    db_options(pend)
    pend.set_defaults(func=cmd_pending)

    pos = s2.add_parser(
        "positions",
        help="import corrected positions (CSV with id, lat, lon): places held rows and moves approximate "
        "cameras to their real position",
    )
    pos.add_argument("file")
    db_options(pos)
    pos.set_defaults(func=cmd_positions)

    ls = s2.add_parser("list", help="list cameras")
    ls.add_argument("--format", choices=["csv", "json"], default="json")
    ls.add_argument("--provider", help="only this provider (관리기관명 or 개방자치단체코드)")
    ls.add_argument("--retired", action="store_true", help="also cameras no longer in their register")
    db_options(ls)
    ls.set_defaults(func=cmd_list)


# ---------------------------------------------------------------------- helpers


def parse_columns(text: str | None) -> dict[str, str]:
    """``'a=관리기관명,b=카메라대수'`` -> {"a": "관리기관명", "b": "카메라대수"}."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        source, sep, target = part.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ValueError(f"--columns: {part.strip()!r} is not 'file column=register column'")
        out[source.strip()] = target.strip()
    return out


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _write_csv(out: io.TextIOBase | Any, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])


def _context(args: argparse.Namespace) -> tuple[Any, Any]:
    """(settings, EngineContext) for an offline command: the engine's services on the engine's database."""
    from app import cli
    from app.domain.clock import SystemClock
    from app.engine.context import CameraCatalog, EngineContext

    settings = cli._settings(args)
    uow = cli._store(args)
    ctx = EngineContext(
        settings=settings,
        clock=SystemClock(),
        uow=uow,
        cameras=CameraCatalog(uow.read),
        base_url=lambda: settings.base_url(None),
    )
    return settings, ctx


def _problem_lines(path: Path, result: Any, report: Path | None) -> list[str]:
    """At most a few lines per kind of problem, with line numbers."""
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for p in result.problems():
        groups[(p.kind, p.code or p.reason)].append(p)
    lines = []
    for (kind, _), items in sorted(groups.items(), key=lambda kv: (kv[1][0].line, kv[0])):
        label = {"refused": "refused", "held": "held", "repeat": "repeated", "warning": "warning"}.get(
            kind, kind
        )
        for p in items[:SHOWN_PER_KIND]:
            lines.append(f"{path}:{p.line}: {label}: {p.reason}")
        if len(items) > SHOWN_PER_KIND:
            more = len(items) - SHOWN_PER_KIND
            where = f"all in {report}" if report else "write them all with --report FILE"
            lines.append(f"{path}: … and {more} more rows {label} like these ({where})")
    return lines


def write_report(path: Path, result: Any) -> int:
    """Every refused, held, repeated or warned row with its line and reason (UTF-8 with BOM for spreadsheets)."""
    held = {h.line: h for h in result.held}
    rows = []
    for p in result.problems():
        h = held.get(p.line) if p.kind == "held" else None
        reg = h.register if h is not None else None
        rows.append(
            (
                p.line,
                p.kind,
                p.code,
                p.reason,
                h.base_id if h else "",
                h.count if h else "",
                reg.provider if reg else "",
                reg.road_address if reg else "",
                reg.lot_address if reg else "",
                h.lat_text if h else "",
                h.lon_text if h else "",
            )
        )
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        _write_csv(
            f,
            (
                "line",
                "kind",
                "code",
                "reason",
                "id",
                "count",
                "provider",
                "road_address",
                "lot_address",
                "lat",
                "lon",
            ),
            rows,
        )
    return len(rows)


# ---------------------------------------------------------------------- commands


def cmd_import(args: argparse.Namespace) -> int:
    from app import cli
    from app.domain.camera_import import parse_cameras
    from app.engine.services.camera_register import import_cameras

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    settings = cli._settings(args)
    try:
        columns = {**settings.cameras.columns, **parse_columns(args.columns)}
        result = parse_cameras(data, path.name, columns)
    except ValueError as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    if args.sync and result.format != "kr-cctv-standard":
        print(
            f"error: {path}: --sync needs a camera register (전국CCTV표준데이터 with 관리기관명)",
            file=sys.stderr,
        )
        return 2
    for line in _problem_lines(path, result, args.report):
        print(line, file=sys.stderr)
    if args.report is not None:
        try:
            write_report(args.report, result)
        except OSError as exc:
            print(f"error: cannot write the report {args.report}: {exc}", file=sys.stderr)
            return 2
    _, ctx = _context(args)
    with ctx.uow(cli._cli_principal()) as work:
        outcome = import_cameras(ctx, work, result, path.name, sync=args.sync, dry_run=args.dry_run)
    summary = {
        "file": path.name,
        "format": result.format,
        "dry_run": bool(args.dry_run),
        "rows_read": result.rows_read,
        "cameras_imported": len(result.cameras),
        "cameras_approximate": sum(1 for c in result.cameras if c.approximate),
        "rows_held": len(result.held),
        "cameras_held": sum(h.count for h in result.held),
        "rows_refused": result.refused,
        "rows_repeated": len(result.repeats),
        "rows_warned": len({w.line for w in result.warnings}),
        **{k: v for k, v in outcome.summary().items() if k != "held"},
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 1 if not result.cameras and result.refused else 0


def cmd_positions(args: argparse.Namespace) -> int:
    from app import cli
    from app.domain.import_common import ErrorLog, check_size, decode_text, read_csv_header
    from app.domain.kr_register import parse_positions
    from app.engine.services.camera_register import place_cameras

    path = Path(args.file)
    try:
        data = path.read_bytes()
        check_size(data)
        decoded = decode_text(data)
        header = read_csv_header(decoded.text)
        if header is None:
            raise ValueError("the file is empty")
        errors = ErrorLog(unbounded=True)
        positions = parse_positions(decoded.text, decoded, header[0], header[1], header[2], errors)
    except (OSError, ValueError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    for err in errors.result():
        print(f"{path}:{err.line}: refused: {err.reason}", file=sys.stderr)
    _, ctx = _context(args)
    with ctx.uow(cli._cli_principal()) as work:
        out = place_cameras(work, positions, path.name)
    for line, pid in out.unknown:
        print(f"{path}:{line}: refused: {pid} is neither on the holding list nor a camera", file=sys.stderr)
    print(
        json.dumps(
            {
                "rows_read": len(positions) + errors.count,
                "placed": len(out.placed),
                "corrected": len(out.corrected),
                "refused": errors.count + len(out.unknown),
            }
        )
    )
    return 0 if not errors.count and not out.unknown else 1


def cmd_pending(args: argparse.Namespace) -> int:
    from sqlalchemy import or_, select

    from app import cli
    from app.store.models import CameraPendingRow

    uow = cli._store(args)
    with uow.read() as s:
        q = select(CameraPendingRow).order_by(
            CameraPendingRow.provider, CameraPendingRow.source, CameraPendingRow.line
        )
        if args.provider:
            q = q.where(
                or_(
                    CameraPendingRow.provider == args.provider,
                    CameraPendingRow.provider_code == args.provider,
                )
            )
        rows = [
            {
                "id": r.id,
                "lat": r.lat_text,
                "lon": r.lon_text,
                "count": r.count,
                "name": r.name,
                "provider": r.provider,
                "provider_code": r.provider_code,
                "register_no": (r.register or {}).get("register_no", ""),
                "road_address": (r.register or {}).get("road_address", ""),
                "lot_address": (r.register or {}).get("lot_address", ""),
                "reason": r.reason,
                "line": r.line,
                "source": r.source,
            }
            for r in s.scalars(q)
        ]
    if args.format == "json":
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    else:
        _write_csv(sys.stdout, _PENDING_COLUMNS, ([r[c] for c in _PENDING_COLUMNS] for r in rows))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from sqlalchemy import or_, select

    from app import cli
    from app.store.models import CameraRow

    uow = cli._store(args)
    with uow.read() as s:
        q = select(CameraRow).order_by(CameraRow.id)
        if not args.retired:
            q = q.where(CameraRow.retired_at.is_(None))
        if args.provider:
            q = q.where(or_(CameraRow.provider == args.provider, CameraRow.provider_code == args.provider))
        rows = [
            {c: getattr(r, c) for c in _LIST_COLUMNS} | {"retired": r.retired_at is not None}
            for r in s.scalars(q)
        ]
    if args.format == "json":
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    else:
        cols = (*_LIST_COLUMNS, "retired")
        _write_csv(sys.stdout, cols, ([r[c] for c in cols] for r in rows))
    return 0
