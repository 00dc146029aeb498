"""``districts`` sub-commands: import a GeoJSON FeatureCollection of administrative districts, list them.

Rules and limits: docs/ENGINE.md, "Districts".
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 200 * 1024 * 1024
SHOWN_PROBLEMS = 20


def cmd_import(args: argparse.Namespace) -> int:
    from app.cli import _cli_principal, _store
    from app.domain.districts import DistrictError, parse_district_geojson
    from app.engine.services.districts import store_districts

    path = Path(args.file)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            print(f"error: {path} is {size} bytes; the limit is {MAX_FILE_BYTES}", file=sys.stderr)
            return 2
        data = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        parsed = parse_district_geojson(data, args.code_property, args.name_property)
    except DistrictError as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    for problem in parsed.problems[:SHOWN_PROBLEMS]:
        print(f"refused: {problem}", file=sys.stderr)
    if len(parsed.problems) > SHOWN_PROBLEMS:
        print(f"… and {len(parsed.problems) - SHOWN_PROBLEMS} more refused features", file=sys.stderr)
    if not parsed.districts:
        print(
            f"error: {path}: no usable district (code property {args.code_property!r}; "
            f"{len(parsed.problems)} features refused)",
            file=sys.stderr,
        )
        return 1
    uow = _store(args)
    with uow(_cli_principal()) as work:
        n = store_districts(work.session, parsed.districts, work.now, source=path.name)
        work.audit(
            "districts.import",
            "district",
            None,
            file=path.name,
            imported=n,
            refused=len(parsed.problems),
            codes=[d.code for d in parsed.districts][:50],
        )
    print(f"{n} districts imported (replacing any with the same code); {len(parsed.problems)} refused")
    return 1 if parsed.problems else 0


def cmd_list(args: argparse.Namespace) -> int:
    from app.cli import _store
    from app.engine.services.districts import district_summaries

    uow = _store(args)
    with uow.read() as session:
        rows = district_summaries(session)
    if args.format == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        w = csv.writer(sys.stdout)
        w.writerow(["code", "name", "south", "west", "north", "east", "points"])
        for r in rows:
            w.writerow([r["code"], r["name"], *r["bbox"], r["points"]])
    return 0


def register(sub: Any, db_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("districts", help="administrative districts (for CAP <geocode> alerts)")
    s2 = p.add_subparsers(dest="action", required=True)
    imp = s2.add_parser(
        "import",
        help="import a GeoJSON FeatureCollection of Polygons and MultiPolygons; a district replaces the one "
        "with the same code",
    )
    imp.add_argument("file")
    imp.add_argument("--code-property", default="code", help="the feature property holding the code")
    imp.add_argument("--name-property", default="name", help="the feature property holding the name")
    db_options(imp)
    imp.set_defaults(func=cmd_import)
    ls = s2.add_parser("list", help="list districts (code, name, box)")
    ls.add_argument("--format", choices=["csv", "json"], default="csv")
    db_options(ls)
    ls.set_defaults(func=cmd_list)
