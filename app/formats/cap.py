"""CAP 1.2 (OASIS Common Alerting Protocol): a hardened parser and a builder for outbound events.

Parsing goes through defusedxml with DTDs, entities and external references forbidden, after a size
check, so a hostile alert cannot expand, read local files or reach the network. Every malformed
input raises :class:`CapError` whose message names the element (``alert/info[1]/area[2]/circle[1]``)
and says what is wrong with it.

The builder renders an :class:`~app.formats.api.OutboundEvent` as a CAP 1.2 alert that validates
against the OASIS schema (``resources/schemas/CAP-v1.2.xsd``). Message types and references:

- ``share.created`` → ``Alert``; its identifier is derived from the share (``<share id>``) and its
  ``sent`` is the share's creation time, so later messages about the same share can reference it
  without the builder having to remember anything.
- ``share.updated``, ``incident.updated``, ``incident.closed`` → ``Update`` (referencing the share's
  message when the event carries the share).
- ``share.revoked`` → ``Cancel`` of the share's message.
- ``report.created`` → ``Alert``; ``alert.received`` → ``Alert`` that references the inbound alert
  (from ``event.alert``, as produced by :func:`alert_summary`).

Drills (``incident.exercise``) are sent with status ``Exercise``. Every message carries the incident
id in ``<incidents>`` and machine-readable ``<parameter>`` entries (``goldentime:event-type``,
``goldentime:event-id``, ``goldentime:sequence``, ``goldentime:incident-id``, …).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast
from xml.etree.ElementTree import Element

import defusedxml
import defusedxml.ElementTree as DET

from app.domain.enums import Service
from app.domain.geo import Area, Circle, GeoPoint, Polygon, lat_lon_problem
from app.formats.api import OutboundEvent

CAP_NS: Final = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_CONTENT_TYPE: Final = "application/cap+xml"
MAX_CAP_BYTES: Final = 256 * 1024
"""Largest CAP message :func:`parse_cap` accepts (bytes)."""

MAX_POLYGON_POINTS: Final = 5000
INCIDENT_CIRCLE_KM: Final = 0.1
"""Radius of the circle drawn around an incident location when the incident has no area (km)."""

Status = Literal["Actual", "Exercise", "System", "Test", "Draft"]
MsgType = Literal["Alert", "Update", "Cancel", "Ack", "Error"]
Scope = Literal["Public", "Restricted", "Private"]

STATUSES: Final = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES: Final = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES: Final = ("Public", "Restricted", "Private")
CATEGORIES: Final = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
URGENCIES: Final = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES: Final = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES: Final = ("Observed", "Likely", "Possible", "Unlikely", "Unknown", "Very Likely")
RESPONSE_TYPES: Final = (
    "Shelter",
    "Evacuate",
    "Prepare",
    "Execute",
    "Avoid",
    "Monitor",
    "Assess",
    "AllClear",
    "None",
)

# CAP 1.2 §3.3.2: date-time with an explicit offset; "Z" is not CAP but common, so it is accepted.
_DATETIME_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)$")
# identifier and sender: no spaces, commas or restricted characters (CAP 1.2 §3.2.1).
_FORBIDDEN_ID_CHARS: Final = re.compile(r"[\s,<&]")
_XML_INVALID_CHARS: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FLOAT_RE: Final = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


class CapError(ValueError):
    """A CAP message that cannot be accepted; ``detail`` says which element and why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# ---------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class CapCircle:
    """CAP ``circle``: centre and radius in kilometres."""

    lat: float
    lon: float
    radius_km: float

    def to_geo(self) -> Circle:
        return Circle(GeoPoint(self.lat, self.lon), self.radius_km * 1000.0)


@dataclass(frozen=True, slots=True)
class CapPolygon:
    """CAP ``polygon``: a closed ring of (lat, lon) pairs (first == last, at least four pairs)."""

    points: tuple[tuple[float, float], ...]

    def to_geo(self) -> Polygon:
        # domain polygons take open or closed rings; drop the closing pair
        return Polygon(tuple(GeoPoint(lat, lon) for lat, lon in self.points[:-1]))


