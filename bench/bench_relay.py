"""Media relay benchmark: CPU per stream against ``ffmpeg -c copy``, time to first frame, fan-out, latency.

    .venv/bin/python bench/bench_relay.py [--cameras 4,8,16] [--seconds 20]

Everything runs against the camera simulator (``app.sim.cameras``, a real RTSP server). The relay is the
real media process (``python main.py media``, started exactly as the engine starts it, this script
answering its control channel in the engine's place), so its CPU is measured alone, from
``/proc/PID/task/*/schedstat`` (ns) of that process and of its ``ffmpeg -c copy`` children; viewers are
raw HTTP readers in this process (they only discard bytes). ``BENCH_BATCH=0`` runs it with per-frame reads
(``--batch-interval``); ``BENCH_MEDIA_CPROFILE_WRAPPER=script.py`` runs it under a profiling wrapper.

1. CPU per stream: the relay serving the main stream (1280×720) of every camera, one viewer each,
   against, over the same window, one ``ffmpeg -rtsp_transport tcp -i URL -c copy -f mpegts`` per
   stream serving one HTTP viewer (``-listen 1``: the same work) and one writing to /dev/null.
   Target: relay ≤ 1.5× ffmpeg.
2. Time from a viewer's connect to its first decoded frame, on warm channels, with the GOP cache and without it (a second relay started with ``gop_cache=False``: the
   viewer waits for the next keyframe), measured with a zero-buffering client (see
   ``first_decodable_frame``). Target with the cache: under 300 ms.
3. CPU of one camera fanned out to 50 viewers.
4. Latency added by the relay, and by the reference ``ffmpeg -c copy`` to an HTTP viewer: each frame's
   arrival at a direct RTSP client against the arrival of the same bytes at an HTTP client of either
   (matched on the frame's last bytes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import av  # noqa: E402
import httpx  # noqa: E402

TOKEN = "bench"
SMALL_PROBE = {"probesize": "32768", "analyzeduration": "0", "fflags": "nobuffer"}


# ------------------------------------------------------------------------------------------------
# The relay server process: the real media process, with this script as its engine
# ------------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def relay_process(
    urls: dict[str, str], *, gop_cache: bool = True, prewarm: bool = True
) -> AsyncIterator[tuple[int, int]]:
    """``python main.py media`` exactly as the engine starts it (listening socket and control channel
    inherited), with this script answering the control channel in the engine's place: every token
    ``bench`` is granted the camera it names, nothing is audited. Yields (pid, port)."""
    from app.engine.media.control import ControlChannel
    from app.engine.media.supervisor import media_command

    listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listen.bind(("127.0.0.1", 0))
    listen.listen(512)
    port = int(listen.getsockname()[1])
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    hello = asyncio.Event()

    async def handle(message: dict[str, Any]) -> dict[str, Any] | None:
        kind = message.get("t")
        if kind == "hello":
            hello.set()
        if kind != "authorize":
            return None
        cam = str(message.get("camera_id"))
        if message.get("token") != TOKEN or cam not in urls:
            return {"denied": {"status": 404, "title": "Unknown camera", "detail": cam}}
        grant = {
            "viewer": "bench",
            "camera_id": cam,
            "stream_url": urls[cam],
            "kind": "console",
            "share_id": None,
            "expires_at": None,
            "grant_ref": None,
            "client": message.get("client"),
        }
        return {"grant": grant}

    extra = ["--idle-grace", "30"] + ([] if gop_cache else ["--no-gop-cache"])
    if os.environ.get("BENCH_BATCH"):
        extra += ["--batch-interval", os.environ["BENCH_BATCH"]]
    cmd = media_command(listen.fileno(), child.fileno(), extra)
    if os.environ.get("BENCH_MEDIA_CPROFILE_WRAPPER"):  # profiling: a script that runs app.cli.main
        cmd[1:2] = [os.environ["BENCH_MEDIA_CPROFILE_WRAPPER"]]
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=asyncio.subprocess.DEVNULL, pass_fds=(listen.fileno(), child.fileno()), cwd=ROOT
    )
    child.close()
    channel = await ControlChannel.open(parent, handle)
    serving = asyncio.create_task(channel.serve())
    try:
        async with asyncio.timeout(20):
            await hello.wait()
        if prewarm:
            channel.send({"t": "prewarm", "cameras": [[c, u] for c, u in urls.items()], "seconds": 3600})
        yield proc.pid, port
    finally:
        channel.close()  # the media process exits when its control channel closes
        try:
            async with asyncio.timeout(15):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        listen.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int, tree: bool = False) -> float:
    """CPU time of every thread of ``pid`` (with ``tree``: and of its living descendants, e.g. the relay's
    ``ffmpeg -c copy`` children), in ns precision (``/proc/PID/stat`` ticks are too coarse)."""
    total = 0
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                total += int((task / "schedstat").read_text().split()[0])
            if tree:
                with contextlib.suppress(OSError):
                    children += [int(c) for c in (task / "children").read_text().split()]
    return total / 1e9 + sum(cpu_seconds(c, tree=True) for c in children)


# ------------------------------------------------------------------------------------------------
# Clients
# ------------------------------------------------------------------------------------------------


async def http_reader(port: int, path: str, stop: asyncio.Event, counter: list[int]) -> None:
    for attempt in range(900):  # ffmpeg -listen binds only once its input is open (slow with 48 sessions)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            break
        except ConnectionRefusedError:
            if attempt == 899:
                raise
            await asyncio.sleep(0.1)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    await writer.drain()
    try:
        while not stop.is_set():
            data = await reader.read(65536)
            if not data:
                break
            counter[0] += len(data)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def viewers(port: int, cams: list[str], path: str | None = None) -> AsyncIterator[list[int]]:
    stop = asyncio.Event()
    counter = [0]
    tasks = [
        asyncio.create_task(http_reader(port, path or f"/media/{TOKEN}/{cam}.ts", stop, counter))
        for cam in cams
    ]
    try:
        yield counter
    finally:
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


MP4_OUT = ["-f", "mp4", "-movflags", "empty_moov+default_base_moof+frag_every_frame"]


@contextlib.asynccontextmanager
async def ws_viewers(port: int, cams: list[str]) -> AsyncIterator[list[int]]:
    """The share page's path: a WebSocket per camera, every message discarded."""
    from websockets.asyncio.client import connect

    stop = asyncio.Event()
    counter = [0]

    async def one(cam: str) -> None:
        async with connect(f"ws://127.0.0.1:{port}/media/{TOKEN}/{cam}.ws", max_size=None) as ws:
            while not stop.is_set():
                counter[0] += len(await ws.recv())

    tasks = [asyncio.create_task(one(cam)) for cam in cams]
    try:
        yield counter
    finally:
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def measure_cpu(pid: int, seconds: float, warmup: float = 3.0) -> float:
    """Percent of one core used by ``pid`` and its children over ``seconds`` (after ``warmup``)."""
    await asyncio.sleep(warmup)
    c0, t0 = cpu_seconds(pid, tree=True), time.monotonic()
    await asyncio.sleep(seconds)
    return 100 * (cpu_seconds(pid, tree=True) - c0) / (time.monotonic() - t0)


