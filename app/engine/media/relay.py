"""Media relay: one upstream pull per camera URL, remuxed once to MPEG-TS, fanned out to every viewer.

Design (DESIGN §4 "Media", §5):

* A *channel* per upstream URL. Its supervisor task runs the pull in a dedicated thread (PyAV is
  blocking): ``av.open`` over RTSP/TCP with small probing, packets of the first video stream copied —
  never decoded or re-encoded — into one MPEG-TS muxer per channel writing into memory. Each packet
  becomes one chunk of TS bytes, handed to the event loop through one relay-wide mailbox (a loop
  wake-up drains every chunk queued by then, from all cameras) and appended to every viewer's queue. Muxing
  once per camera (not per viewer) keeps the cost flat in the number of viewers.
* GOP cache: the chunks since the last keyframe. FFmpeg's TS muxer writes PAT/PMT in front of a video
  keyframe (the relay puts the last ones in front itself where FFmpeg skips them: a keyframe right
  after a keyframe) and, for H.264, SPS/PPS in the keyframe's PES, so the cache is a self-contained TS
  fragment: a new viewer gets it at once and decodes its first frame immediately. Without a cache
  (or on a stalled camera) a new viewer starts at the next keyframe. PES lengths are written
  (``omit_video_pes_length=0``), so a player's demuxer can hand a frame on as soon as it is complete.
* Video only: a camera's audio is not relayed.
* A slow viewer (more than ``viewer_queue_bytes`` waiting) is dropped; others never wait for it.
* After the last viewer leaves, the upstream stays open ``idle_grace`` seconds (``prewarm`` extends
  that); a failed or ended upstream reconnects with capped exponential backoff while it is wanted.
  The TS output keeps running timestamps across reconnects, so viewers stay attached through a blip.
* States per channel: idle (no upstream), connecting (first attempt), live, stalled (connected, no
  packet for ``stall_after``), offline (the last attempt failed; retried while wanted, and kept as
  the last known state once nobody wants the camera: the next viewer or prewarm tries again), with
  the last error; listeners hear every change.

Threads: one per open upstream, owned by its channel; the relay's tasks are kept and cancelled in
:meth:`MediaRelay.aclose`, which also waits (bounded by the read timeout) for the threads to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from fractions import Fraction
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import av

log = logging.getLogger(__name__)

#: Small probing: ``av.open`` on RTSP returns in ~0.25 s. No ``fflags=nobuffer``: it makes FFmpeg drop
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
    input_options: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_INPUT_OPTIONS))


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


@dataclass(frozen=True)
class RelayStats:
    channels: tuple[ChannelStatus, ...]
    upstream_opens: int  # total over all channels since the relay started
    viewers: int

    def for_camera(self, camera_id: str) -> list[ChannelStatus]:
        return [c for c in self.channels if c.camera_id == camera_id]


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

    def __init__(self, channel: _Channel, client: str, started: bool) -> None:
        self._channel = channel
        self.client = client
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

    @property
    def closed(self) -> bool:
        return self.close_reason is not None

    # called by the channel, on the loop
    def _feed(self, chunk: bytes, start: bytes | None, limit: int) -> bool:
        """Queue ``chunk``; False if this viewer is too far behind and must be dropped. A viewer that
        has not started yet starts at a keyframe, with ``start`` (PAT/PMT + the keyframe)."""
        if not self._started:
            if start is None:
                return True
            self._started = True
            chunk = start
        if self._queued + len(chunk) > limit and self._queue:
            return False
        self._queue.append(chunk)
        self._queued += len(chunk)
        self._got_data = True
        self._wakeup.set()
        return True

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
# Upstream side (worker thread)
# ------------------------------------------------------------------------------------------------


class _Sink:
    """File-like object the TS muxer writes into."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        self._buf += data
        return len(data)

    def take(self) -> bytes:
        data = bytes(self._buf)
        self._buf.clear()
        return data


