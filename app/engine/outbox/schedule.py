"""When to try a failed delivery again: an emergency schedule, not a marketing-webhook one.

After attempt n fails, wait ``schedule[n-1]`` seconds (1 s, 3 s, 10 s, 30 s, 2 min, 5 min by default),
then ``tail`` seconds for every later attempt, each with ±``jitter`` so that many deliveries to one
recovering agency do not arrive in lock-step. ``Retry-After`` from a 429/503 wins when it is longer.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_S = 3600.0


def next_delay(attempts: int, schedule: list[float], tail: float, jitter: float, rng: random.Random) -> float:
    base = schedule[attempts - 1] if 1 <= attempts <= len(schedule) else tail
    return max(0.0, base * (1.0 + rng.uniform(-jitter, jitter)))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date), capped; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER_S)
