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


def run_checks(
    settings: Any, engine_url: str | None, ca_file: Path | None = None, console_dir: Path | None = None
) -> list[Check]:
    checks: list[Callable[[], Iterator[Check]]] = [
        lambda: _settings(settings),
        lambda: _database(settings),
        _video,
        _fonts,
        _gpu,
        lambda: _disk(settings.data_dir),
        lambda: _engine(engine_url, ca_file),
        lambda: _basemap(console_dir),
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


def _vlc_plugin_dirs() -> list[Path]:
    import glob
    import os

    dirs = [Path(p) for p in os.environ.get("VLC_PLUGIN_PATH", "").split(os.pathsep) if p]
    dirs += [Path(p) for p in [*sorted(glob.glob("/usr/lib/*/vlc/plugins")), "/usr/lib/vlc/plugins"]]
    return [d for d in dirs if d.is_dir()]


def _video() -> Iterator[Check]:
    """Each video backend and which stream kinds it opens (from the plugins actually installed)."""
    try:
        import vlc

        version = vlc.libvlc_get_version().decode()
    except Exception as exc:
        yield Check(
            "video: libVLC", "WARN", f"not usable ({type(exc).__name__})", "apt-get install vlc-plugin-base"
        )
    else:
        plugins = {p.name.split("_plugin")[0] for d in _vlc_plugin_dirs() for p in (d / "access").glob("*")}
        opens = [
            label
            for label, needs in (("http:// (relay MPEG-TS)", "libhttp"), ("https://", "libhttps"))
            if needs in plugins
        ]
        if "libhttp" in plugins and any(
            n.startswith("libadaptive")
            for d in _vlc_plugin_dirs()
            for n in (p.name for p in (d / "demux").glob("*"))
        ):
            opens.append("HLS")
        rtsp = "liblive555" in plugins
        detail = f"{version}; opens {', '.join(opens) or 'nothing over the network'}; " + (
            "rtsp:// too" if rtsp else "not rtsp:// (no live555 plugin: RTSP plays through Qt Multimedia)"
        )
        level: Level = "OK" if "libhttp" in plugins else "WARN"
        yield Check("video: libVLC", level, detail, "apt-get install vlc-plugin-base (its http access)")
    try:
        from PySide6.QtCore import QLibraryInfo

        plugin_dir = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "multimedia"
        backends = sorted(p.name for p in plugin_dir.glob("*ffmpeg*"))
    except Exception as exc:
        yield Check("video: Qt Multimedia", "WARN", f"not usable ({type(exc).__name__})")
    else:
        if backends:
            yield Check(
                "video: Qt Multimedia",
                "OK",
                "FFmpeg backend (inside the PySide6 wheel); opens rtsp://, http:// MPEG-TS, HLS",
            )
        else:
            yield Check(
                "video: Qt Multimedia",
                "WARN",
                f"no FFmpeg backend in {plugin_dir}",
                "reinstall PySide6 (its Addons wheel carries the backend)",
            )
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
    if ca_file is not None:
        yield from _ca(ca_file)
    if not url:
        yield Check("engine", "WARN", "no --engine given; not checked")
        return
    import httpx

    parts = urlsplit(url)
    try:
        verify: Any = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
    except (OSError, ssl.SSLError) as exc:
        yield Check("engine", "FAIL", f"cannot use {ca_file} as the CA: {exc}", "pass the site CA's PEM file")
        return
    try:
        started = time.time()
        r = httpx.get(url.rstrip("/") + "/readyz", timeout=5, verify=verify)
        rtt = time.time() - started
    except httpx.HTTPError as exc:
        yield Check("engine", "FAIL", f"{url} not reachable ({type(exc).__name__})", "is the engine running?")
        if parts.scheme == "https":
            yield from _certificate(parts.hostname or "", parts.port or 443, ca_file)  # why, if it is TLS
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
        offset = email.utils.parsedate_to_datetime(date).timestamp() - (started + rtt / 2)
        skew = abs(offset)
        level: Level = "OK" if skew <= 2 else ("WARN" if skew <= 30 else "FAIL")
        side = "ahead of" if offset > 0 else "behind"
        yield Check(
            "clock",
            level,
            f"{skew:.1f} s from the engine's clock (the engine is {side} this machine)",
            "synchronise both with NTP: shares and sessions expire by the clock",
        )
    else:
        yield Check("clock", "WARN", "the engine sent no Date header; skew not measured")
    if parts.scheme == "https":
        yield from _certificate(parts.hostname or "", parts.port or 443, ca_file)


def _ca(ca_file: Path) -> Iterator[Check]:
    """The site CA given with --ca: readable, a CA, not expired."""
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(ca_file.read_bytes())
    except (OSError, ValueError) as exc:
        yield Check(
            "TLS CA", "FAIL", f"{ca_file}: not a PEM certificate ({exc})", "pass the site CA's PEM file"
        )
        return
    ca = certs[0]
    try:
        is_ca = ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    days = (ca.not_valid_after_utc - datetime.now(UTC)).days
    name = ca.subject.rfc4514_string()
    if not is_ca:
        yield Check(
            "TLS CA", "FAIL", f"{ca_file}: {name} is not a CA certificate", "pass the CA, not the server's"
        )
    elif days < 0:
        yield Check(
            "TLS CA", "FAIL", f"{name} expired {-days} days ago", "make a new CA: goldentime certs init"
        )
    else:
        level: Level = "OK" if days > 90 else "WARN"
        yield Check("TLS CA", level, f"{name}, valid for {days} more days", "plan the CA's renewal")


def _certificate(host: str, port: int, ca_file: Path | None) -> Iterator[Check]:
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    try:
        with (
            socket.create_connection((host, port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname=host) as tls,
        ):
            cert = tls.getpeercert()
    except ssl.SSLCertVerificationError as exc:
        yield Check(
            "TLS", "FAIL", f"certificate not trusted: {exc.verify_message}", "pass the site CA with --ca"
        )
        return
    except (OSError, ssl.SSLError) as exc:
        yield Check("TLS", "FAIL", f"no TLS handshake with {host}:{port}: {exc}", "is it the engine's port?")
        return
    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(cert["notAfter"])), UTC)
    days = (not_after - datetime.now(UTC)).days
    level: Level = "OK" if days > 30 else ("WARN" if days > 0 else "FAIL")
    yield Check(
        "TLS",
        level,
        f"certificate for {host} trusted, valid for {days} more days",
        "renew: goldentime certs init",
    )


