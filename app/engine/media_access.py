"""Who may watch which camera through the relay: agencies by share token, consoles and walls by a media
grant tied to their session. Checked on connect and every second while streaming; every viewing audited."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy.orm import Session

from app.domain.enums import ShareStatus
from app.engine.auth import Principal, digest, session_alive, wall_key_alive
from app.engine.context import EngineContext
from app.engine.errors import forbidden
from app.engine.media.routes import MediaDenied, ViewGrant
from app.engine.views import share_status
from app.store import audit_chain
from app.store.models import (
    AgencyRow,
    CameraRow,
    MediaGrantRow,
    SessionRow,
    ShareRow,
    WallGrantRow,
    WallRow,
)
from app.store.share_tokens import token_digest

GRANT_PREFIX = "gtm_"
SUB_SUFFIX = "~sub"


def split_variant(camera_id: str) -> tuple[str, bool]:
    """``CAM-1~sub`` asks for the camera's sub stream (grid tiles): → (``CAM-1``, True)."""
    if camera_id.endswith(SUB_SUFFIX):
        return camera_id[: -len(SUB_SUFFIX)], True
    return camera_id, False


GRANT_HOURS = 12.0
_TOKEN_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def create_media_grant(ctx: EngineContext, principal: Principal, session_token: str) -> tuple[str, datetime]:
    """A console or wall asks for a token to put in its media URLs (a session token never goes in a URL).

    A console's grant ends with its session; a wall's grant ends with its key and plays only the cameras
    its wall's layout shows at the moment of viewing."""
    if principal.kind == "wall":
        return _create_wall_grant(ctx, principal)
    if principal.kind != "user":
        raise forbidden("media grants are for console and wall sessions")
    token = GRANT_PREFIX + secrets.token_urlsafe(32)
    with ctx.uow(principal) as work:
        session_row = work.session.get(SessionRow, digest(session_token))
        if session_row is None:
            raise forbidden("no session")
        expires = min(session_row.expires_at, work.now + timedelta(hours=GRANT_HOURS))
        work.session.add(
            MediaGrantRow(
                token_hash=digest(token),
                session_hash=session_row.token_hash,
                viewer=principal.actor,
                created_at=work.now,
                expires_at=expires,
            )
        )
        work.audit("media.grant", "media", None)
    return token, expires


def _create_wall_grant(ctx: EngineContext, principal: Principal) -> tuple[str, datetime]:
    assert principal.credential is not None
    token = GRANT_PREFIX + secrets.token_urlsafe(32)
    with ctx.uow(principal) as work:
        expires = work.now + timedelta(hours=GRANT_HOURS)
        work.session.add(
            WallGrantRow(
                token_hash=digest(token),
                key_hash=principal.credential,
                wall_id=principal.id,
                created_at=work.now,
                expires_at=expires,
            )
        )
        work.audit("media.grant", "wall", principal.id)
    return token, expires


def wall_cameras(s: Session, wall_id: str) -> set[str]:
    """The cameras a wall's layout shows now (what its key may play)."""
    row = s.get(WallRow, wall_id)
    if row is None:
        return set()
    return {str(c) for c in (row.layout or {}).get("tiles", []) if c}


def find_share(s: Session, token: str) -> ShareRow | None:
    """The share a token in a media or viewer URL names (the one place that knows how tokens are kept)."""
    if not token or len(token) > 128:
        return None
    # Only the token's SHA-256 is stored (app/store/share_tokens.py): look it up by that.
    return s.query(ShareRow).filter(ShareRow.token_hash == token_digest(token)).one_or_none()


_T = TypeVar("_T")
MEDIA_CHECK_THREADS = 2


