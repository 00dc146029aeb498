"""Who is calling: agencies by API key, console users by session token, wall PCs by wall key.

API keys, wall keys and session tokens are 256-bit random values, so a SHA-256 of them is a safe lookup
index and comparison is constant-time on the digest. Passwords are low-entropy and get argon2id
(:mod:`app.engine.passwords`). A session ends at logout, at its absolute limit, after its idle timeout,
or when its user is disabled; every check of a session (requests, live feed, video) applies all four.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.engine.passwords import dummy_hash, hash_password, verify_password
from app.store.models import AgencyRow, SessionRow, UserRow, WallKeyRow

__all__ = ["hash_password", "verify_password"]

KEY_PREFIX = "gtk_"
TOKEN_PREFIX = "gts_"
WALL_KEY_PREFIX = "gtw_"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    kind: Literal["agency", "user", "wall", "system"]
    id: str
    name: str
    role: Role | None = None
    agency_kind: str | None = None
    # The digest of the session token or wall key this caller presented (media grants follow it).
    credential: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def agency_id(self) -> str | None:
        return self.id if self.kind == "agency" else None

    @property
    def wall_id(self) -> str | None:
        return self.id if self.kind == "wall" else None

    @property
    def key_holder_id(self) -> str | None:
        """An agency's or wall's id, which audit rows carry beside its name (a user's login is unique)."""
        return self.id if self.kind in ("agency", "wall") else None

    def has_role(self, *roles: Role) -> bool:
        return self.kind == "system" or (self.kind == "user" and self.role in roles)


SYSTEM = Principal(kind="system", id="engine", name="engine")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_wall_key() -> str:
    return WALL_KEY_PREFIX + secrets.token_urlsafe(32)


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


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """When a session ends by itself: ``hours`` after login, or ``idle_s`` after its last request."""

    hours: float = 12.0
    idle_s: float = 30 * 60.0
    touch_s: float = 60.0  # the last-seen time is written at most this often


def session_alive(s: Session, token_hash: str, now: datetime, policy: SessionPolicy) -> UserRow | None:
    """The session's user while the session is alive (not ended, not expired, not idle, user enabled)."""
    row = s.get(SessionRow, token_hash)
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    seen = row.last_seen_at or row.created_at
    if (now - seen).total_seconds() > policy.idle_s:
        return None
    user = s.get(UserRow, row.user_id)
    if user is None or user.disabled:
        return None
    return user


def authenticate_token(
    session: Session, token: str, now: datetime, policy: SessionPolicy | None = None
) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_hash = digest(token)
    user = session_alive(session, token_hash, now, policy or SessionPolicy())
    if user is None:
        return None
    return Principal(
        kind="user", id=str(user.id), name=user.username, role=Role(user.role), credential=token_hash
    )


def session_needs_touch(session: Session, token_hash: str, now: datetime, policy: SessionPolicy) -> bool:
    row = session.get(SessionRow, token_hash)
    if row is None:
        return False
    seen = row.last_seen_at or row.created_at
    return (now - seen).total_seconds() >= policy.touch_s


def touch_session(session: Session, token_hash: str, now: datetime) -> None:
    session.execute(
        update(SessionRow)
        .where(SessionRow.token_hash == token_hash, SessionRow.ended_at.is_(None))
        .values(last_seen_at=now)
    )


def authenticate_wall_key(session: Session, key: str) -> Principal | None:
    if not key.startswith(WALL_KEY_PREFIX):
        return None
    wanted = digest(key)
    row = session.get(WallKeyRow, wanted)
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, wanted):
        return None
    return Principal(kind="wall", id=row.wall_id, name=row.wall_id, credential=row.key_hash)


def wall_key_alive(session: Session, key_hash: str) -> str | None:
    """The wall of a key that is still valid, else None."""
    row = session.get(WallKeyRow, key_hash)
    return None if row is None or row.revoked_at is not None else row.wall_id


@dataclass(frozen=True, slots=True)
class LoginCandidate:
    """What a login needs from the store, read in a short read transaction before the slow verification."""

    user_id: int | None
    username: str
    role: Role | None
    password_hash: str
    disabled: bool


def find_login(session: Session, username: str) -> LoginCandidate:
    user = session.scalars(select(UserRow).where(UserRow.username == username)).first()
    if user is None:
        return LoginCandidate(None, username, None, dummy_hash(), False)
    return LoginCandidate(user.id, user.username, Role(user.role), user.password_hash, user.disabled)


def open_session(
    session: Session, user_id: int, now: datetime, hours: float
) -> tuple[str, SessionRow, UserRow] | None:
    """Write a new session for a user whose password was verified (None if the user was disabled or
    removed meanwhile)."""
    user = session.get(UserRow, user_id)
    if user is None or user.disabled:
        return None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = SessionRow(
        token_hash=digest(token),
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        last_seen_at=now,
    )
    session.add(row)
    return token, row, user


def issue_session(session: Session, user: UserRow, now: datetime, hours: float) -> str:
    """A session for a user without a password check (the CLI, tests)."""
    found = open_session(session, user.id, now, hours)
    if found is None:
        raise ValueError(f"user {user.username!r} is disabled")
    return found[0]


def login(
    session: Session, username: str, password: str, now: datetime, hours: float
) -> tuple[str, SessionRow, UserRow] | None:
    """Verify and open a session in one go (tools and tests; the API uses :mod:`app.engine.login`)."""
    found = find_login(session, username)
    ok = verify_password(password, found.password_hash)
    if not ok or found.user_id is None or found.disabled:
        return None
    return open_session(session, found.user_id, now, hours)


def logout(session: Session, token: str, now: datetime) -> bool:
    row = session.get(SessionRow, digest(token))
    if row is None or row.ended_at is not None:
        return False
    row.ended_at = now
    return True


def end_user_sessions(session: Session, user_id: int, now: datetime) -> int:
    """End every open session of a user; returns how many."""
    result = session.execute(
        update(SessionRow)
        .where(SessionRow.user_id == user_id, SessionRow.ended_at.is_(None))
        .values(ended_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
