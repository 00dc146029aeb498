"""Agency simulator: the receiving side of GoldenTime's signed webhooks, over real HTTP.

It plays a police room, fire room, disaster situation room or vulnerable-protection service:

- ``POST /webhook`` checks the Standard Webhooks signature and timestamp (bad → 401 problem+json),
  parses the body in the agency's format (json, CAP 1.2 or EIDO; bad → 400), records it in arrival
  order and de-duplicates by ``webhook-id`` (a repeat is answered 200 and counted);
- ``GET /received`` lists what was accepted; ``GET /control/state`` shows failures, attempts and
  video checks;
- ``POST /control/fail`` ``{"mode", "count", "delay_s", "retry_after_s"}`` makes the next deliveries
  fail (``http500``, ``http429``, ``http503``, ``http410``), hang (``timeout``: no answer, then the
  connection is dropped), answer late (``slow``) or lose the connection (``drop``); ``ok`` clears it;
- ``POST /control/open-video`` fetches every shared link it received (the first bytes of each
  ``.ts`` or ``.jpg``) and records the HTTP status and byte count, proving access works; with
  ``--open-video`` it does so by itself for each new link, in bounded background tasks.

:class:`AgencySimulator` runs the same server in a background thread for tests, with
``wait_for(count, timeout)`` built on a condition variable, so tests never sleep to synchronise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast, get_args

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.domain.enums import AgencyKind, DeliveryFormat
from app.formats.cap import CapError, parse_cap
from app.formats.eido import eido_envelope, eido_media_urls, validate_eido
from app.formats.webhooks import DEFAULT_TOLERANCE_S, WebhookVerificationError, verify

log = logging.getLogger("goldentime.sim.agency")

FailureMode = Literal["ok", "http500", "http429", "http503", "http410", "timeout", "slow", "drop"]
FAILURE_MODES: Final[tuple[str, ...]] = get_args(FailureMode)
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
DEFAULT_TIMEOUT_HOLD_S: Final = 30.0
DEFAULT_SLOW_S: Final = 2.0
PROBLEM_JSON: Final = "application/problem+json"


# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """One accepted delivery, as the agency saw it."""

    id: str
    type: str
    sequence: int | None
    incident_id: str | None
    format: DeliveryFormat
    exercise: bool
    body: bytes
    headers: dict[str, str]
    received_at: datetime
    urls: tuple[str, ...] = ()

    def to_json(self, duplicates: int = 0) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "sequence": self.sequence,
            "incident_id": self.incident_id,
            "format": self.format.value,
            "exercise": self.exercise,
            "received_at": self.received_at.isoformat(),
            "headers": self.headers,
            "body": self.body.decode("utf-8", errors="replace"),
            "urls": list(self.urls),
            "duplicates": duplicates,
        }


@dataclass(frozen=True, slots=True)
class Attempt:
    """Every request to ``/webhook``, including the failed and refused ones."""

    at: datetime
    webhook_id: str | None
    status: int | None  # None: the connection was dropped without an answer
    outcome: str  # "accepted", "duplicate", a failure mode, "unauthorized", "bad-request", …


@dataclass(frozen=True, slots=True)
class VideoCheck:
    url: str
    status: int | None
    bytes: int
    content_type: str | None
    error: str | None
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "bytes": self.bytes,
            "content_type": self.content_type,
            "error": self.error,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class FailurePlan:
    mode: FailureMode = "ok"
    count: int | None = None  # None: until changed
    delay_s: float | None = None
    retry_after_s: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "count": self.count,
            "delay_s": self.delay_s,
            "retry_after_s": self.retry_after_s,
        }


@dataclass(frozen=True, slots=True)
class ParsedDelivery:
    id: str
    type: str
    sequence: int | None
    incident_id: str | None
    exercise: bool
    urls: tuple[str, ...]


class DeliveryParseError(ValueError):
    """A body that does not parse in the agency's format (answered 400 with this detail)."""


# ---------------------------------------------------------------- parsing


