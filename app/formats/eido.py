"""NENA EIDO (Emergency Incident Data Object, NENA-STA-021.1) JSON for outbound events.

One EIDO describes the incident as the control room knows it when the event occurs. Mapping:

- the EIDO ``$id`` is the incident tracking identifier
  ``urn:emergency:uid:incidentid:<incident id>:<sender domain>``; ``lastUpdateTimeStamp`` is the
  event time; ``issuingElementIdentification`` is ``sender_uri``;
- ``agencyComponent``: the issuing control room (``agency_name``) and, when given, the recipient;
- ``incidentComponent``: type, status (drills carry ``exercise`` in ``incidentStatusInternalText`` and an
  ``EXERCISE`` prefix), priority, references to location, notes and media;
- ``locationComponent``: the incident position (and its alert area) as PIDF-LO in ``locationByValue``;
- ``mediaComponent``: every shared video link (``video/mp2t``) and snapshot (``image/jpeg``) — the
  EIDO element for "links to external media", referenced from the incident's ``mediaReferences``;
- ``additionalDataComponent``: the share's terms (``urlPurpose`` ``goldentime-share``, JSON by value)
  and the event envelope (``urlPurpose`` ``goldentime-event``: type, id, sequence, incident id) so a
  receiver can order and de-duplicate EIDOs exactly as JSON envelopes;
- ``notesComponent``: a human-readable summary (HTML-escaped text).
"""

from __future__ import annotations

import functools
import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from app.domain.enums import AgencyKind, IncidentStatus, Service
from app.formats.api import OutboundEvent
from app.formats.schemas import EIDO_OPENAPI_PATH

EIDO_CONTENT_TYPE: Final = "application/json"
EIDO_SCHEMA_NAME: Final = "EmergencyIncidentDataObjectType"
_SCHEMA_BASE: Final = "https://goldentime.invalid/schemas/eido/openapi.yaml"

_INCIDENT_TYPES: Final[dict[Service, str]] = {
    Service.EMERGENCY_VIDEO_112: "Police",
    Service.DISPATCH_112: "Police",
    Service.DISPATCH_119: "Fire",
    Service.DISASTER_RESPONSE: "Disaster",
    Service.VULNERABLE_SOS: "Welfare",
}
_AGENCY_TYPES: Final[dict[AgencyKind, str]] = {
    AgencyKind.POLICE: "police",
    AgencyKind.FIRE: "fire",
    AgencyKind.DISASTER: "emergency_management",
    AgencyKind.VULNERABLE: "social_services",
}

_PIDF: Final = "urn:ietf:params:xml:ns:pidf"
_GP: Final = "urn:ietf:params:xml:ns:pidf:geopriv10"
_DM: Final = "urn:ietf:params:xml:ns:pidf:data-model"
_GML: Final = "http://www.opengis.net/gml"
_GS: Final = "http://www.opengis.net/pidflo/1.0"
_EPSG4326: Final = "urn:ogc:def:crs:EPSG::4326"
_UOM_METRE: Final = "urn:ogc:def:uom:EPSG::9001"


