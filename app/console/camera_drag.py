"""Dragging a camera (from the map or a camera list) onto a video tile or a wall cell."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

CAMERA_MIME_TYPE = "application/x-goldentime-camera-id"


def camera_id_from_mime(mime: Any) -> str | None:
    """The dragged camera's id, or None when the drag carries no camera."""
    if mime is None or not mime.hasFormat(CAMERA_MIME_TYPE):
        return None
    raw = bytes(mime.data(CAMERA_MIME_TYPE).data()).decode("utf-8", "replace").strip()
    return raw or None


class CameraDropTarget:
    """Mixin (before the Qt widget class in the bases) for a widget that takes a dropped camera.

    Subclasses implement :meth:`_drop_highlight` (show whether a drop would land here) and
    :meth:`_camera_dropped`; the widget must ``setAcceptDrops(True)``.
    """

    def _drop_highlight(self, on: bool) -> None:
        raise NotImplementedError

    def _camera_dropped(self, camera_id: str) -> None:
        raise NotImplementedError

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if camera_id_from_mime(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self._drop_highlight(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if camera_id_from_mime(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QEvent) -> None:
        self._drop_highlight(False)
        super().dragLeaveEvent(event)  # type: ignore[misc]

    def dropEvent(self, event: QDropEvent) -> None:
        self._drop_highlight(False)
        cid = camera_id_from_mime(event.mimeData())
        if cid:
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self._camera_dropped(cid)
        else:
            event.ignore()
