"""Logins that a flood cannot turn against the control room.

* Throttling per address and per user name: after ``throttle_free_failures`` failures each further attempt
  must wait twice as long as the one before (``throttle_base_s`` … ``throttle_max_s``); a throttled
  attempt is answered ``429`` with ``Retry-After`` at once, without touching the password hash.
* Verification runs on a small pool of its own (``login_workers`` threads, ``login_queue`` waiting at
  most; beyond that ``429`` at once), never on the event loop and never inside a database transaction:
  the user row is read in a short read transaction, the hash verified with no transaction open, and only
  a good login writes (the session, and a rehash of a legacy or weaker hash).
* Every refused login is audited through the batched :class:`~app.engine.refusals.RefusalLog`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from app.domain.enums import Role
from app.engine.auth import LoginCandidate, Principal, find_login, open_session
from app.engine.context import EngineContext
from app.engine.passwords import hash_password, needs_rehash, verify_password
from app.formats.api import SessionOut


@dataclass
class _Failures:
    count: int
    last: float
    blocked_until: float


class LoginThrottle:
    """Exponential backoff on failed logins, per key (an address, a user name). Thread-safe."""

    def __init__(
        self,
        free: int = 5,
        base_s: float = 1.0,
        max_s: float = 900.0,
        forget_s: float = 3600.0,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._free, self._base, self._max, self._forget = free, base_s, max_s, forget_s
        self._max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, _Failures] = {}
        self._checking: dict[str, int] = {}  # attempts being verified now, per key

    def wait_s(self, *keys: str) -> float:
        """Seconds before any of ``keys`` may try again (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [f.blocked_until - now for k in keys if (f := self._keys.get(k)) is not None]
        return max([0.0, *waits])

    def admit(self, *keys: str) -> float:
        """Let one attempt through to the password check (0), or the seconds to wait. Attempts still being
        checked count as failures-to-be, so a burst cannot get more than the free failures to the hash at
        once, nor more than one attempt per backoff step: a throttled address costs no argon2id."""
        now = self._clock()
        with self._lock:
            waits = [f.blocked_until - now for k in keys if (f := self._keys.get(k)) is not None]
            wait = max([0.0, *waits])
            if wait > 0:
                return wait
            for k in keys:
                pending = self._checking.get(k, 0)
                f = self._keys.get(k)
                count = f.count if f is not None and now - f.last <= self._forget else 0
                if pending and count + pending >= self._free:
                    return self._base
            for k in keys:
                self._checking[k] = self._checking.get(k, 0) + 1
            return 0.0

    def checked(self, *keys: str) -> None:
        """An attempt let through by :meth:`admit` is decided (after :meth:`failed` or :meth:`succeeded`)."""
        with self._lock:
            for k in keys:
                left = self._checking.get(k, 0) - 1
                if left > 0:
                    self._checking[k] = left
                else:
                    self._checking.pop(k, None)

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._keys) >= self._max_keys:
                self._prune(now)
            for k in keys:
                f = self._keys.get(k)
                if f is None or now - f.last > self._forget:
                    f = self._keys[k] = _Failures(0, now, now)
                f.count += 1
                f.last = now
                over = f.count - self._free
                if over > 0:
                    f.blocked_until = now + min(self._base * 2 ** min(over - 1, 40), self._max)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._keys.pop(k, None)

    def _prune(self, now: float) -> None:
        stale = [k for k, f in self._keys.items() if now - f.last > self._forget and f.blocked_until <= now]
        for k in stale:
            del self._keys[k]
        if len(self._keys) >= self._max_keys:  # a flood from everywhere: keep the ones still blocked
            self._keys = {k: f for k, f in self._keys.items() if f.blocked_until > now}


