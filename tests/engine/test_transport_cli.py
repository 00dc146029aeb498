"""TLS with a site's private CA (``certs init``), plain HTTP kept on loopback, and the security CLI
(``users …``, ``walls …``)."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from app.client.engine import EngineClient
from app.domain.enums import Role
from app.engine.server import EngineServer
from app.engine.settings import Settings
from app.engine.tls import init_site_certs
from tests.engine.conftest import start_engine

ROOT = Path(__file__).resolve().parents[2]


def main_py(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_certs_init_writes_a_ca_and_a_server_certificate_with_private_keys_0600(tmp_path: Path) -> None:
    out = tmp_path / "pki"
    r = main_py("certs", "init", "--out", str(out), "--host", "engine.city.local", "--host", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    for key in ("ca_key", "tls_key"):
        assert Path(made[key]).stat().st_mode & 0o777 == 0o600
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(Path(made["tls_cert"]).read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["engine.city.local"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    # Run again: the same CA signs a new server certificate (consoles keep their ca.pem).
    ca_before = Path(made["ca"]).read_bytes()
    assert main_py("certs", "init", "--out", str(out), "--host", "127.0.0.1").returncode == 0
    assert Path(made["ca"]).read_bytes() == ca_before
    assert main_py("certs", "init", "--out", str(out)).returncode != 0  # --host is required


@pytest.fixture
def tls_engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    certs = init_site_certs(tmp_path / "pki", ["127.0.0.1", "localhost"])
    e = start_engine(tmp_path / "data", security={"tls_cert": certs.server_cert, "tls_key": certs.server_key})
    e.http.close()
    e.http = httpx.Client(
        base_url=e.url, timeout=10, verify=ssl.create_default_context(cafile=str(certs.ca_cert))
    )
    yield e, certs
    e.close()


def test_the_engine_serves_tls_that_only_the_site_ca_verifies(tls_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    e, certs = tls_engine
    assert e.url.startswith("https://127.0.0.1:")
    ok = httpx.get(f"{e.url}/api/v1/health", verify=ssl.create_default_context(cafile=str(certs.ca_cert)))
    assert ok.status_code == 200
    with pytest.raises(httpx.ConnectError):  # the system's trust store does not know the site CA
        httpx.get(f"{e.url}/api/v1/health")
    other = init_site_certs(tmp_path / "other", ["127.0.0.1"])
    with pytest.raises(httpx.ConnectError):  # nor does another site's CA
        httpx.get(f"{e.url}/api/v1/health", verify=ssl.create_default_context(cafile=str(other.ca_cert)))
    with pytest.raises(httpx.RemoteProtocolError):  # and plain HTTP is not spoken on the TLS port
        httpx.get(e.url.replace("https://", "http://") + "/api/v1/health")


def test_console_client_and_live_feed_verify_with_the_ca_file(tls_engine) -> None:  # type: ignore[no-untyped-def]
    e, certs = tls_engine
    token = e.add_user("op", Role.OPERATOR, "correct-horse")  # (the fixture's client talks TLS too)
    assert token

    async def check() -> str:
        client = EngineClient(e.url, verify=str(certs.ca_cert))
        try:
            await client.login("op", "correct-horse")
            return str((await client.health())["status"])
        finally:
            await client.aclose()

    assert asyncio.run(check()) == "ok"
    ctx = ssl.create_default_context(cafile=str(certs.ca_cert))
    with connect(
        e.url.replace("https://", "wss://") + "/api/v1/live", additional_headers=token, ssl=ctx
    ) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"


def test_plain_http_listens_on_loopback_only_unless_the_settings_allow_it(tmp_path: Path) -> None:
    server = EngineServer(Settings(data_dir=tmp_path / "a", host="0.0.0.0", port=0))
    with pytest.raises(RuntimeError, match=r"refusing to serve plain HTTP on 0\.0\.0\.0"):
        server.start_in_thread()
    server.stop()
    allowed = EngineServer(
        Settings(data_dir=tmp_path / "b", host="0.0.0.0", port=0, security={"allow_plain_http_remote": True})  # type: ignore[arg-type]
    )
    try:
        allowed.start_in_thread()
        assert httpx.get(f"http://127.0.0.1:{allowed.bound_port}/api/v1/health").status_code == 200
    finally:
        allowed.stop()
    half = EngineServer(Settings(data_dir=tmp_path / "c", port=0, security={"tls_cert": tmp_path / "x.pem"}))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="go together"):
        half.start_in_thread()
    half.stop()


def test_users_and_walls_from_the_command_line(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path)]
    assert (
        main_py(
            "users", "add", "root", "--role", "admin", "--password-stdin", *d, stdin="admin-pass-1\n"
        ).returncode
        == 0
    )
    assert (
        main_py(
            "users", "add", "kim", "--role", "operator", "--password-stdin", *d, stdin="kim-pass-11\n"
        ).returncode
        == 0
    )
    assert (
        main_py(
            "users", "add", "aud", "--role", "auditor", "--password-stdin", *d, stdin="aud-pass-11\n"
        ).returncode
        == 0
    )
    r = main_py("users", "disable", "kim", *d)
    assert r.returncode == 0 and json.loads(r.stdout)["disabled"] is True
    r = main_py("users", "set-role", "kim", "supervisor", *d)
    assert r.returncode == 0 and json.loads(r.stdout)["role"] == "supervisor"
    assert main_py("users", "enable", "kim", *d).returncode == 0
    assert main_py("users", "reset-password", "kim", "--password-stdin", *d, stdin="short\n").returncode == 2
    assert (
        main_py("users", "reset-password", "kim", "--password-stdin", *d, stdin="kim-new-pass\n").returncode
        == 0
    )
    r = main_py("users", "end-sessions", "kim", *d)
    assert r.returncode == 0 and json.loads(r.stdout) == {"username": "kim", "ended": 0}
    assert main_py("users", "disable", "root", *d).returncode == 2  # the last admin
    assert main_py("users", "disable", "nobody", *d).returncode == 2
    listed = {u["username"]: u for u in json.loads(main_py("users", "list", *d).stdout)}
    assert listed["kim"] == {**listed["kim"], "role": "supervisor", "disabled": False}
    assert listed["aud"]["role"] == "auditor"
    key_file = tmp_path / "wall.key"
    r = main_py("walls", "add", "WALL-1", "--key-file", str(key_file), *d)
    assert r.returncode == 0 and "gtw_" not in r.stdout  # written to the file only
    assert key_file.read_text().startswith("gtw_") and key_file.stat().st_mode & 0o777 == 0o600
    printed = main_py("walls", "add", "WALL-2", *d)
    assert json.loads(printed.stdout)["key"].startswith("gtw_")
    assert json.loads(main_py("walls", "revoke", "WALL-2", *d).stdout) == {"wall": "WALL-2", "revoked": 1}
    keys = json.loads(main_py("walls", "list", *d).stdout)
    assert [(k["wall"], k["revoked_at"] is None) for k in keys] == [("WALL-1", True), ("WALL-2", False)]
    # Kim's new password works against an engine on that data dir; the old one does not.
    e = start_engine(tmp_path)
    try:
        assert (
            e.http.post("/api/v1/sessions", json={"username": "kim", "password": "kim-pass-11"}).status_code
            == 401
        )
        assert (
            e.http.post("/api/v1/sessions", json={"username": "kim", "password": "kim-new-pass"}).status_code
            == 201
        )
        wall = {"authorization": f"Bearer {key_file.read_text().strip()}"}
        assert e.http.get("/api/v1/walls/WALL-1", headers=wall).status_code == 404  # its own: no layout yet
        assert e.http.get("/api/v1/walls", headers=wall).status_code == 403
        revoked = {"authorization": f"Bearer {printed.stdout and json.loads(printed.stdout)['key']}"}
        assert e.http.get("/api/v1/walls/WALL-2", headers=revoked).status_code == 401
    finally:
        e.close()


def test_video_leaves_over_tls_too(tmp_path: Path, camera_sim: object) -> None:
    from app.domain.camera import Camera
    from app.domain.enums import Purpose
    from tests.engine.conftest import JINJU

    certs = init_site_certs(tmp_path / "pki", ["127.0.0.1"])
    e = start_engine(tmp_path / "data", security={"tls_cert": certs.server_cert, "tls_key": certs.server_key})
    ctx = ssl.create_default_context(cafile=str(certs.ca_cert))
    e.http.close()
    e.http = httpx.Client(base_url=e.url, timeout=10, verify=ctx)
    try:
        cam = camera_sim.cameras[0]  # type: ignore[attr-defined]
        e.add_cameras(
            [
                Camera(
                    "CAM-1",
                    "c",
                    JINJU[0],
                    JINJU[1],
                    Purpose.CRIME,
                    stream_main=cam.main_url,
                    stream_sub=cam.sub_url,
                )
            ]
        )
        op = e.add_user("op", Role.OPERATOR, "correct-horse")
        grant = e.http.post("/api/v1/media/grants", headers=op).json()
        assert grant["media_base_url"].startswith("https://")
        with httpx.stream(
            "GET",
            f"{e.url}/media/{grant['token']}/CAM-1~sub.ts",
            verify=ctx,
            timeout=20,
            follow_redirects=True,
        ) as r:
            assert r.status_code == 200 and str(r.url).startswith("https://")
            assert len(next(r.iter_raw())) > 0
    finally:
        e.close()
