#!/usr/bin/python3
"""Simulated cameras: a GStreamer RTSP server looping pre-encoded H.264 (or H.265) clips.

Run by Debian's ``/usr/bin/python3`` (the ``gi`` module is only importable there), started and
owned by :class:`app.sim.cameras.CameraSim`. Standalone on purpose: it imports nothing from ``app``.

How it works (docs/STACK.md, "RTSP server for simulated cameras"):

* Each clip (an MP4 encoded once by ``app.sim.cameras.clips``) is parsed once at start-up into a list
  of H.264 access units held in memory (Annex B, SPS/PPS in front of every IDR).
* Every mount (``/cam{i}/main``, ``/cam{i}/sub``) is a *shared* media factory
  ``appsrc ! rtph264pay``: however many RTSP clients watch a stream, it has one pipeline.
* One feeder thread pushes the next access unit into every prepared media at the clip's frame rate
  (timestamps are the pipeline's running time, advanced by exactly one frame duration per frame and
  re-anchored after a stall, so players see a steady 15 fps; the loop is seamless: each loop starts
  with an IDR). No encoding at run time, no ffmpeg processes, no UDP hop: the cost of a
  stream is one memory wrap and one push per frame.

Faults, on command (control HTTP on 127.0.0.1, or one JSON command per line on stdin):

* ``offline``: the camera's mounts are removed (a new DESCRIBE gets 404), its pipelines get EOS and
  the RTSP connections watching it are closed.
* ``stall``: the feeder stops pushing for that camera; RTSP sessions stay open, no packets flow.
* ``online``: mounts are restored and packets flow again.

Control HTTP: ``GET /cameras`` -> JSON list of camera states; ``POST /cameras/{i|all}/{offline|stall|
online}`` -> the new state. On start the server prints one JSON line on stdout:
``{"event": "ready", "rtsp_port": P, "control_port": C}``. It exits when stdin reaches EOF (the
owning process died or closed it), on SIGTERM/SIGINT, or on a ``{"cmd": "quit"}`` line.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

log = logging.getLogger("goldentime.sim.gst_rtsp_server")

STREAMS = ("main", "sub")


class Clip:
    """One pre-encoded loop held in memory as H.264 access units."""

    def __init__(self, path: str, codec: str = "h264") -> None:
        self.path = path
        self.codec = codec
        self.units: list[GLib.Bytes] = []
        self.keys: list[int] = []  # indices of the IDR access units
        self.width = 0
        self.height = 0
        self._load()

    def _load(self) -> None:
        parse = "h265parse" if self.codec == "h265" else "h264parse"
        caps = "video/x-h265" if self.codec == "h265" else "video/x-h264"
        pipeline = Gst.parse_launch(
            f"filesrc name=src ! qtdemux ! {parse} config-interval=-1 ! "
            f"{caps},stream-format=byte-stream,alignment=au ! appsink name=sink sync=false"
        )
        pipeline.get_by_name("src").set_property("location", self.path)
        sink = pipeline.get_by_name("sink")
        pipeline.set_state(Gst.State.PLAYING)
        try:
            while True:
                sample = sink.emit("try-pull-sample", 10 * Gst.SECOND)
                if sample is None:
                    break
                if not self.width:
                    s = sample.get_caps().get_structure(0)
                    self.width = s.get_value("width") or 0
                    self.height = s.get_value("height") or 0
                buf = sample.get_buffer()
                if not buf.has_flags(Gst.BufferFlags.DELTA_UNIT):
                    self.keys.append(len(self.units))
                self.units.append(GLib.Bytes.new(buf.extract_dup(0, buf.get_size())))
        finally:
            pipeline.set_state(Gst.State.NULL)
        if not self.units:
            raise RuntimeError(f"no {self.codec} access units in {self.path}")


class Feed:
    """A prepared media of one camera stream: where the feeder pushes access units."""

    def __init__(self, camera: Camera, stream: str, appsrc: Gst.Element) -> None:
        self.camera = camera
        self.stream = stream
        self.appsrc = appsrc
        self.index = 0
        self.next_pts: int | None = None


class Camera:
    def __init__(self, index: int, name: str, clips: dict[str, Clip]) -> None:
        self.index = index
        self.name = name
        self.clips = clips
        self.offline = False
        self.stalled = False
        self.factories: dict[str, GstRtspServer.RTSPMediaFactory] = {}

    def state(self) -> str:
        return "offline" if self.offline else "stalled" if self.stalled else "online"

    def path(self, stream: str) -> str:
        return f"/cam{self.index}/{stream}"


class Server:
    def __init__(self, config: dict[str, Any]) -> None:
        self.fps = int(config.get("fps", 15))
        self.bind = str(config.get("bind", "127.0.0.1"))
        self.loop = GLib.MainLoop()
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address(self.bind)
        self.server.set_service(str(config.get("port", 8554)))
        self.mounts = self.server.get_mount_points()
        self.feeds: list[Feed] = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        clip_cache: dict[str, Clip] = {}
        self.cameras: dict[int, Camera] = {}
        for cam in config["cameras"]:
            clips = {}
            for stream in STREAMS:
                path = cam[stream]
                if path not in clip_cache:
                    clip_cache[path] = Clip(path, cam.get("codecs", {}).get(stream, "h264"))
                clips[stream] = clip_cache[path]
            camera = Camera(int(cam["index"]), str(cam["name"]), clips)
            self.cameras[camera.index] = camera
            self._mount(camera)
        self.server.connect("client-connected", self._on_client_connected)
        self.rtsp_port = 0
        self.feeder = threading.Thread(target=self._feed_loop, name="sim-feeder", daemon=True)

    # --- mounts and media -------------------------------------------------------------------------
    def _mount(self, camera: Camera) -> None:
        for stream in STREAMS:
            factory = GstRtspServer.RTSPMediaFactory()
            h265 = camera.clips[stream].codec == "h265"
            caps = "video/x-h265" if h265 else "video/x-h264"
            pay = "rtph265pay" if h265 else "rtph264pay"
            factory.set_launch(
                "( appsrc name=src is-live=true format=time do-timestamp=false "
                f'caps="{caps},stream-format=byte-stream,alignment=au,framerate={self.fps}/1" '
                f"! {pay} name=pay0 pt=96 config-interval=-1 )"
            )
            factory.set_shared(True)
            factory.connect("media-configure", self._on_media_configure, camera, stream)
            camera.factories[stream] = factory
            self.mounts.add_factory(camera.path(stream), factory)

    def _unmount(self, camera: Camera) -> None:
        for stream in STREAMS:
            self.mounts.remove_factory(camera.path(stream))
        camera.factories.clear()

    def _on_media_configure(
        self,
        _factory: GstRtspServer.RTSPMediaFactory,
        media: GstRtspServer.RTSPMedia,
        camera: Camera,
        stream: str,
    ) -> None:
        appsrc = media.get_element().get_by_name("src")
        feed = Feed(camera, stream, appsrc)
        media.connect("unprepared", self._on_media_unprepared, feed)
        with self.lock:
            self.feeds.append(feed)
        log.info("cam%d/%s: media prepared", camera.index, stream)

    def _on_client_connected(
        self, _server: GstRtspServer.RTSPServer, client: GstRtspServer.RTSPClient
    ) -> None:
        client.connect("play-request", self._on_play_request)

    def _on_play_request(self, _client: GstRtspServer.RTSPClient, ctx: GstRtspServer.RTSPContext) -> None:
        # Like many real cameras, start a new session with an IDR: jump to the loop's next IDR for
        # the stream just played, so the new client decodes at once instead of waiting a GOP.
        path = ctx.uri.abspath if ctx.uri is not None else ""
        with self.lock:
            for feed in self.feeds:
                if feed.camera.path(feed.stream) == path:
                    clip = feed.camera.clips[feed.stream]
                    here = feed.index % len(clip.units)
                    if here not in clip.keys:
                        feed.index = next((k for k in clip.keys if k > here), 0)

    def _on_media_unprepared(self, _media: GstRtspServer.RTSPMedia, feed: Feed) -> None:
        with self.lock:
            if feed in self.feeds:
                self.feeds.remove(feed)
        log.info("cam%d/%s: media unprepared", feed.camera.index, feed.stream)

    # --- feeder ------------------------------------------------------------------------------------
    def _feed_loop(self) -> None:
        period = 1.0 / self.fps
        deadline = time.monotonic()
        while not self.stop_event.is_set():
            deadline += period
            delay = deadline - time.monotonic()
            if delay > 0:
                self.stop_event.wait(delay)
            elif delay < -1.0:  # suspended or badly late: do not burst to catch up
                deadline = time.monotonic()
            with self.lock:
                feeds = list(self.feeds)
            for feed in feeds:
                if feed.camera.stalled or feed.camera.offline:
                    continue
                units = feed.camera.clips[feed.stream].units
                data = units[feed.index % len(units)]
                feed.index += 1
                buf = Gst.Buffer.new_wrapped_bytes(data)
                self._stamp(feed, buf)
                ret = feed.appsrc.emit("push-buffer", buf)
                if ret not in (Gst.FlowReturn.OK, Gst.FlowReturn.FLUSHING):
                    log.warning("cam%d/%s: push-buffer returned %s", feed.camera.index, feed.stream, ret)
                    with self.lock:
                        if feed in self.feeds:
                            self.feeds.remove(feed)

    def _stamp(self, feed: Feed, buf: Gst.Buffer) -> None:
        """PTS = running time, one exact frame duration apart (re-anchored when late or after a stall)."""
        duration = Gst.SECOND // self.fps
        clock = feed.appsrc.get_clock()
        if clock is not None:
            now = clock.get_time() - feed.appsrc.get_base_time()
            if feed.next_pts is None or abs(now - feed.next_pts) > Gst.SECOND // 2:
                feed.next_pts = now
        elif feed.next_pts is None:
            feed.next_pts = 0
        buf.pts = buf.dts = feed.next_pts
        buf.duration = duration
        feed.next_pts += duration

    # --- faults (called on the GLib main loop) ----------------------------------------------------
    def set_state(self, index: int, action: str) -> dict[str, Any]:
        camera = self.cameras[index]
        if action == "offline":
            if not camera.offline:
                camera.offline = True
                self._unmount(camera)
                with self.lock:
                    gone = [f for f in self.feeds if f.camera is camera]
                    self.feeds = [f for f in self.feeds if f.camera is not camera]
                for feed in gone:
                    feed.appsrc.emit("end-of-stream")
                self._close_clients(camera)
        elif action == "stall":
            if camera.offline:
                raise ValueError(f"cam{index} is offline")
            camera.stalled = True
        elif action == "online":
            camera.stalled = False
            if camera.offline:
                camera.offline = False
                self._mount(camera)
        else:
            raise ValueError(f"unknown action {action!r}")
        log.info("cam%d: %s", index, camera.state())
        return self.describe(camera)

    def _close_clients(self, camera: Camera) -> None:
        prefix = f"/cam{camera.index}/"

        def watches_camera(client: GstRtspServer.RTSPClient) -> bool:
            for session in client.session_filter(None, None):
                for smedia in session.filter(None, None):
                    for stream in STREAMS:
                        matched, _ = smedia.matches(camera.path(stream))
                        if matched:
                            return True
            return False

        def decide(
            _server: Any, client: GstRtspServer.RTSPClient, _data: Any
        ) -> GstRtspServer.RTSPFilterResult:
            try:
                if watches_camera(client):
                    return GstRtspServer.RTSPFilterResult.REMOVE
            except Exception:  # a client in the middle of closing: leave it
                log.exception("client filter for %s", prefix)
            return GstRtspServer.RTSPFilterResult.KEEP

        self.server.client_filter(decide, None)

    def describe(self, camera: Camera) -> dict[str, Any]:
        with self.lock:
            active = sorted(f.stream for f in self.feeds if f.camera is camera)
        return {
            "index": camera.index,
            "name": camera.name,
            "state": camera.state(),
            "paths": {s: camera.path(s) for s in STREAMS},
            "active_streams": active,
        }

    def describe_all(self) -> list[dict[str, Any]]:
        return [self.describe(c) for c in self.cameras.values()]

    def call_in_loop(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run ``fn`` on the GLib main loop (the RTSP server is not thread-safe) and return its result."""
        done = threading.Event()
        box: dict[str, Any] = {}

        def run() -> bool:
            try:
                box["result"] = fn()
            except Exception as exc:  # handed back to the caller
                box["error"] = exc
            done.set()
            return False

        GLib.idle_add(run)
        if not done.wait(timeout):
            raise TimeoutError("GLib main loop did not answer")
        if "error" in box:
            raise box["error"]
        return box["result"]

    # --- lifetime ----------------------------------------------------------------------------------
    def start(self) -> None:
        self.server.attach(None)
        self.rtsp_port = self.server.get_bound_port()
        self.feeder.start()

    def quit(self) -> None:
        self.stop_event.set()
        self.loop.quit()


