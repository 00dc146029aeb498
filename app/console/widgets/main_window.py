"""The console window: panels in dock widgets the operator can rearrange (remembered between runs), a
banner when the engine is unreachable, menus for language, layout and wall, and a status bar."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenuBar,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.console.i18n import LANGUAGES

__all__ = ["ConnectionBanner", "MainWindow"]

STATE_VERSION = 1
DOCKS = ("queue", "detail", "map", "wall", "cameras", "health")


class ConnectionBanner(QWidget):
    """A red strip under the menu: shown while the engine is unreachable.

    Signals:
        retryRequested(): the operator pressed "Retry now".
    """

    retryRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(
            "QWidget#connectionBanner { background: #b91c1c; } QWidget#connectionBanner QLabel { color: white; font-weight: bold; }"
        )
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.retry = QPushButton(self)
        self.retry.clicked.connect(self.retryRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry)
        self._reason = ""
        self.hide()
        self.retranslate()

    def show_offline(self, reason: str) -> None:
        self._reason = reason
        self._render()
        self.show()

    def _render(self) -> None:
        self.label.setText(
            self.tr(
                "Engine unreachable – video keeps playing, but actions cannot be carried out. Reconnecting… ({reason})"
            ).format(reason=self._reason)
        )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def retranslate(self) -> None:
        self.retry.setText(self.tr("Retry now"))
        self._render()


class MainWindow(QMainWindow):
    """Signals:
    languageRequested(str): the operator chose a language ("ko" or "en").
    reloadRequested(): File → Reload.
    closing(): the window is closing (the console shuts down).
    """

    languageRequested = Signal(str)
    reloadRequested = Signal()
    closing = Signal()

    def __init__(
        self, settings: QSettings, panels: dict[str, QWidget], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("goldentimeConsole")
        self.settings = settings
        self.setDockNestingEnabled(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
        )
        self.docks: dict[str, QDockWidget] = {}
        for key in DOCKS:
            dock = QDockWidget(self)
            dock.setObjectName(f"dock_{key}")
            dock.setWidget(panels[key])
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                | QDockWidget.DockWidgetFeature.DockWidgetClosable
            )
            self.docks[key] = dock
        self._default_arrangement()
        self._default_state = self.saveState(STATE_VERSION)

        # Menu bar and banner share the top: the banner spans the whole window under the menu.
        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(0)
        self.menu_bar = QMenuBar(top)
        self.banner = ConnectionBanner(top)
        top_layout.addWidget(self.menu_bar)
        top_layout.addWidget(self.banner)
        self.setMenuWidget(top)

        self.file_menu = self.menu_bar.addMenu("")
        self.reload_action = QAction(self)
        self.reload_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.reload_action.triggered.connect(self.reloadRequested)
        self.quit_action = QAction(self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.close)
        self.file_menu.addActions([self.reload_action, self.quit_action])

        self.view_menu = self.menu_bar.addMenu("")
        self.focus_actions: dict[str, QAction] = {}
        for i, key in enumerate(DOCKS):
            self.view_menu.addAction(self.docks[key].toggleViewAction())
            act = QAction(self)
            act.setShortcut(QKeySequence(f"Alt+{i + 1}"))
            act.triggered.connect(lambda _=False, k=key: self.focus_dock(k))
            self.addAction(act)
            self.focus_actions[key] = act
        self.view_menu.addSeparator()
        self.reset_layout_action = QAction(self)
        self.reset_layout_action.triggered.connect(self.reset_layout)
        self.view_menu.addAction(self.reset_layout_action)

        self.language_menu = self.menu_bar.addMenu("")
        self.language_group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        for code, name in LANGUAGES.items():
            act = QAction(name, self)
            act.setCheckable(True)
            act.triggered.connect(lambda _=False, c=code: self.languageRequested.emit(c))
            self.language_group.addAction(act)
            self.language_menu.addAction(act)
            self.language_actions[code] = act

        self.help_menu = self.menu_bar.addMenu("")
        self.shortcuts_action = QAction(self)
        self.shortcuts_action.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        self.help_menu.addAction(self.shortcuts_action)

        self.conn_label = QLabel(self)
        self.user_label = QLabel(self)
        self.clock_label = QLabel(self)
        sb = self.statusBar()
        sb.addPermanentWidget(self.conn_label)
        sb.addPermanentWidget(self.user_label)
        sb.addPermanentWidget(self.clock_label)
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._on_clock)
        self._clock.start()
        self._conn_state = "connecting"
        self._username = ""
        self.retranslate()
        self._on_clock()

    # ------------------------------------------------------------------ arrangement

    def _default_arrangement(self) -> None:
        d = self.docks
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.addDockWidget(left, d["queue"])
        self.splitDockWidget(d["queue"], d["map"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["map"], d["wall"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["queue"], d["detail"], Qt.Orientation.Vertical)
        self.addDockWidget(right, d["cameras"])
        self.tabifyDockWidget(d["cameras"], d["health"])
        self.splitDockWidget(d["map"], d["wall"], Qt.Orientation.Vertical)
        d["cameras"].raise_()
        self.resizeDocks([d["queue"], d["map"], d["cameras"]], [720, 900, 280], Qt.Orientation.Horizontal)
        self.resizeDocks([d["queue"], d["detail"]], [380, 520], Qt.Orientation.Vertical)
        self.resizeDocks([d["map"], d["wall"]], [430, 470], Qt.Orientation.Vertical)

    def add_dock(self, key: str, dock: QDockWidget, beside: str = "health") -> None:
        """Add another panel (e.g. the video-wall control dock) tabbed with ``beside``; it joins the View
        menu and the saved arrangement (call before :meth:`restore`)."""
        if not dock.objectName():
            dock.setObjectName(f"dock_{key}")
        self.docks[key] = dock
        self.tabifyDockWidget(self.docks[beside], dock)
        self.docks["cameras"].raise_()  # a new tab joins the group without taking the front
        self.view_menu.insertAction(self.view_menu.actions()[len(self.docks) - 1], dock.toggleViewAction())
        self._default_state = self.saveState(STATE_VERSION)

    def restore(self) -> None:
        """Geometry and dock arrangement from the last run (if any)."""
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:  # first run: the whole screen, as a control-room workstation expects
            self.setGeometry(self.screen().availableGeometry())
        if isinstance(state, QByteArray) and not self.restoreState(state, STATE_VERSION):
            self.restoreState(self._default_state, STATE_VERSION)

    def save(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(STATE_VERSION))

    @Slot()
    def reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.restoreState(self._default_state, STATE_VERSION)

    def focus_dock(self, key: str) -> None:
        dock = self.docks[key]
        dock.show()
        dock.raise_()
        w = dock.widget()
        target = getattr(w, "table", None) or getattr(w, "search", None) or w
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # ------------------------------------------------------------------ status

    def set_connection(self, state: str, reason: str) -> None:
        self._conn_state = state
        if state in ("offline", "unauthorized"):
            self.banner.show_offline(reason)
        elif state == "connected":
            self.banner.hide()
        self._render_connection()

    def set_user(self, username: str) -> None:
        self._username = username
        self.user_label.setText(self.tr("Operator: {name}").format(name=username))

    def set_language(self, code: str) -> None:
        act = self.language_actions.get(code)
        if act is not None:
            act.setChecked(True)

    def _render_connection(self) -> None:
        texts = {
            "connected": (self.tr("● Live"), "#22c55e"),
            "connecting": (self.tr("● Connecting…"), "#f59e0b"),
            "offline": (self.tr("● Engine unreachable"), "#ef4444"),
            "unauthorized": (self.tr("● Session refused"), "#ef4444"),
            "stopped": (self.tr("● Stopped"), "#9ca3af"),
            # Before the live feed starts, and for an auditor's console (which has none).
            "idle": (self.tr("● No live feed"), "#9ca3af"),
        }
        text, colour = texts.get(self._conn_state, (self._conn_state, "#9ca3af"))
        self.conn_label.setText(text)
        self.conn_label.setStyleSheet(f"color: {colour}; font-weight: bold;")

    @Slot()
    def _on_clock(self) -> None:
        from datetime import datetime

        self.clock_label.setText(datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S"))

    @Slot()
    def show_shortcuts(self) -> None:
        rows = [
            ("Alt+1 … Alt+6", self.tr("Go to queue, detail, map, wall, cameras, health")),
            ("↑ ↓ PgUp PgDn", self.tr("Move through the incident queue")),
            ("Enter", self.tr("Open the selected incident")),
            ("Ctrl+Enter", self.tr("Acknowledge")),
            ("Ctrl+Shift+S", self.tr("Share video with an agency")),
            ("Ctrl+Shift+R", self.tr("Report to 119 with a snapshot")),
            ("Ctrl+Shift+W", self.tr("Put the incident's cameras on the wall")),
            ("Ctrl+Shift+X", self.tr("Close the incident")),
            ("Ctrl+Alt+1 … 4", self.tr("Wall layout 1, 4, 9, 16")),
            ("Esc", self.tr("Restore a maximised tile")),
            ("Ctrl+F", self.tr("Search cameras")),
            ("F5", self.tr("Reload from the engine")),
            ("Ctrl+Q", self.tr("Quit")),
        ]
        html = (
            "<table cellspacing=6>"
            + "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows)
            + "</table>"
        )
        box = QMessageBox(
            QMessageBox.Icon.Information,
            self.tr("Keyboard shortcuts"),
            html,
            QMessageBox.StandardButton.Close,
            self,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # ------------------------------------------------------------------ events

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save()
        self._clock.stop()
        self.closing.emit()
        super().closeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("GoldenTime – operator console"))
        titles = {
            "queue": self.tr("Incident queue"),
            "detail": self.tr("Incident detail"),
            "map": self.tr("Map"),
            "wall": self.tr("Video wall"),
            "cameras": self.tr("Cameras"),
            "health": self.tr("Camera and agency health"),
        }
        for key, dock in self.docks.items():
            if key in titles:  # added panels title themselves
                dock.setWindowTitle(titles[key])
        self.file_menu.setTitle(self.tr("&File"))
        self.reload_action.setText(self.tr("&Reload from the engine"))
        self.quit_action.setText(self.tr("&Quit"))
        self.view_menu.setTitle(self.tr("&View"))
        self.reset_layout_action.setText(self.tr("Reset panel layout"))
        self.language_menu.setTitle(self.tr("&Language"))
        self.help_menu.setTitle(self.tr("&Help"))
        self.shortcuts_action.setText(self.tr("Keyboard shortcuts"))
        self._render_connection()
        if self._username:
            self.set_user(self._username)
