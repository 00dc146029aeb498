"""Group commit on SQLite: the units of work of many requests in one transaction and one commit (fsync).

SQLite has one writer. Each unit of work used to be its own ``BEGIN IMMEDIATE … COMMIT``: one fsync per
request, and every request queued behind the previous one's fsync. Here the units of work run one after
another on one writer connection, each in a SAVEPOINT of a transaction that stays open while more units
are waiting for the writer; the last unit of a burst (no one else waiting, or the group full) commits for
all of them. Each unit's caller returns only once that commit is durable, and a unit that fails rolls back
to its own savepoint: the others of its group are kept and committed, each caller gets its own result.

After-commit work (pushing live events, handing fresh deliveries to the dispatcher) is registered by the
unit as a hook and run by the committer right after the commit, in the group's order, still holding the
writer: on SQLite that order is commit order (``seq``), as before.

A waiting thread counts itself in ``_waiting`` before it asks for the writer, so a unit that sees nobody
waiting may commit at once, and one that sees a waiter can leave the transaction open: that waiter will
hold the writer next and make the same decision. The open transaction is never left without a thread on
its way to it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

_log = logging.getLogger(__name__)

GROUP_KEY = "group_commit"  # session.info key: the group a session's unit belongs to


class GroupCommitFailed(RuntimeError):
    """The commit of a unit's group failed: nothing of the unit was written."""


class Group:
    """The units sharing one transaction."""

    __slots__ = ("done", "error", "hooks", "started", "units")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.hooks: list[Callable[[], None]] = []
        self.started = time.monotonic()
        self.units = 0

    def after_commit(self, hook: Callable[[], None]) -> None:
        self.hooks.append(hook)


class GroupCommitter:
    """One writer connection; units of work join the open transaction (see the module's docstring).

    ``max_units`` and ``max_age_s`` bound a group, so the first unit of a long burst waits for its commit
    at most that long (plus the unit in progress)."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        *,
        max_units: int = 64,
        max_age_s: float = 0.05,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._max_units = max_units
        self._max_age_s = max_age_s
        self._writer = threading.Lock()  # held while a unit runs or a group commits
        self._count = threading.Lock()
        self._waiting = 0
        self.holder: int | None = None  # the thread running a unit or a commit (threading.get_ident)
        self._conn: Connection | None = None
        self._group: Group | None = None
        self.commits = 0  # groups committed
        self.units = 0  # units committed

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """A unit of work in the current group: a session in its own savepoint. Returns (or raises the
        unit's own error) once the group's commit is durable; raises :class:`GroupCommitFailed` if the
        commit failed."""
        with self._count:
            self._waiting += 1
        self._writer.acquire()
        self.holder = threading.get_ident()
        with self._count:
            self._waiting -= 1
        failure: BaseException | None = None
        committer = False
        try:
            if self._conn is None:
                conn = self._engine.connect()
                try:
                    conn.begin()
                except BaseException:
                    conn.close()
                    raise
                self._conn, self._group = conn, Group()
            group = self._group
            assert group is not None
            group.units += 1
            session = self._sessions(bind=self._conn, join_transaction_mode="create_savepoint")
            session.info[GROUP_KEY] = group
            try:
                with session, session.begin():
                    yield session
            except BaseException as exc:  # rolled back to its savepoint; re-raised once the group is settled
                failure = exc
            with self._count:
                nobody_waits = self._waiting == 0
            committer = (
                nobody_waits
                or group.units >= self._max_units
                or time.monotonic() - group.started >= self._max_age_s
            )
            if committer:
                self._commit()
        finally:
            self.holder = None
            self._writer.release()
        if not committer:
            group.done.wait()
        if failure is not None:
            raise failure
        if group.error is not None:
            raise GroupCommitFailed(f"the group commit failed: {group.error}") from group.error

    def _commit(self) -> None:
        """Holding the writer: commit the open group, run its hooks, release its waiters."""
        conn, group = self._conn, self._group
        self._conn = self._group = None
        assert conn is not None and group is not None
        try:
            conn.commit()
        except BaseException as exc:
            group.error = exc
            _log.exception("group commit of %d units failed", group.units)
            try:
                conn.rollback()
            except Exception:
                _log.debug("rollback after a failed group commit failed too", exc_info=True)
        finally:
            conn.close()
        if group.error is None:
            self.commits += 1
            self.units += group.units
            for hook in group.hooks:
                try:
                    hook()
                except Exception:
                    _log.exception("an after-commit hook failed")
        group.done.set()

    def discard(self) -> None:
        """On shutdown: roll back a transaction nobody is on the way to (there should be none)."""
        with self._writer:
            if self._conn is not None:
                self._conn.rollback()
                self._conn.close()
                assert self._group is not None
                self._group.error = GroupCommitFailed("the engine stopped")
                self._group.done.set()
                self._conn = self._group = None
