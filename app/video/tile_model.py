"""What a video tile shows and when it reconnects, decided without a screen (the widget renders it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.video.choice import (
    MAIN_STREAM_MIN_SIZE,
    BackendName,
    ReconnectPolicy,
    StreamVariant,
    stream_variant_for_size,
)
from app.video.state import PlayerState, PlayerStats


class TileStatus(StrEnum):
    """The state an operator sees on a tile."""

    EMPTY = "empty"  # no camera assigned
    CONNECTING = "connecting"
    LIVE = "live"
    STALLED = "stalled"
    OFFLINE = "offline"
    ERROR = "error"


_STATUS_OF: dict[PlayerState, TileStatus] = {
    PlayerState.CONNECTING: TileStatus.CONNECTING,
    PlayerState.LIVE: TileStatus.LIVE,
    PlayerState.STALLED: TileStatus.STALLED,
    PlayerState.OFFLINE: TileStatus.OFFLINE,
    PlayerState.ERROR: TileStatus.ERROR,
}


@dataclass(frozen=True, slots=True)
class CameraStreams:
    """A camera as a tile needs it: its name and the URLs of its two streams (either may be empty)."""

    camera_id: str
    name: str
    url_main: str
    url_sub: str

    def url_for(self, variant: StreamVariant) -> str:
        """The URL of ``variant``, or of the other stream when the camera has only one."""
        if variant is StreamVariant.MAIN:
            return self.url_main or self.url_sub
        return self.url_sub or self.url_main


@dataclass(frozen=True, slots=True)
class TileView:
    """A snapshot of everything the tile's overlay shows."""

    status: TileStatus
    camera_id: str | None
    camera_name: str
    backend: BackendName | None
    variant: StreamVariant
    last_frame_age_s: float | None
    reconnect_in_s: float | None
    error: str


class TileStateModel:
    """The state of one tile: camera, stream variant, status, last-frame age and reconnect schedule.

    The widget feeds it events (camera set, size, player state, stats, timer) with the monotonic time
    and renders :meth:`view`. ``reconnect_at`` is when the widget's reconnect timer must fire (None:
    no reconnect pending); when it fires the widget calls :meth:`take_reconnect` and reopens the URL.
    """

    def __init__(
        self,
        policy: ReconnectPolicy | None = None,
        *,
        main_threshold: tuple[int, int] = MAIN_STREAM_MIN_SIZE,
    ) -> None:
        self.policy = policy or ReconnectPolicy()
        self._threshold = main_threshold
        self._camera: CameraStreams | None = None
        self._variant = StreamVariant.SUB
        self._status = TileStatus.EMPTY
        self._backend: BackendName | None = None
        self._last_frame_at: float | None = None
        self._reconnect_at: float | None = None
        self._error = ""

    # -- reading -------------------------------------------------------------------------------

    @property
    def camera(self) -> CameraStreams | None:
        return self._camera

    @property
    def status(self) -> TileStatus:
        return self._status

    @property
    def variant(self) -> StreamVariant:
        return self._variant

    @property
    def backend(self) -> BackendName | None:
        return self._backend

    @property
    def reconnect_at(self) -> float | None:
        return self._reconnect_at

    @property
    def url(self) -> str | None:
        """The URL the tile should play now (None without a camera or without any URL)."""
        if self._camera is None:
            return None
        return self._camera.url_for(self._variant) or None

    def view(self, now: float) -> TileView:
        cam = self._camera
        age = None if self._last_frame_at is None else max(0.0, now - self._last_frame_at)
        wait = None if self._reconnect_at is None else max(0.0, self._reconnect_at - now)
        return TileView(
            status=self._status,
            camera_id=cam.camera_id if cam else None,
            camera_name=cam.name if cam else "",
            backend=self._backend,
            variant=self._variant,
            last_frame_age_s=age,
            reconnect_in_s=wait,
            error=self._error,
        )

    # -- events --------------------------------------------------------------------------------

    def set_camera(self, camera_id: str, name: str, url_main: str, url_sub: str) -> str | None:
        """Assign a camera; returns the URL to open (None when the camera has no stream URL)."""
        self._camera = CameraStreams(camera_id, name, url_main, url_sub)
        self._reset_stream_state()
        url = self.url
        self._status = TileStatus.CONNECTING if url else TileStatus.ERROR
        self._error = "" if url else "no stream URL"
        return url

    def clear(self) -> None:
        self._camera = None
        self._reset_stream_state()
        self._status = TileStatus.EMPTY

    def set_backend(self, backend: BackendName | None) -> None:
        self._backend = backend

    def update_size(self, width: int, height: int) -> bool:
        """The tile's on-screen size (physical pixels). True when the URL to play changed."""
        before = self.url
        self._variant = stream_variant_for_size(width, height, self._variant, threshold=self._threshold)
        return self._camera is not None and self.url != before

    def on_opened(self) -> None:
        """The widget (re)opened :attr:`url`."""
        self._reconnect_at = None
        self._error = ""
        self._status = TileStatus.CONNECTING

    def on_player_state(self, state: PlayerState, now: float) -> None:
        if self._camera is None:
            return
        status = _STATUS_OF.get(state)
        if status is None:  # idle: the tile stopped the player itself
            return
        self._status = status
        if state is PlayerState.LIVE:
            self._error = ""
            self._last_frame_at = now
            self._reconnect_at = None
            self.policy.mark_live(now)
        elif state.is_down and self._reconnect_at is None:
            self.policy.mark_down(now)
            self._reconnect_at = now + self.policy.next_delay()

    def on_error(self, message: str) -> None:
        self._error = message

    def on_stats(self, stats: PlayerStats, now: float) -> None:
        if stats.last_frame_age_s is not None:
            self._last_frame_at = now - stats.last_frame_age_s

    def take_reconnect(self, now: float) -> str | None:
        """The reconnect timer fired: the URL to reopen, or None if nothing is due any more."""
        if self._reconnect_at is None or self._camera is None:
            self._reconnect_at = None
            return None
        if now < self._reconnect_at:
            return None
        return self.url

    def reconnect_now(self) -> None:
        """The operator asked to reconnect: forget the backoff series."""
        self.policy.reset()
        self._reconnect_at = None

    def _reset_stream_state(self) -> None:
        self.policy.reset()
        self._last_frame_at = None
        self._reconnect_at = None
        self._error = ""
