"""Several engines on one PostgreSQL: they start together on a fresh database (migrations under an advisory
lock), and survive the server being restarted under load without losing anything they acknowledged.

Each test runs its own throwaway cluster (tests/engine/pg_cluster.py), since it stops and starts it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DBAPIError

from app.domain.enums import AgencyKind
from app.sim.agency import AgencySimulator
from app.store.models import AgencyRow
from tests.engine.conftest import EngineUnderTest, grid_cameras, request_body, start_engine
from tests.engine.pg_cluster import Cluster, pg_bindir

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(pg_bindir() is None, reason="no PostgreSQL server binaries (initdb, pg_ctl)"),
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    c = Cluster()
    yield c
    c.destroy()


def _wait(cond: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_three_engines_started_at_once_on_a_fresh_database_all_start(
    cluster: Cluster, tmp_path: Path
) -> None:
    url = cluster.create_database("fresh_three")
    procs: list[tuple[subprocess.Popen[bytes], int]] = []
    for i in range(3):
        port = _free_port()
        p = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "engine",
                "--db",
                url,
                "--data-dir",
                str(tmp_path / f"e{i}"),
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        procs.append((p, port))
    try:
        for p, port in procs:

            def up(p: subprocess.Popen[bytes] = p, port: int = port) -> bool:
                if p.poll() is not None:
                    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
                    raise AssertionError(f"an engine failed to start (exit {p.returncode}):\n{err[-3000:]}")
                try:
                    return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            _wait(up, f"the engine on port {port}", 90)
    finally:
        for p, _ in procs:
            p.terminate()
        for p, _ in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "app" / "store" / "migrations"))
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        current = sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))
    assert current == sorted(heads)  # every head, each once


def _upgrade_in(conn: Connection) -> None:
    """The bare Alembic upgrade to every head on ``conn``'s open transaction (what migrate() runs)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "app" / "store" / "migrations"))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "heads")


def _waiting_on(url: str, wait_event_type: str, wait_event: str | None = None) -> Callable[[], bool]:
    plain = url.replace("postgresql+psycopg://", "postgresql://")

    def waiting() -> bool:
        with psycopg.connect(plain) as conn:
            rows = conn.execute(
                "SELECT wait_event FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = %s",
                (wait_event_type,),
            ).fetchall()
        return any(wait_event is None or r[0] == wait_event for r in rows)

    return waiting


def test_a_second_migration_without_the_lock_fails_and_with_it_waits(cluster: Cluster) -> None:
    """Why the lock is needed, made deterministic: one engine's upgrade is in progress (done, not yet
    committed) when a second starts. The bare upgrade blocks on the first one's new catalog rows and fails
    once they commit (it had already decided the tables were missing); migrate() waits on the advisory
    lock instead, then finds the schema current and does nothing."""
    from app.store.database import MIGRATION_LOCK, make_engine, migrate

    outcomes: dict[str, BaseException | None] = {}

    def second(name: str, fn: Callable[[], None]) -> threading.Thread:
        def run() -> None:
            try:
                fn()
                outcomes[name] = None
            except BaseException as exc:  # the outcome is what the test asserts
                outcomes[name] = exc

        t = threading.Thread(target=run)
        t.start()
        return t

    for locked in (False, True):
        url = cluster.create_database(f"race_{'locked' if locked else 'bare'}")
        first, other = make_engine(url), make_engine(url)
        try:
            with first.connect() as conn:
                tx = conn.begin()
                conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))  # as migrate() takes it
                _upgrade_in(conn)  # the first engine's upgrade, not yet committed
                if locked:
                    t = second("locked", lambda e=other: migrate(e))  # type: ignore[misc]
                    _wait(_waiting_on(url, "Lock", "advisory"), "the second migration to wait on the lock")
                else:

                    def bare(e: Engine = other) -> None:
                        with e.begin() as c:
                            _upgrade_in(c)

                    t = second("bare", bare)
                    _wait(_waiting_on(url, "Lock"), "the bare upgrade to block on the first one's tables")
                tx.commit()
            t.join(60)
            assert not t.is_alive()
        finally:
            first.dispose()
            other.dispose()
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as pg:
            current = sorted(r[0] for r in pg.execute("SELECT version_num FROM alembic_version"))
        assert current == sorted(_heads())
    # Without the lock the second engine fails to start: its CREATE TABLE collides with the first's.
    assert isinstance(outcomes["bare"], DBAPIError), outcomes["bare"]
    assert "already exists" in str(outcomes["bare"]) or "duplicate key" in str(outcomes["bare"])
    # With it the second waits, then upgrades nothing.
    assert outcomes["locked"] is None, outcomes["locked"]