class _TsMuxer:
    """MPEG-TS output of one channel, kept across upstream reconnects (timestamps continue)."""

    def __init__(self, template: Any) -> None:
        ctx = template.codec_context
        self.signature = (ctx.name, ctx.width, ctx.height, template.time_base)
        self.sink = _Sink()
        self.container: Any = av.open(
            self.sink, "w", format="mpegts", options={"flush_packets": "1", "omit_video_pes_length": "0"}
        )
        self.stream = self.container.add_stream_from_template(template)
        self.time_base: Fraction = template.time_base
        self.last_dts: int | None = None
        self.last_wall = 0.0
        self.offset = 0
        self.need_offset = False
        self.psi = b""  # the last PAT/PMT (and SDT) packets written

    def begin_attempt(self) -> None:
        self.need_offset = self.last_dts is not None

    def mux(self, packet: Any) -> bytes:
        now = time.monotonic()
        dts = packet.dts if packet.dts is not None else packet.pts
        if dts is None:  # e.g. the packets read while probing an RTSP source, before RTCP sync
            if self.last_dts is None:
                dts = 0
            else:  # continue from the last packet, by the wall-clock time since it
                dts = self.last_dts - self.offset + max(1, round((now - self.last_wall) / self.time_base))
        pts = packet.pts if packet.pts is not None else dts
        if self.need_offset and self.last_dts is not None:
            gap = max(1, round((now - self.last_wall) / self.time_base))
            self.offset = self.last_dts + gap - dts
            self.need_offset = False
        dts += self.offset
        pts += self.offset
        if self.last_dts is not None and dts <= self.last_dts:  # keep DTS strictly increasing
            shift = self.last_dts + 1 - dts
            dts += shift
            pts = max(pts + shift, dts)
        packet.dts, packet.pts = dts, pts
        self.last_dts, self.last_wall = dts, now
        packet.stream = self.stream
        self.container.mux(packet)
        return self.sink.take()

    def start_bytes(self, chunk: bytes) -> bytes:
        """What a viewer starting at this keyframe chunk needs: PAT and PMT first. FFmpeg writes them in
        front of a keyframe, except when the previous packet was a keyframe too: then the last ones
        seen are put in front."""
        psi = _leading_psi(chunk)
        if psi:
            self.psi = psi
            return chunk
        return self.psi + chunk

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()


def _leading_psi(chunk: bytes) -> bytes:
    """The TS packets at the start of ``chunk`` that carry tables (PAT, PMT, SDT), not the PES."""
    end = 0
    while end + 188 <= len(chunk) and chunk[end] == 0x47:
        header = chunk[end : end + 4]
        afc = (header[3] >> 4) & 3
        offset = end + 4 + (1 + chunk[end + 4] if afc & 2 else 0)
        if header[1] & 0x40 and afc & 1 and chunk[offset : offset + 3] == b"\x00\x00\x01":
            break  # a PES starts: the tables are over
        end += 188
    return chunk[:end]


@dataclass
class _Outcome:
    got_packets: bool
    error: str | None


# ------------------------------------------------------------------------------------------------
# Channel
# ------------------------------------------------------------------------------------------------


