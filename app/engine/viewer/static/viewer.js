// GoldenTime share page: every shared camera live in a grid, by Media Source Extensions.
// The media port sends fragmented MP4 over a WebSocket (one fragment per frame, never re-encoded):
// first a text message {"type": "start", "codec": …}, then the init segment with the cached GOP,
// then a fragment per frame. The page jumps to the live edge after the first append and whenever it
// falls more than a second behind. Where the browser cannot decode the camera's codec (H.265 in most
// desktop browsers) it plays the camera's H.264 sub stream and says so. When the share expires or is
// revoked, everything stops at once and the page says why.
// State for tests and benchmarks: window.gtViewer.
"use strict";
(function () {
  const TEXT = {
    en: {
      title: "Live video",
      place: "Incident location",
      expiresIn: "Video available for {t}",
      expired: "This share has expired. The video has stopped.",
      revoked: "The control room revoked this share. The video has stopped.",
      ended: "Access to this video has ended ({why}). The video has stopped.",
      invalid: "This link is not valid.",
      connecting: "Connecting…",
      live: "Live",
      reconnecting: "Reconnecting…",
      unavailable: "Camera unavailable",
      subStream: "H.265 cannot be played in this browser: showing this camera's H.264 sub stream.",
      transcoded: "This browser cannot play this camera's video ({codec}): the server converts it to H.264 (one conversion shared by every viewer).",
      unsupported: "This browser cannot play this camera's video ({codec}).",
      away: "{d} m {dir} of the incident",
      atPlace: "at the incident",
      facing: "facing {dir}",
      dirs: { N: "north", NE: "north-east", E: "east", SE: "south-east", S: "south", SW: "south-west", W: "west", NW: "north-west" },
    },
    ko: {
      title: "실시간 영상",
      place: "사건 위치",
      expiresIn: "영상 제공 남은 시간 {t}",
      expired: "공유 기간이 끝나 영상을 중지했습니다.",
      revoked: "관제센터가 공유를 철회하여 영상을 중지했습니다.",
      ended: "영상 접근 권한이 종료되어({why}) 영상을 중지했습니다.",
      invalid: "유효하지 않은 링크입니다.",
      connecting: "연결 중…",
      live: "실시간",
      reconnecting: "다시 연결 중…",
      unavailable: "카메라 연결 불가",
      subStream: "이 브라우저는 H.265를 재생할 수 없어 이 카메라의 H.264 보조 스트림을 표시합니다.",
      transcoded: "이 브라우저는 이 카메라의 영상({codec})을 재생할 수 없어 서버가 H.264로 변환하여 보여 줍니다(모든 시청자가 변환 하나를 함께 씁니다).",
      unsupported: "이 브라우저는 이 카메라의 영상({codec})을 재생할 수 없습니다.",
      away: "사건 지점에서 {dir}쪽 {d} m",
      atPlace: "사건 지점",
      facing: "{dir} 방향 촬영",
      dirs: { N: "북", NE: "북동", E: "동", SE: "남동", S: "남", SW: "남서", W: "서", NW: "북서" },
    },
  };
  const query = new URLSearchParams(location.search);
  const wanted = (query.get("lang") || navigator.language || "en").toLowerCase();
  const lang = wanted.startsWith("ko") ? "ko" : "en";
  const T = TEXT[lang];
  const fmt = (s, v) => s.replace(/\{(\w+)\}/g, (_, k) => String(v[k] ?? ""));
  const $ = (id) => document.getElementById(id);
  const token = decodeURIComponent(location.pathname.split("/")[2] || "");
  const base = "/view/" + encodeURIComponent(token);
  const state = { ended: null, cameras: {}, lang: lang, openedAt: performance.now(), skewMs: 0 };
  window.gtViewer = state;
  document.documentElement.lang = lang;
  $("title").textContent = T.title;
  document.title = "GoldenTime · " + T.title;

  let expiresAt = 0;
  const players = [];

  function stopAll(reason) {
    if (state.ended) return;
    state.ended = reason;
    for (const p of players) p.stop();
    const banner = $("banner");
    banner.hidden = false;
    banner.textContent =
      reason === "expired" ? T.expired : reason === "revoked" ? T.revoked : reason === "invalid" ? T.invalid : fmt(T.ended, { why: reason });
    banner.dataset.reason = reason;
    $("countdown").textContent = "";
    document.body.classList.add("ended");
  }

  function tick() {
    if (state.ended || !expiresAt) return;
    const left = expiresAt - (Date.now() + state.skewMs);
    if (left <= 0) {
      stopAll("expired");
      return;
    }
    const s = Math.floor(left / 1000);
    const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
    const t = (hh ? hh + ":" + String(mm).padStart(2, "0") : String(mm)) + ":" + String(ss).padStart(2, "0");
    $("countdown").textContent = fmt(T.expiresIn, { t: t });
  }

  class Player {
    constructor(cam, tile) {
      this.cam = cam;
      this.tile = tile;
      this.video = tile.querySelector("video");
      this.status = tile.querySelector(".status");
      this.note = tile.querySelector(".note");
      this.useSub = false;
      this.transcode = false;
      this.retry = 0;
      this.info = { id: cam.id, frames: 0, firstFrameMs: null, codec: null, sub: false, transcoded: false, state: "connecting", connects: 0 };
      state.cameras[cam.id] = this.info;
      this.video.muted = true;
      this.video.playsInline = true;
      this.video.autoplay = true;
      const onFrame = () => {
        this.info.frames += 1;
        if (this.info.firstFrameMs === null) this.info.firstFrameMs = performance.now() - state.openedAt;
        if (!state.ended && this.video.requestVideoFrameCallback) this.video.requestVideoFrameCallback(onFrame);
      };
      if (this.video.requestVideoFrameCallback) this.video.requestVideoFrameCallback(onFrame);
    }
    setState(s, text) {
      this.info.state = s;
      this.status.textContent = text;
      this.tile.dataset.state = s;
    }
    start() {
      if (state.ended) return;
      this.stopMedia();
      this.setState("connecting", this.retry ? T.reconnecting : T.connecting);
      const url = this.useSub ? this.cam.ws_sub : this.transcode ? this.cam.ws + "?transcode=h264" : this.cam.ws;
      const ws = new WebSocket(url);
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      this.queue = [];
      this.first = true;
      this.info.connects += 1;
      ws.onmessage = (ev) => this.onMessage(ev);
      ws.onclose = (ev) => this.onClose(ev, ws);
    }
    onMessage(ev) {
      if (typeof ev.data === "string") {
        let msg;
        try { msg = JSON.parse(ev.data); } catch (e) { return; }
        if (msg.type === "start") this.open(msg);
        else if (msg.type === "error") this.refused = msg;
        return;
      }
      if (!this.sb && !this.ms) return;
      this.queue.push(new Uint8Array(ev.data));
      this.pump();
    }
    open(msg) {
      const codec = msg.codec || "avc1.42E01E";
      this.info.codec = codec;
      const mime = 'video/mp4; codecs="' + codec + '"';
      if (!window.MediaSource || !MediaSource.isTypeSupported(mime)) {
        if (!this.useSub && this.cam.ws_sub) {
          this.useSub = true;
          this.info.sub = true;
          this.note.hidden = false;
          this.note.textContent = T.subStream;
          this.ws.onclose = null;
          this.ws.close();
          this.start();
          return;
        }
        if (!this.useSub && !this.transcode) {
          // No H.264 sub stream: ask the server for its one shared H.264 transcode of this camera.
          this.transcode = true;
          this.info.transcoded = true;
          this.note.hidden = false;
          this.note.textContent = fmt(T.transcoded, { codec: codec });
          this.ws.onclose = null;
          this.ws.close();
          this.start();
          return;
        }
        this.ws.onclose = null;
        this.ws.close();
        this.setState("unsupported", fmt(T.unsupported, { codec: codec }));
        return;
      }
      const ms = new MediaSource();
      this.ms = ms;
      this.video.src = URL.createObjectURL(ms);
      ms.addEventListener("sourceopen", () => {
        URL.revokeObjectURL(this.video.src);
        this.sb = ms.addSourceBuffer(mime);
        this.sb.mode = "segments";
        this.sb.addEventListener("updateend", () => this.appended());
        this.pump();
      });
    }
    pump() {
      const sb = this.sb;
      if (!sb || sb.updating || !this.queue.length || state.ended) return;
      let total = 0;
      for (const q of this.queue) total += q.length;
      const data = new Uint8Array(total);
      let at = 0;
      for (const q of this.queue) { data.set(q, at); at += q.length; }
      this.queue = [];
      try {
        sb.appendBuffer(data);
      } catch (e) {
        this.ws.close();
      }
    }
    appended() {
      const v = this.video, b = v.buffered;
      if (b.length) {
        const end = b.end(b.length - 1);
        // Start at the live edge (the cached GOP begins up to a second back), jump forward if it falls a
        // second behind, and play slightly fast while it is more than a quarter of a second behind.
        const behind = end - v.currentTime;
        if (this.first || behind > 1.0) v.currentTime = Math.max(b.start(b.length - 1), end - 0.1);
        else v.playbackRate = behind > 0.25 ? 1.1 : 1.0;
        if (this.first) {
          this.first = false;
          this.retry = 0;
          this.setState("live", T.live);
          v.play().catch(() => {});
        }
        if (v.currentTime - b.start(0) > 30 && !this.sb.updating) {
          this.sb.remove(0, v.currentTime - 10);
          return;
        }
      }
      this.pump();
    }
    onClose(ev, ws) {
      if (ws !== this.ws || state.ended) return;
      const reason = ev.reason || "";
      if (ev.code === 4401) return stopAll("expired");
      if (ev.code === 4403 || (this.refused && this.refused.status === 403)) {
        // Revoked, expired or a camera taken out of the share: ask the engine which.
        return checkShare().then((s) => {
          if (s && s.status !== "active") stopAll(s.status);
          else if (s && !s.cameras.some((c) => c.id === this.cam.id)) this.gone(reason);
          else stopAll(reason || "revoked");
        });
      }
      if (this.refused && this.refused.status === 401) return stopAll("invalid");
      this.setState("reconnecting", ev.code === 4503 ? T.unavailable : T.reconnecting);
      this.retry += 1;
      const delay = Math.min(5000, 250 * Math.pow(2, Math.min(this.retry - 1, 5)));
      this.timer = setTimeout(() => this.start(), delay);
    }
    gone(reason) {
      this.stop();
      this.setState("ended", fmt(T.ended, { why: reason || "—" }));
    }
    stopMedia() {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      if (this.ws) { this.ws.onclose = null; this.ws.onmessage = null; try { this.ws.close(); } catch (e) {} }
      this.ws = null;
      this.sb = null;
      this.ms = null;
      this.refused = null;
    }
    stop() {
      this.stopMedia();
      this.video.pause();
      this.video.removeAttribute("src");
      this.video.load();
      this.info.state = "stopped";
      this.tile.dataset.state = "stopped";
    }
  }

  function describe(cam) {
    const parts = [];
    if (cam.distance_m !== null && cam.distance_m !== undefined) {
      parts.push(cam.bearing ? fmt(T.away, { d: cam.distance_m, dir: T.dirs[cam.bearing] }) : T.atPlace);
    }
    if (cam.facing) parts.push(fmt(T.facing, { dir: T.dirs[cam.facing] }));
    return parts.join(" · ");
  }

  function tileFor(cam) {
    const tile = document.createElement("section");
    tile.className = "tile";
    tile.dataset.camera = cam.id;
    const video = document.createElement("video");
    const cap = document.createElement("div");
    cap.className = "caption";
    const name = document.createElement("strong");
    name.textContent = cam.name;
    const where = document.createElement("span");
    where.className = "where";
    where.textContent = describe(cam);
    const status = document.createElement("span");
    status.className = "status";
    const note = document.createElement("div");
    note.className = "note";
    note.hidden = true;
    cap.append(name, where, status);
    tile.append(video, cap, note);
    return tile;
  }

  function checkShare() {
    return fetch(base + "/share.json", { cache: "no-store" })
      .then((r) => (r.status === 404 ? { status: "invalid", cameras: [] } : r.json()))
      .catch(() => null);
  }

  function show(share) {
    if (share.status === "invalid") return stopAll("invalid");
    expiresAt = Date.parse(share.expires_at);
    state.skewMs = Date.parse(share.server_time) - Date.now();
    if (share.place) {
      const p = share.place;
      $("place").textContent = T.place + ": " + (p.address || p.lat.toFixed(5) + ", " + p.lon.toFixed(5));
    }
    if (share.status !== "active") return stopAll(share.status);
    const grid = $("grid");
    grid.dataset.count = String(share.cameras.length);
    for (const cam of share.cameras) {
      const tile = tileFor(cam);
      grid.append(tile);
      const player = new Player(cam, tile);
      players.push(player);
      player.start();
    }
    tick();
  }

  checkShare().then((share) => (share ? show(share) : stopAll("invalid")));
  setInterval(tick, 250);
  // Belt and braces: a share revoked while no camera is streaming is still noticed.
  setInterval(() => {
    if (state.ended) return;
    checkShare().then((s) => { if (s && s.status !== "active") stopAll(s.status); });
  }, 5000);
})();
