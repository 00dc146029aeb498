"""``docs/SETTINGS.md`` written from the settings models themselves (``python main.py settings doc --write``).

Every key of every table: its type, default, what is allowed (from the model's types and constraints) and
what it means: the comment beside or directly above the field in the model's source, else the field's
``description``, else a line of :data:`MEANINGS` here. ``tests/engine/test_settings_doc.py`` fails when a
key is missing from the committed document.
"""

from __future__ import annotations

import ast
import enum
import inspect
import io
import json
import textwrap
import tokenize
import types
import typing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from app.engine.settings_source import ENV_PREFIX

# Meanings of fields whose source has no comment (keyed by "table.key" with "<id>" for a named entry).
MEANINGS: dict[str, str] = {
    "data_dir": "Where the engine keeps its SQLite database, keys and files.",
    "host": "Address the engine listens on.",
    "port": "Port the engine listens on (0: any free port).",
    "media_url_template": "URL of a camera's live MPEG-TS stream handed to viewers.",
    "snapshot_url_template": "URL of a camera's JPEG snapshot handed to viewers.",
    "viewer_url_template": "URL of the share page an agency's webhook carries.",
    "max_body_bytes": "Largest request body the engine reads (413 beyond).",
    "request_threads": "Worker threads for blocking request work (database, password hashing).",
    "session_hours": "Longest life of a console session, however active.",
    "share_minutes": "Default duration of a video share.",
    "golden_time_s": "The golden time of each service in seconds: the console counts down to it.",
    "sender_id": "Sender of the engine's CAP and EIDO messages.",
    "sensor_rules": "What an event from each kind of sensor does.",
    "sensor_rules.kind": "The kind of sensor this rule is for.",
    "sensor_rules.service": "The service the incident is opened under.",
    "sensor_rules.agencies": "Kinds of agencies the incident is handed to.",
    "sensor_rules.title": "Title of the incident it opens.",
    "sensor_rules.priority": "Priority of the incident (1 highest).",
    "selection.nearest_count": "Cameras chosen nearest to an incident.",
    "selection.nearest_radius_m": "Radius the nearest cameras are chosen within.",
    "selection.escape_inner_m": "Inner radius of the ring of escape-route cameras.",
    "selection.escape_outer_m": "Outer radius of the ring of escape-route cameras.",
    "selection.escape_count": "Escape-route cameras chosen in that ring.",
    "selection.facility_radius_m": "Radius within which facilities (schools, hospitals) are shown.",
    "selection.area_camera_limit": "Most cameras an area incident (a CAP polygon) chooses.",
    "outbox.retry_tail_s": "Delay between attempts once the retry schedule is used up.",
    "outbox.jitter_ratio": "Random spread of each retry delay (0.2: ±20 %).",
    "outbox.max_attempts": "Attempts before a webhook becomes a dead letter.",
    "outbox.max_age_s": "Age after which an undelivered webhook becomes a dead letter.",
    "outbox.request_timeout_s": "Timeout of one webhook delivery.",
    "outbox.max_response_bytes": "Most of a receiver's answer that is read.",
    "outbox.concurrency": "Webhook deliveries in flight at once.",
    "outbox.claim_s": "How long a delivery is claimed by one dispatcher before another may retry it.",
    "outbox.allowed_schemes": "URL schemes an agency endpoint may use.",
    "security.login_workers": "Threads that verify passwords.",
    "security.throttle_base_s": "First wait after the free failures.",
    "security.throttle_max_s": "Longest wait between login attempts.",
    "security.tls_key": "PEM private key of the engine's TLS certificate.",
    "outbox.allowed_networks": 'Private networks agency endpoints may be in (CIDR, e.g. "10.20.0.0/16").',
    "outbox.sender_process": "Send webhooks from a delivery sender process of its own (false: in the engine).",
    "cap.signatures.<id>.cert": "PEM certificate this agency's CAP alerts must be signed with.",
    "cap.signatures.<id>.ca": "PEM CA the signing certificate must chain to (instead of cert).",
    "agency_access.limits.streams_per_agency": "Live streams the agency may watch at once over all its shares.",
    "agency_access.per_agency.<id>.streams_per_agency": "Live streams the agency may watch at once over all its shares.",
    "agency_access.services": "Services each kind of agency may request.",
    "security.session_idle_minutes": "A console session unused this long ends.",
    "retention.interval_hours": "The engine runs the retention policy this often.",
    "retention.first_run_delay_s": "First run of the retention policy, after the engine starts.",
    "retention.batch_rows": "Most rows one retention transaction deletes.",
    "audit.checkpoint_interval_minutes": "How often the engine stores a signed audit checkpoint.",
    "provision.legal_bases": "The legal bases a share can be recorded under (id, law, article, titles).",
    "provision.legal_bases.id": "Identifier of the basis.",
    "provision.legal_bases.law": "The law.",
    "provision.legal_bases.article": "The article.",
    "provision.legal_bases.title_ko": "Title in Korean.",
    "provision.legal_bases.title_en": "Title in English.",
}