class _Channel:
    def __init__(self, relay: MediaRelay, camera_id: str, url: str) -> None:
        self.relay = relay
        self.config = relay.config
        self.loop = relay.loop
        self.camera_id = camera_id
        self.url = url
        self.safe_url = redact_url(url)
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
        self.width: int | None = None
        self.height: int | None = None
        self.gop: list[bytes] = []
        self.gop_bytes = 0
        self.keep_until = 0.0
        self.task: asyncio.Task[None] | None = None
        self.thread: threading.Thread | None = None
        self.thread_done: asyncio.Future[_Outcome] | None = None
        self.stop_flag: threading.Event | None = None
        self.attempt = 0
        self.muxer: _TsMuxer | None = None  # touched only by the worker thread
        self.poke = asyncio.Event()

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
    def add_viewer(self, client: str) -> Viewer:
        # A stalled camera's cache is stale: such a viewer waits for the next keyframe instead.
        use_cache = self.config.gop_cache and bool(self.gop) and self.state == CameraState.LIVE
        viewer = Viewer(self, client, started=use_cache)
        if use_cache:
            viewer._prefill(self.gop)
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

    def prewarm(self, seconds: float) -> None:
        self.keep_until = max(self.keep_until, self.loop.time() + seconds)
        self.ensure_running()

    def wanted(self) -> bool:
        return not self.relay.closed and (bool(self.viewers) or self.loop.time() < self.keep_until)

    def ensure_running(self) -> None:
        if self.task is None or self.task.done():
            self.task = self.relay._spawn(self.supervise(), f"relay-{self.camera_id}")
        else:
            self.poke.set()  # cut a backoff wait short: someone wants this camera now

    # --- data from the worker thread (called on the loop) -----------------------------------------
    def on_opened(self, attempt: int, codec: str, width: int, height: int) -> None:
        if attempt != self.attempt:
            return
        self.upstream_opens += 1
        self.relay._opens_total += 1
        self.codec, self.width, self.height = codec, width, height
        log.debug("camera %s: upstream open (%s %dx%d)", self.camera_id, codec, width, height)

    def on_reset(self, attempt: int, reason: str) -> None:
        """The output format changed: end the viewers (their players must start over)."""
        if attempt != self.attempt:
            return
        self.gop.clear()
        self.gop_bytes = 0
        for viewer in list(self.viewers):
            viewer._end(reason)
            self.viewers.discard(viewer)

    def on_chunk(self, attempt: int, chunk: bytes, start: bytes | None) -> None:
        """One packet's TS bytes; ``start``, for a keyframe, is what a viewer starting there gets."""
        if attempt != self.attempt or not chunk:
            return
        self.last_packet_at = self.loop.time()
        self.bytes_in += len(chunk)
        if self.state != CameraState.LIVE:
            self.set_state(CameraState.LIVE)
        if start is not None:
            self.gop = [start]
            self.gop_bytes = len(start)
        elif self.gop:
            self.gop.append(chunk)
            self.gop_bytes += len(chunk)
            if self.gop_bytes > self.config.gop_cache_max_bytes:
                self.gop.clear()
                self.gop_bytes = 0
        limit = self.config.viewer_queue_bytes
        for viewer in list(self.viewers):
            if not viewer._feed(chunk, start, limit):
                self.viewers_dropped += 1
                log.warning("camera %s: dropping slow viewer %s", self.camera_id, viewer.client or "?")
                viewer._end("too slow")
                self.remove_viewer(viewer)

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
                failures = 0 if outcome.got_packets else failures + 1
                self.gop.clear()
                self.gop_bytes = 0
                self.set_state(CameraState.OFFLINE, outcome.error or "stream ended")
                for viewer in self.viewers:
                    viewer._upstream_failed(self.last_error or "offline")
                await self.backoff(failures)
        finally:
            self.stop_thread()
            self.gop.clear()
            self.gop_bytes = 0
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

    async def run_attempt(self) -> _Outcome:
        stop = threading.Event()
        done: asyncio.Future[_Outcome] = self.loop.create_future()
        self.stop_flag, self.thread_done = stop, done
        attempt = self.attempt
        thread = threading.Thread(
            target=self.pull, args=(attempt, stop, done), name=f"relay-pull-{self.camera_id}", daemon=True
        )
        self.thread = thread
        thread.start()
        while not done.done():
            await asyncio.wait({done}, timeout=self.config.tick)
            if not self.wanted():
                stop.set()
            elif stop.is_set():
                stop.clear()  # wanted again before the worker noticed: keep the connection
            elif (
                self.state == CameraState.LIVE
                and self.last_packet_at is not None
                and self.loop.time() - self.last_packet_at > self.config.stall_after
            ):
                self.set_state(CameraState.STALLED, f"no packets for {self.config.stall_after:g} s")
        return done.result()

    def stop_thread(self) -> None:
        if self.stop_flag is not None:
            self.stop_flag.set()

    # --- worker thread ----------------------------------------------------------------------------
    def _post(self, fn: Callable[..., None], *args: Any) -> bool:
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # loop closed
            return False
        return True

    def pull(self, attempt: int, stop: threading.Event, done: asyncio.Future[_Outcome]) -> None:
        outcome = _Outcome(False, None)
        try:
            outcome = self._pull(attempt, stop)
        except Exception as exc:  # never let a camera take the thread down silently
            log.exception("camera %s: upstream worker failed", self.camera_id)
            outcome = _Outcome(False, f"internal error: {exc}")
        finally:
            self._post(_set_result, done, outcome)

    def _pull(self, attempt: int, stop: threading.Event) -> _Outcome:
        cfg = self.config
        try:
            container: Any = av.open(self.url, **_open_args(self.url, cfg))
        except Exception as exc:
            return _Outcome(False, _describe_error(exc, self.url))
        got = False
        last = time.monotonic()
        try:
            if not container.streams.video:
                return _Outcome(False, "no video stream")
            stream = container.streams.video[0]
            ctx = stream.codec_context
            if self.muxer is not None and self.muxer.signature != (
                ctx.name,
                ctx.width,
                ctx.height,
                stream.time_base,
            ):
                self.muxer.close()
                self.muxer = None
                self._post(self.on_reset, attempt, "video format changed")
            if self.muxer is None:
                self.muxer = _TsMuxer(stream)
            muxer = self.muxer
            muxer.begin_attempt()
            self._post(self.on_opened, attempt, ctx.name, ctx.width or 0, ctx.height or 0)
            for packet in container.demux(stream):
                if stop.is_set():
                    return _Outcome(got, None)
                if packet.size == 0:  # a flush packet
                    continue
                chunk = muxer.mux(packet)
                got = True
                last = time.monotonic()
                start = muxer.start_bytes(chunk) if packet.is_keyframe else None
                if not self.relay._hand_over(self, attempt, chunk, start):
                    return _Outcome(got, "event loop closed")
            if stop.is_set():
                return _Outcome(got, None)
            return _Outcome(got, self._ended(last))
        except Exception as exc:
            if stop.is_set():
                return _Outcome(got, None)
            if time.monotonic() - last >= cfg.read_timeout * 0.9:
                return _Outcome(got, self._ended(last))
            return _Outcome(got, _describe_error(exc, self.url))
        finally:
            with contextlib.suppress(Exception):
                container.close()

    def _ended(self, last: float) -> str:
        idle = time.monotonic() - last
        return f"no packets for {idle:.0f} s" if idle >= self.config.read_timeout * 0.9 else "stream ended"

    def close_muxer(self) -> None:
        if self.muxer is not None:
            self.muxer.close()
            self.muxer = None


