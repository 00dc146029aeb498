"""Signed checkpoints of the audit chain's head (Ed25519, key ``audit-signing.key`` 0600 in the data dir).

A checkpoint file is JSON: ``{"row_id", "row_hash", "at", "public_key", "signature"}``; the signature is over
the UTF-8 JSON ``{"at","row_hash","row_id"}`` with sorted keys and separators ``,`` ``:``. Kept off the
machine, it catches what the chain alone cannot: a rewrite of the whole chain (row ``row_id`` no longer has
``row_hash``).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "audit-signing.key"


def signing_key(data_dir: Path) -> Ed25519PrivateKey:
    """The engine's audit signing key, made (0600) the first time it is needed."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        return key
    return Ed25519PrivateKey.from_private_bytes(path.read_bytes())


def _public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _signed_part(row_id: int, row_hash: str, at: str) -> bytes:
    return json.dumps(
        {"at": at, "row_hash": row_hash, "row_id": row_id}, sort_keys=True, separators=(",", ":")
    ).encode()


def make(key: Ed25519PrivateKey, row_id: int, row_hash: str, at: datetime) -> dict[str, Any]:
    stamp = at.astimezone(UTC).isoformat()
    return {
        "row_id": row_id,
        "row_hash": row_hash,
        "at": stamp,
        "public_key": _public_hex(key),
        "signature": key.sign(_signed_part(row_id, row_hash, stamp)).hex(),
    }


def check_signature(cp: dict[str, Any], trusted_public_hex: str | None = None) -> str | None:
    """None if the checkpoint is signed correctly (by ``trusted_public_hex`` when given), else why not."""
    try:
        pub_hex = str(cp["public_key"])
        if trusted_public_hex is not None and pub_hex != trusted_public_hex:
            return "checkpoint is signed by another key than this engine's"
        pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub_hex))
        pub.verify(
            bytes.fromhex(str(cp["signature"])),
            _signed_part(int(cp["row_id"]), str(cp["row_hash"]), str(cp["at"])),
        )
    except (KeyError, ValueError, TypeError):
        return "checkpoint file is malformed"
    except InvalidSignature:
        return "checkpoint signature is invalid (the file was changed)"
    return None


def public_hex(data_dir: Path) -> str | None:
    path = data_dir / KEY_FILE
    return _public_hex(Ed25519PrivateKey.from_private_bytes(path.read_bytes())) if path.exists() else None


def record(session: Any, key: Ed25519PrivateKey, reason: str, now: datetime) -> dict[str, Any] | None:
    """Store a signed checkpoint of the chain head in ``audit_checkpoints`` unless the newest one already
    names it; returns the checkpoint written (or None)."""
    from sqlalchemy import select

    from app.store import audit_chain
    from app.store.models import AuditCheckpointRow

    row_id, head = audit_chain.head(session)
    if row_id == 0:
        return None
    last = session.scalars(select(AuditCheckpointRow).order_by(AuditCheckpointRow.id.desc()).limit(1)).first()
    if last is not None and last.row_id == row_id and last.row_hash == head:
        return None
    cp = make(key, row_id, head, now)
    session.add(
        AuditCheckpointRow(
            row_id=row_id,
            row_hash=head,
            at=now,
            reason=reason,
            public_key=cp["public_key"],
            signature=cp["signature"],
        )
    )
    return cp


def stored(session: Any) -> list[dict[str, Any]]:
    """Every checkpoint the engine stored, as checkpoint dicts (oldest first)."""
    from sqlalchemy import select

    from app.store.models import AuditCheckpointRow

    return [
        {
            "row_id": r.row_id,
            "row_hash": r.row_hash,
            "at": r.at.isoformat(),
            "public_key": r.public_key,
            "signature": r.signature,
            "reason": r.reason,
        }
        for r in session.scalars(select(AuditCheckpointRow).order_by(AuditCheckpointRow.id))
    ]
