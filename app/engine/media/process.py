"""The media process (``python main.py media``): the relay, its HTTP/WebSocket face, nothing else.

Started and supervised by the engine (:mod:`.supervisor`), which hands it two file descriptors: the
listening TCP socket of the media port (the engine owns it, so the port and every URL stay the same
across restarts, and connections made while the process restarts wait in the backlog), and its end
of the control channel (:mod:`.control`). The process never opens the database:

* a viewer's token is sent to the engine (``authorize``), which answers with the grant (camera
  stream URL, who, until when) or the problem to show;
* while a viewer streams, the grant is checked locally every ``check_interval`` (expiry) and against
  the revocations the engine pushes (``revoke`` with a share id or a console grant's digest);
* camera states (``status``) and finished viewings (``viewing``, for the audit) go to the engine;
* the engine asks for pre-warming (``prewarm``), snapshots (``snapshot``) and statistics (``stats``).

When the control channel closes (the engine stopped or died) the process exits.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import Coroutine, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from app.engine.media.control import ChannelClosed, ControlChannel
from app.engine.media.quota import QuotaAccess, QuotaMiddleware, StreamQuota
from app.engine.media.relay import ChannelStatus, MediaRelay, RelayClosed, RelayConfig
from app.engine.media.routes import MediaDenied, ViewGrant, expose_transport, make_media_router
from app.engine.media.snapshot import SnapshotError, snapshot_jpeg

log = logging.getLogger(__name__)


def grant_to_json(grant: ViewGrant) -> dict[str, Any]:
    data = asdict(grant)
    data["expires_at"] = grant.expires_at.isoformat() if grant.expires_at else None
    return data


def grant_from_json(data: dict[str, Any]) -> ViewGrant:
    expires = data.get("expires_at")
    return ViewGrant(
        viewer=str(data["viewer"]),
        camera_id=str(data["camera_id"]),
        stream_url=str(data["stream_url"]),
        kind=str(data["kind"]),
        share_id=data.get("share_id"),
        expires_at=datetime.fromisoformat(expires) if expires else None,
        grant_ref=data.get("grant_ref"),
        client=data.get("client"),
        viewing_id=data.get("viewing_id"),
        agency_id=data.get("agency_id"),
        quota=tuple((str(k), int(n)) for k, n in data.get("quota") or ()),
    )


def grant_key(grant: ViewGrant) -> str | None:
    """What a revocation of the whole grant names: the share, or the console/wall grant's digest."""
    if grant.share_id is not None:
        return f"share:{grant.share_id}"
    if grant.grant_ref is not None:
        return f"grant:{grant.grant_ref}"
    return None


def camera_key(grant: ViewGrant) -> str | None:
    """What a revocation of one camera of a grant names (a camera taken out of a share or off a wall)."""
    key = grant_key(grant)
    return None if key is None else f"{key}/{grant.camera_id}"