_SOCKET_TIMEOUT_SCHEMES = ("rtsp", "rtsps", "http", "https", "tcp")


def _open_args(url: str, cfg: RelayConfig) -> dict[str, Any]:
    """``av.open`` arguments. Where FFmpeg has a socket I/O timeout (``timeout``, in µs: RTSP, HTTP,
    TCP), reads are bounded by it; PyAV's own read timeout (a Python callback that takes the GIL on
    every I/O poll) is then only used while opening."""
    options = dict(cfg.input_options)
    scheme = url.split(":", 1)[0].lower()
    if scheme in _SOCKET_TIMEOUT_SCHEMES and "timeout" not in options:
        options["timeout"] = str(int(cfg.read_timeout * 1_000_000))
        return {"options": options, "timeout": (cfg.open_timeout, None)}
    return {"options": options, "timeout": (cfg.open_timeout, cfg.read_timeout)}


def _set_result(fut: asyncio.Future[_Outcome], outcome: _Outcome) -> None:
    if not fut.done():
        fut.set_result(outcome)


def _describe_error(exc: BaseException, url: str) -> str:
    text = str(exc) or type(exc).__name__
    safe = redact_url(url)
    if safe != url:
        text = text.replace(url, safe)
    return f"{type(exc).__name__}: {text}"


