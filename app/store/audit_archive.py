"""Signed archive segments of the audit chain: the only way audit rows leave the database.

A segment is two files in the archive directory (``[retention] archive_dir``):

* ``audit-<first>-<last>.jsonl`` — one row a line, ids ``first``..``last`` in chain order, each the UTF-8
  JSON (sorted keys, separators ``,`` ``:``) of ``{"id", "at", "actor", "action", "target_type",
  "target_id", "client", "detail", "prev_hash", "row_hash"}`` with ``at`` as in the chain's canonical form;
* ``audit-<first>-<last>.seal.json`` — ``{"format", "first_id", "last_id", "rows", "first_prev",
  "last_hash", "up_to", "sha256", "at", "public_key", "signature"}``: ``sha256`` of the ``.jsonl`` file,
  ``signature`` Ed25519 (the audit signing key) over the UTF-8 JSON of every other field but
  ``public_key``, sorted keys, separators ``,`` ``:``.

The seal is also stored in ``audit_archives``; the database refuses to delete an audit row that no
archive holds (migration lawful_audit_0002), and the live chain is verified from the newest seal's
``last_hash`` on. ``verify_dir`` re-walks every segment offline: the file's digest, the seal's
signature, every row's hash, each segment following the one before it, the first one from genesis.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store import audit_chain
from app.store.audit_checkpoint import _public_hex
from app.store.models import AuditArchiveRow, AuditRow

FORMAT = "goldentime-audit-archive/1"
_SIGNED = ("format", "first_id", "last_id", "rows", "first_prev", "last_hash", "up_to", "sha256", "at")


def _json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_line(r: AuditRow) -> bytes:
    return _json(
        {
            "id": r.id,
            "at": audit_chain._at(r.at),
            "actor": r.actor,
            "action": r.action,
            "target_type": r.target_type,
            "target_id": r.target_id,
            "client": r.client,
            "detail": r.detail or {},
            "prev_hash": r.prev_hash,
            "row_hash": r.row_hash,
        }
    )


def stem(first_id: int, last_id: int) -> str:
    return f"audit-{first_id:012d}-{last_id:012d}"


def sign(key: Ed25519PrivateKey, seal: dict[str, Any]) -> dict[str, Any]:
    body = {k: seal[k] for k in _SIGNED}
    return {**body, "public_key": _public_hex(key), "signature": key.sign(_json(body)).hex()}


def check_seal(seal: dict[str, Any], trusted_public_hex: str | None = None) -> str | None:
    """None if the seal is signed correctly (by ``trusted_public_hex`` when given), else why not."""
    try:
        if seal.get("format") != FORMAT:
            return f"unknown archive format {seal.get('format')!r}"
        pub_hex = str(seal["public_key"])
        if trusted_public_hex is not None and pub_hex != trusted_public_hex:
            return "the seal is signed by another key than this engine's"
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub_hex)).verify(
            bytes.fromhex(str(seal["signature"])), _json({k: seal[k] for k in _SIGNED})
        )
    except (KeyError, ValueError, TypeError):
        return "the seal is malformed"
    except InvalidSignature:
        return "the seal's signature is invalid (the seal was changed)"
    return None


def seal_of(row: AuditArchiveRow) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "first_id": row.first_id,
        "last_id": row.last_id,
        "rows": row.rows,
        "first_prev": row.first_prev,
        "last_hash": row.last_hash,
        "up_to": row.up_to.isoformat(),
        "sha256": row.sha256,
        "at": row.at.isoformat(),
        "public_key": row.public_key,
        "signature": row.signature,
    }


def latest(session: Session) -> AuditArchiveRow | None:
    return session.scalars(select(AuditArchiveRow).order_by(AuditArchiveRow.last_id.desc()).limit(1)).first()


@dataclass(frozen=True)
class LiveStart:
    """Where the live chain starts: after row ``after_id``, following ``prev`` (None: from genesis)."""

    after_id: int
    prev: str | None
    problem: str | None = None


def live_start(session: Session, trusted_public_hex: str | None) -> LiveStart:
    row = latest(session)
    if row is None:
        return LiveStart(0, None)
    why = check_seal(seal_of(row), trusted_public_hex)
    if why:
        return LiveStart(row.last_id, row.last_hash, f"archive record of rows ..{row.last_id}: {why}")
    return LiveStart(row.last_id, row.last_hash)


class ArchiveError(RuntimeError):
    pass


def write_segment(
    rows: Iterable[AuditRow],
    directory: Path,
    key: Ed25519PrivateKey,
    start_prev: str | None,
    up_to: datetime,
    now: datetime,
) -> dict[str, Any]:
    """Write the rows (a prefix of the live chain, in id order) as a sealed segment; returns the seal.
    Refuses (ArchiveError) a prefix that does not chain: tampering is never laundered into an archive."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / ".segment.jsonl.tmp"
    digest = hashlib.sha256()
    first_id = last_id = count = 0
    first_prev: str | None = None
    last_hash = start_prev or audit_chain.GENESIS
    with open(tmp, "wb") as f:
        for r, what in audit_chain.walk(rows, start_prev):
            if what:
                raise ArchiveError(f"audit chain broken at row {r.id}: {what}; not archiving")
            if count == 0:
                first_id, first_prev = r.id, r.prev_hash
            last_id = r.id
            if r.row_hash:
                last_hash = r.row_hash
            line = row_line(r) + b"\n"
            digest.update(line)
            f.write(line)
            count += 1
        f.flush()
        os.fsync(f.fileno())
    if count == 0:
        tmp.unlink()
        raise ArchiveError("nothing to archive")
    name = stem(first_id, last_id)
    os.replace(tmp, directory / f"{name}.jsonl")
    seal = sign(
        key,
        {
            "format": FORMAT,
            "first_id": first_id,
            "last_id": last_id,
            "rows": count,
            "first_prev": first_prev,
            "last_hash": last_hash,
            "up_to": up_to.isoformat(),
            "sha256": digest.hexdigest(),
            "at": now.isoformat(),
        },
    )
    seal_path = directory / f"{name}.seal.json"
    seal_tmp = directory / ".seal.json.tmp"
    seal_tmp.write_text(json.dumps(seal, indent=2) + "\n", encoding="utf-8")
    os.replace(seal_tmp, seal_path)
    return {**seal, "file": f"{name}.jsonl"}


