"""The evidence bundle of one incident: a zip that a privacy officer or a court checks offline.

``python main.py incident export ID --out FILE.zip`` and ``GET /api/v1/incidents/{id}/evidence`` write it;
``python main.py incident verify FILE.zip`` checks it without the engine or its database. Contents:

- ``incident.eido.json`` — the incident as NENA EIDO (validated against NENA-STA-021.1's schema);
- ``incident.json`` — the incident as the control room sees it (timeline, cameras, shares, reports,
  deliveries, track), with no share token or media URL in it;
- ``timeline.json`` — the incident's timeline;
- ``shares.json`` — every share with its legal basis (law, article, titles), who asked, created, approved or
  rejected it and why, and every decision on it from the audit (create, approve, confirm, reject, extend,
  revoke);
- ``viewings.json`` — every viewing from the audit: through the incident's shares, and the control room's
  own viewings of the incident's cameras while it was open (who, which camera, from, to, how long, bytes);
- ``snapshots/<report id>.jpg`` — the report snapshots the engine stored, if any;
- ``audit/rows.json`` — the incident's audit rows with every field the chain hashes, their ``prev_hash`` and
  ``row_hash`` (app/store/audit_chain.py: a verifier recomputes each hash);
- ``audit/chain.jsonl`` — the chain's links ``[id, prev_hash, row_hash]`` from the incident's first audit row
  to the chain head at export time (other rows' content is withheld: it concerns other incidents);
- ``audit/checkpoint.json`` — a checkpoint of that head signed with the audit key (app/store/audit_checkpoint);
- ``audit/stored-checkpoints.json`` — the checkpoints the engine signed at the time (hourly, at shutdown;
  table ``audit_checkpoints``) whose row falls in the links' range: each must still match its link;
- ``README.txt``; ``manifest.json`` — SHA-256 and size of every file above, the audit key's public key and
  fingerprint; ``manifest.sig`` — the Ed25519 signature (hex) of ``manifest.json``'s exact bytes.

What ``verify`` proves: no byte of any listed file changed, none is missing or added, the manifest is signed by
the key whose fingerprint it names (compare it with the one the city publishes, or pass ``--key``), each
audit row's hash matches its content and its place in the chain, the links are unbroken up to the signed
checkpoint, and any checkpoint kept off the machine (``--checkpoint``) that falls in that range still holds.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.enums import IncidentStatus, Service
from app.engine.settings import Settings
from app.engine.views import incident_detail, share_status
from app.formats.api import OutboundEvent
from app.formats.eido import build_eido
from app.store import audit_chain, audit_checkpoint
from app.store.models import AgencyRow, AuditCheckpointRow, AuditRow, IncidentRow, ReportRow, ShareRow

FORMAT = "goldentime-evidence-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
ROWS = "audit/rows.json"
CHAIN = "audit/chain.jsonl"
CHECKPOINT = "audit/checkpoint.json"
STORED = "audit/stored-checkpoints.json"
EIDO = "incident.eido.json"
# A verifier reads at most this much of one member (a hostile zip must not make it read forever); only the
# audit files are held in memory, the others are hashed as streams.
MAX_MEMBER_BYTES = 16 * 1024**3

README = """GoldenTime evidence bundle ({fmt})
Incident {iid}, exported {at} by {who}.

Check it offline:   python main.py incident verify THIS.zip [--key FINGERPRINT] [--checkpoint CP.json]
The manifest is signed (Ed25519) by the engine's audit key; its fingerprint is
  {fp}
Compare it with the fingerprint the operating body publishes (or pass it as --key).

manifest.json lists the SHA-256 of every other file; manifest.sig is the signature of manifest.json's bytes.
audit/rows.json holds this incident's audit rows with the fields the chain hashes (docs/ENGINE.md,
"Tamper-evident audit"): row_hash = SHA-256 of the canonical JSON of the row with its prev_hash.
audit/chain.jsonl holds the chain links [id, prev_hash, row_hash] from the first of these rows to the chain
head at export; audit/checkpoint.json is a signed checkpoint of that head.
"""


def fingerprint(public_hex: str) -> str:
    """A public key's fingerprint: ``sha256:`` and the hex SHA-256 of its 32 raw bytes."""
    return "sha256:" + hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()


