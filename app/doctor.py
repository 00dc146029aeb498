"""``goldentime doctor``: what this machine can and cannot do for GoldenTime, one line per check.

Each check answers OK, WARN or FAIL with a hint an installer can act on; the command exits non-zero when
any check FAILs. Checks never change anything.
"""

from __future__ import annotations

import email.utils
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

Level = Literal["OK", "WARN", "FAIL"]


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    detail: str
    hint: str = ""

    def line(self) -> str:
        hint = f" — {self.hint}" if self.hint and self.level != "OK" else ""
        return f"{self.level:<4} {self.name}: {self.detail}{hint}"


def run_checks(settings: Any, engine_url: str | None, ca_file: Path | None = None) -> list[Check]:
    checks: list[Callable[[], Iterator[Check]]] = [
        lambda: _settings(settings),
        lambda: _database(settings),
        _video,
        _fonts,
        _gpu,
        lambda: _disk(settings.data_dir),
        lambda: _engine(engine_url, ca_file),
        lambda: _basemap(settings),
    ]
    out: list[Check] = []
    for check in checks:
        try:
            out.extend(check())
        except Exception as exc:  # a broken check is itself a finding, never a crash
            out.append(Check(getattr(check, "__name__", "check"), "FAIL", f"check failed: {exc!r}"))
    return out


def _settings(settings: Any) -> Iterator[Check]:
    yield Check("settings", "OK", f"valid; data in {settings.data_dir}")


def _database(settings: Any) -> Iterator[Check]:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from app.store.database import schema_is_current

    url = settings.database_url
    if url.startswith("sqlite"):
        path = Path(url.split(":///", 1)[1])
        if not path.exists():
            yield Check(
                "database", "WARN", f"{path} does not exist yet", "the engine creates it at first start"
            )
            return
    engine = create_engine(url)
    try:
        current = schema_is_current(engine)
    except SQLAlchemyError as exc:
        yield Check(
            "database", "FAIL", f"cannot read the schema: {type(exc).__name__}", "check --db / db_url"
        )
        return
    finally:
        engine.dispose()
    safe = engine.url.render_as_string(hide_password=True)
    if current:
        yield Check("database", "OK", f"{safe}, schema current")
    else:
        yield Check(
            "database", "WARN", f"{safe}, schema not this version's", "start the engine once to migrate"
        )


def _video() -> Iterator[Check]:
    try:
        import vlc

        version = vlc.libvlc_get_version().decode()
        yield Check(
            "video: libVLC",
            "OK",
            f"{version}; opens http:// MPEG-TS from the relay",
        )
    except Exception as exc:
        yield Check(
            "video: libVLC", "WARN", f"not usable ({type(exc).__name__})", "apt-get install vlc-plugin-base"
        )
    try:
        from PySide6 import QtMultimedia  # noqa: F401

        yield Check(
            "video: Qt Multimedia", "OK", "available (FFmpeg inside the PySide6 wheel; opens rtsp://)"
        )
    except Exception as exc:
        yield Check("video: Qt Multimedia", "WARN", f"not usable ({type(exc).__name__})")
    for tool in ("ffmpeg", "ffprobe"):
        found = shutil.which(tool)
        yield (
            Check(f"video: {tool}", "OK", found)
            if found
            else Check(
                f"video: {tool}", "WARN", "missing", "apt-get install ffmpeg (snapshots, camera probes)"
            )
        )


def _fonts() -> Iterator[Check]:
    fc = shutil.which("fc-list")
    if fc is None:
        yield Check("fonts", "WARN", "fc-list missing; cannot tell", "apt-get install fontconfig")
        return
    out = subprocess.run([fc, ":lang=ko", "family"], capture_output=True, text=True, timeout=30).stdout
    families = sorted({f.split(",")[0].strip() for f in out.splitlines() if f.strip()})
    if families:
        yield Check("fonts", "OK", f"Korean: {', '.join(families[:3])}")
    else:
        yield Check("fonts", "FAIL", "no font covers Korean", "apt-get install fonts-noto-cjk")


def _gpu() -> Iterator[Check]:
    nodes = sorted(Path("/dev/dri").glob("renderD*")) if Path("/dev/dri").exists() else []
    if nodes:
        yield Check("GPU decode", "OK", f"render node {nodes[0]} (VA-API may decode)")
    else:
        yield Check("GPU decode", "WARN", "no render node: video decodes in software", "fine for a few tiles")


def _disk(data_dir: Path) -> Iterator[Check]:
    probe = data_dir if data_dir.exists() else next((p for p in data_dir.parents if p.exists()), Path("/"))
    free = shutil.disk_usage(probe).free / 2**30
    if free < 1:
        yield Check(
            "disk", "FAIL", f"{free:.1f} GiB free at {probe}", "free space: the database and audit grow"
        )
    elif free < 5:
        yield Check("disk", "WARN", f"{free:.1f} GiB free at {probe}", "plan for audit growth (2 years)")
    else:
        yield Check("disk", "OK", f"{free:.0f} GiB free at {probe}")


def _engine(url: str | None, ca_file: Path | None) -> Iterator[Check]:
    if not url:
        yield Check("engine", "WARN", "no --engine given; not checked")
        return
    import httpx

    verify: Any = str(ca_file) if ca_file else True
    try:
        started = time.time()
        r = httpx.get(url.rstrip("/") + "/readyz", timeout=5, verify=verify)
        rtt = time.time() - started
    except httpx.HTTPError as exc:
        yield Check("engine", "FAIL", f"{url} not reachable ({type(exc).__name__})", "is the engine running?")
        return
    if r.status_code == 200:
        yield Check("engine", "OK", f"{url} ready")
    else:
        failing = (
            ", ".join(r.json().get("failing", []))
            if r.headers.get("content-type", "").startswith("application/json")
            else r.status_code
        )
        yield Check("engine", "FAIL", f"{url} not ready: {failing}")
    date = r.headers.get("date")
    if date:
        skew = abs(email.utils.parsedate_to_datetime(date).timestamp() - (started + rtt / 2))
        level: Level = "OK" if skew <= 2 else ("WARN" if skew <= 30 else "FAIL")
        yield Check("clock", level, f"{skew:.1f} s from the engine's clock", "synchronise both with NTP")
    parts = urlsplit(url)
    if parts.scheme == "https":
        yield from _certificate(parts.hostname or "", parts.port or 443, ca_file)


def _certificate(host: str, port: int, ca_file: Path | None) -> Iterator[Check]:
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    try:
        with (
            socket.create_connection((host, port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname=host) as tls,
        ):
            cert = tls.getpeercert()
    except (OSError, ssl.SSLError) as exc:
        yield Check("TLS", "FAIL", f"certificate not trusted: {exc}", "pass the site CA with --ca")
        return
    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(cert["notAfter"])), UTC)
    days = (not_after - datetime.now(UTC)).days
    level: Level = "OK" if days > 30 else ("WARN" if days > 0 else "FAIL")
    yield Check("TLS", level, f"certificate valid for {days} more days", "renew: goldentime certs init")


def _basemap(settings: Any) -> Iterator[Check]:
    source = getattr(settings, "basemap", None)
    if source is None:
        yield Check("basemap", "OK", "none configured: the map draws the city's own layers")
        return
    yield Check("basemap", "OK", f"configured: {type(source).__name__}")
