"""Intake p95 with 10 clients, alone and during a flood of 50 wrong logins a second from one address,
in the same run against the same engine process (the reference is the run without the flood).

    .venv/bin/python bench/bench_login_flood.py [--requests 1500] [--rounds 6] [--clients 10] [--rate 50]
        [--throttle-off]

The attacker runs in a process of its own (its HTTP client must not share the measuring clients' event
loop, or the bench measures itself), and the run alternates windows alone and under the flood (alone,
flood / flood, alone, …) so that the machine's drift and the growing database weigh on both sides alike.
With the default settings the address is throttled after 5 failures, so the flood is answered 429 by a
middleware before routing and parsing, and only one attempt per backoff step reaches argon2id.
``--throttle-off`` adds an engine with throttling effectively off (every wrong login that finds room on
the login pool, 1 thread and 8 waiting, costs one argon2id): the case of a flood spread over many
addresses, informational. Target: flood p95 within 20 % of alone p95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_intake import agency_simulator, free_port, load, prepare  # noqa: E402

from app.domain.clock import SystemClock  # noqa: E402
from app.domain.enums import Role  # noqa: E402
from app.engine.services.directory import add_user  # noqa: E402
from app.engine.settings import Settings  # noqa: E402
from app.engine.work import UnitOfWorkFactory  # noqa: E402
from app.store.database import Database  # noqa: E402
from tests.engine.conftest import ADMIN  # noqa: E402


def add_operator(data_dir: Path) -> None:
    db = Database(Settings(data_dir=data_dir).database_url)
    with UnitOfWorkFactory(db, SystemClock())(ADMIN) as work:
        add_user(work.session, "op", Role.OPERATOR, "the-right-password", work.now)
    db.dispose()


async def _post_raw(
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]], host: str, port: int, request: bytes
) -> int:
    """One request on a kept-alive connection, with no HTTP library: the attacker should cost the shared
    machine as little CPU as a real one (on another machine) would."""
    reader, writer = idle.pop() if idle else await asyncio.open_connection(host, port)
    writer.write(request)
    status = int((await reader.readline()).split()[1])
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
        elif name.strip().lower() == "connection" and "close" in value.lower():
            close = True
    await reader.readexactly(length)
    if close:
        writer.close()
    else:
        idle.append((reader, writer))
    return status


async def flood(base: str, rate: float, stop: asyncio.Event) -> dict[int, int]:
    """Wrong logins for one user from one address, open loop at ``rate`` a second, until ``stop``."""
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    counts: dict[int, int] = {}
    tasks: set[asyncio.Task[None]] = set()
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def one(i: int) -> None:
        body = json.dumps({"username": "op", "password": f"guess-{i}"}).encode()
        request = (
            f"POST /api/v1/sessions HTTP/1.1\r\nHost: {host}:{port}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        ).encode() + body
        try:
            code = await _post_raw(idle, host, port, request)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            code = 0
        counts[code] = counts.get(code, 0) + 1

    start = time.perf_counter()
    i = 0
    while not stop.is_set():
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        t = asyncio.create_task(one(i))
        tasks.add(t)
        t.add_done_callback(tasks.discard)
        i += 1
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    return counts


def flood_process(base: str, rate: float) -> None:
    """``--flood``: the attacker, in a process of its own (so its HTTP client does not share the measuring
    clients' event loop). Reads ``on`` / ``off`` / ``quit`` lines on stdin, answers ``ok`` to each, and
    prints the answers' status counts (JSON) at ``quit``."""

    async def run() -> dict[int, int]:
        loop = asyncio.get_running_loop()
        total: dict[int, int] = {}
        stop: asyncio.Event | None = None
        running: asyncio.Task[dict[int, int]] | None = None
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if line == "on" and running is None:
                stop = asyncio.Event()
                running = asyncio.create_task(flood(base, rate, stop))
            elif line in ("off", "quit", "") and running is not None and stop is not None:
                stop.set()
                for code, n in (await running).items():
                    total[code] = total.get(code, 0) + n
                running = None
            print("ok", flush=True)
            if line in ("quit", ""):
                return total

    print(json.dumps(asyncio.run(run())), flush=True)


class Attacker:
    def __init__(self, base: str, rate: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--flood", base, "--rate", str(rate)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def send(self, command: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def quit(self) -> dict[int, int]:
        assert self.proc.stdout is not None
        self.send("quit")
        counts = {int(k): v for k, v in json.loads(self.proc.stdout.readline()).items()}
        self.proc.wait(15)
        return counts


def p95(lat: list[float]) -> float:
    s = sorted(lat)
    return s[int(0.95 * len(s)) - 1] * 1000


def run_engine(tmpdir: Path, name: str, config: str | None, args: argparse.Namespace) -> dict[str, object]:
    data = tmpdir / name
    port, agency_port = free_port(), free_port()
    key, secret = prepare(data, f"http://127.0.0.1:{agency_port}/webhook")
    add_operator(data)
    cmd = [sys.executable, str(ROOT / "main.py"), "engine", "--data-dir", str(data), "--port", str(port)]
    if config:
        (tmpdir / f"{name}.toml").write_text(config)
        cmd += ["--config", str(tmpdir / f"{name}.toml")]
    agency = agency_simulator(agency_port, secret)
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    alone: list[float] = []
    during: list[float] = []
    pairs: list[float] = []
    attacker: Attacker | None = None
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        attacker = Attacker(base, args.rate)
        asyncio.run(load(base, key, 50, args.clients, "warm"))
        # The first seconds of a flood are its free failures (each one argon2id): let them pass once.
        attacker.send("on")
        time.sleep(1.0)
        attacker.send("off")
        per = max(20, args.requests // args.rounds)
        for r in range(args.rounds):
            # Alternate the order (alone, flood / flood, alone) so a drift of the machine or of the growing
            # database weighs on both sides alike.
            got: dict[str, list[float]] = {}
            for phase in ("alone", "flood") if r % 2 == 0 else ("flood", "alone"):
                if phase == "flood":
                    attacker.send("on")
                    time.sleep(0.5)  # the flood is at full rate before intake starts
                lat, _ = asyncio.run(load(base, key, per, args.clients, f"{phase}{r}"))
                if phase == "flood":
                    attacker.send("off")
                got[phase] = lat
            alone += got["alone"]
            during += got["flood"]
            pairs.append(p95(got["flood"]) / p95(got["alone"]))
        counts = attacker.quit()
        attacker = None
        ok = httpx.post(base + "/api/v1/sessions", json={"username": "op", "password": "the-right-password"})
    finally:
        if attacker is not None:
            attacker.proc.kill()
        proc.terminate()
        proc.wait(15)
        agency.terminate()
        agency.wait(15)
    return {"alone": alone, "during": during, "pairs": pairs, "counts": counts, "login_after": ok.status_code}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1500, help="intake requests on each side (alone, flood)")
    ap.add_argument("--rounds", type=int, default=10, help="alternating alone/flood windows")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--rate", type=float, default=50.0, help="wrong logins a second, from one address")
    ap.add_argument("--throttle-off", action="store_true", help="also the variant with throttling off")
    ap.add_argument("--flood", metavar="BASE_URL", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.flood:
        flood_process(args.flood, args.rate)
        return
    variants: dict[str, str | None] = {"default (throttled)": None}
    if args.throttle_off:
        variants["throttle off (pool only; informational)"] = (
            "[security]\nthrottle_free_failures = 100\nthrottle_base_s = 0.001\nthrottle_max_s = 0.001\n"
        )
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, config) in enumerate(variants.items()):
            r = run_engine(Path(tmp), f"engine{i}", config, args)
            alone, during = r["alone"], r["during"]
            a, d = p95(alone), p95(during)  # type: ignore[arg-type]
            pairs = r["pairs"]
            print(f"[{label}]  {args.rounds} alternating rounds")
            print(
                f"  intake alone ({args.clients} clients, {len(alone)} req): "  # type: ignore[arg-type]
                f"p50 {statistics.median(alone) * 1000:.1f} ms  p95 {a:.1f} ms"  # type: ignore[arg-type]
            )
            print(
                f"  intake during {args.rate:g} wrong logins/s ({len(during)} req): "  # type: ignore[arg-type]
                f"p50 {statistics.median(during) * 1000:.1f} ms  p95 {d:.1f} ms"  # type: ignore[arg-type]
            )
            print(f"  per-round p95 ratios: {' '.join(f'{x:.2f}' for x in pairs)}")  # type: ignore[union-attr]
            print(f"  login answers during the flood: {dict(sorted(r['counts'].items()))}")  # type: ignore[union-attr]
            print(
                f"  right password after the flood: HTTP {r['login_after']} (429 = still throttled, by design)"
            )
            print(
                f"  ratio p95 during / alone: {d / a:.2f}  (target <= 1.20: {'met' if d / a <= 1.2 else 'NOT met'})"
            )


if __name__ == "__main__":
    main()
