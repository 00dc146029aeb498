"""Media relay end to end: camera simulator → MediaRelay → real uvicorn → HTTP clients / ffprobe."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
import time
from typing import Any

import av
import httpx
import pytest
from media_support import serve

from app.engine.media.relay import CameraState, UpstreamUnavailable
from app.engine.media.snapshot import snapshot_jpeg
from app.sim.cameras import CameraSim

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"


async def ffprobe(url: str) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        "ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-probesize", "300000", "-analyzeduration", "1000000",
        "-show_entries", "stream=codec_name,profile,width,height,pix_fmt", "-of", "json", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    streams = json.loads(out)["streams"]
    assert len(streams) == 1, streams
    return dict(streams[0])


def ts_packets(data: bytes) -> list[Any]:
    container: Any = av.open(io.BytesIO(data), format="mpegts")
    with container:
        return [p for p in container.demux(video=0) if p.size]


def decode_first_frame(data: bytes, fmt: str | None = None) -> Any:
    container: Any = av.open(io.BytesIO(data), format=fmt)
    with container:
        return next(container.decode(video=0))


async def read_at_least(viewer: Any, n: int, max_wait: float = 10.0) -> bytes:
    buf = bytearray()
    async with asyncio.timeout(max_wait):
        while len(buf) < n:
            data = await viewer.read()
            assert data is not None, viewer.close_reason
            buf += data
    return bytes(buf)


def drain(viewer: Any) -> None:
    viewer._queue.clear()
    viewer._queued = 0


async def test_relayed_stream_is_the_cameras_stream_copied(camera_sim: CameraSim) -> None:
    async with serve(camera_sim, idle_grace=30) as s, httpx.AsyncClient(timeout=30) as client:
        for cam, stream, size in (("cam1", "main", (1280, 720)), ("cam1-sub", "sub", (640, 360))):
            source = await ffprobe(camera_sim.url(1, stream))  # type: ignore[arg-type]
            relayed = await ffprobe(f"{s.base}/media/good/{cam}.ts")
            assert relayed == source
            assert (relayed["codec_name"], relayed["profile"]) == ("h264", "Constrained Baseline")
            assert (relayed["width"], relayed["height"]) == size
        # Packet payloads are byte-identical to the loop clip the camera serves: nothing re-encoded.
        clip: Any = av.open(str(camera_sim.clip_path(1, "main")))
        with clip:
            clip_tails = {bytes(p)[-48:] for p in clip.demux(video=0) if p.size}
        async with client.stream("GET", f"{s.base}/media/good/cam1.ts") as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"] == "video/mp2t"
            buf = bytearray()
            async for chunk in resp.aiter_bytes():
                buf += chunk
                if len(buf) > 300_000:
                    break
        packets = ts_packets(bytes(buf))
        assert len(packets) >= 10
        assert packets[0].is_keyframe
        matched = sum(bytes(p)[-48:] in clip_tails for p in packets)
        assert matched >= len(packets) - 1  # the last packet may be cut short
        assert s.relay.stats().upstream_opens == 2  # one per stream (main, sub), kept through idle_grace


async def test_twenty_viewers_share_one_upstream(camera_sim: CameraSim) -> None:
    async with serve(camera_sim) as s, httpx.AsyncClient(timeout=30) as client:
        url = camera_sim.url(2, "sub")
        async with contextlib.AsyncExitStack() as stack:
            responses = [
                await stack.enter_async_context(client.stream("GET", f"{s.base}/media/good/cam2-sub.ts"))
                for _ in range(20)
            ]
            for resp in responses:
                assert resp.status_code == 200
                first = await anext(resp.aiter_bytes())
                assert first[0] == 0x47  # TS sync byte
            status = s.relay.status(url)
            assert status is not None
            assert status.viewers == 20
            assert status.upstream_opens == 1
            assert s.relay.stats().upstream_opens == 1
        # All twenty gone: the channel notices every disconnect.
        status = await s.relay.wait_for(url, lambda st: st.viewers == 0, max_wait=10)
        assert status.upstream_opens == 1
        async with asyncio.timeout(5):
            while len(s.access.viewings) < 20:
                s.access.recorded.clear()
                await s.access.recorded.wait()
        assert all(v[3] > 0 for v in s.access.viewings)


async def test_revoked_grant_cuts_the_viewer_within_a_second(camera_sim: CameraSim) -> None:
    async with serve(camera_sim, check_interval=1.0) as s, httpx.AsyncClient(timeout=30) as client:
        async with client.stream("GET", f"{s.base}/media/good/cam1-sub.ts") as resp:
            assert resp.status_code == 200
            received = 0
            cut_after = None
            revoked_at = 0.0
            async for chunk in resp.aiter_bytes():
                received += len(chunk)
                if not s.access.revoked and received > 50_000:
                    s.access.revoked.add("good")
                    revoked_at = time.monotonic()
            cut_after = time.monotonic() - revoked_at
        assert s.access.revoked
        assert cut_after < 2.0, f"stream went on for {cut_after:.2f} s after revocation"
        async with asyncio.timeout(5):
            await s.access.recorded.wait()
        grant, started, ended, sent = s.access.viewings[0]
        assert grant.share_id == "good" and sent >= received and ended > started
        # The revoked token is refused from now on; the other token still works.
        resp2 = await client.get(f"{s.base}/media/good/cam1-sub.ts")
        assert resp2.status_code == 403 and resp2.headers["content-type"] == PROBLEM


async def test_a_client_that_stopped_reading_is_cut_too(camera_sim: CameraSim) -> None:
    """Revocation also ends a stream whose client has stopped reading (the blocked send is abandoned)."""
    async with serve(camera_sim, check_interval=1.0, send_buffer=16384) as s:
        loop = asyncio.get_running_loop()
        host, port = s.base.removeprefix("http://").split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tiny window: the server blocks soon
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, (host, int(port)))
            await loop.sock_sendall(sock, b"GET /media/good/cam1.ts HTTP/1.1\r\nHost: test\r\n\r\n")
            assert b" 200 " in await loop.sock_recv(sock, 4096)
            url = camera_sim.url(1)
            for _ in range(200):  # until the route has stopped taking video: its send is blocked
                viewers = s.relay._channels[url].viewers
                if viewers and next(iter(viewers)).pending > 200_000:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the server never blocked on the stalled client")
            s.access.revoked.add("good")
            revoked_at = time.monotonic()
            async with asyncio.timeout(10):
                await s.access.recorded.wait()
            assert time.monotonic() - revoked_at < 2.0
            assert s.relay.status(url).viewers == 0  # type: ignore[union-attr]
        finally:
            sock.close()


async def test_camera_faults_are_reported_and_recovered(camera_sim: CameraSim) -> None:
    async with (
        serve(camera_sim, stall_after=0.8, read_timeout=4.0) as s,
        httpx.AsyncClient(timeout=30) as client,
    ):
        relay = s.relay
        url2, url3 = camera_sim.url(2), camera_sim.url(3, "sub")
        viewer2 = relay.subscribe("cam2", url2, client="test")
        viewer3 = relay.subscribe("cam3-sub", url3, client="test")
        await viewer2.first_data(10)
        await viewer3.first_data(10)
        try:
            # Offline: the upstream ends, retries get 404, the state says so.
            await asyncio.to_thread(camera_sim.offline, 2)
            status = await relay.wait_for(url2, lambda st: st.state == CameraState.OFFLINE, max_wait=10)
            assert status.last_error
            status = await relay.wait_for(url2, lambda st: "404" in (st.last_error or ""), max_wait=10)
            resp = await client.get(f"{s.base}/media/good/cam2.ts")  # a new viewer: 503, not an empty 200
            assert resp.status_code == 503 and resp.headers["content-type"] == PROBLEM
            assert resp.json()["status"] == 503
            drain(viewer2)
            await asyncio.to_thread(camera_sim.online, 2)
            await relay.wait_for(url2, lambda st: st.state == CameraState.LIVE, max_wait=15)
            data = await read_at_least(viewer2, 10_000)  # the attached viewer gets video again
            assert decode_first_frame(data, "mpegts").width == 1280

            # Stall: packets stop while the RTSP session stays; then they flow on the same connection.
            opens = relay.status(url3).upstream_opens  # type: ignore[union-attr]
            await asyncio.to_thread(camera_sim.stall, 3)
            await relay.wait_for(url3, lambda st: st.state == CameraState.STALLED, max_wait=10)
            drain(viewer3)
            await asyncio.to_thread(camera_sim.online, 3)
            status = await relay.wait_for(url3, lambda st: st.state == CameraState.LIVE, max_wait=10)
            assert status.upstream_opens == opens  # no reconnect was needed
            assert await read_at_least(viewer3, 5_000)
        finally:
            viewer2.close()
            viewer3.close()
            await asyncio.to_thread(camera_sim.online, "all")


async def test_unreachable_camera_fails_alone(camera_sim: CameraSim) -> None:
    async with serve(camera_sim) as s:
        good = s.relay.subscribe("cam1-sub", camera_sim.url(1, "sub"))
        dead = s.relay.subscribe("dead", s.access.urls["dead"])
        with pytest.raises(UpstreamUnavailable):
            await dead.first_data(10)
        dead.close()
        assert await read_at_least(good, 20_000)
        status = s.relay.status(s.access.urls["dead"])
        assert status is not None and status.state == CameraState.OFFLINE and status.last_error
        good.close()
    assert not s.relay._tasks  # every task ended with aclose()
    assert all(c.proc is None for c in s.relay._channels.values())  # every ffmpeg child stopped


async def test_slow_viewer_is_dropped_without_slowing_others(camera_sim: CameraSim) -> None:
    async with serve(camera_sim, viewer_queue_bytes=400_000) as s:
        url = camera_sim.url(1)
        fast = s.relay.subscribe("cam1", url, client="fast")
        slow = s.relay.subscribe("cam1", url, client="slow")  # never reads
        received = 0
        dropped = asyncio.create_task(s.relay.wait_for(url, lambda st: st.viewers_dropped >= 1, max_wait=20))
        while not dropped.done():  # the fast viewer keeps reading while the slow one falls behind
            received += len(await fast.read(0.2) or b"")
        status = dropped.result()
        assert slow.close_reason == "too slow"
        assert status.viewers == 1 and received > 0
        assert await read_at_least(fast, 50_000)  # and goes on receiving after the drop
        fast.close()


async def test_gop_cache_prewarm_and_idle_close(camera_sim: CameraSim) -> None:
    async with serve(camera_sim, idle_grace=0.5) as s:
        relay = s.relay
        url = camera_sim.url(2, "sub")
        relay.prewarm("cam2-sub", url, seconds=30)
        await relay.wait_for(url, lambda st: st.state == CameraState.LIVE, max_wait=10)
        async with relay.stream("cam2-sub", url) as viewer:  # starts at a keyframe: the GOP is cached
            await viewer.first_data(5)
        t0 = time.monotonic()
        async with relay.stream("cam2-sub", url) as viewer:
            data = await viewer.first_data(5)
        elapsed = time.monotonic() - t0
        assert elapsed < 0.1  # from the GOP cache, not from the camera
        assert data[0] == 0x47 and ((data[1] & 0x1F) << 8 | data[2]) in (0, 0x11)  # PAT (or SDT) first
        assert decode_first_frame(data, "mpegts").width == 640  # decodable at once
        assert relay.status(url).upstream_opens == 1  # type: ignore[union-attr]

        # Without prewarm, the upstream closes idle_grace after the last viewer leaves.
        url3 = camera_sim.url(3, "sub")
        async with relay.stream("cam3-sub", url3) as viewer:
            await viewer.first_data(10)
        left = time.monotonic()
        await relay.wait_for(url3, lambda st: st.state == CameraState.IDLE, max_wait=10)
        assert 0.4 < time.monotonic() - left < 5


async def test_snapshots_are_jpegs_of_the_right_size(camera_sim: CameraSim) -> None:
    async with serve(camera_sim) as s, httpx.AsyncClient(timeout=30) as client:
        for cam, size in (("cam1", (1280, 720)), ("cam2-sub", (640, 360))):
            resp = await client.get(f"{s.base}/media/good/{cam}.jpg")
            assert resp.status_code == 200, resp.text
            assert resp.headers["content-type"] == "image/jpeg"
            assert resp.content[:2] == b"\xff\xd8"
            frame = decode_first_frame(resp.content, "jpeg_pipe")
            assert (frame.width, frame.height) == size
        # Warm (someone is watching): from the cached GOP, no new upstream.
        url = camera_sim.url(1)
        async with s.relay.stream("cam1", url) as watcher:
            await watcher.first_data(10)
            opens = s.relay.status(url).upstream_opens  # type: ignore[union-attr]
            jpeg = await snapshot_jpeg(url, relay=s.relay, camera_id="cam1", max_width=320)
            frame = decode_first_frame(jpeg, "jpeg_pipe")
            assert (frame.width, frame.height) == (320, 180)
            assert s.relay.status(url).upstream_opens == opens
        # Without a relay: straight from the camera.
        jpeg = await snapshot_jpeg(camera_sim.url(3, "sub"))
        assert decode_first_frame(jpeg, "jpeg_pipe").width == 640
        assert len([v for v in s.access.viewings if v[0].camera_id == "cam1"]) == 1


async def test_hostile_requests_get_problem_json(camera_sim: CameraSim) -> None:
    s_cases = [
        ("/media/good/nope.ts", 404),
        ("/media/expired/cam1.ts", 401),
        ("/media/bogus/cam1.jpg", 401),
        ("/media/%00/cam1.ts", 401),
        ("/media/" + "a" * 5000 + "/cam1.ts", 401),
        ("/media/good/cam%201.ts", 404),
        ("/media/good/..%2F..%2Fetc%2Fpasswd.ts", 404),
        ("/media/good/%2e%2e.ts", 404),
        ("/media/good/cam1.mp4", 404),
        ("/media/good", 404),
        ("/media/good/dead.ts", 503),
        ("/media/good/dead.jpg", 503),
    ]
    async with serve(camera_sim) as s, httpx.AsyncClient(timeout=30) as client:
        for path, status in s_cases:
            resp = await client.get(s.base + path)
            assert resp.status_code == status, (path, resp.status_code, resp.text)
            assert resp.headers["content-type"] == PROBLEM, path
            body = resp.json()
            assert body["status"] == status and body["title"] and body["detail"] and body["type"], path
        # Nothing was shown: the two admitted viewings of the dead camera end at once with 0 bytes (their
        # start is audited at admission, so their end is recorded too).
        assert [(v[0].camera_id, v[-1]) for v in s.access.viewings] == [("dead", 0), ("dead", 0)]

        auth = f"{s.base}/api/v1/media/auth"
        allowed = [
            {"action": "read", "path": "cam/good/cam1", "protocol": "rtsp", "ip": "10.0.0.5"},
            {"action": "read", "path": "good/cam1", "protocol": "hls"},
            {"action": "read", "path": "cam1", "query": "token=good"},
            {"action": "read", "path": "cam1", "user": "x", "password": "good"},
            {"action": "read", "path": "cam1", "token": "good", "id": None},
        ]
        denied = [
            {"action": "read", "path": "cam1", "user": "", "password": ""},
            {"action": "publish", "path": "cam/good/cam1"},
            {"action": "api", "path": ""},
            {"action": "read", "path": "cam/expired/cam1"},
            {"action": "read", "path": "cam/good/unknown"},
            {"action": "read", "path": "cam/%00/cam1"},
        ]
        for body in allowed:
            resp = await client.post(auth, json=body)
            assert resp.status_code == 200, (body, resp.text)
        for body in denied:
            resp = await client.post(auth, json=body)
            assert resp.status_code == 401, (body, resp.text)
            assert resp.headers["content-type"] == PROBLEM
        resp = await client.post(auth, content=b"{not json", headers={"content-type": "application/json"})
        assert resp.status_code == 400 and resp.headers["content-type"] == PROBLEM


async def test_every_start_point_begins_with_pat_and_pmt(camera_sim: CameraSim) -> None:
    """A viewer that starts at a keyframe gets PAT and PMT first, whatever FFmpeg wrote before it."""
    async with serve(camera_sim) as s:
        url = camera_sim.url(1, "sub")
        s.relay.prewarm("cam1-sub", url, 10)
        starts: list[bytes] = []
        async with asyncio.timeout(15):
            while len(starts) < 3:
                await asyncio.sleep(0.05)
                gop = s.relay.cached_gop(url)
                if gop and (not starts or gop[:4000] != starts[-1][:4000]):
                    starts.append(gop)
    for data in starts:
        assert ((data[1] & 0x1F) << 8 | data[2]) == 0  # PAT first
        assert decode_first_frame(data, "mpegts").width == 640


async def test_browser_viewers_get_an_init_segment_then_fragments(camera_sim: CameraSim) -> None:
    """The MP4 output (for MSE): init segment (ftyp, moov) + a keyframe fragment first, decodable as is."""
    async with serve(camera_sim) as s:
        async with s.relay.stream("cam2", camera_sim.url(2, "main"), kind="mp4") as viewer:
            data = await read_at_least(viewer, 200_000)
        status = s.relay.status(camera_sim.url(2, "main"))
    assert data[4:8] == b"ftyp"
    assert status is not None and status.mime_codec and status.mime_codec.startswith("avc1.42")
    frame = decode_first_frame(data, "mp4")
    assert (frame.width, frame.height) == (1280, 720) and frame.key_frame


async def test_a_browser_viewer_adds_the_mp4_output_without_dropping_ts_viewers(
    camera_sim: CameraSim,
) -> None:
    """A camera only consoles watch pulls MPEG-TS alone; the first browser viewer restarts the pull with
    the MP4 output too, and the console viewer stays attached through it."""
    async with serve(camera_sim) as s:
        url = camera_sim.url(3, "sub")
        async with s.relay.stream("cam3-sub", url) as ts_viewer:
            await read_at_least(ts_viewer, 20_000)
            channel = s.relay._channels[url]
            assert not channel.with_mp4 and channel.init is None
            opens = channel.upstream_opens
            async with s.relay.stream("cam3-sub", url, kind="mp4") as browser:
                data = await read_at_least(browser, 50_000)
            assert data[4:8] == b"ftyp" and channel.with_mp4 and channel.upstream_opens == opens + 1
            drain(ts_viewer)
            more = await read_at_least(ts_viewer, 20_000)
            assert not ts_viewer.closed and ts_packets(more)


async def test_a_transcode_is_refused_for_a_camera_that_sends_h264(camera_sim: CameraSim) -> None:
    """``?transcode=h264`` costs an encoder: a viewer may ask for it only for a codec a browser cannot
    play, never to make the relay encode an H.264 camera again."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async with serve(camera_sim) as s:
        ws_base = s.base.replace("http://", "ws://")
        async with connect(f"{ws_base}/media/good/cam1-sub.ws?transcode=h264") as ws:
            refusal = json.loads(await ws.recv())
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        assert refusal["type"] == "error" and refusal["status"] == 409
        assert ws.close_code == 4409
        assert not any(c.transcoded for c in s.relay.stats().channels)  # no encoder was started
