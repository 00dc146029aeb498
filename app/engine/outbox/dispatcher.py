"""The outbox dispatcher: delivers every accepted event to its agency at least once, in order.

Pipeline (one asyncio loop, database work in threads):
  claimer  — claims due deliveries that head their (agency, incident) stream, with a lease;
  senders  — one task per claimed delivery: render, sign, POST, classify the answer;
  recorder — writes every finished attempt (state, audit row, live event) in one transaction, then wakes
             the claimer, so the next event of that stream goes out at once.
A crash loses nothing: a claimed row whose lease ran out is claimed again (SQLite, one engine: all
leases are dropped at start). Duplicates carry the same ``webhook-id`` (the delivery id).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import aliased

from app.domain.enums import AgencyKind, DeliveryState
from app.engine.context import EngineContext
from app.engine.outbox.egress import check_url, guarded_transport
from app.engine.outbox.schedule import next_delay, parse_retry_after
from app.engine.outbox.tokens import with_tokens
from app.engine.services.directory import agency_health_of
from app.engine.work import FreshDelivery, add_live, signing_secrets
from app.formats.api import OutboundEvent
from app.formats.payloads import AgencyContext, adapter_for
from app.formats.webhooks import sign_headers
from app.store import audit_chain
from app.store.models import AgencyRow, DeliveryRow, TimelineRow

_log = logging.getLogger(__name__)
OPEN = (DeliveryState.PENDING.value, DeliveryState.RETRYING.value)
USER_AGENT = "GoldenTime-Webhooks/1"


@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    agency_id: str
    incident_id: str
    sequence: int
    attempts: int
    created_at: datetime
    payload: dict[str, object]
    endpoint: str
    fmt: str
    agency_name: str
    agency_kind: str
    secrets: tuple[str, ...]
    event: OutboundEvent | None = None  # already parsed (a fresh delivery handed over at commit)


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    ok: bool
    status: int | None
    error: str | None
    retry_after_s: float | None
    gone: bool
    duration_ms: float


HEALTH_EVERY_S = 1.0


class Dispatcher:
    def __init__(
        self,
        ctx: EngineContext,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._ctx = ctx
        self._cfg = ctx.settings.outbox
        self._owner = ctx.uow.engine_id  # the lease name fresh deliveries are written with
        ctx.uow.lease_s = self._cfg.claim_s
        self._rng = rng or random.Random()
        self._transport = transport
        self._wake = asyncio.Event()
        self._results: asyncio.Queue[Outcome] = asyncio.Queue()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        # Deliveries whose outcome was recorded since the current claim began. On SQLite a claim reads a
        # snapshot; a send that finished and was recorded after that snapshot is no longer in flight, yet
        # the snapshot still shows it due, so without this set it would be sent again (after its successor).
        self._recorded_since_claim: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._sem = asyncio.Semaphore(self._cfg.concurrency)
        self.attempts_total = 0
        # Agency health pushed to consoles (issue 17): with an outcome at most once a second per agency
        # (at once when one failed), the rest by the claim loop once the second is over.
        self._health_pushed: dict[str, float] = {}
        self._health_dirty: set[str] = set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, drop_leases: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient(
            follow_redirects=False,  # a redirect could send a signed payload somewhere unvetted
            timeout=httpx.Timeout(self._cfg.request_timeout_s),
            limits=httpx.Limits(
                max_connections=self._cfg.concurrency * 2, max_keepalive_connections=self._cfg.concurrency
            ),
            headers={"user-agent": USER_AGENT},
            # Every connection resolves, vets and connects to an allowed address (SSRF, DNS rebinding).
            transport=self._transport
            or guarded_transport(
                self._cfg.allowed_networks,
                max_connections=self._cfg.concurrency * 2,
                max_keepalive=self._cfg.concurrency,
            ),
        )
        if drop_leases:
            await asyncio.to_thread(self._drop_leases)
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="outbox-claimer"),
            asyncio.create_task(self._record_loop(), name="outbox-recorder"),
        ]
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming, let in-flight sends finish briefly, record them, close the client."""
        if self._tasks:
            self._tasks[0].cancel()
            await asyncio.gather(self._tasks[0], return_exceptions=True)
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=2.0)
            for t in self._inflight.values():
                t.cancel()
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)
        if len(self._tasks) > 1:
            await self._drain_results()
            self._tasks[1].cancel()
            await asyncio.gather(self._tasks[1], return_exceptions=True)
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def running(self) -> bool:
        """The claimer and the recorder are both alive."""
        return len(self._tasks) == 2 and not any(t.done() for t in self._tasks)

    def wake(self, fresh: list[FreshDelivery] | None = None) -> None:
        """Thread-safe: new or re-queued deliveries were committed; ``fresh`` ones are sent at once."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            if fresh:
                loop.call_soon_threadsafe(self._take_fresh, fresh)
            else:
                loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:  # the loop closed meanwhile: the rows wait in the outbox for the next start
            pass

    def _take_fresh(self, fresh: list[FreshDelivery]) -> None:
        if not self._tasks or self._tasks[0].done():  # stopping: the claimer would not see them finish
            return
        for f in fresh:
            if f.delivery_id in self._inflight:
                continue
            c = Claimed(
                f.delivery_id,
                f.agency_id,
                f.incident_id,
                f.sequence,
                0,
                f.created_at,
                {},
                f.endpoint,
                f.fmt,
                f.agency_name,
                f.agency_kind,
                f.secrets,
                f.event,
            )
            self._inflight[c.delivery_id] = asyncio.create_task(
                self._send(c), name=f"deliver-{c.delivery_id}"
            )

    # ------------------------------------------------------------------ claiming

    def _drop_leases(self) -> None:
        with self._ctx.uow.writing() as s:
            s.execute(
                update(DeliveryRow)
                .where(DeliveryRow.claimed_by.is_not(None))
                .values(claimed_by=None, claimed_until=None)
            )

    def _claim(self, limit: int) -> tuple[list[Claimed], datetime | None]:
        now = self._ctx.now()
        earlier = aliased(DeliveryRow)
        blocked = (
            select(earlier.id)
            .where(
                earlier.agency_id == DeliveryRow.agency_id,
                earlier.incident_id == DeliveryRow.incident_id,
                earlier.sequence < DeliveryRow.sequence,
                earlier.state.in_(OPEN),
            )
            .exists()
        )
        # One engine owns a SQLite file, so its in-memory in-flight set is the whole claim and the
        # query runs on a reader (no write, no fsync). Engines sharing PostgreSQL take leases instead.
        leasing = not self._ctx.uow.db.is_sqlite
        free_lease = or_(DeliveryRow.claimed_until.is_(None), DeliveryRow.claimed_until < now)
        if leasing:
            # A row leased to this engine that it is not sending (skipped just below while in flight) is a
            # lease it lost track of: a fresh delivery whose commit was not announced (the connection failed
            # at COMMIT: PostgreSQL restarted) or an outcome that could not be recorded. Take it again now
            # rather than when the lease runs out (issue 17: PostgreSQL restarted under load).
            free_lease = or_(free_lease, DeliveryRow.claimed_by == self._owner)
        session_cm = self._ctx.uow.writing() if leasing else self._ctx.uow.read()
        with session_cm as s:
            q = (
                select(DeliveryRow, AgencyRow)
                .join(AgencyRow, AgencyRow.id == DeliveryRow.agency_id)
                .where(
                    DeliveryRow.state.in_(OPEN),
                    DeliveryRow.next_attempt_at <= now,
                    free_lease,
                    AgencyRow.enabled.is_(True),
                    ~blocked,
                )
                .order_by(DeliveryRow.next_attempt_at, DeliveryRow.sequence)
                .limit(limit)
            )
            if leasing:
                q = q.with_for_update(skip_locked=True, of=DeliveryRow)
            out: list[Claimed] = []
            lease = now + timedelta(seconds=self._cfg.claim_s)
            for d, a in s.execute(q).all():
                if d.id in self._inflight:
                    continue
                if leasing:
                    d.claimed_by, d.claimed_until = self._owner, lease
                out.append(
                    Claimed(
                        d.id,
                        d.agency_id,
                        d.incident_id,
                        d.sequence,
                        d.attempts,
                        d.created_at,
                        dict(d.payload),
                        a.endpoint,
                        a.format,
                        a.name,
                        a.kind,
                        signing_secrets(a, now),
                    )
                )
            next_due = s.scalar(
                select(DeliveryRow.next_attempt_at)
                .join(AgencyRow, AgencyRow.id == DeliveryRow.agency_id)
                .where(
                    DeliveryRow.state.in_(OPEN),
                    AgencyRow.enabled.is_(True),
                    DeliveryRow.next_attempt_at > now,
                )
                .order_by(DeliveryRow.next_attempt_at)
                .limit(1)
            )
        return out, next_due

    async def _claim_loop(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            free = self._cfg.concurrency - len(self._inflight)
            next_due: datetime | None = None
            if free > 0:
                self._recorded_since_claim = set()
                try:
                    claimed, next_due = await asyncio.to_thread(self._claim, free)
                    if failures:
                        _log.info("outbox claiming works again")
                    failures = 0
                except Exception:
                    failures += 1
                    if failures == 1:
                        _log.exception("outbox could not claim deliveries; retrying")
                    claimed = []
                    await asyncio.sleep(min(5.0, 0.2 * 2**failures))
                for c in claimed:
                    if c.delivery_id in self._inflight:  # handed over fresh while the claim ran
                        continue
                    if c.delivery_id in self._recorded_since_claim:  # finished after the claim's snapshot
                        continue
                    self._inflight[c.delivery_id] = asyncio.create_task(
                        self._send(c), name=f"deliver-{c.delivery_id}"
                    )
            await self._push_stale_health()
            # Sleep until woken (new row, finished send) or until the next retry is due (at most 1 s, so a
            # moved test clock or another engine's rows are noticed).
            timeout = 1.0
            if next_due is not None:
                timeout = min(timeout, max(0.0, (next_due - self._ctx.now()).total_seconds()))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            except TimeoutError:
                pass

    async def _push_stale_health(self) -> None:
        """Agencies whose latest outcomes went out without their health: push it once its second is over."""
        mono = time.monotonic()
        stale = {a for a in self._health_dirty if mono - self._health_pushed.get(a, 0.0) >= HEALTH_EVERY_S}
        if not stale:
            return
        try:
            await asyncio.to_thread(self._write_health, stale)
        except Exception:
            _log.warning("could not push agency health; retrying later", exc_info=True)
            return
        self._health_dirty -= stale
        for a in stale:
            self._health_pushed[a] = mono

    def _write_health(self, agencies: set[str]) -> None:
        now = self._ctx.now()
        with self._ctx.uow.writing() as s:
            for agency_id, h in agency_health_of(s, agencies, now).items():
                add_live(s, now, "agency.health", {"agency_id": agency_id, "agency_health": h})

    # ------------------------------------------------------------------ sending

    async def _send(self, c: Claimed) -> None:
        start = time.perf_counter()
        try:
            async with self._sem:
                outcome = await self._post(c, start)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # rendering or signing failed: never lose the row, record and retry
            _log.exception("delivery %s could not be prepared", c.delivery_id)
            outcome = Outcome(
                c, False, None, f"internal: {exc!r}"[:500], None, False, (time.perf_counter() - start) * 1000
            )
        self._results.put_nowait(outcome)

    async def _post(self, c: Claimed, start: float) -> Outcome:
        assert self._client is not None
        event = c.event if c.event is not None else OutboundEvent.model_validate(c.payload)
        # The stored payload has placeholders where share tokens go: put them in now, before signing.
        event = with_tokens(event, self._ctx.share_token_key())
        agency = AgencyContext(
            agency_id=c.agency_id,
            name=c.agency_name,
            kind=AgencyKind(c.agency_kind),
            sender_id=self._ctx.settings.sender_id,
        )
        refused = check_url(
            c.endpoint,
            allow_http=self._cfg.allow_http,
            allowed_networks=self._cfg.allowed_networks,
            resolve=False,
        )
        if refused:
            return Outcome(
                c, False, None, f"refused: {refused}", None, False, (time.perf_counter() - start) * 1000
            )
        rendered = adapter_for(c.fmt).render(event, agency)
        headers = sign_headers(c.delivery_id, self._ctx.now(), rendered.body, c.secrets)
        headers["content-type"] = rendered.content_type
        headers["goldentime-sequence"] = str(c.sequence)
        headers["goldentime-incident"] = c.incident_id
        status: int | None = None
        try:
            async with self._client.stream(
                "POST", c.endpoint, content=rendered.body, headers=headers
            ) as resp:
                status = resp.status_code
                read = 0
                async for chunk in resp.aiter_raw():
                    read += len(chunk)
                    if read >= self._cfg.max_response_bytes:
                        break  # a receiver cannot make us buffer an unbounded answer
                retry_after = (
                    parse_retry_after(resp.headers.get("retry-after"), self._ctx.now())
                    if status in (429, 503)
                    else None
                )
        except httpx.TimeoutException:
            return Outcome(c, False, status, "timeout", None, False, (time.perf_counter() - start) * 1000)
        except httpx.HTTPError as exc:
            return Outcome(
                c,
                False,
                status,
                f"{type(exc).__name__}: {exc}"[:500],
                None,
                False,
                (time.perf_counter() - start) * 1000,
            )
        ms = (time.perf_counter() - start) * 1000
        if 200 <= status < 300:
            return Outcome(c, True, status, None, None, False, ms)
        return Outcome(c, False, status, f"HTTP {status}", retry_after, status == 410, ms)

    # ------------------------------------------------------------------ recording

    async def _record_loop(self) -> None:
        while True:
            first = await self._results.get()
            batch = [first]
            while not self._results.empty():
                batch.append(self._results.get_nowait())
            await self._record_with_retry(batch)

    async def _drain_results(self) -> None:
        batch = []
        while not self._results.empty():
            batch.append(self._results.get_nowait())
        if batch:
            await self._record_with_retry(batch)

    async def _record_with_retry(self, batch: list[Outcome]) -> None:
        for attempt in range(5):
            try:
                await asyncio.to_thread(self._record, batch)
                break
            except Exception:
                _log.exception("could not record %d delivery outcomes (attempt %d)", len(batch), attempt + 1)
                await asyncio.sleep(0.2 * 2**attempt)
        # Unrecorded outcomes keep their lease: the rows are claimed and sent again later (at least once).
        for o in batch:
            self._inflight.pop(o.claimed.delivery_id, None)
            self._recorded_since_claim.add(o.claimed.delivery_id)
        self.attempts_total += len(batch)
        self._wake.set()

    def _record(self, batch: list[Outcome]) -> None:
        now = self._ctx.now()
        with self._ctx.uow.writing() as s:
            # One query for the whole batch: under load a batch holds dozens of outcomes.
            rows = {
                d.id: d
                for d in s.scalars(
                    select(DeliveryRow).where(DeliveryRow.id.in_([o.claimed.delivery_id for o in batch]))
                )
            }
            updates: list[dict[str, Any]] = []
            for o in batch:
                d = rows.get(o.claimed.delivery_id)
                if d is None or (not self._ctx.uow.db.is_sqlite and d.claimed_by != self._owner):
                    continue  # our lease ran out and another engine took it over
                d.attempts += 1
                d.claimed_by = d.claimed_until = None
                d.last_status = o.status
                if o.ok:
                    d.state, d.delivered_at, d.last_error, d.next_attempt_at = (
                        DeliveryState.DELIVERED.value,
                        now,
                        None,
                        None,
                    )
                else:
                    d.last_error = o.error
                    age = (now - d.created_at).total_seconds()
                    if o.gone:
                        agency = s.get(AgencyRow, d.agency_id)
                        if agency is not None and agency.enabled:
                            agency.enabled = False
                            agency.disabled_reason = "endpoint answered 410 Gone"
                            add_live(s, now, "agency.updated", {"agency_id": agency.id, "enabled": False})
                        d.state, d.next_attempt_at = DeliveryState.DEAD.value, None
                    elif d.attempts >= self._cfg.max_attempts or age >= self._cfg.max_age_s:
                        d.state, d.next_attempt_at = DeliveryState.DEAD.value, None
                    else:
                        delay = next_delay(
                            d.attempts,
                            self._cfg.retry_schedule_s,
                            self._cfg.retry_tail_s,
                            self._cfg.jitter_ratio,
                            self._rng,
                        )
                        if o.retry_after_s is not None:
                            delay = max(delay, o.retry_after_s)
                        d.state, d.next_attempt_at = (
                            DeliveryState.RETRYING.value,
                            now + timedelta(seconds=delay),
                        )
                    if d.state == DeliveryState.DEAD.value:
                        s.add(
                            TimelineRow(
                                incident_id=d.incident_id,
                                at=now,
                                kind="delivery.dead",
                                actor="engine:outbox",
                                data={"delivery_id": d.id, "agency_id": d.agency_id, "error": o.error},
                            )
                        )
                audit_chain.add_audit(
                    s,
                    [
                        dict(
                            at=now,
                            actor="engine:outbox",
                            action="delivery.attempt",
                            target_type="delivery",
                            target_id=d.id,
                            client=None,
                            detail={
                                "agency_id": d.agency_id,
                                "status": o.status,
                                "ok": o.ok,
                                "error": o.error,
                                "ms": round(o.duration_ms, 1),
                                "attempt": d.attempts,
                            },
                        )
                    ],
                )
                updates.append(
                    {
                        "delivery_id": d.id,
                        "incident_id": d.incident_id,
                        "agency_id": d.agency_id,
                        "state": d.state,
                        "attempts": d.attempts,
                        "sequence": d.sequence,
                    }
                )
            # An event may carry its agency's delivery health after this batch: consoles apply it as it is
            # instead of reloading the agency list (issue 17). Computed (on indexes) at most once a second
            # per agency, at once when a delivery failed; the claim loop pushes what was left out.
            mono = time.monotonic()
            failed = {u["agency_id"] for u in updates if u["state"] != DeliveryState.DELIVERED.value}
            due = {
                a
                for a in {u["agency_id"] for u in updates}
                if a in failed or mono - self._health_pushed.get(a, 0.0) >= HEALTH_EVERY_S
            }
            health = agency_health_of(s, due, now)
            for a in {u["agency_id"] for u in updates} - due:
                self._health_dirty.add(a)
            for a in due:
                self._health_pushed[a] = mono
                self._health_dirty.discard(a)
            for u in updates:
                h = health.get(u["agency_id"])
                add_live(s, now, "delivery.updated", u if h is None else {**u, "agency_health": h})
