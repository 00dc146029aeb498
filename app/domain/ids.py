"""Identifiers: sortable by creation time, unguessable where they are capabilities."""

from __future__ import annotations

import os
import secrets
import time


def new_id(prefix: str) -> str:
    """A time-ordered id such as ``INC-01J9Z…``: 48-bit milliseconds then 80 random bits, base32."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(alphabet[rem])
    return f"{prefix}-{''.join(reversed(chars))}"


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random capability token."""
    return secrets.token_urlsafe(nbytes)