def parse_delivery(fmt: DeliveryFormat, body: bytes) -> ParsedDelivery:
    """Read the event identity and shared links from a webhook body in ``fmt``."""
    if fmt == DeliveryFormat.CAP:
        return _parse_cap_delivery(body)
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DeliveryParseError(f"body is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise DeliveryParseError("body must be a JSON object")
    if fmt == DeliveryFormat.EIDO:
        return _parse_eido_delivery(doc)
    return _parse_json_delivery(doc)


def _parse_json_delivery(doc: dict[str, Any]) -> ParsedDelivery:
    for key, kind in (("type", str), ("id", str), ("occurred_at", str), ("sequence", int), ("data", dict)):
        if not isinstance(doc.get(key), kind) or isinstance(doc.get(key), bool):
            raise DeliveryParseError(f"envelope field {key!r} is missing or not a {kind.__name__}")
    data = cast(dict[str, Any], doc["data"])
    incident = data.get("incident")
    if not isinstance(incident, dict) or not isinstance(incident.get("id"), str):
        raise DeliveryParseError("data.incident.id is missing")
    urls: list[str] = []
    share = data.get("share")
    if isinstance(share, dict) and doc["type"] != "share.revoked" and not share.get("revoked_at"):
        share_urls = share.get("urls")
        if isinstance(share_urls, dict):
            urls.extend(str(u) for u in share_urls.values())
    report = data.get("report")
    if isinstance(report, dict) and isinstance(report.get("snapshot_url"), str):
        urls.append(report["snapshot_url"])
    return ParsedDelivery(
        id=doc["id"],
        type=doc["type"],
        sequence=doc["sequence"],
        incident_id=incident["id"],
        exercise=bool(incident.get("exercise")),
        urls=tuple(urls),
    )


def _parse_eido_delivery(doc: dict[str, Any]) -> ParsedDelivery:
    problems = validate_eido(doc)
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise DeliveryParseError(f"EIDO does not validate: {shown}{more}")
    envelope = eido_envelope(doc)
    if envelope is None:
        raise DeliveryParseError("EIDO has no additionalDataComponent with urlPurpose 'goldentime-event'")
    event_id, event_type, sequence = envelope.get("id"), envelope.get("type"), envelope.get("sequence")
    if not isinstance(event_id, str) or not isinstance(event_type, str) or not isinstance(sequence, int):
        raise DeliveryParseError("the goldentime-event additional data lacks id, type or sequence")
    incident_id = envelope.get("incident_id")
    return ParsedDelivery(
        id=event_id,
        type=event_type,
        sequence=sequence,
        incident_id=incident_id if isinstance(incident_id, str) else None,
        exercise=bool(envelope.get("exercise")),
        urls=tuple(eido_media_urls(doc)),
    )


def _parse_cap_delivery(body: bytes) -> ParsedDelivery:
    try:
        alert = parse_cap(body)
    except CapError as exc:
        raise DeliveryParseError(f"CAP: {exc.detail}") from exc
    params: dict[str, str] = {}
    urls: list[str] = []
    for info in alert.infos:
        for name, value in info.parameters:
            params.setdefault(name, value)
        urls.extend(r.uri for r in info.resources if r.uri)
    sequence_text = params.get("goldentime:sequence")
    sequence = int(sequence_text) if sequence_text and sequence_text.isdigit() else None
    return ParsedDelivery(
        id=params.get("goldentime:event-id", alert.identifier),
        type=params.get("goldentime:event-type", f"cap.{alert.msg_type.lower()}"),
        sequence=sequence,
        incident_id=params.get("goldentime:incident-id") or (alert.incidents[0] if alert.incidents else None),
        exercise=alert.is_drill,
        urls=tuple(urls),
    )


# ---------------------------------------------------------------- state


class AgencyState:
    """What the agency received, thread-safe (the server thread writes, test threads read and wait)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._received: list[ReceivedEvent] = []
        self._ids: set[str] = set()
        self._duplicates: Counter[str] = Counter()
        self._attempts: list[Attempt] = []
        self._video: list[VideoCheck] = []
        self._failure = FailurePlan()
        self._order_violations = 0
        self._last_sequence: dict[str, int] = {}

    # -- failures

    def set_failure(self, plan: FailurePlan) -> None:
        with self._cond:
            self._failure = plan

    def failure(self) -> FailurePlan:
        with self._cond:
            return self._failure

    def take_failure(self) -> FailurePlan | None:
        """The failure to apply to the current request (consuming one of its count), or None."""
        with self._cond:
            plan = self._failure
            if plan.mode == "ok":
                return None
            if plan.count is not None:
                remaining = plan.count - 1
                self._failure = replace(plan, count=remaining) if remaining > 0 else FailurePlan()
            return plan

    # -- records

    def add_attempt(self, attempt: Attempt) -> None:
        with self._cond:
            self._attempts.append(attempt)
            self._cond.notify_all()

    def record(self, event: ReceivedEvent) -> bool:
        """Store ``event``; False (and counted) when its id was already received."""
        with self._cond:
            if event.id in self._ids:
                self._duplicates[event.id] += 1
                self._cond.notify_all()
                return False
            self._ids.add(event.id)
            self._received.append(event)
            if event.incident_id is not None and event.sequence is not None:
                last = self._last_sequence.get(event.incident_id, 0)
                if event.sequence < last:
                    self._order_violations += 1
                self._last_sequence[event.incident_id] = max(last, event.sequence)
            self._cond.notify_all()
            return True

    def add_video_check(self, check: VideoCheck) -> None:
        with self._cond:
            self._video.append(check)
            self._cond.notify_all()

    def received(self) -> list[ReceivedEvent]:
        with self._cond:
            return list(self._received)

    def attempts(self) -> list[Attempt]:
        with self._cond:
            return list(self._attempts)

    def video_checks(self) -> list[VideoCheck]:
        with self._cond:
            return list(self._video)

    def duplicates(self) -> dict[str, int]:
        with self._cond:
            return dict(self._duplicates)

    @property
    def order_violations(self) -> int:
        """Events that arrived with a lower sequence than one already seen for their incident."""
        with self._cond:
            return self._order_violations

    def reset(self) -> None:
        with self._cond:
            self._received.clear()
            self._ids.clear()
            self._duplicates.clear()
            self._attempts.clear()
            self._video.clear()
            self._order_violations = 0
            self._last_sequence.clear()
            self._failure = FailurePlan()
            self._cond.notify_all()

    def received_json(self) -> list[dict[str, Any]]:
        with self._cond:
            return [e.to_json(self._duplicates.get(e.id, 0)) for e in self._received]

    def state_json(self) -> dict[str, Any]:
        with self._cond:
            return {
                "failure": self._failure.to_json(),
                "received": len(self._received),
                "duplicates": sum(self._duplicates.values()),
                "order_violations": self._order_violations,
                "attempts": [
                    {
                        "at": a.at.isoformat(),
                        "webhook_id": a.webhook_id,
                        "status": a.status,
                        "outcome": a.outcome,
                    }
                    for a in self._attempts
                ],
                "video_checks": [v.to_json() for v in self._video],
            }

    # -- waiting (no sleeping)

    def _wait(self, ready: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
        with self._cond:
            if not self._cond.wait_for(ready, timeout=timeout):
                raise TimeoutError(f"waited {timeout:g} s for {what()}")

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedEvent]:
        """Block until at least ``count`` distinct events were accepted; returns them all."""
        self._wait(
            lambda: len(self._received) >= count,
            timeout,
            lambda: f"{count} events, got {len(self._received)}: {[e.type for e in self._received]}",
        )
        return self.received()

    def wait_for_attempts(self, count: int, timeout: float = 10.0) -> list[Attempt]:
        """Block until at least ``count`` requests reached ``/webhook`` (whatever the outcome)."""
        self._wait(
            lambda: len(self._attempts) >= count,
            timeout,
            lambda: f"{count} attempts, got {len(self._attempts)}",
        )
        return self.attempts()

    def wait_for_duplicates(self, count: int, timeout: float = 10.0) -> dict[str, int]:
        self._wait(
            lambda: sum(self._duplicates.values()) >= count,
            timeout,
            lambda: f"{count} duplicates, got {sum(self._duplicates.values())}",
        )
        return self.duplicates()

    def wait_for_video_checks(self, count: int, timeout: float = 10.0) -> list[VideoCheck]:
        self._wait(
            lambda: len(self._video) >= count,
            timeout,
            lambda: f"{count} video checks, got {len(self._video)}",
        )
        return self.video_checks()


# ---------------------------------------------------------------- server


@dataclass(frozen=True, slots=True)
class AgencyConfig:
    kind: AgencyKind
    secrets: tuple[str, ...]
    format: DeliveryFormat = DeliveryFormat.JSON
    tolerance_s: float = DEFAULT_TOLERANCE_S
    open_video: bool = False
    video_max_bytes: int = 64 * 1024
    video_timeout_s: float = 10.0
    video_concurrency: int = 4
    ca_file: str | None = None  # the site CA that signs an https:// engine's certificate (video links)
    max_body_bytes: int = MAX_BODY_BYTES
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def _problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


class _Server(uvicorn.Server):
    """uvicorn server that reports when it is listening (no polling of ``started``)."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()


class AgencyServer:
    """The simulator's HTTP app and server, run on the current event loop by :meth:`serve`."""

    def __init__(self, config: AgencyConfig, state: AgencyState | None = None) -> None:
        if not config.secrets:
            raise ValueError("the agency simulator needs at least one webhook secret")
        self.config = config
        self.state = state or AgencyState()
        self._server: _Server | None = None
        self._stopping: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._video_sem: asyncio.Semaphore | None = None
        self._checked_urls: set[str] = set()
        self.app = Starlette(
            routes=[
                Route("/webhook", self._webhook, methods=["POST"]),
                Route("/received", self._received, methods=["GET"]),
                Route("/health", self._health, methods=["GET"]),
                Route("/control/state", self._control_state, methods=["GET"]),
                Route("/control/fail", self._control_fail, methods=["POST"]),
                Route("/control/reset", self._control_reset, methods=["POST"]),
                Route("/control/open-video", self._control_open_video, methods=["POST"]),
            ]
        )

    # -- lifecycle

    async def serve(self, sock: socket.socket, on_started: Callable[[], None] = lambda: None) -> None:
        """Serve on an already bound ``sock`` until :meth:`request_stop`."""
        self._stopping = asyncio.Event()
        self._video_sem = asyncio.Semaphore(self.config.video_concurrency)
        uv_config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(uv_config, on_started)
        try:
            await self._server.serve(sockets=[sock])
        finally:
            self._stopping.set()
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)

    def request_stop(self) -> None:
        """Ask the server to stop (call on the server's loop)."""
        if self._stopping is not None:
            self._stopping.set()
        if self._server is not None:
            self._server.should_exit = True

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _hold(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the server stops."""
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _drop(self, request: Request) -> None:
        """Close the client's connection without an answer (RST), as a crashed agency would."""
        client = request.scope.get("client")
        server = self._server
        if server is not None and client is not None:
            for conn in list(server.server_state.connections):
                if getattr(conn, "client", None) == tuple(client):
                    transport = getattr(conn, "transport", None)
                    if transport is not None:
                        transport.abort()
                        # let connection_lost run so uvicorn discards whatever we return
                        await asyncio.sleep(0)
                        await asyncio.sleep(0)
                        return
        raise ConnectionAbortedError("agency simulator dropped the connection")

    # -- routes

    async def _webhook(self, request: Request) -> Response:
        now = self.config.clock()
        webhook_id = request.headers.get("webhook-id")

        def attempt(status: int | None, outcome: str) -> None:
            self.state.add_attempt(Attempt(now, webhook_id, status, outcome))

        plan = self.state.take_failure()
        if plan is not None:
            if plan.mode in ("http500", "http429", "http503", "http410"):
                status = int(plan.mode[4:])
                headers = None
                if plan.mode in ("http429", "http503"):
                    headers = {
                        "Retry-After": str(plan.retry_after_s if plan.retry_after_s is not None else 1)
                    }
                attempt(status, plan.mode)
                titles = {500: "Internal Server Error", 429: "Too Many Requests", 503: "Service Unavailable"}
                return _problem(
                    status,
                    titles.get(status, "Gone"),
                    f"simulated failure ({plan.mode})",
                    headers,
                )
            if plan.mode == "timeout":
                attempt(None, "timeout")
                await self._hold(plan.delay_s if plan.delay_s is not None else DEFAULT_TIMEOUT_HOLD_S)
                await self._drop(request)
                return Response(status_code=504)
            if plan.mode == "drop":
                attempt(None, "drop")
                await self._drop(request)
                return Response(status_code=502)
            if plan.mode == "slow":
                await self._hold(plan.delay_s if plan.delay_s is not None else DEFAULT_SLOW_S)

        body = await request.body()
        if len(body) > self.config.max_body_bytes:
            attempt(413, "too-large")
            return _problem(
                413,
                "Content Too Large",
                f"body is {len(body)} bytes; the limit is {self.config.max_body_bytes}",
            )
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            verify(headers, body, self.config.secrets, self.config.tolerance_s, now=self.config.clock())
        except WebhookVerificationError as exc:
            attempt(401, "unauthorized")
            log.info("refused webhook %s: %s", webhook_id, exc)
            return _problem(401, "Unauthorized", f"webhook signature check failed: {exc}")
        try:
            parsed = parse_delivery(self.config.format, body)
        except DeliveryParseError as exc:
            attempt(400, "bad-request")
            log.info("bad webhook body %s: %s", webhook_id, exc)
            return _problem(400, "Bad Request", str(exc))
        if parsed.id != webhook_id:
            attempt(400, "bad-request")
            return _problem(
                400, "Bad Request", f"body event id {parsed.id!r} differs from webhook-id {webhook_id!r}"
            )
        event = ReceivedEvent(
            id=parsed.id,
            type=parsed.type,
            sequence=parsed.sequence,
            incident_id=parsed.incident_id,
            format=self.config.format,
            exercise=parsed.exercise,
            body=body,
            headers=headers,
            received_at=now,
            urls=parsed.urls,
        )
        fresh = self.state.record(event)
        attempt(200, "accepted" if fresh else "duplicate")
        if fresh and self.config.open_video and parsed.urls:
            self._spawn(self._auto_open(parsed.urls))
        return JSONResponse({"status": "accepted" if fresh else "duplicate", "id": parsed.id})

    async def _received(self, request: Request) -> Response:
        return JSONResponse(self.state.received_json())

    async def _health(self, request: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "kind": self.config.kind.value, "format": self.config.format.value}
        )

    async def _control_state(self, request: Request) -> Response:
        return JSONResponse(self.state.state_json())

    async def _control_reset(self, request: Request) -> Response:
        self.state.reset()
        self._checked_urls.clear()
        return JSONResponse({"status": "reset"})

    async def _control_fail(self, request: Request) -> Response:
        try:
            doc = await request.json()
        except ValueError:
            return _problem(400, "Bad Request", "body must be JSON")
        try:
            plan = failure_plan_from_json(doc)
        except ValueError as exc:
            return _problem(400, "Bad Request", str(exc))
        self.state.set_failure(plan)
        return JSONResponse(plan.to_json())

    async def _control_open_video(self, request: Request) -> Response:
        urls: list[str] = []
        for event in self.state.received():
            urls.extend(u for u in event.urls if u not in urls)
        checks = await self._open_urls(tuple(urls), only_new=False)
        return JSONResponse([c.to_json() for c in checks])

    # -- video

    async def _auto_open(self, urls: Sequence[str]) -> None:
        await self._open_urls(urls, only_new=True)

    async def _open_urls(self, urls: Sequence[str], *, only_new: bool) -> list[VideoCheck]:
        todo = [u for u in urls if not (only_new and u in self._checked_urls)]
        self._checked_urls.update(todo)
        if not todo:
            return []
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=self.config.ca_file) if self.config.ca_file else True
        )
        async with httpx.AsyncClient(
            timeout=self.config.video_timeout_s, follow_redirects=False, verify=verify
        ) as client:
            return list(await asyncio.gather(*(self._open_one(client, url) for url in todo)))

    async def _open_one(self, client: httpx.AsyncClient, url: str) -> VideoCheck:
        assert self._video_sem is not None
        status: int | None = None
        content_type: str | None = None
        received = 0
        error: str | None = None
        async with self._video_sem:
            try:
                async with client.stream("GET", url) as response:
                    status = response.status_code
                    content_type = response.headers.get("content-type")
                    async for chunk in response.aiter_raw():
                        received += len(chunk)
                        if received >= self.config.video_max_bytes:
                            break
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
        check = VideoCheck(url, status, received, content_type, error, self.config.clock())
        self.state.add_video_check(check)
        log.info("opened %s: status %s, %d bytes%s", url, status, received, f", {error}" if error else "")
        return check