def _public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        out = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return out if out.tzinfo else out.replace(tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=str).encode("utf-8")


class _Zip:
    """Writes members and keeps the SHA-256 and size of each for the manifest."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.files: dict[str, dict[str, Any]] = {}

    def add(self, name: str, data: bytes) -> None:
        self.zf.writestr(name, data)
        self.files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    @contextmanager
    def stream(self, name: str) -> Iterator[Any]:
        digest = hashlib.sha256()
        size = 0
        with self.zf.open(name, "w", force_zip64=True) as fh:

            def write(data: bytes) -> None:
                nonlocal size
                digest.update(data)
                size += len(data)
                fh.write(data)

            yield write
        self.files[name] = {"sha256": digest.hexdigest(), "bytes": size}


@dataclass
class ExportSummary:
    incident_id: str
    files: int
    audit_rows: int
    chain_links: int
    manifest_sha256: str
    key_fingerprint: str
    warnings: list[str] = field(default_factory=list)


def _audit_row(r: AuditRow) -> dict[str, Any]:
    return {
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


def _viewings(rows: list[dict[str, Any]], share_ids: set[str]) -> list[dict[str, Any]]:
    """Viewings from ``video.view`` rows (ended: from/to) and starts (``video.view.start`` or no ``to``) that
    never ended; the start of an ended viewing is folded into it."""
    out: dict[tuple[str, Any, str], dict[str, Any]] = {}
    for r in rows:
        if not str(r["action"]).startswith("video.view"):
            continue
        d = r["detail"]
        start = _parse(d.get("from")) or _parse(d.get("started_at")) or _parse(r["at"])
        end = _parse(d.get("to")) or _parse(d.get("ended_at"))
        assert start is not None
        # A viewing's start and end rows share its ``viewing`` id when the relay gives one.
        key = (str(r["actor"]), r["target_id"], str(d.get("viewing") or start.isoformat()))
        seen = out.get(key)
        if seen is not None and seen["to"] is not None and end is None:
            continue
        sid = d.get("share_id")
        out[key] = {
            "viewer": r["actor"],
            "camera_id": r["target_id"],
            "share_id": sid,
            "through": "share" if sid in share_ids else str(d.get("kind") or "control room"),
            "from": start.isoformat(),
            "to": None if end is None else end.isoformat(),
            "seconds": None if end is None else round((end - start).total_seconds(), 1),
            "bytes": d.get("bytes"),
            "client": r["client"],
            "audit_row": r["id"],
        }
    return sorted(out.values(), key=lambda v: (v["from"], v["audit_row"]))


def export_bundle(
    session: Session,
    settings: Settings,
    incident_id: str,
    out: IO[bytes],
    *,
    key: Ed25519PrivateKey,
    actor: str,
    now: datetime,
) -> ExportSummary:
    """Write the evidence bundle of ``incident_id`` to ``out`` (a zip). ``LookupError`` if no such incident."""
    incident = session.get(IncidentRow, incident_id)
    if incident is None:
        raise LookupError(incident_id)
    golden = settings.golden_time_s.get(Service(incident.service), 300)
    detail = incident_detail(
        session,
        incident,
        golden_time_s=golden,
        now=now,
        url=lambda token, camera: "",
        snapshot_url=lambda report, s: None,
    )
    # No capability token or media URL goes into evidence: the bundle travels.
    for s in detail.shares:
        s.urls, s.viewer_url = {}, None
    shares = list(
        session.scalars(
            select(ShareRow).where(ShareRow.incident_id == incident_id).order_by(ShareRow.created_at)
        )
    )
    reports = list(session.scalars(select(ReportRow).where(ReportRow.incident_id == incident_id)))
    share_ids = {s.id for s in shares}
    report_ids = {r.id for r in reports}
    cameras = {c.id for c in detail.cameras} | {str(c) for s in shares for c in s.camera_ids}
    opened = _aware(incident.created_at)
    closed = _aware(incident.closed_at) if incident.closed_at else None

    def relevant(r: AuditRow) -> bool:
        d = r.detail or {}
        if r.target_type == "incident" and r.target_id == incident_id:
            return True
        if (r.target_type == "share" and r.target_id in share_ids) or (
            r.target_type == "report" and r.target_id in report_ids
        ):
            return True
        if d.get("incident_id") == incident_id or d.get("share_id") in share_ids:
            return True
        if r.action.startswith("video.view") and r.target_id in cameras and not d.get("share_id"):
            # The control room's own viewing of one of the incident's cameras while the incident was open.
            start = _parse(d.get("from")) or _parse(d.get("started_at")) or _aware(r.at)
            end = _parse(d.get("to")) or _aware(r.at)
            return end >= opened and (closed is None or start <= closed)
        return False

    first = session.scalar(
        select(func.min(AuditRow.id)).where(
            AuditRow.target_type == "incident", AuditRow.target_id == incident_id
        )
    )
    if first is None:
        first = session.scalar(select(func.min(AuditRow.id)).where(AuditRow.at >= incident.created_at))
    public = _public_hex(key)
    fp = fingerprint(public)
    warnings: list[str] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        z = _Zip(zf)
        rows: list[dict[str, Any]] = []
        links = 0
        head: tuple[int, str | None] | None = None
        expected: str | None = None
        if first is not None:
            q = (
                select(AuditRow)
                .where(AuditRow.id >= first)
                .order_by(AuditRow.id)
                .execution_options(yield_per=2000)
            )
            with z.stream(CHAIN) as write:
                for r in session.scalars(q):
                    write(json.dumps([r.id, r.prev_hash, r.row_hash]).encode() + b"\n")
                    links += 1
                    if expected is not None and r.prev_hash != expected and len(warnings) < 20:
                        warnings.append(f"audit chain broken in the database before row {r.id}")
                    expected = r.row_hash
                    head = (r.id, r.row_hash)
                    if relevant(r):
                        rows.append(_audit_row(r))
        z.add(ROWS, _dumps(rows))
        if head is not None and head[1] is not None:
            cp = audit_checkpoint.make(key, head[0], head[1], now)
            z.add(CHECKPOINT, _dumps(cp))
            # The checkpoints the engine signed at the time (hourly, at shutdown) inside the links' range:
            # they show the incident's rows were in the chain before the export, not only at it.
            stored = [
                {
                    "row_id": c.row_id,
                    "row_hash": c.row_hash,
                    "at": _aware(c.at).astimezone(UTC).isoformat(),
                    "public_key": c.public_key,
                    "signature": c.signature,
                    "reason": c.reason,
                }
                for c in session.scalars(
                    select(AuditCheckpointRow)
                    .where(AuditCheckpointRow.row_id >= first, AuditCheckpointRow.row_id <= head[0])
                    .order_by(AuditCheckpointRow.id)
                )
            ]
            z.add(STORED, _dumps(stored))
        else:
            warnings.append("no chained audit row: the bundle carries no checkpoint")

        doc = build_eido(
            OutboundEvent(
                type="incident.closed"
                if incident.status == IncidentStatus.CLOSED.value
                else "incident.updated",
                id=f"evidence-{incident_id}",
                occurred_at=now,
                sequence=0,
                incident=detail,
                cameras=detail.cameras,
                facilities=detail.facilities,
            ),
            "GoldenTime control room",
            settings.sender_id,
        )
        z.add(EIDO, _dumps(doc))
        z.add("incident.json", detail.model_dump_json(indent=2).encode("utf-8"))
        z.add("timeline.json", _dumps([t.model_dump(mode="json") for t in detail.timeline]))

        agencies = {a.id: a.name for a in session.scalars(select(AgencyRow))}
        decisions: dict[str, list[dict[str, Any]]] = {}
        for doc_row in rows:
            sid = doc_row["target_id"] if doc_row["target_type"] == "share" else None
            if sid in share_ids:
                decisions.setdefault(str(sid), []).append(
                    {k: doc_row[k] for k in ("id", "at", "actor", "action", "client", "detail")}
                )
        share_docs = []
        for sh in shares:
            basis = settings.provision.basis(sh.legal_basis)
            share_docs.append(
                {
                    "id": sh.id,
                    "recipient": {"id": sh.agency_id, "name": agencies.get(sh.agency_id, sh.agency_id)},
                    "cameras": [str(c) for c in sh.camera_ids],
                    "purpose": sh.purpose,
                    "legal_basis": {"id": sh.legal_basis or None}
                    | ({} if basis is None else basis.model_dump(exclude={"id"})),
                    "requesting_agency": None
                    if sh.requesting_agency_id is None
                    else {
                        "id": sh.requesting_agency_id,
                        "name": agencies.get(sh.requesting_agency_id, sh.requesting_agency_id),
                    },
                    "requesting_officer": sh.requesting_officer or None,
                    "case_number": sh.case_number or None,
                    "created_by": sh.created_by,
                    "created_at": _iso(sh.created_at),
                    "minutes": sh.minutes,
                    "expires_at": _iso(sh.expires_at),
                    "revoked_at": _iso(sh.revoked_at),
                    "status_at_export": share_status(sh, now).value,
                    "approval": sh.approval,
                    "approved_by": sh.approved_by,
                    "approved_at": _iso(sh.approved_at),
                    "decision_reason": sh.decision_reason or None,
                    "pending_extension": None
                    if sh.ext_minutes is None
                    else {"minutes": sh.ext_minutes, "reason": sh.ext_reason, "by": sh.ext_by},
                    "form": "snapshot and live view"
                    if any(rep.share_id == sh.id for rep in reports)
                    else "live view",
                    "decisions": decisions.get(sh.id, []),
                }
            )
        z.add("shares.json", _dumps(share_docs))
        z.add("viewings.json", _dumps(_viewings(rows, share_ids)))
        snap_dir = settings.data_dir / "snapshots"
        for rep in reports:
            path = snap_dir / f"{rep.id}.jpg"
            if re.fullmatch(r"[A-Za-z0-9_.-]+", rep.id) and path.is_file():
                z.add(f"snapshots/{rep.id}.jpg", path.read_bytes())
        z.add(
            "README.txt",
            README.format(fmt=FORMAT, iid=incident_id, at=_iso(now), who=actor, fp=fp).encode("utf-8"),
        )
        manifest = {
            "format": FORMAT,
            "incident_id": incident_id,
            "created_at": _iso(now),
            "created_by": actor,
            "sender": settings.sender_id,
            "files": dict(sorted(z.files.items())),
            "public_key": public,
            "key_fingerprint": fp,
            "algorithm": "Ed25519 over the exact bytes of manifest.json; SHA-256 per file",
        }
        body = _dumps(manifest)
        zf.writestr(MANIFEST, body)
        zf.writestr(SIGNATURE, key.sign(body).hex() + "\n")
    return ExportSummary(
        incident_id=incident_id,
        files=len(z.files),
        audit_rows=len(rows),
        chain_links=links,
        manifest_sha256=hashlib.sha256(body).hexdigest(),
        key_fingerprint=fp,
        warnings=warnings,
    )


# ---------------------------------------------------------------------------------------------- verify


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    incident_id: str | None = None
    key_fingerprint: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _digest(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, keep: bool
) -> tuple[str, int, bytes | None] | None:
    """SHA-256 and size of a member read as a stream (kept in memory only with ``keep``), or None when it
    holds more than ``limit`` bytes."""
    digest = hashlib.sha256()
    size = 0
    buf = io.BytesIO() if keep else None
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 20):
            size += len(chunk)
            if size > limit:
                return None
            digest.update(chunk)
            if buf is not None:
                buf.write(chunk)
    return digest.hexdigest(), size, None if buf is None else buf.getvalue()


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The member's bytes, or None when it holds more than ``limit`` (a zip bomb stops here)."""
    buf = io.BytesIO()
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 20):
            buf.write(chunk)
            if buf.tell() > limit:
                return None
    return buf.getvalue()


