"""Camera registers in the store: bulk imports, editions (``--sync``), the holding list, corrected positions.

An import writes every camera of a file with a few statements (one bulk insert, one bulk update by primary
key, one query per 900 ids to read what is there), inside one unit of work with its audit rows. A ``sync``
import makes the cameras of the file's providers exactly those of the file: the others are *retired* (kept
for the incidents that used them, out of every search, selection and stream), their active shares lose them
(a share left without cameras is revoked; each agency is told) and they leave every wall.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text, update

from app.domain.camera import Camera, CameraRegister
from app.domain.camera_import import FORMAT_KR, ImportResult
from app.domain.enums import Purpose, ShareStatus
from app.domain.kr_register import HeldRow
from app.engine.context import EngineContext, register_fields
from app.engine.services import notify
from app.engine.services.walls import wall_out
from app.engine.views import share_status
from app.engine.work import Work
from app.store.models import (
    AgencyRow,
    CameraPendingRow,
    CameraRow,
    IncidentRow,
    ShareRow,
    UTCDateTime,
    WallRow,
)

ANALYZE_AFTER = 1000
"""Inserted cameras after which PostgreSQL's statistics are refreshed in the same transaction."""
CHUNK = 900
"""Ids per ``IN (…)`` (SQLite's older builds allow 999 bound parameters)."""

_REGISTER_FIELDS = register_fields()
_SOURCE_FIELDS = ("direction_deg", "fov_deg", "stream_main", "stream_sub")


@dataclass
class ImportOutcome:
    """What an import did (or, dry, would do). Every list holds camera ids."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    held: int = 0
    shares_updated: int = 0
    shares_revoked: int = 0
    walls_updated: int = 0

    def summary(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "moved": len(self.moved),
            "unchanged": self.unchanged,
            "removed": len(self.removed),
            "held": self.held,
            "shares_updated": self.shares_updated,
            "shares_revoked": self.shares_revoked,
            "walls_updated": self.walls_updated,
        }


def _values(camera: Camera, register_file: bool) -> dict[str, Any]:
    """The columns an import sets: a register sets its own fields and leaves streams and views alone (an
    operator may have added them); a GoldenTime CSV or GeoJSON sets those and leaves the register's."""
    out: dict[str, Any] = {
        "name": camera.name,
        "lat": camera.lat,
        "lon": camera.lon,
        "purpose": camera.purpose.value,
        "approximate": camera.approximate,
    }
    if register_file:
        reg = camera.register or CameraRegister()
        out.update({name: getattr(reg, name) for name in _REGISTER_FIELDS})
    else:
        out.update({name: getattr(camera, name) for name in _SOURCE_FIELDS})
    return out


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


_COMPARED = ("name", "lat", "lon", "purpose", "approximate", *_REGISTER_FIELDS, *_SOURCE_FIELDS)
_COLUMNS = [getattr(CameraRow, n) for n in ("id", "retired_at", *_COMPARED)]


def _scope_filter(model: Any, names: set[str], codes: set[str]) -> Any | None:
    conds = []
    if names:
        conds.append(model.provider.in_(sorted(names)))
    if codes:
        conds.append(model.provider_code.in_(sorted(codes)))
    return or_(*conds) if conds else None


def _existing(work: Work, ids: Sequence[str], names: set[str], codes: set[str]) -> dict[str, Any]:
    """What the store holds for ``ids`` and for every camera of the providers ``names``/``codes``.

    The providers' cameras come with one query on their index; the few others, when the table holds few
    others, by reading its ids; else by ``id IN (…)`` in chunks.
    """
    found: dict[str, Any] = {}
    where = _scope_filter(CameraRow, names, codes)
    if where is not None:
        for r in work.session.execute(select(*_COLUMNS).where(where)):
            found[r.id] = r
    rest = [i for i in ids if i not in found]
    if not rest:
        return found
    others = int(work.session.scalar(select(func.count(CameraRow.id))) or 0) - len(found)
    if others <= 0:
        return found
    if others <= 4 * len(rest):
        stored = set(work.session.scalars(select(CameraRow.id)))
        rest = [i for i in rest if i in stored]
    for chunk in _chunks(rest):
        for r in work.session.execute(select(*_COLUMNS).where(CameraRow.id.in_(chunk))):
            found[r.id] = r
    return found


