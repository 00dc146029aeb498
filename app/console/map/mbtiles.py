"""Offline basemap tiles: the ``mbtiles:`` URL scheme, answered from an MBTiles (SQLite) file.

:func:`register_map_url_schemes` MUST run before the ``QApplication`` exists (QtWebEngine reads the
scheme list when it starts); the console's bootstrap calls it first thing, the tests at import time.
Tile URLs look like ``mbtiles://basemap/{z}/{x}/{y}`` (see :data:`app.console.map.page.MBTILES_URL_TEMPLATE`);
the host picks the file, so one handler can serve several.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QIODevice, QObject
from PySide6.QtWebEngineCore import (
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)

from app.console.map.page import MBTILES_SCHEME

log = logging.getLogger(__name__)

SCHEME = MBTILES_SCHEME.encode("ascii")


def register_map_url_schemes() -> None:
    """Register the ``mbtiles`` scheme with QtWebEngine; idempotent.

    Raises ``RuntimeError`` when called after the ``QApplication`` was created (too late: QtWebEngine
    would only print a warning and ignore the scheme).
    """
    if QWebEngineUrlScheme.schemeByName(SCHEME).name() == SCHEME:
        return
    if QCoreApplication.instance() is not None:
        raise RuntimeError("register_map_url_schemes() must run before the QApplication is created")
    scheme = QWebEngineUrlScheme(SCHEME)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    # Local: a file:// page may load it without LocalContentCanAccessRemoteUrls; no other page may.
    scheme.setFlags(QWebEngineUrlScheme.Flag.LocalScheme | QWebEngineUrlScheme.Flag.LocalAccessAllowed)
    QWebEngineUrlScheme.registerScheme(scheme)


def _mime_for(data: bytes) -> bytes | None:
    if data.startswith(b"\x89PNG"):
        return b"image/png"
    if data.startswith(b"\xff\xd8"):
        return b"image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return b"image/webp"
    return None  # vector (pbf) or unknown: Leaflet raster layers cannot use it


class MbtilesSource:
    """Read-only access to one MBTiles file (TMS rows: the y of an XYZ URL is flipped)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._con is None:
            self._con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        return self._con

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ ``z/x/y``, or None when absent."""
        if z < 0 or z > 30 or not (0 <= x < (1 << z)) or not (0 <= y < (1 << z)):
            return None
        row = (
            self._connection()
            .execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, (1 << z) - 1 - y),
            )
            .fetchone()
        )
        return bytes(row[0]) if row else None

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


class MbtilesSchemeHandler(QWebEngineUrlSchemeHandler):
    """Answers ``mbtiles://<host>/{z}/{x}/{y}`` from the file registered for ``<host>``.

    Each request is a single indexed SQLite read (well under a millisecond), done on the Qt thread.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sources: dict[str, MbtilesSource] = {}
        self.served = 0
        self.missing = 0

    def add_source(self, host: str, path: Path) -> None:
        old = self._sources.pop(host.lower(), None)
        if old is not None:
            old.close()
        self._sources[host.lower()] = MbtilesSource(path)

    def close(self) -> None:
        for src in self._sources.values():
            src.close()
        self._sources.clear()

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        url = job.requestUrl()
        if job.requestMethod() != QByteArray(b"GET"):
            job.fail(QWebEngineUrlRequestJob.Error.RequestDenied)
            return
        src = self._sources.get(url.host().lower())
        parts = url.path().strip("/").split("/")
        if src is None or len(parts) != 3:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        try:
            z, x, y = (int(p.split(".", 1)[0]) for p in parts)
            data = src.tile(z, x, y)
        except ValueError:
            job.fail(QWebEngineUrlRequestJob.Error.UrlInvalid)
            return
        except sqlite3.Error as exc:
            log.warning("MBTiles read failed for %s: %s", url.toString(), exc)
            job.fail(QWebEngineUrlRequestJob.Error.RequestFailed)
            return
        mime = _mime_for(data) if data else None
        if data is None or mime is None:
            self.missing += 1
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        buf = QBuffer(job)  # deleted with the job
        buf.setData(QByteArray(data))
        buf.open(QIODevice.OpenModeFlag.ReadOnly)
        job.reply(mime, buf)
        self.served += 1
