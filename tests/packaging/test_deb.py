"""The Debian package end to end: build, ``dpkg -i``, command, doctor, the installed engine's probes, an
upgrade to a rebuilt N+1 that keeps data and settings and migrates, remove, purge.

Without systemd (CI containers) the service's own ExecStart line is run as the service user, as systemd
would; with systemd the unit itself is restarted.
"""

from __future__ import annotations

import grp
import os
import pwd
import shlex
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.packaging.conftest import MARKER, VERSION_N, VERSION_N1, package_installed, purge

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

SETTINGS = Path("/etc/goldentime/settings.toml")
DATA = Path("/var/lib/goldentime")
UNIT = Path("/lib/systemd/system/goldentime-engine.service")
ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
for _name in [n for n in ENV if n.startswith("GOLDENTIME_")]:
    del ENV[_name]  # the test's own settings must not leak into the installed product
SYSTEMD = Path("/run/systemd/system").is_dir()


def sh(
    args: Sequence[str], *, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), input=stdin, capture_output=True, text=True, timeout=timeout, check=False, env=ENV
    )


def ok(args: Sequence[str], timeout: float = 300) -> str:
    r = sh(args, timeout=timeout)
    assert r.returncode == 0, (
        f"{shlex.join(args)} exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    )
    return r.stdout + r.stderr


def as_service_user(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return sh(["runuser", "-u", "goldentime", "--", *args], stdin=stdin)


def install(deb: Path) -> str:
    """``dpkg -i``; when Depends are missing on this machine, apt-get fetches them (``-f``)."""
    r = sh(["dpkg", "-i", str(deb)], timeout=900)
    out = r.stdout + r.stderr
    if r.returncode != 0:
        assert "dependency problems" in out, out[-4000:]
        out += ok(["apt-get", "install", "-f", "-y", "-q", "--no-install-recommends"], timeout=1200)
    assert package_installed()
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, deadline_s: float = 90) -> httpx.Response:
    deadline = time.monotonic() + deadline_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url + "/readyz", timeout=5)
            if r.status_code == 200:
                return r
            last = r.status_code
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"the installed engine never became ready: {last!r}")


