"""Offline basemap tiles: what the console's scheme handler does per tile on the Qt thread (issue #15).

The same 256×256 PNG tiles (zoom 12–16 around Jinju, ~1,400 tiles) are written to an MBTiles file and a
PMTiles v3 file; then the same random sequence of tile reads is timed from each reader
(:class:`app.console.map.mbtiles.MbtilesSource`, one indexed SQLite read; :class:`PmtilesSource`, one or two
memory-mapped directory reads with gzip decompression). MBTiles is the reference; PMTiles is reported as a
ratio to it. Each read happens on the Qt thread, so both must stay well under a millisecond.

    .venv/bin/python bench/bench_tiles.py [--reads 5000]
"""

from __future__ import annotations

import argparse
import math
import random
import sqlite3
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.console.map.mbtiles import MbtilesSource, PmtilesSource

JINJU = (35.18, 128.08)


def _png(seed: int) -> bytes:
    """A small valid PNG, different per tile (so PMTiles cannot de-duplicate them all)."""
    import struct

    raw = b"".join(b"\x00" + bytes((seed + x) % 256 for x in range(256 * 3)) for _ in range(16))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 256, 16, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _tile_xy(lat: float, lon: float, z: int) -> tuple[int, int]:
    n = 1 << z
    return int((lon + 180.0) / 360.0 * n), int(
        (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reads", type=int, default=5000)
    args = ap.parse_args(argv)
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import write

    tiles: list[tuple[int, int, int]] = []
    for z in range(12, 17):
        cx, cy = _tile_xy(*JINJU, z)
        r = 2 + (z - 12) * 3
        tiles += [(z, x, y) for x in range(cx - r, cx + r + 1) for y in range(cy - r, cy + r + 1)]
    data = {t: _png(k) for k, t in enumerate(tiles)}
    with tempfile.TemporaryDirectory() as tmp:
        mb, pm = Path(tmp) / "t.mbtiles", Path(tmp) / "t.pmtiles"
        con = sqlite3.connect(mb)
        con.executescript(
            "CREATE TABLE metadata (name TEXT, value TEXT);"
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);"
            "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);"
        )
        con.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [(z, x, (1 << z) - 1 - y, d) for (z, x, y), d in data.items()],
        )
        con.commit()
        con.close()
        with write(str(pm)) as w:
            for (z, x, y), d in sorted(data.items(), key=lambda kv: zxy_to_tileid(*kv[0])):
                w.write_tile(zxy_to_tileid(z, x, y), d)
            w.finalize(
                {
                    "tile_type": TileType.PNG,
                    "tile_compression": Compression.NONE,
                    "min_zoom": 12,
                    "max_zoom": 16,
                    "min_lon_e7": 1279000000,
                    "min_lat_e7": 350000000,
                    "max_lon_e7": 1283000000,
                    "max_lat_e7": 353000000,
                    "center_zoom": 14,
                    "center_lon_e7": 1280800000,
                    "center_lat_e7": 351800000,
                },
                {},
            )
        rng = random.Random(15)
        seq = [rng.choice(tiles) for _ in range(args.reads)]
        results = {}
        for name, src in (("mbtiles", MbtilesSource(mb)), ("pmtiles", PmtilesSource(pm))):
            for t in seq[:50]:  # open, warm
                assert src.tile(*t) == data[t]
            times = []
            for t in seq:
                t0 = time.perf_counter()
                got = src.tile(*t)
                times.append(time.perf_counter() - t0)
                assert got == data[t]
            src.close()
            times.sort()
            results[name] = (sum(times) / len(times), times[len(times) // 2], times[int(len(times) * 0.99)])
        ref = results["mbtiles"]
        print(f"{len(tiles)} tiles, {args.reads} reads each")
        for name, (mean, p50, p99) in results.items():
            print(
                f"{name:8s} mean {mean * 1e6:7.1f} µs  p50 {p50 * 1e6:7.1f} µs  p99 {p99 * 1e6:7.1f} µs"
                f"  (ratio to mbtiles: mean {mean / ref[0]:.2f}, p99 {p99 / ref[2]:.2f})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