def import_cameras(
    ctx: EngineContext,
    work: Work,
    result: ImportResult,
    source: str,
    *,
    sync: bool = False,
    dry_run: bool = False,
) -> ImportOutcome:
    """Write ``result`` (see the module docstring). ``sync`` needs a register (its providers are the scope)."""
    register_file = result.format == FORMAT_KR
    if sync and not register_file:
        raise ValueError(
            "--sync needs a camera register (전국CCTV표준데이터): its providers are what it replaces"
        )
    incoming = {c.id: c for c in result.cameras}
    scope = (set(result.provider_names), set(result.provider_codes)) if sync else None
    names, codes = set(result.provider_names), set(result.provider_codes)
    existing = _existing(work, list(incoming), names, codes)
    out = ImportOutcome(held=len(result.held))
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    keys: list[str] = []
    stored_of: Callable[[Any], tuple[Any, ...]] = tuple
    for cid, cam in incoming.items():
        values = _values(cam, register_file)
        if not keys:  # the same columns for every camera of the file: compare them as tuples
            keys = list(values)
            stored_of = _getter([2 + _COMPARED.index(k) for k in keys])
        old = existing.get(cid)
        if old is None:
            inserts.append({"id": cid, "online": True, "updated_at": work.now, "retired_at": None, **values})
            out.added.append(cid)
            continue
        retired = old.retired_at is not None
        same = stored_of(old) == tuple(values.values())
        if same and not retired:
            out.unchanged += 1
            continue
        updates.append({"id": cid, "updated_at": work.now, "retired_at": None, **values})
        if retired:
            out.added.append(cid)
        elif (old.lat, old.lon) != (cam.lat, cam.lon):
            out.moved.append(cid)
        else:
            out.changed.append(cid)
    if sync:
        held_ids = {f"{h.base_id}-{n}" for h in result.held for n in range(1, h.count + 1)}
        out.removed = sorted(
            cid
            for cid, old in existing.items()
            if cid not in incoming and old.retired_at is None and cid not in held_ids
        )
    if dry_run:
        if out.removed:
            retire_cameras(ctx, work, out.removed, out, reason=f"not in {source}", dry_run=True)
        return out
    if inserts:
        _bulk_insert(work, inserts)
    if updates:
        _bulk_update(work, updates)
    if len(inserts) >= ANALYZE_AFTER and work.session.get_bind().dialect.name == "postgresql":
        # Fresh statistics: planned with the empty table's, the next import's ``id IN (…)`` reads were
        # sequential scans (50,000 cameras: 80 s instead of 2 s until autovacuum came by).
        work.session.execute(text("ANALYZE cameras"))
    _hold(work, result.held, source, scope, set(incoming))
    if out.removed:
        retire_cameras(ctx, work, out.removed, out, reason=f"not in {source}")
    work.audit(
        "cameras.import",
        "camera",
        None,
        file=source,
        format=result.format,
        sync=sync,
        rows=result.rows_read,
        imported=len(result.cameras),
        refused=result.refused,
        repeats=len(result.repeats),
        **out.summary(),
    )
    work.live("cameras.imported", {"file": source, **out.summary()})
    return out


