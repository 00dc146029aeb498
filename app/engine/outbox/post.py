"""One delivery attempt: render, sign, POST through the egress guard, classify the answer.

This is the part of the dispatcher that leaves the engine's process (DESIGN §8 2026-12-06): the delivery
sender (:mod:`app.engine.outbox.sender`) runs it for jobs the engine hands over, and the engine runs it
in-process only when it is given an httpx transport of its own. It never opens the database: a job
carries everything (the stored event with share-token placeholders, the agency's endpoint, format,
names and signing secrets, the engine's clock for the signature's timestamp) and the outcome goes back
to the engine, which records it.

A job is a JSON object (see :func:`job_json`); an outcome is the list
``[delivery_id, ok, status, error, retry_after, gone, ms]`` where ``retry_after`` is the raw
``Retry-After`` header of a 429/503 (the engine parses it on its own clock).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.domain.enums import AgencyKind
from app.engine.outbox.egress import check_url, guarded_transport
from app.engine.outbox.tokens import with_tokens
from app.formats.api import OutboundEvent
from app.formats.payloads import AgencyContext, adapter_for
from app.formats.webhooks import sign_headers

USER_AGENT = "GoldenTime-Webhooks/1"
PER_ORIGIN = 16  # connections (and so requests in flight) to one agency endpoint's origin
OutcomeRow = list[Any]  # [delivery_id, ok, status, error, retry_after, gone, ms]


@dataclass(frozen=True)
class PostConfig:
    """What a sender needs from the engine's settings (sent to the sender process at its start)."""

    allow_http: bool
    allowed_networks: tuple[str, ...]
    request_timeout_s: float
    max_response_bytes: int
    concurrency: int
    sender_id: str
    token_key: bytes | None

    def to_json(self) -> dict[str, Any]:
        return {
            "allow_http": self.allow_http,
            "allowed_networks": list(self.allowed_networks),
            "request_timeout_s": self.request_timeout_s,
            "max_response_bytes": self.max_response_bytes,
            "concurrency": self.concurrency,
            "sender_id": self.sender_id,
            "token_key": None if self.token_key is None else self.token_key.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PostConfig:
        key = data.get("token_key")
        return cls(
            allow_http=bool(data["allow_http"]),
            allowed_networks=tuple(str(n) for n in data.get("allowed_networks") or ()),
            request_timeout_s=float(data["request_timeout_s"]),
            max_response_bytes=int(data["max_response_bytes"]),
            concurrency=int(data["concurrency"]),
            sender_id=str(data["sender_id"]),
            token_key=None if key is None else bytes.fromhex(str(key)),
        )


def job_json(
    delivery_id: str,
    agency_id: str,
    incident_id: str,
    sequence: int,
    endpoint: str,
    fmt: str,
    agency_name: str,
    agency_kind: str,
    secrets: tuple[str, ...],
    event_json: str,
) -> str:
    """A job as JSON text; ``event_json`` (the stored event, already JSON) is embedded as it is."""
    head = json.dumps(
        [delivery_id, agency_id, incident_id, sequence, endpoint, fmt, agency_name, agency_kind, secrets],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return head[:-1] + "," + event_json + "]"


class Poster:
    """Sends jobs, at most ``concurrency`` at a time, each origin (scheme, host, port) on its own pooled,
    guarded httpx client of at most :data:`PER_ORIGIN` connections. httpcore's pool walks all its
    connections for every request it places (``_assign_requests_to_connections``): one pool of 192
    connections to a busy agency cost more CPU than the rest of a delivery together."""

    def __init__(self, cfg: PostConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.cfg = cfg
        self._sem = asyncio.Semaphore(cfg.concurrency)
        self._transport = transport
        self._clients: dict[tuple[str, str, int | None], httpx.AsyncClient] = {}
        # A request waits here (no timeout) rather than in the pool's queue (its pool timeout would fail it).
        self._origin_sem: dict[tuple[str, str, int | None], asyncio.Semaphore] = {}
        self._per_origin = min(cfg.concurrency, PER_ORIGIN)

    @staticmethod
    def _origin(endpoint: str) -> tuple[str, str, int | None]:
        parts = urlsplit(endpoint)
        return (parts.scheme, parts.hostname or "", parts.port)

    def _client(self, endpoint: str) -> httpx.AsyncClient:
        key = self._origin(endpoint)
        client = self._clients.get(key)
        if client is None:
            n = self._per_origin
            client = self._clients[key] = httpx.AsyncClient(
                follow_redirects=False,  # a redirect could send a signed payload somewhere unvetted
                timeout=httpx.Timeout(self.cfg.request_timeout_s),
                limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
                headers={"user-agent": USER_AGENT},
                # Every connection resolves, vets and connects to an allowed address (SSRF, DNS rebinding).
                transport=self._transport
                or guarded_transport(self.cfg.allowed_networks, max_connections=n, max_keepalive=n),
            )
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for c in clients:
            await c.aclose()

    async def send(self, job: list[Any], ts: float) -> OutcomeRow:
        """One attempt of ``job`` (as decoded from :func:`job_json`), signed at engine time ``ts``.
        Never raises (but for cancellation): a job that cannot be prepared is a failed attempt."""
        start = time.perf_counter()
        delivery_id = str(job[0])
        try:
            origin = self._origin(str(job[4]))
            per_origin = self._origin_sem.get(origin)
            if per_origin is None:
                per_origin = self._origin_sem[origin] = asyncio.Semaphore(self._per_origin)
            # The origin's turn first: a slow agency's queue never holds the slots other agencies need.
            async with per_origin, self._sem:
                return await self._post(job, ts, start)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # rendering or signing failed: never lose the row, record and retry
            return [delivery_id, False, None, f"internal: {exc!r}"[:500], None, False, _ms(start)]

    async def _post(self, job: list[Any], ts: float, start: float) -> OutcomeRow:
        delivery_id, agency_id, incident_id, sequence, endpoint, fmt, name, kind, secrets, payload = job
        cfg = self.cfg
        refused = check_url(
            endpoint, allow_http=cfg.allow_http, allowed_networks=cfg.allowed_networks, resolve=False
        )
        if refused:
            return [delivery_id, False, None, f"refused: {refused}", None, False, _ms(start)]
        # The stored payload has placeholders where share tokens go: put them in now, before signing.
        event = with_tokens(OutboundEvent.model_validate(payload), cfg.token_key)
        agency = AgencyContext(agency_id=agency_id, name=name, kind=AgencyKind(kind), sender_id=cfg.sender_id)
        rendered = adapter_for(fmt).render(event, agency)
        headers = sign_headers(delivery_id, datetime.fromtimestamp(ts, UTC), rendered.body, secrets)
        headers["content-type"] = rendered.content_type
        headers["goldentime-sequence"] = str(sequence)
        headers["goldentime-incident"] = incident_id
        status: int | None = None
        retry_after: str | None = None
        try:
            async with self._client(endpoint).stream(
                "POST", endpoint, content=rendered.body, headers=headers
            ) as resp:
                status = resp.status_code
                read = 0
                async for chunk in resp.aiter_raw():
                    read += len(chunk)
                    if read >= cfg.max_response_bytes:
                        break  # a receiver cannot make us buffer an unbounded answer
                if status in (429, 503):
                    retry_after = resp.headers.get("retry-after")
        except httpx.TimeoutException:
            return [delivery_id, False, status, "timeout", None, False, _ms(start)]
        except httpx.HTTPError as exc:
            return [delivery_id, False, status, f"{type(exc).__name__}: {exc}"[:500], None, False, _ms(start)]
        if 200 <= status < 300:
            return [delivery_id, True, status, None, None, False, _ms(start)]
        return [delivery_id, False, status, f"HTTP {status}", retry_after, status == 410, _ms(start)]


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
