"""Secrets at rest: camera stream URLs (they carry the camera's password) and webhook secrets are stored
encrypted (AES-256-GCM) with a key file the engine creates ``0600`` in its data dir at first start
(``secrets.key``; backed up with the other key files by ``python main.py backup``).

:class:`SealedString` encrypts on write and decrypts on read, transparently for the ORM and Core
statements, once :func:`attach` has given a database engine the key. A value written without the prefix
(an older database, a tool that opened the database without the key) reads back as it is, and the engine
re-seals such values at start (:func:`reseal_all`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, String, TypeDecorator
from sqlalchemy.engine import Dialect

PREFIX = "gtenc1:"
KEY_FILE = "secrets.key"


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the secrets key is 32 bytes")
        self._aead = AESGCM(key)
        self._key = key

    def subkey(self, label: bytes) -> bytes:
        """A key for another purpose (e.g. deriving share tokens), independent of the sealing key."""
        return hmac.new(self._key, b"goldentime/" + label, hashlib.sha256).digest()

    def seal(self, plaintext: str) -> str:
        if plaintext == "" or plaintext.startswith(PREFIX):
            return plaintext
        nonce = secrets.token_bytes(12)
        ct = self._aead.encrypt(nonce, plaintext.encode("utf-8"), PREFIX.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + ct).decode("ascii")

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        raw = base64.urlsafe_b64decode(stored[len(PREFIX) :])
        return self._aead.decrypt(raw[:12], raw[12:], PREFIX.encode()).decode("utf-8")


def load_or_create_key(data_dir: Path) -> bytes:
    """The data dir's secrets key; created (``0600``, never readable by others for a moment) if missing."""
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = base64.b64decode(path.read_bytes().strip())
        if len(key) != 32:
            raise ValueError(f"{path} does not hold a 32-byte key") from None
        return key
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64encode(key) + b"\n")
    return key


def attach(engine: Engine, box: SecretBox) -> None:
    """Give ``engine``'s statements the key (SealedString columns then encrypt and decrypt)."""
    engine.dialect._gt_secret_box = box  # type: ignore[attr-defined]


def _box(dialect: Dialect) -> SecretBox | None:
    box: SecretBox | None = getattr(dialect, "_gt_secret_box", None)
    return box


class SealedString(TypeDecorator[str]):
    """A string column stored encrypted when the engine has a key (see :func:`attach`)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        box = _box(dialect)
        return value if value is None or box is None else box.seal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        box = _box(dialect)
        if box is None or not str(value).startswith(PREFIX):
            return str(value)
        return box.open(str(value))


def seal_database(write: Engine, read: Engine, data_dir: Path) -> SecretBox:
    """Load (or create) the data dir's key, give it to both engines, and seal any value still in clear."""
    box = SecretBox(load_or_create_key(data_dir))
    for engine in {id(write): write, id(read): read}.values():
        attach(engine, box)
    reseal_all(write)
    return box


_SEALED_COLUMNS = {
    "cameras": ("id", ("stream_main", "stream_sub")),
    "agencies": ("id", ("webhook_secret", "webhook_secret_previous")),
}


def reseal_all(engine: Engine) -> int:
    """Encrypt every sealed column value still stored in clear (an older database); returns how many."""
    from sqlalchemy import bindparam, text

    box = _box(engine.dialect)
    if box is None:
        return 0
    done = 0
    with engine.begin() as conn:
        for table, (key, columns) in _SEALED_COLUMNS.items():
            for col in columns:
                rows = conn.execute(
                    text(
                        f"SELECT {key}, {col} FROM {table} WHERE {col} IS NOT NULL AND {col} <> '' "
                        f"AND {col} NOT LIKE :p"
                    ).bindparams(p=PREFIX + "%")
                ).all()
                if rows:
                    stmt = text(f"UPDATE {table} SET {col} = :v WHERE {key} = :k").bindparams(
                        bindparam("v"), bindparam("k")
                    )
                    conn.execute(stmt, [{"v": box.seal(str(v)), "k": k} for k, v in rows])
                    done += len(rows)
    return done