def _check_chain(
    report: VerifyReport,
    rows_data: bytes | None,
    chain_data: bytes | None,
    cp_data: bytes | None,
    public: str,
    checkpoints: list[tuple[str, dict[str, Any]]],
    stored_data: bytes | None = None,
) -> None:
    problems = report.problems
    try:
        rows = json.loads(rows_data) if rows_data is not None else []
        links = [json.loads(line) for line in (chain_data or b"").splitlines() if line.strip()]
    except ValueError as exc:
        problems.append(f"audit files are not valid JSON: {exc}")
        return
    if not isinstance(rows, list):
        problems.append(f"{ROWS}: not a list of rows")
        return
    index: dict[int, tuple[str | None, str | None]] = {}
    prev_hash: str | None = None
    prev_id: int | None = None
    started = False
    for link in links:
        if not (isinstance(link, list) and len(link) == 3 and isinstance(link[0], int)):
            problems.append(f"{CHAIN}: malformed link {str(link)[:80]}")
            return
        lid, lprev, lhash = link
        if prev_id is not None and lid <= prev_id:
            problems.append(f"{CHAIN}: row {lid} is out of order after row {prev_id}")
        if lhash is None:
            if started:
                problems.append(
                    f"audit chain broken: row {lid} has no chain hash (inserted behind the engine)"
                )
        else:
            if started and lprev != prev_hash:
                problems.append(
                    f"audit chain broken between rows {prev_id} and {lid}: row {lid} does not follow the row "
                    "before it (a row was deleted, inserted or changed)"
                )
            started = True
            prev_hash = lhash
        index[lid] = (lprev, lhash)
        prev_id = lid
    for r in rows:
        try:
            rid = int(r["id"])
            at = _parse(r["at"])
            if at is None:
                raise ValueError("bad time")
            fields = {k: r[k] for k in ("actor", "action", "target_type", "target_id", "client", "detail")}
        except (KeyError, TypeError, ValueError):
            problems.append(f"{ROWS}: malformed row {str(r)[:80]}")
            continue
        if r.get("row_hash") is None:
            report.notes.append(f"audit row {rid} predates the chain (no hash to check)")
            continue
        if audit_chain.row_hash({**fields, "at": at}, str(r.get("prev_hash"))) != r["row_hash"]:
            problems.append(f"audit row {rid}: content changed (its hash does not match)")
        if index.get(rid) != (r.get("prev_hash"), r.get("row_hash")):
            problems.append(f"audit row {rid}: not in the chain links with the same hashes")
    if cp_data is None:
        if rows:
            problems.append(f"{CHECKPOINT}: missing, the chain has no signed end")
        return
    try:
        cp = json.loads(cp_data)
    except ValueError:
        problems.append(f"{CHECKPOINT}: not valid JSON")
        return
    why = audit_checkpoint.check_signature(cp, public)
    if why:
        problems.append(f"{CHECKPOINT}: {why}")
    elif not links or [links[-1][0], links[-1][2]] != [cp.get("row_id"), cp.get("row_hash")]:
        problems.append(f"{CHECKPOINT}: does not sign the last chain link (the chain was cut or extended)")
    try:
        stored = json.loads(stored_data) if stored_data is not None else []
    except ValueError:
        problems.append(f"{STORED}: not valid JSON")
        stored = []
    matched = 0
    for cp_stored in stored if isinstance(stored, list) else []:
        if not isinstance(cp_stored, dict):
            problems.append(f"{STORED}: malformed entry")
            continue
        why = audit_checkpoint.check_signature(cp_stored, public)
        row = cp_stored.get("row_id")
        if why:
            problems.append(f"{STORED}: checkpoint of row {row}: {why}")
        elif not isinstance(row, int) or row not in index or index[row][1] != cp_stored.get("row_hash"):
            problems.append(
                f"{STORED}: the checkpoint the engine signed at {cp_stored.get('at')} for row {row} does not "
                "match the chain links (the chain was rewritten after it)"
            )
        else:
            matched += 1
    if matched:
        report.notes.append(f"{matched} checkpoint(s) the engine signed at the time match the chain")
    for name, extra in checkpoints:
        why = audit_checkpoint.check_signature(extra)
        if why:
            problems.append(f"checkpoint {name}: {why}")
            continue
        cp_row = extra.get("row_id")
        if not isinstance(cp_row, int) or cp_row not in index:
            report.notes.append(f"checkpoint {name} (row {cp_row}) is outside this bundle's chain links")
        elif index[cp_row][1] != extra.get("row_hash"):
            problems.append(
                f"checkpoint {name}: row {cp_row} has another hash in the bundle (the chain was rewritten "
                "after that checkpoint was taken)"
            )
        else:
            report.notes.append(f"checkpoint {name} (row {cp_row}) matches the bundle's chain")