def row_of_seal(seal: dict[str, Any]) -> AuditArchiveRow:
    return AuditArchiveRow(
        first_id=int(seal["first_id"]),
        last_id=int(seal["last_id"]),
        rows=int(seal["rows"]),
        first_prev=seal["first_prev"],
        last_hash=str(seal["last_hash"]),
        up_to=datetime.fromisoformat(str(seal["up_to"])),
        file=str(seal["file"]),
        sha256=str(seal["sha256"]),
        at=datetime.fromisoformat(str(seal["at"])),
        public_key=str(seal["public_key"]),
        signature=str(seal["signature"]),
    )


class _Line:
    """An archived row read back, shaped like an AuditRow for ``audit_chain.walk``."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.id = int(d["id"])
        self.at = datetime.fromisoformat(str(d["at"]).replace("Z", "+00:00"))
        self.actor = d["actor"]
        self.action = d["action"]
        self.target_type = d["target_type"]
        self.target_id = d["target_id"]
        self.client = d["client"]
        self.detail = d["detail"]
        self.prev_hash = d["prev_hash"]
        self.row_hash = d["row_hash"]


@dataclass
class DirReport:
    segments: int = 0
    rows: int = 0
    last_id: int = 0
    last_hash: str | None = None
    problems: list[str] | None = None


def verify_dir(
    directory: Path, trusted_public_hex: str | None, checkpoints: dict[int, str] | None = None
) -> DirReport:
    """Check every segment in ``directory`` offline; problems name the file and what is wrong.
    ``checkpoints`` (row id -> hash): archived rows a signed checkpoint names must still have that hash."""
    wanted = checkpoints or {}
    report = DirReport(problems=[])
    problems = report.problems
    assert problems is not None
    seals = sorted(directory.glob("audit-*.seal.json"))
    prev: str | None = None
    expect_first: int | None = None
    for seal_path in seals:
        name = seal_path.name
        try:
            seal = json.loads(seal_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{name}: cannot read it: {exc}")
            return report
        why = check_seal(seal, trusted_public_hex)
        if why:
            problems.append(f"{name}: {why}")
            return report
        data_path = seal_path.with_name(stem(int(seal["first_id"]), int(seal["last_id"])) + ".jsonl")
        try:
            raw = data_path.read_bytes()
        except OSError as exc:
            problems.append(f"{data_path.name}: missing: {exc}")
            return report
        if hashlib.sha256(raw).hexdigest() != seal["sha256"]:
            problems.append(f"{data_path.name}: its SHA-256 is not the sealed one (the file was changed)")
            return report
        if expect_first is not None and int(seal["first_id"]) <= report.last_id:
            problems.append(f"{name}: overlaps the segment before it")
            return report
        if report.segments and seal["first_prev"] != prev:
            problems.append(f"{name}: does not follow the segment before it (a segment is missing)")
            return report
        if not report.segments and seal["first_prev"] not in (None, audit_chain.GENESIS):
            problems.append(f"{name}: the first segment does not start at the chain's genesis")
            return report
        lines = []
        try:
            lines = [_Line(json.loads(x)) for x in raw.splitlines() if x.strip()]
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{data_path.name}: malformed row: {exc}")
            return report
        if len(lines) != int(seal["rows"]):
            problems.append(f"{data_path.name}: holds {len(lines)} rows, the seal says {seal['rows']}")
            return report
        last = prev if prev is not None else audit_chain.GENESIS
        for r, what in audit_chain.walk(lines, prev):  # type: ignore[arg-type]
            if what:
                problems.append(f"{data_path.name}: row {r.id}: {what}")
                return report
            if r.id in wanted and wanted[r.id] != r.row_hash:
                problems.append(f"{data_path.name}: row {r.id} no longer has the checkpointed hash")
                return report
            if r.row_hash:
                last = r.row_hash
        if last != seal["last_hash"] or (lines and lines[-1].id != int(seal["last_id"])):
            problems.append(f"{data_path.name}: its last row is not the sealed one")
            return report
        prev = last
        expect_first = int(seal["last_id"]) + 1
        report.segments += 1
        report.rows += len(lines)
        report.last_id = int(seal["last_id"])
        report.last_hash = last
    return report