def _basemap(console_dir: Path | None) -> Iterator[Check]:
    """The console's basemaps (its settings on this machine): each file present, each server answering."""
    sources = _console_basemaps(console_dir)
    if not sources:
        yield Check("basemap", "OK", "none configured: the map draws the city's own layers")
        return
    for b in sources:
        yield _one_basemap(b)


def _console_basemaps(console_dir: Path | None) -> list[Any]:
    from app.console.map.basemaps import basemaps_from_json

    if console_dir is None:
        from platformdirs import user_config_dir

        console_dir = Path(user_config_dir("goldentime", appauthor=False)) / "console"
    ini = console_dir / "console.ini"
    if not ini.is_file():
        return []
    from PySide6.QtCore import QSettings

    raw = QSettings(str(ini), QSettings.Format.IniFormat).value("map/basemaps")
    sources, _problems = basemaps_from_json(raw)
    return list(sources)


def _one_basemap(b: Any) -> Check:
    name = f"basemap {b.name}"
    if not b.is_remote:
        path = Path(b.path)
        if not path.is_file():
            return Check(
                name, "WARN", f"{b.kind} file {path} missing", "copy the tile file onto this machine"
            )
        if b.kind == "mbtiles":
            import sqlite3

            try:
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                    row = db.execute("SELECT zoom_level, tile_column, tile_row FROM tiles LIMIT 1").fetchone()
            except sqlite3.Error as exc:
                return Check(name, "WARN", f"{path}: not a readable MBTiles file ({exc})")
            if row is None:
                return Check(name, "WARN", f"{path} holds no tiles")
        return Check(name, "OK", f"{b.kind} file {path} ({path.stat().st_size / 2**20:.0f} MiB)")
    import httpx

    url = _first_tile_url(b)
    shown = url.replace(b.key, "…") if b.key else url
    try:
        r = httpx.get(url, timeout=5, follow_redirects=True)
    except httpx.HTTPError as exc:
        return Check(
            name, "WARN", f"{shown} not reachable ({type(exc).__name__})", "firewall? proxy? the URL?"
        )
    kind = r.headers.get("content-type", "")
    if r.status_code == 200 and kind.startswith("image/"):
        return Check(name, "OK", f"{b.kind} server answers a tile ({kind}, {len(r.content)} bytes)")
    return Check(
        name, "WARN", f"{shown} answered {r.status_code} {kind or 'without a type'}", "check URL and key"
    )


def _first_tile_url(b: Any) -> str:
    """The world tile (z 0) of an xyz/wmts template, or a GetMap of the whole world for a WMS."""
    if b.kind == "wms":
        from urllib.parse import urlencode

        half = 20037508.342789244
        query = {
            "SERVICE": "WMS",
            "REQUEST": "GetMap",
            "VERSION": "1.1.1",
            "LAYERS": b.layers,
            "STYLES": "",
            "SRS": "EPSG:3857",
            "BBOX": f"{-half},{-half},{half},{half}",
            "WIDTH": "256",
            "HEIGHT": "256",
            "FORMAT": "image/png",
        }
        base = b.url.replace("{key}", b.key)
        return base + ("&" if "?" in base else "?") + urlencode(query)
    return (
        b.tile_url()
        .replace("{s}", "a")
        .replace("{z}", "0")
        .replace("{x}", "0")
        .replace("{y}", "0")
        .replace("{r}", "")
    )
