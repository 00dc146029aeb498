"""Offline basemap tiles: the ``mbtiles:`` URL scheme, answered from an MBTiles (SQLite) or PMTiles file.

:func:`register_map_url_schemes` MUST run before the ``QApplication`` exists (QtWebEngine reads the
scheme list when it starts); the console's bootstrap calls it first thing, the tests at import time.
Tile URLs look like ``mbtiles://basemap/{z}/{x}/{y}`` (see :data:`app.console.map.page.MBTILES_URL_TEMPLATE`);
the host picks the file, so one handler can serve several.
"""

from __future__ import annotations

import gzip
import logging
import mmap
import sqlite3
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QIODevice, QObject
from PySide6.QtWebEngineCore import (
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)

from app.console.map.page import MBTILES_SCHEME

log = logging.getLogger(__name__)

SCHEME = MBTILES_SCHEME.encode("ascii")
#: Parsed PMTiles directories kept per file (the root and the leaves read most recently).
DIRECTORY_CACHE = 64


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


class PmtilesError(Exception):
    """The file is not a PMTiles v3 archive this reader can use."""


class PmtilesSource:
    """Read-only access to one PMTiles v3 archive (raster tiles), through the ``pmtiles`` package's
    directory code. The file is memory-mapped; each tile is one or two small directory reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: object | None = None
        self._map: mmap.mmap | None = None
        self._header: dict[str, int] | None = None
        self._dirs: dict[tuple[int, int], list[Any]] = {}  # parsed directories, oldest first

    def _open(self) -> tuple[mmap.mmap, dict[str, int]]:
        if self._map is None or self._header is None:
            from pmtiles.tile import Compression, deserialize_header

            f = self.path.open("rb")
            try:
                mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError as exc:  # an empty file
                f.close()
                raise PmtilesError(f"{self.path} is empty") from exc
            if mapped[:7] != b"PMTiles" or mapped[7] != 3:
                mapped.close()
                f.close()
                raise PmtilesError(f"{self.path} is not a PMTiles v3 archive")
            header = dict(deserialize_header(mapped[:127]))
            if header["internal_compression"] != Compression.GZIP:
                mapped.close()
                f.close()
                raise PmtilesError(f"{self.path}: only gzip-compressed directories are supported")
            self._file, self._map = f, mapped
            self._header = {
                k: (v.value if hasattr(v, "value") else v)  # enums to ints
                for k, v in header.items()
                if isinstance(v, int) or hasattr(v, "value")
            }
        return self._map, self._header

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ ``z/x/y`` (PMTiles rows are XYZ rows), or None when absent."""
        if z < 0 or z > 26 or not (0 <= x < (1 << z)) or not (0 <= y < (1 << z)):
            return None
        from pmtiles.tile import Compression, deserialize_directory, find_tile, zxy_to_tileid

        mapped, h = self._open()
        tile_id = zxy_to_tileid(z, x, y)
        offset, length = h["root_offset"], h["root_length"]
        for _depth in range(4):
            directory = self._dirs.get((offset, length))
            if directory is None:  # parsed once: gunzipping and decoding a directory costs milliseconds
                directory = deserialize_directory(mapped[offset : offset + length])
                if len(self._dirs) >= DIRECTORY_CACHE:
                    self._dirs.pop(next(iter(self._dirs)))
                self._dirs[(offset, length)] = directory
            entry = find_tile(directory, tile_id)
            if entry is None:
                return None
            if entry.run_length == 0:  # a leaf directory
                offset, length = h["leaf_directory_offset"] + entry.offset, entry.length
                continue
            start = h["tile_data_offset"] + entry.offset
            data = bytes(mapped[start : start + entry.length])
            if h["tile_compression"] == Compression.GZIP.value:
                data = gzip.decompress(data)
            return data
        return None

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._file is not None:
            self._file.close()  # type: ignore[attr-defined]
            self._file = None
        self._header = None
        self._dirs.clear()


class TileFile(Protocol):
    def tile(self, z: int, x: int, y: int) -> bytes | None: ...

    def close(self) -> None: ...


def open_tile_file(path: Path, kind: str | None = None) -> TileFile:
    """An MBTiles or PMTiles reader for ``path`` (by ``kind``, else by the file's first bytes)."""
    if kind is None:
        try:
            with path.open("rb") as f:
                kind = "pmtiles" if f.read(7) == b"PMTiles" else "mbtiles"
        except OSError:
            kind = "mbtiles"
    return PmtilesSource(path) if kind == "pmtiles" else MbtilesSource(path)


class MbtilesSchemeHandler(QWebEngineUrlSchemeHandler):
    """Answers ``mbtiles://<host>/{z}/{x}/{y}`` from the file registered for ``<host>``.

    Each request is a single indexed SQLite read or one or two memory-mapped PMTiles directory reads
    (well under a millisecond), done on the Qt thread.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sources: dict[str, TileFile] = {}
        self.served = 0
        self.missing = 0

    def add_source(self, host: str, path: Path, kind: str | None = None) -> None:
        """Serve ``path`` (MBTiles, or PMTiles by ``kind`` or content) under ``host``."""
        old = self._sources.pop(host.lower(), None)
        if old is not None:
            old.close()
        self._sources[host.lower()] = open_tile_file(path, kind)

    def remove_sources(self, keep: set[str]) -> None:
        """Close and forget every host not in ``keep``."""
        for host in [h for h in self._sources if h not in keep]:
            self._sources.pop(host).close()

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
        except (sqlite3.Error, OSError, PmtilesError, EOFError) as exc:
            log.warning("tile file read failed for %s: %s", url.toString(), exc)
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
