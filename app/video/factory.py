"""Makes the player backend that :func:`app.video.choice.choose_backend` picks for a URL."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import QWidget

from app.video.backend import PlayerBackend
from app.video.choice import BackendName, BackendSetting, choose_backend
from app.video.qt_backend import QtBackend
from app.video.vlc_backend import VlcBackend, VlcRuntime, vlc_available

__all__ = ["BackendFactory"]

_log = logging.getLogger(__name__)


class BackendFactory:
    """Chooses and creates player backends for a process.

    ``setting`` is the deployment's or operator's choice (``auto``, ``vlc``, ``qt``). The libVLC
    runtime (one ``vlc.Instance`` per process) is created on first use; :meth:`close` releases it,
    after the tiles have released their players. ``vlc_args`` replaces the default libVLC options.
    """

    def __init__(
        self,
        setting: BackendSetting | str = BackendSetting.AUTO,
        *,
        vlc_args: tuple[str, ...] | None = None,
        backend_options: dict[str, Any] | None = None,
    ) -> None:
        self.setting = BackendSetting(setting)
        self._vlc_args = vlc_args
        self._backend_options = dict(backend_options or {})
        self._vlc_available: bool | None = None
        self._vlc_runtime: VlcRuntime | None = None

    @property
    def vlc_available(self) -> bool:
        if self._vlc_available is None:
            self._vlc_available = vlc_available()
        return self._vlc_available

    @property
    def vlc_runtime(self) -> VlcRuntime:
        """The process's libVLC runtime (its ``vlc.Instance`` is created on first use)."""
        if self._vlc_runtime is None:
            self._vlc_runtime = VlcRuntime(self._vlc_args)
        return self._vlc_runtime

    @property
    def vlc_can_rtsp(self) -> bool:
        return self.vlc_available and self.vlc_runtime.can_open_rtsp()

    def choose(self, url: str) -> BackendName:
        """The backend for ``url`` under the current setting."""
        vlc_ok = self.vlc_available
        return choose_backend(
            url,
            self.setting,
            vlc_available=vlc_ok,
            vlc_can_rtsp=vlc_ok and self.vlc_can_rtsp,
        )

    def create(self, name: BackendName, surface_parent: QWidget | None = None) -> PlayerBackend:
        """A new backend of kind ``name`` whose surface is a child of ``surface_parent``."""
        if name is BackendName.VLC:
            return VlcBackend(self.vlc_runtime, surface_parent, **self._backend_options)
        return QtBackend(surface_parent, **self._backend_options)

    def close(self) -> None:
        """Release the libVLC runtime (and any player still alive from it)."""
        if self._vlc_runtime is not None:
            self._vlc_runtime.close()
            self._vlc_runtime = None
