"""Password hashing: argon2id at the OWASP Password Storage Cheat Sheet's parameters (m = 19 MiB, t = 2,
p = 1), and verification of the scrypt hashes earlier versions wrote (rehashed at the next good login).

Hashing and verifying cost tens of milliseconds of CPU on purpose: callers run them off the event loop and
outside any database transaction (see :mod:`app.engine.login`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP (2024–2026): argon2id with 19 MiB of memory, 2 iterations, 1 lane is the recommended minimum.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
_HASHER = PasswordHasher(
    time_cost=ARGON2_TIME_COST,
    memory_cost=ARGON2_MEMORY_KIB,
    parallelism=ARGON2_PARALLELISM,
    hash_len=32,
    salt_len=16,
)
_LEGACY_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # what version 1 wrote: verified, then replaced


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored`` (argon2id, or a legacy ``scrypt$salt$key``)."""
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """A legacy scrypt hash, or argon2 with weaker parameters than today's: rehash after a good login."""
    if not stored.startswith("$argon2id$"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        _scheme, salt_b64, key_b64 = stored.split("$")
        key = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt_b64), **_LEGACY_SCRYPT)
        return hmac.compare_digest(key, base64.b64decode(key_b64))
    except (ValueError, TypeError):
        return False


def legacy_scrypt_hash(password: str) -> str:
    """A hash as version 1 wrote it (for tests of the upgrade path)."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_LEGACY_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(key).decode()


@cache
def dummy_hash() -> str:
    """A fixed hash to verify against when the user does not exist, so timing does not reveal usernames."""
    return hash_password("not-a-user-" + secrets.token_hex(8))