class ControlAccess:
    """``MediaAccess`` for the media process: authorisation by the engine, validity checked locally
    against the expiry and the revocations the engine pushed."""

    def __init__(self) -> None:
        self.channel: ControlChannel | None = None
        self.revoked: dict[str, str] = {}  # grant key -> reason

    async def authorize(self, token: str, camera_id: str, client: str) -> ViewGrant:
        if self.channel is None:
            raise MediaDenied(503, "Media relay unavailable", "The media process is not connected.")
        try:
            reply = await self.channel.request(
                {"t": "authorize", "token": token, "camera_id": camera_id, "client": client}
            )
        except (ChannelClosed, TimeoutError) as exc:
            raise MediaDenied(503, "Media relay unavailable", "The engine did not answer.") from exc
        if "grant" in reply:
            grant = grant_from_json(reply["grant"])
            if reply.get("expires_in") is not None:
                grant = replace(
                    grant, expires_at=datetime.now(UTC) + timedelta(seconds=float(reply["expires_in"]))
                )
            for key in (grant_key(grant), camera_key(grant)):
                if key is not None:
                    self.revoked.pop(key, None)  # the engine just said it is valid (e.g. extended)
            return grant
        denied = reply.get("denied") or {}
        raise MediaDenied(
            int(denied.get("status", 500)),
            str(denied.get("title", "Internal error")),
            str(denied.get("detail", reply.get("error", "The media access check failed."))),
            str(denied.get("type", "about:blank")),
        )

    async def still_valid(self, grant: ViewGrant) -> bool:
        return self.end_reason(grant) is None

    def end_reason(self, grant: ViewGrant) -> str | None:
        if grant.expires_at is not None and grant.expires_at <= datetime.now(UTC):
            return "expired"
        for key in (grant_key(grant), camera_key(grant)):
            if key is not None and key in self.revoked:
                return self.revoked[key]
        return None

    async def record_viewing(
        self, grant: ViewGrant, started: datetime, ended: datetime, bytes_sent: int
    ) -> None:
        if self.channel is not None:
            self.channel.send(
                {
                    "t": "viewing",
                    "grant": grant_to_json(grant),
                    "started": started.isoformat(),
                    "ended": ended.isoformat(),
                    "bytes": bytes_sent,
                }
            )


def status_to_json(status: ChannelStatus) -> dict[str, Any]:
    return {
        "camera_id": status.camera_id,
        "url": status.url,
        "state": status.state.value,
        "error": status.last_error,
        "viewers": status.viewers,
        "codec": status.codec,
        "mime_codec": status.mime_codec,
        "width": status.width,
        "height": status.height,
        "pid": status.pid,
        "upstream_opens": status.upstream_opens,
    }


def build_media_app(relay: MediaRelay, access: ControlAccess) -> FastAPI:
    """The media port's application (``MEDIA_RULES`` in :mod:`app.engine.access_rules` lists its routes;
    ``tests/engine/test_media_access_matrix.py`` walks them)."""
    app = FastAPI(title="GoldenTime media", docs_url=None, redoc_url=None, openapi_url=None)
    quota = StreamQuota()  # viewers per share camera, streams per agency (the grant carries the limits)
    app.add_middleware(QuotaMiddleware)
    app.include_router(
        make_media_router(relay, QuotaAccess(access, quota), check_interval=0.25, gateway_auth=False)
    )
    return app


