"""Share tokens: the database keeps only their SHA-256, never the token.

A share's token is what its media and viewer URLs carry (a bearer capability). The ``shares`` row holds
``token_hash`` (SHA-256, hex) — what a URL's token is looked up by — and ``token_salt``. The token itself is
derived when it has to be handed out: ``HMAC-SHA256(K, share id ∥ salt)`` with ``K`` a sub-key of the data
dir's secrets key (:mod:`app.store.sealed`). So a copy of the database (a backup, a replica, an SQL
injection, a DBA's query) holds no usable token; the engine, holding the key file, can still give a share's
own agency its URLs in its answers and deliveries.

Stored webhook payloads carry a placeholder (``~gtshare:<share id>:<salt>~``) where the token goes; the
dispatcher puts the token in just before it renders and signs the body (:func:`fill`). A share made before
this scheme (migration ``privilege_agency_0003`` hashed its token in place) has no salt: its token cannot be
given out again, so answers and deliveries carry no URL for it (the agency keeps the URLs it already got).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from sqlalchemy import Engine

from app.store.sealed import _box

LABEL = b"share-token/v1"
_PLACEHOLDER = re.compile(r"~gtshare:([A-Za-z0-9_-]{1,40}):([A-Za-z0-9_-]{0,32})~")


def token_digest(token: str) -> str:
    """What the ``shares`` table keeps of a token (and what a presented token is looked up by)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_salt() -> str:
    return secrets.token_urlsafe(12)


def derive(key: bytes, share_id: str, salt: str) -> str:
    """The token of share ``share_id`` with ``salt`` (43 URL-safe characters, 256 bits)."""
    mac = hmac.new(key, f"{share_id}\x00{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def key_of(engine: Engine) -> bytes | None:
    """The share-token key of a database engine that has the secrets key (None: tokens cannot be derived)."""
    box = _box(engine.dialect)
    return None if box is None else box.subkey(LABEL)


def mint(key: bytes | None, share_id: str) -> tuple[str, str]:
    """(salt, token hash) for a new share."""
    if key is None:
        raise RuntimeError("share tokens need the data dir's secrets key (app.store.sealed.seal_database)")
    salt = new_salt()
    return salt, token_digest(derive(key, share_id, salt))


def token_of(key: bytes | None, share_id: str, salt: str | None, token_hash: str) -> str | None:
    """The share's token, or None when it cannot be given out (no key, a pre-hash share, another key)."""
    if key is None or not salt:
        return None
    token = derive(key, share_id, salt)
    return token if hmac.compare_digest(token_digest(token), token_hash) else None


def placeholder(share_id: str, salt: str | None) -> str:
    """What a stored payload holds where the share's token goes."""
    return f"~gtshare:{share_id}:{salt or ''}~"


def has_placeholder(text: str) -> bool:
    return _PLACEHOLDER.search(text) is not None


def fill(text: str, key: bytes | None) -> str | None:
    """``text`` with every placeholder replaced by its token; None if one cannot be (the URL is dropped)."""
    missing = False

    def one(m: re.Match[str]) -> str:
        nonlocal missing
        if key is None or not m.group(2):
            missing = True
            return ""
        return derive(key, m.group(1), m.group(2))

    out = _PLACEHOLDER.sub(one, text)
    return None if missing else out