def first_frame_time(url: str) -> float:
    """Direct RTSP reference: PyAV open (RTSP handshake, SDP) to the first decoded frame."""
    t0 = time.perf_counter()
    container: Any = av.open(url, options={"rtsp_transport": "tcp", **SMALL_PROBE}, timeout=10)
    with container:
        for _ in container.decode(video=0):
            return time.perf_counter() - t0
    raise RuntimeError("no frame")


async def first_decodable_frame(client: httpx.AsyncClient, url: str) -> float:
    """Seconds from the request to the first decoded picture, for a client with no buffering of its
    own: the TS is parsed here and each complete PES goes straight to a one-thread H.264 decoder
    (a player's own probing and buffering come on top of this)."""
    t0 = time.perf_counter()
    decoder: Any = av.CodecContext.create("h264", "r")
    decoder.thread_count = 1

    def decodes(es: bytes) -> bool:
        try:
            return bool(decoder.decode(av.Packet(es)))
        except av.FFmpegError:
            return False

    buf = bytearray()
    es: bytearray | None = None
    need = 0
    async with client.stream("GET", url) as resp:
        async for chunk in resp.aiter_bytes():
            buf += chunk
            while len(buf) >= 188:
                ts = bytes(buf[:188])
                del buf[:188]
                afc = (ts[3] >> 4) & 3
                if not afc & 1:
                    continue
                payload = ts[4 + (1 + ts[4] if afc & 2 else 0) :]
                if ts[1] & 0x40 and payload[:4] == b"\x00\x00\x01\xe0":  # a video PES starts
                    if es is not None and decodes(bytes(es)):
                        return time.perf_counter() - t0
                    length, header = int.from_bytes(payload[4:6], "big"), payload[8]
                    es = bytearray(payload[9 + header :])
                    need = length - 3 - header if length else 0  # 0: unbounded, ends at the next PES
                elif es is not None:
                    es += payload
                if es is not None and need and len(es) >= need:
                    if decodes(bytes(es[:need])):
                        return time.perf_counter() - t0
                    es = None
    raise RuntimeError("no frame")


