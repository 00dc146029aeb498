"""Byte-stream cutters for the relay's ``ffmpeg -c copy`` children: MPEG-TS and fragmented MP4.

The relay never decodes: it only has to know where a keyframe starts (so that a new viewer, and the GOP
cache, start there) and, for MP4, which bytes are the initialisation segment. Both cutters take whatever
a pipe read returned and hand back whole units.

* :class:`TsCutter` — 188-byte packets; a video PES that starts with the adaptation field's
  random-access flag (FFmpeg's TS muxer sets it on every keyframe) starts a new chunk. The last PAT and
  PMT are kept, so a viewer starting at any keyframe gets them first. The last video PTS is kept too,
  so the next upstream connection can continue the timestamps (``-output_ts_offset``).
* :class:`Mp4Cutter` — top-level boxes; ``ftyp`` + ``moov`` form the init segment, each ``moof`` +
  ``mdat`` pair is one fragment (FFmpeg ``frag_every_frame``: one frame each); a fragment whose first
  sample is a sync sample is a keyframe. The codec string for ``MediaSource.isTypeSupported`` comes
  from the sample entry (``avc1.PPCCLL``, ``hvc1.…``).
"""

from __future__ import annotations

from typing import NamedTuple

TS_PACKET = 188
STREAM_TYPES = {0x1B: "h264", 0x24: "hevc", 0x10: "mpeg4", 0x02: "mpeg2video"}
#: ``bytes.translate`` table: a TS header's second byte -> 1 if it has the payload-unit-start flag, else 0.
_UNIT_START = bytes(1 if b & 0x40 else 0 for b in range(256))


class Piece(NamedTuple):
    """One unit cut from a stream: its bytes, and whether a viewer can start decoding at it."""

    data: bytes
    key: bool


