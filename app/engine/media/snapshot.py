"""Snapshots: the camera's current picture as a JPEG, without touching the live stream's encoding.

With a relay, the snapshot rides the relay: a short-lived viewer gets the cached GOP at once when the
camera is being watched (decoded to its last frame: at most one frame old), or opens the upstream and
waits for the next keyframe (the upstream then stays for the relay's idle grace, so a live view that
often follows starts at once). Without a relay, one keyframe is pulled straight from the URL.
Decoding and JPEG encoding (FFmpeg's mjpeg encoder through PyAV) run in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import av

from app.engine.media.relay import DEFAULT_INPUT_OPTIONS, MediaRelay, UpstreamUnavailable, redact_url

log = logging.getLogger(__name__)


class SnapshotError(RuntimeError):
    """No picture could be had from the camera."""


async def snapshot_jpeg(
    url: str,
    *,
    relay: MediaRelay | None = None,
    camera_id: str = "",
    max_wait: float = 10.0,
    max_width: int | None = None,
    quality: int = 3,
    input_options: Mapping[str, str] | None = None,
) -> bytes:
    """A JPEG of the camera's current picture.

    ``quality`` is the mjpeg quantiser (2 best … 31 worst); ``max_width`` scales the picture down
    (keeping its aspect). Raises :class:`SnapshotError` if the camera gives no picture within ``max_wait``
    seconds.
    """
    if relay is not None:
        try:
            async with relay.stream(camera_id or url, url, client="snapshot") as viewer:
                ts = await viewer.first_data(max_wait)
        except UpstreamUnavailable as exc:
            raise SnapshotError(str(exc)) from exc
        return await asyncio.to_thread(_jpeg_from_ts, ts, max_width, quality)
    options = dict(input_options or DEFAULT_INPUT_OPTIONS)
    return await asyncio.to_thread(_jpeg_from_url, url, options, max_wait, max_width, quality)


def _jpeg_from_ts(ts: bytes, max_width: int | None, quality: int) -> bytes:
    """Decode a TS fragment that starts at a keyframe; encode its last frame."""
    last = None
    try:
        container: Any = av.open(io.BytesIO(ts), format="mpegts")
        with container:
            for frame in container.decode(video=0):
                last = frame
    except av.FFmpegError as exc:
        if last is None:
            raise SnapshotError(f"cannot decode the cached video: {exc}") from exc
        # A truncated tail after good frames: use what decoded.
    if last is None:
        raise SnapshotError("no decodable frame in the cached video")
    return encode_jpeg(last, max_width, quality)


def _jpeg_from_url(
    url: str, options: dict[str, str], timeout: float, max_width: int | None, quality: int
) -> bytes:
    deadline = time.monotonic() + timeout
    try:
        container: Any = av.open(url, options=options, timeout=(timeout, min(timeout, 5.0)))
    except Exception as exc:
        raise SnapshotError(f"cannot open {redact_url(url)}: {type(exc).__name__}") from exc
    try:
        if not container.streams.video:
            raise SnapshotError("no video stream")
        stream = container.streams.video[0]
        seen_key = False
        for packet in container.demux(stream):
            if time.monotonic() > deadline:
                break
            if packet.size == 0:
                continue
            seen_key = seen_key or packet.is_keyframe
            if not seen_key:
                continue
            for frame in stream.codec_context.decode(packet):
                return encode_jpeg(frame, max_width, quality)
        for frame in stream.codec_context.decode(None):
            return encode_jpeg(frame, max_width, quality)
    except SnapshotError:
        raise
    except Exception as exc:
        raise SnapshotError(f"reading {redact_url(url)} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        container.close()
    raise SnapshotError(f"no keyframe from {redact_url(url)} within {timeout:g} s")


def encode_jpeg(frame: Any, max_width: int | None = None, quality: int = 3) -> bytes:
    """Encode a decoded :class:`av.VideoFrame` as a baseline JPEG."""
    width, height = frame.width, frame.height
    if max_width and width > max_width:
        height = max(2, round(height * max_width / width / 2) * 2)
        width = max_width - max_width % 2
    image = frame.reformat(width=width, height=height, format="yuvj420p")
    encoder: Any = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    q = min(31, max(2, quality))
    encoder.qmin = encoder.qmax = q
    packets = list(encoder.encode(image)) + list(encoder.encode(None))
    data = b"".join(bytes(p) for p in packets)
    if not data.startswith(b"\xff\xd8"):
        raise SnapshotError("JPEG encoder produced no image")
    return data
