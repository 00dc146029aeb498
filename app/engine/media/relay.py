"""Media relay: one upstream pull per camera URL, remuxed once to MPEG-TS, fanned out to every viewer.

Design (DESIGN §4 "Media", §5, §8 2026-12-05):

* A *channel* per upstream URL. Its supervisor task runs one ``ffmpeg -c copy`` child per connection
  attempt (:func:`ffmpeg_command`): the first video stream, copied — never decoded or re-encoded —
  into MPEG-TS on the child's stdout (consoles, walls, libVLC/PyAV) and — once a browser viewer or an
  MP4 pre-warm asked for it, then for the channel's life — into fragmented MP4, one fragment per frame,
  on a second pipe (browsers' Media Source Extensions; the child is started again with that output,
  TS viewers staying attached). The event loop reads both
  pipes; :mod:`.streams` cuts them at keyframes and each piece is appended to every viewer's queue of
  that kind. Muxing once per camera (not per viewer) keeps the cost flat in the number of viewers,
  and the per-packet work is FFmpeg's C, not Python (the PyAV pull cost 1.5–2× an ``ffmpeg -c copy``).
  The child gets SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), so a killed media process
  leaves no puller behind.
* GOP cache, per output: the pieces since the last keyframe. A viewer starting at a keyframe gets,
  in front of it, the last PAT/PMT (TS) or the init segment (MP4); FFmpeg puts SPS/PPS (H.264) and
  VPS/SPS/PPS (H.265) in the keyframe's PES. A new viewer gets the cache at once and decodes its first
  frame immediately; without a cache (or on a stalled camera) it starts at the next keyframe.
* Video only: a camera's audio is not relayed.
* A slow viewer (more than ``viewer_queue_bytes`` waiting) is dropped; others never wait for it.
* After the last viewer leaves, the upstream stays open ``idle_grace`` seconds (``prewarm`` extends
  that); a failed or ended upstream reconnects with capped exponential backoff while it is wanted.
  The TS output keeps running timestamps across reconnects (``-output_ts_offset`` after the last PTS
  sent), so TS viewers stay attached through a blip; MP4 viewers restart at the next keyframe with the
  new init segment (the page appends it and carries on).
* States per channel: idle (no upstream), connecting (first attempt), live, stalled (connected, no
  packet for ``stall_after``), offline (the last attempt failed; retried while wanted, and kept as
  the last known state once nobody wants the camera: the next viewer or prewarm tries again), with
  the last error; listeners hear every change.

Everything runs on the relay's event loop (no threads); the relay's tasks are kept and cancelled in
:meth:`MediaRelay.aclose`, which also stops the children.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import fcntl
import logging
import os
import random
import select
import shutil
import signal
import subprocess
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from app.engine.media.streams import Mp4Cutter, Piece, TsCutter, codec_string

log = logging.getLogger(__name__)

#: Small probing: opening RTSP takes ~0.25 s. No ``fflags=nobuffer``: it makes FFmpeg drop
#: the packets read while probing, which hold the session's first keyframe, and the first viewer would
#: wait a whole GOP more (measured: first packet at 0.27 s and a keyframe, against ~1.2 s).
DEFAULT_INPUT_OPTIONS: Mapping[str, str] = {
    "rtsp_transport": "tcp",
    "probesize": "32768",
    "analyzeduration": "100000",
}


class CameraState(enum.StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    LIVE = "live"
    STALLED = "stalled"
    OFFLINE = "offline"


@dataclass(frozen=True)
class RelayConfig:
    """Tunables of :class:`MediaRelay` (seconds unless stated)."""

    idle_grace: float = 5.0  # keep the upstream this long after the last viewer leaves
    prewarm_for: float = 30.0  # default time :meth:`MediaRelay.prewarm` keeps an upstream open
    open_timeout: float = 10.0
    read_timeout: float = 5.0  # no packet for this long ends the attempt (then reconnect)
    stall_after: float = 2.0  # no packet for this long while connected: state "stalled"
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    viewer_queue_bytes: int = 8 * 1024 * 1024  # a viewer further behind than this is dropped
    gop_cache: bool = True  # start new viewers from the cached GOP (else: at the next keyframe)
    gop_cache_max_bytes: int = 16 * 1024 * 1024
    tick: float = 0.5  # supervisor housekeeping period (stall detection, idle close)
    #: How the children's pipes are read: 0 reads each as soon as it has data (one wake-up of the
    #: process per frame and camera, lowest latency); > 0 reads every pipe once per this many seconds
    #: in one wake-up (all cameras share it: the CPU cost stops growing with the frame rate and the
    #: number of cameras, for up to this much added latency). See :class:`_Pump`.
    batch_interval: float = 0.1
    input_options: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_INPUT_OPTIONS))
    ffmpeg: str = field(default_factory=lambda: shutil.which("ffmpeg") or "ffmpeg")


@dataclass(frozen=True)
class ChannelStatus:
    """A snapshot of one upstream channel."""

    camera_id: str
    url: str  # credentials removed
    state: CameraState
    last_error: str | None
    viewers: int
    upstream_opens: int  # upstream connections successfully opened so far
    upstream_attempts: int
    viewers_dropped: int
    bytes_in: int  # TS bytes produced
    last_packet_age: float | None  # seconds since the last packet, None before the first
    codec: str | None
    width: int | None
    height: int | None
    since: datetime  # when the state last changed
    mime_codec: str | None = None  # RFC 6381 codec of the MP4 output (what a browser is asked to play)
    pid: int | None = None  # of the ffmpeg child pulling the camera
    transcoded: bool = False  # the camera's shared H.264 transcode for browsers (else a copy)


@dataclass(frozen=True)
class RelayStats:
    channels: tuple[ChannelStatus, ...]
    upstream_opens: int  # total over all channels since the relay started
    viewers: int

    def for_camera(self, camera_id: str) -> list[ChannelStatus]:
        return [c for c in self.channels if c.camera_id == camera_id]


#: Writes one chunk to a viewer's connection; returns the bytes still waiting to be sent, or -1 if gone.
Sink = Callable[[bytes], int]


class RelayClosed(RuntimeError):
    """The relay is closed; no new viewers."""


class UpstreamUnavailable(RuntimeError):
    """The camera could not be reached before the viewer got any data."""


def redact_url(url: str) -> str:
    """``url`` without user name and password, for logs and status."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