@dataclass(frozen=True)
class Row:
    table: str  # "" for top-level keys, "outbox", "agency_access.per_agency.<id>", "[[sensor_rules]]" …
    key: str
    type: str
    default: str
    allowed: str
    meaning: str
    env: str


@dataclass(frozen=True)
class Table:
    name: str  # as written in TOML: "" (top level), "outbox", "[sensor_rules]" for an array of tables
    intro: str
    rows: list[Row]


def tables() -> list[Table]:
    from app.engine.settings import Settings

    out: list[Table] = []
    _walk(Settings, [], False, out)
    return out


def all_keys() -> set[tuple[str, str]]:
    return {(t.name, r.key) for t in tables() for r in t.rows}


def _walk(model: type[BaseModel], path: list[str], array: bool, out: list[Table]) -> None:
    name = ".".join(path)
    comments = _source_comments(model)
    rows: list[Row] = []
    table = Table(name=f"[{name}]" if array else name, intro=_doc(model, path), rows=rows)
    out.append(table)
    nested: list[tuple[type[BaseModel], list[str], bool]] = []
    for key, field in model.model_fields.items():
        ann = field.annotation
        sub, kind = _sub_model(ann)
        dotted = ".".join([p for p in path if p != "<id>"] + [key]) if path else key
        meaning = (
            comments.get(key)
            or field.description
            or MEANINGS.get(".".join([*path, key]))
            or MEANINGS.get(dotted)
        )
        if sub is not None and kind == "table":
            nested.append((sub, [*path, key], False))
            continue
        if sub is not None and kind == "array":
            nested.append((sub, [*path, key], True))
            shown = f"array of tables `[[{'.'.join([*path, key])}]]` (keys below)"
        elif sub is not None:
            nested.append((sub, [*path, key, "<id>"], False))
            shown = f"table of named tables `[{'.'.join([*path, key])}.<id>]` (keys below)"
        else:
            shown = _type(ann)
        env = ""
        if not array and len(path) <= 1 and "<id>" not in path:
            env = ENV_PREFIX + "__".join([*path, key]).upper()
        rows.append(
            Row(
                table=table.name,
                key=key,
                type=shown,
                default=_default(field, [*path, key]),
                allowed=_allowed(ann, field),
                meaning=meaning or "",
                env=env,
            )
        )
    for sub, sub_path, sub_array in nested:
        _walk(sub, sub_path, sub_array, out)


def _doc(model: type[BaseModel], path: list[str]) -> str:
    doc = inspect.getdoc(model)
    if not doc or doc == inspect.getdoc(BaseModel) or not path:
        return ""
    return " ".join(doc.split())


def _sub_model(ann: Any) -> tuple[type[BaseModel] | None, str]:
    """A nested model: ("table"), a list of them ("array"), a dict of them ("named")."""
    ann = _strip_optional(ann)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann, "table"
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Annotated:
        return _sub_model(args[0])
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0], "array"
    if origin is dict and len(args) == 2 and isinstance(args[1], type) and issubclass(args[1], BaseModel):
        return args[1], "named"
    return None, ""


def _strip_optional(ann: Any) -> Any:
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return ann


def _type(ann: Any) -> str:
    optional = typing.get_origin(ann) in (typing.Union, types.UnionType) and type(None) in typing.get_args(
        ann
    )
    base = _type_name(_strip_optional(ann))
    return f"{base} (optional)" if optional else base


def _type_name(ann: Any) -> str:
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is list:
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"table: {_type_name(args[0])} → {_type_name(args[1])}" if args else "table"
    if origin is typing.Literal:
        return "text"
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return "text"
    names = {bool: "true/false", int: "integer", float: "number", str: "text", Path: "path"}
    return names.get(ann, getattr(ann, "__name__", str(ann)))


def _allowed(ann: Any, field: FieldInfo) -> str:
    parts: list[str] = []
    metadata = list(field.metadata)
    inner = _strip_optional(ann)
    if typing.get_origin(inner) is typing.Annotated:
        for extra in typing.get_args(inner)[1:]:
            metadata.extend(extra.metadata if isinstance(extra, FieldInfo) else [extra])
    for m in metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if isinstance(m, getattr(annotated_types, attr.capitalize())):
                parts.append(f"{sign} {getattr(m, attr)}")
        if isinstance(m, annotated_types.MinLen):
            parts.append(f"at least {m.min_length} long")
        if isinstance(m, annotated_types.MaxLen):
            parts.append(f"at most {m.max_length} long")
        pattern = getattr(m, "pattern", None)
        if isinstance(pattern, str):
            parts.append(f"matches `{pattern}`")
    choices = _choices(inner)
    if choices:
        keys = typing.get_origin(inner) is dict
        parts.append(("keys: one of " if keys else "one of ") + ", ".join(f"`{c}`" for c in choices))
    return "; ".join(parts)


