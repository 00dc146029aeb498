"""HTTP face of the media relay: live MPEG-TS, snapshots, and a media gateway's auth call.

* ``GET /media/{token}/{camera_id}.ts`` — live MPEG-TS (``video/mp2t``). The token is authorised
  before anything is sent; the first bytes (the cached GOP, or the first keyframe) are awaited before
  the status line, so an unreachable camera answers 503 instead of an empty 200. While streaming, the
  grant is re-checked at least every ``check_interval`` seconds (also while the client is not reading)
  and the stream ends when it is no longer valid; every viewing is reported to
  :meth:`MediaAccess.record_viewing` with its byte count.
* ``GET /media/{token}/{camera_id}.jpg`` — the current picture (see :mod:`.snapshot`).
* ``WS /media/{token}/{camera_id}.ws`` — for browsers (Media Source Extensions): one text message
  ``{"type": "start", "codec": "avc1.42C01F", "width": …, "height": …}``, then binary messages, the
  first being the fragmented-MP4 init segment and the cached GOP, then one fragment per frame. The
  grant is checked as for ``.ts``. ``?transcode=h264`` asks for the camera encoded to H.264, once for
  every such viewer (for a codec the browser cannot decode, e.g. H.265 without an H.264 sub stream;
  refused with 4409 for a camera that already sends H.264). When it ends the socket closes with code 4401 (expired), 4403
  (revoked or otherwise ended), 4503 (camera unavailable), 4408 (too slow) and a short reason; a
  refused token gets a text ``{"type": "error", …}`` (the problem details) and close code 4000+status.
* ``POST /api/v1/media/auth`` — MediaMTX-style external HTTP authentication (``authMethod: http``,
  ``authHTTPAddress``): 200 allows, 401 denies. The token comes from the path
  (``cam/{token}/{camera_id}`` or ``{token}/{camera_id}``) or, with a path of just ``{camera_id}``,
  from ``token``, ``password`` or the ``token=`` query parameter; only ``read`` is ever allowed.

Errors are ``application/problem+json`` (RFC 9457). Anything else under ``/media/`` is a problem 404.
Mount this router on an app without ``BaseHTTPMiddleware`` in front of it (it buffers streams).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.domain.stream_url import scrub
from app.engine.media.relay import MediaRelay, RelayClosed, Sink, UpstreamUnavailable, Viewer
from app.engine.media.snapshot import SnapshotError, snapshot_jpeg

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_TOKEN_RE = re.compile(r"[A-Za-z0-9._~+=-]{1,4096}")
_CAMERA_RE = re.compile(r"[A-Za-z0-9._~:-]{1,128}")
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

#: Scope key under which :func:`expose_transport` puts the connection's transport.
TRANSPORT_KEY = "goldentime.transport"


# ------------------------------------------------------------------------------------------------
# The fast path: video written straight to the connection
# ------------------------------------------------------------------------------------------------


def expose_transport(app: ASGIApp) -> ASGIApp:
    """``app`` with each connection's transport in its scope (:data:`TRANSPORT_KEY`), so that the live
    routes can write video to it directly from the relay's fan-out (:meth:`Viewer.attach`): one
    ``write`` per frame and viewer, instead of a task switch, an ASGI message through every middleware
    and the server's own framing. uvicorn hands the app ``send`` as a method of the object that owns the
    connection's transport (HTTP cycle or WebSocket protocol, httptools, h11 and websockets alike);
    where that is not so (another server) the routes fall back to ASGI messages."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if all(hasattr(transport, name) for name in ("writelines", "get_write_buffer_size", "is_closing")):
            scope[TRANSPORT_KEY] = transport
        await app(scope, receive, send)

    return wrapped


def _transport(scope: Scope) -> asyncio.WriteTransport | None:
    transport = scope.get(TRANSPORT_KEY)
    return transport if transport is not None and not transport.is_closing() else None


def chunked_sink(transport: asyncio.WriteTransport) -> Sink:
    """Writes each chunk as one HTTP/1.1 ``Transfer-Encoding: chunked`` chunk."""

    def sink(data: bytes) -> int:
        if transport.is_closing():
            return -1
        transport.writelines((b"%x\r\n" % len(data), data, b"\r\n"))
        return transport.get_write_buffer_size()

    return sink