class ControlHandler(BaseHTTPRequestHandler):
    server_version = "GoldenTimeCameraSim/1"
    sim: Server  # set on the subclass

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("control: " + format, *args)

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/cameras":
            self._reply(200, self.sim.call_in_loop(self.sim.describe_all))
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        parts = self.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "cameras":
            self._reply(404, {"error": "not found"})
            return
        _, which, action = parts
        try:
            result = self.sim.call_in_loop(lambda: apply(self.sim, which, action))
        except KeyError:
            self._reply(404, {"error": f"no camera {which}"})
        except ValueError as exc:
            self._reply(400, {"error": str(exc)})
        else:
            self._reply(200, result)


def apply(sim: Server, which: str, action: str) -> Any:
    if which == "all":
        return [sim.set_state(i, action) for i in sim.cameras]
    if not which.isdigit():
        raise KeyError(which)
    return sim.set_state(int(which), action)


def stdin_loop(sim: Server) -> None:
    """One JSON command per line; EOF (the owner went away) stops the server."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
            if cmd.get("cmd") == "quit":
                break
            which, action = str(cmd["camera"]), str(cmd["cmd"])
            result = sim.call_in_loop(functools.partial(apply, sim, which, action))
            print(json.dumps({"event": "result", "result": result}), flush=True)
        except Exception as exc:
            print(json.dumps({"event": "error", "error": str(exc)}), flush=True)
    GLib.idle_add(sim.quit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", required=True, help="JSON file: bind, port, fps, cameras[{index,name,main,sub}]"
    )
    parser.add_argument("--control-port", type=int, default=0, help="control HTTP port (0: any free port)")
    parser.add_argument("--no-stdin", action="store_true", help="do not watch stdin (run in a terminal)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    with open(args.config, encoding="utf-8") as fh:
        config = json.load(fh)
    Gst.init(None)
    sim = Server(config)
    sim.start()
    handler = type("Handler", (ControlHandler,), {"sim": sim})
    httpd = ThreadingHTTPServer((config.get("control_bind", "127.0.0.1"), args.control_port), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, name="sim-control", daemon=True).start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, lambda: (sim.quit(), False)[1])
    if not args.no_stdin:
        threading.Thread(target=stdin_loop, args=(sim,), name="sim-stdin", daemon=True).start()
    print(
        json.dumps({"event": "ready", "rtsp_port": sim.rtsp_port, "control_port": httpd.server_address[1]}),
        flush=True,
    )
    try:
        sim.loop.run()
    finally:
        sim.stop_event.set()
        httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