def _choices(ann: Any) -> list[str]:
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Annotated:
        return _choices(args[0])
    if origin is typing.Literal:
        return [str(a) for a in args]
    if origin is list and args:
        return _choices(args[0])
    if origin is dict and args:
        return _choices(args[0])
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return [str(m.value) for m in ann]
    return []


# Defaults that depend on the machine generating the document.
_MACHINE_DEFAULTS = {
    "data_dir": "the user's data folder (`~/.local/share/goldentime`); the Debian package: `/var/lib/goldentime`"
}


def _default(field: FieldInfo, path: list[str]) -> str:
    key = ".".join(path)
    if key in _MACHINE_DEFAULTS:
        return _MACHINE_DEFAULTS[key]
    if field.is_required():
        return "(required)"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return f"{len(value)} built-in entries"
    if isinstance(value, BaseModel):
        return "(its keys' defaults)"
    return f"`{_toml(value)}`"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return _toml(value.value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = (f"{_key(k)} = {_toml(v)}" for k, v in value.items())
        return "{ " + ", ".join(items) + " }"
    return json.dumps(str(value))


def _key(k: Any) -> str:
    k = k.value if isinstance(k, enum.Enum) else str(k)
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else json.dumps(k)


@cache
def _source_comments(model: type[BaseModel]) -> dict[str, str]:
    """field name -> its comment: the comment on its line, or the comment lines directly above it."""
    try:
        source = textwrap.dedent(inspect.getsource(model))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    comments = {
        tok.start[0]: tok.string.lstrip("#").strip()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    cls = ast.parse(source).body[0]
    assert isinstance(cls, ast.ClassDef)
    out: dict[str, str] = {}
    for node in cls.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above: list[str] = []
        n = node.lineno - 1
        while n in comments and lines[n - 1].lstrip().startswith("#"):
            above.insert(0, comments[n])
            n -= 1
        trailing = comments.get(node.end_lineno or node.lineno)
        text = " ".join(
            [*above, trailing]
            if trailing and not lines[(node.end_lineno or 1) - 1].lstrip().startswith("#")
            else above
        )
        if text:
            out[node.target.id] = _sentence(text)
    return out


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text[0].upper() + text[1:] if text else text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    out = [
        "# Settings",
        "",
        "<!-- Generated by `python main.py settings doc --write` from the settings models; do not edit. -->",
        "",
        "One TOML file (`goldentime engine --config FILE`, or `$GOLDENTIME_CONFIG`; the Debian package:",
        "`/etc/goldentime/settings.toml`). Every key is optional: a missing key takes its default. An unknown key,",
        "a wrong type or a value outside what is allowed stops the engine at start with a message that names",
        "the key, its line and what is allowed; `goldentime settings check FILE` says the same without starting.",
        "",
        "Environment variables override the file: `GOLDENTIME_<KEY>` for a top-level key and",
        "`GOLDENTIME_<TABLE>__<KEY>` for a key of a table (column *environment*); a value is read as TOML when it",
        'parses as TOML (`32`, `true`, `["a", "b"]`), else as text. The command line (`--db`, `--host`, `--port`,',
        "`--data-dir`) overrides both.",
        "",
    ]
    for table in tables():
        if not table.rows:
            continue
        title = "Top level" if not table.name else f"`[{table.name}]`"
        out += [f"## {title}", ""]
        if table.intro:
            out += [table.intro, ""]
        out += [
            "| key | type | default | allowed | meaning | environment |",
            "|---|---|---|---|---|---|",
        ]
        for r in table.rows:
            env = f"`{r.env}`" if r.env else ""
            out.append(
                f"| `{r.key}` | {_cell(r.type)} | {_cell(r.default)} | {_cell(r.allowed)} | "
                f"{_cell(r.meaning)} | {env} |"
            )
        out.append("")
    return "\n".join(out)


def documented_keys(markdown: str) -> set[tuple[str, str]]:
    """(table, key) of every row of a rendered document (what the test compares with :func:`all_keys`)."""
    found: set[tuple[str, str]] = set()
    table = ""
    for line in markdown.splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            table = "" if title == "Top level" else title.strip("`")[1:-1]
        elif line.startswith("| `"):
            found.add((table, line.split("`")[1]))
    return found