def websocket_sink(transport: asyncio.WriteTransport) -> Sink:
    """Writes each chunk as one unmasked binary WebSocket message (RFC 6455 §5.2; a server never masks,
    and an uncompressed message is valid whatever extension was negotiated, RFC 7692 §6)."""

    def sink(data: bytes) -> int:
        if transport.is_closing():
            return -1
        n = len(data)
        if n < 126:
            head = bytes((0x82, n))
        elif n < 65536:
            head = b"\x82\x7e" + n.to_bytes(2, "big")
        else:
            head = b"\x82\x7f" + n.to_bytes(8, "big")
        transport.writelines((head, data))
        return transport.get_write_buffer_size()

    return sink


# ------------------------------------------------------------------------------------------------
# The contract with the engine
# ------------------------------------------------------------------------------------------------


class MediaDenied(Exception):
    """Raised by :meth:`MediaAccess.authorize`: 401 malformed/expired/revoked token, 403 not allowed,
    404 unknown camera, 503 camera offline. Rendered as ``application/problem+json``."""

    def __init__(self, status: int, title: str, detail: str, type: str = "about:blank") -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type


@dataclass(frozen=True)
class ViewGrant:
    """What a valid token allows: one viewer, one camera stream, until ``expires_at``."""

    viewer: str  # who: a user name, or the agency of a share
    camera_id: str
    stream_url: str  # the upstream (RTSP) URL the relay pulls
    kind: str  # "share" | "console" | "wall" …
    share_id: str | None = None
    expires_at: datetime | None = None
    grant_ref: str | None = None  # the engine's handle on a console/wall grant, re-checked while streaming
    client: str | None = None  # the viewer's address, for the audit
    viewing_id: str | None = None  # joins the viewing's start and end rows in the audit
    agency_id: str | None = None  # a share's agency (the audit names it by id and name)
    # Limits this viewer counts against: (key, most at once), admitted by .quota (issue 12)
    quota: tuple[tuple[str, int], ...] = ()


class MediaAccess(Protocol):
    """Implemented by the engine (tokens, shares, audit)."""

    async def authorize(self, token: str, camera_id: str, client: str) -> ViewGrant:
        """The grant for ``token`` on ``camera_id`` from ``client`` (an IP), or raise :class:`MediaDenied`."""
        ...

    async def still_valid(self, grant: ViewGrant) -> bool:
        """False once the grant expired or was revoked (checked at least once a second)."""
        ...

    async def record_viewing(
        self, grant: ViewGrant, started: datetime, ended: datetime, bytes_sent: int
    ) -> None:
        """Audit one viewing (stream or snapshot)."""
        ...


def end_reason(access: MediaAccess, grant: ViewGrant) -> str:
    """Why ``grant`` stopped being valid ("expired", "revoked", …), if ``access`` can tell."""
    explain = getattr(access, "end_reason", None)
    if explain is not None:
        try:
            return str(explain(grant))
        except Exception:
            log.exception("explaining the end of a grant failed")
    if grant.expires_at is not None and grant.expires_at <= datetime.now(UTC):
        return "expired"
    return "revoked"


async def checked_authorize(access: MediaAccess, token: str, camera_id: str, client: str) -> ViewGrant:
    """``access.authorize`` behind the shape checks every media route makes first."""
    if not _TOKEN_RE.fullmatch(token):
        raise MediaDenied(401, "Invalid token", "The media token is malformed.")
    if not _CAMERA_RE.fullmatch(camera_id) or camera_id in (".", ".."):
        raise MediaDenied(404, "Unknown camera", "No camera has this id.")
    try:
        return await access.authorize(token, camera_id, client)
    except MediaDenied:
        raise
    except Exception as exc:
        log.exception("media authorisation of camera %s failed", camera_id)
        raise MediaDenied(500, "Internal error", "The media access check failed.") from exc