def _bulk_insert(work: Work, rows: list[dict[str, Any]]) -> None:
    """Insert many cameras. On PostgreSQL with ``COPY`` (an ``executemany`` sends one INSERT per row:
    50,000 cameras took 3.5 s of writing); elsewhere the DBAPI's ``executemany``."""
    conn = work.session.connection()
    table = CameraRow.__table__
    columns = [c.name for c in table.columns]
    # Columns a row leaves out take their Python-side default, as the ORM's insert would give them.
    defaults = {
        c.name: (c.default.arg if c.default is not None and c.default.is_scalar else None)
        for c in table.columns
    }
    if conn.dialect.name != "postgresql":  # SQLite, the other store: qmark parameters
        bound = _binder(conn.dialect, columns)
        sql = f"INSERT INTO cameras ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        conn.exec_driver_sql(
            sql, [tuple(bound(i, row.get(c, defaults[c])) for i, c in enumerate(columns)) for row in rows]
        )
        return
    # Every value as the column's bind processor makes it (UTC without a zone, sealed stream URLs).
    bound = _binder(conn.dialect, columns)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY cameras ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([bound(i, row.get(c, defaults[c])) for i, c in enumerate(columns)])


def _bulk_update(work: Work, rows: list[dict[str, Any]]) -> None:
    """Update many cameras by id, every row with the same columns. On PostgreSQL through a temporary
    table filled with ``COPY`` and one ``UPDATE … FROM``; elsewhere one ``executemany`` on the DBAPI
    (the ORM's bulk update spent 4 s of Python on 50,000 rows)."""
    conn = work.session.connection()
    columns = [c for c in rows[0] if c != "id"]
    bound = _binder(conn.dialect, columns)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE camera_update ON COMMIT DROP AS SELECT id, {', '.join(columns)} "
            "FROM cameras WITH NO DATA"
        )
        raw = conn.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY camera_update (id, {', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row["id"], *(bound(i, row[c]) for i, c in enumerate(columns))])
        sets = ", ".join(f"{c} = u.{c}" for c in columns)
        conn.exec_driver_sql(f"UPDATE cameras SET {sets} FROM camera_update u WHERE cameras.id = u.id")
        conn.exec_driver_sql("DROP TABLE camera_update")
        return
    sql = f"UPDATE cameras SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?"
    conn.exec_driver_sql(
        sql, [(*(bound(i, row[c]) for i, c in enumerate(columns)), row["id"]) for row in rows]
    )


def _binder(dialect: Any, columns: list[str]) -> Callable[[int, Any], Any]:
    """``bound(i, value)``: ``value`` for the DBAPI as column ``columns[i]``'s bind processor makes it (UTC
    datetimes without a zone, booleans, sealed stream URLs). Datetimes are memoised (an import writes the
    same one 50,000 times); a sealed value never is (each gets its own nonce)."""
    table = CameraRow.__table__
    procs = [table.c[c].type._cached_bind_processor(dialect) for c in columns]
    memo = [isinstance(table.c[c].type, UTCDateTime) for c in columns]
    cache: dict[tuple[int, Any], Any] = {}

    def bound(i: int, value: Any) -> Any:
        proc = procs[i]
        if proc is None or value is None:
            return value
        if not memo[i]:
            return proc(value)
        key = (i, value)
        if key not in cache:
            cache[key] = proc(value)
        return cache[key]

    return bound


def _getter(indexes: list[int]) -> Callable[[Any], tuple[Any, ...]]:
    get = itemgetter(*indexes)
    if len(indexes) == 1:
        return lambda row: (get(row),)
    return get


def _hold(
    work: Work,
    held: list[HeldRow],
    source: str,
    scope: tuple[set[str], set[str]] | None,
    placed: set[str],
) -> None:
    """Replace the holding list's rows for these ids (and, syncing, every row of the providers)."""
    if scope is not None:
        where = _scope_filter(CameraPendingRow, *scope)
        if where is not None:
            work.session.execute(delete(CameraPendingRow).where(where))
    # Rows held before and now placed or held again: the list is short, read its ids.
    pending = set(work.session.scalars(select(CameraPendingRow.id)))
    if pending:
        stale = {h.base_id for h in held} | {cid.rsplit("-", 1)[0] for cid in placed}
        gone = sorted(pending & stale)
        for chunk in _chunks(gone):
            work.session.execute(delete(CameraPendingRow).where(CameraPendingRow.id.in_(chunk)))
    if not held:
        return
    rows = {
        h.base_id: {
            "id": h.base_id,
            "count": h.count,
            "name": h.name,
            "purpose": h.purpose.value,
            "provider": h.register.provider,
            "provider_code": h.register.provider_code,
            "register": dataclasses.asdict(h.register),
            "lat_text": h.lat_text[:64],
            "lon_text": h.lon_text[:64],
            "code": h.code,
            "reason": h.reason[:500],
            "source": source[:300],
            "line": h.line,
            "held_at": work.now,
        }
        for h in held
    }
    work.session.execute(insert(CameraPendingRow), list(rows.values()))


def held_row(row: CameraPendingRow) -> HeldRow:
    reg = CameraRegister(**{k: v for k, v in (row.register or {}).items() if k in _REGISTER_FIELDS})
    return HeldRow(
        row.line,
        row.code,
        row.reason,
        row.id,
        row.count,
        row.name,
        Purpose(row.purpose),
        reg,
        row.lat_text,
        row.lon_text,
    )


def retire_cameras(
    ctx: EngineContext,
    work: Work,
    camera_ids: Sequence[str],
    out: ImportOutcome,
    reason: str,
    *,
    dry_run: bool = False,
) -> None:
    """Take cameras out of service: retired in the store, out of every active share (a share left with
    none is revoked) and off every wall; each change audited, told to the agencies and pushed live.
    ``dry_run`` only counts the shares and walls it would change."""
    gone = set(camera_ids)
    if not dry_run:
        work.session.execute(
            update(CameraRow),
            [{"id": cid, "retired_at": work.now, "updated_at": work.now} for cid in camera_ids],
        )
        for cid in camera_ids:
            work.audit("camera.retire", "camera", cid, reason=reason)
    active = work.session.scalars(
        select(ShareRow).where(ShareRow.revoked_at.is_(None), ShareRow.expires_at > work.now)
    ).all()
    for share in active:
        cams = [str(c) for c in share.camera_ids]
        keep = [c for c in cams if c not in gone]
        if len(keep) == len(cams) or share_status(share, work.now) is not ShareStatus.ACTIVE:
            continue
        if dry_run:
            if keep:
                out.shares_updated += 1
            else:
                out.shares_revoked += 1
            continue
        incident = work.session.get(IncidentRow, share.incident_id, with_for_update=True)
        agency = work.session.get(AgencyRow, share.agency_id)
        assert incident is not None and agency is not None
        removed = [c for c in cams if c in gone]
        live = {"incident_id": incident.id, "share_id": share.id, "agency_id": agency.id}
        if keep:
            share.camera_ids = keep
            work.timeline(
                incident.id, "share.cameras_removed", share_id=share.id, cameras=removed, reason=reason
            )
            work.audit("share.update", "share", share.id, removed_cameras=removed, reason=reason)
            notify.send(ctx, work, agency, incident, "share.updated", share=share)
            work.live("share.updated", live)
            out.shares_updated += 1
        else:
            share.revoked_at = work.now
            work.timeline(incident.id, "share.revoked", share_id=share.id, agency=agency.name, reason=reason)
            work.audit(
                "share.revoke", "share", share.id, incident_id=incident.id, agency_id=agency.id, reason=reason
            )
            notify.send(ctx, work, agency, incident, "share.revoked", share=share)
            work.live("share.revoked", live)
            out.shares_revoked += 1
    for wall in work.session.scalars(select(WallRow)).all():
        layout = dict(wall.layout or {})
        tiles = list(layout.get("tiles", []))
        previous = dict(wall.previous_layout) if wall.previous_layout else None
        earlier = list((previous or {}).get("tiles", []))
        if not any(t in gone for t in [*tiles, *earlier] if t):
            continue
        if dry_run:
            out.walls_updated += 1
            continue
        layout["tiles"] = [None if t in gone else t for t in tiles]
        wall.layout, wall.updated_at = layout, work.now
        if previous is not None:  # "release" must not bring a removed camera back
            previous["tiles"] = [None if t in gone else t for t in earlier]
            wall.previous_layout = previous
        removed = sorted(gone & {t for t in [*tiles, *earlier] if t})
        work.audit("wall.update", "wall", wall.id, removed_cameras=removed, reason=reason)
        work.live("wall.updated", wall_out(wall).model_dump(mode="json"))
        out.walls_updated += 1


def upsert_cameras(work: Work, cameras: Iterable[Camera]) -> tuple[int, int]:
    """Insert or update in place (never duplicate), every field the cameras carry. (inserted, updated)."""
    by_id = {c.id: c for c in cameras}
    ids = list(by_id)
    known: set[str] = set()
    for chunk in _chunks(ids):
        known.update(work.session.scalars(select(CameraRow.id).where(CameraRow.id.in_(chunk))))
    rows = [
        {
            "id": c.id,
            "updated_at": work.now,
            "retired_at": None,
            **_values(c, c.register is not None),
            **_values(c, False),
        }
        for c in by_id.values()
    ]
    new = [{"online": True, **r} for r in rows if r["id"] not in known]
    old = [r for r in rows if r["id"] in known]
    if new:
        work.session.execute(insert(CameraRow), new)
    if old:
        work.session.execute(update(CameraRow), old)
    return len(new), len(old)


@dataclass
class PlaceOutcome:
    placed: list[str] = field(default_factory=list)
    """Held rows placed (their base ids)."""
    corrected: list[str] = field(default_factory=list)
    """Cameras moved to a corrected position (their approximate flag cleared)."""
    unknown: list[tuple[int, str]] = field(default_factory=list)


def place_cameras(
    work: Work, positions: Sequence[tuple[int, str, float, float]], source: str
) -> PlaceOutcome:
    """Corrected positions ``(line, id, lat, lon)``: an id of the holding list imports its cameras there;
    a camera id (or the id of a register row, without its ``-n``) moves those cameras and clears their
    approximate flag."""
    out = PlaceOutcome()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for line, pid, lat, lon in positions:
        pending = work.session.get(CameraPendingRow, pid)
        if pending is not None:
            for cam in held_row(pending).cameras(lat, lon):
                row = work.session.get(CameraRow, cam.id)
                values = {"updated_at": work.now, "retired_at": None, **_values(cam, True)}
                if row is None:
                    inserts.append({"id": cam.id, "online": True, **values})
                else:
                    updates.append({"id": cam.id, **values})
            work.session.delete(pending)
            out.placed.append(pid)
            continue
        ids = list(
            work.session.scalars(
                select(CameraRow.id).where(
                    or_(
                        CameraRow.id == pid,
                        CameraRow.id.like(pid.replace("%", "").replace("_", "\\_") + "-%", escape="\\"),
                    ),
                    CameraRow.retired_at.is_(None),
                )
            )
        )
        ids = [i for i in ids if i == pid or i.rsplit("-", 1)[0] == pid]
        if not ids:
            out.unknown.append((line, pid))
            continue
        for cid in ids:
            updates.append({"id": cid, "lat": lat, "lon": lon, "approximate": False, "updated_at": work.now})
        out.corrected.extend(ids)
    work.session.flush()
    if inserts:
        work.session.execute(insert(CameraRow), inserts)
    if updates:
        work.session.execute(update(CameraRow), updates)
    work.audit(
        "cameras.position",
        "camera",
        None,
        file=source,
        placed=len(out.placed),
        corrected=len(out.corrected),
        unknown=len(out.unknown),
    )
    work.live(
        "cameras.imported", {"file": source, "placed": len(out.placed), "corrected": len(out.corrected)}
    )
    return out
