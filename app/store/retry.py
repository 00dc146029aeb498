"""A unit of work whose database connection failed before it was acknowledged may be run again.

PostgreSQL restarted (``pg_ctl restart``, a fail-over, a network blip): the pooled connections are dead.
The pool's pre-ping replaces a dead connection when it is checked out, but a transaction that was running
when the server went away fails with ``OperationalError`` / ``InterfaceError``. Nothing of it was
acknowledged, so a caller whose unit is idempotent (an agency's request is keyed by its ``external_id``:
run again after a commit that did land, it finds the incident) runs it again after a short back-off,
and answers 503 (``app/engine/api/problems.py``) only when the database still does not answer.

Only for idempotent units: a unit that appends (a note, an update) is not retried, its caller gets the
503 and decides.
"""

from __future__ import annotations

import time

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# Seconds before each retry: at once (a connection lost while the server is back already), then a short
# wait for a server that is starting. About 0.5 s in all, then the caller is answered 503.
BACKOFF_S = (0.0, 0.15, 0.35)


def is_disconnect(exc: BaseException) -> bool:
    """The database connection failed (lost, refused, the server shutting down or starting up)."""
    if not isinstance(exc, DBAPIError):
        return False
    return bool(exc.connection_invalidated) or isinstance(exc, (OperationalError, InterfaceError))


def retry_after_disconnect(exc: BaseException, retries_so_far: int) -> bool:
    """True (after the back-off) when the unit that raised ``exc`` should run again."""
    if not is_disconnect(exc) or retries_so_far >= len(BACKOFF_S):
        return False
    if BACKOFF_S[retries_so_far]:
        time.sleep(BACKOFF_S[retries_so_far])
    return True