# ------------------------------------------------------------------------------------------------
# Relay
# ------------------------------------------------------------------------------------------------


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
        # Chunks from the pull threads wait here for the loop; one wake-up drains everything queued, so
        # many cameras cost fewer loop wake-ups than packets (deque appends and pops are thread-safe).
        self._mailbox: deque[tuple[_Channel, int, bytes, bytes | None]] = deque()
        self._drain_scheduled = False

    # --- viewers -------------------------------------------------------------------------------------
    def subscribe(self, camera_id: str, url: str, *, client: str = "") -> Viewer:
        """Add a viewer of ``url`` (labelled ``camera_id``). Starts the upstream if needed; the
        viewer gets the cached GOP at once when there is one. Close it (or use ``async with``)."""
        if self.closed:
            raise RelayClosed("media relay is closed")
        return self._channel(camera_id, url).add_viewer(client)

    @contextlib.asynccontextmanager
    async def stream(self, camera_id: str, url: str, *, client: str = "") -> AsyncIterator[Viewer]:
        """``async with relay.stream(cam, url) as viewer`` — :meth:`subscribe` with cleanup."""
        viewer = self.subscribe(camera_id, url, client=client)
        try:
            yield viewer
        finally:
            viewer.close()

    def prewarm(self, camera_id: str, url: str, seconds: float | None = None) -> None:
        """Open the upstream now, ahead of the first viewer, and keep it ``seconds`` (default
        ``config.prewarm_for``) even without viewers."""
        if self.closed:
            raise RelayClosed("media relay is closed")
        self._channel(camera_id, url).prewarm(self.config.prewarm_for if seconds is None else seconds)

    def _channel(self, camera_id: str, url: str) -> _Channel:
        channel = self._channels.get(url)
        if channel is None:
            channel = _Channel(self, camera_id, url)
            self._channels[url] = channel
        return channel

    # --- chunks from the pull threads ---------------------------------------------------------------
    def _hand_over(self, channel: _Channel, attempt: int, chunk: bytes, start: bytes | None) -> bool:
        """Worker thread: queue one packet's TS bytes for the loop. False once the loop is closed."""
        self._mailbox.append((channel, attempt, chunk, start))
        if self._drain_scheduled:
            return True  # the drain that is due will take this chunk too
        self._drain_scheduled = True
        try:
            self.loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # loop closed
            return False
        return True

    def _drain(self) -> None:
        # Cleared before popping: a chunk queued after this line either is popped below or schedules
        # the next drain itself, so none is left behind.
        self._drain_scheduled = False
        mailbox = self._mailbox
        while mailbox:
            channel, attempt, chunk, start = mailbox.popleft()
            try:
                channel.on_chunk(attempt, chunk, start)
            except Exception:  # one camera's fault must not hold back the others' chunks
                log.exception("camera %s: handing a chunk to its viewers failed", channel.camera_id)

    # --- state -------------------------------------------------------------------------------------
    def status(self, url: str) -> ChannelStatus | None:
        channel = self._channels.get(url)
        return channel.status() if channel else None

    def camera_status(self, camera_id: str) -> list[ChannelStatus]:
        return [c.status() for c in self._channels.values() if c.camera_id == camera_id]

    def stats(self) -> RelayStats:
        channels = tuple(c.status() for c in self._channels.values())
        return RelayStats(channels, self._opens_total, sum(c.viewers for c in channels))

    def cached_gop(self, url: str) -> bytes | None:
        """The MPEG-TS bytes of the current GOP (PAT/PMT + keyframe + what followed) when live."""
        channel = self._channels.get(url)
        if channel is None or channel.state != CameraState.LIVE or not channel.gop:
            return None
        return b"".join(channel.gop)

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
        """End every viewer, cancel every task, close every upstream (waits for the worker threads,
        at most about ``read_timeout``)."""
        if self.closed:
            return
        self.closed = True
        for channel in self._channels.values():
            channel.stop_thread()
            for viewer in list(channel.viewers):
                viewer._end("relay closed")
            channel.viewers.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        pending = [
            c.thread_done for c in self._channels.values() if c.thread_done and not c.thread_done.done()
        ]
        if pending:
            await asyncio.wait(pending, timeout=self.config.read_timeout + 2)
        for channel in self._channels.values():
            if channel.thread is not None and not channel.thread.is_alive():
                channel.close_muxer()
        self._listeners.clear()
        log.debug("media relay closed")

    async def __aenter__(self) -> MediaRelay:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
