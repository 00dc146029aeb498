"""A unit of work: one transaction that writes a change with its audit rows, timeline, live events and
outbox deliveries together or not at all, then wakes the live push and the dispatcher after the commit."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, bindparam, event, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from app.domain.clock import Clock
from app.domain.enums import DeliveryState
from app.domain.ids import new_id
from app.engine.auth import Principal
from app.formats.api import CameraOut, EventType, FacilityOut, LiveEvent, OutboundEvent
from app.store import audit_chain
from app.store.database import Database
from app.store.driver_sql import DriverInsert, DriverQuery
from app.store.group_commit import GROUP_KEY, Group, GroupCommitter
from app.store.models import AgencyRow, DeliveryRow, IncidentRow, LiveEventRow, TimelineRow

LIVE_CHANNEL = "goldentime_live"
_LIVE_ORDER_LOCK = 0x47540001  # PostgreSQL advisory lock: live events are numbered in commit order


def table(model: type[Any]) -> Table:
    """A mapped class's table: statements on it are plain Core (no ORM bulk-insert layer per execution)."""
    t = model.__table__
    assert isinstance(t, Table)
    return t


# Statements built once (issue 17): a module-level statement memoises its cache key, so executing it
# neither rebuilds nor re-hashes it; executed on the unit's connection they skip the ORM layer entirely.
_INSERT_TIMELINE = DriverInsert(table(TimelineRow))
_INSERT_DELIVERY = DriverInsert(table(DeliveryRow))
_INSERT_LIVE = insert(table(LiveEventRow)).returning(table(LiveEventRow).c.seq, sort_by_parameter_order=True)
_INSERT_LIVE_NUMBERED = DriverInsert(table(LiveEventRow))
_LAST_LIVE_SEQ = DriverQuery(select(func.coalesce(func.max(LiveEventRow.seq), 0)))
_LAST_SEQUENCE = select(func.coalesce(func.max(DeliveryRow.sequence), 0)).where(
    DeliveryRow.incident_id == bindparam("incident_id"), DeliveryRow.agency_id == bindparam("agency_id")
)
_AGENCY_NAMES = select(AgencyRow.id, AgencyRow.name).where(AgencyRow.id.in_(bindparam("ids", expanding=True)))


def add_live(session: Session, at: datetime, type_: str, data: dict[str, Any]) -> None:
    """Queue a live event in ``session``'s transaction. Every live event is written as the very last thing
    before the commit (see :class:`UnitOfWorkFactory`), so that ``seq`` order is commit order: a console
    asking for "everything after seq N" can never miss an event committed later with a smaller number."""
    session.info.setdefault("live_pending", []).append({"at": at, "type": type_, "data": data})


_AGENCY_KEYS = ("agency_id", "requesting_agency_id")


def name_agencies(session: Session, rows: list[dict[str, Any]], known: dict[str, str] | None = None) -> None:
    """Audit rows name agencies by id and name: a row whose detail names an agency (``agency_id``,
    ``requesting_agency_id``) also gets ``agencies``: {id: name} (one look-up for the whole batch, and
    none for the usual rows that name no agency). ``known``: names the unit of work already read from
    the store in this transaction (no second look-up for them)."""
    wanted = {
        str(r["detail"][k])
        for r in rows
        for k in _AGENCY_KEYS
        if isinstance(r["detail"].get(k), str) and "agencies" not in r["detail"]
    }
    if not wanted:
        return
    names = {i: known[i] for i in wanted if known and i in known}
    missing = wanted - names.keys()
    if missing:
        names.update((str(i), str(n)) for i, n in session.execute(_AGENCY_NAMES, {"ids": sorted(missing)}))
    for r in rows:
        d = r["detail"]
        found = {str(d[k]): names[str(d[k])] for k in _AGENCY_KEYS if str(d.get(k)) in names}
        if found and "agencies" not in d:
            r["detail"] = {**d, "agencies": found}


def signing_secrets(agency: AgencyRow, now: datetime) -> tuple[str, ...]:
    """The secrets a delivery to ``agency`` is signed with: the current one, and during a rotation's
    overlap the previous one too."""
    if agency.webhook_secret_previous and agency.previous_secret_until and agency.previous_secret_until > now:
        return (agency.webhook_secret, agency.webhook_secret_previous)
    return (agency.webhook_secret,)


