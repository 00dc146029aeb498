"""Settings → Console settings…: basemaps, incident video, golden-time countdowns, the jump key.

Thin: it edits a copy of :class:`app.console.viewmodels.console_settings.ConsoleSettings`, asks it to
validate, and emits ``saved(settings)``; the console writes them and puts them into effect at once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.console.map.basemaps import BASEMAP_KINDS, FILE_KINDS, BasemapSource
from app.console.viewmodels.auto_video import POLICIES
from app.console.viewmodels.console_settings import ConsoleSettings
from app.console.widgets.labels import service_name
from app.domain.enums import Service

__all__ = ["SettingsDialog", "install_settings_menu"]


def _kind_name(kind: str) -> str:
    names = {
        "xyz": QCoreApplication.translate("SettingsDialog", "XYZ tile server (URL template)"),
        "wmts": QCoreApplication.translate("SettingsDialog", "WMTS (REST URL template)"),
        "wms": QCoreApplication.translate("SettingsDialog", "WMS"),
        "mbtiles": QCoreApplication.translate("SettingsDialog", "MBTiles file (offline)"),
        "pmtiles": QCoreApplication.translate("SettingsDialog", "PMTiles file (offline)"),
    }
    return names.get(kind, kind)


def _policy_name(policy: str) -> str:
    names = {
        "always": QCoreApplication.translate("SettingsDialog", "Always"),
        "p1p2": QCoreApplication.translate("SettingsDialog", "Only priority 1 and 2"),
        "never": QCoreApplication.translate("SettingsDialog", "Never"),
    }
    return names.get(policy, policy)


class SettingsDialog(QDialog):
    """Signals: saved(ConsoleSettings): the operator pressed OK and the settings are valid."""

    saved = Signal(object)

    def __init__(self, current: ConsoleSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("consoleSettings")
        self.setWindowTitle(self.tr("Console settings"))
        self.setMinimumWidth(640)
        self._settings = copy.deepcopy(current)
        self._rows: list[dict[str, Any]] = [b.to_dict() for b in current.basemaps]
        self._loading = False

        tabs = QTabWidget(self)
        # ---- Map
        map_tab = QWidget(tabs)
        self.basemap_list = QListWidget(map_tab)
        self.basemap_list.setObjectName("basemapList")
        self.add_button = QPushButton(self.tr("Add"), map_tab)
        self.remove_button = QPushButton(self.tr("Remove"), map_tab)
        self.name = QLineEdit(map_tab)
        self.kind = QComboBox(map_tab)
        for k in BASEMAP_KINDS:
            self.kind.addItem(_kind_name(k), k)
        self.url = QLineEdit(map_tab)
        self.url.setPlaceholderText("https://tiles.example/{z}/{x}/{y}.png?key={key}")
        self.key = QLineEdit(map_tab)
        self.key.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.layers = QLineEdit(map_tab)
        self.path = QLineEdit(map_tab)
        self.browse = QPushButton(self.tr("Choose…"), map_tab)
        self.attribution = QLineEdit(map_tab)
        self.max_zoom = QSpinBox(map_tab)
        self.max_zoom.setRange(1, 22)
        form = QFormLayout()
        form.addRow(self.tr("Name"), self.name)
        form.addRow(self.tr("Kind"), self.kind)
        form.addRow(self.tr("URL"), self.url)
        form.addRow(self.tr("Key"), self.key)
        form.addRow(self.tr("WMS layers"), self.layers)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(self.browse)
        form.addRow(self.tr("File"), file_row)
        form.addRow(self.tr("Attribution"), self.attribution)
        form.addRow(self.tr("Maximum zoom of the tiles"), self.max_zoom)
        left = QVBoxLayout()
        left.addWidget(self.basemap_list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        left.addLayout(buttons)
        map_layout = QHBoxLayout(map_tab)
        map_layout.addLayout(left, 1)
        map_layout.addLayout(form, 2)
        tabs.addTab(map_tab, self.tr("Map"))

        # ---- Incidents
        inc_tab = QWidget(tabs)
        inc_form = QFormLayout(inc_tab)
        self.video_auto = QComboBox(inc_tab)
        self.video_auto.setObjectName("videoAuto")
        for p in POLICIES:
            self.video_auto.addItem(_policy_name(p), p)
        self.video_auto.setCurrentIndex(max(0, self.video_auto.findData(current.video_auto)))
        inc_form.addRow(self.tr("Put a selected incident's cameras on the wall"), self.video_auto)
        self.jump_key = QKeySequenceEdit(QKeySequence(current.jump_key), inc_tab)
        inc_form.addRow(self.tr("Key to jump to a new urgent incident"), self.jump_key)
        inc_form.addRow(QLabel(self.tr("Golden-time countdown per service (0: the engine's)"), inc_tab))
        self.golden: dict[Service, QSpinBox] = {}
        for svc in Service:
            spin = QSpinBox(inc_tab)
            spin.setObjectName(f"golden_{svc.value}")
            spin.setRange(0, 24 * 60)
            spin.setSuffix(self.tr(" min"))
            spin.setSpecialValueText(self.tr("engine's"))
            spin.setValue(current.golden_s.get(svc, 0) // 60)
            self.golden[svc] = spin
            inc_form.addRow(service_name(svc.value), spin)
        tabs.addTab(inc_tab, self.tr("Incidents"))

        self.error = QLabel(self)
        self.error.setObjectName("settingsError")
        self.error.setStyleSheet("color: #ef5350;")
        self.error.setWordWrap(True)
        self.error.hide()
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        box.accepted.connect(self.try_accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.error)
        layout.addWidget(box)

        self.basemap_list.currentRowChanged.connect(self._show_row)
        self.add_button.clicked.connect(self.add_basemap)
        self.remove_button.clicked.connect(self._remove_row)
        self.browse.clicked.connect(self._browse)
        for w in (self.name, self.url, self.key, self.layers, self.path, self.attribution):
            w.textEdited.connect(self._store_row)
        self.kind.currentIndexChanged.connect(self._store_row)
        self.max_zoom.valueChanged.connect(self._store_row)
        self._fill_list()
        self.basemap_list.setCurrentRow(0 if self._rows else -1)
        self._show_row(self.basemap_list.currentRow())

    # ---- basemap rows

    def _fill_list(self) -> None:
        self.basemap_list.blockSignals(True)
        row = self.basemap_list.currentRow()
        self.basemap_list.clear()
        for r in self._rows:
            self.basemap_list.addItem(f"{r.get('name') or '?'} · {_kind_name(str(r.get('kind')))}")
        self.basemap_list.setCurrentRow(min(row, len(self._rows) - 1))
        self.basemap_list.blockSignals(False)

    def _show_row(self, row: int) -> None:
        self._loading = True
        r = self._rows[row] if 0 <= row < len(self._rows) else None
        for w in (
            self.name,
            self.kind,
            self.url,
            self.key,
            self.layers,
            self.path,
            self.browse,
            self.attribution,
            self.max_zoom,
        ):
            w.setEnabled(r is not None)
        r = r or {}
        self.name.setText(str(r.get("name", "")))
        self.kind.setCurrentIndex(max(0, self.kind.findData(r.get("kind", "xyz"))))
        self.url.setText(str(r.get("url", "")))
        self.key.setText(str(r.get("key", "")))
        self.layers.setText(str(r.get("layers", "")))
        self.path.setText(str(r.get("path", "")))
        self.attribution.setText(str(r.get("attribution", "")))
        self.max_zoom.setValue(int(r.get("max_zoom", 19) or 19))
        self._loading = False
        self._enable_fields()

    def _enable_fields(self) -> None:
        kind = str(self.kind.currentData())
        is_file = kind in FILE_KINDS
        has_row = 0 <= self.basemap_list.currentRow() < len(self._rows)
        self.url.setEnabled(has_row and not is_file)
        self.key.setEnabled(has_row and not is_file)
        self.layers.setEnabled(has_row and kind == "wms")
        self.path.setEnabled(has_row and is_file)
        self.browse.setEnabled(has_row and is_file)

    def _store_row(self, *_: Any) -> None:
        if self._loading:
            return
        row = self.basemap_list.currentRow()
        if not 0 <= row < len(self._rows):
            return
        self._rows[row] = {
            "name": self.name.text().strip(),
            "kind": str(self.kind.currentData()),
            "url": self.url.text().strip(),
            "key": self.key.text().strip(),
            "layers": self.layers.text().strip(),
            "path": self.path.text().strip(),
            "attribution": self.attribution.text().strip(),
            "max_zoom": self.max_zoom.value(),
        }
        item = self.basemap_list.item(row)
        if item is not None:
            item.setText(f"{self._rows[row]['name'] or '?'} · {_kind_name(self._rows[row]['kind'])}")
        self._enable_fields()

    def add_basemap(self, source: BasemapSource | None = None) -> None:
        """Add a row (a new empty XYZ basemap, or ``source``) and select it."""
        if not isinstance(source, BasemapSource):
            source = BasemapSource(self.tr("Basemap {n}").format(n=len(self._rows) + 1), "xyz")
        self._rows.append(source.to_dict())
        self._fill_list()
        self.basemap_list.setCurrentRow(len(self._rows) - 1)

    def _remove_row(self) -> None:
        row = self.basemap_list.currentRow()
        if 0 <= row < len(self._rows):
            del self._rows[row]
            self._fill_list()
            self._show_row(self.basemap_list.currentRow())

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Offline basemap file"),
            self.path.text(),
            self.tr("Tile files (*.mbtiles *.pmtiles)"),
        )
        if path:
            self.path.setText(path)
            self._store_row()

    # ---- result

    def result_settings(self) -> ConsoleSettings:
        s = copy.deepcopy(self._settings)
        s.basemaps = [BasemapSource.from_dict(r) for r in self._rows]
        if s.basemap and s.basemap != "city" and s.basemap not in {b.name for b in s.basemaps}:
            s.basemap = ""
        s.video_auto = self.video_auto.currentData()
        key = self.jump_key.keySequence().toString(QKeySequence.SequenceFormat.PortableText)
        s.jump_key = key or s.jump_key
        s.golden_s = {svc: spin.value() * 60 for svc, spin in self.golden.items() if spin.value() > 0}
        s.problems = []
        return s

    def try_accept(self) -> bool:
        s = self.result_settings()
        problems = s.validate()
        if problems:
            self.error.setText(self.tr("Not saved:") + "\n" + "\n".join(problems))
            self.error.show()
            return False
        self.error.hide()
        self.saved.emit(s)
        self.accept()
        return True


class _MenuRetranslator(QObject):
    def __init__(self, window: QMainWindow, action: QAction) -> None:
        super().__init__(window)
        self._action = action
        window.installEventFilter(self)
        self.retranslate()

    def retranslate(self) -> None:
        self._action.setText(QCoreApplication.translate("SettingsDialog", "Console settings…"))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        return False


def install_settings_menu(window: Any, open_settings: Callable[[], None]) -> QAction:
    """File → Console settings… (Ctrl+,)."""
    action = QAction(window)
    action.setObjectName("consoleSettingsAction")
    action.setShortcut(QKeySequence("Ctrl+,"))
    action.triggered.connect(open_settings)
    window.file_menu.insertAction(window.quit_action, action)
    window.addAction(action)
    _MenuRetranslator(window, action)
    return action