def _lower_priority() -> None:
    """Login threads yield the CPU to intake, delivery and video: on Linux a thread has its own nice value."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def _too_many(wait_s: float, detail: str) -> HTTPException:
    return HTTPException(429, detail, headers={"Retry-After": str(max(1, math.ceil(wait_s)))})


class LoginService:
    def __init__(self, ctx: EngineContext) -> None:
        sec = ctx.settings.security
        self._ctx = ctx
        self._pool = ThreadPoolExecutor(
            max_workers=sec.login_workers, thread_name_prefix="login", initializer=_lower_priority
        )
        self._capacity = sec.login_workers + sec.login_queue
        self._inflight = 0
        self.throttle = LoginThrottle(
            sec.throttle_free_failures, sec.throttle_base_s, sec.throttle_max_s, sec.throttle_forget_s
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _refused(self, username: str, client: str | None, status: int, reason: str) -> None:
        self._ctx.refusals.record(
            "session.denied",
            f"user:{username}",
            client,
            "POST /api/v1/sessions",
            status,
            reason,
            self._ctx.now(),
        )

    def refused_early(self, client: str | None) -> None:
        """A login refused by :class:`LoginGuard` before its body was read (the user is not known)."""
        self._ctx.refusals.record(
            "session.denied",
            "anonymous",
            client,
            "POST /api/v1/sessions",
            429,
            "address throttled",
            self._ctx.now(),
        )

    async def login(self, username: str, password: str, client: str | None) -> SessionOut:
        keys = (f"addr:{client or '?'}", f"user:{username.casefold()}")
        wait = self.throttle.admit(*keys)
        if wait > 0:
            self._refused(username, client, 429, "throttled after repeated failures")
            raise _too_many(wait, "too many failed logins; wait before trying again")
        try:
            return await self._verify(username, password, client, keys)
        finally:
            self.throttle.checked(*keys)

    async def _verify(
        self, username: str, password: str, client: str | None, keys: tuple[str, str]
    ) -> SessionOut:
        if self._inflight >= self._capacity:
            self._refused(username, client, 429, "login pool busy")
            raise _too_many(1, "too many logins at once; try again in a moment")
        self._inflight += 1
        try:
            loop = asyncio.get_running_loop()
            found, ok, new_hash = await loop.run_in_executor(self._pool, self._check, username, password)
        finally:
            self._inflight -= 1
        if not ok or found.user_id is None or found.disabled:
            self.throttle.failed(*keys)
            reason = "user disabled" if found.disabled and ok else "unknown user or wrong password"
            self._refused(username, client, 401, reason)
            raise HTTPException(401, "unknown user or wrong password", headers={"WWW-Authenticate": "Bearer"})
        out = await run_in_threadpool(self._open, found, new_hash, client)
        if out is None:
            self._refused(username, client, 401, "user disabled")
            raise HTTPException(401, "unknown user or wrong password", headers={"WWW-Authenticate": "Bearer"})
        self.throttle.succeeded(*keys)
        return out

    def _check(self, username: str, password: str) -> tuple[LoginCandidate, bool, str | None]:
        """On the login pool: read (short read transaction, closed), then verify with nothing open."""
        with self._ctx.uow.read() as s:
            found = find_login(s, username)
        ok = verify_password(password, found.password_hash)
        new_hash = (
            hash_password(password)
            if ok and found.user_id is not None and needs_rehash(found.password_hash)
            else None
        )
        return found, ok, new_hash

    def _open(self, found: LoginCandidate, new_hash: str | None, client: str | None) -> SessionOut | None:
        assert found.user_id is not None
        who = Principal(kind="user", id=str(found.user_id), name=found.username, role=found.role)
        with self._ctx.uow(who, client) as work:
            opened = open_session(work.session, found.user_id, work.now, self._ctx.settings.session_hours)
            if opened is None:
                return None
            token, row, user = opened
            if new_hash is not None and user.password_hash == found.password_hash:
                user.password_hash = new_hash
                work.audit("user.rehash", "user", user.username)
            work.audit("session.create", "session", None, role=user.role)
            return SessionOut(
                token=token, username=user.username, role=Role(user.role), expires_at=row.expires_at
            )


class LoginGuard:
    """Pure ASGI middleware: a login from a throttled address is answered ``429`` before routing, body
    parsing or validation, so a flood from one address costs the engine as little as possible."""

    def __init__(self, app: ASGIApp, login: LoginService) -> None:
        self.app = app
        self.login = login

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/api/v1/sessions":
            client = scope.get("client")
            address = client[0] if client else None
            wait = self.login.throttle.wait_s(f"addr:{address or '?'}")
            if wait > 0:
                self.login.refused_early(address)
                body = json.dumps(
                    {
                        "type": "about:blank",
                        "title": "Too Many Requests",
                        "status": 429,
                        "detail": "too many failed logins from this address; wait before trying again",
                    }
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 429,
                        "headers": [
                            (b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(max(1, math.ceil(wait))).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
