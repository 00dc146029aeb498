"""app.client against a real engine on 127.0.0.1: REST calls typed, problems mapped, live feed with since."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from console_support import OPERATOR, Engine
from pytestqt.qtbot import QtBot

from app.client import (
    Backoff,
    EngineClient,
    EngineError,
    EngineUnreachable,
    FeedState,
    LiveFeed,
    NotAuthenticated,
)
from app.client.engine import camera_stream_url
from app.client.live import live_url
from app.formats.api import LiveEvent, ReportIn, ShareIn

pytestmark = pytest.mark.usefixtures("qloop")


def test_urls() -> None:
    assert live_url("http://h:1/", 5) == "ws://h:1/api/v1/live?since=5"
    assert live_url("https://h", -1) == "wss://h/api/v1/live?since=-1"
    assert (
        camera_stream_url("http://h:1/", "gtm_a/b", "CAM 1", "sub")
        == "http://h:1/media/gtm_a%2Fb/CAM%201~sub.ts"
    )
    assert camera_stream_url("http://h:1", "t", "CAM-1", "main") == "http://h:1/media/t/CAM-1.ts"


def test_backoff_is_capped_and_jittered() -> None:
    b = Backoff(base_s=0.5, cap_s=4, jitter=0.2)
    delays = [b.next_delay() for _ in range(8)]
    assert 0.4 <= delays[0] <= 0.6
    assert all(d <= 4 for d in delays) and delays[-1] >= 3.2
    b.reset()
    assert b.next_delay() <= 0.6


def test_rest_calls_are_typed_and_problems_are_mapped(engine: Engine, aw: Callable[..., Any]) -> None:
    client = EngineClient(engine.url)
    try:
        with pytest.raises(NotAuthenticated):
            aw(client.login("op", "wrong-password"))
        session = aw(client.login(*OPERATOR))
        assert session.username == "op" and client.token
        created = engine.request("P-1")
        inc_id = created["incident"]["id"]
        listed = aw(client.list_incidents(status=["new", "acknowledged"]))
        assert [i.id for i in listed] == [inc_id]
        detail = aw(client.get_incident(inc_id))
        assert detail.cameras and detail.timeline
        acked = aw(client.acknowledge(inc_id))
        assert acked.status == "acknowledged"
        assert aw(client.assign(inc_id, "op")).assignee == "op"
        assert aw(client.set_priority(inc_id, 2)).priority == 2
        agencies = aw(client.list_agencies())
        fire = next(a for a in agencies if a.kind == "fire")
        # An operator shares with another agency than the one that asked: it waits for a supervisor.
        share = aw(
            client.create_share(
                inc_id,
                ShareIn(
                    agency_id=fire.id,
                    camera_ids=[detail.cameras[0].id],
                    minutes=10,
                    purpose="fire check",
                    legal_basis="pipa-18-2-3",
                ),
            )
        )
        assert share.status == "pending" and share.urls == {}
        assert [p.id for p in aw(client.pending_shares())] == [share.id]
        bases = aw(client.legal_bases())
        assert any(b.id == "pipa-18-2-3" for b in bases)
        # An operator's extension of an active share is asked for, not applied.
        own = next(s for s in aw(client.get_incident(inc_id)).shares if s.status == "active")
        extended = aw(client.extend_share(own.id, 30, "still needed"))
        assert extended.pending_extension_minutes == 30 and extended.expires_at == own.expires_at
        assert aw(client.revoke_share(share.id)).status == "revoked"
        report = aw(
            client.create_report(
                inc_id, ReportIn(agency_id=fire.id, kind="fire", camera_id=detail.cameras[0].id)
            )
        )
        assert report.agency_id == fire.id
        cams = aw(client.all_cameras(page=10))
        assert len(cams) == 36
        near = aw(client.cameras_near(35.18, 128.08, radius_m=300, limit=5))
        assert 0 < len(near) <= 5
        assert aw(client.get_camera(cams[0].id)).id == cams[0].id
        with pytest.raises(EngineError) as err:
            aw(client.get_incident("no-such-incident"))
        assert err.value.status == 404 and err.value.message
        closed = aw(client.close_incident(inc_id, note="done"))
        assert closed.status == "closed"
        aw(client.logout())
        assert client.token is None
    finally:
        aw(client.aclose())


def test_unreachable_engine_is_one_clear_error(aw: Callable[..., Any]) -> None:
    client = EngineClient("http://127.0.0.1:9", timeout=2)
    try:
        with pytest.raises(EngineUnreachable) as err:
            aw(client.list_incidents())
        assert "127.0.0.1:9" in err.value.message
    finally:
        aw(client.aclose())


def test_live_feed_reloads_first_then_delivers_events_and_catches_up_after_a_drop(
    engine: Engine, aw: Callable[..., Any], qtbot: QtBot
) -> None:
    client = EngineClient(engine.url)
    aw(client.login(*OPERATOR))
    events: list[LiveEvent] = []
    resyncs: list[int] = []
    states: list[FeedState] = []
    feed = LiveFeed(
        engine.url,
        lambda: client.token,
        on_event=events.append,
        on_resync=lambda: resyncs.append(1),
        on_state=lambda s, _r: states.append(s),
        backoff=Backoff(base_s=0.05, cap_s=0.2),
    )
    try:
        feed.start()
        qtbot.waitUntil(lambda: feed.state is FeedState.CONNECTED, timeout=10_000)
        assert resyncs == [1]
        engine.request("L-1")
        qtbot.waitUntil(lambda: any(e.type == "incident.created" for e in events), timeout=10_000)
        seq_before = feed.last_seq

        async def drop() -> None:
            ws = feed._ws
            assert ws is not None
            await ws.close()

        aw(drop())
        # While the feed is down (or reconnecting) more happens; since=seq replays it.
        engine.request("L-2")
        engine.request("L-3")
        qtbot.waitUntil(lambda: sum(e.type == "incident.created" for e in events) == 3, timeout=10_000)
        assert feed.connections >= 2 and resyncs == [1]
        seqs = [e.seq for e in events]
        assert seqs == sorted(set(seqs)) and feed.last_seq > seq_before
        assert FeedState.OFFLINE in states or FeedState.CONNECTING in states
    finally:
        aw(feed.stop())
        aw(client.aclose())


def test_live_feed_with_a_refused_token_waits_for_a_new_login(
    engine: Engine, aw: Callable[..., Any], qtbot: QtBot
) -> None:
    feed = LiveFeed(engine.url, lambda: "bogus", on_event=lambda e: None, on_resync=lambda: None)
    try:
        feed.start()
        qtbot.waitUntil(lambda: feed.state is FeedState.UNAUTHORIZED, timeout=10_000)
    finally:
        aw(feed.stop())
    assert feed.state is FeedState.STOPPED


def test_feed_stop_is_prompt_even_while_waiting(aw: Callable[..., Any], qtbot: QtBot) -> None:
    feed = LiveFeed(
        "http://127.0.0.1:9",
        lambda: "t",
        on_event=lambda e: None,
        on_resync=lambda: None,
        backoff=Backoff(base_s=5, cap_s=5),
    )
    feed.start()
    qtbot.waitUntil(lambda: feed.state is FeedState.OFFLINE, timeout=10_000)
    aw(asyncio.wait_for(feed.stop(), 2))