@dataclass(frozen=True, slots=True)
class CapArea:
    area_desc: str
    circles: tuple[CapCircle, ...] = ()
    polygons: tuple[CapPolygon, ...] = ()
    geocodes: tuple[tuple[str, str], ...] = ()

    def to_geo(self) -> list[Area]:
        """The area's shapes as domain areas (polygons first, then circles)."""
        shapes: list[Area] = [p.to_geo() for p in self.polygons]
        shapes.extend(c.to_geo() for c in self.circles)
        return shapes


@dataclass(frozen=True, slots=True)
class CapResource:
    resource_desc: str
    mime_type: str
    uri: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class CapInfo:
    event: str
    categories: tuple[str, ...]
    urgency: str
    severity: str
    certainty: str
    language: str = "en-US"
    response_types: tuple[str, ...] = ()
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    sender_name: str | None = None
    web: str | None = None
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    resources: tuple[CapResource, ...] = ()
    areas: tuple[CapArea, ...] = ()

    def parameter(self, name: str) -> str | None:
        """The first parameter called ``name``, or None."""
        for key, value in self.parameters:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class CapReference:
    """One entry of CAP ``references``: ``sender,identifier,sent``."""

    sender: str
    identifier: str
    sent: datetime


@dataclass(frozen=True, slots=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime
    status: Status
    msg_type: MsgType
    scope: Scope
    source: str | None = None
    restriction: str | None = None
    addresses: str | None = None
    codes: tuple[str, ...] = ()
    note: str | None = None
    references: tuple[CapReference, ...] = ()
    incidents: tuple[str, ...] = ()
    infos: tuple[CapInfo, ...] = field(default_factory=tuple)

    @property
    def is_drill(self) -> bool:
        """Exercise and Test messages must never be treated as real emergencies."""
        return self.status in ("Exercise", "Test")

    def areas(self) -> list[CapArea]:
        return [area for info in self.infos for area in info.areas]

    def geo_areas(self) -> list[Area]:
        """Every shape of every area of every info, as domain areas."""
        return [shape for area in self.areas() for shape in area.to_geo()]


def alert_summary(alert: CapAlert) -> dict[str, Any]:
    """A JSON-ready summary of an inbound alert, for ``OutboundEvent.alert`` and the timeline.

    :func:`build_cap` reads ``identifier``, ``sender`` and ``sent`` from it to reference the original.
    """
    first = alert.infos[0] if alert.infos else None
    return {
        "identifier": alert.identifier,
        "sender": alert.sender,
        "sent": format_cap_datetime(alert.sent),
        "status": alert.status,
        "msg_type": alert.msg_type,
        "event": first.event if first else None,
        "headline": first.headline if first else None,
        "urgency": first.urgency if first else None,
        "severity": first.severity if first else None,
        "certainty": first.certainty if first else None,
        "categories": list(first.categories) if first else [],
        "areas": [area.area_desc for area in alert.areas()],
    }


# ---------------------------------------------------------------- parsing


def parse_cap(data: bytes) -> CapAlert:
    """Parse and check a CAP 1.2 alert; raises :class:`CapError` with a precise detail."""
    if not isinstance(data, bytes | bytearray):
        raise CapError(f"CAP message must be bytes, got {type(data).__name__}")
    if len(data) > MAX_CAP_BYTES:
        raise CapError(f"CAP message is {len(data)} bytes; the limit is {MAX_CAP_BYTES} bytes")
    if not data.strip():
        raise CapError("CAP message is empty")
    try:
        root = DET.fromstring(bytes(data), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden as exc:
        raise CapError(f"CAP message contains a DTD (<!DOCTYPE {exc.name}>); DTDs are not allowed") from exc
    except defusedxml.EntitiesForbidden as exc:
        raise CapError(f"CAP message declares the entity {exc.name!r}; entities are not allowed") from exc
    except defusedxml.ExternalReferenceForbidden as exc:
        raise CapError(
            f"CAP message references external content ({exc.sysid or exc.pubid}); not allowed"
        ) from exc
    except defusedxml.DefusedXmlException as exc:
        raise CapError(f"CAP message uses a forbidden XML construct: {exc}") from exc
    except ET.ParseError as exc:
        line, column = exc.position
        raise CapError(f"CAP message is not well-formed XML (line {line}, column {column}): {exc}") from exc
    return _parse_alert(root)


def _local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return None, tag


def _parse_alert(root: Element) -> CapAlert:
    ns, name = _local(root.tag)
    if name != "alert":
        raise CapError(f"root element is <{name}>; a CAP message must be an <alert>")
    if ns is None:
        raise CapError(f'<alert> has no namespace; CAP 1.2 requires xmlns="{CAP_NS}"')
    if ns != CAP_NS:
        raise CapError(f"<alert> is in namespace {ns!r}; only CAP 1.2 ({CAP_NS!r}) is accepted")
    path = "alert"
    identifier = _cap_id(root, path, "identifier")
    sender = _cap_id(root, path, "sender")
    sent = _datetime(_required(root, path, "sent"), f"{path}/sent")
    status = cast(Status, _enum(_required(root, path, "status"), f"{path}/status", STATUSES))
    msg_type = cast(MsgType, _enum(_required(root, path, "msgType"), f"{path}/msgType", MSG_TYPES))
    scope = cast(Scope, _enum(_required(root, path, "scope"), f"{path}/scope", SCOPES))
    restriction = _optional(root, path, "restriction")
    addresses = _optional(root, path, "addresses")
    if scope == "Restricted" and not restriction:
        raise CapError(f"{path}/restriction is required when scope is Restricted")
    if scope == "Private" and not addresses:
        raise CapError(f"{path}/addresses is required when scope is Private")
    references_text = _optional(root, path, "references")
    references = _references(references_text, f"{path}/references") if references_text else ()
    incidents_text = _optional(root, path, "incidents")
    infos = tuple(
        _parse_info(el, f"{path}/info[{i}]") for i, el in enumerate(_children(root, "info"), start=1)
    )
    return CapAlert(
        identifier=identifier,
        sender=sender,
        sent=sent,
        status=status,
        msg_type=msg_type,
        scope=scope,
        source=_optional(root, path, "source"),
        restriction=restriction,
        addresses=addresses,
        codes=tuple(_text(el) for el in _children(root, "code")),
        note=_optional(root, path, "note"),
        references=references,
        incidents=tuple(incidents_text.split()) if incidents_text else (),
        infos=infos,
    )


def _parse_info(el: Element, path: str) -> CapInfo:
    categories = tuple(
        _enum(_text(c), f"{path}/category[{i}]", CATEGORIES)
        for i, c in enumerate(_children(el, "category"), start=1)
    )
    if not categories:
        raise CapError(f"{path}/category is missing; an info needs at least one category")
    response_types = tuple(
        _enum(_text(r), f"{path}/responseType[{i}]", RESPONSE_TYPES)
        for i, r in enumerate(_children(el, "responseType"), start=1)
    )
    effective = _optional(el, path, "effective")
    onset = _optional(el, path, "onset")
    expires = _optional(el, path, "expires")
    parameters = tuple(
        _value_pair(p, f"{path}/parameter[{i}]") for i, p in enumerate(_children(el, "parameter"), start=1)
    )
    resources = tuple(
        _parse_resource(r, f"{path}/resource[{i}]") for i, r in enumerate(_children(el, "resource"), start=1)
    )
    areas = tuple(_parse_area(a, f"{path}/area[{i}]") for i, a in enumerate(_children(el, "area"), start=1))
    return CapInfo(
        event=_required(el, path, "event"),
        categories=categories,
        urgency=_enum(_required(el, path, "urgency"), f"{path}/urgency", URGENCIES),
        severity=_enum(_required(el, path, "severity"), f"{path}/severity", SEVERITIES),
        certainty=_enum(_required(el, path, "certainty"), f"{path}/certainty", CERTAINTIES),
        language=_optional(el, path, "language") or "en-US",
        response_types=response_types,
        headline=_optional(el, path, "headline"),
        description=_optional(el, path, "description"),
        instruction=_optional(el, path, "instruction"),
        sender_name=_optional(el, path, "senderName"),
        web=_optional(el, path, "web"),
        effective=_datetime(effective, f"{path}/effective") if effective else None,
        onset=_datetime(onset, f"{path}/onset") if onset else None,
        expires=_datetime(expires, f"{path}/expires") if expires else None,
        parameters=parameters,
        resources=resources,
        areas=areas,
    )


def _parse_resource(el: Element, path: str) -> CapResource:
    size_text = _optional(el, path, "size")
    size: int | None = None
    if size_text is not None:
        if not size_text.isdigit():
            raise CapError(f"{path}/size {size_text!r} is not a whole number of bytes")
        size = int(size_text)
    return CapResource(
        resource_desc=_required(el, path, "resourceDesc"),
        mime_type=_required(el, path, "mimeType"),
        uri=_optional(el, path, "uri"),
        size=size,
    )


def _parse_area(el: Element, path: str) -> CapArea:
    return CapArea(
        area_desc=_required(el, path, "areaDesc"),
        polygons=tuple(
            _polygon(_text(p), f"{path}/polygon[{i}]")
            for i, p in enumerate(_children(el, "polygon"), start=1)
        ),
        circles=tuple(
            _circle(_text(c), f"{path}/circle[{i}]") for i, c in enumerate(_children(el, "circle"), start=1)
        ),
        geocodes=tuple(
            _value_pair(g, f"{path}/geocode[{i}]") for i, g in enumerate(_children(el, "geocode"), start=1)
        ),
    )


def _children(el: Element, name: str) -> list[Element]:
    return el.findall(f"{{{CAP_NS}}}{name}")


def _text(el: Element) -> str:
    return (el.text or "").strip()


def _optional(el: Element, path: str, name: str) -> str | None:
    found = _children(el, name)
    if len(found) > 1:
        raise CapError(f"{path}/{name} appears {len(found)} times; CAP allows it once")
    if not found:
        return None
    return _text(found[0]) or None


def _required(el: Element, path: str, name: str) -> str:
    found = _children(el, name)
    if not found:
        raise CapError(f"{path}/{name} is missing")
    value = _optional(el, path, name)
    if value is None:
        raise CapError(f"{path}/{name} is empty")
    return value


def _cap_id(el: Element, path: str, name: str) -> str:
    value = _required(el, path, name)
    if _FORBIDDEN_ID_CHARS.search(value):
        raise CapError(f"{path}/{name} {value!r} contains a space, comma, '<' or '&', which CAP forbids")
    return value


def _enum(value: str, path: str, allowed: Iterable[str]) -> str:
    options = tuple(allowed)
    if value not in options:
        raise CapError(f"{path} {value!r} is not one of {', '.join(options)}")
    return value


def _datetime(value: str, path: str) -> datetime:
    if not _DATETIME_RE.match(value):
        raise CapError(
            f"{path} {value!r} is not a CAP date-time (YYYY-MM-DDThh:mm:ss with an offset such as +09:00)"
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CapError(f"{path} {value!r} is not a valid date-time: {exc}") from exc
    return parsed


def _value_pair(el: Element, path: str) -> tuple[str, str]:
    name = _required(el, path, "valueName")
    value = _optional(el, path, "value")
    if not _children(el, "value"):
        raise CapError(f"{path}/value is missing")
    return name, value or ""


def _references(text: str, path: str) -> tuple[CapReference, ...]:
    refs: list[CapReference] = []
    for i, entry in enumerate(text.split(), start=1):
        parts = entry.split(",")
        if len(parts) != 3 or not all(parts):
            raise CapError(f"{path} entry {i} {entry!r} is not 'sender,identifier,sent'")
        refs.append(CapReference(parts[0], parts[1], _datetime(parts[2], f"{path} entry {i} sent")))
    return tuple(refs)


def _number(text: str, path: str, what: str) -> float:
    if not _FLOAT_RE.match(text):
        raise CapError(f"{path}: {what} {text!r} is not a number")
    value = float(text)
    if not math.isfinite(value):
        raise CapError(f"{path}: {what} {text!r} is not a finite number")
    return value


def _pair(text: str, path: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) != 2:
        raise CapError(f"{path}: {text!r} is not a 'lat,lon' pair")
    lat = _number(parts[0], path, "latitude")
    lon = _number(parts[1], path, "longitude")
    problem = lat_lon_problem(lat, lon)
    if problem is not None:
        raise CapError(f"{path}: {problem}")
    return lat, lon


def _circle(text: str, path: str) -> CapCircle:
    parts = text.split()
    if len(parts) != 2:
        raise CapError(f"{path} {text!r} is not 'lat,lon radius_km'")
    lat, lon = _pair(parts[0], path)
    radius = _number(parts[1], path, "radius")
    if radius < 0:
        raise CapError(f"{path}: radius {parts[1]!r} km is negative")
    return CapCircle(lat, lon, radius)


def _polygon(text: str, path: str) -> CapPolygon:
    tokens = text.split()
    if len(tokens) > MAX_POLYGON_POINTS:
        raise CapError(f"{path} has {len(tokens)} points; the limit is {MAX_POLYGON_POINTS}")
    if len(tokens) < 4:
        raise CapError(f"{path} has {len(tokens)} points; a CAP polygon needs at least 4 (a closed ring)")
    points = tuple(_pair(token, f"{path} point {i}") for i, token in enumerate(tokens, start=1))
    if points[0] != points[-1]:
        raise CapError(
            f"{path} is not closed: the first point {tokens[0]} differs from the last {tokens[-1]}"
        )
    polygon = CapPolygon(points)
    try:
        polygon.to_geo()
    except ValueError as exc:
        raise CapError(f"{path}: {exc}") from exc
    return polygon


# ---------------------------------------------------------------- building


_SERVICE_CATEGORIES: Final[Mapping[Service, tuple[str, ...]]] = {
    Service.EMERGENCY_VIDEO_112: ("Security",),
    Service.DISPATCH_112: ("Security",),
    Service.DISPATCH_119: ("Fire", "Rescue"),
    Service.DISASTER_RESPONSE: ("Safety",),
    Service.VULNERABLE_SOS: ("Rescue",),
}
_SERVICE_EVENTS: Final[Mapping[Service, str]] = {
    Service.EMERGENCY_VIDEO_112: "112 emergency video support",
    Service.DISPATCH_112: "112 police dispatch support",
    Service.DISPATCH_119: "119 fire and rescue dispatch support",
    Service.DISASTER_RESPONSE: "Disaster response support",
    Service.VULNERABLE_SOS: "Vulnerable person SOS",
}
_SEVERITY_BY_PRIORITY: Final[Mapping[int, str]] = {
    1: "Extreme",
    2: "Severe",
    3: "Moderate",
    4: "Minor",
    5: "Minor",
}
_EVENT_LABELS: Final[Mapping[str, str]] = {
    "share.created": "video shared",
    "share.updated": "video share extended",
    "share.revoked": "video share ended",
    "incident.updated": "incident updated",
    "incident.closed": "incident closed",
    "report.created": "report",
    "alert.received": "alert relayed",
}
_RESTRICTION: Final = (
    "For the addressed emergency service only. Linked video and images are personal data: "
    "view for the stated purpose, do not redistribute."
)


def format_cap_datetime(value: datetime) -> str:
    """CAP form of a time: seconds precision with an explicit offset (the OASIS XSD's pattern)."""
    if value.tzinfo is None:
        raise ValueError("CAP times must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def share_message_identifier(share_id: str) -> str:
    """Identifier of the CAP message announcing a share (referenced by later updates and cancels)."""
    return _clean_id(f"share-{share_id}")


def _clean_id(value: str) -> str:
    cleaned = _FORBIDDEN_ID_CHARS.sub("_", value)
    return cleaned or "_"


def _xml_text(value: str) -> str:
    return _XML_INVALID_CHARS.sub("", value)


def _sub(parent: Element, name: str, text: str | None = None) -> Element:
    child = ET.SubElement(parent, f"{{{CAP_NS}}}{name}")
    if text is not None:
        child.text = _xml_text(text)
    return child


def _coord(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _msg_type(event: OutboundEvent) -> MsgType:
    if event.type == "share.revoked":
        return "Cancel"
    if event.type in ("share.updated", "incident.updated", "incident.closed"):
        return "Update"
    return "Alert"


def _references_for(event: OutboundEvent, sender: str) -> list[str]:
    refs: list[str] = []
    if event.type != "share.created" and event.share is not None:
        refs.append(
            f"{sender},{share_message_identifier(event.share.id)},{format_cap_datetime(event.share.created_at)}"
        )
    if event.type == "alert.received" and event.alert:
        ident, origin, sent = (event.alert.get(k) for k in ("identifier", "sender", "sent"))
        if isinstance(ident, str) and isinstance(origin, str) and isinstance(sent, str):
            try:
                sent_at = datetime.fromisoformat(sent)
            except ValueError:
                sent_at = None
            if sent_at is not None and sent_at.tzinfo is not None:
                refs.append(f"{_clean_id(origin)},{_clean_id(ident)},{format_cap_datetime(sent_at)}")
    return refs


def _description(event: OutboundEvent) -> str:
    inc = event.incident
    lines = [inc.title]
    if inc.exercise:
        lines.insert(0, "EXERCISE - NOT A REAL INCIDENT")
    if inc.location.address:
        lines.append(f"Location: {inc.location.address}")
    lines.append(f"Position: {_coord(inc.location.lat)},{_coord(inc.location.lon)}")
    lines.append(f"Priority: {inc.priority} (1 highest); status: {inc.status.value}")
    if inc.units:
        lines.append(f"Units: {', '.join(inc.units)}")
    if event.cameras:
        lines.append("Cameras: " + "; ".join(f"{c.id} {c.name}" for c in event.cameras))
    if event.facilities:
        lines.append(
            "Nearby facilities: "
            + "; ".join(
                f"{f.name} ({f.kind}" + (f", {f.distance_m:.0f} m)" if f.distance_m is not None else ")")
                for f in event.facilities
            )
        )
    if event.report is not None:
        lines.append(f"Report ({event.report.kind}) by {event.report.created_by}: {event.report.note}")
    if event.alert:
        headline = event.alert.get("headline") or event.alert.get("event")
        if isinstance(headline, str) and headline:
            lines.append(f"Relayed alert: {headline}")
    if event.note:
        lines.append(f"Note: {event.note}")
    return "\n".join(lines)


def _instruction(event: OutboundEvent) -> str | None:
    share = event.share
    if share is None:
        return None
    if event.type == "share.revoked" or share.revoked_at is not None:
        return "Video access for this incident has ended; the links no longer work."
    return (
        f"Live video from {len(share.camera_ids)} camera(s) is available until "
        f"{format_cap_datetime(share.expires_at)} (purpose: {share.purpose}). "
        + (
            "Open the share page (text/html resource) in any current browser to watch every camera; "
            if share.viewer_url
            else ""
        )
        + "the other resource links play in any player that reads MPEG-TS over HTTP."
    )


def _parameters(event: OutboundEvent) -> list[tuple[str, str]]:
    inc = event.incident
    params = [
        ("goldentime:event-type", event.type),
        ("goldentime:event-id", event.id),
        ("goldentime:sequence", str(event.sequence)),
        ("goldentime:incident-id", inc.id),
        ("goldentime:service", inc.service.value),
        ("goldentime:priority", str(inc.priority)),
        ("goldentime:incident-status", inc.status.value),
    ]
    if inc.external_id:
        params.append(("goldentime:external-id", inc.external_id))
    if event.share is not None:
        params.append(("goldentime:share-id", event.share.id))
        if event.share.viewer_url and event.share.revoked_at is None and event.type != "share.revoked":
            params.append(("goldentime:viewer-url", event.share.viewer_url))
        params.append(("goldentime:share-status", event.share.status.value))
        params.append(("goldentime:share-expires", format_cap_datetime(event.share.expires_at)))
    if event.report is not None:
        params.append(("goldentime:report-id", event.report.id))
    return params


def _resources(event: OutboundEvent) -> list[tuple[str, str, str]]:
    """(description, mime type, uri) of every link the event carries."""
    out: list[tuple[str, str, str]] = []
    share = event.share
    if share is not None and event.type != "share.revoked" and share.revoked_at is None:
        if share.viewer_url:
            out.append(("Live video of every shared camera, in a browser", "text/html", share.viewer_url))
        names = {c.id: c.name for c in event.cameras}
        for key, url in share.urls.items():
            is_image = url.split("?", 1)[0].lower().endswith((".jpg", ".jpeg"))
            label = f"{names[key]} ({key})" if key in names else key
            if is_image:
                out.append((f"Snapshot: {label}", "image/jpeg", url))
            else:
                out.append((f"Live video: {label}", "video/mp2t", url))
    if event.report is not None and event.report.snapshot_url:
        cam = event.report.camera_id or "camera"
        out.append((f"Snapshot from {cam}", "image/jpeg", event.report.snapshot_url))
    return out


def _area(info: Element, event: OutboundEvent) -> None:
    inc = event.incident
    area = _sub(info, "area")
    _sub(area, "areaDesc", inc.location.address or inc.title)
    polygons: list[str] = []
    circles: list[str] = []
    spec = inc.area or {}
    poly = spec.get("polygon")
    circle = spec.get("circle")
    if isinstance(poly, list) and len(poly) >= 3:
        ring = [(float(p[0]), float(p[1])) for p in poly]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        polygons.append(" ".join(f"{_coord(lat)},{_coord(lon)}" for lat, lon in ring))
    elif isinstance(circle, dict):
        radius_km = float(circle["radius_m"]) / 1000.0
        circles.append(f"{_coord(float(circle['lat']))},{_coord(float(circle['lon']))} {_coord(radius_km)}")
    if not polygons and not circles:
        circles.append(f"{_coord(inc.location.lat)},{_coord(inc.location.lon)} {_coord(INCIDENT_CIRCLE_KM)}")
    for text in polygons:
        _sub(area, "polygon", text)
    for text in circles:
        _sub(area, "circle", text)


def build_cap(event: OutboundEvent, sender: str, *, sender_name: str | None = None) -> bytes:
    """Render ``event`` as a CAP 1.2 alert (UTF-8 XML with declaration) from ``sender``.

    ``sender`` must be a CAP sender identifier (no spaces or commas), e.g. ``goldentime@city.example``.
    """
    if not sender or _FORBIDDEN_ID_CHARS.search(sender):
        raise ValueError(f"CAP sender {sender!r} must be non-empty without spaces, commas, '<' or '&'")
    inc = event.incident
    if event.type == "share.created" and event.share is not None:
        identifier = share_message_identifier(event.share.id)
        sent = event.share.created_at
    else:
        identifier = _clean_id(event.id)
        sent = event.occurred_at

    root = Element(f"{{{CAP_NS}}}alert")
    _sub(root, "identifier", identifier)
    _sub(root, "sender", sender)
    _sub(root, "sent", format_cap_datetime(sent))
    _sub(root, "status", "Exercise" if inc.exercise else "Actual")
    _sub(root, "msgType", _msg_type(event))
    _sub(root, "source", "GoldenTime")
    _sub(root, "scope", "Restricted")
    _sub(root, "restriction", _RESTRICTION)
    if inc.exercise:
        _sub(root, "note", "Exercise: not a real incident.")
    elif event.note:
        _sub(root, "note", event.note)
    refs = _references_for(event, sender)
    if refs:
        _sub(root, "references", " ".join(refs))
    _sub(root, "incidents", _clean_id(inc.id))

    info = _sub(root, "info")
    categories = list(_SERVICE_CATEGORIES.get(inc.service, ("Other",)))
    if event.report is not None and event.report.kind.lower() == "fire" and "Fire" not in categories:
        categories.insert(0, "Fire")
    for category in categories:
        _sub(info, "category", category)
    _sub(info, "event", _SERVICE_EVENTS.get(inc.service, "Incident"))
    closed = event.type == "incident.closed" or inc.closed_at is not None
    if closed:
        _sub(info, "responseType", "AllClear")
    elif event.share is not None and event.type != "share.revoked":
        _sub(info, "responseType", "Monitor")
    _sub(info, "urgency", "Past" if closed else "Immediate")
    _sub(info, "severity", _SEVERITY_BY_PRIORITY.get(inc.priority, "Unknown"))
    _sub(info, "certainty", "Observed")
    if event.share is not None and event.type != "share.revoked":
        _sub(info, "expires", format_cap_datetime(event.share.expires_at))
    _sub(info, "senderName", sender_name or "GoldenTime control room")
    prefix = "EXERCISE: " if inc.exercise else ""
    _sub(info, "headline", f"{prefix}{inc.title} - {_EVENT_LABELS.get(event.type, event.type)}"[:160])
    _sub(info, "description", _description(event))
    instruction = _instruction(event)
    if instruction:
        _sub(info, "instruction", instruction)
    for name, value in _parameters(event):
        param = _sub(info, "parameter")
        _sub(param, "valueName", name)
        _sub(param, "value", value)
    for desc, mime, uri in _resources(event):
        res = _sub(info, "resource")
        _sub(res, "resourceDesc", desc)
        _sub(res, "mimeType", mime)
        _sub(res, "uri", uri)
    _area(info, event)
    return cast(bytes, ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS))