class EngineMediaAccess:
    """Implements the relay's ``MediaAccess`` protocol against the store.


    ``admit``: an authorisation admits a viewer, and its start is audited at once (``video.view.start``,
    committed before the first byte, so a crash still leaves it); its end follows as ``video.view`` with
    the same ``viewing`` id. The engine's redirects to the media port only check (``admit=False``).

    Its blocking reads and writes run on threads of their own (at most ``MEDIA_CHECK_THREADS`` at a time),
    never on the API's request threads (issue 17): a storm of viewers connecting, or checks of every watched
    grant, cannot hold up intake, and a burst of requests cannot delay a viewer's authorisation."""

    def __init__(self, ctx: EngineContext, *, admit: bool = True) -> None:
        self._ctx = ctx
        self._admit = admit
        self._limiter: anyio.CapacityLimiter | None = None  # made on the engine's loop, at first use

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(MEDIA_CHECK_THREADS)
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._limiter)

    async def authorize(self, token: str, camera_id: str, client: str) -> ViewGrant:
        try:
            return await self._run(self._authorize, token, camera_id, client)
        except MediaDenied as exc:
            if exc.status in (401, 403):  # every refused request is audited (batched; never the token)
                self._ctx.refusals.record(
                    "media.refused",
                    "anonymous",
                    client or None,
                    f"media {camera_id}"[:128],
                    exc.status,
                    exc.detail,
                    self._ctx.now(),
                )
            raise

    async def still_valid(self, grant: ViewGrant) -> bool:
        return await self._run(self._still_valid, grant)

    async def record_viewing(
        self, grant: ViewGrant, started: datetime, ended: datetime, bytes_sent: int
    ) -> None:
        await self._run(self._record, grant, started, ended, bytes_sent)

    # ------------------------------------------------------------------ blocking parts

    def _authorize(self, token: str, camera_id: str, client: str) -> ViewGrant:
        if not token or len(token) > 128 or not set(token) <= _TOKEN_CHARS:
            raise MediaDenied(401, "Unauthorized", "the media token is malformed")
        now = self._ctx.now()
        camera_id, sub = split_variant(camera_id)
        with self._ctx.uow.read() as s:
            camera = s.get(CameraRow, camera_id)
            if token.startswith(GRANT_PREFIX):
                grant = self._console_grant(s, token, camera_id, now)
                grant_digest: str | None = digest(token)
            else:
                grant = self._share_grant(s, token, camera_id, now)
                grant_digest = None
            if camera is None or camera.retired_at is not None:
                raise MediaDenied(404, "Not Found", f"no camera with id {camera_id!r}")
            url = (
                (camera.stream_sub or camera.stream_main)
                if sub
                else (camera.stream_main or camera.stream_sub)
            )
            if not url:
                raise MediaDenied(503, "Camera Unavailable", f"camera {camera_id!r} has no stream configured")
            full = ViewGrant(
                viewer=grant.viewer,
                camera_id=camera_id,
                stream_url=url,
                kind=grant.kind,
                share_id=grant.share_id,
                expires_at=grant.expires_at,
                grant_ref=grant_digest,
                client=client or None,
                agency_id=grant.agency_id,
                quota=grant.quota,
            )
        if self._admit:
            full = replace(full, viewing_id="vw_" + secrets.token_hex(8))
            self._record_start(full, now)
        return full

    def _share_grant(self, s: Session, token: str, camera_id: str, now: datetime) -> ViewGrant:
        share = find_share(s, token)
        if share is None:
            raise MediaDenied(401, "Unauthorized", "the media token is not valid")
        status = share_status(share, now)
        if status is not ShareStatus.ACTIVE:
            raise MediaDenied(403, "Forbidden", f"the share has {status.value}")
        if camera_id not in {str(c) for c in share.camera_ids}:
            raise MediaDenied(404, "Not Found", f"camera {camera_id!r} is not part of this share")
        agency = s.get(AgencyRow, share.agency_id)
        if agency is None or not agency.enabled:
            # A disable revokes the agency's shares too; this also covers a share made in between.
            raise MediaDenied(403, "Forbidden", "the share's agency is disabled")
        viewer = f"agency:{agency.name}"
        limits = self._ctx.settings.agency_access.limits_of(agency.id)
        return ViewGrant(
            viewer=viewer,
            camera_id=camera_id,
            stream_url="",
            kind="share",
            share_id=share.id,
            expires_at=share.expires_at,
            agency_id=agency.id,
            # Admitted by the media process (app/engine/media/quota.py).
            quota=(
                (f"share:{share.id}/{camera_id}", limits.viewers_per_share),
                (f"agency:{agency.id}", limits.streams_per_agency),
            ),
        )

    def _console_grant(self, s: Session, token: str, camera_id: str, now: datetime) -> ViewGrant:
        row = s.get(MediaGrantRow, digest(token))
        if row is None:
            return self._wall_grant(s, token, camera_id, now)
        if (
            row.expires_at <= now
            or session_alive(s, row.session_hash, now, self._ctx.session_policy()) is None
        ):
            raise MediaDenied(403, "Forbidden", "the media grant has expired or its session ended")
        return ViewGrant(
            viewer=row.viewer,
            camera_id=camera_id,
            stream_url="",
            kind="console",
            share_id=None,
            expires_at=row.expires_at,
        )

    def _wall_grant(self, s: Session, token: str, camera_id: str, now: datetime) -> ViewGrant:
        row = s.get(WallGrantRow, digest(token))
        if row is None:
            raise MediaDenied(401, "Unauthorized", "the media grant is not valid")
        if row.expires_at <= now or wall_key_alive(s, row.key_hash) != row.wall_id:
            raise MediaDenied(403, "Forbidden", "the media grant has expired or its wall key was revoked")
        if camera_id not in wall_cameras(s, row.wall_id):
            raise MediaDenied(403, "Forbidden", f"camera {camera_id!r} is not on wall {row.wall_id!r}")
        return ViewGrant(
            viewer=f"wall:{row.wall_id}",
            camera_id=camera_id,
            stream_url="",
            kind="wall",
            share_id=None,
            expires_at=row.expires_at,
        )

    def _still_valid(self, grant: ViewGrant) -> bool:
        now = self._ctx.now()
        if grant.expires_at is not None and grant.expires_at <= now:
            return False
        with self._ctx.uow.read() as s:
            if grant.share_id is not None:
                share = s.get(ShareRow, grant.share_id)
                # A camera taken out of the share (a re-selection, a register edition that removed it)
                # is cut like a revoked share.
                return (
                    share is not None
                    and share_status(share, now) is ShareStatus.ACTIVE
                    and grant.camera_id in {str(c) for c in share.camera_ids}
                )
            if grant.grant_ref is None:
                return True
            if grant.kind == "wall":
                wall = s.get(WallGrantRow, grant.grant_ref)
                # The wall's key still holds, and the camera is still on its layout.
                return (
                    wall is not None
                    and wall_key_alive(s, wall.key_hash) == wall.wall_id
                    and grant.camera_id in wall_cameras(s, wall.wall_id)
                )
            row = s.get(MediaGrantRow, grant.grant_ref)
            # The grant ends with its session: a logout, an idle or ended session or a disabled user cuts
            # the console's video too.
            return (
                row is not None
                and session_alive(s, row.session_hash, now, self._ctx.session_policy()) is not None
            )

    def _viewing_detail(self, s: Session, grant: ViewGrant) -> dict[str, Any]:
        detail: dict[str, Any] = {"viewing": grant.viewing_id, "share_id": grant.share_id, "kind": grant.kind}
        if grant.agency_id is not None:
            agency = s.get(AgencyRow, grant.agency_id)
            detail["agencies"] = {grant.agency_id: agency.name if agency is not None else None}
        return detail

    def _record_start(self, grant: ViewGrant, now: datetime) -> None:
        with self._ctx.uow.writing() as s:
            audit_chain.add_audit(
                s,
                [
                    dict(
                        at=now,
                        actor=grant.viewer,
                        action="video.view.start",
                        target_type="camera",
                        target_id=grant.camera_id,
                        client=grant.client,
                        detail={"from": now.isoformat(), **self._viewing_detail(s, grant)},
                    )
                ],
            )

    def _record(self, grant: ViewGrant, started: datetime, ended: datetime, bytes_sent: int) -> None:
        with self._ctx.uow.writing() as s:
            audit_chain.add_audit(
                s,
                [
                    dict(
                        at=ended,
                        actor=grant.viewer,
                        action="video.view",
                        target_type="camera",
                        target_id=grant.camera_id,
                        client=grant.client,
                        detail={
                            "from": started.isoformat(),
                            "to": ended.isoformat(),
                            "bytes": bytes_sent,
                            **self._viewing_detail(s, grant),
                        },
                    )
                ],
            )


def gateway_credential_ok(ctx: EngineContext, authorization: str | None) -> bool:
    """Whether a media gateway's call carries the gateway's own key (``[agency_access]
    media_gateway_key_sha256``); with none configured, no caller is a gateway."""
    wanted = ctx.settings.agency_access.media_gateway_key_sha256
    scheme, _, value = (authorization or "").partition(" ")
    if wanted is None or scheme.lower() != "bearer" or not value.strip():
        return False
    return hmac.compare_digest(digest(value.strip()), wanted)
