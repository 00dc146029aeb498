"""Pure decisions of the video layer: which backend plays a URL, which stream variant a tile plays,
and when a tile reconnects. No Qt, no libVLC: everything here is testable without a screen.
"""

from __future__ import annotations

import random
from enum import StrEnum
from urllib.parse import urlsplit


class BackendName(StrEnum):
    """A player backend. The value is what settings and logs use."""

    VLC = "vlc"
    QT = "qt"


class BackendSetting(StrEnum):
    """The operator's or deployment's backend setting: ``auto`` chooses per URL, the others override."""

    AUTO = "auto"
    VLC = "vlc"
    QT = "qt"


class StreamVariant(StrEnum):
    """A camera's two encodings: the full-resolution main stream and the small sub-stream."""

    MAIN = "main"
    SUB = "sub"


# Schemes every libVLC 3 build opens (access modules http, https, file, udp, rtp, hls via http).
VLC_BASE_SCHEMES: frozenset[str] = frozenset({"http", "https", "file", "udp", "rtp"})
# Schemes that need libVLC's live555 module (absent from Debian's and Ubuntu's builds).
RTSP_SCHEMES: frozenset[str] = frozenset({"rtsp", "rtsps", "rtspt", "rtspu"})
# Qt Multimedia (FFmpeg) opens all of these, so it is the fallback for anything libVLC cannot open.


def url_scheme(url: str) -> str:
    """The URL's scheme in lower case; a bare path counts as ``file``."""
    scheme = urlsplit(url).scheme.lower()
    if not scheme or len(scheme) == 1:  # "" or a Windows drive letter ("C:\\...")
        return "file"
    return scheme


def vlc_can_open(url: str, *, vlc_can_rtsp: bool) -> bool:
    """Whether a libVLC build (with or without live555) can open this URL's scheme."""
    scheme = url_scheme(url)
    return scheme in VLC_BASE_SCHEMES or (vlc_can_rtsp and scheme in RTSP_SCHEMES)


def choose_backend(
    url: str,
    setting: BackendSetting | str = BackendSetting.AUTO,
    *,
    vlc_available: bool,
    vlc_can_rtsp: bool,
) -> BackendName:
    """The backend that plays ``url``.

    ``auto``: libVLC when it is installed and its build opens the URL's scheme (``rtsp://`` only with
    the live555 module: not on Debian or Ubuntu, yes on the official Windows and macOS builds),
    otherwise Qt Multimedia, which opens everything FFmpeg opens. ``vlc`` or ``qt`` override the
    choice; ``vlc`` falls back to Qt when libVLC is not installed at all (it could not play anything).
    """
    choice = BackendSetting(setting)
    if choice is BackendSetting.QT:
        return BackendName.QT
    if choice is BackendSetting.VLC:
        return BackendName.VLC if vlc_available else BackendName.QT
    if vlc_available and vlc_can_open(url, vlc_can_rtsp=vlc_can_rtsp):
        return BackendName.VLC
    return BackendName.QT


# A tile bigger than this on screen (physical pixels) plays the main stream: a 2×2 grid on a
# 1080p screen stays on sub-streams, a maximised tile switches to the main stream.
MAIN_STREAM_MIN_SIZE: tuple[int, int] = (960, 540)
# Going back down needs the tile to shrink this much below the threshold, so a tile resized
# around the threshold does not flap between the two streams.
VARIANT_HYSTERESIS = 0.9


def stream_variant_for_size(
    width: int,
    height: int,
    current: StreamVariant | None = None,
    *,
    threshold: tuple[int, int] = MAIN_STREAM_MIN_SIZE,
) -> StreamVariant:
    """``main`` for a tile wider or taller on screen than ``threshold``, else ``sub``.

    With ``current`` = main, the tile keeps the main stream until it is smaller than 90 % of the
    threshold in both directions (hysteresis).
    """
    tw, th = threshold
    if current is StreamVariant.MAIN:
        tw, th = int(tw * VARIANT_HYSTERESIS), int(th * VARIANT_HYSTERESIS)
        return StreamVariant.MAIN if width >= tw or height >= th else StreamVariant.SUB
    return StreamVariant.MAIN if width > tw or height > th else StreamVariant.SUB


class ReconnectPolicy:
    """Capped exponential backoff with jitter for reconnecting a stream.

    Delays double from ``base_s`` (0.5, 1, 2, 4, 8 s …) up to ``cap_s`` (10 s), each multiplied by a
    random factor in ``[1 - jitter, 1 + jitter]`` (then capped), so that many tiles losing a relay at
    once do not come back in lockstep. A stream that stayed live for ``stable_s`` resets the series:
    its next failure waits ``base_s`` again. Times are monotonic seconds given by the caller.
    """

    def __init__(
        self,
        *,
        base_s: float = 0.5,
        cap_s: float = 10.0,
        jitter: float = 0.2,
        stable_s: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        if base_s <= 0 or cap_s < base_s or not 0 <= jitter < 1 or stable_s < 0:
            raise ValueError("invalid reconnect policy")
        self.base_s = base_s
        self.cap_s = cap_s
        self.jitter = jitter
        self.stable_s = stable_s
        self._rng = rng or random.Random()
        self._attempt = 0
        self._live_since: float | None = None

    @property
    def attempt(self) -> int:
        """Reconnects scheduled since the stream was last stable."""
        return self._attempt

    def nominal_delay(self, attempt: int) -> float:
        """The delay before reconnect number ``attempt`` (0-based), without jitter."""
        return min(self.cap_s, self.base_s * (1 << min(attempt, 30)))

    def mark_live(self, now: float) -> None:
        """The stream shows frames (again) from ``now``."""
        if self._live_since is None:
            self._live_since = now

    def mark_down(self, now: float) -> None:
        """The stream went down at ``now``: a long enough live period before resets the series."""
        if self._live_since is not None and now - self._live_since >= self.stable_s:
            self._attempt = 0
        self._live_since = None

    def next_delay(self) -> float:
        """Seconds to wait before the next reconnect; counts one attempt."""
        delay = self.nominal_delay(self._attempt)
        self._attempt += 1
        if self.jitter:
            delay *= self._rng.uniform(1 - self.jitter, 1 + self.jitter)
        return min(self.cap_s, delay)

    def reset(self) -> None:
        """Forget the series (a new camera, or the operator asked to reconnect)."""
        self._attempt = 0
        self._live_since = None
