"""Player state and statistics: plain values shared by the backends, the tile and its model (no Qt)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PlayerState(StrEnum):
    """Where a player is with its stream.

    ``idle``: nothing playing (before ``play()``, after ``stop()``). ``connecting``: opening the
    stream, no frame yet. ``live``: frames arrive. ``stalled``: it was live but no new frame for
    longer than the stall limit (2 s). ``offline``: the stream ended or the connection dropped (a
    live stream never ends by itself). ``error``: the backend could not open or decode it.
    """

    IDLE = "idle"
    CONNECTING = "connecting"
    LIVE = "live"
    STALLED = "stalled"
    OFFLINE = "offline"
    ERROR = "error"

    @property
    def is_down(self) -> bool:
        """True for the states a tile reconnects from."""
        return self in (PlayerState.STALLED, PlayerState.OFFLINE, PlayerState.ERROR)


@dataclass(frozen=True, slots=True)
class PlayerStats:
    """One statistics sample of a player.

    ``fps``: frames shown per second since the previous sample. ``frames``: frames since ``play()``.
    ``dropped_frames``: frames lost or dropped since ``play()`` (None when the backend cannot tell).
    ``bitrate_kbps``: input bitrate since the previous sample (None when the backend cannot tell).
    ``last_frame_age_s``: seconds since the last new frame (None before the first frame).
    """

    fps: float
    frames: int
    dropped_frames: int | None
    bitrate_kbps: float | None
    last_frame_age_s: float | None
