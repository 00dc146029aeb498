"""The libVLC backend (python-vlc): the player draws into a native child window of the tile.

One :class:`VlcRuntime` per process owns the ``vlc.Instance`` (created on first use, with
low-latency options) and every player made from it; the composition root creates it and closes it
at shutdown, after the tiles.

Two rules keep the process alive:

* A libVLC player must be stopped and released before the native window it draws into is destroyed
  (the other order crashes the process in the video output thread). :class:`VlcBackend` installs a
  guard on its surface's ``QWindow`` that stops and releases the player on
  ``SurfaceAboutToBeDestroyed``, i.e. synchronously before the window goes, whichever way the widget
  is destroyed (``close_player()``, ``deleteLater()`` of a parent, application exit).
* libVLC events arrive on libVLC's threads: the callbacks only emit a Qt signal of a bridge object
  (queued to the Qt thread) and never touch widgets or call libVLC.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import uuid
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QImage, QPalette, QPlatformSurfaceEvent, QWindow
from PySide6.QtWidgets import QWidget

from app.video.backend import PlayerBackend, PlayerSample
from app.video.choice import BackendName
from app.video.state import PlayerState

if TYPE_CHECKING:
    import vlc as vlc_types

__all__ = ["DEFAULT_VLC_ARGS", "VlcBackend", "VlcRuntime", "vlc_available"]

_log = logging.getLogger(__name__)

#: libVLC options: low latency, no audio, software decoding, no on-screen text, quiet.
DEFAULT_VLC_ARGS: tuple[str, ...] = (
    "--network-caching=300",  # ms of input buffer for network streams (default 1000)
    "--live-caching=300",
    "--clock-jitter=0",
    "--no-audio",
    "--avcodec-hw=none",  # no GPU here; and VA-API/VDPAU probing costs time per stream
    # Bilinear instead of bicubic where libVLC scales in software (X11 without Xv or OpenGL, e.g.
    # Xvfb): a maximised 640x360 tile went from 19 % to 11 % of a core; GPU outputs ignore it.
    "--swscale-mode=1",
    "--no-video-title-show",
    "--no-osd",
    "--no-spu",
    "--no-snapshot-preview",
    "--no-xlib",  # libVLC shares the process with Qt's X connection: xcb only, no Xlib
    "--quiet",
)


def vlc_available() -> bool:
    """Whether python-vlc imports and finds a libVLC (does not create an instance)."""
    try:
        import vlc
    except (ImportError, OSError, NotImplementedError, SystemExit) as exc:
        _log.info("libVLC not available: %s", exc)
        return False
    return getattr(vlc, "dll", None) is not None


def _libvlc_plugin_dirs() -> list[Path]:
    """Where the loaded libVLC looks for its plugins (best effort, existing directories only)."""
    import vlc

    found: list[Path] = []
    env = os.environ.get("VLC_PLUGIN_PATH")
    if env:
        found += [Path(p) for p in env.split(os.pathsep) if p]
    if vlc.plugin_path:  # Windows and macOS: libVLC's own directory
        base = Path(vlc.plugin_path)
        found += [base / "plugins", base]
    if sys.platform.startswith("linux"):
        try:
            maps = Path("/proc/self/maps").read_text()
        except OSError:
            maps = ""
        for line in maps.splitlines():
            path = line.rsplit(" ", 1)[-1]
            if "/libvlccore.so" in path:
                found.append(Path(path).parent / "vlc" / "plugins")
        found += [*sorted(Path("/usr/lib").glob("*/vlc/plugins")), Path("/usr/lib/vlc/plugins")]
    return [p for i, p in enumerate(found) if p.is_dir() and p not in found[:i]]


class VlcRuntime:
    """The process's ``vlc.Instance`` and the players made from it.

    ``args`` replaces :data:`DEFAULT_VLC_ARGS` (pass ``DEFAULT_VLC_ARGS + (...)`` to extend them).
    :meth:`close` releases every player still alive, then the instance; the runtime can then be used
    again (a new instance is made on demand).
    """

    def __init__(self, args: Sequence[str] | None = None) -> None:
        self.args: tuple[str, ...] = tuple(DEFAULT_VLC_ARGS if args is None else args)
        self._instance: vlc_types.Instance | None = None
        self._players: weakref.WeakSet[VlcBackend] = weakref.WeakSet()
        self._snapshot_dir: tempfile.TemporaryDirectory[str] | None = None
        self._can_rtsp: bool | None = None

    @property
    def instance(self) -> vlc_types.Instance:
        if self._instance is None:
            import vlc

            instance = vlc.Instance(list(self.args))
            if instance is None:
                raise RuntimeError(f"libVLC refused to start with {self.args}")
            self._instance = instance
            _log.info("libVLC %s started", vlc.libvlc_get_version().decode(errors="replace"))
        return self._instance

    def can_open_rtsp(self) -> bool:
        """Whether this libVLC build has the live555 module, which ``rtsp://`` needs.

        Debian's and Ubuntu's builds are configured with ``--disable-live555`` (no plugin, no
        package); the official Windows and macOS builds ship it. libVLC has no API to list access
        modules, so this looks for ``*live555*`` in the plugin directories of the loaded library;
        if no plugin directory can be found it assumes the official builds on Windows and macOS
        and a distribution build elsewhere.
        """
        if self._can_rtsp is None:
            dirs = _libvlc_plugin_dirs()
            if dirs:
                self._can_rtsp = any(next(d.rglob("*live555*"), None) is not None for d in dirs)
            else:
                self._can_rtsp = sys.platform in ("win32", "darwin")
            _log.info("libVLC plugins in %s; rtsp:// %s", dirs, "yes" if self._can_rtsp else "no")
        return self._can_rtsp

    def snapshot_path(self) -> Path:
        if self._snapshot_dir is None:
            self._snapshot_dir = tempfile.TemporaryDirectory(prefix="goldentime-vlc-")
        return Path(self._snapshot_dir.name) / f"{uuid.uuid4().hex}.png"

    def _register(self, backend: VlcBackend) -> None:
        self._players.add(backend)

    def close(self) -> None:
        """Release every player of this runtime, then the ``vlc.Instance``."""
        for backend in list(self._players):
            if shiboken6.isValid(backend):
                backend.release()
            else:  # its QObject is gone (deleted with a parent): free the libVLC player anyway
                backend._handle.release()
        self._players.clear()
        if self._instance is not None:
            self._instance.release()
            self._instance = None
        if self._snapshot_dir is not None:
            self._snapshot_dir.cleanup()
            self._snapshot_dir = None


class _VlcEvents(QObject):
    """Carries libVLC events from libVLC's threads to the Qt thread.

    Signals:
        arrived(int): a ``vlc.EventType`` value (queued to the thread this object lives in).
    """

    arrived = Signal(int)


class _PlayerHandle:
    """A libVLC player and its media, released once, by the backend or by the surface guard."""

    def __init__(self, player: vlc_types.MediaPlayer, event_types: Sequence[Any]) -> None:
        self.player: vlc_types.MediaPlayer | None = player
        self.media: vlc_types.Media | None = None
        self._event_types = tuple(event_types)

    @property
    def released(self) -> bool:
        return self.player is None

    def set_media(self, media: vlc_types.Media) -> None:
        assert self.player is not None
        self.player.set_media(media)
        if self.media is not None:
            self.media.release()
        self.media = media

    def release(self) -> None:
        player, self.player = self.player, None
        if player is None:
            return
        manager = player.event_manager()
        for event_type in self._event_types:  # after this no callback runs (libVLC holds a lock)
            manager.event_detach(event_type)
        player.stop()
        player.release()
        if self.media is not None:
            self.media.release()
            self.media = None


class _SurfaceGuard(QObject):
    """Releases the player when the surface's native window is about to be destroyed.

    Parented to that ``QWindow``, so it lives exactly as long as the window does; it holds the
    player handle itself, not the backend, which may already be gone when a parent widget is deleted.
    """

    def __init__(self, window: QWindow, handle: _PlayerHandle) -> None:
        super().__init__(window)
        self._handle = handle
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.PlatformSurface
            and isinstance(event, QPlatformSurfaceEvent)
            and event.surfaceEventType() == QPlatformSurfaceEvent.SurfaceEventType.SurfaceAboutToBeDestroyed
            and not self._handle.released
        ):
            _log.debug("native window going: releasing its libVLC player first")
            self._handle.release()
        return False


class _VlcSurface(QWidget):
    """A black native child window for libVLC to draw into."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)
        self.setAttribute(Qt.WidgetAttribute.WA_DontCreateNativeAncestors)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Window, Qt.GlobalColor.black)
        self.setPalette(pal)
        self.setAutoFillBackground(True)
        self.setMinimumSize(16, 9)