def _ts(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("EIDO times must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def sender_domain(sender_uri: str) -> str:
    """The domain part of a sender identity (``ops@city.example``, ``https://gt.city.example/``, …)."""
    text = sender_uri.strip()
    if "://" in text:
        text = urlsplit(text).hostname or text
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    if text.startswith("urn:"):
        text = text.rsplit(":", 1)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9.\-]", "-", text)
    return cleaned or "goldentime.invalid"


def incident_tracking_id(incident_id: str, sender_uri: str) -> str:
    """NENA incident tracking identifier for a GoldenTime incident."""
    return f"urn:emergency:uid:incidentid:{incident_id}:{sender_domain(sender_uri)}"


def _coord(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _pidf(entity: str, shape: ET.Element, at: datetime) -> str:
    presence = ET.Element(f"{{{_PIDF}}}presence", {"entity": entity})
    device = ET.SubElement(presence, f"{{{_DM}}}device", {"id": "incident"})
    geopriv = ET.SubElement(device, f"{{{_GP}}}geopriv")
    info = ET.SubElement(geopriv, f"{{{_GP}}}location-info")
    info.append(shape)
    ET.SubElement(geopriv, f"{{{_GP}}}usage-rules")
    ET.SubElement(geopriv, f"{{{_GP}}}method").text = "Derived"
    ET.SubElement(device, f"{{{_DM}}}timestamp").text = _ts(at)
    return ET.tostring(presence, encoding="unicode")


def _point(lat: float, lon: float) -> ET.Element:
    point = ET.Element(f"{{{_GML}}}Point", {"srsName": _EPSG4326})
    ET.SubElement(point, f"{{{_GML}}}pos").text = f"{_coord(lat)} {_coord(lon)}"
    return point


def _area_shape(area: dict[str, Any]) -> ET.Element | None:
    circle = area.get("circle")
    polygon = area.get("polygon")
    if isinstance(circle, dict):
        el = ET.Element(f"{{{_GS}}}Circle", {"srsName": _EPSG4326})
        ET.SubElement(
            el, f"{{{_GML}}}pos"
        ).text = f"{_coord(float(circle['lat']))} {_coord(float(circle['lon']))}"
        ET.SubElement(el, f"{{{_GS}}}radius", {"uom": _UOM_METRE}).text = _coord(float(circle["radius_m"]))
        return el
    if isinstance(polygon, list) and len(polygon) >= 3:
        ring = [(float(p[0]), float(p[1])) for p in polygon]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        el = ET.Element(f"{{{_GML}}}Polygon", {"srsName": _EPSG4326})
        exterior = ET.SubElement(el, f"{{{_GML}}}exterior")
        linear = ET.SubElement(exterior, f"{{{_GML}}}LinearRing")
        ET.SubElement(linear, f"{{{_GML}}}posList").text = " ".join(
            f"{_coord(lat)} {_coord(lon)}" for lat, lon in ring
        )
        return el
    return None


def _media(event: OutboundEvent) -> Iterator[tuple[str, str, str]]:
    """(uri, content type, label) for each link the event carries."""
    share = event.share
    if share is not None and event.type != "share.revoked" and share.revoked_at is None:
        if share.viewer_url:
            label = f"Live video of every shared camera in a browser, until {_ts(share.expires_at)}"
            yield share.viewer_url, "text/html", label
        names = {c.id: c.name for c in event.cameras}
        for key, url in share.urls.items():
            label = f"{names[key]} ({key})" if key in names else key
            if url.split("?", 1)[0].lower().endswith((".jpg", ".jpeg")):
                yield url, "image/jpeg", f"Snapshot: {label}"
            else:
                yield url, "video/mp2t", f"Live video: {label}, until {_ts(share.expires_at)}"
    if event.report is not None and event.report.snapshot_url:
        yield (
            event.report.snapshot_url,
            "image/jpeg",
            f"Snapshot from {event.report.camera_id or 'camera'} ({event.report.kind} report)",
        )


def _summary_html(event: OutboundEvent) -> str:
    inc = event.incident
    lines: list[str] = []
    if inc.exercise:
        lines.append("EXERCISE - NOT A REAL INCIDENT")
    lines.append(f"{inc.title} ({event.type})")
    if inc.location.address:
        lines.append(f"Location: {inc.location.address}")
    lines.append(f"Priority {inc.priority} (1 highest), status {inc.status.value}")
    if inc.units:
        lines.append(f"Units: {', '.join(inc.units)}")
    if event.cameras:
        lines.append("Cameras: " + "; ".join(f"{c.id} {c.name}" for c in event.cameras))
    if event.facilities:
        lines.append("Nearby facilities: " + "; ".join(f"{f.name} ({f.kind})" for f in event.facilities))
    if event.share is not None:
        if event.type == "share.revoked" or event.share.revoked_at is not None:
            lines.append("Video access has ended.")
        else:
            lines.append(f"Video shared until {_ts(event.share.expires_at)} for: {event.share.purpose}")
    if event.report is not None:
        lines.append(f"Report ({event.report.kind}) by {event.report.created_by}: {event.report.note}")
    if event.alert:
        headline = event.alert.get("headline") or event.alert.get("event")
        if isinstance(headline, str) and headline:
            lines.append(f"Relayed alert: {headline}")
    if event.note:
        lines.append(f"Note: {event.note}")
    return "<br>".join(html.escape(line) for line in lines)


def build_eido(
    event: OutboundEvent,
    agency_name: str,
    sender_uri: str,
    *,
    recipient_id: str | None = None,
    recipient_name: str | None = None,
    recipient_kind: AgencyKind | None = None,
) -> dict[str, Any]:
    """Render ``event`` as an EIDO document (a JSON-ready dict).

    ``agency_name`` and ``sender_uri`` identify the issuing control room (the EIDO's owning agency and
    issuing element); the optional ``recipient_*`` add the receiving agency to ``agencyComponent``.
    """
    inc = event.incident
    at = _ts(event.occurred_at)
    domain = sender_domain(sender_uri)
    tracking = incident_tracking_id(inc.id, sender_uri)
    sender_agency = sender_uri
    agency_ref = {"$ref": sender_agency}

    def prologue(component_id: str) -> dict[str, Any]:
        return {"$id": component_id, "lastUpdateTimeStamp": at, "updatedByAgencyReference": agency_ref}

    def cid(kind: str, n: int | str = 1) -> str:
        return f"urn:emergency:uid:{kind}:{inc.id}-{event.sequence}-{n}:{domain}"

    agencies: list[dict[str, Any]] = [
        {
            **prologue(sender_agency),
            "agencyJcard": json.dumps(
                ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", agency_name]]]
            ),
            "agencyRoleDescriptionRegistryText": ["Monitoring"],
            "agencyType": ["cctv_control_centre"],
            "incidentOwningAgencyIndicator": True,
        }
    ]
    if recipient_id:
        recipient: dict[str, Any] = {
            **prologue(recipient_id),
            "agencyRoleDescriptionRegistryText": ["Responding"],
            "agencyType": [_AGENCY_TYPES[recipient_kind] if recipient_kind else "responder"],
            "incidentOwningAgencyIndicator": False,
        }
        if recipient_name:
            recipient["agencyJcard"] = json.dumps(
                ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", recipient_name]]]
            )
        agencies.append(recipient)

    entity = f"pres:{inc.id}@{domain}"
    location_id = cid("locationid", "point")
    locations: list[dict[str, Any]] = [
        {
            **prologue(location_id),
            "locationTypeDescriptionRegistryText": "Incident",
            "locationByValue": _pidf(entity, _point(inc.location.lat, inc.location.lon), event.occurred_at),
            **({"locationDescriptionText": inc.location.address} if inc.location.address else {}),
        }
    ]
    if inc.area:
        shape = _area_shape(inc.area)
        if shape is not None:
            locations.append(
                {
                    **prologue(cid("locationid", "area")),
                    "locationTypeDescriptionRegistryText": "Area",
                    "locationByValue": _pidf(entity, shape, event.occurred_at),
                    "locationDescriptionText": "Alert or search area",
                }
            )

    media = [
        {**prologue(cid("mediaid", i)), "uri": uri, "contentType": ctype, "label": label}
        for i, (uri, ctype, label) in enumerate(_media(event), start=1)
    ]

    envelope = {
        "type": event.type,
        "id": event.id,
        "sequence": event.sequence,
        "incident_id": inc.id,
        "occurred_at": at,
        "exercise": inc.exercise,
    }
    additional: list[dict[str, Any]] = [
        {
            **prologue(cid("additionaldataid", "event")),
            "urlPurpose": "goldentime-event",
            "additionalDataByValue": json.dumps(envelope, separators=(",", ":")),
        }
    ]
    if event.share is not None:
        share = event.share
        additional.append(
            {
                **prologue(cid("additionaldataid", "share")),
                "urlPurpose": "goldentime-share",
                "additionalDataByValue": json.dumps(
                    {
                        "share_id": share.id,
                        "status": share.status.value,
                        "purpose": share.purpose,
                        "camera_ids": share.camera_ids,
                        "created_at": _ts(share.created_at),
                        "expires_at": _ts(share.expires_at),
                        "revoked_at": _ts(share.revoked_at) if share.revoked_at else None,
                        "urls": share.urls if event.type != "share.revoked" else {},
                        "viewer_url": share.viewer_url if event.type != "share.revoked" else None,
                    },
                    separators=(",", ":"),
                    ensure_ascii=False,
                ),
            }
        )

    notes = [{**prologue(cid("noteid", "summary")), "notesActionComments": _summary_html(event)}]

    status_internal = [inc.status.value]
    if inc.exercise:
        status_internal.append("exercise")
    type_text = inc.title if not inc.exercise else f"EXERCISE: {inc.title}"
    incident: dict[str, Any] = {
        **prologue(cid("incidentid", "info")),
        "incidentTypeCommonRegistryText": _INCIDENT_TYPES.get(inc.service, "Other"),
        "incidentTypeInternalCode": inc.service.value,
        "incidentTypeInternalText": type_text,
        "incidentStatusCommonRegistryText": ["Closed" if inc.status == IncidentStatus.CLOSED else "Active"],
        "incidentStatusInternalText": status_internal,
        "internalIncidentId": inc.id,
        "incidentCommonPriorityNumber": inc.priority,
        "incidentPriorityInternalText": f"P{inc.priority}",
        "locationReference": [{"$ref": loc["$id"]} for loc in locations],
        "notesReference": [{"$ref": n["$id"]} for n in notes],
    }
    if inc.external_id:
        incident["documentIdentification"] = [inc.external_id]
    if media:
        incident["mediaReferences"] = [{"$ref": m["$id"]} for m in media]

    doc: dict[str, Any] = {
        "$id": tracking,
        "lastUpdateTimeStamp": at,
        "updatedByAgencyReference": agency_ref,
        "eidoVersion": "1.0",
        "issuingElementIdentification": sender_uri,
        "incidentComponent": incident,
        "agencyComponent": agencies,
        "locationComponent": locations,
        "notesComponent": notes,
        "additionalDataComponent": additional,
    }
    if media:
        doc["mediaComponent"] = media
    return doc


def eido_envelope(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The GoldenTime event envelope (type, id, sequence, incident_id, …) inside an EIDO, if any."""
    for component in doc.get("additionalDataComponent") or []:
        if isinstance(component, dict) and component.get("urlPurpose") == "goldentime-event":
            try:
                value = json.loads(component.get("additionalDataByValue") or "")
            except (TypeError, ValueError):
                return None
            return value if isinstance(value, dict) else None
    return None


def eido_media_urls(doc: dict[str, Any]) -> list[str]:
    """Every ``mediaComponent`` URI of an EIDO document."""
    return [
        str(m["uri"])
        for m in doc.get("mediaComponent") or []
        if isinstance(m, dict) and isinstance(m.get("uri"), str)
    ]


# ---------------------------------------------------------------- validation


def _fix_schema(node: Any) -> Any:
    """Repair the upstream typo ``minItems: 1,`` (a string) so the validator does not crash."""
    if isinstance(node, dict):
        fixed = {k: _fix_schema(v) for k, v in node.items()}
        for key in ("minItems", "maxItems"):
            value = fixed.get(key)
            if isinstance(value, str):
                digits = re.sub(r"\D", "", value)
                fixed[key] = int(digits) if digits else 0
        return fixed
    if isinstance(node, list):
        return [_fix_schema(v) for v in node]
    return node


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.match(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$", value))


def _is_uri_reference(value: object) -> bool:
    return not isinstance(value, str) or not re.search(r"\s", value)


@functools.cache
def _validator() -> Any:
    import jsonschema
    import yaml
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    with EIDO_OPENAPI_PATH.open("rb") as fh:
        openapi = _fix_schema(yaml.safe_load(fh))

    # no retrieval: the NIEM components the schema points to are not bundled, and a document that
    # uses them is reported as not validatable instead of fetching anything
    registry: Registry[Any] = Registry().with_resource(_SCHEMA_BASE, DRAFT202012.create_resource(openapi))
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(_is_datetime)
    checker.checks("uri")(_is_uri)
    checker.checks("uri-reference")(_is_uri_reference)
    schema = {"$ref": f"{_SCHEMA_BASE}#/components/schemas/{EIDO_SCHEMA_NAME}"}
    return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=checker)


def validate_eido(doc: Any) -> list[str]:
    """Problems with ``doc`` against ``EmergencyIncidentDataObjectType`` (empty when valid)."""
    from referencing.exceptions import Unresolvable

    validator = _validator()
    try:
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    except Unresolvable as exc:
        return [f"the document uses a schema that is not bundled: {exc}"]
    problems: list[str] = []
    for error in errors:
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        problems.append(f"{where}: {error.message}")
    return problems
