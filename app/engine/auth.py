"""Who is calling: agencies by API key, console users by session token, walls by wall token.

API keys are 256-bit random values, so a SHA-256 of the key is a safe lookup index and comparison is
constant-time on the digest. Passwords are low-entropy and get scrypt with a per-user salt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.store.models import AgencyRow, SessionRow, UserRow

KEY_PREFIX = "gtk_"
TOKEN_PREFIX = "gts_"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    kind: Literal["agency", "user", "system"]
    id: str
    name: str
    role: Role | None = None
    agency_kind: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def agency_id(self) -> str | None:
        return self.id if self.kind == "agency" else None

    def has_role(self, *roles: Role) -> bool:
        return self.kind == "system" or (self.kind == "user" and self.role in roles)


SYSTEM = Principal(kind="system", id="engine", name="engine")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(key).decode()


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_b64, key_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        key = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt_b64), **_SCRYPT)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(key, base64.b64decode(key_b64))


# A fixed hash to compare against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = hash_password("not-a-user")


def authenticate_key(session: Session, key: str, now: datetime | None = None) -> Principal | None:
    """The agency whose current key (or, until its grace ends, previous key) this is; a disabled agency
    has no valid key."""
    if not key.startswith(KEY_PREFIX) or len(key) > 128:
        return None
    wanted = digest(key)
    row = session.scalars(select(AgencyRow).where(AgencyRow.api_key_hash == wanted)).first()
    if row is None and now is not None:
        row = session.scalars(
            select(AgencyRow).where(
                AgencyRow.api_key_previous_hash == wanted, AgencyRow.previous_key_until > now
            )
        ).first()
        if row is not None and not hmac.compare_digest(row.api_key_previous_hash or "", wanted):
            row = None
    elif row is not None and not hmac.compare_digest(row.api_key_hash, wanted):
        row = None
    if row is None or not row.enabled:
        return None
    return Principal(kind="agency", id=row.id, name=row.name, agency_kind=row.kind)


class KeyCache:
    """Recently verified API keys (by digest), so a busy agency is not looked up on every request.

    Only successes are kept, for ``ttl_s`` seconds: a new key works at once, and a change to an agency
    made by another process (the CLI disabling it, rotating its key) is seen within ``ttl_s`` — one second,
    the promise of a disable; the admin API calls :meth:`clear`, which drops everything at once.
    """

    def __init__(self, ttl_s: float = 1.0, max_entries: int = 10_000) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Principal, float]] = {}

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(digest(key))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, key: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()  # many agencies at once: start over rather than grow
            self._entries[digest(key)] = (principal, time.monotonic() + self._ttl)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def authenticate_token(session: Session, token: str, now: datetime) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.get(SessionRow, digest(token))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    user = session.get(UserRow, row.user_id)
    if user is None:
        return None
    return Principal(kind="user", id=str(user.id), name=user.username, role=Role(user.role))


def login(
    session: Session, username: str, password: str, now: datetime, hours: float
) -> tuple[str, SessionRow, UserRow] | None:
    user = session.scalars(select(UserRow).where(UserRow.username == username)).first()
    if user is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, user.password_hash):
        return None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = SessionRow(
        token_hash=digest(token), user_id=user.id, created_at=now, expires_at=now + timedelta(hours=hours)
    )
    session.add(row)
    return token, row, user


def logout(session: Session, token: str, now: datetime) -> bool:
    row = session.get(SessionRow, digest(token))
    if row is None or row.ended_at is not None:
        return False
    row.ended_at = now
    return True
