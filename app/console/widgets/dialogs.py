"""Dialogs: log in, share video with an agency. Non-blocking: open with ``open()``, results by signal."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.console.widgets.labels import agency_kind_name
from app.formats.api import AgencyOut, CameraOut, LegalBasisOut

__all__ = ["LoginDialog", "ShareDialog"]


class LoginDialog(QDialog):
    """User name and password for the engine at ``engine_url``.

    The dialog does not log in itself: it emits ``loginRequested`` and waits for :meth:`show_error`
    (stays open, fields enabled again) or :meth:`accept`.

    Signals:
        loginRequested(str, str): user name and password.
    """

    loginRequested = Signal(str, str)

    def __init__(self, engine_url: str, username: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.engine_url = engine_url
        self.username = QLineEdit(username, self)
        self.username.setObjectName("loginUser")
        self.password = QLineEdit(self)
        self.password.setObjectName("loginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.engine = QLabel(engine_url, self)
        self.engine.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel(self)
        self.error.setObjectName("loginError")
        self.error.setStyleSheet("QLabel#loginError { color: #ef4444; }")
        self.error.setWordWrap(True)
        self.error.hide()
        self.heading = QLabel(self)
        self.heading.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        self.form = QFormLayout()
        self._user_label = QLabel(self)
        self._pw_label = QLabel(self)
        self._engine_label = QLabel(self)
        self.form.addRow(self._engine_label, self.engine)
        self.form.addRow(self._user_label, self.username)
        self.form.addRow(self._pw_label, self.password)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)
        self.retranslate()
        (self.password if username else self.username).setFocus()

    @Slot()
    def _on_ok(self) -> None:
        user, pw = self.username.text().strip(), self.password.text()
        if not user or not pw:
            self.show_error(self.tr("Enter your user name and password."))
            return
        self._busy(True)
        self.error.hide()
        self.loginRequested.emit(user, pw)

    def show_error(self, message: str) -> None:
        self._busy(False)
        self.error.setText(message)
        self.error.show()
        self.password.selectAll()
        self.password.setFocus()

    def _busy(self, busy: bool) -> None:
        for w in (self.username, self.password, self.buttons):
            w.setEnabled(not busy)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("GoldenTime – log in"))
        self.heading.setText(self.tr("GoldenTime operator console"))
        self._engine_label.setText(self.tr("Engine:"))
        self._user_label.setText(self.tr("User name:"))
        self._pw_label.setText(self.tr("Password:"))


class ShareDialog(QDialog):
    """Share cameras of an incident with an agency, for some minutes and a stated purpose.

    The legal basis (PIPA 18(2) etc., from ``GET /api/v1/legal-bases``) is chosen from the list, preset to the
    one the settings give the incident's service; the requesting officer and case number are optional.

    Signals:
        shareAccepted(str agency_id, list camera_ids, int minutes, str purpose, dict terms): ``terms`` holds
        ``legal_basis`` (None: the engine's default for the service), ``requesting_officer``, ``case_number``.
    """

    shareAccepted = Signal(str, list, int, str, dict)

    def __init__(
        self,
        agencies: list[AgencyOut],
        cameras: list[CameraOut],
        parent: QWidget | None = None,
        *,
        bases: list[LegalBasisOut] | None = None,
        default_basis: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("shareDialog")
        self.agency = QComboBox(self)
        for a in agencies:
            self.agency.addItem(f"{a.name} ({agency_kind_name(a.kind)})", a.id)
        self.cameras = QListWidget(self)
        for c in cameras:
            item = QListWidgetItem(f"{c.name} ({c.id})")
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.cameras.addItem(item)
        self.minutes = QSpinBox(self)
        self.minutes.setRange(1, 1440)
        self.minutes.setValue(30)
        self.purpose = QLineEdit(self)
        self.basis = QComboBox(self)
        for b in bases or []:
            self.basis.addItem(f"{b.law} {b.article} — {b.title_ko}", b.id)
            self.basis.setItemData(self.basis.count() - 1, b.title_en, Qt.ItemDataRole.ToolTipRole)
        if default_basis is not None and (i := self.basis.findData(default_basis)) >= 0:
            self.basis.setCurrentIndex(i)
        self.officer = QLineEdit(self)
        self.officer.setMaxLength(200)
        self.case = QLineEdit(self)
        self.case.setMaxLength(100)
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #ef4444;")
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        self._labels = [QLabel(self) for _ in range(7)]
        form = QFormLayout()
        form.addRow(self._labels[0], self.agency)
        form.addRow(self._labels[1], self.cameras)
        form.addRow(self._labels[2], self.minutes)
        form.addRow(self._labels[3], self.purpose)
        form.addRow(self._labels[4], self.basis)
        form.addRow(self._labels[5], self.officer)
        form.addRow(self._labels[6], self.case)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)
        self.retranslate()

    def checked_cameras(self) -> list[str]:
        out = []
        for i in range(self.cameras.count()):
            item = self.cameras.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    @Slot()
    def _on_ok(self) -> None:
        cams = self.checked_cameras()
        purpose = self.purpose.text().strip()
        if self.agency.currentData() is None:
            self._fail(self.tr("There is no agency to share with."))
        elif not cams:
            self._fail(self.tr("Choose at least one camera."))
        elif not purpose:
            self._fail(self.tr("State the purpose of the share (it is recorded and sent to the agency)."))
        else:
            terms = {
                "legal_basis": self.basis.currentData(),
                "requesting_officer": self.officer.text().strip(),
                "case_number": self.case.text().strip(),
            }
            self.shareAccepted.emit(
                str(self.agency.currentData()), cams, self.minutes.value(), purpose, terms
            )
            self.accept()

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Share video with an agency"))
        for label, text in zip(
            self._labels,
            (
                self.tr("Agency:"),
                self.tr("Cameras:"),
                self.tr("Minutes:"),
                self.tr("Purpose:"),
                self.tr("Legal basis:"),
                self.tr("Requesting officer:"),
                self.tr("Case number:"),
            ),
            strict=True,
        ):
            label.setText(text)
        self.basis.setToolTip(self.tr("The law that allows this provision; it is recorded in the ledger"))
        self.officer.setPlaceholderText(self.tr("optional, e.g. 경위 김○○"))
        self.case.setPlaceholderText(self.tr("optional: the request's document or case number"))
        self.minutes.setSuffix(" " + self.tr("min"))
        self.purpose.setPlaceholderText(self.tr("e.g. suspect tracking for patrol units"))