# ------------------------------------------------------------------------------------------------
# Viewer
# ------------------------------------------------------------------------------------------------


class Viewer:
    """One subscriber of a channel: an async iterator of MPEG-TS bytes.

    Use ``async with relay.subscribe(camera_id, url) as viewer: async for data in viewer: ...`` or
    :meth:`read`. Leaving the ``async with`` (or :meth:`close`) unsubscribes.
    """

    def __init__(self, channel: _Channel, client: str, started: bool, kind: str = "ts") -> None:
        self._channel = channel
        self.client = client
        self.kind = kind  # "ts" (MPEG-TS) or "mp4" (fragmented MP4 for MSE)
        self.camera_id = channel.camera_id
        self.opened_at = datetime.now(UTC)
        self.bytes_read = 0
        self.close_reason: str | None = None
        self._queue: deque[bytes] = deque()
        self._queued = 0
        self._started = started  # False: waiting for the next keyframe
        self._got_data = False
        self._upstream_error: str | None = None
        self._wakeup = asyncio.Event()
        self._sink: Sink | None = None  # set by attach(): chunks go straight to the connection
        self._backlog = 0  # what the sink said was still waiting to be sent

    @property
    def closed(self) -> bool:
        return self.close_reason is not None

    @property
    def pending(self) -> int:
        """Bytes given to this viewer and not yet sent (queued here, or waiting in its connection)."""
        return self._backlog if self._sink is not None else self._queued

    # called by the channel, on the loop
    def _feed(self, chunk: bytes, start: bytes | None, limit: int) -> bool:
        """Queue ``chunk``; False if this viewer is too far behind and must be dropped. A viewer that
        has not started yet starts at a keyframe, with ``start`` (PAT/PMT + the keyframe)."""
        if self.close_reason is not None:
            return True
        if not self._started:
            if start is None:
                return True
            self._started = True
            chunk = start
        sink = self._sink
        if sink is not None:
            self._backlog = backlog = sink(chunk)
            self.bytes_read += len(chunk)
            if backlog < 0:
                self._end("client disconnected")
                return True
            return backlog <= limit
        if self._queued + len(chunk) > limit and self._queue:
            return False
        self._queue.append(chunk)
        self._queued += len(chunk)
        self._got_data = True
        self._wakeup.set()
        return True

    def attach(self, sink: Sink) -> None:
        """Hand every chunk from now on straight to ``sink`` (on the loop, as the channel gets it: no queue
        and no task switch per chunk), beginning with anything already queued. ``sink(data)`` writes
        ``data`` to the viewer's connection and returns how many bytes are still waiting to be sent
        there (-1: the connection is gone, which ends the viewer); more than ``viewer_queue_bytes``
        drops the viewer as too slow, as a long queue does. :meth:`read` then only waits for the end."""
        queued = list(self._queue)
        self._queue.clear()
        self._queued = 0
        self._sink = sink
        limit = self._channel.config.viewer_queue_bytes
        for chunk in queued:
            if self.close_reason is None and not self._feed(chunk, chunk, limit):
                self._channel.drop_slow(self)

    def _restart(self) -> None:
        """The upstream reconnected: start again at its next keyframe (MP4: with the new init segment)."""
        self._started = False

    def _prefill(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            self._queue.append(chunk)
            self._queued += len(chunk)
        self._got_data = bool(self._queue)
        if self._queue:
            self._wakeup.set()

    def _upstream_failed(self, error: str) -> None:
        if not self._got_data:
            self._upstream_error = error
            self._wakeup.set()

    def _end(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason
            self._sink = None
            self._wakeup.set()

    # consumer API
    async def read(self, max_wait: float | None = None) -> bytes | None:
        """Everything queued, as one bytes object; ``b""`` after ``max_wait`` seconds without data;
        ``None`` once the viewer is closed.

        Raises :class:`UpstreamUnavailable` if the upstream failed before this viewer got any data.
        """
        while True:
            if self._queue:
                data = b"".join(self._queue)
                self._queue.clear()
                self._queued = 0
                self.bytes_read += len(data)
                return data
            if self.close_reason is not None:
                return None
            if self._upstream_error is not None:
                error, self._upstream_error = self._upstream_error, None
                raise UpstreamUnavailable(error)
            self._wakeup.clear()
            if max_wait is None:
                await self._wakeup.wait()
            else:
                try:
                    async with asyncio.timeout(max_wait):
                        await self._wakeup.wait()
                except TimeoutError:
                    return b""

    async def first_data(self, max_wait: float) -> bytes:
        """The first bytes for this viewer; raises :class:`UpstreamUnavailable` if the upstream fails
        (or nothing arrives within ``max_wait`` seconds) before that."""
        deadline = asyncio.get_running_loop().time() + max_wait
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise UpstreamUnavailable(self._channel.last_error or f"no video within {max_wait:g} s")
            data = await self.read(remaining)
            if data is None:
                raise UpstreamUnavailable(f"viewer closed: {self.close_reason}")
            if data:
                return data

    def close(self, reason: str = "closed") -> None:
        """Unsubscribe (idempotent)."""
        self._end(reason)
        self._channel.remove_viewer(self)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        data = await self.read()
        if data is None:
            raise StopAsyncIteration
        return data

    async def __aenter__(self) -> Viewer:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# ------------------------------------------------------------------------------------------------
# Upstream side: one ``ffmpeg -c copy`` child per attempt
# ------------------------------------------------------------------------------------------------


#: Channel key prefix of the one shared H.264 transcode of a camera (see :meth:`MediaRelay.subscribe`).
TRANSCODE_PREFIX = "h264+"
#: The transcode: x264 at its cheapest and with no look-ahead (no added latency), a keyframe every
#: second whatever the frame rate, at most 1280 pixels wide.
TRANSCODE_OPTIONS = ("-vf", "scale=w='min(1280,iw)':h=-2", "-c:v", "libx264", "-preset", "ultrafast",
                     "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-flags", "+global_header",
                     "-force_key_frames", "expr:if(isnan(prev_forced_t),1,gte(t,prev_forced_t+1))")  # fmt: skip


def ffmpeg_command(
    url: str, cfg: RelayConfig, mp4_fd: int | None, ts_offset: float, transcode: bool = False
) -> list[str]:
    """The child that pulls ``url``: video copied (never decoded) into MPEG-TS on stdout and, when
    ``mp4_fd`` is given, fragmented MP4 (one fragment per frame, for browsers' MSE) on that descriptor.
    ``transcode``: encoded once to H.264 instead (for browsers that cannot decode the camera's codec),
    the one encoding written to both outputs by FFmpeg's ``tee`` muxer."""
    scheme = url.split(":", 1)[0].lower()
    options = dict(cfg.input_options)
    if scheme not in ("rtsp", "rtsps"):
        options.pop("rtsp_transport", None)
    if scheme in _SOCKET_TIMEOUT_SCHEMES and "timeout" not in options:
        options["timeout"] = str(int(cfg.read_timeout * 1_000_000))
    cmd = [cfg.ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin"]
    for key, value in options.items():
        cmd += [f"-{key}", value]
    cmd += ["-i", url]
    offset = ["-output_ts_offset", f"{ts_offset:.6f}"] if ts_offset > 0 else []
    if transcode and mp4_fd is not None:
        tee = ("[f=mpegts:max_delay=0:bsfs/v=dump_extra=freq=keyframe]pipe\\:1|"
               f"[f=mp4:movflags=empty_moov+default_base_moof+frag_every_frame]pipe\\:{mp4_fd}")  # fmt: skip
        return [*cmd, "-map", "0:v:0", *TRANSCODE_OPTIONS, *offset, "-f", "tee", "-flush_packets", "1", tee]
    cmd += ["-map", "0:v:0", "-c", "copy", *offset, "-f", "mpegts", "-flush_packets", "1",
            "-muxdelay", "0", "-muxpreload", "0", "pipe:1"]  # fmt: skip
    if mp4_fd is None:
        return cmd
    cmd += ["-map", "0:v:0", "-c", "copy", "-f", "mp4", "-flush_packets", "1",
            "-movflags", "empty_moov+default_base_moof+frag_every_frame", f"pipe:{mp4_fd}"]  # fmt: skip
    return cmd


def _load_prctl() -> Any:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _load_prctl()  # looked up now: nothing may be imported between fork and exec


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGKILL when the media process dies (even by SIGKILL)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class _Outcome:
    got_packets: bool
    error: str | None
    again: bool = False  # ended on purpose to start again at once (the MP4 output is wanted now)


class _Pump:
    """Reads the children's pipes (non-blocking descriptors) for the whole relay.

    With ``interval`` 0 each descriptor is watched by the event loop and read when it has data.
    With ``interval`` > 0 the pipes sit in an epoll set of their own that the event loop does not
    watch: one timer asks it every ``interval`` seconds which pipes have data and reads those, so one
    wake-up of the process serves every camera (the wake-up around a frame, not the Python work on
    it, was most of the relay's CPU). A pipe holds 64 KiB (1 MiB where the kernel allows it): at a
    few Mbit/s far more than an interval's worth; when it is full the child simply waits.
    """

    READ_SIZE = 1 << 20

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        self.loop = loop
        self.interval = interval
        self._readers: dict[int, tuple[Callable[[bytes], None], Callable[[], None]]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._epoll = select.epoll() if interval > 0 else None
        self._buf = bytearray(self.READ_SIZE)
        self._view = memoryview(self._buf)

    def add(self, fd: int, on_data: Callable[[bytes], None], on_eof: Callable[[], None]) -> None:
        os.set_blocking(fd, False)
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, 1031, 1 << 20)  # F_SETPIPE_SZ (Linux): room for a keyframe or two
        self._readers[fd] = (on_data, on_eof)
        if self._epoll is None:
            self.loop.add_reader(fd, self._read, fd)
            return
        self._epoll.register(fd, select.EPOLLIN)
        if self._timer is None:
            self._timer = self.loop.call_later(self.interval, self._tick)

    def remove(self, fd: int) -> None:
        if self._readers.pop(fd, None) is None:
            return
        if self._epoll is None:
            self.loop.remove_reader(fd)
        else:
            with contextlib.suppress(OSError, ValueError):
                self._epoll.unregister(fd)

    def _tick(self) -> None:
        self._timer = None
        if self._epoll is None or not self._readers:
            return
        self._timer = self.loop.call_later(self.interval, self._tick)
        for fd, _events in self._epoll.poll(0):
            self._read(fd)

    def _read(self, fd: int) -> None:
        entry = self._readers.get(fd)
        if entry is None:
            return
        on_data, on_eof = entry
        try:
            # Into one buffer kept for the relay's life: os.read(fd, 1 MiB) would allocate (mmap) a
            # megabyte for every read and shrink it, which cost more than the rest of a frame's work.
            n = os.readv(fd, (self._buf,))
        except BlockingIOError:
            return
        except OSError:
            n = 0
        data = self._view[:n].tobytes()
        if not data:
            self.remove(fd)
            on_eof()
            return
        try:
            on_data(data)
        except Exception:
            log.exception("relay: handling the output of a camera failed")

    def close(self) -> None:
        for fd in list(self._readers):
            self.remove(fd)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._epoll is not None:
            self._epoll.close()


# ------------------------------------------------------------------------------------------------
# Channel
# ------------------------------------------------------------------------------------------------


class _Channel:
    def __init__(self, relay: MediaRelay, camera_id: str, url: str, transcode: bool = False) -> None:
        self.relay = relay
        self.config = relay.config
        self.loop = relay.loop
        self.camera_id = camera_id
        self.url = url
        self.transcode = transcode  # the shared H.264 transcode (browsers only), not a copy
        self.safe_url = redact_url(url) + ("#h264" if transcode else "")
        self.viewers: set[Viewer] = set()
        self.state = CameraState.IDLE
        self.last_error: str | None = None
        self.since = datetime.now(UTC)
        self.upstream_opens = 0
        self.upstream_attempts = 0
        self.viewers_dropped = 0
        self.bytes_in = 0
        self.last_packet_at: float | None = None
        self.codec: str | None = None
        self.mime_codec: str | None = None  # RFC 6381, e.g. avc1.42C01F (from the MP4 init segment)
        self.width: int | None = None
        self.height: int | None = None
        self.gop: dict[str, list[bytes]] = {"ts": [], "mp4": []}
        self.gop_bytes: dict[str, int] = {"ts": 0, "mp4": 0}
        self.init: bytes | None = None  # MP4 init segment of the current attempt
        self.keep_until = 0.0
        self.task: asyncio.Task[None] | None = None
        self.proc: _Child | None = None
        self.got = False  # the current attempt has sent video
        self._attempt_end: asyncio.Future[tuple[str | None, bool]] | None = None
        self._opened_at = 0.0
        self.ts_cutter = TsCutter()
        self.last_pts_wall = 0.0
        self.attempt = 0
        self.poke = asyncio.Event()
        # The MP4 output (browsers) is produced once a browser viewer or an MP4 pre-warm asked for it, and
        # then for the channel's life; a channel only consoles and walls watch pulls MPEG-TS alone.
        self.want_mp4 = transcode
        self.with_mp4 = False  # the current attempt has the MP4 output

    # --- status -----------------------------------------------------------------------------------
    def status(self) -> ChannelStatus:
        age = None if self.last_packet_at is None else max(0.0, self.loop.time() - self.last_packet_at)
        return ChannelStatus(
            camera_id=self.camera_id,
            url=self.safe_url,
            state=self.state,
            last_error=self.last_error,
            viewers=len(self.viewers),
            upstream_opens=self.upstream_opens,
            upstream_attempts=self.upstream_attempts,
            viewers_dropped=self.viewers_dropped,
            bytes_in=self.bytes_in,
            last_packet_age=age,
            codec=self.codec,
            width=self.width,
            height=self.height,
            since=self.since,
            mime_codec=self.mime_codec,
            pid=self.proc.pid if self.proc is not None and self.proc.returncode is None else None,
            transcoded=self.transcode,
        )

    def set_state(self, state: CameraState, error: str | None = None) -> None:
        changed = state != self.state or (error is not None and error != self.last_error)
        if error is not None:
            self.last_error = error
        if not changed:
            return
        previous, self.state = self.state, state
        self.since = datetime.now(UTC)
        if state in (CameraState.OFFLINE, CameraState.STALLED) and previous not in (
            CameraState.OFFLINE,
            CameraState.STALLED,
        ):
            log.warning("camera %s (%s) %s: %s", self.camera_id, self.safe_url, state, self.last_error)
        elif state == CameraState.LIVE and previous in (CameraState.OFFLINE, CameraState.STALLED):
            log.info("camera %s (%s) live again", self.camera_id, self.safe_url)
        else:
            log.debug("camera %s: %s -> %s", self.camera_id, previous, state)
        self.relay._notify(self.status())

    # --- viewers ----------------------------------------------------------------------------------
    def add_viewer(self, client: str, kind: str = "ts") -> Viewer:
        if kind == "mp4":
            self.want_mp4 = True
            if not self.with_mp4:
                self._end_attempt(None, again=True)  # start again at once, with the MP4 output
        # A stalled camera's cache is stale: such a viewer waits for the next keyframe instead.
        gop = self.gop[kind]
        use_cache = self.config.gop_cache and bool(gop) and self.state == CameraState.LIVE
        viewer = Viewer(self, client, started=use_cache, kind=kind)
        if use_cache:
            viewer._prefill(gop)
        self.viewers.add(viewer)
        self.ensure_running()
        self.relay._notify(self.status())
        return viewer

    def remove_viewer(self, viewer: Viewer) -> None:
        if viewer not in self.viewers:
            return
        self.viewers.discard(viewer)
        if not self.viewers:
            self.keep_until = max(self.keep_until, self.loop.time() + self.config.idle_grace)
        self.relay._notify(self.status())

    def prewarm(self, seconds: float, mp4: bool = False) -> None:
        self.keep_until = max(self.keep_until, self.loop.time() + seconds)
        self.want_mp4 = self.want_mp4 or mp4
        if mp4 and not self.with_mp4:
            self._end_attempt(None, again=True)
        self.ensure_running()

    def wanted(self) -> bool:
        return not self.relay.closed and (bool(self.viewers) or self.loop.time() < self.keep_until)

    def ensure_running(self) -> None:
        if self.task is None or self.task.done():
            self.task = self.relay._spawn(self.supervise(), f"relay-{self.camera_id}")
        else:
            self.poke.set()  # cut a backoff wait short: someone wants this camera now

    # --- data from the child ----------------------------------------------------------------------
    def on_piece(self, kind: str, piece: Piece) -> None:
        """One piece of ``kind`` ("ts" or "mp4") bytes; a keyed piece is where a viewer may start."""
        data = piece.data
        now = self.loop.time()
        self.last_packet_at = now
        if kind == "ts":
            self.bytes_in += len(data)
            if self.state != CameraState.LIVE:
                self.set_state(CameraState.LIVE)
            start = (self.ts_cutter.psi() + data) if piece.key else None
        else:
            start = (self.init + data) if piece.key and self.init is not None else None
        gop = self.gop[kind]
        if start is not None:
            gop[:] = [start]
            self.gop_bytes[kind] = len(start)
        elif gop:
            gop.append(data)
            self.gop_bytes[kind] += len(data)
            if self.gop_bytes[kind] > self.config.gop_cache_max_bytes:
                gop.clear()
                self.gop_bytes[kind] = 0
        limit = self.config.viewer_queue_bytes
        for viewer in list(self.viewers):  # every viewer gets the same bytes object
            if viewer.kind == kind and not viewer._feed(data, start, limit):
                self.drop_slow(viewer)

    def drop_slow(self, viewer: Viewer) -> None:
        self.viewers_dropped += 1
        log.warning("camera %s: dropping slow viewer %s", self.camera_id, viewer.client or "?")
        viewer._end("too slow")
        self.remove_viewer(viewer)

    def on_init(self, init: bytes) -> None:
        """A new MP4 init segment (a new upstream connection): MSE viewers start over at a keyframe."""
        described = codec_string(init)
        if described is not None:
            self.mime_codec, self.width, self.height = described
        if self.init is not None and self.init != init:
            for viewer in list(self.viewers):
                if viewer.kind == "mp4":
                    viewer._end("video format changed")
                    self.viewers.discard(viewer)
        self.init = init
        self.gop["mp4"].clear()
        self.gop_bytes["mp4"] = 0
        for viewer in self.viewers:  # still attached: start again at the next keyframe, new init first
            if viewer.kind == "mp4":
                viewer._restart()

    # --- supervisor -------------------------------------------------------------------------------
    async def supervise(self) -> None:
        failures = 0
        try:
            while self.wanted():
                self.attempt += 1
                self.upstream_attempts += 1
                if self.state == CameraState.IDLE:  # retries stay "offline" until live again
                    self.set_state(CameraState.CONNECTING)
                outcome = await self.run_attempt()
                if not self.wanted():
                    break
                if outcome.again:
                    for kind in self.gop:
                        self.gop[kind].clear()
                        self.gop_bytes[kind] = 0
                    continue
                failures = 0 if outcome.got_packets else failures + 1
                for kind in self.gop:
                    self.gop[kind].clear()
                    self.gop_bytes[kind] = 0
                self.set_state(CameraState.OFFLINE, outcome.error or "stream ended")
                for viewer in self.viewers:
                    viewer._upstream_failed(self.last_error or "offline")
                await self.backoff(failures)
        finally:
            await self.stop_child()
            for kind in self.gop:
                self.gop[kind].clear()
                self.gop_bytes[kind] = 0
            if not self.relay.closed and self.state != CameraState.OFFLINE:
                # An upstream closed after failing stays "offline" (the last thing known of it) until
                # the next viewer or prewarm tries again; otherwise it is "idle".
                self.set_state(CameraState.IDLE)
            log.debug("camera %s: upstream closed (%s)", self.camera_id, self.state)

    async def backoff(self, failures: int) -> None:
        """Wait before the next attempt: capped exponential with jitter. A new viewer cuts the wait
        short, but never below ``backoff_initial`` (viewers must not turn into a reconnect storm)."""
        cfg = self.config
        delay = min(cfg.backoff_max, cfg.backoff_initial * 2 ** max(0, failures - 1)) * random.uniform(
            0.8, 1.2
        )
        start = self.loop.time()
        self.poke.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self.poke.wait()
                await asyncio.sleep(max(0.0, start + cfg.backoff_initial - self.loop.time()))

    def _ts_offset(self) -> float:
        """Where the next connection's timestamps start: after the last ones sent (plus the time since),
        so TS viewers stay attached through a reconnect."""
        last = self.ts_cutter.last_pts
        if last is None:
            return 0.0
        gap = max(0.04, self.loop.time() - self.last_pts_wall) if self.last_pts_wall else 0.04
        return last / 90000 + gap

    async def run_attempt(self) -> _Outcome:
        cfg = self.config
        pump = self.relay._pump
        with_mp4 = self.with_mp4 = self.want_mp4
        self.ts_cutter = TsCutter()
        self.got = False
        mp4_cutter = Mp4Cutter()
        child = _Child(self.loop, self.url, self.safe_url)
        ts_read, ts_write = os.pipe()
        mp4_read, mp4_write = os.pipe() if with_mp4 else (-1, -1)
        try:
            cmd = ffmpeg_command(
                self.url, cfg, mp4_write if with_mp4 else None, self._ts_offset(), self.transcode
            )
            await self.loop.subprocess_exec(
                lambda: child,
                *cmd,
                stdin=subprocess.DEVNULL,
                stdout=ts_write,
                stderr=subprocess.PIPE,
                pass_fds=(mp4_write,) if with_mp4 else (),
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            for fd in (ts_read, mp4_read):
                if fd >= 0:
                    os.close(fd)
            return _Outcome(False, f"cannot start ffmpeg: {exc}")
        finally:
            for fd in (ts_write, mp4_write):
                if fd >= 0:
                    os.close(fd)  # only the child writes: its exit is the readers' end of file
        self.proc = child

        def on_mp4(data: bytes) -> None:
            pieces = mp4_cutter.feed(data)
            if mp4_cutter.init is not None and mp4_cutter.init is not self.init:
                self.on_init(mp4_cutter.init)
            for piece in pieces:
                self.on_piece("mp4", piece)

        ended: asyncio.Future[tuple[str | None, bool]] = self.loop.create_future()
        self._attempt_end = ended
        self._opened_at = self.loop.time()
        pump.add(ts_read, self._on_ts_data, lambda: self._end_attempt(None))
        if with_mp4:
            pump.add(mp4_read, on_mp4, lambda: None)
        if self.want_mp4 and not with_mp4:  # a browser came while the child was starting
            ended.set_result((None, True))
        self.relay._housekeep_soon()
        try:
            error, again = await ended
        finally:
            self._attempt_end = None
            await self.stop_child()
            for fd in (ts_read, mp4_read):
                if fd >= 0:
                    pump.remove(fd)
                    os.close(fd)
        got = self.got
        if not self.wanted():
            return _Outcome(got, None)
        if again:
            return _Outcome(got, None, again=True)
        if error is None:
            tail = child.stderr_tail
            detail = tail[-1] if tail else f"ffmpeg exited with {child.returncode}"
            error = "stream ended" if got and not tail else detail
        return _Outcome(got, error)

    def _end_attempt(self, error: str | None, again: bool = False) -> None:
        """End the current attempt: the child's output ended (``error`` None), or :meth:`housekeep` says
        so (an error, or ``again``: start at once with the MP4 output)."""
        ended = self._attempt_end
        if ended is not None and not ended.done():
            ended.set_result((error, again))

    def attempting(self) -> bool:
        return self._attempt_end is not None and not self._attempt_end.done()

    def housekeep(self, now: float) -> None:
        """The relay's timer, every ``tick``: end an attempt nobody wants any more, or whose camera sends
        nothing; mark a quiet camera stalled."""
        cfg = self.config
        if not self.wanted():
            self._end_attempt(None)
        elif self.want_mp4 and not self.with_mp4:
            self._end_attempt(None, again=True)
        elif not self.got:
            if now - self._opened_at > cfg.open_timeout:
                self._end_attempt(f"no video within {cfg.open_timeout:g} s")
        else:
            idle = now - (self.last_packet_at or self._opened_at)
            if idle > cfg.read_timeout:
                self._end_attempt(f"no packets for {idle:.0f} s")
            elif self.state == CameraState.LIVE and idle > cfg.stall_after:
                self.set_state(CameraState.STALLED, f"no packets for {cfg.stall_after:g} s")

    def _on_ts_data(self, data: bytes) -> None:
        """Bytes from the child's MPEG-TS pipe, as the loop read them (a callback, not a task)."""
        cutter = self.ts_cutter
        pieces = cutter.feed(data)
        if not pieces:
            return
        if not self.got:
            self.got = True
            self.upstream_opens += 1
            self.relay._opens_total += 1
            self.codec = cutter.codec
        for piece in pieces:
            self.on_piece("ts", piece)
        self.last_pts_wall = self.last_packet_at or self.loop.time()

    async def stop_child(self) -> None:
        child, self.proc = self.proc, None
        if child is None:
            return
        if child.returncode is None:
            child.kill()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.shield(child.exited)
        child.close()


class _Child(asyncio.SubprocessProtocol):
    """One ``ffmpeg -c copy`` child: the last lines of its stderr (for the error message), its exit.
    Its outputs are pipes read by the relay's :class:`_Pump`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, url: str, safe: str):
        self._url = url
        self._safe = safe
        self.transport: asyncio.SubprocessTransport | None = None
        self.stderr_tail: deque[str] = deque(maxlen=5)
        self._err = b""
        self.exited: asyncio.Future[None] = loop.create_future()  # exited, and its pipes closed

    @property
    def pid(self) -> int | None:
        return self.transport.get_pid() if self.transport is not None else None

    @property
    def returncode(self) -> int | None:
        return self.transport.get_returncode() if self.transport is not None else None

    def kill(self) -> None:
        if self.transport is not None:
            with contextlib.suppress(ProcessLookupError):
                self.transport.kill()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.SubprocessTransport, transport)  # uvloop's is not a subclass

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        assert isinstance(data, bytes)
        if fd == 2:
            lines = (self._err + data).split(b"\n")
            self._err = lines.pop()[-4096:]
            for line in lines:
                text = line.decode(errors="replace").strip()
                if text:
                    self.stderr_tail.append(text.replace(self._url, self._safe))

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 2 and self._err.strip():
            self.pipe_data_received(2, b"\n")

    def connection_lost(self, exc: Exception | None) -> None:
        """The child exited and every pipe of it closed (so its stderr is all in)."""
        if not self.exited.done():
            self.exited.set_result(None)


_SOCKET_TIMEOUT_SCHEMES = ("rtsp", "rtsps", "http", "https", "tcp")


StatusListener = Callable[[ChannelStatus], None]


class MediaRelay:
    """Fan-out of camera streams to many viewers over one upstream connection per URL.

    Create it inside the running event loop (it binds to that loop); close with :meth:`aclose`.
    """

    def __init__(self, config: RelayConfig | None = None, **overrides: Any) -> None:
        base = config or RelayConfig()
        self.config = replace(base, **overrides) if overrides else base
        self.loop = asyncio.get_running_loop()
        self.closed = False
        self._channels: dict[str, _Channel] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._listeners: list[StatusListener] = []
        self._opens_total = 0
        self._pump = _Pump(self.loop, self.config.batch_interval)
        self._housekeeper: asyncio.TimerHandle | None = None

    # --- viewers -------------------------------------------------------------------------------------
    def subscribe(
        self, camera_id: str, url: str, *, client: str = "", kind: str = "ts", transcode: bool = False
    ) -> Viewer:
        """Add a viewer of ``url`` (labelled ``camera_id``): ``kind`` "ts" gets MPEG-TS, "mp4" gets
        the MP4 init segment then fragments (MSE). Starts the upstream if needed; the viewer gets the
        cached GOP at once when there is one. ``transcode`` (MP4 only): the camera encoded to H.264 by
        one child shared by every such viewer, for browsers that cannot decode the camera's codec.
        Close it (or use ``async with``)."""
        if self.closed:
            raise RelayClosed("media relay is closed")
        if kind not in ("ts", "mp4") or (transcode and kind != "mp4"):
            raise ValueError(f"unknown viewer kind {kind!r}")
        return self._channel(camera_id, url, transcode).add_viewer(client, kind)

    @contextlib.asynccontextmanager
    async def stream(
        self, camera_id: str, url: str, *, client: str = "", kind: str = "ts"
    ) -> AsyncIterator[Viewer]:
        """``async with relay.stream(cam, url) as viewer`` — :meth:`subscribe` with cleanup."""
        viewer = self.subscribe(camera_id, url, client=client, kind=kind)
        try:
            yield viewer
        finally:
            viewer.close()

    def prewarm(self, camera_id: str, url: str, seconds: float | None = None, *, mp4: bool = False) -> None:
        """Open the upstream now, ahead of the first viewer, and keep it ``seconds`` (default
        ``config.prewarm_for``) even without viewers; ``mp4``: with the browsers' output too."""
        if self.closed:
            raise RelayClosed("media relay is closed")
        self._channel(camera_id, url).prewarm(self.config.prewarm_for if seconds is None else seconds, mp4)

    def _channel(self, camera_id: str, url: str, transcode: bool = False) -> _Channel:
        key = TRANSCODE_PREFIX + url if transcode else url
        channel = self._channels.get(key)
        if channel is None:
            channel = _Channel(self, camera_id, url, transcode)
            self._channels[key] = channel
        return channel

    # --- state -------------------------------------------------------------------------------------
    def status(self, url: str, *, transcode: bool = False) -> ChannelStatus | None:
        channel = self._channels.get(TRANSCODE_PREFIX + url if transcode else url)
        return channel.status() if channel else None

    def camera_status(self, camera_id: str) -> list[ChannelStatus]:
        return [c.status() for c in self._channels.values() if c.camera_id == camera_id]

    def stats(self) -> RelayStats:
        channels = tuple(c.status() for c in self._channels.values())
        return RelayStats(channels, self._opens_total, sum(c.viewers for c in channels))

    def cached_gop(self, url: str, kind: str = "ts") -> bytes | None:
        """The bytes of the current GOP (TS: PAT/PMT + keyframe + what followed; MP4: init segment +
        fragments from the keyframe) when live."""
        channel = self._channels.get(url)
        if channel is None or channel.state != CameraState.LIVE or not channel.gop[kind]:
            return None
        return b"".join(channel.gop[kind])

    def add_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener(status)`` on the loop at every change of a channel; returns a remover."""
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    async def wait_for(
        self, url: str, predicate: Callable[[ChannelStatus], bool], max_wait: float
    ) -> ChannelStatus:
        """Wait until the status of ``url`` satisfies ``predicate`` (raises ``TimeoutError``)."""
        current = self.status(url)
        if current is not None and predicate(current):
            return current
        fut: asyncio.Future[ChannelStatus] = self.loop.create_future()

        def check(status: ChannelStatus) -> None:
            if status.url == redact_url(url) and not fut.done() and predicate(status):
                fut.set_result(status)

        remove = self.add_listener(check)
        try:
            async with asyncio.timeout(max_wait):
                return await fut
        finally:
            remove()

    def _notify(self, status: ChannelStatus) -> None:
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:
                log.exception("media relay status listener failed")

    def _housekeep_soon(self) -> None:
        if self._housekeeper is None and not self.closed:
            self._housekeeper = self.loop.call_later(self.config.tick, self._housekeep)

    def _housekeep(self) -> None:
        """One timer for every channel's housekeeping (rather than a wake-up per channel)."""
        self._housekeeper = None
        now = self.loop.time()
        active = False
        for channel in list(self._channels.values()):
            if channel.attempting():
                active = True
                try:
                    channel.housekeep(now)
                except Exception:
                    log.exception("relay: housekeeping of camera %s failed", channel.camera_id)
        if active:
            self._housekeep_soon()

    # --- tasks and shutdown ------------------------------------------------------------------------
    def _spawn(self, coro: Any, name: str) -> asyncio.Task[None]:
        task: asyncio.Task[None] = self.loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("media relay task %s failed", task.get_name(), exc_info=task.exception())

    async def aclose(self) -> None:
        """End every viewer, cancel every task, stop every ffmpeg child."""
        if self.closed:
            return
        self.closed = True
        for channel in self._channels.values():
            for viewer in list(channel.viewers):
                viewer._end("relay closed")
            channel.viewers.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(c.stop_child() for c in self._channels.values()), return_exceptions=True)
        self._pump.close()
        if self._housekeeper is not None:
            self._housekeeper.cancel()
            self._housekeeper = None
        self._listeners.clear()
        log.debug("media relay closed")

    async def __aenter__(self) -> MediaRelay:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