class VlcBackend(PlayerBackend):
    """Plays a stream with libVLC into a native child window of ``surface_parent``.

    See :class:`PlayerBackend`. Statistics come from ``media.get_stats()`` polled by the base class's
    timer: frames are libVLC's displayed pictures, dropped frames its lost pictures, the bitrate the
    bytes read. The surface is made a child of ``surface_parent`` at once, so that it is never
    reparented (which would give it a new native window under libVLC's feet).

    Signals: those of :class:`PlayerBackend`.
    """

    name: ClassVar[BackendName] = BackendName.VLC
    label: ClassVar[str] = "VLC"

    def __init__(
        self,
        runtime: VlcRuntime,
        surface_parent: QWidget | None = None,
        parent: QObject | None = None,
        **options: Any,
    ) -> None:
        import vlc

        super().__init__(parent, **options)
        self._runtime = runtime
        self._surface = _VlcSurface(surface_parent)
        self._events = _VlcEvents(self)
        self._events.arrived.connect(self._on_vlc_event, Qt.ConnectionType.QueuedConnection)
        self._error_type = int(vlc.EventType.MediaPlayerEncounteredError.value)
        self._end_type = int(vlc.EventType.MediaPlayerEndReached.value)
        event_types = (
            vlc.EventType.MediaPlayerVout,
            vlc.EventType.MediaPlayerEncounteredError,
            vlc.EventType.MediaPlayerEndReached,
        )
        player = runtime.instance.media_player_new()
        # Keep double-clicks and keys for Qt: libVLC's window must not take input events.
        player.video_set_mouse_input(False)
        player.video_set_key_input(False)
        manager = player.event_manager()
        for event_type in event_types:
            manager.event_attach(event_type, self._on_vlc_callback)
        self._handle = _PlayerHandle(player, event_types)
        self._bound_window = 0
        runtime._register(self)

    @property
    def video_widget(self) -> QWidget:
        return self._surface

    @property
    def released(self) -> bool:
        return self._released or self._handle.released

    def _bind_window(self) -> None:
        """Point the player at the surface's current native window (created here if needed)."""
        player = self._handle.player
        assert player is not None
        win_id = int(self._surface.winId())
        if win_id == self._bound_window:
            return
        if sys.platform.startswith("win"):
            player.set_hwnd(win_id)
        elif sys.platform == "darwin":
            player.set_nsobject(win_id)
        else:
            player.set_xwindow(win_id)
        self._bound_window = win_id
        window = self._surface.windowHandle()
        if window is not None:
            _SurfaceGuard(window, self._handle)

    # libVLC thread: emit and return, nothing else.
    def _on_vlc_callback(self, event: vlc_types.Event) -> None:
        self._events.arrived.emit(int(event.type.value))

    @Slot(int)
    def _on_vlc_event(self, event_type: int) -> None:
        if self.released or self._state in (PlayerState.IDLE, PlayerState.OFFLINE, PlayerState.ERROR):
            return
        if event_type == self._error_type:
            self._stream_down(PlayerState.ERROR, f"libVLC could not play {self._url}")
        elif event_type == self._end_type:
            self._stream_down(PlayerState.OFFLINE, "stream ended")
        else:  # a video output appeared: the first picture is close
            self._poll_soon()

    def _backend_open(self, url: str) -> None:
        self._check_alive()
        self._handle.set_media(self._runtime.instance.media_new(url))

    def _backend_play(self) -> None:
        self._check_alive()
        self._bind_window()
        assert self._handle.player is not None
        if self._handle.player.play() != 0:
            self._stream_down(PlayerState.ERROR, f"libVLC could not start {self._url}")

    def _backend_stop(self) -> None:
        if self._handle.player is not None:
            self._handle.player.stop()  # synchronous in libVLC 3: joins the input thread

    def _backend_release(self) -> None:
        self._handle.release()

    def _sample(self) -> PlayerSample | None:
        import vlc

        media = self._handle.media
        if media is None or self._handle.released:
            return None
        stats = vlc.MediaStats()
        if not media.get_stats(stats):
            return None
        return PlayerSample(
            frames=int(stats.displayed_pictures),
            dropped_frames=int(stats.lost_pictures),
            input_bytes=int(stats.read_bytes),
        )

    def snapshot(self) -> QImage | None:
        player = self._handle.player
        if player is None or self._state not in (PlayerState.LIVE, PlayerState.STALLED):
            return None
        path = self._runtime.snapshot_path()
        try:
            # Writes the current decoded picture at the stream's own size (0, 0); ~30 ms.
            if player.video_take_snapshot(0, str(path), 0, 0) != 0 or not path.exists():
                return None
            image = QImage(str(path))
            return None if image.isNull() else image
        finally:
            path.unlink(missing_ok=True)