def problem(
    status: int, title: str, detail: str, type: str = "about:blank", headers: dict[str, str] | None = None
) -> JSONResponse:
    """An RFC 9457 problem response."""
    return JSONResponse(
        {"type": type, "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={**_NO_STORE, **(headers or {})},
    )


def _denied(exc: MediaDenied) -> JSONResponse:
    return problem(exc.status, exc.title, exc.detail, exc.type)


class MediaAuthRequest(BaseModel):
    """MediaMTX's external HTTP authentication payload."""

    model_config = ConfigDict(extra="ignore")

    user: str = ""
    password: str = ""
    token: str = ""
    ip: str = ""
    action: str = ""
    path: str = ""
    protocol: str = ""
    id: str | None = None
    query: str = ""


class GrantWatch:
    """Re-checks the grant of every live viewer of a router on one clock: every ``interval`` seconds
    each watched grant is asked ``access.still_valid``, and the first answer "no" calls its ``on_end``
    once. One task for all viewers, instead of a sleeping task per viewer (four wake-ups a second each
    at the media process's 0.25 s). The task runs only while something is watched."""

    def __init__(self, access: MediaAccess, interval: float) -> None:
        self.access = access
        self.interval = interval
        self._entries: dict[object, tuple[ViewGrant, Callable[[], None]]] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, grant: ViewGrant, on_end: Callable[[], None]) -> Callable[[], None]:
        """Watch ``grant``; returns the function that stops watching it."""
        key = object()
        self._entries[key] = (grant, on_end)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="media-grant-watch")

        def unwatch() -> None:
            self._entries.pop(key, None)

        return unwatch

    async def _run(self) -> None:
        while self._entries:
            await asyncio.sleep(self.interval)
            for key, (grant, on_end) in list(self._entries.items()):
                if key not in self._entries:
                    continue
                try:
                    valid = await self.access.still_valid(grant)
                except Exception:
                    log.exception("checking the grant of %s failed; ending the stream", grant.viewer)
                    valid = False
                if not valid and self._entries.pop(key, None) is not None:
                    try:
                        on_end()
                    except Exception:
                        log.exception("ending the stream of %s failed", grant.viewer)


# ------------------------------------------------------------------------------------------------
# Router
# ------------------------------------------------------------------------------------------------