# ------------------------------------------------------------------------------------------------
# The four measurements
# ------------------------------------------------------------------------------------------------


async def bench_cpu(sim: Any, n: int, seconds: float, browsers: bool = False) -> tuple[float, float]:
    """The relay and the references run side by side over the same window, so the machine's load
    weighs on all of them alike. ``browsers``: the relay's viewers are WebSocket (fragmented MP4, the
    share page's path) and the HTTP reference writes fragmented MP4 too."""
    urls = {f"cam{i}": sim.url(i, "main") for i in range(1, n + 1)}
    ffmpeg_in = ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-probesize", "32768",
                 "-analyzeduration", "100000"]  # fmt: skip
    async with relay_process(urls, prewarm=False) as (pid, port):
        idle = await measure_cpu(pid, 5.0, warmup=2.0)  # the server with no camera open (uvicorn ticks)
        to_null = [
            await asyncio.create_subprocess_exec(
                *ffmpeg_in,
                "-i",
                url,
                "-c",
                "copy",
                "-f",
                "mpegts",
                "-y",
                "/dev/null",
                stderr=subprocess.DEVNULL,
            )
            for url in urls.values()
        ]
        http_ports = [free_port() for _ in urls]
        to_http = [
            await asyncio.create_subprocess_exec(
                *ffmpeg_in,
                "-i",
                url,
                "-c",
                "copy",
                *(MP4_OUT if browsers else ["-f", "mpegts"]),
                "-listen",
                "1",
                f"http://127.0.0.1:{p}/",
                stderr=subprocess.DEVNULL,
            )
            for url, p in zip(urls.values(), http_ports, strict=True)
        ]
        try:
            relay_viewers = ws_viewers(port, list(urls)) if browsers else viewers(port, list(urls))
            async with relay_viewers as relay_bytes, contextlib.AsyncExitStack() as stack:
                counters = [await stack.enter_async_context(viewers(p, [""], path="/")) for p in http_ports]
                deadline = time.monotonic() + 90  # a loaded machine opens 3×n RTSP sessions slowly
                while min(c[0] for c in counters) == 0 or relay_bytes[0] == 0:
                    if time.monotonic() > deadline:
                        raise RuntimeError("a reference viewer received nothing")
                    await asyncio.sleep(0.5)
                await asyncio.sleep(3.0)
                groups = {"relay": [pid], "null": [p.pid for p in to_null], "http": [p.pid for p in to_http]}
                before = {k: sum(cpu_seconds(x, tree=True) for x in pids) for k, pids in groups.items()}
                t0 = time.monotonic()
                await asyncio.sleep(seconds)
                elapsed = time.monotonic() - t0
                used = {
                    k: 100 * (sum(cpu_seconds(x, tree=True) for x in pids) - before[k]) / elapsed
                    for k, pids in groups.items()
                }
        finally:
            for proc in to_null + to_http:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                await proc.wait()
    per_relay, per_null, per_http = (used["relay"] - idle) / n, used["null"] / n, used["http"] / n
    if browsers:
        print(f"1b. browsers (WebSocket, fragmented MP4), {n} streams, one viewer each, {seconds:.0f} s:"
              f" relay {per_relay:.2f} % of a core per stream; ffmpeg -c copy writing fragmented MP4 to an HTTP"
              f" viewer {per_http:.2f} %  -> ratio {per_relay / per_http:.2f}x")  # fmt: skip
        return per_relay, per_http
    print(f"1. CPU per 720p stream ({n} streams, one viewer each, {seconds:.0f} s, side by side):"
          f" relay (its process + its ffmpeg children) {per_relay:.2f} % of a core (process total {used['relay']:.2f} %, of which {idle:.2f} %"
          f" with no camera open); ffmpeg -c copy to an HTTP viewer (-listen 1) {per_http:.2f} %,"
          f" to /dev/null {per_null:.2f} %  -> ratio {per_relay / per_http:.2f}x"
          f" ({per_relay / per_null:.2f}x against /dev/null; target <= 1.5x)")  # fmt: skip
    return per_relay, per_http


