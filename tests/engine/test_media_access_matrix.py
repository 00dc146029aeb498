"""The role × route matrix of the media port (``MEDIA_RULES``), checked against the real media process.

The media process serves its own routes on its own port (DESIGN §8): they are not in the engine's app,
so ``test_access_matrix.py`` cannot see them. Here every route of the media app must have exactly one
rule, and every caller — each console role, a wall key, an agency's share token, and no credentials —
presenting its own media credential in the URL must be let through exactly where the rule says. The
test cameras do not answer, so a caller let through gets 503 (camera unavailable, after its token was
accepted) and a refused one 401/403/404 before any camera is touched.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from fastapi.routing import APIRoute, APIWebSocketRoute
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from app.engine.access_rules import MEDIA_RULES, Caller
from app.engine.media.process import ControlAccess, build_media_app
from app.engine.media.relay import MediaRelay
from tests.engine.test_access_matrix import DENIED_BEARER, DENIED_URL, World, _walk, world  # noqa: F401


def media_app_routes() -> set[tuple[str, str]]:
    async def build() -> set[tuple[str, str]]:
        relay = MediaRelay()
        try:
            app = build_media_app(relay, ControlAccess())
            out: set[tuple[str, str]] = set()
            for r, path in _walk(list(app.routes)):
                if isinstance(r, APIWebSocketRoute):
                    out.add(("WS", path))
                elif path.startswith("/media/{rest"):
                    out.add(("ANY", path))
                elif isinstance(r, APIRoute):
                    out.update((m, path) for m in r.methods if m != "HEAD")
            return out
        finally:
            await relay.aclose()

    return asyncio.run(build())


def test_every_media_route_has_exactly_one_rule() -> None:
    served = media_app_routes()
    ruled = {(r.method, r.path) for r in MEDIA_RULES}
    assert len(ruled) == len(MEDIA_RULES), "a media route has two rules"
    assert served - ruled == set(), "media routes without a rule in MEDIA_RULES (app/engine/access_rules.py)"
    assert ruled - served == set(), "rules for routes the media process does not serve"


def _media_base(w: World) -> str:
    r = w.engine.http.post("/api/v1/media/grants", headers=w.bearer(Caller.OPERATOR))
    assert r.status_code == 201, r.text
    return str(r.json()["media_base_url"]).rstrip("/")


def _http_status(base: str, path: str, w: World, caller: Caller) -> int:
    ids = {"token": w.media_token(caller), "camera_id": w.camera_id, "rest": "nothing/here"}
    url = base + path.replace("{rest:path}", "{rest}").format(**ids)
    with httpx.Client(timeout=30) as client, client.stream("GET", url) as r:
        return r.status_code


def _ws_status(base: str, path: str, w: World, caller: Caller) -> int:
    """The refusal's status (from the error message or the close code 4000+status), or 503 when the
    token was accepted and only the camera is missing."""
    url = base.replace("http", "ws", 1) + path.format(token=w.media_token(caller), camera_id=w.camera_id)
    with connect(url, open_timeout=10) as ws:
        try:
            first: Any = ws.recv(timeout=30)
        except ConnectionClosed:
            code = ws.close_code or 0
            return code - 4000 if code >= 4000 else code
    message = json.loads(first)
    return int(message["status"]) if message.get("type") == "error" else 200


def test_every_caller_gets_exactly_what_its_media_rule_allows(world: World) -> None:  # noqa: F811
    base = _media_base(world)
    wrong: list[str] = []
    for rule in MEDIA_RULES:
        for caller in Caller:
            if rule.method == "WS":
                status = _ws_status(base, rule.path, world, caller)
            else:
                status = _http_status(base, rule.path, world, caller)
            assert status != 500, f"{rule.method} {rule.path} as {caller}: 500"
            denied = DENIED_URL if rule.credential == "url" else DENIED_BEARER
            if rule.credential == "public":
                assert status == 404, f"{rule.path} as {caller}: {status}"
            allowed = status not in denied
            if allowed != (caller in rule.allowed):
                wrong.append(
                    f"{rule.method} {rule.path} as {caller.value}: {status}, expected "
                    f"{'allowed' if caller in rule.allowed else 'refused'}"
                )
    assert not wrong, "\n".join(wrong)