class TsCutter:
    def __init__(self) -> None:
        self._rest = b""
        self.pmt_pid: int | None = None
        self.video_pid: int | None = None
        self.codec: str | None = None
        self.pat = b""
        self.pmt = b""
        self.last_pts: int | None = None  # 90 kHz, of the last video PES

    def psi(self) -> bytes:
        """PAT + PMT, to put in front of a keyframe a viewer starts at."""
        return self.pat + self.pmt

    def feed(self, data: bytes) -> list[Piece]:
        """Whole packets of ``data`` (and of what was left over), cut at keyframes: everything read
        leaves at once (low latency), so a piece is a keyframe's start or what followed it.

        Only packets that start a payload unit (a PES or a PSI section) can start a keyframe or carry
        PAT/PMT, so only those are looked at: a strided slice takes the second byte of every packet
        and a translation table marks the ones with the start flag, both in C; Python then visits a few
        packets per frame instead of every 188 bytes."""
        buf = self._rest + data if self._rest else data
        end = len(buf) - len(buf) % TS_PACKET
        if end == 0:
            self._rest = buf
            return []
        sync = buf[0:end:TS_PACKET]
        if sync.count(0x47) != len(sync):  # lost sync (never from FFmpeg): the packet-by-packet path
            return self._feed_resync(buf)
        self._rest = buf[end:]
        pieces: list[Piece] = []
        run = 0  # start of the current piece
        key = False
        starts = buf[1:end:TS_PACKET].translate(_UNIT_START)
        j = starts.find(1)
        while j >= 0:
            i = j * TS_PACKET
            pid = ((buf[i + 1] & 0x1F) << 8) | buf[i + 2]
            if pid == self.video_pid:
                afc = (buf[i + 3] >> 4) & 3
                self._pts(buf, i, afc)
                if afc & 2 and buf[i + 4] > 0 and buf[i + 5] & 0x40:  # random access: a keyframe
                    if i > run:
                        pieces.append(Piece(buf[run:i], key))
                    run, key = i, True
            elif pid == 0:  # FFmpeg repeats PAT and PMT: parse them only when their content changes
                pkt = buf[i : i + TS_PACKET]
                if pkt[4:] != self.pat[4:]:  # (byte 3 holds the continuity counter)
                    self._parse_pat(pkt)
                self.pat = pkt
            elif pid == self.pmt_pid:
                pkt = buf[i : i + TS_PACKET]
                if pkt[4:] != self.pmt[4:]:
                    self._parse_pmt(pkt)
                self.pmt = pkt
            j = starts.find(1, j + 1)
        pieces.append(Piece(buf[run:end] if run or end != len(buf) else buf, key))
        return pieces

    def _feed_resync(self, buf: bytes) -> list[Piece]:
        """:meth:`feed` for a buffer that lost packet sync: packet by packet, dropping bytes up to the
        next sync byte."""
        n = len(buf)
        pieces: list[Piece] = []
        run = -1  # start of the current run of packets (-1: none)
        key = False
        i = 0
        while i + TS_PACKET <= n:
            if buf[i] != 0x47:
                if run >= 0:
                    pieces.append(Piece(buf[run:i], key))
                    run = -1
                j = buf.find(b"\x47", i + 1)
                i = n if j < 0 else j
                continue
            b1 = buf[i + 1]
            cut = False
            if b1 & 0x40:  # payload unit start
                pid = ((b1 & 0x1F) << 8) | buf[i + 2]
                if pid == self.video_pid:
                    afc = (buf[i + 3] >> 4) & 3
                    self._pts(buf, i, afc)
                    cut = bool(afc & 2 and buf[i + 4] > 0 and buf[i + 5] & 0x40)
                elif pid == 0:
                    self.pat = buf[i : i + TS_PACKET]
                    self._parse_pat(self.pat)
                elif pid == self.pmt_pid:
                    self.pmt = buf[i : i + TS_PACKET]
                    self._parse_pmt(self.pmt)
            if cut or run < 0:
                if run >= 0:
                    pieces.append(Piece(buf[run:i], key))
                run, key = i, cut
            i += TS_PACKET
        if run >= 0:
            pieces.append(Piece(buf[run:i], key))
        self._rest = buf[i:]
        return pieces

    def _pts(self, buf: bytes, i: int, afc: int) -> None:
        off = i + 4 + (1 + buf[i + 4] if afc & 2 else 0)
        if off + 14 > i + TS_PACKET or buf[off : off + 3] != b"\x00\x00\x01":
            return
        if buf[off + 7] & 0x80:
            p = buf[off + 9 : off + 14]
            self.last_pts = ((p[0] >> 1) & 7) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | (p[4] >> 1)

    @staticmethod
    def _section(pkt: bytes) -> bytes:
        afc = (pkt[3] >> 4) & 3
        off = 4 + (1 + pkt[4] if afc & 2 else 0)
        off += 1 + pkt[off]  # pointer field
        return pkt[off:]

    def _parse_pat(self, pkt: bytes) -> None:
        sec = self._section(pkt)
        if len(sec) < 12 or sec[0] != 0:
            return
        length = ((sec[1] & 0x0F) << 8) | sec[2]
        for j in range(8, min(len(sec), 3 + length - 4), 4):
            program = (sec[j] << 8) | sec[j + 1]
            if program != 0:
                self.pmt_pid = ((sec[j + 2] & 0x1F) << 8) | sec[j + 3]
                return

    def _parse_pmt(self, pkt: bytes) -> None:
        sec = self._section(pkt)
        if len(sec) < 16 or sec[0] != 2:
            return
        length = ((sec[1] & 0x0F) << 8) | sec[2]
        end = min(len(sec), 3 + length - 4)
        j = 12 + (((sec[10] & 0x0F) << 8) | sec[11])
        while j + 5 <= end:
            stype = sec[j]
            pid = ((sec[j + 1] & 0x1F) << 8) | sec[j + 2]
            if stype in STREAM_TYPES:
                self.video_pid = pid
                self.codec = STREAM_TYPES[stype]
                return
            j += 5 + (((sec[j + 3] & 0x0F) << 8) | sec[j + 4])