async def bench_first_frame(sim: Any, n: int, trials: int) -> None:
    urls = {f"cam{i}": sim.url(i, "main") for i in range(1, n + 1)}
    rng = random.Random(5)
    results = {}
    async with httpx.AsyncClient(timeout=15) as client:
        for label, cache in (("with GOP cache", True), ("without GOP cache", False)):
            async with relay_process(urls, gop_cache=cache) as (_pid, port):
                await asyncio.sleep(3.0)  # let every prewarmed upstream get its first keyframe
                times = []
                for k in range(trials):
                    await asyncio.sleep(rng.uniform(0.0, 1.0))  # a random phase against the 1 s GOP
                    cam = f"cam{k % n + 1}"
                    times.append(
                        await first_decodable_frame(client, f"http://127.0.0.1:{port}/media/{TOKEN}/{cam}.ts")
                    )
                results[label] = times
        cold = []
        subs = {f"sub{i}": sim.url(i, "sub") for i in range(1, n + 1)}
        async with relay_process(subs, prewarm=False) as (_pid, port):
            for cam in subs:
                cold.append(
                    await first_decodable_frame(client, f"http://127.0.0.1:{port}/media/{TOKEN}/{cam}.ts")
                )
    direct = [await asyncio.to_thread(first_frame_time, sim.url(i, "main")) for i in range(1, n + 1)]
    for label, times in results.items():
        print(f"2. first decodable frame {label}: median {1000 * statistics.median(times):.0f} ms,"
              f" max {1000 * max(times):.0f} ms ({len(times)} trials, warm upstream)")  # fmt: skip
    ratio = statistics.median(results["without GOP cache"]) / statistics.median(results["with GOP cache"])
    print(f"   -> the cache is {ratio:.1f}x faster (target with cache < 300 ms);"
          f" cold relay (upstream opened by the viewer): median {1000 * statistics.median(cold):.0f} ms;"
          f" PyAV straight from the camera's RTSP: median {1000 * statistics.median(direct):.0f} ms")  # fmt: skip


async def bench_fanout(sim: Any, viewers_n: int, seconds: float, per_stream: float) -> None:
    urls = {"cam1": sim.url(1, "main")}
    async with relay_process(urls) as (pid, port):
        async with viewers(port, ["cam1"] * viewers_n) as counter:
            cpu = await measure_cpu(pid, seconds)
            received = counter[0]
    mbps = received * 8 / seconds / 1e6
    print(f"3. one 720p camera to {viewers_n} viewers: relay {cpu:.2f} % of a core"
          f" ({cpu / max(per_stream, 1e-9):.1f}x one viewer; {mbps:.0f} Mbit/s delivered in total)")  # fmt: skip