@contextmanager
def installed_engine(port: int, log: Path) -> Iterator[str]:
    """The installed service running: systemd's unit, or its ExecStart as the service user (umask 077)."""
    url = f"http://127.0.0.1:{port}"
    if SYSTEMD:
        ok(["systemctl", "restart", "goldentime-engine.service"])
        try:
            wait_ready(url)
            yield url
        finally:
            ok(["systemctl", "stop", "goldentime-engine.service"])
        return
    exec_start = next(
        line.split("=", 1)[1] for line in UNIT.read_text().splitlines() if line.startswith("ExecStart=")
    )
    with log.open("ab") as out:
        proc = subprocess.Popen(
            ["runuser", "-u", "goldentime", "--", "sh", "-c", f"umask 077 && exec {exec_start}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=ENV,
        )
    try:
        try:
            wait_ready(url)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{log.read_text(errors='replace')[-4000:]}") from None
        yield url
    finally:
        # The process group this test started: runuser, the engine, its media process.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


# One head of the installed migrations taken back a step, with alembic's own downgrade.
DOWNGRADE_ONE_MIGRATION = """
import sys
sys.path.insert(0, "/opt/goldentime")
from alembic import command
from alembic.config import Config
from app.store.database import _MIGRATIONS, make_engine
engine = make_engine("sqlite+pysqlite:////var/lib/goldentime/goldentime.db")
cfg = Config()
cfg.set_main_option("script_location", str(_MIGRATIONS))
with engine.begin() as conn:
    cfg.attributes["connection"] = conn
    command.downgrade(cfg, "privilege_agency_0002@-1")
"""


def login(url: str, user: str, password: str) -> int:
    return httpx.post(
        url + "/api/v1/sessions", json={"username": user, "password": password}, timeout=10
    ).status_code


def test_package_installs_runs_upgrades_keeping_data_and_purges(
    deb_for: Callable[[str], Path], clean_machine: None, tmp_path: Path
) -> None:
    build = deb_for
    started = time.monotonic()
    deb_n = build(VERSION_N)
    timings = {"build N": time.monotonic() - started}

    # ---- install N
    t = time.monotonic()
    out = install(deb_n)
    timings["install N"] = time.monotonic() - t
    MARKER.touch()
    assert "database schema is current" in out, out[-3000:]  # postinst migrated as the service user
    assert ok(["goldentime", "--version"]).strip() == f"goldentime {VERSION_N}"
    user = pwd.getpwnam("goldentime")
    assert grp.getgrgid(user.pw_gid).gr_name == "goldentime" and user.pw_dir == str(DATA)
    st = SETTINGS.stat()
    assert (
        stat.S_IMODE(st.st_mode) == 0o640
        and st.st_uid == 0
        and grp.getgrgid(st.st_gid).gr_name == "goldentime"
    )
    assert stat.S_IMODE(DATA.stat().st_mode) == 0o750 and DATA.stat().st_uid == user.pw_uid
    db = DATA / "goldentime.db"
    assert db.stat().st_uid == user.pw_uid and stat.S_IMODE(db.stat().st_mode) & 0o077 == 0
    for desktop in ("goldentime-console.desktop", "goldentime-wall.desktop"):
        text = Path("/usr/share/applications", desktop).read_text()
        assert "Name[ko]=" in text and "Icon=goldentime" in text
    assert list(Path("/opt/goldentime/resources/i18n").glob("*.qm"))
    assert (Path("/opt/goldentime/resources/vendor") / "leaflet").is_dir()

    # The administrator's edits to the settings, which upgrades must keep.
    port = free_port()
    SETTINGS.write_text(f"port = {port}\nshare_minutes = 20\n" + SETTINGS.read_text())  # top-level keys first
    settings_before = SETTINGS.read_bytes()
    assert "valid" in ok(["goldentime", "settings", "check", str(SETTINGS)])

    # Data, as an administrator adds it (the installed command reads the installed settings by itself).
    password = "pkg-test-password-1"
    added = as_service_user(
        "goldentime", "users", "add", "pkgadmin", "--role", "admin", "--password-stdin", stdin=password + "\n"
    )
    assert added.returncode == 0, added.stderr
    agency = as_service_user(
        "goldentime",
        "agencies",
        "add",
        "--name",
        "Package 112",
        "--kind",
        "police",
        "--format",
        "json",
        "--endpoint",
        "https://police.city.example/hook",
    )
    assert agency.returncode == 0, agency.stderr

    doctor = as_service_user("goldentime", "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "OK   database:" in doctor.stdout and "schema current" in doctor.stdout
    log = tmp_path / "engine.log"
    with installed_engine(port, log) as url:
        metrics = httpx.get(url + "/metrics", timeout=10)
        assert metrics.status_code == 200 and "goldentime_http_requests_total" in metrics.text
        assert 'route="/readyz"' in metrics.text
        assert login(url, "pkgadmin", password) in (200, 201)
        reach = as_service_user("goldentime", "doctor", "--engine", url)
        assert any(line.startswith("OK   engine:") for line in reach.stdout.splitlines()), reach.stdout
    # The installed settings send the engine's log to its rotating file in /var/log/goldentime.
    engine_log = Path("/var/log/goldentime/engine.log")
    assert f"engine on http://127.0.0.1:{port}" in engine_log.read_text()
    assert engine_log.stat().st_uid == user.pw_uid and stat.S_IMODE(engine_log.stat().st_mode) & 0o077 == 0

    # Version N's database as an older release left it: one migration behind the package (the upgrade's
    # postinst must bring it forward, or /readyz stays 503).
    downgrade = as_service_user("/opt/goldentime/venv/bin/python3", "-c", DOWNGRADE_ONE_MIGRATION)
    assert downgrade.returncode == 0, downgrade.stderr
    behind = as_service_user("goldentime", "doctor")
    assert "schema not this version's" in behind.stdout, behind.stdout

    # ---- upgrade to N+1
    t = time.monotonic()
    deb_n1 = build(VERSION_N1)
    timings["build N+1"] = time.monotonic() - t
    t = time.monotonic()
    out = install(deb_n1)
    timings["upgrade"] = time.monotonic() - t
    assert "database schema is current" in out, out[-3000:]
    assert ok(["goldentime", "--version"]).strip() == f"goldentime {VERSION_N1}"
    assert SETTINGS.read_bytes() == settings_before  # never overwritten
    listed = as_service_user("goldentime", "users", "list")
    assert "pkgadmin" in listed.stdout, listed.stdout + listed.stderr
    assert "Package 112" in as_service_user("goldentime", "agencies", "list").stdout
    with installed_engine(port, log) as url:  # the service comes back on the kept settings' port
        assert login(url, "pkgadmin", password) in (200, 201)
        ready = httpx.get(url + "/readyz", timeout=10)
        assert ready.status_code == 200

    # ---- remove keeps data and settings; purge deletes them and the service user
    ok(["dpkg", "--remove", "goldentime"], timeout=600)
    assert not Path("/usr/bin/goldentime").exists() and not Path("/opt/goldentime/main.py").exists()
    assert db.exists() and SETTINGS.read_bytes() == settings_before
    t = time.monotonic()
    r = purge()
    timings["purge"] = time.monotonic() - t
    assert r.returncode == 0, r.stderr
    assert not package_installed()
    for gone in (DATA, Path("/etc/goldentime"), Path("/var/log/goldentime"), Path("/opt/goldentime")):
        assert not gone.exists(), gone
    with pytest.raises(KeyError):
        pwd.getpwnam("goldentime")
    print("package test timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
