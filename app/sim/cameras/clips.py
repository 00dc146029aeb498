"""Loop clips for the simulated cameras, encoded once with ffmpeg into a cache directory.

Each clip is a moving test pattern (``testsrc2``, hue shifted per clip so the cameras look different)
with the camera's name, the stream kind and resolution, and a loop-relative clock (``HH:MM:SS.mmm``
since the start of the loop, so it wraps every ``seconds``) burnt in. H.264 constrained baseline
(or H.265 main for the simulator's H.265 cameras), 15 fps, one IDR per second (``-g 15 -keyint_min 15 -sc_threshold 0``), in MP4. The file name holds a
hash of every input, so changing a parameter encodes a new clip and never reuses a stale one; files
are written under a temporary name and renamed, so concurrent runs sharing a cache stay safe.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CLIP_VERSION = 1  # bump when the encoding recipe changes

#: Stream kind -> (width, height, video bitrate in kbit/s).
STREAM_PROFILES: dict[str, tuple[int, int, int]] = {
    "main": (1280, 720, 1500),
    "sub": (640, 360, 400),
}

_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)
_MONO_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
)


@dataclass(frozen=True)
class ClipSpec:
    """What one clip shows and how it is encoded."""

    label: str
    stream: str  # "main" | "sub"
    hue: int
    seconds: float = 10.0
    fps: int = 15
    codec: str = "h264"  # or "h265" (HEVC main profile, for the H.265 camera)

    @property
    def size(self) -> tuple[int, int]:
        width, height, _ = STREAM_PROFILES[self.stream]
        return width, height

    def key(self) -> str:
        width, height, kbps = STREAM_PROFILES[self.stream]
        raw = f"{CLIP_VERSION}|{self.label}|{self.stream}|{self.hue}|{self.seconds}|{self.fps}|{width}x{height}|{kbps}"
        if self.codec != "h264":  # H.264 keys unchanged: clips already cached stay valid
            raw += f"|{self.codec}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _first_existing(paths: tuple[str, ...]) -> str | None:
    return next((p for p in paths if os.path.exists(p)), None)


def _escape_filter_path(path: str) -> str:
    # Inside a filtergraph option value: escape the characters the parser treats specially.
    return path.replace("\\", "/").replace(":", "\\:").replace("'", "\\'")


def ffmpeg_command(spec: ClipSpec, out: Path, label_file: Path) -> list[str]:
    width, height, kbps = STREAM_PROFILES[spec.stream]
    scale = height / 720
    big, small = max(12, round(48 * scale)), max(10, round(32 * scale))
    pad, border = max(6, round(24 * scale)), max(3, round(8 * scale))
    top = 44 + border  # below testsrc2's own fixed-size counter in the top-left corner
    font = _first_existing(_FONT_CANDIDATES)
    mono = _first_existing(_MONO_CANDIDATES) or font
    fontopt = f"fontfile='{_escape_filter_path(font)}':" if font else ""
    monoopt = f"fontfile='{_escape_filter_path(mono)}':" if mono else ""
    box = f"fontcolor=white:box=1:boxcolor=black@0.6:boxborderw={border}"
    filters = ",".join(
        [
            f"testsrc2=size={width}x{height}:rate={spec.fps}",
            f"hue=h={spec.hue}",
            f"drawtext={fontopt}textfile='{_escape_filter_path(str(label_file))}':x={pad}:y={top}:fontsize={big}:{box}",
            f"drawtext={monoopt}text='{spec.stream} {width}x{height}{' H.265' if spec.codec == 'h265' else ''}':x={pad}:y={top + big + 3 * border}:fontsize={small}:{box}",
            f"drawtext={monoopt}text='%{{pts\\:hms}}':x={pad}:y=h-th-{pad}:fontsize={big}:{box}",
        ]
    )
    if spec.codec == "h265":
        gop = f"keyint={spec.fps}:min-keyint={spec.fps}:scenecut=0:bframes=0:log-level=error"
        codec = ["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-pix_fmt", "yuv420p",
                 "-x265-params", gop]  # fmt: skip
    else:
        codec = ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "baseline", "-pix_fmt", "yuv420p"]
    return [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "lavfi", "-i", filters,
        "-t", f"{spec.seconds}",
        *codec,
        "-g", str(spec.fps), "-keyint_min", str(spec.fps), "-sc_threshold", "0",
        "-b:v", f"{kbps}k", "-maxrate", f"{kbps * 4 // 3}k", "-bufsize", f"{kbps * 4 // 3}k",
        "-threads", "1", "-an", "-movflags", "+faststart",
        "-f", "mp4", str(out),
    ]  # fmt: skip


def ensure_clip(spec: ClipSpec, cache_dir: Path, *, ffmpeg: str | None = None) -> Path:
    """Return the path of the clip for ``spec``, encoding it into ``cache_dir`` if it is not there."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"loop-{spec.stream}-{spec.key()}.mp4"
    if out.exists() and out.stat().st_size > 0:
        return out
    exe = ffmpeg or shutil.which("ffmpeg")
    if exe is None:
        raise RuntimeError("ffmpeg is not installed (Debian package: ffmpeg)")
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".enc-") as tmp:
        label = Path(tmp) / "label.txt"
        label.write_text(spec.label, encoding="utf-8")
        part = Path(tmp) / out.name
        cmd = ffmpeg_command(spec, part, label)
        cmd[0] = exe
        log.info("encoding loop clip %s (%s %s, %.0f s)", out.name, spec.label, spec.stream, spec.seconds)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not part.exists():
            raise RuntimeError(f"ffmpeg failed to encode {out.name}: {proc.stderr.strip()[-2000:]}")
        os.replace(part, out)
    return out