@dataclass(frozen=True)
class FreshDelivery:
    """The first delivery of a new (incident, agency) stream, handed to the dispatcher after the commit
    so it goes out at once, without the dispatcher reading back what this transaction just wrote.
    Nothing can be ahead of it in its stream, so sending it at once keeps the order."""

    delivery_id: str
    agency_id: str
    incident_id: str
    sequence: int
    created_at: datetime
    event: OutboundEvent
    endpoint: str
    fmt: str
    agency_name: str
    agency_kind: str
    secrets: tuple[str, ...]


@dataclass
class Work:
    session: Session
    principal: Principal
    client: str | None
    now: datetime
    # What this transaction already knows, so building payloads does not read back what it just wrote.
    cameras: dict[str, list[CameraOut]] = field(default_factory=dict)
    facilities: dict[str, list[FacilityOut]] = field(default_factory=dict)
    _last_seq: dict[tuple[str, str], int] = field(default_factory=dict)
    _new_incidents: set[str] = field(default_factory=set)
    # Set by the factory: which engine leases the fresh deliveries, and for how long.
    lease_owner: str = ""
    lease_s: float = 60.0

    # Audit and timeline rows are only ever appended: they are kept here and written at the end of the
    # unit of work with one statement per table (cheaper than an ORM object each). Live events: add_live.
    _audit: list[dict[str, Any]] = field(default_factory=list)
    _timeline: list[dict[str, Any]] = field(default_factory=list)
    # Agencies this transaction read (id -> name): audit rows naming them need no second look-up.
    agency_names: dict[str, str] = field(default_factory=dict)
    # Views of the rows this unit created (detached row objects, never changed after their insert): the
    # incident's answer model is built once for its live event, its deliveries and the caller's answer.
    new_views: dict[str, tuple[object, Any]] = field(default_factory=dict)
    # The shares this unit made for the incidents it created (the answer needs no read-back of them).
    new_shares: dict[str, list[Any]] = field(default_factory=dict)
    _conn: Connection | None = None

    def connection(self) -> Connection:
        """The unit's connection, for plain Core statements (rows built as dicts: no ORM flush)."""
        if self._conn is None:
            self._conn = self.session.connection()
        return self._conn

    def audit(self, action: str, target_type: str, target_id: str | None, /, **detail: Any) -> None:
        if self.principal.kind in ("agency", "wall") and "actor_id" not in detail:
            # The actor names an agency (or wall) by name; the row also carries its id (issue 13).
            detail = {"actor_id": self.principal.id, **detail}
        self._audit.append(
            {
                "at": self.now,
                "actor": self.principal.actor,
                "action": action,
                "target_type": target_type,
                "target_id": target_id,
                "client": self.client,
                "detail": detail,
            }
        )

    def timeline(self, incident_id: str, kind: str, /, **data: Any) -> None:
        self._timeline.append(
            {
                "incident_id": incident_id,
                "at": self.now,
                "kind": kind,
                "actor": self.principal.actor,
                "data": data,
            }
        )

    def new_incident(self, incident_id: str) -> None:
        """This transaction created the incident: no deliveries exist for it, skip the sequence look-ups."""
        self._new_incidents.add(incident_id)

    def live(self, type_: str, data: dict[str, Any]) -> None:
        add_live(self.session, self.now, type_, data)

    def write_appended(self) -> None:
        """Write the audit and timeline rows (after the ORM objects they may refer to)."""
        self.session.flush()
        if self._timeline:
            _INSERT_TIMELINE(self.connection(), self._timeline)
        if self._audit:
            name_agencies(self.session, self._audit, self.agency_names)
            audit_chain.add_audit(self.session, self._audit)
        self._audit, self._timeline = [], []

    def enqueue(
        self,
        agency: AgencyRow,
        incident: IncidentRow,
        event_type: EventType,
        build: Callable[[str, int], OutboundEvent],
    ) -> str:
        """Write one outbox row (one Core statement, at once: later queries of this unit see it) and
        return its id. ``build(event_id, sequence)`` makes the payload as of now.

        The sequence counts per incident and agency; the caller holds the incident row lock (or SQLite's
        write lock), so ``max + 1`` cannot race.
        """
        key = (incident.id, agency.id)
        self.agency_names[agency.id] = agency.name
        if key not in self._last_seq and incident.id in self._new_incidents:
            self._last_seq[key] = 0
        elif key not in self._last_seq:
            self.session.flush()  # rows of this unit still pending in the ORM session count
            self._last_seq[key] = int(
                self.connection().scalar(_LAST_SEQUENCE, {"incident_id": incident.id, "agency_id": agency.id})
                or 0
            )
        seq = self._last_seq[key] = self._last_seq[key] + 1
        event_id = new_id("msg")
        payload = build(event_id, seq)
        # The first event of a new stream to an enabled agency goes straight to this engine's dispatcher,
        # leased to it from birth (so no other engine sharing the database sends it too).
        fresh = seq == 1 and incident.id in self._new_incidents and agency.enabled and bool(self.lease_owner)
        # The incident's row must exist before its delivery (a foreign key): an incident of this unit that
        # is still pending in the ORM session is written first.
        if self.session.new:
            self.session.flush()
        _INSERT_DELIVERY(
            self.connection(),
            {
                "id": event_id,
                "agency_id": agency.id,
                "incident_id": incident.id,
                "event_type": event_type,
                "sequence": seq,
                "payload": payload.model_dump(mode="json"),
                "state": DeliveryState.PENDING.value,
                "attempts": 0,
                "created_at": self.now,
                "next_attempt_at": self.now,
                "claimed_by": self.lease_owner if fresh else None,
                "claimed_until": self.now + timedelta(seconds=self.lease_s) if fresh else None,
            },
        )
        self.session.info["outbox"] = True
        if not fresh:
            self.session.info["outbox_claim"] = True  # this row goes through the claim query
        if fresh:
            self.session.info.setdefault("fresh", []).append(
                FreshDelivery(
                    event_id,
                    agency.id,
                    incident.id,
                    seq,
                    self.now,
                    payload,
                    agency.endpoint,
                    agency.format,
                    agency.name,
                    agency.kind,
                    signing_secrets(agency, self.now),
                )
            )
        return event_id