class MediaProcess:
    def __init__(
        self,
        listen: socket.socket,
        control: socket.socket,
        config: RelayConfig,
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.tls = tls  # (certificate, key): the media port speaks TLS like the engine's own port
        self.listen = listen
        self.control_sock = control
        self.config = config
        self.access = ControlAccess()
        self.relay: MediaRelay | None = None
        self.server: uvicorn.Server | None = None

    async def handle(self, message: dict[str, Any]) -> dict[str, Any] | None:
        relay = self.relay
        kind = message.get("t")
        if kind == "revoke":
            key = str(message.get("key"))
            self.access.revoked[key] = str(message.get("reason") or "revoked")
            return None
        if kind == "unrevoke":
            self.access.revoked.pop(str(message.get("key")), None)
            return None
        if relay is None or relay.closed:
            return {"error": "relay closed"}
        if kind == "prewarm":
            for camera_id, url in message.get("cameras", []):
                with contextlib.suppress(RelayClosed):
                    relay.prewarm(
                        str(camera_id), str(url), message.get("seconds"), mp4=bool(message.get("mp4"))
                    )
            return None
        if kind == "snapshot":
            try:
                jpeg = await snapshot_jpeg(
                    str(message["url"]),
                    relay=relay,
                    camera_id=str(message.get("camera_id") or ""),
                    max_wait=float(message.get("max_wait", 10.0)),
                )
            except (SnapshotError, RelayClosed) as exc:
                return {"error": str(exc)}
            return {"jpeg": base64.b64encode(jpeg).decode()}
        if kind == "stats":
            stats = relay.stats()
            return {
                "pid": os.getpid(),
                "viewers": stats.viewers,
                "upstream_opens": stats.upstream_opens,
                "channels": [status_to_json(c) for c in stats.channels],
            }
        if kind == "ping":
            return {"pid": os.getpid(), "at": time.time()}
        return {"error": f"unknown message {kind!r}"} if "id" in message else None

    async def run(self) -> int:
        self.relay = MediaRelay(self.config)
        channel = await ControlChannel.open(self.control_sock, self.handle)
        self.access.channel = channel

        def on_status(status: ChannelStatus) -> None:
            channel.send({"t": "status", **status_to_json(status)})

        self.relay.add_listener(on_status)
        app = build_media_app(self.relay, self.access)
        self.server = uvicorn.Server(
            uvicorn.Config(
                expose_transport(app),
                ws_per_message_deflate=False,  # video does not compress; deflating it only costs CPU
                log_level="warning",
                access_log=False,
                lifespan="off",
                ws="websockets-sansio",
                timeout_graceful_shutdown=2,
                timeout_keep_alive=65,
                ssl_certfile=self.tls[0] if self.tls else None,
                ssl_keyfile=self.tls[1] if self.tls else None,
            )
        )
        # uvicorn handles SIGTERM/SIGINT itself: serve() returns and the process ends below.
        serving = asyncio.create_task(self.server.serve(sockets=[self.listen]), name="media-http")
        control = asyncio.create_task(channel.serve(), name="media-control")
        channel.send({"t": "hello", "pid": os.getpid()})
        done, _ = await asyncio.wait({serving, control}, return_when=asyncio.FIRST_COMPLETED)
        if control in done:
            log.info("media process: the engine closed the control channel; exiting")
        self._exit()
        await self.relay.aclose()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3):
                await serving
        channel.close()
        return 0

    def _exit(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.server.force_exit = True


def main_media(argv: Sequence[str] | None = None) -> int:
    """``python main.py media --listen-fd N --control-fd M`` (started by the engine, not by hand)."""
    parser = argparse.ArgumentParser(prog="main.py media", description="The media relay process.")
    parser.add_argument("--listen-fd", type=int, required=True, help="inherited listening TCP socket")
    parser.add_argument("--control-fd", type=int, required=True, help="inherited control channel socket")
    parser.add_argument("--no-gop-cache", action="store_true")
    parser.add_argument("--idle-grace", type=float, default=None)
    parser.add_argument(
        "--batch-interval", type=float, default=None, help="read the cameras' pipes every this many seconds"
    )
    parser.add_argument("--tls-cert", help="serve the media port over TLS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="… and this key")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--log-file", help="write the log to this file, rotated ([log] settings)")
    parser.add_argument("--log-max-bytes", type=int, default=10 * 1024 * 1024)
    parser.add_argument("--log-backups", type=int, default=5)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(list(argv) if argv is not None else None)
    fmt = "%(asctime)s %(levelname)s media[%(process)d] %(name)s: %(message)s"
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr, format=fmt)
    if args.log_file:
        from app.engine.log_files import log_to_file

        log_to_file(Path(args.log_file), args.log_max_bytes, args.log_backups, args.log_level, fmt)
    listen = socket.socket(fileno=args.listen_fd)
    control = socket.socket(fileno=args.control_fd)
    overrides: dict[str, Any] = {"gop_cache": not args.no_gop_cache}
    if args.idle_grace is not None:
        overrides["idle_grace"] = args.idle_grace
    if args.batch_interval is not None:
        overrides["batch_interval"] = args.batch_interval
    config = RelayConfig(**overrides)
    tls = (args.tls_cert, args.tls_key) if args.tls_cert and args.tls_key else None
    return _run(MediaProcess(listen, control, config, tls).run())


def _run(main: Coroutine[Any, Any, int]) -> int:
    """Run on uvloop where it is installed (it comes with ``uvicorn[standard]``; the engine's own uvicorn
    picks it the same way): its pipe reads and socket writes are C, the relay's hot path."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