# ------------------------------------------------------------------------------------------------
# Fragmented MP4
# ------------------------------------------------------------------------------------------------


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes in ``data[start:end]``."""
    end = len(data) if end is None else end
    out = []
    i = start
    while i + 8 <= end:
        size = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        head = 8
        if size == 1:
            size = int.from_bytes(data[i + 8 : i + 16], "big")
            head = 16
        elif size == 0:
            size = end - i
        if size < head or i + size > end:
            break
        out.append((kind, i + head, i + size))
        i += size
    return out


def _child(data: bytes, start: int, end: int, path: list[bytes]) -> tuple[int, int] | None:
    for kind, s, e in _boxes(data, start, end):
        if kind == path[0]:
            return (s, e) if len(path) == 1 else _child(data, s, e, path[1:])
    return None


def fragment_is_key(moof: bytes) -> bool:
    """Whether the first sample of a ``moof`` (whole box, header included) is a sync sample."""
    traf = _child(moof, 8, len(moof), [b"traf"])
    if traf is None:
        return False
    default_flags: int | None = None
    first: int | None = None
    for kind, s, _e in _boxes(moof, *traf):
        flags = int.from_bytes(moof[s + 1 : s + 4], "big")
        if kind == b"tfhd":
            off = s + 8
            off += 8 if flags & 0x01 else 0
            off += 4 if flags & 0x02 else 0
            off += 4 if flags & 0x08 else 0
            off += 4 if flags & 0x10 else 0
            if flags & 0x20:
                default_flags = int.from_bytes(moof[off : off + 4], "big")
        elif kind == b"trun":
            off = s + 8  # version/flags, sample_count
            off += 4 if flags & 0x01 else 0
            if flags & 0x04:
                first = int.from_bytes(moof[off : off + 4], "big")
            else:
                off += 4 if flags & 0x100 else 0
                off += 4 if flags & 0x200 else 0
                if flags & 0x400:
                    first = int.from_bytes(moof[off : off + 4], "big")
    sample_flags = first if first is not None else default_flags
    if sample_flags is None:
        return False
    return not sample_flags & 0x00010000


def codec_string(init: bytes) -> tuple[str, int, int] | None:
    """(RFC 6381 codec string, width, height) of the first video track of an init segment."""
    stsd = _child(init, 0, len(init), [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"])
    if stsd is None:
        return None
    entries = _boxes(init, stsd[0] + 8, stsd[1])
    if not entries:
        return None
    kind, s, e = entries[0]
    width = int.from_bytes(init[s + 24 : s + 26], "big")
    height = int.from_bytes(init[s + 26 : s + 28], "big")
    body = s + 78  # VisualSampleEntry fields
    name = kind.decode("latin-1")
    if kind in (b"avc1", b"avc3"):
        cfg = _child(init, body, e, [b"avcC"])
        if cfg is None:
            return f"{name}.42E01E", width, height
        p = init[cfg[0] + 1 : cfg[0] + 4]
        return f"{name}.{p.hex().upper()}", width, height
    if kind in (b"hvc1", b"hev1"):
        cfg = _child(init, body, e, [b"hvcC"])
        if cfg is None:
            return f"{name}.1.6.L93.B0", width, height
        c = init[cfg[0] : cfg[1]]
        space = "ABC"[(c[1] >> 6) - 1] if c[1] >> 6 else ""
        tier = "H" if c[1] & 0x20 else "L"
        compat = int(f"{int.from_bytes(c[2:6], 'big'):032b}"[::-1], 2)
        constraints = c[6:12].rstrip(b"\x00")
        tail = "".join(f".{b:X}" for b in constraints) or ".B0"
        return f"{name}.{space}{c[1] & 0x1F}.{compat:X}.{tier}{c[12]}{tail}", width, height
    return name, width, height


class Mp4Cutter:
    def __init__(self) -> None:
        self._buf = bytearray()
        self._init = bytearray()
        self.init: bytes | None = None

    def feed(self, data: bytes) -> list[Piece]:
        """Whole fragments (moof + mdat), the fragments of one read that follow each other without a
        keyframe between them joined into one piece (one copy, one write per viewer); :attr:`init` is
        set once ``ftyp`` and ``moov`` have arrived."""
        self._buf += data
        buf = self._buf
        n = len(buf)
        pieces: list[Piece] = []
        group = -1  # start of the fragments not yet cut into a piece
        group_key = False
        moof = -1  # start of the moof waiting for its mdat
        i = 0
        while n - i >= 8:
            size = int.from_bytes(buf[i : i + 4], "big")
            head = 8
            if size == 1:
                if n - i < 16:
                    break
                size = int.from_bytes(buf[i + 8 : i + 16], "big")
                head = 16
            if size < head:  # garbage: drop everything (the next ffmpeg start begins again)
                group = moof = -1
                i = n
                break
            if n - i < size:
                break
            kind = bytes(buf[i + 4 : i + 8])
            if kind == b"moof":
                moof = i
            elif kind == b"mdat" and moof >= 0:
                key = fragment_is_key(bytes(buf[moof:i]))
                if group < 0:
                    group, group_key = moof, key
                elif key:
                    pieces.append(Piece(bytes(buf[group:moof]), group_key))
                    group, group_key = moof, True
                moof = -1
            else:
                if group >= 0:
                    pieces.append(Piece(bytes(buf[group : moof if moof >= 0 else i]), group_key))
                    group = -1
                if kind in (b"ftyp", b"moov"):
                    self._init += buf[i : i + size]
                    if kind == b"moov":
                        self.init = bytes(self._init)
                        self._init.clear()
            i += size
        end = i if moof < 0 else moof  # a moof whose mdat has not arrived stays for the next read
        if group >= 0:
            pieces.append(Piece(bytes(buf[group:end]), group_key))
        del buf[:end]
        return pieces