class UnitOfWorkFactory:
    """Opens :class:`Work` transactions and fires the after-commit hooks."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.factory = db.writer
        self.clock = clock
        # SQLite: group commit (app/store/group_commit.py) — the units of work of many requests share one
        # transaction and one fsync. PostgreSQL: a transaction each (its WAL flush already groups the
        # commits of concurrent transactions, and engines sharing it need row locks of their own).
        self.group: GroupCommitter | None = None
        if db.is_sqlite:
            self.factory = sessionmaker(expire_on_commit=False)
            self.group = GroupCommitter(db.write, self.factory)
        # Live listeners get the committed events (numbered in commit order, see _write_live), or None:
        # "read what is new from the store" (a write by another engine or process).
        self._on_live: list[Callable[[list[LiveEvent] | None], None]] = []
        self._on_outbox: list[Callable[[list[FreshDelivery]], None]] = []
        # This engine's identity for delivery leases (the dispatcher leases under the same name).
        self.engine_id = uuid.uuid4().hex[:16]
        self.lease_s = 60.0
        event.listen(self.factory, "before_commit", self._write_live)
        event.listen(self.factory, "after_commit", self._after_commit)
        event.listen(self.factory, "after_rollback", self._forget_pending)

    def on_live(self, fn: Callable[[list[LiveEvent] | None], None]) -> None:
        self._on_live.append(fn)

    def on_outbox(self, fn: Callable[[list[FreshDelivery]], None]) -> None:
        self._on_outbox.append(fn)

    def notify_live(self) -> None:
        """Something was written outside these sessions: listeners read what is new."""
        for fn in self._on_live:
            fn(None)

    def _write_live(self, session: Session) -> None:
        """Last statements of the transaction: the live events. SQLite's single writer already commits in
        seq order; on PostgreSQL a transaction-scoped advisory lock, taken only now (nothing else is
        waited for while it is held), keeps concurrent engines and threads numbering in commit order,
        and a NOTIFY at commit tells every engine's live hub to read."""
        # The audit rows first, chained under their own lock (app/store/audit_chain.py).
        audit_chain.write_pending(session, self.db.is_sqlite)
        pending: list[dict[str, Any]] | None = session.info.pop("live_pending", None)
        if not pending:
            return
        session.flush()
        if not self.db.is_sqlite:
            session.execute(select(func.pg_advisory_xact_lock(_LIVE_ORDER_LOCK)))
        conn = session.connection()
        if self.db.is_sqlite:
            # One writer holds the file: number the events as SQLite would (the table has no AUTOINCREMENT:
            # max(seq) + 1) and write them with one plain statement, no RETURNING round.
            last = _LAST_LIVE_SEQ.first(conn)
            base = int(last[0] if last is not None and last[0] is not None else 0)
            seqs: Sequence[int] = range(base + 1, base + 1 + len(pending))
            _INSERT_LIVE_NUMBERED(conn, [{**row, "seq": seq} for seq, row in zip(seqs, pending, strict=True)])
        else:
            seqs = conn.execute(_INSERT_LIVE, pending).scalars().all()
        session.info.setdefault("live_events", []).extend(
            LiveEvent(type=row["type"], seq=seq, data=row["data"])
            for seq, row in zip(seqs, pending, strict=True)
        )
        if not self.db.is_sqlite:
            session.execute(select(func.pg_notify(LIVE_CHANNEL, "")))

    @staticmethod
    def _forget_pending(session: Session) -> None:
        for key in ("live_events", "live_pending", "fresh", "outbox", "outbox_claim"):
            session.info.pop(key, None)
        audit_chain.forget_pending(session)

    def _after_commit(self, session: Session) -> None:
        group: Group | None = session.info.get(GROUP_KEY)
        if group is None:
            self._announce(session.info)
        else:
            # Only this unit's savepoint was released: announce once the group's commit is durable.
            info = {
                k: session.info.pop(k)
                for k in ("live_events", "fresh", "outbox_claim", "outbox")
                if k in session.info
            }
            if info:
                group.after_commit(lambda: self._announce(info))

    def _announce(self, info: dict[str, Any]) -> None:
        committed: list[LiveEvent] = info.pop("live_events", [])
        if committed:
            # SQLite: this runs inside the writer lock, so commits are announced in commit order and the
            # events can be pushed as they are. PostgreSQL: two threads' hooks may run in either order
            # after their commits, so the hub reads "everything after the last seq" instead.
            events = committed if self.db.is_sqlite else None
            for fn in self._on_live:
                fn(events)
        fresh: list[FreshDelivery] = info.pop("fresh", [])
        claim = info.pop("outbox_claim", False)
        if info.pop("outbox", False):
            for wake in self._on_outbox:
                if fresh:
                    wake(fresh)
                if claim or not fresh:  # rows for the claim query (or a plain "something changed")
                    wake([])

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction; it returns once the change is durable. On SQLite, a unit of a group commit
        (app/store/group_commit.py): writers queue on an in-process lock (a waiter wakes the moment it is
        free, where SQLite's busy handler would sleep in growing steps), each in its own savepoint of the
        group's transaction, and the group commits once."""
        if self.group is not None:
            with self.group.unit() as session:
                yield session
            return
        with self.factory() as session, session.begin():
            yield session

    @contextmanager
    def __call__(self, principal: Principal, client: str | None = None) -> Iterator[Work]:
        with self.writing() as session:
            work = Work(
                session=session,
                principal=principal,
                client=client,
                now=self.clock.now(),
                lease_owner=self.engine_id if self._on_outbox else "",
                lease_s=self.lease_s,
            )
            yield work  # an exception here rolls everything back, appended rows included
            work.write_appended()

    @contextmanager
    def reading(self, principal: Principal, client: str | None = None) -> Iterator[Work]:
        """An audited read: the reading runs on a reader session (it never waits for the writer or holds
        it), and its audit rows join the next group commit afterwards — the caller is answered once they
        are durable. A read that fails leaves no audit row, as a rolled-back unit of work did."""
        with self.db.reader() as session:
            work = Work(session=session, principal=principal, client=client, now=self.clock.now())
            yield work
            if work._timeline or session.new or session.dirty or session.deleted:
                raise RuntimeError("a read wrote: use the unit of work (ctx.uow) for changes")
        if work._audit:
            with self.writing() as s:
                name_agencies(s, work._audit)
                audit_chain.add_audit(s, work._audit)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session that never waits for a writer (SQLite: its own connection pool)."""
        with self.db.reader() as session:
            yield session
