"""RFC 9457 problem+json for every error, and the guards that run before a body is parsed."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.engine.errors import ServiceError
from app.store.group_commit import GroupCommitFailed

_log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> JSONResponse:
        if exc.status in (401, 403):  # refused by a service (the gate records its own): audited, batched
            ctx = getattr(request.app.state, "ctx", None)
            principal = getattr(request.state, "principal", None)
            route = request.scope.get("route")
            if ctx is not None:
                ctx.refusals.record(
                    "request.refused",
                    getattr(principal, "actor", "anonymous"),
                    request.client.host if request.client else None,
                    f"{request.method} {getattr(route, 'path', request.url.path)}",
                    exc.status,
                    exc.detail,
                    ctx.now(),
                    getattr(principal, "key_holder_id", None),
                )
        resp = problem(exc.status, exc.title, exc.detail)
        for k, v in exc.headers.items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(GroupCommitFailed)
    async def _not_stored(_request: Request, exc: GroupCommitFailed) -> JSONResponse:
        # The database refused the commit of this request's group (disk full, I/O error): nothing of it
        # was stored, and the caller may send it again.
        resp = problem(503, "Not stored", f"the change was not stored, send it again: {exc}")
        resp.headers["retry-after"] = "1"
        return resp

    @app.exception_handler(InterfaceError)  # psycopg: "the connection is closed" (the server went away)
    @app.exception_handler(OperationalError)
    async def _database_down(_request: Request, exc: DBAPIError) -> JSONResponse:
        # The database is unreachable (restarting, network, failover): nothing of this request was
        # acknowledged; the pool's pre-ping reconnects once it is back.
        _log.warning("database unavailable: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        resp = problem(503, "Database unavailable", "the database does not answer; send the request again")
        resp.headers["retry-after"] = "1"
        return resp

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            if e.get("type") == "json_invalid":
                ctx = e.get("ctx") or {}
                return problem(
                    400, "Malformed JSON", f"the body is not valid JSON: {ctx.get('error', 'parse error')}"
                )
            errors.append(
                {"field": _loc(e.get("loc", ())), "message": e.get("msg", "invalid"), "type": e.get("type")}
            )
        detail = "; ".join(f"{x['field']}: {x['message']}" for x in errors[:10])
        return problem(422, "Validation failed", detail, errors=errors[:50])

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {
            404: "Not Found",
            405: "Method Not Allowed",
            401: "Unauthorized",
            403: "Forbidden",
            429: "Too Many Requests",
        }
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such route"
        elif exc.status_code == 405 and detail == "Method Not Allowed":
            detail = "this route does not accept that method"
        elif exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
            detail = "the body is nested too deeply to parse"
        resp = problem(exc.status_code, titles.get(exc.status_code, "Error"), detail)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        _log.exception("unexpected error handling a request")
        return problem(
            500, "Internal Server Error", "the engine failed to handle this request; it has been logged"
        )


class BodyGuard:
    """Pure ASGI middleware: 413 for bodies over the limit (declared or streamed), 415 for wrong types.

    It runs before any parsing, so a hostile body never reaches the JSON or XML parser.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path: str = scope.get("path", "")
        length = headers.get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await _send_problem(send, 400, "Bad Request", "Content-Length is not a number")
                return
            if declared > self.max_bytes:
                await _send_problem(
                    send,
                    413,
                    "Content Too Large",
                    f"the body is {declared} bytes; the limit is {self.max_bytes}",
                )
                return
        if path.startswith("/api/") and (length is None or length != "0"):
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            wanted = _wanted_types(path)
            if ctype not in wanted:
                await _send_problem(
                    send,
                    415,
                    "Unsupported Media Type",
                    f"send {' or '.join(sorted(wanted))}, not {ctype or 'no content type'}",
                )
                return
        # Read the whole (bounded) body first, then replay it: a streamed body over the limit is refused
        # before the application sees a byte of it.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await _send_problem(
                    send, 413, "Content Too Large", f"the body is over the limit of {self.max_bytes} bytes"
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _wanted_types(path: str) -> set[str]:
    if path.endswith("/alerts/cap"):
        return {"application/cap+xml", "application/xml", "text/xml"}
    return {"application/json", "application/merge-patch+json"}


async def _send_problem(send: Send, status: int, title: str, detail: str) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