def failure_plan_from_json(doc: Any) -> FailurePlan:
    """Read a ``/control/fail`` body; ValueError with a precise message when it is wrong."""
    if not isinstance(doc, dict):
        raise ValueError("body must be a JSON object")
    unknown = set(doc) - {"mode", "count", "delay_s", "retry_after_s"}
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    mode = doc.get("mode")
    if mode not in FAILURE_MODES:
        raise ValueError(f"mode {mode!r} is not one of {', '.join(FAILURE_MODES)}")
    count = doc.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ValueError("count must be a positive integer or null")
    delay = doc.get("delay_s")
    if delay is not None and (not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0):
        raise ValueError("delay_s must be a number >= 0")
    retry_after = doc.get("retry_after_s")
    if retry_after is not None and (
        not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0
    ):
        raise ValueError("retry_after_s must be an integer >= 0")
    return FailurePlan(
        cast(FailureMode, mode),
        count,
        float(delay) if delay is not None else None,
        retry_after,
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP, and
    # without it every keep-alive response waits 40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


# ---------------------------------------------------------------- in-process simulator for tests


class AgencySimulator:
    """An agency simulator on a real socket, served from its own thread and event loop.

    ``with AgencySimulator(secrets=[secret]) as sim:`` starts it; ``sim.webhook_url`` is the endpoint
    to register with the engine; ``sim.wait_for(n)`` blocks until ``n`` events arrived.
    """

    def __init__(
        self,
        *,
        secrets: Sequence[str] | str,
        kind: AgencyKind = AgencyKind.POLICE,
        fmt: DeliveryFormat = DeliveryFormat.JSON,
        host: str = "127.0.0.1",
        port: int = 0,
        open_video: bool = False,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        secret_tuple = (secrets,) if isinstance(secrets, str) else tuple(secrets)
        config = AgencyConfig(
            kind=kind,
            secrets=secret_tuple,
            format=fmt,
            tolerance_s=tolerance_s,
            open_video=open_video,
        )
        if clock is not None:
            config = replace(config, clock=clock)
        self.state = AgencyState()
        self._server = AgencyServer(config, self.state)
        self._host = host
        self._port = port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43121``."""
        if self._url is None:
            raise RuntimeError("the agency simulator is not started")
        return self._url

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook"

    @property
    def config(self) -> AgencyConfig:
        return self._server.config

    def start(self, timeout: float = 10.0) -> AgencySimulator:
        if self._thread is not None:
            raise RuntimeError("the agency simulator is already started")
        sock = _bind(self._host, self._port)
        port = sock.getsockname()[1]
        self._url = _url(self._host, port)
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"agency-sim-{port}", daemon=True
        )
        self._thread.start()
        if not self._started.wait(timeout):
            self.stop()
            raise RuntimeError(f"agency simulator did not start within {timeout:g} s") from self._error
        if self._error is not None:
            raise RuntimeError("agency simulator failed to start") from self._error
        return self

    def _run(self, sock: socket.socket) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            await self._server.serve(sock, on_started=self._started.set)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            log.exception("agency simulator stopped with an error")
        finally:
            sock.close()
            self._started.set()

    def stop(self, timeout: float = 10.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(self._server.request_stop)
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError(f"agency simulator thread did not stop within {timeout:g} s")
        self._thread = None
        self._loop = None

    def __enter__(self) -> AgencySimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the tests use

    def received(self) -> list[ReceivedEvent]:
        return self.state.received()

    def attempts(self) -> list[Attempt]:
        return self.state.attempts()

    def duplicates(self) -> dict[str, int]:
        return self.state.duplicates()

    def video_checks(self) -> list[VideoCheck]:
        return self.state.video_checks()

    def set_failure(
        self,
        mode: FailureMode,
        count: int | None = None,
        delay_s: float | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        self.state.set_failure(
            failure_plan_from_json(
                {"mode": mode, "count": count, "delay_s": delay_s, "retry_after_s": retry_after_s}
            )
        )

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedEvent]:
        return self.state.wait_for(count, timeout)

    async def wait_for_async(self, count: int, wait_s: float = 10.0) -> list[ReceivedEvent]:
        """:meth:`wait_for` for async tests: blocks a worker thread, not the caller's loop."""
        return await asyncio.to_thread(self.state.wait_for, count, wait_s)

    def wait_for_attempts(self, count: int, timeout: float = 10.0) -> list[Attempt]:
        return self.state.wait_for_attempts(count, timeout)

    def wait_for_video_checks(self, count: int, timeout: float = 10.0) -> list[VideoCheck]:
        return self.state.wait_for_video_checks(count, timeout)

    def open_video(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Ask the running simulator to fetch every link it received (over its own HTTP API)."""
        response = httpx.post(f"{self.url}/control/open-video", timeout=timeout)
        response.raise_for_status()
        return cast(list[dict[str, Any]], response.json())


# ---------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py sim agency",
        description="Run an agency simulator that receives GoldenTime's signed webhooks.",
    )
    parser.add_argument("--kind", choices=[k.value for k in AgencyKind], required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--secret",
        action="append",
        required=True,
        help="webhook secret (whsec_…); repeat to accept both sides of a rotation",
    )
    parser.add_argument(
        "--format", choices=[f.value for f in DeliveryFormat], default=DeliveryFormat.JSON.value
    )
    parser.add_argument("--tolerance-s", type=float, default=DEFAULT_TOLERANCE_S)
    parser.add_argument(
        "--open-video", action="store_true", help="fetch every shared link as it arrives (bounded)"
    )
    parser.add_argument("--video-bytes", type=int, default=64 * 1024, help="bytes to read per link")
    parser.add_argument("--ca", help="CA certificate that signs an https:// engine's certificate")
    return parser


def main_sim_agency(argv: list[str]) -> int:
    """``python main.py sim agency …``: serve until interrupted; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        config = AgencyConfig(
            kind=AgencyKind(args.kind),
            secrets=tuple(args.secret),
            format=DeliveryFormat(args.format),
            tolerance_s=args.tolerance_s,
            open_video=args.open_video,
            video_max_bytes=args.video_bytes,
            ca_file=args.ca,
        )
        # fail fast on an unusable secret
        for secret in config.secrets:
            verify_secret_format(secret)
        server = AgencyServer(config)
        sock = _bind(args.host, args.port)
    except (ValueError, OSError) as exc:
        print(f"agency simulator: {exc}")
        return 2
    url = _url(args.host, sock.getsockname()[1])

    def announce() -> None:
        print(
            f"agency simulator ({config.kind.value}, {config.format.value}) listening on {url}/webhook",
            flush=True,
        )

    try:
        asyncio.run(server.serve(sock, on_started=announce))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


def verify_secret_format(secret: str) -> None:
    """ValueError unless ``secret`` is a usable Standard Webhooks secret."""
    from app.formats.webhooks import sign_headers

    sign_headers("check", datetime.now(UTC), b"", [secret])
