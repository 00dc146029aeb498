"""The console's city map: a QWebEngineView showing the page from :mod:`app.console.map.page`.

The page is loaded once from its file; every change after that is a ``gt.<fn>(json)`` call into
``gt_map.js``. ``MapView`` keeps the current map state (cameras, incidents, areas, tracks, selection,
notice) so that calls made before the page is ready are sent when it is, and so that a reloaded page
(e.g. after a renderer crash) is redrawn in full.

Import this module (it imports QtWebEngineWidgets) and call
:func:`app.console.map.mbtiles.register_map_url_schemes` before the ``QApplication`` exists.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QObject, QPoint, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QColor, QDrag, QFont, QFontMetrics, QPainter, QPixmap
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import (
    QWebEngineLoadingInfo,
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.console.camera_drag import CAMERA_MIME_TYPE
from app.console.map.basemaps import BasemapSource, file_host, page_layers
from app.console.map.mbtiles import SCHEME as MBTILES_SCHEME_BYTES
from app.console.map.mbtiles import MbtilesSchemeHandler
from app.console.map.page import MBTILES_HOST, BasemapConfig
from app.domain.enums import FacilityKind, Purpose, Service

log = logging.getLogger(__name__)

#: MIME type of a camera dragged from the map (payload: the camera id, UTF-8). Text is set too.
RELOAD_AFTER_CRASH_MS = 1000


class MapBridge(QObject):
    """The object the page sees as ``bridge`` (QWebChannel). Its slots are called from JavaScript.

    Signals:
        page_ready(): the page has set up its layers and connected the channel.
        camera_clicked(str): a camera marker was clicked (camera id).
        incident_clicked(str): an incident marker was clicked (incident id).
        area_drawn(str): the operator finished drawing an area (JSON text).
        camera_drag_started(str): the operator began dragging a camera marker (camera id).
    """

    page_ready = Signal()
    camera_clicked = Signal(str)
    incident_clicked = Signal(str)
    area_drawn = Signal(str)
    camera_drag_started = Signal(str)
    basemap_chosen = Signal(str)

    @Slot()
    def ready(self) -> None:
        self.page_ready.emit()

    @Slot(str)
    def cameraClicked(self, camera_id: str) -> None:
        self.camera_clicked.emit(camera_id)

    @Slot(str)
    def incidentClicked(self, incident_id: str) -> None:
        self.incident_clicked.emit(incident_id)

    @Slot(str)
    def areaDrawn(self, area_json: str) -> None:
        self.area_drawn.emit(area_json)

    @Slot(str)
    def cameraDragStarted(self, camera_id: str) -> None:
        self.camera_drag_started.emit(camera_id)

    @Slot(str)
    def basemapChosen(self, name: str) -> None:
        self.basemap_chosen.emit(name)


class _MapPage(QWebEnginePage):
    """Stays on the map: any navigation away from the page file (a clicked link) is refused."""

    def __init__(self, profile: QWebEngineProfile, parent: QObject) -> None:
        super().__init__(profile, parent)
        self.home = QUrl()

    def acceptNavigationRequest(
        self, url: QUrl | str, type: QWebEnginePage.NavigationType, isMainFrame: bool
    ) -> bool:
        if not isMainFrame:
            return True
        u = QUrl(url)
        ok = u.isLocalFile() and u.toLocalFile() == self.home.toLocalFile()
        if not ok:
            log.info("map page: refused navigation to %s", u.toString())
        return ok


def parse_area(area_json: str) -> dict[str, Any] | None:
    """Validate an area from the page: ``{"circle": {lat, lon, radius_m}}`` or ``{"polygon": [[lat, lon], ...]}``."""
    try:
        area = json.loads(area_json)
        if "circle" in area:
            c = area["circle"]
            circle = {"lat": float(c["lat"]), "lon": float(c["lon"]), "radius_m": float(c["radius_m"])}
            if circle["radius_m"] <= 0:
                return None
            return {"circle": circle}
        if "polygon" in area:
            pts = [[float(p[0]), float(p[1])] for p in area["polygon"]]
            return {"polygon": pts} if len(pts) >= 3 else None
    except (ValueError, TypeError, KeyError, IndexError):
        pass
    log.warning("map page sent an invalid area: %.200s", area_json)
    return None


class MapView(QWidget):
    """The city map. Methods may be called at any time; they take effect once the page is ready.

    Signals:
        ready(): the page is loaded and connected (again after a reload); state has been sent to it.
        cameraClicked(str): a camera marker was clicked (camera id).
        incidentClicked(str): an incident marker was clicked (incident id).
        areaDrawn(dict): the operator drew an area, as the engine API's ``area``:
            ``{"circle": {"lat", "lon", "radius_m"}}`` or ``{"polygon": [[lat, lon], ...]}``.
        cameraDragStarted(str): the operator began dragging a camera marker; when ``start_drags`` is on,
            a Qt drag with :data:`CAMERA_MIME_TYPE` (and the id as text) follows, for video tiles to accept.
        basemapChosen(str): the operator picked a basemap in the layer control (its name; "city" for
            the demo city's own map).
    """

    ready = Signal()
    cameraClicked = Signal(str)
    incidentClicked = Signal(str)
    areaDrawn = Signal(dict)
    cameraDragStarted = Signal(str)
    basemapChosen = Signal(str)

    def __init__(
        self,
        page_path: Path,
        basemap: BasemapConfig,
        parent: QWidget | None = None,
        *,
        start_drags: bool = True,
    ) -> None:
        super().__init__(parent)
        self._page_url = QUrl.fromLocalFile(str(Path(page_path).resolve()))
        self._basemap = basemap
        self._start_drags = start_drags
        self._ready = False
        self._labels: dict[str, Any] = self.default_labels()
        # State replayed into the page on every ready.
        self._cameras: dict[str, dict[str, Any]] = {}
        self._incidents: dict[str, dict[str, Any]] = {}
        self._selection: list[str] = []
        self._notice: str | None = None
        self._pending_view: tuple[float, float, int | None] | None = None
        self._basemaps: list[dict[str, Any]] = []
        self._basemap_choice: str | None = None
        self._facilities: list[dict[str, Any]] = []
        self._districts: dict[str, Any] | None = None
        self._units: list[dict[str, Any]] = []

        # Order matters for teardown: children are deleted in creation order, so the view (and the page
        # it owns) goes before the profile, as QtWebEngine requires.
        self._view = QWebEngineView(self)
        self._view.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self._profile = QWebEngineProfile(self)  # off the record: no disk cache or cookies
        # Offline tile files (the page's own MBTiles, and any the operator lists) come through this.
        self._tiles = MbtilesSchemeHandler(self._profile)
        if basemap.kind == "mbtiles" and basemap.path is not None:
            self._tiles.add_source(MBTILES_HOST, basemap.path)
        self._profile.installUrlSchemeHandler(MBTILES_SCHEME_BYTES, self._tiles)
        self._remote_allowed = basemap.needs_remote_access
        self._page = _MapPage(self._profile, self._view)
        self._page.home = self._page_url
        settings = self._page.settings()
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
        settings.setAttribute(
            QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, basemap.needs_remote_access
        )
        settings.setAttribute(QWebEngineSettings.WebAttribute.JavascriptCanOpenWindows, False)
        self._bridge = MapBridge(self)
        self._channel = QWebChannel(self._page)
        self._channel.registerObject("bridge", self._bridge)
        self._page.setWebChannel(self._channel)
        self._view.setPage(self._page)

        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(RELOAD_AFTER_CRASH_MS)
        self._reload_timer.timeout.connect(self._on_reload_timer)

        self._bridge.page_ready.connect(self._on_page_ready)
        self._bridge.camera_clicked.connect(self.cameraClicked)
        self._bridge.incident_clicked.connect(self.incidentClicked)
        self._bridge.area_drawn.connect(self._on_area_drawn)
        self._bridge.camera_drag_started.connect(self._on_camera_drag_started)
        self._bridge.basemap_chosen.connect(self._on_basemap_chosen)
        self._page.loadingChanged.connect(self._on_loading_changed)
        self._page.renderProcessTerminated.connect(self._on_render_process_terminated)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._view)
        self._view.load(self._page_url)

    # ---- public API ------------------------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        return self._ready

    @property
    def web_view(self) -> QWebEngineView:
        return self._view

    @property
    def tile_handler(self) -> MbtilesSchemeHandler:
        return self._tiles

    def default_labels(self) -> dict[str, Any]:
        """Every string the page shows, translated."""
        return {
            "districts": self.tr("Districts"),
            "cameras": self.tr("Cameras"),
            "fov": self.tr("Camera views"),
            "incidents": self.tr("Incidents"),
            "drill": self.tr("DRILL"),
            "online": self.tr("online"),
            "offline": self.tr("offline"),
            "noBasemap": self.tr("No basemap configured: showing districts, cameras and incidents only."),
            "basemapUnreachable": self.tr(
                "Basemap unreachable: showing districts, cameras and incidents only."
            ),
            "drawCircle": self.tr("Draw a circle to select cameras"),
            "drawPolygon": self.tr("Draw a polygon to select cameras"),
            "clearDrawn": self.tr("Clear the drawn area"),
            "drawCircleHint": self.tr("Press and drag to draw a circle. Esc cancels."),
            "drawPolygonHint": self.tr("Click to add corners, double-click to finish. Esc cancels."),
            "approximate": self.tr("approximate position (not used as nearest camera)"),
            "cityMap": self.tr("City map (offline)"),
            "basemap": self.tr("Basemap"),
            "facilities": self.tr("119 facilities"),
            "units": self.tr("Dispatched units"),
            "accessNotes": self.tr("Access"),
            "facilityKinds": {
                FacilityKind.HAZARDOUS.value: self.tr("Hazardous materials"),
                FacilityKind.HOSPITAL.value: self.tr("Hospital"),
                FacilityKind.SHELTER.value: self.tr("Shelter"),
                FacilityKind.HYDRANT.value: self.tr("Hydrant"),
                FacilityKind.OTHER.value: self.tr("Other facility"),
            },
            "services": {
                Service.EMERGENCY_VIDEO_112.value: self.tr("112 emergency video"),
                Service.DISPATCH_112.value: self.tr("112 dispatch"),
                Service.DISPATCH_119.value: self.tr("119 dispatch"),
                Service.DISASTER_RESPONSE.value: self.tr("Disaster response"),
                Service.VULNERABLE_SOS.value: self.tr("Vulnerable person SOS"),
            },
            "purposes": {
                Purpose.CRIME.value: self.tr("Crime prevention"),
                Purpose.TRAFFIC.value: self.tr("Traffic"),
                Purpose.DISASTER.value: self.tr("Disaster watch"),
                Purpose.CHILD_PROTECTION.value: self.tr("Child protection"),
                Purpose.OTHER.value: self.tr("Other"),
            },
        }

    def set_labels(self, labels: dict[str, Any]) -> None:
        """Replace some or all page strings (e.g. after a language change)."""
        self._labels.update(labels)
        self._call("setLabels", self._labels)

    def set_cameras(self, cameras: Iterable[dict[str, Any]]) -> None:
        """Replace all cameras: dicts with id, name, lat, lon, purpose, state, direction_deg, fov_deg."""
        self._cameras = {str(c["id"]): dict(c) for c in cameras}
        self._selection = [i for i in self._selection if i in self._cameras]
        self._call("setCameras", list(self._cameras.values()))

    def set_camera_state(self, camera_id: str, state: str) -> None:
        """``state`` is "online" or "offline"."""
        cam = self._cameras.get(camera_id)
        if cam is None:
            return
        cam["state"] = state
        self._call("setCameraState", camera_id, state)

    def select_cameras(self, camera_ids: Iterable[str]) -> None:
        """Highlight these cameras (they leave their clusters so they stay visible); [] clears."""
        self._selection = [i for i in camera_ids if i in self._cameras]
        self._call("selectCameras", self._selection)

    def upsert_incident(self, incident: dict[str, Any]) -> None:
        """Add or move an incident: id, service, lat, lon, title, priority, status, drill; optional area, track."""
        inc_id = str(incident["id"])
        merged = {**self._incidents.get(inc_id, {}), **incident, "id": inc_id}
        self._incidents[inc_id] = merged
        self._call("upsertIncident", merged)

    def remove_incident(self, incident_id: str) -> None:
        if self._incidents.pop(incident_id, None) is not None:
            self._call("removeIncident", incident_id)

    def set_alert_area(
        self, incident_id: str, area: dict[str, Any] | None, more: list[dict[str, Any]] | None = None
    ) -> None:
        """``{"circle": {lat, lon, radius_m}}``, ``{"polygon": [[lat, lon], ...]}`` or None to remove;
        ``more``: further areas of the same incident (every area of a CAP alert), drawn alike."""
        if incident_id in self._incidents:
            inc = self._incidents[incident_id]
            inc["area"] = area
            if more is not None:
                inc["areas"] = list(more)
            self._call("setAlertArea", incident_id, area, inc.get("areas") or [])

    def set_track(self, incident_id: str, points: Iterable[Any]) -> None:
        """The SOS person's track, oldest first: ``[lat, lon]`` pairs or ``{"lat", "lon", "at"}`` dicts
        (``at``: the fix's time as shown); the last point is drawn as the current position."""
        if incident_id in self._incidents:
            pts: list[Any] = []
            for p in points:
                if isinstance(p, dict):
                    pts.append({"lat": float(p["lat"]), "lon": float(p["lon"]), "at": str(p.get("at") or "")})
                else:
                    pts.append([float(p[0]), float(p[1])])
            self._incidents[incident_id]["track"] = pts
            self._call("setTrack", incident_id, pts)

    def set_basemaps(self, sources: Iterable[BasemapSource], chosen: str | None = None) -> None:
        """The basemaps the operator can pick in the layer control (in order); ``chosen`` is shown.

        Offline files are served from this process (``mbtiles://file<N>/…``); a remote one makes the
        page reload once with remote access allowed (the map's state is sent again on ready).
        """
        sources = list(sources)
        self._basemaps = page_layers(sources)
        self._basemap_choice = chosen
        keep: set[str] = {MBTILES_HOST}
        for k, src in enumerate(sources):
            if not src.is_remote:
                host = file_host(k)
                keep.add(host)
                self._tiles.add_source(host, Path(src.path), src.kind)
        self._tiles.remove_sources(keep)
        if any(s.is_remote for s in sources) and not self._remote_allowed:
            self._remote_allowed = True
            self._page.settings().setAttribute(
                QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True
            )
            self._ready = False
            self._view.load(self._page_url)  # the new setting takes effect on the next load
            return
        self._call("setBasemaps", self._basemaps, chosen)

    def choose_basemap(self, name: str) -> None:
        """Show the basemap called ``name`` (as the layer control would)."""
        self._basemap_choice = name
        self._call("chooseBasemap", name)

    def set_districts(self, geojson: dict[str, Any]) -> None:
        """Replace the district outlines (a GeoJSON FeatureCollection; each feature's ``name`` labels it)."""
        self._districts = geojson
        self._call("setDistricts", geojson)

    def set_facilities(self, facilities: Iterable[dict[str, Any]]) -> None:
        """119 facilities near the selected incident: id, name, kind, lat, lon, notes (access notes)."""
        self._facilities = [dict(f) for f in facilities]
        self._call("setFacilities", self._facilities)

    def set_units(self, units: Iterable[dict[str, Any]]) -> None:
        """Dispatched units' last positions: id, lat, lon, optional kind and at (a time text)."""
        self._units = [dict(u) for u in units]
        self._call("setUnits", self._units)

    def fly_to(self, lat: float, lon: float, zoom: int | None = None) -> None:
        if self._ready:
            self._call("flyTo", lat, lon, zoom)
        else:
            self._pending_view = (lat, lon, zoom)

    def show_notice(self, text: str) -> None:
        """Show a (translated) message over the map."""
        self._notice = text
        self._call("showNotice", text)

    def hide_notice(self) -> None:
        self._notice = None
        self._call("hideNotice")

    def start_drawing(self, mode: str | None) -> None:
        """Enter "circle" or "polygon" drawing mode (None leaves it), as the toolbar buttons do."""
        self._call("startDraw", mode)

    def clear_drawn_area(self) -> None:
        self._call("clearDrawn")

    def snapshot(self, callback: Callable[[dict[str, Any]], None]) -> None:
        """Ask the page for its state (counts, ids, zoom); ``callback`` gets a dict ({} if not ready)."""
        if not self._ready:
            callback({})
            return
        self._page.runJavaScript("gt.snapshot()", 0, lambda r: callback(json.loads(r) if r else {}))

    def run_js(self, script: str, callback: Callable[[Any], None] | None = None) -> None:
        """Run raw JavaScript in the page (tests, diagnostics). Return JSON.stringify'd values."""
        if callback is None:
            self._page.runJavaScript(script, 0)
        else:
            self._page.runJavaScript(script, 0, callback)

    # ---- internals -------------------------------------------------------------------------------

    def _call(self, fn: str, *args: Any) -> None:
        if not self._ready:
            return  # the state above is sent in full on ready
        self._page.runJavaScript(f"gt.{fn}({', '.join(json.dumps(a) for a in args)})", 0)

    def _replay(self) -> None:
        self._call("setLabels", self._labels)
        if self._basemaps:
            self._call("setBasemaps", self._basemaps, self._basemap_choice)
        if self._districts is not None:
            self._call("setDistricts", self._districts)
        self._call("setFacilities", self._facilities)
        self._call("setUnits", self._units)
        self._call("setCameras", list(self._cameras.values()))
        self._call("selectCameras", self._selection)
        for inc in self._incidents.values():
            self._call("upsertIncident", inc)
        if self._notice:
            self._call("showNotice", self._notice)
        if self._pending_view is not None:
            self._call("flyTo", *self._pending_view)
            self._pending_view = None

    @Slot()
    def _on_page_ready(self) -> None:
        self._ready = True
        self._replay()
        self.ready.emit()

    @Slot(QWebEngineLoadingInfo)
    def _on_loading_changed(self, info: QWebEngineLoadingInfo) -> None:
        # The page file (re)loading: calls wait for the next ready. Refused navigations do not count.
        if (
            info.status() == QWebEngineLoadingInfo.LoadStatus.LoadStartedStatus
            and info.url() == self._page_url
        ):
            self._ready = False

    @Slot(QWebEnginePage.RenderProcessTerminationStatus, int)
    def _on_render_process_terminated(
        self, status: QWebEnginePage.RenderProcessTerminationStatus, code: int
    ) -> None:
        self._ready = False
        log.error("map renderer ended (%s, exit code %d); reloading the map", status.name, code)
        self._reload_timer.start()

    @Slot()
    def _on_reload_timer(self) -> None:
        log.info("map renderer restarted")
        self._view.load(self._page_url)

    @Slot(str)
    def _on_basemap_chosen(self, name: str) -> None:
        self._basemap_choice = name
        self.basemapChosen.emit(name)

    @Slot(str)
    def _on_area_drawn(self, area_json: str) -> None:
        area = parse_area(area_json)
        if area is not None:
            self.areaDrawn.emit(area)

    @Slot(str)
    def _on_camera_drag_started(self, camera_id: str) -> None:
        if camera_id not in self._cameras:
            return
        self.cameraDragStarted.emit(camera_id)
        if self._start_drags:
            # Outside the channel's dispatch: QDrag.exec runs a nested event loop until the drop.
            QTimer.singleShot(0, self, lambda: self._exec_drag(camera_id))

    def _exec_drag(self, camera_id: str) -> None:
        mime = QMimeData()
        mime.setData(CAMERA_MIME_TYPE, camera_id.encode("utf-8"))
        mime.setText(camera_id)
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.setPixmap(self._drag_pixmap(str(self._cameras[camera_id].get("name") or camera_id)))
        drag.setHotSpot(QPoint(8, 8))
        drag.exec(Qt.DropAction.CopyAction)
        self._call("endCameraDrag")

    def _drag_pixmap(self, text: str) -> QPixmap:
        font = QFont(self.font())
        font.setBold(True)
        fm = QFontMetrics(font)
        w, h = fm.horizontalAdvance(text) + 20, fm.height() + 10
        pm = QPixmap(w, h)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QColor(33, 33, 33, 220))
        p.setPen(QColor("#ffd600"))
        p.drawRoundedRect(0, 0, w - 1, h - 1, 5, 5)
        p.setFont(font)
        p.setPen(QColor("white"))
        p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, text)
        p.end()
        return pm

    def camera(self, camera_id: str) -> dict[str, Any] | None:
        """The camera as last given to :meth:`set_cameras` (with its current state)."""
        cam = self._cameras.get(camera_id)
        return copy.deepcopy(cam) if cam is not None else None