async def bench_latency(sim: Any, seconds: float) -> None:
    """The relay's added latency, and (the reference) that of ``ffmpeg -c copy`` to an HTTP viewer, both
    against a direct RTSP client of the same camera: the relay delivers every ``batch_ms`` (100 ms by
    default), the reference writes every frame as it comes."""
    url = sim.url(2, "main")
    async with relay_process({"cam2": url}) as (_pid, port):
        await asyncio.sleep(2.0)
        relay = await _latency(url, port, f"/media/{TOKEN}/cam2.ts", seconds)
    ref_port = free_port()
    ref = await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-probesize", "32768",
        "-analyzeduration", "100000", "-i", url, "-c", "copy", "-f", "mpegts", "-listen", "1",
        f"http://127.0.0.1:{ref_port}/", stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        reference = await _latency(url, ref_port, "/", seconds)
    finally:
        with contextlib.suppress(ProcessLookupError):
            ref.terminate()
        await ref.wait()
    for label, delays in (("the relay", relay), ("ffmpeg -c copy to an HTTP viewer (reference)", reference)):
        if not delays:
            print(f"4. latency added by {label}: no frames matched")
            continue
        delays.sort()
        print(f"4. latency added by {label}: median {1000 * statistics.median(delays):.1f} ms,"
              f" p90 {1000 * delays[int(0.9 * (len(delays) - 1))]:.1f} ms ({len(delays)} frames matched)")  # fmt: skip


async def _latency(url: str, port: int, path: str, seconds: float) -> list[float]:
    direct: dict[bytes, list[float]] = {}  # the clip loops: a frame's bytes recur every loop
    stop = threading.Event()

    def direct_reader() -> None:
        container: Any = av.open(url, options={"rtsp_transport": "tcp", **SMALL_PROBE}, timeout=10)
        with container:
            for packet in container.demux(video=0):
                if packet.size:
                    direct.setdefault(bytes(packet)[-16:], []).append(time.perf_counter())
                if stop.is_set():
                    break

    thread = threading.Thread(target=direct_reader, daemon=True)
    thread.start()
    arrivals: list[tuple[float, bytes]] = []  # matched afterwards, so arrival order cannot bias it
    for attempt in range(300):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            break
        except ConnectionRefusedError:
            if attempt == 299:
                raise
            await asyncio.sleep(0.1)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    await writer.drain()
    previous = b""
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        data = await reader.read(65536)
        if not data:
            break
        arrivals.append((time.perf_counter(), previous[-64:] + data))
        previous = data
    writer.close()
    stop.set()
    thread.join(timeout=5)
    delays = []
    for tail, times in direct.items():
        seen = [at for at, data in arrivals if tail in data]
        for t_direct in times:  # each direct arrival against the first relayed one within a second
            near = [at - t_direct for at in seen if abs(at - t_direct) < 1.0]
            if near:
                delays.append(min(near, key=abs))
    return delays


async def run(args: argparse.Namespace) -> None:
    from app.sim.cameras import CameraSim

    counts = [int(c) for c in str(args.cameras).split(",")]
    with CameraSim(max(*counts, 2)) as sim:
        sim_pid = sim._proc.pid if sim._proc else 0
        s0 = cpu_seconds(sim_pid)
        t0 = time.monotonic()
        per_relay = 0.0
        if "cpu" in args.parts:
            for n in counts:
                per_relay, _ = await bench_cpu(sim, n, args.seconds)
        if "browsers" in args.parts:
            await bench_cpu(sim, min(counts), args.seconds, browsers=True)
        if "first" in args.parts:
            await bench_first_frame(sim, min(counts), args.trials)
        if "fanout" in args.parts:
            await bench_fanout(sim, args.viewers, args.seconds, per_relay)
        if "latency" in args.parts:
            await bench_latency(sim, min(args.seconds, 15))
        print(f"(camera simulator process: {100 * (cpu_seconds(sim_pid) - s0) / (time.monotonic() - t0):.2f} %"
              " of a core on average over the run)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", default="4,8,16", help="camera counts for the CPU part, e.g. 4,8,16")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument(
        "--parts",
        default="cpu,browsers,first,fanout,latency",
        help="comma-separated: cpu, browsers, first, fanout, latency",
    )
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