def verify_bundle(
    source: Path | IO[bytes],
    *,
    expect_key: str | None = None,
    checkpoints: list[tuple[str, dict[str, Any]]] | None = None,
) -> VerifyReport:
    """Check a bundle offline; every problem found is named in ``problems`` (empty: intact)."""
    report = VerifyReport()
    problems = report.problems
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        problems.append(f"not a readable zip file: {exc}")
        return report
    with zf:
        infos = zf.infolist()
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.filename in by_name:
                problems.append(f"{info.filename}: appears twice in the zip")
            by_name[info.filename] = info
        if MANIFEST not in by_name:
            problems.append(f"{MANIFEST}: missing; nothing can be checked")
            return report
        body = _read(zf, by_name[MANIFEST], 64 * 1024**2)
        try:
            manifest = json.loads(body or b"")
            files: dict[str, dict[str, Any]] = dict(manifest["files"])
            public = str(manifest["public_key"])
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
        except (ValueError, KeyError, TypeError):
            problems.append(f"{MANIFEST}: malformed")
            return report
        report.incident_id = str(manifest.get("incident_id"))
        report.key_fingerprint = fingerprint(public)
        if manifest.get("key_fingerprint") != report.key_fingerprint:
            problems.append(f"{MANIFEST}: key_fingerprint does not match its public key")
        if expect_key and expect_key.strip().lower() not in (
            report.key_fingerprint,
            report.key_fingerprint.removeprefix("sha256:"),
            public,
        ):
            problems.append(
                f"manifest is signed by key {report.key_fingerprint}, not by the expected key {expect_key}"
            )
        if SIGNATURE not in by_name:
            problems.append(f"{SIGNATURE}: missing; the manifest is not signed")
        else:
            sig = (_read(zf, by_name[SIGNATURE], 4096) or b"").decode("ascii", "replace").strip()
            try:
                Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(
                    bytes.fromhex(sig), body or b""
                )
            except (ValueError, InvalidSignature):
                problems.append(
                    f"{SIGNATURE}: the manifest's signature is invalid (manifest.json was changed)"
                )
        contents: dict[str, bytes | None] = {}
        for name, want in files.items():
            member = by_name.get(name)
            if member is None:
                problems.append(f"{name}: missing from the bundle")
                continue
            try:
                size = int(want["bytes"])
                read = _digest(
                    zf, member, min(size, MAX_MEMBER_BYTES), name in (ROWS, CHAIN, CHECKPOINT, STORED)
                )
            except (KeyError, TypeError, ValueError):
                problems.append(f"{MANIFEST}: malformed entry for {name}")
                continue
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                problems.append(f"{name}: cannot be read ({exc}); the bundle was changed")
                continue
            if read is None:
                problems.append(f"{name}: changed (longer than the manifest says)")
                continue
            got, got_size, data = read
            if got != want.get("sha256") or got_size != size:
                problems.append(
                    f"{name}: changed (SHA-256 {got[:16]}…, the manifest says {str(want.get('sha256'))[:16]}…)"
                )
            contents[name] = data
        for name in by_name:
            if name not in files and name not in (MANIFEST, SIGNATURE):
                problems.append(f"{name}: not in the manifest (added to the bundle)")
        if ROWS in files or CHAIN in files:
            _check_chain(
                report,
                contents.get(ROWS),
                contents.get(CHAIN),
                contents.get(CHECKPOINT),
                public,
                checkpoints or [],
                contents.get(STORED),
            )
    return report