def make_media_router(
    relay: MediaRelay,
    access: MediaAccess,
    *,
    check_interval: float = 1.0,
    first_data_timeout: float = 10.0,
    snapshot_timeout: float = 10.0,
    snapshot_max_width: int | None = None,
    gateway_auth: bool = True,
) -> APIRouter:
    """The media routes, bound to ``relay`` and ``access`` (``gateway_auth``: with
    ``POST /api/v1/media/auth``)."""
    router = APIRouter(tags=["media"])
    grants = GrantWatch(access, check_interval)

    async def authorize(token: str, camera_id: str, client: str) -> ViewGrant:
        return await checked_authorize(access, token, camera_id, client)

    @router.get(
        "/media/{token}/{camera_id}.ts",
        response_class=Response,
        responses={200: {"content": {"video/mp2t": {}}, "description": "Live MPEG-TS"}},
        summary="Live video of a camera as MPEG-TS over HTTP",
    )
    async def media_ts(token: str, camera_id: str, request: Request) -> Response:
        client = request.client.host if request.client else ""
        try:
            grant = await authorize(token, camera_id, client)
        except MediaDenied as exc:
            return _denied(exc)
        started = datetime.now(UTC)
        try:
            viewer = relay.subscribe(grant.camera_id, grant.stream_url, client=client)
        except RelayClosed:
            await _record(access, grant, started, 0)
            return problem(503, "Media relay unavailable", "The media relay is shutting down.")
        try:
            first = await viewer.first_data(first_data_timeout)
        except UpstreamUnavailable as exc:
            viewer.close("camera unavailable")
            await _record(access, grant, started, 0)  # the admitted viewing ends here, with nothing sent
            return problem(
                503, "Camera unavailable", f"Camera {grant.camera_id} is not sending video: {scrub(str(exc))}"
            )
        except BaseException:
            viewer.close("request ended")
            # The admitted viewing ends here (the client left before any video): its end is recorded on a
            # task of its own, since this one is being cancelled.
            task = asyncio.get_running_loop().create_task(_record(access, grant, started, 0))
            _ending.add(task)
            task.add_done_callback(_ending.discard)
            raise
        return _LiveTsResponse(viewer, first, grant, access, grants, started)

    @router.get(
        "/media/{token}/{camera_id}.jpg",
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}, "description": "Current picture"}},
        summary="Current picture of a camera as JPEG",
    )
    async def media_jpg(token: str, camera_id: str, request: Request) -> Response:
        client = request.client.host if request.client else ""
        try:
            grant = await authorize(token, camera_id, client)
        except MediaDenied as exc:
            return _denied(exc)
        started = datetime.now(UTC)
        try:
            jpeg = await snapshot_jpeg(
                grant.stream_url,
                relay=None if relay.closed else relay,
                camera_id=grant.camera_id,
                max_wait=snapshot_timeout,
                max_width=snapshot_max_width,
            )
        except SnapshotError as exc:
            await _record(access, grant, started, 0)  # the admitted viewing ends here, with nothing sent
            return problem(
                503, "Camera unavailable", f"No picture from camera {grant.camera_id}: {scrub(str(exc))}"
            )
        except RelayClosed:
            await _record(access, grant, started, 0)
            return problem(503, "Media relay unavailable", "The media relay is shutting down.")
        await _record(access, grant, started, len(jpeg))
        return Response(jpeg, media_type="image/jpeg", headers=_NO_STORE)

    @router.websocket("/media/{token}/{camera_id}.ws")
    async def media_ws(websocket: WebSocket, token: str, camera_id: str) -> None:
        client = websocket.client.host if websocket.client else ""
        await websocket.accept()
        try:
            grant = await authorize(token, camera_id, client)
        except MediaDenied as exc:
            await _ws_refuse(websocket, exc.status, exc.title, exc.detail, exc.type)
            return
        started = datetime.now(UTC)
        transcode = websocket.query_params.get("transcode") == "h264"
        if transcode:
            refusal = await _transcode_refusal(relay, grant, first_data_timeout)
            if refusal is not None:
                await _ws_refuse(websocket, *refusal)
                return
        try:
            viewer = relay.subscribe(
                grant.camera_id, grant.stream_url, client=client, kind="mp4", transcode=transcode
            )
        except RelayClosed:
            await _record(access, grant, started, 0)
            await _ws_refuse(websocket, 503, "Media relay unavailable", "The media relay is shutting down.")
            return
        reason = "ended"
        code = 1000
        main = asyncio.current_task()
        cut = asyncio.Event()

        async def watch_disconnect() -> None:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        break
            viewer.close("client disconnected")

        def on_grant_end() -> None:
            nonlocal reason, code
            reason = end_reason(access, grant)
            code = 4401 if reason == "expired" else 4403
            cut.set()
            viewer.close(reason)
            if main is not None:
                main.cancel()

        unwatch = grants.watch(grant, on_grant_end)
        helpers = [asyncio.create_task(watch_disconnect(), name=f"media-ws-disconnect-{grant.camera_id}")]
        try:
            try:
                data: bytes | None = await viewer.first_data(first_data_timeout)
            except UpstreamUnavailable as exc:
                reason, code = f"camera unavailable: {scrub(str(exc))}"[:120], 4503
                data = None
            if data is not None:
                status = relay.status(grant.stream_url, transcode=transcode)
                await websocket.send_text(
                    json.dumps(
                        {
                            "type": "start",
                            "camera_id": grant.camera_id,
                            "codec": status.mime_codec if status else None,
                            "width": status.width if status else None,
                            "height": status.height if status else None,
                            "transcoded": transcode,
                        }
                    )
                )
            transport = _transport(websocket.scope) if data is not None else None
            if transport is not None:
                sink = websocket_sink(transport)
                assert data is not None
                sink(data)
                viewer.attach(sink)  # every later fragment goes straight to the socket
                data = await viewer.read()  # None once the viewer ends (nothing is queued any more)
            while data is not None:
                await websocket.send_bytes(data)
                data = await viewer.read()
            if code == 1000 and viewer.close_reason not in (None, "client disconnected"):
                reason = viewer.close_reason or "ended"
                code = 4408 if reason == "too slow" else 4503 if reason == "relay closed" else 4000
        except asyncio.CancelledError:
            if not (cut.is_set() and main is not None and main.cancelling()):
                raise
            main.uncancel()
        except (WebSocketDisconnect, OSError, RuntimeError):
            reason = "client disconnected"
        finally:
            unwatch()
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            viewer.close(reason)
            if websocket.application_state == WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(1.0):
                        await websocket.close(code, reason[:120])
            await _record(access, grant, started, viewer.bytes_read)

    @router.api_route(
        "/media/{rest:path}",
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    async def media_not_found(rest: str) -> Response:
        return problem(404, "Not found", "Media URLs are /media/{token}/{camera_id}.ts or .jpg.")

    if gateway_auth:
        add_gateway_auth(router, authorize)
    return router


def add_gateway_auth(router: APIRouter, authorize: Callable[[str, str, str], Awaitable[ViewGrant]]) -> None:
    """``POST /api/v1/media/auth`` (MediaMTX-style per-viewer authorisation) on ``router``."""

    @router.post(
        "/api/v1/media/auth",
        summary="Per-viewer authorisation for a media gateway (MediaMTX authHTTPAddress)",
        responses={200: {"description": "Allowed"}, 401: {"description": "Denied"}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": MediaAuthRequest.model_json_schema()}},
            }
        },
    )
    async def media_gateway_auth(request: Request) -> Response:
        try:
            body = MediaAuthRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            return problem(
                400, "Bad request", f"Not a media authentication request: {exc.error_count()} error(s)."
            )
        if body.action != "read":
            return problem(401, "Not allowed", f"Action {body.action!r} is not allowed through GoldenTime.")
        token, camera_id = _gateway_credentials(body)
        if not token or not camera_id:
            # RTSP clients send credentials only after a 401 challenge (MediaMTX docs).
            return problem(
                401, "Credentials required", "No media token in the path, token, password or query."
            )
        try:
            grant = await authorize(token, camera_id, body.ip)
        except MediaDenied as exc:
            return problem(401, exc.title, exc.detail)
        return JSONResponse({"allowed": True, "camera_id": grant.camera_id, "viewer": grant.viewer})