def _heads() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "app" / "store" / "migrations"))
    return set(ScriptDirectory.from_config(cfg).get_heads())


@pytest.mark.parametrize("how", ["pg_ctl restart -m fast", "crash, then start"])
def test_postgresql_restarted_under_load_engines_reconnect_and_lose_nothing_acknowledged(
    cluster: Cluster, tmp_path: Path, how: str
) -> None:
    """Four clients post continuously to two engines sharing the database while PostgreSQL is restarted
    (a fast restart: every connection is cut; or a crash: immediate stop, recovery from the WAL). The
    engines are not restarted. Every request answered 2xx is stored exactly once, every delivery is
    delivered to the agency's real webhook receiver, and a request the engine could not store was
    answered 503 problem+json."""
    url = cluster.create_database("restart_fast" if "fast" in how else "restart_crash")
    # Engines sharing a database share its data dir's key (sealed secrets), as a deployment does.
    engines: list[EngineUnderTest] = [start_engine(tmp_path, db_url=url) for _ in range(2)]
    sim: AgencySimulator | None = None
    try:
        engines[0].add_cameras(grid_cameras(n_side=6))
        engines[1].server.ctx.cameras.refresh(force=True)
        police = engines[0].add_agency("112", AgencyKind.POLICE)
        sim = AgencySimulator(secrets=police.webhook_secret, kind=AgencyKind.POLICE).start()
        with engines[0].server.uow.writing() as s:
            row = s.get(AgencyRow, police.id)
            assert row is not None
            row.endpoint = sim.webhook_url
        answered: dict[str, str] = {}  # external_id -> incident id, for every 2xx answer
        refused: list[tuple[int, str]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def client(i: int) -> None:
            e = engines[i % 2]
            with httpx.Client(base_url=e.url, timeout=30) as http:
                k = 0
                while not stop.is_set():
                    ext = f"R-{i}-{k}"
                    try:
                        r = http.post("/api/v1/requests", json=request_body(ext), headers=police.headers)
                    except httpx.HTTPError:
                        continue  # send the same request again: a repeat is idempotent
                    if r.status_code in (200, 201):
                        with lock:
                            answered[ext] = r.json()["incident"]["id"]
                        k += 1
                    else:
                        with lock:
                            refused.append((r.status_code, r.headers.get("content-type", "")))
                        stop.wait(0.05)  # the client's own back-off before it sends the same request again

        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        try:
            _wait(lambda: len(answered) >= 20, "requests before the restart")
            if "fast" in how:
                cluster.restart("fast")
            else:
                cluster.stop("immediate")  # a crash: no checkpoint, recovery from the WAL on start
                _wait(lambda: len(refused) >= 4, "requests refused while the database is down")
                cluster.start()
            before = len(answered)
            # Both engines take requests again without being restarted themselves.
            _wait(lambda: len(answered) >= before + 40, "requests after the restart")
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        # A request the engine could not store was a clear 503 problem, never a 500 or a request lost.
        assert all(status == 503 and "problem+json" in ctype for status, ctype in refused), refused[:5]
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain) as conn:
            stored: dict[str, int] = dict(
                conn.execute("SELECT external_id, count(*) FROM incidents GROUP BY external_id").fetchall()
            )
        missing = sorted(set(answered) - set(stored))
        assert not missing, f"acknowledged but lost: {missing}"
        assert {ext: n for ext, n in stored.items() if n != 1} == {}, "stored more than once"
        # Every queued delivery reaches the agency (the dispatchers survived the restart): at least once,
        # and an incident of every acknowledged request among them.

        def all_delivered() -> bool:
            for e in engines:
                e.server.dispatcher.wake()
            with psycopg.connect(plain) as conn:
                rows = conn.execute("SELECT id, state FROM deliveries").fetchall()
            assert sim is not None
            got = {ev.id for ev in sim.received()}
            return bool(rows) and all(state == "delivered" and d in got for d, state in rows)

        # A delivery whose outcome could not be recorded keeps its lease (60 s) and is sent again after it.
        _wait(all_delivered, "every delivery to be delivered", timeout=150)
        reached = {ev.incident_id for ev in sim.received()}
        assert sorted(set(answered.values()) - reached) == []
        for e in engines:
            assert e.http.get("/readyz").status_code == 200
        # Live events: a change on one engine after the restart reaches both engines' live hubs (their
        # consoles), read in commit order from the shared table.
        r = engines[0].http.post("/api/v1/requests", json=request_body("AFTER"), headers=police.headers)
        assert r.status_code == 201, r.text
        with psycopg.connect(plain) as conn:
            top = conn.execute("SELECT max(seq) FROM live_events").fetchone()
        newest = int(top[0]) if top and top[0] is not None else 0
        assert newest > 0
        _wait(lambda: all(e.server.hub.last_seq >= newest for e in engines), "both live hubs to catch up")
    finally:
        if sim is not None:
            sim.stop()
        for e in engines:
            e.close()


