"""The console's composition root (DESIGN §3): builds every part, starts them in order, stops them in reverse.

Start: settings → language and font → engine client → login → window (map, wall, queue, detail, cameras,
health) → live feed (its first connection loads everything). Stop: window state saved → live feed and
every task cancelled → session ended → players stopped and released → widgets deleted → libVLC released.

``run_console(engine_url, …)`` is what ``main.py console`` and ``main.py demo`` call; tests and tools
drive :class:`Console` directly on their own qasync loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

__all__ = ["Console", "ConsoleOptions", "run_console"]

_log = logging.getLogger(__name__)
DEFAULT_CENTER = (35.1800, 128.0800)  # Jinju city hall
MAP_BATCH_MS = 400
MAP_BATCH_MAX = 25
MAP_BATCH_NEXT_MS = 30


@dataclass
class ConsoleOptions:
    """Everything a console needs to start.

    ``media_url_template`` plays cameras without the engine's relay: a string with ``{base_url}``,
    ``{camera_id}`` and ``{stream}`` placeholders (direct RTSP, a VMS gateway), or a callable
    ``(camera_id, stream) -> url`` (tools, tests). ``districts_geojson`` draws district outlines on the map.
    """

    engine_url: str
    username: str | None = None
    password: str | None = None
    ca: str | None = None  # CA certificate of an https:// engine (a site's private CA)
    language: str | None = None
    settings_dir: Path | None = None
    video_backend: str = "auto"
    media_url_template: str | Callable[[str, str], str] | None = None
    districts_geojson: Path | None = None
    center: tuple[float, float] = DEFAULT_CENTER
    zoom: int = 15
    sound: bool = True
    freeze_gc: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def default_settings_dir() -> Path:
    return Path(user_config_dir("goldentime", appauthor=False)) / "console"


def prepare_qt_environment() -> None:
    """Before the QApplication: QtWebEngine as root needs its sandbox off; import QtWebEngineWidgets and
    register the map's URL scheme (both must precede the QApplication)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    from PySide6 import QtWebEngineWidgets  # noqa: F401

    from app.console.map.mbtiles import register_map_url_schemes

    register_map_url_schemes()


