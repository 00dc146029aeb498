"""The role × route rules: who may call each route at all. One table, read by the engine's gate
(:mod:`app.engine.api.gate`), by the matrix test (``tests/engine/test_access_matrix.py``) and rendered into
``docs/SECURITY.md`` (``python -m app.engine.access_rules --write`` rewrites the table there).

A route that is not in the table is refused to everyone (``403``) and fails the matrix test: adding a route
means adding its row here. These rules are the first gate only; what a caller sees *inside* a route it may
call (an agency's own incidents, a wall's own layout) is decided by the services.

Callers:

* ``none`` — no credentials at all;
* ``operator``, ``supervisor``, ``admin``, ``auditor`` — console users by role (session token);
* ``wall`` — a wall display PC's key (``gtw_…``), bound to one wall;
* ``agency`` — an agency's or sensor gateway's API key (``gtk_…``).

``credential`` says where the caller's credential travels: ``bearer`` (the ``Authorization`` header),
``public`` (none needed), ``url`` (a share token or media grant in the path: the route checks it itself,
the gate lets the request through and the test presents each caller's own media credential), ``gateway``
(a media gateway's call), ``own`` (a credential of the route's own, e.g. the metrics token).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal


class Caller(StrEnum):
    NONE = "none"
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"
    WALL = "wall"
    AGENCY = "agency"


Credential = Literal["bearer", "public", "url", "gateway", "own"]


@dataclass(frozen=True, slots=True)
class Rule:
    method: str  # GET, POST, …, WS for a WebSocket route, ANY for every method
    path: str  # the route's template exactly as the app declares it
    allowed: frozenset[Caller]
    credential: Credential
    note: str


N, O, S, A, U, W, G = (  # noqa: E741 - one letter per column of the matrix
    Caller.NONE,
    Caller.OPERATOR,
    Caller.SUPERVISOR,
    Caller.ADMIN,
    Caller.AUDITOR,
    Caller.WALL,
    Caller.AGENCY,
)
CONSOLE = frozenset({O, S, A})  # the roles that run the control room
USERS = frozenset({O, S, A, U})  # every console user
EVERYONE = frozenset(Caller)


def _r(
    method: str, path: str, allowed: set[Caller] | frozenset[Caller], note: str, cred: Credential = "bearer"
) -> Rule:
    return Rule(method, path, frozenset(allowed), cred, note)


RULES: tuple[Rule, ...] = (
    # ------------------------------------------------------------------ intake (agencies and devices)
    _r("POST", "/api/v1/requests", {G}, "linked-service request; the agency's service policy applies"),
    _r("POST", "/api/v1/requests/{external_id}/updates", {G}, "only the agency that made the request"),
    _r("POST", "/api/v1/alerts/cap", {G}, "CAP 1.2 alert from an alerting gateway"),
    _r("POST", "/api/v1/sensors/events", {G}, "sensor gateway: only its own sensors"),
    _r("POST", "/api/v1/sensors/readings", {G}, "sensor gateway: only its own sensors, many at once"),
    # ------------------------------------------------------------------ incidents, shares, reports
    _r("GET", "/api/v1/incidents", CONSOLE | {G}, "agencies: only incidents they hold a share in or opened"),
    _r(
        "GET",
        "/api/v1/incidents/{incident_id}",
        CONSOLE | {W, G},
        "wall: only the incident its takeover shows; agencies: filtered view of their own",
    ),
    _r("PATCH", "/api/v1/incidents/{incident_id}", CONSOLE, "acknowledge, assign, priority, close"),
    _r("POST", "/api/v1/incidents/{incident_id}/shares", CONSOLE, "share cameras with an agency"),
    _r("DELETE", "/api/v1/shares/{share_id}", CONSOLE, "revoke a share"),
    _r("PATCH", "/api/v1/shares/{share_id}", CONSOLE, "extend a share"),
    _r("POST", "/api/v1/incidents/{incident_id}/reports", CONSOLE, "report to an agency"),
    _r(
        "POST",
        "/api/v1/incidents/{incident_id}/units",
        {G},
        "dispatched units' positions: only an agency that may read the incident (opened it, or holds a share)",
    ),
    _r(
        "GET",
        "/api/v1/history/incidents",
        USERS,
        "closed incidents searched by time, service, place and text (read-only; every search audited)",
    ),
    _r("GET", "/api/v1/legal-bases", CONSOLE | {U}, "the legal bases a share may name"),
    _r("GET", "/api/v1/shares/pending", CONSOLE, "shares waiting for approval or confirmation"),
    _r(
        "POST", "/api/v1/shares/{share_id}/approve", {S}, "a supervisor approves a pending share or extension"
    ),
    _r("POST", "/api/v1/shares/{share_id}/reject", {S}, "a supervisor rejects it, with a reason"),
    _r(
        "POST",
        "/api/v1/shares/{share_id}/confirm",
        {O, S},
        "confirm an agency's request above its camera cap",
    ),
    _r("GET", "/api/v1/ledger", {S, U}, "the provision ledger (reading it is audited)"),
    _r(
        "GET",
        "/api/v1/incidents/{incident_id}/evidence",
        {S, U},
        "the incident's signed evidence bundle (zip; every export is audited)",
    ),
    # ------------------------------------------------------------------ sessions and users
    _r("POST", "/api/v1/sessions", EVERYONE, "log in (throttled per address and per user)", "public"),
    _r("DELETE", "/api/v1/sessions", USERS, "log out (ends this session)"),
    _r("GET", "/api/v1/users", {A}, "list users"),
    _r("POST", "/api/v1/users", {A}, "add a user"),
    _r("PATCH", "/api/v1/users/{username}", {A}, "disable/enable, change role, reset password"),
    _r("DELETE", "/api/v1/users/{username}/sessions", {A}, "end every session of a user"),
    # ------------------------------------------------------------------ directory
    _r("GET", "/api/v1/cameras", CONSOLE, "camera catalogue"),
    _r("GET", "/api/v1/cameras/{camera_id}", CONSOLE | {W}, "wall: only cameras its layout shows"),
    _r("GET", "/api/v1/agencies", CONSOLE | {G}, "agencies: only themselves"),
    _r(
        "GET",
        "/api/v1/districts",
        CONSOLE,
        "administrative districts for CAP geocodes (public geography; agencies learn unknown codes from "
        "the refusal of their alert)",
    ),
    _r("POST", "/api/v1/agencies", {A}, "register an agency (key shown once)"),
    _r("PATCH", "/api/v1/agencies/{agency_id}", {A}, "change, enable/disable, rotate webhook secret"),
    _r("POST", "/api/v1/agencies/{agency_id}/keys", {A}, "rotate the API key (shown once; optional grace)"),
    _r("POST", "/api/v1/deliveries/{delivery_id}/retry", CONSOLE, "re-queue a dead-lettered delivery"),
    _r("GET", "/api/v1/audit", {S, A, U}, "the audit trail (reading it is audited)"),
    # ------------------------------------------------------------------ walls
    _r("GET", "/api/v1/walls", CONSOLE, "every wall's layout"),
    _r("GET", "/api/v1/walls/{wall_id}", CONSOLE | {W}, "wall: only its own"),
    _r("PUT", "/api/v1/walls/{wall_id}", CONSOLE, "set a wall's layout"),
    _r("POST", "/api/v1/walls/{wall_id}/takeover", CONSOLE, "send an incident to a wall"),
    _r("POST", "/api/v1/walls/{wall_id}/release", CONSOLE, "back to the layout before the takeover"),
    _r("WS", "/api/v1/live", CONSOLE | {W}, "live events; credential in the header or the first message"),
    # ------------------------------------------------------------------ media
    _r("POST", "/api/v1/media/grants", CONSOLE | {W}, "a media token tied to the session or wall key"),
    _r(
        "GET",
        "/media/{token}/{camera_id}.ts",
        CONSOLE | {W, G},
        "live video: a console grant, a wall grant (cameras of its layout) or a share token (its cameras)",
        "url",
    ),
    _r(
        "GET",
        "/media/{token}/{camera_id}.jpg",
        CONSOLE | {W, G},
        "current picture: as for the live video",
        "url",
    ),
    _r(
        "GET",
        "/media/{token}/reports/{report_id}.jpg",
        {G},
        "a report's snapshot, with the share token of that report",
        "url",
    ),
    _r(
        "POST",
        "/api/v1/media/auth",
        set(),
        "a media gateway's per-viewer call: only with the gateway's own key (settings), no role or agency",
        "gateway",
    ),
    _r("GET", "/view/{token}", {G}, "the share page for a browser (the share token in the URL)", "url"),
    _r("GET", "/view/{token}/share.json", {G}, "what the share page shows: state, place, cameras", "url"),
    _r("GET", "/view/static/{name}", EVERYONE, "the share page's own script and style sheet", "public"),
    _r("GET", "/api/v1/health", EVERYONE, "liveness", "public"),
    _r("ANY", "/media/{rest:path}", EVERYONE, "any other media URL: 404", "public"),
    # ------------------------------------------------------------------ operations
    _r("GET", "/healthz", EVERYONE, "liveness for a service manager", "public"),
    _r("GET", "/readyz", EVERYONE, "readiness (names of failing checks only)", "public"),
    _r(
        "GET",
        "/metrics",
        EVERYONE,
        "Prometheus: the metrics token, or loopback callers when none is set",
        "own",
    ),
)

_INDEX: dict[tuple[str, str], Rule] = {(r.method, r.path): r for r in RULES}


#: The media port (the media process, ``python main.py media``; DESIGN §8): its routes are not the
#: engine's, so they have their own table, walked by ``tests/engine/test_media_access_matrix.py``. Every
#: one checks the media credential in its URL itself, by asking the engine over the control channel.
MEDIA_RULES: tuple[Rule, ...] = (
    _r(
        "GET",
        "/media/{token}/{camera_id}.ts",
        CONSOLE | {W, G},
        "live video (MPEG-TS): a console grant, a wall grant (cameras of its layout) or a share token",
        "url",
    ),
    _r("GET", "/media/{token}/{camera_id}.jpg", CONSOLE | {W, G}, "current picture: as for .ts", "url"),
    _r(
        "WS",
        "/media/{token}/{camera_id}.ws",
        CONSOLE | {W, G},
        "live video for browsers (fragmented MP4 for MSE; ?transcode=h264 only for a codec a browser "
        "cannot play): as for .ts",
        "url",
    ),
    _r("ANY", "/media/{rest:path}", EVERYONE, "any other media URL: 404", "public"),
)


def rule_for(method: str, path: str) -> Rule | None:
    """The rule of a route (``HEAD`` follows ``GET``), or None: then nobody may call it."""
    method = method.upper()
    return _INDEX.get(("GET" if method == "HEAD" else method, path)) or _INDEX.get(("ANY", path))


def allows(rule: Rule, caller: Caller) -> bool:
    """Whether the gate lets ``caller`` through. ``url`` and ``public`` routes check their own credential,
    so the gate lets everyone reach them."""
    if rule.credential != "bearer":
        return True
    return caller in rule.allowed


def render_markdown() -> str:
    """The matrix as a Markdown table (for docs/SECURITY.md)."""
    callers = list(Caller)
    head = "| method | route | " + " | ".join(c.value for c in callers) + " | credential | note |"
    sep = "|---|---|" + "|".join(":-:" for _ in callers) + "|---|---|"
    lines = [head, sep]
    for r in RULES:
        marks = " | ".join("✔" if c in r.allowed else "·" for c in callers)
        lines.append(f"| {r.method} | `{r.path}` | {marks} | {r.credential} | {r.note} |")
    lines += ["", "Media port (the media process; a route there is not served on the engine's port):", ""]
    lines += [head, sep]
    for r in MEDIA_RULES:
        marks = " | ".join("✔" if c in r.allowed else "·" for c in callers)
        lines.append(f"| {r.method} | `{r.path}` | {marks} | {r.credential} | {r.note} |")
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- matrix:begin (python -m app.engine.access_rules --write) -->", "<!-- matrix:end -->"


def write_doc(path: Path) -> None:
    """Replace the matrix between the markers in ``path`` (docs/SECURITY.md) with the current table."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(head + BEGIN + "\n\n" + render_markdown() + "\n" + END + tail, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - a documentation helper
    if sys.argv[1:2] == ["--write"]:
        write_doc(Path(sys.argv[2] if len(sys.argv) > 2 else "docs/SECURITY.md"))
    else:
        sys.stdout.write(render_markdown())