def test_a_request_whose_connection_is_cut_mid_transaction_is_run_again_once(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends the connection of a request's transaction just before it writes the incident
    (``pg_terminate_backend``, what a restart does to every connection). The request is run again on a
    new connection and answered 201 with one incident; without the retry it is a 503 problem and nothing
    is stored, and the client's own repeat then stores it once."""
    from sqlalchemy import event

    from app.store import retry

    url = cluster.create_database("cut_mid_transaction")
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    e = start_engine(tmp_path, db_url=url)
    cuts = {"left": 0, "done": 0}

    def cut(conn: Connection, _cursor: object, statement: str, *_: object) -> None:
        if cuts["left"] and statement.lstrip().upper().startswith("INSERT INTO INCIDENTS"):
            cuts["left"] -= 1
            pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
            with psycopg.connect(plain, autocommit=True) as admin:
                row = admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone()
            assert row is not None and row[0] is True  # the backend is gone, not just signalled
            cuts["done"] += 1

    engine = e.server.uow.db.write
    event.listen(engine, "before_cursor_execute", cut)
    try:
        e.add_cameras(grid_cameras(n_side=4))
        police = e.add_agency("112", AgencyKind.POLICE)

        def stored(ext: str) -> int:
            with psycopg.connect(plain) as conn:
                row = conn.execute("SELECT count(*) FROM incidents WHERE external_id = %s", (ext,)).fetchone()
            return int(row[0]) if row else 0

        cuts["left"] = 1
        r = e.http.post("/api/v1/requests", json=request_body("CUT-1"), headers=police.headers)
        assert cuts["done"] == 1  # the cut happened
        assert r.status_code == 201, r.text
        assert stored("CUT-1") == 1

        monkeypatch.setattr(retry, "BACKOFF_S", ())  # no retry: the cut reaches the client
        cuts["left"] = 1
        r = e.http.post("/api/v1/requests", json=request_body("CUT-2"), headers=police.headers)
        assert cuts["done"] == 2
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json", r.text
        assert r.json()["title"] == "Database unavailable" and r.headers["retry-after"] == "1"
        assert stored("CUT-2") == 0
        r = e.http.post("/api/v1/requests", json=request_body("CUT-2"), headers=police.headers)
        assert r.status_code == 201 and stored("CUT-2") == 1
    finally:
        event.remove(engine, "before_cursor_execute", cut)
        e.close()