async def _transcode_refusal(
    relay: MediaRelay, grant: ViewGrant, first_data_timeout: float
) -> tuple[int, str, str] | None:
    """Why ``?transcode=h264`` is refused for this camera, if it is: only a camera whose own codec is not
    H.264 is transcoded (an encoder per camera costs a good part of a core; a viewer may not start one
    for a camera a browser plays as it is). Its codec comes from its copy channel, opened for a moment
    if the relay has not seen the camera yet."""
    status = relay.status(grant.stream_url)
    if status is None or status.codec is None:
        try:
            async with relay.stream(grant.camera_id, grant.stream_url, client="codec check") as probe:
                await probe.first_data(first_data_timeout)
        except UpstreamUnavailable as exc:
            return (
                503,
                "Camera unavailable",
                f"Camera {grant.camera_id} is not sending video: {scrub(str(exc))}",
            )
        except RelayClosed:
            return 503, "Media relay unavailable", "The media relay is shutting down."
        status = relay.status(grant.stream_url)
    if status is not None and status.codec == "h264":
        return 409, "No transcoding needed", f"Camera {grant.camera_id} sends H.264: play it as it is."
    return None


async def _ws_refuse(
    websocket: WebSocket, status: int, title: str, detail: str, type: str = "about:blank"
) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_text(
            json.dumps({"type": "error", "status": status, "title": title, "detail": detail, "problem": type})
        )
        await websocket.close(4000 + status, title[:120])


