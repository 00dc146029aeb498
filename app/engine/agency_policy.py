"""What an agency may do: the services its kind may request, the CAP alerts it may post, its request rate.

The rules are settings (``[agency_access]``, see docs/ENGINE.md "Auth and audit"); this module only applies
them. Each check raises a :class:`ServiceError` that the API answers as problem+json.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from app.domain.enums import AgencyKind, Service
from app.engine.auth import Principal
from app.engine.errors import ServiceError, forbidden
from app.engine.settings import AgencyAccessSettings


def _kind(principal: Principal) -> AgencyKind | None:
    try:
        return AgencyKind(principal.agency_kind or "")
    except ValueError:
        return None


def check_service(rules: AgencyAccessSettings, principal: Principal, service: Service) -> None:
    """403 unless the caller's agency kind may request ``service``."""
    kind = _kind(principal)
    allowed = rules.services.get(kind, []) if kind is not None else []
    if service not in allowed:
        shown = ", ".join(s.value for s in allowed) or "none"
        raise forbidden(
            f"a {principal.agency_kind} agency may not request {service.value!r} (allowed: {shown})"
        )


def check_cap_alerts(rules: AgencyAccessSettings, principal: Principal) -> None:
    kind = _kind(principal)
    if kind is None or kind not in rules.cap_alerts:
        raise forbidden(f"a {principal.agency_kind} agency may not post CAP alerts")


def camera_cap(rules: AgencyAccessSettings, agency_id: str) -> int:
    """How many cameras an automatic share of one request may hold for ``agency_id``."""
    return rules.limits_of(agency_id).cameras_per_request


def too_many_requests(retry_after_s: float) -> ServiceError:
    wait = max(1, math.ceil(retry_after_s))
    return ServiceError(
        429,
        "Too Many Requests",
        f"this agency's request rate is over its limit; retry after {wait} s",
        headers={"Retry-After": str(wait)},
    )


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per agency (in this engine process): ``per_minute`` requests a minute, in bursts
    of up to ``per_minute``. Engines sharing a database each count their own share of the traffic."""

    def __init__(self, max_agencies: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._max = max_agencies

    def take(self, agency_id: str, per_minute: int, now: float | None = None) -> float:
        """Take one request; 0.0 when allowed, else the seconds until one is allowed again."""
        now = time.monotonic() if now is None else now
        rate = per_minute / 60.0
        with self._lock:
            b = self._buckets.get(agency_id)
            if b is None:
                if len(self._buckets) >= self._max:
                    self._buckets.clear()
                b = self._buckets[agency_id] = _Bucket(float(per_minute), now)
            b.tokens = min(float(per_minute), b.tokens + (now - b.at) * rate)
            b.at = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return 0.0
            return (1.0 - b.tokens) / rate
