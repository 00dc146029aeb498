"""The relay's stream cutters on hand-made MPEG-TS and fragmented-MP4 bytes (no camera needed)."""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from app.engine.media.streams import Mp4Cutter, TsCutter, codec_string, fragment_is_key


def _ts(pid: int, payload: bytes, *, start: bool = False, rai: bool = False) -> bytes:
    head = bytes([0x47, (0x40 if start else 0) | (pid >> 8), pid & 0xFF])
    if rai:
        adaptation = bytes([1, 0x40])  # length 1, random access indicator
        body = adaptation + payload
        head += bytes([0x30])
    else:
        body = payload
        head += bytes([0x10])
    return (head + body + b"\xff" * 188)[:188]


def _pat(pmt_pid: int) -> bytes:
    section = (
        bytes([0x00, 0xB0, 13, 0, 1, 0xC1, 0, 0, 0, 1, 0xE0 | (pmt_pid >> 8), pmt_pid & 0xFF]) + b"\0" * 4
    )
    return _ts(0, b"\x00" + section, start=True)


def _pmt(pmt_pid: int, video_pid: int, stream_type: int) -> bytes:
    es = bytes([stream_type, 0xE0 | (video_pid >> 8), video_pid & 0xFF, 0xF0, 0])
    body = bytes([0, 1, 0xC1, 0, 0, 0xE0 | (video_pid >> 8), video_pid & 0xFF, 0xF0, 0]) + es
    section = bytes([0x02, 0xB0, len(body) + 4]) + body + b"\0" * 4
    return _ts(pmt_pid, b"\x00" + section, start=True)


def _pes(pts: int) -> bytes:
    p = bytes(
        [
            0x21 | ((pts >> 29) & 0x0E),
            (pts >> 22) & 0xFF,
            0x01 | ((pts >> 14) & 0xFE),
            (pts >> 7) & 0xFF,
            0x01 | ((pts << 1) & 0xFE),
        ]
    )
    return b"\x00\x00\x01\xe0\x00\x00\x80\x80\x05" + p


def test_ts_is_cut_at_keyframes_and_keeps_pat_pmt_and_the_last_pts() -> None:
    psi = _pat(0x1000) + _pmt(0x1000, 0x100, 0x24)
    key1 = _ts(0x100, _pes(9000), start=True, rai=True)
    delta = _ts(0x100, _pes(12000), start=True) + _ts(0x100, b"x")
    key2 = _ts(0x100, _pes(15000), start=True, rai=True)
    stream = psi + key1 + delta + key2 + _ts(0x100, b"y")
    cutter = TsCutter()
    pieces = []
    for i in range(0, len(stream), 100):  # arbitrary pipe reads, mid-packet included
        pieces += cutter.feed(stream[i : i + 100])
    assert b"".join(p.data for p in pieces) == stream
    keyed = [p.data for p in pieces if p.key]
    assert [k[:188] for k in keyed] == [key1, key2]
    assert cutter.codec == "hevc" and cutter.video_pid == 0x100 and cutter.psi() == psi
    assert cutter.last_pts == 15000


def test_ts_cutter_resyncs_after_garbage() -> None:
    cutter = TsCutter()
    packet = _pat(0x1000)
    pieces = cutter.feed(b"\x00garbage" + packet + packet)
    assert cutter.pmt_pid == 0x1000 and sum(len(p.data) for p in pieces) == 2 * 188


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _moof(first_sample_flags: int) -> bytes:
    tfhd = _box(b"tfhd", struct.pack(">I", 0x020000) + struct.pack(">I", 1))
    trun = _box(b"trun", struct.pack(">I", 0x000205) + struct.pack(">I", 1) + struct.pack(">i", 0)
                + struct.pack(">I", first_sample_flags) + struct.pack(">I", 100))  # fmt: skip
    return _box(b"moof", _box(b"mfhd", b"\0" * 8) + _box(b"traf", tfhd + trun))


def _init(entry: bytes, config_kind: bytes, config: bytes) -> bytes:
    sample_entry = _box(
        entry, b"\0" * 24 + struct.pack(">HH", 1280, 720) + b"\0" * 50 + _box(config_kind, config)
    )
    stsd = _box(b"stsd", b"\0" * 8 + sample_entry)
    stbl = _box(b"stbl", stsd)
    trak = _box(b"trak", _box(b"mdia", _box(b"minf", stbl)))
    return _box(b"ftyp", b"isom\0\0\0\0") + _box(b"moov", trak)


def test_mp4_init_fragments_keyframes_and_codec() -> None:
    init = _init(b"avc1", b"avcC", bytes([1, 0x42, 0xC0, 0x1F, 0xFF]))
    key, delta = _moof(0x02000000), _moof(0x01010000)
    assert fragment_is_key(key) and not fragment_is_key(delta)
    mdat = _box(b"mdat", b"frame")
    stream = init + key + mdat + delta + mdat
    cutter = Mp4Cutter()
    pieces = []
    for i in range(0, len(stream), 7):
        pieces += cutter.feed(stream[i : i + 7])
    assert cutter.init == init
    assert [(p.data, p.key) for p in pieces] == [(key + mdat, True), (delta + mdat, False)]
    # Fragments read together are one piece until the next keyframe (one write per viewer and read).
    together = Mp4Cutter()
    both = together.feed(init + key + mdat + delta + mdat + key + mdat + delta + mdat[:5])
    assert [(p.data, p.key) for p in both] == [(key + mdat + delta + mdat, True), (key + mdat, True)]
    assert together.feed(mdat[5:]) == [(delta + mdat, False)]
    assert codec_string(init) == ("avc1.42C01F", 1280, 720)
    hevc = _init(b"hev1", b"hvcC", bytes([1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93]) + b"\0" * 10)
    described = codec_string(hevc)
    assert described is not None and described[0].startswith("hev1.1.6.L93")


def test_ts_cutter_fast_path_cuts_real_ffmpeg_output_like_the_packet_by_packet_path(tmp_path: Path) -> None:
    """The cutter looks only at packets with the unit-start flag (strided slice + translate); on real
    FFmpeg output read in arbitrary pieces it must cut exactly where the packet-by-packet loop does."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    out = tmp_path / "clip.ts"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15",
         "-t", "3", "-c:v", "libx264", "-g", "5", "-bf", "0", "-f", "mpegts", str(out)],
        check=True,
    )  # fmt: skip
    stream = out.read_bytes()
    rng = random.Random(14)
    reads, i = [], 0
    while i < len(stream):
        n = rng.choice([1, 100, 188, 1000, 4096, 13160, 65536])
        reads.append(stream[i : i + n])
        i += n
    fast, slow = TsCutter(), TsCutter()
    fast_pieces = [p for data in reads for p in fast.feed(data)]
    slow_pieces = []
    for data in reads:
        buf = slow._rest + data
        slow_pieces += slow._feed_resync(buf)
    assert b"".join(p.data for p in fast_pieces) == stream
    # Both cut at the same keyframes (their pieces differ only where a read ended mid-GOP).
    starts = [stream.index(p.data[:376]) for p in fast_pieces if p.key]
    assert starts == [stream.index(p.data[:376]) for p in slow_pieces if p.key]
    keyed = [p for p in fast_pieces if p.key]
    assert len(keyed) == 9  # 45 frames, a keyframe every 5
    assert fast.last_pts == slow.last_pts and fast.psi() == slow.psi() and fast.codec == "h264"
