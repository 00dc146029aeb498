"""Standard Webhooks 1.0 signing and verification, on the reference ``standardwebhooks`` package.

Headers: ``webhook-id`` (the event id, the same on every retry), ``webhook-timestamp`` (integer
seconds since the epoch) and ``webhook-signature``: one ``v1,<base64 HMAC-SHA256>`` per secret,
separated by spaces, over ``"{id}.{timestamp}.{body}"``. During a secret rotation the sender signs
with both the old and the new secret and the receiver accepts the message when any signature matches.

The reference package computes every signature. Verification does not call its ``Webhook.verify``
because that fixes the tolerance at five minutes, reads the clock itself (tests need a given "now"),
and raises ``ValueError`` instead of a verification error on a malformed signature entry; the
comparison here is constant-time and uses the package's ``sign``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets as _secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "SECRET_PREFIX",
    "WebhookVerificationError",
    "new_secret",
    "sign_headers",
    "verify",
]

SECRET_PREFIX: Final = "whsec_"
DEFAULT_TOLERANCE_S: Final = 300
_TIMESTAMP_RE: Final = re.compile(r"^\d{1,12}$")


def new_secret(nbytes: int = 32) -> str:
    """A fresh signing secret: ``whsec_`` and the base64 of ``nbytes`` (24–64) random bytes."""
    if not 24 <= nbytes <= 64:
        raise ValueError(f"a webhook secret needs 24 to 64 random bytes, got {nbytes}")
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(nbytes)).decode("ascii")


def _webhook(secret: str) -> Webhook:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret must start with {SECRET_PREFIX!r}")
    try:
        return Webhook(secret)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"the webhook secret is not valid base64 after {SECRET_PREFIX!r}") from exc
    except Exception as exc:  # EmptyWebhookSecretError and friends
        raise ValueError(f"unusable webhook secret: {exc}") from exc


def _body_text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("webhook bodies must be UTF-8") from exc


def _utc(timestamp: datetime) -> datetime:
    if timestamp.tzinfo is None:
        raise ValueError("webhook timestamps must be timezone-aware")
    # the package does timestamp.replace(tzinfo=utc): give it UTC so that is a no-op
    return timestamp.astimezone(UTC)


def sign_headers(msg_id: str, timestamp: datetime, body: bytes, secrets: Sequence[str]) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, signed with every secret in ``secrets``."""
    if not msg_id or any(c in msg_id for c in " ,\r\n"):
        raise ValueError(f"webhook id {msg_id!r} must be non-empty without spaces or commas")
    if isinstance(secrets, str):
        raise TypeError("secrets must be a sequence of secrets, not one string")
    if not secrets:
        raise ValueError("at least one webhook secret is needed to sign")
    when = _utc(timestamp)
    text = _body_text(body)
    signatures = [_webhook(s).sign(msg_id, when, text) for s in secrets]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secret: str | Sequence[str],
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    *,
    now: datetime | None = None,
) -> None:
    """Check the Standard Webhooks headers of ``body``; raises :class:`WebhookVerificationError`.

    ``secret`` may be one secret or several (a receiver that accepts both sides of a rotation). The
    message passes when its timestamp is within ``tolerance_s`` of ``now`` and any ``v1`` signature
    matches any secret.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id", "").strip()
    ts_text = lowered.get("webhook-timestamp", "").strip()
    sig_header = lowered.get("webhook-signature", "").strip()
    missing = [
        name
        for name, value in (
            ("webhook-id", msg_id),
            ("webhook-timestamp", ts_text),
            ("webhook-signature", sig_header),
        )
        if not value
    ]
    if missing:
        raise WebhookVerificationError(f"missing header(s): {', '.join(missing)}")
    if not _TIMESTAMP_RE.match(ts_text):
        raise WebhookVerificationError(
            f"webhook-timestamp {ts_text!r} is not integer seconds since the epoch"
        )
    sent = datetime.fromtimestamp(int(ts_text), tz=UTC)
    current = _utc(now) if now is not None else datetime.now(UTC)
    skew = (current - sent).total_seconds()
    if skew > tolerance_s:
        raise WebhookVerificationError(
            f"message timestamp is {skew:.0f} s old; the tolerance is {tolerance_s:g} s"
        )
    if -skew > tolerance_s:
        raise WebhookVerificationError(
            f"message timestamp is {-skew:.0f} s in the future; the tolerance is {tolerance_s:g} s"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookVerificationError("body is not UTF-8, so it cannot carry a valid signature") from None

    candidates: list[bytes] = []
    for entry in sig_header.split():
        version, sep, value = entry.partition(",")
        if not sep or version != "v1":
            continue
        try:
            candidates.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not candidates:
        raise WebhookVerificationError("webhook-signature has no well-formed v1 signature")

    secret_list = [secret] if isinstance(secret, str) else list(secret)
    if not secret_list:
        raise ValueError("at least one webhook secret is needed to verify")
    for s in secret_list:
        expected = base64.b64decode(_webhook(s).sign(msg_id, sent, text).split(",", 1)[1])
        # compare against every candidate without stopping early on the first secret
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return
    raise WebhookVerificationError("no signature matches")
