"""Refused logins and requests (401, 403, 429), audited cheaply.

A flood of refusals must not cost one write transaction each: refusals are counted in memory by
(action, actor, address, route, status) and written as one audit row per distinct key per flush
(about once a second), with the count and the first and last time. Under a flood of distinct keys the
table stops growing at ``max_keys`` and the rest are counted in one ``overflow`` row.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.store import audit_chain

_log = logging.getLogger(__name__)


@dataclass
class _Tally:
    count: int
    first: datetime
    last: datetime
    reason: str


class RefusalLog:
    def __init__(self, max_keys: int = 2000) -> None:
        self._lock = threading.Lock()
        self._max = max_keys
        self._tallies: dict[tuple[str, str, str | None, str, int, str | None], _Tally] = {}
        self._overflow = 0
        self.recorded = 0  # refusals seen since start (for tests and health)

    def record(
        self,
        action: str,
        actor: str,
        client: str | None,
        target: str,
        status: int,
        reason: str,
        at: datetime,
        actor_id: str | None = None,
    ) -> None:
        """``actor_id``: an agency's or wall's id, so the row names it by id as well as by name."""
        key = (action, actor[:200], client, target[:128], status, actor_id)
        with self._lock:
            self.recorded += 1
            tally = self._tallies.get(key)
            if tally is not None:
                tally.count += 1
                tally.last = at
            elif len(self._tallies) < self._max:
                self._tallies[key] = _Tally(1, at, at, reason[:300])
            else:
                self._overflow += 1

    def pending(self) -> int:
        with self._lock:
            return len(self._tallies) + (1 if self._overflow else 0)

    def _take(self, now: datetime) -> list[dict[str, Any]]:
        with self._lock:
            tallies, self._tallies = self._tallies, {}
            overflow, self._overflow = self._overflow, 0
        rows = [
            {
                "at": t.last,
                "actor": actor,
                "action": action,
                "target_type": "route",
                "target_id": target,
                "client": client,
                "detail": {
                    **({"actor_id": actor_id} if actor_id else {}),
                    "status": status,
                    "count": t.count,
                    "first": t.first.isoformat(),
                    "last": t.last.isoformat(),
                    "reason": t.reason,
                },
            }
            for (action, actor, client, target, status, actor_id), t in tallies.items()
        ]
        if overflow:
            rows.append(
                {
                    "at": now,
                    "actor": "unknown",
                    "action": "request.refused",
                    "target_type": "route",
                    "target_id": "overflow",
                    "client": None,
                    "detail": {"count": overflow, "reason": "too many distinct refusals to list one by one"},
                }
            )
        return rows

    def flush(self, writing: Callable[[], AbstractContextManager[Session]], now: datetime) -> int:
        """Write what was counted since the last flush in one transaction; returns the rows written."""
        rows = self._take(now)
        if rows:
            try:
                with writing() as s:
                    audit_chain.add_audit(s, rows)
            except Exception:
                _log.exception("could not audit %d refusal rows", len(rows))
                return 0
        return len(rows)
