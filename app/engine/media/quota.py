"""Stream quotas, enforced where the media process admits a viewer.

The engine puts the limits that apply into each grant (``ViewGrant.quota``: ``(key, limit)`` pairs from
``[agency_access.limits]``): ``share:<share id>/<camera id>`` — at most ``viewers_per_share`` viewers of
one camera of one share at once (the share page, which shows every camera, counts once per camera) — and
``agency:<agency id>`` — at most ``streams_per_agency`` streams of an agency at once, over all its shares.
A viewer beyond a limit is refused ``429`` (problem+json; a WebSocket gets the problem and close code 4429).

A slot is held from the admission until the request that took it ends, whatever way it ends: the
middleware (:class:`QuotaMiddleware`) releases every slot its request took. One event loop serves the
media port, so the counters need no lock.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from app.engine.media.routes import MediaAccess, MediaDenied, ViewGrant

_taken: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "goldentime_media_slots", default=None
)


@dataclass
class StreamQuota:
    held: dict[str, int] = field(default_factory=dict)

    def take(self, grant: ViewGrant) -> None:
        """Admit ``grant``'s viewer or raise ``MediaDenied(429)``; the slot is released when the request
        ends (outside a request, at once: nothing could release it later)."""
        for key, limit in grant.quota:
            if self.held.get(key, 0) >= limit:
                raise MediaDenied(429, "Too many viewers", _refusal(key, limit, grant.camera_id))
        slots = _taken.get()
        if slots is None:
            return
        for key, _ in grant.quota:
            self.held[key] = self.held.get(key, 0) + 1
        keys = [key for key, _ in grant.quota]

        def release() -> None:
            for key in keys:
                left = self.held.get(key, 0) - 1
                if left > 0:
                    self.held[key] = left
                else:
                    self.held.pop(key, None)

        slots.append(release)


def _refusal(key: str, limit: int, camera_id: str) -> str:
    if key.startswith("share:"):
        return (
            f"this share already has {limit} viewers of camera {camera_id} (the most at once; "
            "settings: agency_access.limits.viewers_per_share); try again when one has left"
        )
    return (
        f"the agency already has {limit} streams open (the most at once; "
        "settings: agency_access.limits.streams_per_agency); close one and try again"
    )


class QuotaMiddleware:
    """Releases the slots a request (HTTP or WebSocket) took when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        slots: list[Callable[[], None]] = []
        reset = _taken.set(slots)
        try:
            await self.app(scope, receive, send)
        finally:
            _taken.reset(reset)
            for release in slots:
                release()


class QuotaAccess:
    """A ``MediaAccess`` that admits each authorised viewer against ``quota``."""

    def __init__(self, inner: MediaAccess, quota: StreamQuota) -> None:
        self._inner = inner
        self.quota = quota

    async def authorize(self, token: str, camera_id: str, client: str) -> ViewGrant:
        grant = await self._inner.authorize(token, camera_id, client)
        try:
            self.quota.take(grant)
        except MediaDenied:
            # The engine audited the viewing's start when it authorised it: close it (0 bytes).
            now = datetime.now(UTC)
            with contextlib.suppress(Exception):
                await self._inner.record_viewing(grant, now, now, 0)
            raise
        return grant

    async def still_valid(self, grant: ViewGrant) -> bool:
        return await self._inner.still_valid(grant)

    async def record_viewing(
        self, grant: ViewGrant, started: datetime, ended: datetime, bytes_sent: int
    ) -> None:
        await self._inner.record_viewing(grant, started, ended, bytes_sent)

    def __getattr__(self, name: str) -> Any:  # end_reason and the like
        return getattr(self._inner, name)
