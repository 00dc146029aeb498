"""The wall display's composition root: ``python main.py wall --engine URL --wall WALL-1 [--screen N]``.

Start: Qt environment → language, theme and font → window, fullscreen on the chosen screen → link to the
engine (logs in, retrying for as long as it takes) → map page built off the Qt thread. Stop (SIGTERM,
SIGINT, or Ctrl+Shift+Q on the wall's keyboard): link and every task stopped → session ended → players
stopped and released → widgets deleted → libVLC released.

The map's basemaps are the console's list (``map/basemaps`` and the chosen ``map/basemap`` of a
``console.ini``: ``GOLDENTIME_WALL_SETTINGS``, else the console's own settings file on this PC), so a site
configures its basemaps once. ``GOLDENTIME_WALL_MAP_MBTILES`` (an offline MBTiles file) or
``GOLDENTIME_WALL_MAP_XYZ`` (a tile server URL template) still give one more; without any the map shows
cameras and the incident on a plain background, as the console's does.

``GOLDENTIME_WALL_STATUS=/path/status.json`` makes the wall write what it shows (layout, tiles, notice)
to that file whenever it changes: cheap diagnostics for a technician, and what the end-to-end tests read.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["STATUS_ENV", "WallDisplay", "WallOptions", "run_wall"]

_log = logging.getLogger(__name__)
STATUS_ENV = "GOLDENTIME_WALL_STATUS"
MBTILES_ENV = "GOLDENTIME_WALL_MAP_MBTILES"
XYZ_ENV = "GOLDENTIME_WALL_MAP_XYZ"
XYZ_ATTRIBUTION_ENV = "GOLDENTIME_WALL_MAP_ATTRIBUTION"
SETTINGS_ENV = "GOLDENTIME_WALL_SETTINGS"  # a console.ini whose basemap list the takeover map uses
CITY_ENV = (
    "GOLDENTIME_WALL_MAP_CITY"  # a directory with districts.geojson and streets.geojson (the demo city's)
)
DEFAULT_CENTER = (35.1800, 128.0800)  # Jinju city hall
STATUS_MIN_INTERVAL_MS = 250
T = TypeVar("T")


@dataclass
class WallOptions:
    """Everything a wall display needs. ``status_path``: see the module docstring."""

    engine_url: str
    wall_id: str
    # The wall key (python main.py walls add WALL-1), never an operator account; a callable is read again
    # whenever the engine refuses the key (a new key file is picked up without a restart).
    key: str | Callable[[], str]
    screen: int | None = None
    ca: str | None = None  # CA certificate of an https:// engine (a site's private CA)
    language: str | None = None
    video_backend: str = "auto"
    status_path: Path | None = None
    basemap: Any = None  # app.console.map.page.BasemapConfig; None: no basemap (offline-safe)
    center: tuple[float, float] = DEFAULT_CENTER
    fullscreen: bool = True
    city_dir: Path | None = None  # districts.geojson + streets.geojson drawn on the takeover map
    # The console's basemap list (app.console.map.basemaps.BasemapSource) and the one shown ("" = first).
    basemaps: list[Any] = field(default_factory=list)
    basemap_choice: str = ""


class WallDisplay:
    """One wall display. ``await start()`` → ``await wait_closed()`` → ``await stop()``, or ``await run()``."""

    def __init__(self, options: WallOptions, app: Any) -> None:
        from PySide6.QtCore import QTimer

        from app.console.i18n import Translations, apply_cjk_font, default_language
        from app.console.theme import apply_dark_theme
        from app.console.wall.link import WallLink
        from app.video.factory import BackendFactory

        self.options = options
        self.app = app
        self.translations = Translations(app)
        self.language = options.language or default_language()
        self.translations.switch(self.language)
        apply_dark_theme(app)
        apply_cjk_font(app)
        self.factory = BackendFactory(options.video_backend)
        self.link = WallLink(options.engine_url, options.wall_id, options.key, ca=options.ca)
        self.model = self.link.model
        self.window: Any = None
        self._closed: asyncio.Future[None] = asyncio.get_event_loop().create_future()
        # Its own small pool for file work (the map page, the status file): plain threads that stop() joins,
        # not the Qt loop's default executor, whose QThreads would outlive the loop.
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wall-io")
        self._page_dir: tempfile.TemporaryDirectory[str] | None = None
        self._status_text = ""
        self._status_writing = False
        self._status_timer = QTimer()
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(STATUS_MIN_INTERVAL_MS)
        self._status_timer.timeout.connect(self._write_status)

    # ------------------------------------------------------------------ lifetime

    async def run(self) -> int:
        await self.start()
        await self.wait_closed()
        await self.stop()
        return 0

    async def start(self) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QKeySequence, QShortcut

        from app.console.wall.window import WallWindow

        self.window = w = WallWindow(
            self.model, self.factory, self.link.stream_urls, self.link.camera_name, language=self.language
        )
        w.setWindowTitle(f"GoldenTime – {self.options.wall_id}")
        link = self.link
        link.wallChanged.connect(self._on_wall_changed)
        link.linkChanged.connect(w.render)
        link.mediaChanged.connect(w.refresh_media)
        link.camerasChanged.connect(self._on_details)
        link.incidentChanged.connect(self._on_details)
        w.statusChanged.connect(self._schedule_status)
        w.mediaSuspect.connect(link.renew_media)
        w.closing.connect(self._on_window_closing)
        quit_key = QShortcut(QKeySequence("Ctrl+Shift+Q"), w, context=Qt.ShortcutContext.WindowShortcut)
        quit_key.activated.connect(self.request_close)
        self._place(w)
        link.start()
        link.spawn(self._build_map_page(), name="wall-map-page")
        self._schedule_status()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)

    def request_close(self) -> None:
        if self.window is not None and self.window.isVisible():
            self.window.close()
        elif not self._closed.done():
            self._closed.set_result(None)

    async def stop(self) -> None:
        """Reverse order of start; safe to call twice."""
        self._status_timer.stop()
        await self.link.aclose()
        if self.window is not None:
            window, self.window = self.window, None
            window.close_players()
            window.hide()
            window.deleteLater()
            for _ in range(3):
                self.app.processEvents()
                await asyncio.sleep(0)
        self.factory.close()
        self._io.shutdown(wait=True, cancel_futures=True)
        if self._page_dir is not None:
            self._page_dir.cleanup()
            self._page_dir = None

    # ------------------------------------------------------------------ parts

    def _place(self, w: Any) -> None:
        """Fullscreen, frameless, on the chosen screen (the primary when it does not exist)."""
        from PySide6.QtGui import QGuiApplication

        screens = QGuiApplication.screens()
        screen = QGuiApplication.primaryScreen()
        n = self.options.screen
        if n is not None:
            if 0 <= n < len(screens):
                screen = screens[n]
            else:
                _log.warning(
                    "screen %d does not exist (%d screens); using the primary screen", n, len(screens)
                )
        if screen is not None:
            w.setScreen(screen)
            w.setGeometry(screen.geometry())
        if self.options.fullscreen:
            w.showFullScreen()
        else:
            w.show()

    async def _build_map_page(self) -> None:
        """The map page is written once, off the Qt thread; the map cell loads it when it is needed."""
        from app.console.map.page import BasemapConfig, build_map_page

        basemap = self.options.basemap or BasemapConfig.none()
        self._page_dir = tempfile.TemporaryDirectory(prefix="goldentime-wall-map-")
        try:
            districts, streets = await self._in_thread(_city_layers, self.options.city_dir)
            page = await self._in_thread(
                functools.partial(build_map_page, streets_geojson=streets),
                Path(self._page_dir.name),
                self.options.center,
                15,
                districts,
                [],
                basemap,
            )
        except (OSError, FileNotFoundError) as exc:
            _log.error("wall: cannot build the map page (%s); the map cell stays empty", exc)
            return
        if self.window is not None:
            self.window.set_map_page(
                page, basemap, (list(self.options.basemaps), self.options.basemap_choice)
            )

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._io, functools.partial(fn, *args))

    def _on_wall_changed(self) -> None:
        if self.window is not None:
            self.window.render()
            self._on_details()

    def _on_details(self) -> None:
        from app.console.wall.model import map_state

        if self.window is not None:
            self.window.refresh_names()
            self.window.set_map_state(map_state(self.model.view, self.link.cameras, self.link.incident))

    def _on_window_closing(self) -> None:
        if not self._closed.done():
            self._closed.set_result(None)

    # ------------------------------------------------------------------ status file

    def _schedule_status(self) -> None:
        if self.options.status_path is not None and not self._status_timer.isActive():
            self._status_timer.start()

    def _write_status(self) -> None:
        path = self.options.status_path
        if path is None or self.window is None:
            return
        text = json.dumps(self.window.status(), ensure_ascii=False, sort_keys=True)
        if text == self._status_text:
            return
        if self._status_writing:
            self._status_timer.start()  # one write at a time; try again shortly
            return
        self._status_text = text
        self._status_writing = True
        self.link.spawn(self._write_status_file(path, text), name="wall-status")

    async def _write_status_file(self, path: Path, text: str) -> None:
        try:
            await self._in_thread(_atomic_write, path, text)
        except OSError as exc:
            _log.warning("wall: cannot write the status file %s: %s", path, exc)
        finally:
            self._status_writing = False


def basemaps_from_settings(path: Path | None) -> tuple[list[Any], str]:
    """The console's basemap list and chosen basemap from a ``console.ini`` (the same keys the console's
    settings dialog writes); offline files that are not on this PC are left out (logged). ``([], "")``
    when there is no such file."""
    if path is None or not path.is_file():
        return [], ""
    from PySide6.QtCore import QSettings

    from app.console.viewmodels.console_settings import load_settings

    cs = load_settings(QSettings(str(path), QSettings.Format.IniFormat))
    present = []
    for b in cs.basemaps:
        if b.is_remote or Path(b.path).is_file():
            present.append(b)
        else:
            _log.warning("wall: basemap %s: file %s not found on this PC", b.name, b.path)
    return present, cs.basemap


def basemap_from_env(env: Mapping[str, str]) -> Any:
    """The map's base layer: an offline MBTiles file (``GOLDENTIME_WALL_MAP_MBTILES``), an XYZ tile server
    (``GOLDENTIME_WALL_MAP_XYZ``, with ``…_ATTRIBUTION``), else none (districts, cameras and incidents only)."""
    from app.console.map.page import BasemapConfig

    mbtiles, xyz = env.get(MBTILES_ENV), env.get(XYZ_ENV)
    try:
        if mbtiles and Path(mbtiles).is_file():
            return BasemapConfig.mbtiles(Path(mbtiles))
        if xyz:
            return BasemapConfig.xyz(xyz, env.get(XYZ_ATTRIBUTION_ENV, ""))
    except ValueError as exc:
        _log.warning("wall: ignoring the basemap setting: %s", exc)
    if mbtiles:
        _log.warning("wall: the MBTiles file %s does not exist; no basemap", mbtiles)
    return BasemapConfig.none()


def _city_layers(city_dir: Path | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The demo city's districts and streets for the takeover map (None for a file missing or unreadable)."""
    import json

    def read(name: str) -> dict[str, Any] | None:
        if city_dir is None:
            return None
        try:
            data = json.loads((city_dir / name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            _log.warning("wall: cannot read %s: %s", city_dir / name, exc)
            return None
        return data if isinstance(data, dict) else None

    return read("districts.geojson"), read("streets.geojson")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _log_uncaught(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    """An exception escaping a Qt slot is logged, never shown: the wall keeps running."""
    logging.getLogger("goldentime.wall").error("uncaught exception", exc_info=(exc_type, exc, tb))


def run_wall(
    engine_url: str,
    wall_id: str,
    *,
    screen: int | None,
    key: str | Callable[[], str],
    language: str | None,
    ca: str | None = None,
) -> int:
    """Run the wall display for ``wall_id`` against the engine at ``engine_url`` until stopped.

    Fullscreen and frameless on screen ``screen`` (index into the system's screens; None: the primary).
    Presents the wall key ``key`` (checked again by itself whenever the engine refuses it); keeps retrying
    while the engine is unreachable. ``ca``: the CA certificate of an ``https://`` engine. ``language`` is "ko" or "en" (default: the system's). Returns 0 after
    SIGTERM/SIGINT (or Ctrl+Shift+Q).
    """
    from app.console.bootstrap import prepare_qt_environment

    prepare_qt_environment()
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "goldentime-wall"])
    app.setApplicationName("GoldenTime wall")
    app.setOrganizationName("GoldenTime")
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    status = os.environ.get(STATUS_ENV)
    options = WallOptions(
        engine_url,
        wall_id,
        key,
        screen=screen,
        ca=ca,
        language=language,
        status_path=Path(status) if status else None,
        basemap=basemap_from_env(os.environ),
        city_dir=Path(os.environ[CITY_ENV]) if os.environ.get(CITY_ENV) else None,
    )
    from app.console.bootstrap import default_settings_dir

    ini = (
        Path(os.environ[SETTINGS_ENV])
        if os.environ.get(SETTINGS_ENV)
        else default_settings_dir() / "console.ini"
    )
    options.basemaps, options.basemap_choice = basemaps_from_settings(ini)
    display: WallDisplay | None = None

    async def main() -> int:
        nonlocal display
        display = WallDisplay(options, app)
        return await display.run()

    def on_signal(*_: Any) -> None:
        if display is not None:
            display.request_close()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    previous_hook, sys.excepthook = sys.excepthook, _log_uncaught
    ticker = QTimer()  # lets Python see the signals while Qt waits
    ticker.start(300)
    ticker.timeout.connect(lambda: None)
    try:
        with loop:
            return int(loop.run_until_complete(main()))
    finally:
        ticker.stop()
        sys.excepthook = previous_hook
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        with contextlib.suppress(Exception):
            asyncio.set_event_loop(None)
