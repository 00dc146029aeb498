"""Secrets at rest and in error texts: camera stream URLs and webhook secrets are encrypted with a key file
made 0600 at first start; stream URLs are rtsp/rtsps/http/https only; no text sent out carries a camera's
credentials or an internal address."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from websockets.sync.client import connect

from app.domain.camera import Camera
from app.domain.camera_import import parse_cameras
from app.domain.enums import AgencyKind, Purpose, Role
from app.domain.stream_url import check_stream_url, scrub
from app.store.database import Database
from app.store.sealed import KEY_FILE, PREFIX
from tests.engine.conftest import ADMIN, JINJU, EngineUnderTest, start_engine

SECRET_URL = "rtsp://admin:s3cret-pw@127.0.0.1:9/stream1"


def _raw(db_url: str, sql: str) -> list[tuple[object, ...]]:
    db = Database(db_url)
    try:
        with db.write.connect() as c:
            return [tuple(r) for r in c.execute(text(sql)).all()]
    finally:
        db.dispose()


def test_camera_urls_and_webhook_secrets_are_encrypted_with_a_0600_key(tmp_path: Path) -> None:
    e = start_engine(tmp_path)
    try:
        key = tmp_path / KEY_FILE
        assert key.stat().st_mode & 0o777 == 0o600
        e.add_cameras(
            [Camera("CAM-S", "secret cam", JINJU[0], JINJU[1], Purpose.CRIME, stream_main=SECRET_URL)]
        )
        police = e.add_agency("Jinju 112", AgencyKind.POLICE)
        url = e.server.settings.database_url
        [(stream,)] = _raw(url, "SELECT stream_main FROM cameras WHERE id = 'CAM-S'")
        [(secret,)] = _raw(url, f"SELECT webhook_secret FROM agencies WHERE id = '{police.id}'")
        for stored, clear in ((stream, SECRET_URL), (secret, police.webhook_secret)):
            assert isinstance(stored, str) and stored.startswith(PREFIX)
            assert clear not in stored and "s3cret" not in stored
        # The engine reads them back in clear (the relay, the signer).
        assert e.server.ctx.cameras.index().get("CAM-S").stream_main == SECRET_URL  # type: ignore[union-attr]
    finally:
        e.close()
    # Started again on the same data dir: the same key (not a new one), values still readable.
    before = key.read_bytes()
    again = start_engine(tmp_path)
    try:
        assert key.read_bytes() == before
        assert again.server.ctx.cameras.index().get("CAM-S").stream_main == SECRET_URL  # type: ignore[union-attr]
    finally:
        again.close()


def test_values_written_in_clear_are_sealed_at_the_next_start(tmp_path: Path) -> None:
    e = start_engine(tmp_path)
    url = e.server.settings.database_url
    e.close()
    db = Database(url)  # a tool that opens the database without the key
    with db.write.begin() as c:
        c.execute(
            text(
                "INSERT INTO cameras (id, name, lat, lon, purpose, stream_main, stream_sub, online, updated_at) "
                "VALUES ('CAM-OLD', 'old', 35.18, 128.08, 'crime', :u, '', 1, '2026-01-01 00:00:00')"
            ),
            {"u": SECRET_URL},
        )
    db.dispose()
    again = start_engine(tmp_path)
    try:
        [(stored,)] = _raw(url, "SELECT stream_main FROM cameras WHERE id = 'CAM-OLD'")
        assert str(stored).startswith(PREFIX)
        assert again.server.ctx.cameras.index().get("CAM-OLD").stream_main == SECRET_URL  # type: ignore[union-attr]
    finally:
        again.close()


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("rtsp://10.0.0.5/s", True),
        ("rtsps://cam/s", True),
        ("http://cam/x.ts", True),
        ("https://cam/x.m3u8", True),
        ("file:///etc/passwd", False),
        ("gopher://cam/", False),
        ("ftp://admin:pw@cam/x", False),
        ("rtsp:///nohost", False),
    ],
)
def test_stream_url_schemes(url: str, ok: bool) -> None:
    why = check_stream_url(url)
    assert (why is None) == ok
    if why:
        assert "pw" not in why and "/etc" not in why


def test_imports_and_the_store_refuse_other_schemes_without_repeating_the_url(tmp_path: Path) -> None:
    csv = "id,name,lat,lon,purpose,stream_main\nC1,a,35.18,128.08,crime,file:///etc/shadow\nC2,b,35.18,128.08,crime,ftp://admin:pw@10.1.1.1/x\n"
    result = parse_cameras(csv.encode(), "cams.csv")
    assert not result.cameras and len(result.errors) == 2
    text_out = json.dumps([str(e) for e in result.errors], ensure_ascii=False)
    assert "etc/shadow" not in text_out and "admin:pw" not in text_out and "10.1.1.1" not in text_out
    e = start_engine(tmp_path)
    try:
        from app.engine.errors import ServiceError

        with pytest.raises(ServiceError, match="stream URLs are"):
            e.add_cameras(
                [Camera("C3", "c", JINJU[0], JINJU[1], Purpose.CRIME, stream_main="file:///etc/passwd")]
            )
    finally:
        e.close()


def test_scrub_removes_urls_credentials_and_addresses() -> None:
    out = scrub(
        "ConnectionRefusedError: [Errno 111] 'rtsp://admin:s3cret@10.0.0.5:554/s' via 192.168.1.1:554 [fe80::1]:80"
    )
    assert "s3cret" not in out and "admin" not in out and "10.0.0.5" not in out and "192.168" not in out
    assert "fe80" not in out and "ConnectionRefusedError" in out


def test_no_error_sent_out_carries_the_cameras_credentials_or_address(tmp_path: Path) -> None:
    e = start_engine(tmp_path)
    try:
        e.add_cameras(
            [Camera("CAM-S", "secret cam", JINJU[0], JINJU[1], Purpose.CRIME, stream_main=SECRET_URL)]
        )
        op = e.add_user("op", Role.OPERATOR)
        grant = e.http.post("/api/v1/media/grants", headers=op).json()["token"]
        ws_url = e.url.replace("http://", "ws://") + "/api/v1/live"
        with connect(ws_url, additional_headers=op) as ws:
            assert json.loads(ws.recv(timeout=5))["type"] == "hello"
            r = httpx.get(f"{e.url}/media/{grant}/CAM-S.ts", timeout=30, follow_redirects=True)
            assert r.status_code == 503
            assert "s3cret" not in r.text and "admin" not in r.text and "127.0.0.1" not in r.text
            deadline = time.monotonic() + 15
            seen = ""
            while time.monotonic() < deadline:
                ev = json.loads(ws.recv(timeout=15))
                if ev["type"] == "camera.updated" and ev["data"]["camera_id"] == "CAM-S":
                    seen = json.dumps(ev)
                    break
            assert seen, "no camera.updated for the offline camera"
            assert "s3cret" not in seen and "127.0.0.1" not in seen and "rtsp://" not in seen
    finally:
        e.close()


def test_bulk_camera_imports_seal_stream_urls_too(engine: EngineUnderTest) -> None:
    """The register import writes in bulk (COPY on PostgreSQL, executemany on SQLite), past the ORM."""
    from app.engine.services.camera_register import import_cameras

    rows = [f"B{i},cam {i},35.18,128.08,crime,rtsp://admin:pw-{i}@10.0.0.{i}/s" for i in range(1, 4)]
    for edition, suffix in ((1, ""), (2, "?v=2")):
        text_csv = "id,name,lat,lon,purpose,stream_main\n" + "\n".join(r + suffix for r in rows) + "\n"
        result = parse_cameras(text_csv.encode(), f"edition{edition}.csv")
        assert len(result.cameras) == 3
        with engine.server.uow(ADMIN) as work:
            import_cameras(engine.server.ctx, work, result, f"edition{edition}.csv")
        stored = _raw(engine.server.settings.database_url, "SELECT id, stream_main FROM cameras ORDER BY id")
        assert len(stored) == 3
        assert all(str(v).startswith(PREFIX) and "pw-" not in str(v) for _, v in stored), stored
    engine.server.ctx.cameras.refresh(force=True)
    assert engine.server.ctx.cameras.index().get("B2").stream_main == "rtsp://admin:pw-2@10.0.0.2/s?v=2"  # type: ignore[union-attr]


def test_an_agency_reads_its_delivery_errors_without_internal_addresses(engine: EngineUnderTest) -> None:
    from app.store.models import AgencyRow

    e = engine
    e.add_cameras([Camera("CAM-1", "c", JINJU[0], JINJU[1], Purpose.CRIME, stream_main=SECRET_URL)])
    police = e.add_agency("Jinju 112", AgencyKind.POLICE)
    with e.server.uow.writing() as s:  # an endpoint the dispatcher refuses at send time, naming its address
        row = s.get(AgencyRow, police.id)
        assert row is not None
        row.endpoint = "https://10.20.30.40/hook"
    op = e.add_user("op", Role.OPERATOR)
    iid = e.http.post(
        "/api/v1/requests",
        headers=police.headers,
        json={
            "service": "112-emergency-video",
            "external_id": "E-1",
            "title": "t",
            "location": {"lat": JINJU[0], "lon": JINJU[1]},
        },
    ).json()["incident"]["id"]
    deadline = time.monotonic() + 10
    errors: list[str] = []
    while not errors and time.monotonic() < deadline:
        detail = e.http.get(f"/api/v1/incidents/{iid}", headers=op).json()
        errors = [d["last_error"] for d in detail["deliveries"] if d["last_error"]]
        time.sleep(0.05)  # poll interval while the dispatcher's first attempt is recorded
    assert errors and "10.20.30.40" in errors[0]  # the control room sees what was refused
    mine = e.http.get(f"/api/v1/incidents/{iid}", headers=police.headers).json()
    agency_errors = [d["last_error"] for d in mine["deliveries"] if d["last_error"]]
    assert agency_errors and all("10.20.30.40" not in x and "<address>" in x for x in agency_errors)
