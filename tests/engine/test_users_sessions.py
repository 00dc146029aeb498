"""Users, roles, logins and sessions: argon2id, throttling, idle and absolute limits, user management,
and a disabled user or ended session cut everywhere (requests, the live feed, video) within a second."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from app.domain.clock import ManualClock
from app.domain.enums import Role
from app.engine.login import LoginThrottle
from app.engine.passwords import ARGON2_MEMORY_KIB, ARGON2_TIME_COST, legacy_scrypt_hash, verify_password
from app.engine.services.directory import add_user
from app.store.models import UserRow
from tests.engine.conftest import ADMIN, EngineUnderTest, sim_cameras, start_engine

PASSWORD = "correct-horse"


def _login(e: EngineUnderTest, name: str, password: str = PASSWORD) -> httpx.Response:
    return e.http.post("/api/v1/sessions", json={"username": name, "password": password})


def _bearer(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 201, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[tuple[EngineUnderTest, ManualClock]]:
    clock = ManualClock()
    e = start_engine(tmp_path, clock=clock)
    yield e, clock
    e.close()


# ---------------------------------------------------------------------- passwords


def test_passwords_are_argon2id_and_legacy_scrypt_hashes_are_replaced_at_login(
    engine: EngineUnderTest,
) -> None:
    engine.add_user("new", Role.OPERATOR, PASSWORD)
    with engine.server.uow(ADMIN) as work:
        old = add_user(work.session, "old", Role.OPERATOR, PASSWORD, work.now)
        old.password_hash = legacy_scrypt_hash(PASSWORD)
    with engine.server.uow.read() as s:
        new_hash = s.query(UserRow).filter_by(username="new").one().password_hash
    assert new_hash.startswith(f"$argon2id$v=19$m={ARGON2_MEMORY_KIB},t={ARGON2_TIME_COST},p=1$")
    assert _login(engine, "old", "wrong-password").status_code == 401
    _bearer(_login(engine, "old"))
    with engine.server.uow.read() as s:
        upgraded = s.query(UserRow).filter_by(username="old").one().password_hash
    assert upgraded.startswith("$argon2id$") and verify_password(PASSWORD, upgraded)
    _bearer(_login(engine, "old"))  # and the new hash logs in


# ---------------------------------------------------------------------- throttling


def test_backoff_doubles_after_the_free_failures_and_a_success_clears_it() -> None:
    now = [0.0]
    t = LoginThrottle(free=2, base_s=1.0, max_s=8.0, clock=lambda: now[0])
    t.failed("a")
    t.failed("a")
    assert t.wait_s("a") == 0
    waits = []
    for _ in range(5):
        t.failed("a")
        waits.append(t.wait_s("a"))
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0]  # doubling, capped
    assert t.wait_s("b") == 0  # another address is not affected
    now[0] += 8.0
    assert t.wait_s("a") == 0
    t.succeeded("a")
    t.failed("a")
    assert t.wait_s("a") == 0


def test_wrong_logins_are_throttled_with_retry_after_and_audited(tmp_path: Path) -> None:
    e = start_engine(tmp_path, security={"throttle_free_failures": 3, "throttle_base_s": 30})
    try:
        e.add_user("op", Role.OPERATOR, PASSWORD)
        statuses = [_login(e, "op", f"guess-{i}").status_code for i in range(4)]
        assert statuses == [401, 401, 401, 401]
        blocked = _login(e, "op")  # even the right password waits now (per user and per address)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 29
        assert blocked.headers["content-type"].startswith("application/problem+json")
        other = _login(e, "someone", "x" * 8)  # same address, another name: the address is throttled too
        assert other.status_code == 429
        e.server.security.flush()
        with e.server.uow.read() as s:
            from app.store.models import AuditRow

            rows = s.query(AuditRow).filter(AuditRow.action == "session.denied").all()
        by_status: dict[int, int] = {}
        for r in rows:
            by_status[r.detail["status"]] = by_status.get(r.detail["status"], 0) + r.detail["count"]
        assert by_status == {401: 4, 429: 2}
        assert len(rows) <= 3  # counted per (actor, address, status), not one row per refusal
    finally:
        e.close()


def test_the_login_pool_is_bounded(tmp_path: Path) -> None:
    e = start_engine(tmp_path, security={"login_workers": 1, "login_queue": 1, "throttle_free_failures": 100})
    try:
        e.add_user("op", Role.OPERATOR, PASSWORD)
        results: list[int] = []

        def attempt(i: int) -> None:
            with httpx.Client(base_url=e.url, timeout=30) as c:
                r = c.post("/api/v1/sessions", json={"username": "op", "password": f"wrong-{i}"})
                results.append(r.status_code)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # At most workers + queue are verified at once; the rest are turned away at once.
        assert set(results) == {401, 429}
        assert results.count(429) >= 1
    finally:
        e.close()


def test_a_burst_from_one_address_reaches_the_hash_no_more_than_the_free_failures() -> None:
    now = [0.0]
    t = LoginThrottle(free=3, base_s=1.0, max_s=8.0, clock=lambda: now[0])
    # Ten attempts at once (none decided yet): only the three free ones go on to the password check.
    assert [t.admit("addr:a") for _ in range(10)].count(0.0) == 3
    for _ in range(3):
        t.failed("addr:a")
        t.checked("addr:a")
    # Free failures spent: one attempt at a time, and its failure starts the backoff.
    assert t.admit("addr:a") == 0.0
    assert t.admit("addr:a") > 0  # a second one while the first is being checked
    t.failed("addr:a")
    t.checked("addr:a")
    assert t.admit("addr:a") == 1.0  # blocked for a second
    now[0] += 1.0
    assert [t.admit("addr:a") for _ in range(10)].count(0.0) == 1  # one per backoff step, not a burst
    assert t.admit("addr:b") == 0.0  # another address is not affected


def test_a_concurrent_flood_costs_no_more_verifications_than_the_free_failures(tmp_path: Path) -> None:
    e = start_engine(tmp_path, security={"throttle_free_failures": 3, "login_queue": 32})
    try:
        e.add_user("op", Role.OPERATOR, PASSWORD)
        results: list[int] = []
        go = threading.Barrier(20)

        def attempt(i: int) -> None:
            with httpx.Client(base_url=e.url, timeout=30) as c:
                go.wait()
                r = c.post("/api/v1/sessions", json={"username": "op", "password": f"wrong-{i}"})
                results.append(r.status_code)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        # Every 401 is one argon2id verification; the rest were turned away before the hash.
        assert len(results) == 20 and set(results) <= {401, 429}
        assert 1 <= results.count(401) <= 3, results
    finally:
        e.close()


# ---------------------------------------------------------------------- session limits


def test_idle_sessions_end_and_requests_keep_them_alive(
    clocked: tuple[EngineUnderTest, ManualClock],
) -> None:
    e, clock = clocked
    op = e.add_user("op", Role.OPERATOR, PASSWORD)
    for _ in range(3):  # active every 20 minutes: alive after an hour
        clock.advance(20 * 60)
        assert e.http.get("/api/v1/incidents", headers=op).status_code == 200
    clock.advance(31 * 60)
    r = e.http.get("/api/v1/incidents", headers=op)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_sessions_end_after_the_absolute_limit_however_active(
    clocked: tuple[EngineUnderTest, ManualClock],
) -> None:
    e, clock = clocked
    op = e.add_user("op", Role.OPERATOR, PASSWORD)
    for _ in range(12 * 3 - 1):
        clock.advance(20 * 60)
        assert e.http.get("/api/v1/incidents", headers=op).status_code == 200
    clock.advance(21 * 60)
    assert e.http.get("/api/v1/incidents", headers=op).status_code == 401


# ---------------------------------------------------------------------- user management


def test_admin_manages_users_and_changes_take_effect_at_once(engine: EngineUnderTest) -> None:
    admin = engine.add_user("root", Role.ADMIN, PASSWORD)
    op = engine.add_user("kim", Role.OPERATOR, PASSWORD)
    r = engine.http.post(
        "/api/v1/users", headers=admin, json={"username": "lee", "role": "auditor", "password": "long-enough"}
    )
    assert r.status_code == 201 and r.json()["role"] == "auditor"
    assert (
        engine.http.post(
            "/api/v1/users",
            headers=admin,
            json={"username": "lee", "role": "auditor", "password": "long-enough"},
        ).status_code
        == 409
    )
    listed = {u["username"]: u for u in engine.http.get("/api/v1/users", headers=admin).json()}
    assert listed["kim"]["active_sessions"] == 1 and listed["lee"]["disabled"] is False
    # A role change applies to the open session at its next request.
    assert engine.http.get("/api/v1/incidents", headers=op).status_code == 200
    r = engine.http.patch("/api/v1/users/kim", headers=admin, json={"role": "auditor"})
    assert r.status_code == 200 and r.json()["role"] == "auditor"
    assert engine.http.get("/api/v1/incidents", headers=op).status_code == 403
    assert engine.http.get("/api/v1/audit", headers=op).status_code == 200
    # A password reset ends the sessions; the new password logs in, the old one does not.
    r = engine.http.patch("/api/v1/users/kim", headers=admin, json={"password": "brand-new-pass"})
    assert r.status_code == 200 and r.json()["active_sessions"] == 0
    assert engine.http.get("/api/v1/audit", headers=op).status_code == 401
    assert _login(engine, "kim").status_code == 401
    again = _bearer(_login(engine, "kim", "brand-new-pass"))
    # End every session of a user.
    r = engine.http.delete("/api/v1/users/kim/sessions", headers=admin)
    assert r.status_code == 200 and r.json() == {"username": "kim", "ended": 1}
    assert engine.http.get("/api/v1/audit", headers=again).status_code == 401
    # Disabled: cannot log in; enabled again: can.
    assert engine.http.patch("/api/v1/users/kim", headers=admin, json={"disabled": True}).status_code == 200
    assert _login(engine, "kim", "brand-new-pass").status_code == 401
    assert engine.http.patch("/api/v1/users/kim", headers=admin, json={"disabled": False}).status_code == 200
    _bearer(_login(engine, "kim", "brand-new-pass"))
    assert (
        engine.http.patch("/api/v1/users/nobody", headers=admin, json={"disabled": True}).status_code == 404
    )
    actions = {
        a["action"]
        for a in engine.http.get("/api/v1/audit", headers=admin, params={"target_type": "user"}).json()
    }
    assert {
        "user.create",
        "user.role",
        "user.password_reset",
        "user.sessions_end",
        "user.disable",
        "user.enable",
    } <= actions


def test_the_last_admin_cannot_be_disabled_or_demoted(engine: EngineUnderTest) -> None:
    admin = engine.add_user("root", Role.ADMIN, PASSWORD)
    engine.add_user("other", Role.ADMIN, PASSWORD)
    assert engine.http.patch("/api/v1/users/root", headers=admin, json={"disabled": True}).status_code == 409
    assert engine.http.patch("/api/v1/users/other", headers=admin, json={"disabled": True}).status_code == 200
    r = engine.http.patch("/api/v1/users/root", headers=admin, json={"role": "operator"})
    assert r.status_code == 409 and "last enabled admin" in r.json()["detail"]


# ---------------------------------------------------------------------- the live feed


def _ws_url(e: EngineUnderTest) -> str:
    return e.url.replace("http://", "ws://") + "/api/v1/live"


def test_live_feed_refuses_a_token_in_the_url_and_takes_one_in_the_first_message(
    engine: EngineUnderTest,
) -> None:
    op = engine.add_user("op", Role.OPERATOR, PASSWORD)
    token = op["authorization"].split()[1]
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        with connect(f"{_ws_url(engine)}?token={token}") as ws:
            ws.recv(timeout=5)
    with connect(_ws_url(engine)) as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
    auditor = engine.add_user("aud", Role.AUDITOR, PASSWORD)
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        with connect(_ws_url(engine), additional_headers=auditor) as ws:
            ws.recv(timeout=5)


def _seconds_until_closed(e: EngineUnderTest, headers: dict[str, str], cut: object) -> float:
    with connect(_ws_url(e), additional_headers=headers) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
        cut()  # type: ignore[operator]
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        return time.monotonic() - started


@pytest.mark.parametrize("how", ["logout", "disable", "end-sessions"])
def test_live_feed_closes_within_a_second_when_its_session_ends(engine: EngineUnderTest, how: str) -> None:
    admin = engine.add_user("root", Role.ADMIN, PASSWORD)
    op = engine.add_user("op", Role.OPERATOR, PASSWORD)

    def cut() -> None:
        if how == "logout":
            r = engine.http.delete("/api/v1/sessions", headers=op)
        elif how == "disable":
            r = engine.http.patch("/api/v1/users/op", headers=admin, json={"disabled": True})
        else:
            r = engine.http.delete("/api/v1/users/op/sessions", headers=admin)
        assert r.status_code in (200, 204), r.text

    assert _seconds_until_closed(engine, op, cut) < 1.5


# ---------------------------------------------------------------------- video


@pytest.fixture
def video_engine(tmp_path: Path, camera_sim: object) -> Iterator[EngineUnderTest]:
    e = start_engine(tmp_path)
    cams = sim_cameras(camera_sim)
    e.add_cameras(cams)
    yield e
    e.close()


def _seconds_until_cut(url: str, cut: object) -> float:
    with httpx.stream("GET", url, timeout=15, follow_redirects=True) as stream:
        assert stream.status_code == 200
        chunks = stream.iter_raw()
        next(chunks)
        cut()  # type: ignore[operator]
        started = time.monotonic()
        for _ in chunks:
            if time.monotonic() - started > 5:
                pytest.fail("the stream kept going after its access ended")
        return time.monotonic() - started


def test_disabling_a_user_cuts_their_video_within_a_second(video_engine: EngineUnderTest) -> None:
    e = video_engine
    admin = e.add_user("root", Role.ADMIN, PASSWORD)
    op = e.add_user("op", Role.OPERATOR, PASSWORD)
    token = e.http.post("/api/v1/media/grants", headers=op).json()["token"]

    def disable() -> None:
        assert e.http.patch("/api/v1/users/op", headers=admin, json={"disabled": True}).status_code == 200

    assert _seconds_until_cut(f"{e.url}/media/{token}/CAM-1~sub.ts", disable) < 1.5
    assert e.http.get(f"{e.url}/media/{token}/CAM-1~sub.ts", follow_redirects=True).status_code == 403


def test_refused_media_requests_are_audited_without_the_token(engine: EngineUnderTest) -> None:
    from tests.engine.conftest import grid_cameras

    engine.add_cameras(grid_cameras(2))
    auditor = engine.add_user("aud", Role.AUDITOR, PASSWORD)
    bogus = "gtm_" + "z" * 43
    for _ in range(3):
        assert engine.http.get(f"/media/{bogus}/CAM-0000.ts").status_code == 401
    engine.server.security.flush()
    rows = engine.http.get("/api/v1/audit", headers=auditor, params={"action": "media.refused"}).json()
    assert sum(r["detail"]["count"] for r in rows) == 3
    assert bogus not in json.dumps(rows)


@pytest.mark.parametrize("how", ["layout-change", "key-revoked"])
def test_a_wall_plays_only_its_layout_and_is_cut_within_a_second(
    video_engine: EngineUnderTest, how: str
) -> None:
    from app.engine.services.wall_keys import add_wall_key, revoke_wall_keys

    e = video_engine
    op = e.add_user("op", Role.OPERATOR, PASSWORD)
    r = e.http.put(
        "/api/v1/walls/WALL-1", headers=op, json={"layout": {"grid": 4, "tiles": ["CAM-1", "CAM-2"]}}
    )
    assert r.status_code == 200, r.text
    with e.server.uow(ADMIN) as work:
        key = add_wall_key(work.session, "WALL-1", work.now)
    wall = {"authorization": f"Bearer {key}"}
    token = e.http.post("/api/v1/media/grants", headers=wall).json()["token"]
    # A camera that is not on the wall is refused; the wall reads nothing but its own wall and cameras.
    assert e.http.get(f"{e.url}/media/{token}/CAM-3~sub.ts", follow_redirects=True).status_code == 403
    assert e.http.get("/api/v1/cameras/CAM-3", headers=wall).status_code == 404
    assert e.http.get("/api/v1/cameras/CAM-1", headers=wall).status_code == 200
    assert e.http.get("/api/v1/incidents", headers=wall).status_code == 403

    def cut() -> None:
        if how == "layout-change":
            r = e.http.put(
                "/api/v1/walls/WALL-1", headers=op, json={"layout": {"grid": 4, "tiles": ["CAM-2"]}}
            )
            assert r.status_code == 200
        else:
            with e.server.uow(ADMIN) as work:
                assert revoke_wall_keys(work.session, "WALL-1", work.now) == 1

    assert _seconds_until_cut(f"{e.url}/media/{token}/CAM-1~sub.ts", cut) < 1.5
