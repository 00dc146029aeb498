"""Standard Webhooks signing and verification (on the reference ``standardwebhooks`` package)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest
from standardwebhooks import Webhook

from app.formats.webhooks import WebhookVerificationError, new_secret, sign_headers, verify

NOW = datetime(2026, 3, 1, 9, 30, 0, tzinfo=UTC)
BODY = '{"type":"share.created","id":"EVT-1","note":"한글"}'.encode()


@pytest.fixture
def secret() -> str:
    return new_secret()


def test_new_secret_format() -> None:
    a, b = new_secret(), new_secret()
    assert a != b
    assert a.startswith("whsec_")
    assert len(base64.b64decode(a.removeprefix("whsec_"))) == 32
    assert len(base64.b64decode(new_secret(24).removeprefix("whsec_"))) == 24
    with pytest.raises(ValueError, match="24 to 64"):
        new_secret(16)


def test_headers_shape(secret: str) -> None:
    headers = sign_headers("EVT-1", NOW, BODY, [secret])
    assert headers["webhook-id"] == "EVT-1"
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    version, sig = headers["webhook-signature"].split(",")
    assert version == "v1" and len(base64.b64decode(sig)) == 32


def test_roundtrip(secret: str) -> None:
    headers = sign_headers("EVT-1", NOW, BODY, [secret])
    verify(headers, BODY, secret, now=NOW + timedelta(seconds=3))
    # header names are case-insensitive
    verify({k.upper(): v for k, v in headers.items()}, BODY, secret, now=NOW)


def test_interoperates_with_the_reference_package(secret: str) -> None:
    real_now = datetime.now(UTC)
    headers = sign_headers("EVT-1", real_now, BODY, [secret])
    Webhook(secret).verify(BODY, headers, json_parse=False)  # the package accepts ours
    ref_sig = Webhook(secret).sign("EVT-2", NOW, BODY.decode())
    ours = {
        "webhook-id": "EVT-2",
        "webhook-timestamp": str(int(NOW.timestamp())),
        "webhook-signature": ref_sig,
    }
    verify(ours, BODY, secret, now=NOW)  # and we accept the package's


def test_non_utc_timestamp_means_the_same_instant(secret: str) -> None:
    seoul = NOW.astimezone(timezone(timedelta(hours=9)))
    assert sign_headers("EVT-1", seoul, BODY, [secret]) == sign_headers("EVT-1", NOW, BODY, [secret])
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_headers("EVT-1", NOW.replace(tzinfo=None), BODY, [secret])


def test_rotation_sends_both_and_either_verifies() -> None:
    old, new = new_secret(), new_secret()
    headers = sign_headers("EVT-1", NOW, BODY, [old, new])
    assert len(headers["webhook-signature"].split(" ")) == 2
    verify(headers, BODY, old, now=NOW)
    verify(headers, BODY, new, now=NOW)
    verify(headers, BODY, [new_secret(), new], now=NOW)  # a receiver holding several secrets
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify(headers, BODY, new_secret(), now=NOW)


@pytest.mark.parametrize(
    "tamper",
    ["body", "id", "timestamp", "signature"],
)
def test_tampering_is_detected(secret: str, tamper: str) -> None:
    headers = sign_headers("EVT-1", NOW, BODY, [secret])
    body = BODY
    if tamper == "body":
        body = BODY.replace(b"EVT-1", b"EVT-9")
    elif tamper == "id":
        headers["webhook-id"] = "EVT-2"
    elif tamper == "timestamp":
        headers["webhook-timestamp"] = str(int(NOW.timestamp()) + 1)
    else:
        sig = bytearray(base64.b64decode(headers["webhook-signature"].split(",")[1]))
        sig[0] ^= 1
        headers["webhook-signature"] = "v1," + base64.b64encode(bytes(sig)).decode()
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify(headers, body, secret, now=NOW)


def test_old_and_future_timestamps(secret: str) -> None:
    headers = sign_headers("EVT-1", NOW, BODY, [secret])
    with pytest.raises(WebhookVerificationError, match=r"timestamp is 301 s old; the tolerance is 300 s"):
        verify(headers, BODY, secret, now=NOW + timedelta(seconds=301))
    with pytest.raises(WebhookVerificationError, match=r"timestamp is 301 s in the future"):
        verify(headers, BODY, secret, now=NOW - timedelta(seconds=301))
    verify(headers, BODY, secret, now=NOW + timedelta(seconds=300))
    verify(headers, BODY, secret, tolerance_s=3600, now=NOW + timedelta(minutes=30))


def test_missing_and_malformed_headers(secret: str) -> None:
    headers = sign_headers("EVT-1", NOW, BODY, [secret])
    with pytest.raises(WebhookVerificationError, match=r"missing header\(s\): webhook-signature"):
        verify({k: v for k, v in headers.items() if k != "webhook-signature"}, BODY, secret, now=NOW)
    with pytest.raises(WebhookVerificationError, match="not integer seconds"):
        verify({**headers, "webhook-timestamp": "1.5e9"}, BODY, secret, now=NOW)
    with pytest.raises(WebhookVerificationError, match="no well-formed v1 signature"):
        verify({**headers, "webhook-signature": "v2,abc garbage v1,!!!"}, BODY, secret, now=NOW)
    with pytest.raises(WebhookVerificationError, match="not UTF-8"):
        verify(headers, b"\xff\xfe", secret, now=NOW)


def test_malformed_entries_do_not_hide_a_good_signature(secret: str) -> None:
    headers = sign_headers("EVT-1", NOW, BODY, [secret])
    headers["webhook-signature"] = "garbage v2,AAAA v1,%%% " + headers["webhook-signature"]
    verify(headers, BODY, secret, now=NOW)


def test_bad_inputs_to_sign(secret: str) -> None:
    with pytest.raises(ValueError, match="at least one webhook secret"):
        sign_headers("EVT-1", NOW, BODY, [])
    with pytest.raises(TypeError, match="not one string"):
        sign_headers("EVT-1", NOW, BODY, secret)
    with pytest.raises(ValueError, match="without spaces or commas"):
        sign_headers("EVT 1", NOW, BODY, [secret])
    with pytest.raises(ValueError, match="must start with 'whsec_'"):
        sign_headers("EVT-1", NOW, BODY, ["plain-secret"])
    with pytest.raises(ValueError, match="must be UTF-8"):
        sign_headers("EVT-1", NOW, b"\xff", [secret])
