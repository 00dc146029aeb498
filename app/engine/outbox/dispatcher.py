"""The outbox dispatcher: delivers every accepted event to its agency at least once, in order.

Pipeline (the engine's loop, database work in threads; the sending in a process of its own):
  claimer  — claims due deliveries that head their (agency, incident) stream, with a lease;
  sender   — the delivery sender process (app/engine/outbox/sender.py) renders, signs, POSTs and
             classifies each job the engine hands it, and answers with outcomes, many to a frame;
  recorder — writes every finished attempt (state, audit row, live event) in one transaction, then wakes
             the claimer, so the next event of that stream goes out at once.
A crash loses nothing: a claimed row whose lease ran out is claimed again (SQLite, one engine: all
leases are dropped at start); a sender process that dies is started again and gets every job it had
not answered. Duplicates carry the same ``webhook-id`` (the delivery id).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import aliased

from app.domain.enums import DeliveryState
from app.engine.context import EngineContext
from app.engine.outbox.post import USER_AGENT, OutcomeRow, PostConfig, job_json
from app.engine.outbox.schedule import next_delay, parse_retry_after
from app.engine.outbox.sender_link import LocalLink, ProcessLink
from app.engine.services.directory import agency_health_of
from app.engine.work import FreshDelivery, add_live, signing_secrets, table
from app.formats.api import OutboundEvent
from app.store import audit_chain
from app.store.models import AgencyRow, DeliveryRow, TimelineRow

_log = logging.getLogger(__name__)
OPEN = (DeliveryState.PENDING.value, DeliveryState.RETRYING.value)
__all__ = ["USER_AGENT", "Claimed", "Dispatcher", "Outcome"]


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

# Recording statements, built once (their cache keys memoised): plain Core on the unit's connection.
_T = table(DeliveryRow)
_CURRENT = select(
    _T.c.id, _T.c.agency_id, _T.c.incident_id, _T.c.sequence, _T.c.attempts, _T.c.created_at, _T.c.claimed_by
).where(_T.c.id.in_(bindparam("ids", expanding=True)))
_RECORD_DELIVERED = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(
        attempts=bindparam("b_attempts"),
        last_status=bindparam("b_status"),
        state=DeliveryState.DELIVERED.value,
        delivered_at=bindparam("b_now"),
        last_error=None,
        next_attempt_at=None,
        claimed_by=None,
        claimed_until=None,
    )
)
_RECORD_FAILED = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(
        attempts=bindparam("b_attempts"),
        last_status=bindparam("b_status"),
        state=bindparam("b_state"),
        last_error=bindparam("b_error"),
        next_attempt_at=bindparam("b_next"),
        claimed_by=None,
        claimed_until=None,
    )
)
_INSERT_TIMELINE = insert(table(TimelineRow))


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
        # An injected transport (tests of the wire, tools) sends in this process; otherwise the delivery
        # sender process does ([outbox] sender_process).
        self._transport = transport
        self._wake = asyncio.Event()
        self._results: asyncio.Queue[Outcome] = asyncio.Queue()
        # Handed to the sender, outcome not yet recorded (delivery id -> what was claimed).
        self._inflight: dict[str, Claimed] = {}
        self._answered = asyncio.Event()  # an outcome came back (stop waits for the in-flight ones)
        # Deliveries whose outcome was recorded since the current claim began. On SQLite a claim reads a
        # snapshot; a send that finished and was recorded after that snapshot is no longer in flight, yet
        # the snapshot still shows it due, so without this set it would be sent again (after its successor).
        self._recorded_since_claim: set[str] = set()
        self._backlog = True  # the last claim saw rows waiting behind others (or more than it took)
        self._claiming = False
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._link: ProcessLink | LocalLink | None = None
        self.attempts_total = 0
        # Agency health pushed to consoles (issue 17): with an outcome at most once a second per agency
        # (at once when one failed), the rest by the claim loop once the second is over.
        self._health_pushed: dict[str, float] = {}
        self._health_dirty: set[str] = set()

    # ------------------------------------------------------------------ lifecycle

    def _post_config(self) -> PostConfig:
        cfg = self._cfg
        return PostConfig(
            allow_http=cfg.allow_http,
            allowed_networks=tuple(cfg.allowed_networks),
            request_timeout_s=cfg.request_timeout_s,
            max_response_bytes=cfg.max_response_bytes,
            concurrency=cfg.concurrency,
            sender_id=self._ctx.settings.sender_id,
            token_key=self._ctx.share_token_key(),
        )

    def _now_ts(self) -> float:
        return self._ctx.now().timestamp()

    async def start(self, *, drop_leases: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._inflight.clear()
        self._backlog = True
        self._results = asyncio.Queue()
        self._answered = asyncio.Event()
        if self._transport is not None or not self._cfg.sender_process:
            self._link = LocalLink(self._post_config(), self._on_outcomes, self._now_ts, self._transport)
        else:
            self._link = ProcessLink(self._post_config(), self._on_outcomes, self._now_ts)
        await self._link.start()
        if drop_leases:
            await asyncio.to_thread(self._drop_leases)
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="outbox-claimer"),
            asyncio.create_task(self._record_loop(), name="outbox-recorder"),
        ]
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming, let in-flight sends finish briefly, record them, stop the sender."""
        if self._tasks:
            self._tasks[0].cancel()
            await asyncio.gather(self._tasks[0], return_exceptions=True)
        deadline = time.monotonic() + 2.0
        while self._inflight and len(self._tasks) > 1 and not self._tasks[1].done():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._answered.clear()
            try:
                await asyncio.wait_for(self._answered.wait(), timeout=left)
            except TimeoutError:
                break
        if self._link is not None:
            await self._link.stop()  # what it had not answered stays in the outbox for the next start
        if len(self._tasks) > 1:
            await self._drain_results()
            self._tasks[1].cancel()
            await asyncio.gather(self._tasks[1], return_exceptions=True)
        self._tasks = []
        self._inflight.clear()

    @property
    def running(self) -> bool:
        """The claimer and the recorder are both alive, and the sender has not failed to start."""
        link = self._link
        return (
            len(self._tasks) == 2
            and not any(t.done() for t in self._tasks)
            and link is not None
            and link.alive
        )

    @property
    def sender_pid(self) -> int | None:
        """The delivery sender process's id (None: not started yet, restarting, or in-process)."""
        return None if self._link is None else self._link.pid

    def health(self) -> dict[str, Any]:
        link = self._link
        return {"running": self.running, "sender": None if link is None else link.health()}

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
        self._hand_over(
            [
                Claimed(
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
                for f in fresh
            ]
        )

    def _hand_over(self, claimed: list[Claimed]) -> None:
        """Into the in-flight set and to the sender, as one frame."""
        jobs: list[tuple[str, str]] = []
        for c in claimed:
            if c.delivery_id in self._inflight:
                continue
            self._inflight[c.delivery_id] = c
            try:
                event_json = (
                    c.event.model_dump_json()
                    if c.event is not None
                    else json.dumps(c.payload, separators=(",", ":"), ensure_ascii=False)
                )
            except Exception as exc:  # never lose the row: record a failed attempt, retry later
                _log.exception("delivery %s could not be prepared", c.delivery_id)
                self._results.put_nowait(
                    Outcome(c, False, None, f"internal: {exc!r}"[:500], None, False, 0.0)
                )
                continue
            jobs.append(
                (
                    c.delivery_id,
                    job_json(
                        c.delivery_id,
                        c.agency_id,
                        c.incident_id,
                        c.sequence,
                        c.endpoint,
                        c.fmt,
                        c.agency_name,
                        c.agency_kind,
                        c.secrets,
                        event_json,
                    ),
                )
            )
        if jobs and self._link is not None:
            self._link.submit(jobs)

    def _on_outcomes(self, rows: list[OutcomeRow]) -> None:
        """From the sender (in the loop): each outcome of a job still in flight goes to the recorder."""
        now = None
        for delivery_id, ok, status, error, retry_after, gone, ms in rows:
            c = self._inflight.get(delivery_id)
            if c is None:  # answered after a stop: the row is still open and goes out again
                continue
            retry_after_s = None
            if retry_after is not None:
                now = now or self._ctx.now()
                retry_after_s = parse_retry_after(str(retry_after), now)
            self._results.put_nowait(
                Outcome(c, bool(ok), status, error, retry_after_s, bool(gone), float(ms or 0.0))
            )
        self._answered.set()

    # ------------------------------------------------------------------ claiming

    def _drop_leases(self) -> None:
        with self._ctx.uow.writing() as s:
            s.execute(
                update(DeliveryRow)
                .where(DeliveryRow.claimed_by.is_not(None))
                .values(claimed_by=None, claimed_until=None)
            )

    def _claim(self, limit: int) -> tuple[list[Claimed], datetime | None, bool]:
        """The due deliveries heading their streams (at most ``limit``), when the next retry is due, and
        whether anything else waits: a row behind another of its stream, or more due rows than the limit
        (then a recorded outcome must wake the claimer again; otherwise only new rows or a failure do)."""
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
            found = s.execute(q).all()
            waiting = len(found) >= limit
            for d, a in found:
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
            if not waiting:
                waiting = (
                    s.scalar(
                        select(DeliveryRow.id)
                        .join(AgencyRow, AgencyRow.id == DeliveryRow.agency_id)
                        .where(DeliveryRow.state.in_(OPEN), AgencyRow.enabled.is_(True), blocked)
                        .limit(1)
                    )
                    is not None
                )
        return out, next_due, waiting

    async def _claim_loop(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            free = self._cfg.concurrency - len(self._inflight)
            next_due: datetime | None = None
            if free <= 0:
                self._backlog = True  # rows may wait for a free slot: each recorded outcome frees one
            else:
                self._recorded_since_claim = set()
                try:
                    self._claiming = True
                    try:
                        claimed, next_due, self._backlog = await asyncio.to_thread(self._claim, free)
                    finally:
                        self._claiming = False
                    if failures:
                        _log.info("outbox claiming works again")
                    failures = 0
                except Exception:
                    failures += 1
                    if failures == 1:
                        _log.exception("outbox could not claim deliveries; retrying")
                    claimed = []
                    await asyncio.sleep(min(5.0, 0.2 * 2**failures))
                self._hand_over(
                    [
                        c
                        for c in claimed
                        # handed over fresh while the claim ran, or finished after the claim's snapshot
                        if c.delivery_id not in self._inflight
                        and c.delivery_id not in self._recorded_since_claim
                    ]
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
        # A delivered row lets the next of its stream go: claim again if the last claim saw rows waiting
        # behind others (new rows wake the claimer by themselves). A failure schedules a retry: claim too.
        # A claim running now may have read its snapshot before this record: it runs once more.
        if self._backlog or self._claiming or not all(o.ok for o in batch):
            self._wake.set()

    def _record(self, batch: list[Outcome]) -> None:
        """One transaction for the whole batch, in Core statements: one UPDATE each for the delivered and
        the failed rows (executemany), one INSERT of the audit rows, the live events."""
        now = self._ctx.now()
        sqlite = self._ctx.uow.db.is_sqlite
        cfg = self._cfg
        with self._ctx.uow.writing() as s:
            conn = s.connection()
            current = {
                r.id: r for r in conn.execute(_CURRENT, {"ids": [o.claimed.delivery_id for o in batch]})
            }
            delivered: list[dict[str, Any]] = []
            failed: list[dict[str, Any]] = []
            timeline: list[dict[str, Any]] = []
            audit: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            gone: set[str] = set()
            for o in batch:
                d = current.pop(o.claimed.delivery_id, None)
                if d is None or (not sqlite and d.claimed_by != self._owner):
                    continue  # our lease ran out and another engine took it over
                attempts = d.attempts + 1
                if o.ok:
                    state = DeliveryState.DELIVERED.value
                    delivered.append(
                        {"b_id": d.id, "b_attempts": attempts, "b_status": o.status, "b_now": now}
                    )
                else:
                    next_at: datetime | None = None
                    if o.gone:
                        gone.add(d.agency_id)
                        state = DeliveryState.DEAD.value
                    elif (
                        attempts >= cfg.max_attempts or (now - d.created_at).total_seconds() >= cfg.max_age_s
                    ):
                        state = DeliveryState.DEAD.value
                    else:
                        delay = next_delay(
                            attempts, cfg.retry_schedule_s, cfg.retry_tail_s, cfg.jitter_ratio, self._rng
                        )
                        if o.retry_after_s is not None:
                            delay = max(delay, o.retry_after_s)
                        state, next_at = DeliveryState.RETRYING.value, now + timedelta(seconds=delay)
                    failed.append(
                        {
                            "b_id": d.id,
                            "b_attempts": attempts,
                            "b_status": o.status,
                            "b_state": state,
                            "b_error": o.error,
                            "b_next": next_at,
                        }
                    )
                    if state == DeliveryState.DEAD.value:
                        timeline.append(
                            {
                                "incident_id": d.incident_id,
                                "at": now,
                                "kind": "delivery.dead",
                                "actor": "engine:outbox",
                                "data": {"delivery_id": d.id, "agency_id": d.agency_id, "error": o.error},
                            }
                        )
                audit.append(
                    {
                        "at": now,
                        "actor": "engine:outbox",
                        "action": "delivery.attempt",
                        "target_type": "delivery",
                        "target_id": d.id,
                        "client": None,
                        "detail": {
                            "agency_id": d.agency_id,
                            "status": o.status,
                            "ok": o.ok,
                            "error": o.error,
                            "ms": round(o.duration_ms, 1),
                            "attempt": attempts,
                        },
                    }
                )
                updates.append(
                    {
                        "delivery_id": d.id,
                        "incident_id": d.incident_id,
                        "agency_id": d.agency_id,
                        "state": state,
                        "attempts": attempts,
                        "sequence": d.sequence,
                    }
                )
            if delivered:
                conn.execute(_RECORD_DELIVERED, delivered)
            if failed:
                conn.execute(_RECORD_FAILED, failed)
            for agency_id in sorted(gone):
                agency = s.get(AgencyRow, agency_id)
                if agency is not None and agency.enabled:
                    agency.enabled = False
                    agency.disabled_reason = "endpoint answered 410 Gone"
                    add_live(s, now, "agency.updated", {"agency_id": agency.id, "enabled": False})
            if timeline:
                conn.execute(_INSERT_TIMELINE, timeline)
            if audit:
                audit_chain.add_audit(s, audit)
            # An event may carry its agency's delivery health after this batch: consoles apply it as it is
            # instead of reloading the agency list (issue 17). Computed (on indexes) at most once a second
            # per agency, at once when a delivery failed; the claim loop pushes what was left out.
            mono = time.monotonic()
            failed_agencies = {u["agency_id"] for u in updates if u["state"] != DeliveryState.DELIVERED.value}
            agencies = {u["agency_id"] for u in updates}
            due = {
                a
                for a in agencies
                if a in failed_agencies or mono - self._health_pushed.get(a, 0.0) >= HEALTH_EVERY_S
            }
            if gone:
                s.flush()  # the disabled agencies' health says so
            health = agency_health_of(s, due, now)
            for a in agencies - due:
                self._health_dirty.add(a)
            for a in due:
                self._health_pushed[a] = mono
                self._health_dirty.discard(a)
            for u in updates:
                h = health.get(u["agency_id"])
                add_live(s, now, "delivery.updated", u if h is None else {**u, "agency_health": h})