class Console:
    """One operator console. ``await start()`` → ``await wait_closed()`` → ``await stop()``, or ``await run()``."""

    def __init__(self, options: ConsoleOptions, app: Any) -> None:
        from PySide6.QtCore import QSettings

        from app.client import EngineClient
        from app.console.controller import ConsoleController
        from app.console.cue import EmergencyCue
        from app.console.i18n import LANGUAGES, Translations, apply_cjk_font, default_language
        from app.console.theme import apply_dark_theme
        from app.video.factory import BackendFactory

        self.options = options
        self.app = app
        self.settings_dir = options.settings_dir or default_settings_dir()
        self.settings_dir.mkdir(parents=True, exist_ok=True)
        self.settings = QSettings(str(self.settings_dir / "console.ini"), QSettings.Format.IniFormat)
        from app.console.viewmodels.console_settings import load_settings

        self.console_settings = load_settings(self.settings)
        for problem in self.console_settings.problems:
            _log.warning("console settings: %s", problem)
        self.translations = Translations(app)
        saved = self.settings.value("language")
        language = options.language or (saved if saved in LANGUAGES else None) or default_language()
        self.translations.switch(language)
        apply_dark_theme(app)
        apply_cjk_font(app)
        self.client = EngineClient(options.engine_url, verify=options.ca or True)
        self.wall_control: Any = None
        self.audit_panel: Any = None
        self.provision_panel: Any = None
        self.evidence: Any = None
        self.controller = ConsoleController(self.client, media_url_template=options.media_url_template)
        self.factory = BackendFactory(options.video_backend)
        self.cue = EmergencyCue(self.settings_dir / "cache", enabled=options.sound)
        self.window: Any = None
        self.map: Any = None
        self.queue_panel: Any = None
        self.detail_panel: Any = None
        self.wall: Any = None
        self.camera_panel: Any = None
        self.health_panel: Any = None
        self.login_dialog: Any = None
        self.settings_dialog: Any = None
        self.history_panel: Any = None
        self.last_error = ""
        self._closed: asyncio.Future[None] = asyncio.get_event_loop().create_future()
        self._flown = False
        self._auto_video_for: str | None = None  # the incident whose cameras were last put on the wall
        self._page_dir: tempfile.TemporaryDirectory[str] | None = None
        self._login_error = ""
        self.controller.loginFailed.connect(self._on_login_failed)
        # Incident markers go to the map in batches (a burst of events moves each marker once).
        from PySide6.QtCore import QTimer

        self._map_pending: dict[str, dict[str, Any] | None] = {}
        self._map_timer = QTimer()
        self._map_timer.setSingleShot(True)
        self._map_timer.setInterval(MAP_BATCH_MS)
        self._map_timer.timeout.connect(self._flush_map)

    # ------------------------------------------------------------------ lifetime

    async def run(self) -> int:
        if not await self.start():
            await self.stop()
            return 1
        await self.wait_closed()
        await self.stop()
        return 0

    async def start(self) -> bool:
        """Log in (automatically with the given credentials, else with the dialog) and show the window."""
        if not await self._login():
            return False
        self._build_window()
        if self.options.freeze_gc:
            # Everything built so far (Qt wrappers, schemas, modules) lives as long as the console: keep it
            # out of the cyclic collector, whose full passes over it stalled the event loop for 250 ms.
            import gc

            gc.collect()
            gc.freeze()
        return True

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)

    def request_close(self) -> None:
        if self.window is not None:
            self.window.close()
        elif not self._closed.done():
            self._closed.set_result(None)

    async def stop(self) -> None:
        """Reverse order of start; safe to call twice."""
        if self.login_dialog is not None:
            self.login_dialog.deleteLater()
            self.login_dialog = None
        self._map_timer.stop()
        if self.wall_control is not None:
            await self.wall_control.control.aclose()
            self.wall_control = None
        await self.controller.aclose()
        if self.window is not None:
            window, self.window = self.window, None
            if window.isVisible():
                window.save()
            for panel in (self.queue_panel, self.detail_panel):
                panel.stop()
            self.wall.close_players()
            window.hide()
            window.deleteLater()
            # Let the deferred deletes run (players first: they were released above).
            for _ in range(3):
                self.app.processEvents()
                await asyncio.sleep(0)
        self.factory.close()
        self.translations.uninstall()
        if self._page_dir is not None:
            self._page_dir.cleanup()
            self._page_dir = None
        self.settings.sync()

    # ------------------------------------------------------------------ login

    def _on_login_failed(self, message: str) -> None:
        self._login_error = message

    async def _login(self) -> bool:
        o = self.options
        if o.username and o.password and await self.controller.login(o.username, o.password):
            return True
        return await self._ask_login(
            o.username or str(self.settings.value("last_user") or ""), self._login_error
        )

    async def _ask_login(self, username: str, error: str) -> bool:
        """The login dialog, until a login succeeds (True) or the operator cancels (False)."""
        from app.console.widgets.dialogs import LoginDialog

        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        dlg = LoginDialog(self.client.base_url, username, self.window)
        self.login_dialog = dlg
        if error:
            dlg.show_error(error)

        async def attempt(user: str, password: str) -> None:
            if await self.controller.login(user, password):
                self.settings.setValue("last_user", user)
                if not done.done():
                    done.set_result(True)
                dlg.accept()
            else:
                dlg.show_error(self._login_error)

        dlg.loginRequested.connect(lambda u, p: self.controller.spawn(attempt(u, p), name="login"))
        dlg.rejected.connect(lambda: done.done() or done.set_result(False))
        dlg.open()
        try:
            ok = await done
        finally:
            self.login_dialog = None
            dlg.deleteLater()
        return ok

    def _on_connection(self, state: str, reason: str) -> None:
        """A refused session (expired, or ended elsewhere): ask the operator to log in again."""
        if state == "unauthorized" and self.window is not None and self.login_dialog is None:
            from PySide6.QtCore import QCoreApplication

            message = QCoreApplication.translate(
                "Console", "Your session has ended ({reason}). Log in again."
            ).format(reason=reason)
            self.controller.spawn(self._relogin(message), name="relogin")

    async def _relogin(self, message: str) -> None:
        if not await self._ask_login(self.controller.username, message) and self.window is not None:
            self.window.close()

    # ------------------------------------------------------------------ window

    def _build_window(self) -> None:
        from app.console.map.page import BasemapConfig, build_map_page
        from app.console.map.widget import MapView
        from app.console.viewmodels.wall import WallLayoutVM
        from app.console.widgets.camera_panel import CameraPanel
        from app.console.widgets.detail_panel import DetailPanel
        from app.console.widgets.health_panel import HealthPanel
        from app.console.widgets.main_window import MainWindow
        from app.console.widgets.queue_panel import QueuePanel
        from app.console.widgets.wall_panel import WallPanel

        c = self.controller
        # Basemaps come from the settings' list (Settings → Map), picked in the map's layer control.
        basemap = BasemapConfig.none()
        self._page_dir = tempfile.TemporaryDirectory(prefix="goldentime-map-")
        page = build_map_page(
            Path(self._page_dir.name),
            self.options.center,
            self.options.zoom,
            self._districts(),
            [],
            basemap,
            streets_geojson=self._geojson(self._streets_path()),
        )
        self.map = MapView(page, basemap)
        self.queue_panel = QueuePanel(c.queue)
        self._apply_settings()
        self.detail_panel = DetailPanel(c.detail, c.username)
        wall_vm = WallLayoutVM.from_dict(_json_setting(self.settings.value("wall/layout")))
        self.wall = WallPanel(wall_vm, self.factory, c.stream_urls, self._camera_name)
        self.camera_panel = CameraPanel(c.health)
        self.health_panel = HealthPanel(c.health)
        panels = {
            "queue": self.queue_panel,
            "detail": self.detail_panel,
            "map": self.map,
            "wall": self.wall,
            "cameras": self.camera_panel,
            "health": self.health_panel,
        }
        self.window = w = MainWindow(self.settings, panels)
        w.set_user(c.username)
        w.set_language(self.translations.language)
        w.set_connection(str(c.feed.state), "")

        # controller → widgets
        c.queueChanged.connect(self.queue_panel.on_queue_changed)
        c.newEmergency.connect(self._on_new_emergency)
        c.detailChanged.connect(self._on_detail_changed)
        c.healthChanged.connect(self.health_panel.refresh)
        c.camerasLoaded.connect(self._on_cameras_loaded)
        c.cameraStateChanged.connect(self._on_camera_state)
        c.incidentOnMap.connect(self._map_upsert)
        c.incidentOffMap.connect(self._map_remove)
        c.mediaChanged.connect(self.wall.refresh_media)
        c.actionFailed.connect(self._on_action_failed)
        c.actionDone.connect(lambda msg: w.statusBar().showMessage(msg, 6000))
        c.connectionChanged.connect(w.set_connection)
        c.connectionChanged.connect(self._on_connection)
        # widgets → controller
        self.queue_panel.incidentSelected.connect(self._on_incident_selected)
        self.queue_panel.incidentActivated.connect(lambda _id: w.focus_dock("detail"))
        self.map.incidentClicked.connect(self._on_map_incident)
        self.map.cameraClicked.connect(self.camera_panel.select)
        self.map.basemapChosen.connect(lambda name: self.settings.setValue("map/basemap", name))
        self.map.areaDrawn.connect(self._on_area_drawn)
        self.queue_panel.jumpRequested.connect(self.jump_to_emergency)
        d = self.detail_panel
        d.acknowledgeRequested.connect(c.acknowledge)
        d.assignRequested.connect(c.assign)
        d.priorityRequested.connect(c.set_priority)
        d.closeRequested.connect(c.close_incident)
        d.shareRequested.connect(c.share)
        d.extendShareRequested.connect(c.extend_share)
        d.revokeShareRequested.connect(c.revoke_share)
        d.reportRequested.connect(c.report_to_119)
        d.retryRequested.connect(c.retry_delivery)
        d.camerasToWall.connect(self.wall.put_cameras)
        d.cameraActivated.connect(self.wall.add_camera)
        d.sendToWallDisplay.connect(c.send_to_wall_display)
        self.camera_panel.cameraActivated.connect(self.wall.add_camera)
        self.health_panel.cameraActivated.connect(self._show_camera_on_map)
        self.wall.tileStatusChanged.connect(self._on_tile_status)
        self.wall.layoutChanged.connect(self._save_wall)
        w.languageRequested.connect(self.set_language)
        w.reloadRequested.connect(c.reload)
        w.banner.retryRequested.connect(c.reconnect_now)
        w.closing.connect(self._on_window_closing)

        from PySide6.QtCore import Qt
        from PySide6.QtGui import QKeySequence, QShortcut

        find = QShortcut(QKeySequence.StandardKey.Find, w)
        find.activated.connect(lambda: w.focus_dock("cameras"))
        # One key to the newest urgent incident (the banner's "Jump" button does the same).
        self._jump_shortcut = QShortcut(QKeySequence(self.console_settings.jump_key), w)
        self._jump_shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self._jump_shortcut.activated.connect(self.jump_to_emergency)
        from app.console.widgets.settings_dialog import install_settings_menu

        install_settings_menu(w, self.open_settings)
        # The wall control panel docks before the window restores its saved arrangement.
        from app.console.wall.panel import install_wall_control
        from app.console.widgets.audit_panel import install_audit_panel

        self.wall_control = install_wall_control(w, c, self.settings)
        # Supervisors and administrators also get the audit trail (an operator's session may not read it).
        self.audit_panel = install_audit_panel(w, c)
        from app.console.widgets.provision_panel import install_provision_panel

        # Approvals (supervisors), over-cap confirmations (operators), the provision ledger (supervisors, auditors).
        self.provision_panel = install_provision_panel(w, c)
        from app.console.widgets.history_panel import install_history_panel

        # Closed incidents, searched (read-only; the engine audits every search).
        self.history_panel = install_history_panel(w, c, self._map_centre)
        from app.console.widgets.evidence import install_evidence

        # The incident's signed evidence bundle (supervisors: detail and ledger; auditors: ledger).
        self.evidence = install_evidence(w, c, self.detail_panel, self.provision_panel)
        w.restore()
        w.show()
        self.queue_panel.table.setFocus()
        c.spawn(self._load_engine_districts(), name="districts")

    # ------------------------------------------------------------------ settings

    def _apply_settings(self) -> None:
        """Put the console settings into effect (at start and after the settings dialog)."""
        cs = self.console_settings
        missing = [b for b in cs.basemaps if not b.is_remote and not Path(b.path).is_file()]
        for b in missing:
            _log.warning("basemap %s: file %s not found", b.name, b.path)
        self.map.set_basemaps([b for b in cs.basemaps if b not in missing], cs.basemap or None)
        self.controller.queue.golden_overrides = dict(cs.golden_s)
        self.controller.detail.golden_overrides = dict(cs.golden_s)
        if self.queue_panel is not None:
            self.queue_panel.jump_key = cs.jump_key
            self.queue_panel.on_queue_changed()

    def open_settings(self) -> None:
        """Settings → Console settings…: basemaps, incident video, golden times, the jump key."""
        from PySide6.QtCore import Qt

        from app.console.widgets.settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.console_settings, self.window)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.saved.connect(self._on_settings_saved)
        self.settings_dialog = dlg
        dlg.open()

    def _on_settings_saved(self, new: Any) -> None:
        from PySide6.QtGui import QKeySequence

        from app.console.viewmodels.console_settings import save_settings

        save_settings(self.settings, new)
        self.settings.sync()
        self.console_settings = new
        self._apply_settings()
        self._jump_shortcut.setKey(QKeySequence(new.jump_key))
        self._auto_video_for = None if new.video_auto == "never" else self._auto_video_for

    def jump_to_emergency(self) -> None:
        """The jump key: select the newest urgent incident still new, open its detail, bring its video."""
        inc = self.controller.queue.newest_emergency()
        if inc is None or self.window is None:
            return
        self.queue_panel.hide_emergency()
        self.queue_panel.set_service_filter(None)
        self.queue_panel.select(inc.id)
        self.window.focus_dock("detail")

    def _districts(self) -> dict[str, Any] | None:
        return self._geojson(self.options.districts_geojson)

    def _streets_path(self) -> Path | None:
        """The demo city's streets (``streets.geojson`` beside its districts file), drawn as the basemap."""
        districts = self.options.districts_geojson
        if districts is None:
            return None
        streets = Path(districts).with_name("streets.geojson")
        return streets if streets.is_file() else None

    @staticmethod
    def _geojson(path: Path | None) -> dict[str, Any] | None:
        import json

        if path is None:
            return None
        try:
            data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            _log.warning("cannot read the map file %s: %s", path, exc)
            return None
        return data if isinstance(data, dict) else None

    async def _load_engine_districts(self) -> None:
        """The engine's districts (``GET /api/v1/districts``), when it has any, replace the file's."""
        from app.client import EngineError
        from app.console.viewmodels.map_overlays import districts_geojson

        try:
            districts = await self.client.districts(geometry=True)
        except EngineError as exc:
            _log.warning("districts not loaded from the engine: %s", exc)
            return
        fc = districts_geojson(districts)
        if fc["features"] and self.map is not None:
            self.map.set_districts(fc)

    def _camera_name(self, camera_id: str) -> str:
        cam = self.controller.camera(camera_id)
        return cam.name if cam else camera_id

    # ------------------------------------------------------------------ reactions

    def set_language(self, language: str) -> None:
        """Switch Korean/English at runtime (every widget retranslates on LanguageChange)."""
        self.translations.switch(language)
        self.settings.setValue("language", language)
        if self.window is not None:
            self.window.set_language(language)
            self.map.set_labels(self.map.default_labels())

    def _map_upsert(self, payload: dict[str, Any]) -> None:
        self._map_pending[str(payload["id"])] = payload
        if not self._map_timer.isActive():
            self._map_timer.start(MAP_BATCH_MS)

    def _map_remove(self, incident_id: str) -> None:
        self._map_pending[incident_id] = None
        if not self._map_timer.isActive():
            self._map_timer.start(MAP_BATCH_MS)

    def _flush_map(self) -> None:
        """Send at most ``MAP_BATCH_MAX`` markers per turn so a burst never holds the Qt thread long."""
        if self.map is None:
            self._map_pending.clear()
            return
        ids = list(self._map_pending)[:MAP_BATCH_MAX]
        batch = {i: self._map_pending.pop(i) for i in ids}
        if self._map_pending:
            self._map_timer.start(MAP_BATCH_NEXT_MS)
        else:
            self._map_timer.setInterval(MAP_BATCH_MS)
        for incident_id, payload in batch.items():
            if payload is None:
                self.map.remove_incident(incident_id)
            else:
                self.map.upsert_incident(payload)

    def _on_new_emergency(self, incident_id: str) -> None:
        inc = self.controller.queue.get(incident_id)
        self.queue_panel.show_emergency(inc.title if inc else incident_id)
        self.cue.play()
        if self.window is not None:
            self.app.alert(self.window, 0)

    def _on_detail_changed(self) -> None:
        self.detail_panel.refresh()
        self.map.select_cameras(self.controller.detail.camera_ids())
        self._draw_incident_overlays()
        self._bring_incident_video()

    def _draw_incident_overlays(self) -> None:
        """The selected incident's areas (every CAP area), track with times, facilities and units."""
        from app.console.map.markers import incident_map_payload
        from app.console.viewmodels.map_overlays import incident_overlays

        detail = self.controller.detail.detail
        if detail is None:
            self.map.set_facilities([])
            self.map.set_units([])
            return
        extra = incident_overlays(detail)
        if detail.status.value != "closed":
            self.map.upsert_incident(
                {**incident_map_payload(detail), "areas": extra["areas"], "track": extra["track"]}
            )
        self.map.set_facilities(extra["facilities"])
        self.map.set_units(extra["units"])

    async def _map_centre(self) -> tuple[float, float] | None:
        """The map's centre (lat, lon), asked of the page without blocking (None when it is not ready)."""
        import asyncio

        got: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.map.snapshot(lambda snap: got.done() or got.set_result(snap))
        try:
            snap = await asyncio.wait_for(got, timeout=5)
            lat, lon = snap["center"]
            return float(lat), float(lon)
        except (TimeoutError, KeyError, TypeError, ValueError):
            return None

    def _on_area_drawn(self, area: dict[str, Any]) -> None:
        """Draw an area, and its cameras go on the video wall (nearest its centre first)."""
        from PySide6.QtCore import QCoreApplication

        from app.console.viewmodels.map_overlays import cameras_in_area

        ids = cameras_in_area(area, self.controller.health.cameras())
        self.map.select_cameras(ids)
        # The operator's choice in the Video walls panel: one of the engine's walls, or this console's wall.
        target = self.wall_control.area_target if self.wall_control is not None else None
        if target is not None:
            if ids:
                self.wall_control.send_area(target, ids)  # its answer goes to the status bar
            elif self.window is not None:
                self.window.statusBar().showMessage(
                    QCoreApplication.translate("Console", "No camera in the drawn area."), 8000
                )
            return
        if ids:
            self.wall.put_cameras(ids)
        if self.window is not None:
            n = len(ids)
            text = QCoreApplication.translate("Console", "%n camera(s) of the drawn area on the wall.", "", n)
            self.window.statusBar().showMessage(text, 8000)

    def _bring_incident_video(self) -> None:
        """Incidents bring their video: the first time an incident's detail arrives, its cameras go on the
        video wall (covering the point first, then nearest), as the ``video/auto`` setting allows."""
        from app.console.viewmodels.auto_video import cameras_for_wall

        detail = self.controller.detail.detail
        if detail is None or detail.id == self._auto_video_for:
            return
        self._auto_video_for = detail.id
        ids = cameras_for_wall(
            self.console_settings.video_auto,
            detail.priority,
            detail.location.lat,
            detail.location.lon,
            detail.cameras,
        )
        if ids:
            self.wall.put_cameras(ids)

    def _on_cameras_loaded(self) -> None:
        h = self.controller.health
        cams = h.cameras()
        self.map.set_cameras(
            {
                "id": cam.id,
                "name": cam.name,
                "lat": cam.lat,
                "lon": cam.lon,
                "purpose": str(cam.purpose),
                "state": "offline" if h.is_offline(cam.id) else "online",
                "direction_deg": cam.direction_deg,
                "fov_deg": cam.fov_deg,
                "approximate": cam.approximate,
            }
            for cam in cams
        )
        self.camera_panel.refresh()
        self.health_panel.refresh()
        if cams and not self._flown:
            self._flown = True
            lat = sum(c.lat for c in cams) / len(cams)
            lon = sum(c.lon for c in cams) / len(cams)
            self.map.fly_to(lat, lon, self.options.zoom)
        self.wall.apply()

    def _on_incident_selected(self, incident_id: str) -> None:
        self.controller.select_incident(incident_id)
        inc = self.controller.queue.get(incident_id)
        if inc is not None:
            self.map.fly_to(inc.location.lat, inc.location.lon, None)

    def _on_map_incident(self, incident_id: str) -> None:
        if self.controller.queue.get(incident_id) is not None:
            self.queue_panel.select(incident_id)
        else:
            self.controller.select_incident(incident_id)

    def _show_camera_on_map(self, camera_id: str) -> None:
        cam = self.controller.camera(camera_id)
        if cam is not None:
            self.map.select_cameras([camera_id])
            self.map.fly_to(cam.lat, cam.lon, 17)

    def _on_camera_state(self, camera_id: str, _online: bool) -> None:
        # Offline if the engine or one of this console's tiles says so.
        self.map.set_camera_state(
            camera_id, "offline" if self.controller.health.is_offline(camera_id) else "online"
        )

    def _on_tile_status(self, camera_id: str, status: str) -> None:
        if self.controller.health.set_tile_state(camera_id, status in ("offline", "error")):
            self.health_panel.refresh()
            self.map.set_camera_state(
                camera_id, "offline" if self.controller.health.is_offline(camera_id) else "online"
            )

    def _save_wall(self) -> None:
        import json

        self.settings.setValue("wall/layout", json.dumps(self.wall.vm.to_dict()))

    def _on_action_failed(self, message: str) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QMessageBox

        self.last_error = message
        if self.window is None:
            return
        self.window.statusBar().showMessage(message, 10_000)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.window.windowTitle(),
            message,
            QMessageBox.StandardButton.Ok,
            self.window,
        )
        box.setObjectName("actionFailedBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _on_window_closing(self) -> None:
        if not self._closed.done():
            self._closed.set_result(None)


def _json_setting(value: Any) -> Any:
    import json

    if not value:
        return {}
    try:
        return json.loads(str(value))
    except ValueError:
        return {}


def console_options(
    engine_url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    language: str | None = None,
    settings_dir: Path | None = None,
    districts_geojson: Path | None = None,
    ca: str | None = None,
) -> ConsoleOptions:
    """The options ``run_console`` starts its console with (the districts file included: it used to be dropped)."""
    return ConsoleOptions(
        engine_url,
        username=username,
        password=password,
        language=language,
        settings_dir=settings_dir,
        districts_geojson=districts_geojson,
        ca=ca,
    )


def run_console(
    engine_url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    language: str | None = None,
    settings_dir: Path | None = None,
    districts_geojson: Path | None = None,
    ca: str | None = None,
) -> int:
    """Run the operator console against the engine at ``engine_url`` until the operator quits.

    With ``username`` and ``password`` it logs in by itself (the demo); otherwise it shows the login
    dialog. ``language`` is "ko" or "en" (default: the last choice, else the system's). ``settings_dir``
    holds the console's settings (panel layout, wall, language; default: the user's config dir).
    ``districts_geojson`` (optional, e.g. the demo city's) draws district outlines on the map. Returns the
    exit code (0 normal, 1 when no one logged in).
    """
    prepare_qt_environment()
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "goldentime"])
    app.setApplicationName("GoldenTime")
    app.setOrganizationName("GoldenTime")
    app.setQuitOnLastWindowClosed(False)  # the console decides when to stop (after cleanup)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    console: Console | None = None

    async def main() -> int:
        nonlocal console
        console = Console(
            console_options(
                engine_url,
                username=username,
                password=password,
                language=language,
                settings_dir=settings_dir,
                districts_geojson=districts_geojson,
                ca=ca,
            ),
            app,
        )
        return await console.run()

    # Ctrl+C in the terminal closes the window cleanly; the timer lets Python see the signal.
    previous = signal.signal(signal.SIGINT, lambda *_: console.request_close() if console else None)
    ticker = QTimer()
    ticker.start(300)
    ticker.timeout.connect(lambda: None)
    try:
        with loop:
            return int(loop.run_until_complete(main()))
    finally:
        ticker.stop()
        signal.signal(signal.SIGINT, previous)
        with contextlib.suppress(Exception):
            asyncio.set_event_loop(None)