def _gateway_credentials(body: MediaAuthRequest) -> tuple[str, str]:
    parts = [p for p in body.path.strip("/").split("/") if p]
    if len(parts) >= 3 and parts[0] in ("cam", "media", "live"):
        parts = parts[1:]
    if len(parts) == 2:
        return parts[0], parts[1]
    camera_id = parts[-1] if parts else ""
    query = parse_qs(body.query, keep_blank_values=False)
    token = body.token or body.password or (query.get("token") or [""])[0]
    return token, camera_id


_ending: set[asyncio.Task[None]] = set()  # end records written after their request was cancelled


async def _record(access: MediaAccess, grant: ViewGrant, started: datetime, bytes_sent: int) -> None:
    try:
        await access.record_viewing(grant, started, datetime.now(UTC), bytes_sent)
    except Exception:
        log.exception("recording the viewing of camera %s by %s failed", grant.camera_id, grant.viewer)


class _LiveTsResponse(Response):
    """Streams a relay viewer as an HTTP body; re-checks the grant; notices a disconnect at once."""

    media_type = "video/mp2t"

    def __init__(
        self,
        viewer: Viewer,
        first: bytes,
        grant: ViewGrant,
        access: MediaAccess,
        grants: GrantWatch,
        started: datetime,
    ) -> None:
        super().__init__(content=None, status_code=200, headers=_NO_STORE, media_type=self.media_type)
        # A live body has no length: drop the "content-length: 0" that Response adds for no content.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.viewer = viewer
        self.first = first
        self.grant = grant
        self.access = access
        self.grants = grants
        self.check_interval = grants.interval
        self.started = started
        self.bytes_sent = 0
        self.end_reason = "ended"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        viewer = self.viewer
        main = asyncio.current_task()
        disconnected = asyncio.Event()
        sending = False
        cut = False

        async def watch_disconnect() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected.set()
                    viewer.close("client disconnected")
                    return

        def on_grant_end() -> None:
            # The grant is checked on its own clock, so that a stream is cut in time even when no
            # video flows or the client has stopped reading (then a blocked send is abandoned).
            nonlocal cut
            cut = True
            self.end_reason = "grant no longer valid"
            viewer.close(self.end_reason)
            if sending and main is not None:
                main.cancel()

        unwatch = self.grants.watch(self.grant, on_grant_end)
        helpers = [asyncio.create_task(watch_disconnect(), name=f"media-disconnect-{viewer.camera_id}")]
        complete = False
        # The fast path (see expose_transport): HTTP/1.1 chunks written by the relay's fan-out itself.
        direct = scope.get("http_version") == "1.1" and scope.get("method") == "GET"
        transport = _transport(scope) if direct else None
        headers = self.raw_headers
        if transport is not None:
            headers = [*headers, (b"transfer-encoding", b"chunked")]
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
            data: bytes | None = self.first
            if transport is not None and data is not None:
                sink = chunked_sink(transport)
                sink(data)
                self.bytes_sent += len(data)
                before = viewer.bytes_read
                viewer.attach(sink)
                data = await viewer.read()  # None once the viewer ends (nothing is queued any more)
                self.bytes_sent += viewer.bytes_read - before
            while data is not None and not cut and not disconnected.is_set():
                sending = True
                await send({"type": "http.response.body", "body": data, "more_body": True})
                sending = False
                self.bytes_sent += len(data)
                data = await viewer.read()
            if data is None and not cut:
                self.end_reason = viewer.close_reason or "ended"
            if not disconnected.is_set():
                async with asyncio.timeout(self.check_interval):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                complete = True
        except asyncio.CancelledError:
            if not (cut and main is not None and main.cancelling()):
                raise
            main.uncancel()  # our own cut of a client that stopped reading
        except (OSError, TimeoutError, UpstreamUnavailable) as exc:  # client gone (OSError from uvicorn)
            if not cut:
                self.end_reason = type(exc).__name__
        finally:
            unwatch()
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            viewer.close(self.end_reason)
            log.debug(
                "viewing of %s by %s ended (%s, %d bytes, complete=%s)",
                self.grant.camera_id,
                self.grant.viewer,
                self.end_reason,
                self.bytes_sent,
                complete,
            )
            await _record(self.access, self.grant, self.started, self.bytes_sent)
