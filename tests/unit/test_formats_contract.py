"""One contract for every payload adapter in the registry (DESIGN §3).

Each adapter renders every outbound event type for a live incident and a drill, with and without a
share and a report; the output must be well-formed, carry the event's identity, and validate against
the format's standard (CAP 1.2 XSD, EIDO schema).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from app.domain.enums import AgencyKind, DeliveryFormat
from app.formats.api import EventType, OutboundEvent
from app.formats.cap import parse_cap
from app.formats.eido import build_eido, eido_envelope, eido_media_urls, validate_eido
from app.formats.payloads import ADAPTERS, AgencyContext, PayloadAdapter, RenderedPayload, adapter_for
from app.formats.schemas import validate_cap_xml
from tests.outbound_samples import EVENT_TYPES, all_events, make_event

AGENCY = AgencyContext(
    agency_id="AG-FIRE",
    name="Jung-gu 119 room",
    kind=AgencyKind.FIRE,
    sender_id="goldentime@city.example",
    sender_name="City integrated control centre",
)
EVENTS = all_events()


class Seen:
    """What a receiver can read back from a rendered payload, whatever the format."""

    def __init__(
        self, event_id: str, event_type: str, sequence: int, incident_id: str, drill: bool, urls: list[str]
    ):
        self.event_id = event_id
        self.event_type = event_type
        self.sequence = sequence
        self.incident_id = incident_id
        self.drill = drill
        self.urls = urls


def _read_json(payload: RenderedPayload) -> Seen:
    assert payload.content_type == "application/json"
    doc = json.loads(payload.body)
    assert set(doc) == {"type", "id", "occurred_at", "sequence", "data"}
    assert set(doc["data"]) == {"incident", "cameras", "facilities", "share", "report", "alert", "note"}
    urls = list((doc["data"]["share"] or {}).get("urls", {}).values())
    if (doc["data"]["share"] or {}).get("viewer_url"):
        urls.append(doc["data"]["share"]["viewer_url"])
    if doc["data"]["report"] and doc["data"]["report"]["snapshot_url"]:
        urls.append(doc["data"]["report"]["snapshot_url"])
    return Seen(
        doc["id"],
        doc["type"],
        doc["sequence"],
        doc["data"]["incident"]["id"],
        doc["data"]["incident"]["exercise"],
        urls,
    )


def _read_cap(payload: RenderedPayload) -> Seen:
    assert payload.content_type == "application/cap+xml"
    problems = validate_cap_xml(payload.body)
    assert problems == [], problems
    alert = parse_cap(payload.body)  # our own hardened parser reads our own output
    info = alert.infos[0]
    assert info.areas and info.areas[0].to_geo()
    return Seen(
        info.parameter("goldentime:event-id") or "",
        info.parameter("goldentime:event-type") or "",
        int(info.parameter("goldentime:sequence") or 0),
        info.parameter("goldentime:incident-id") or "",
        alert.is_drill,
        [r.uri for r in info.resources if r.uri],
    )


def _read_eido(payload: RenderedPayload) -> Seen:
    assert payload.content_type == "application/json"
    doc = json.loads(payload.body)
    problems = validate_eido(doc)
    assert problems == [], problems
    envelope = eido_envelope(doc)
    assert envelope is not None
    drill = "exercise" in doc["incidentComponent"]["incidentStatusInternalText"]
    assert drill == envelope["exercise"]
    return Seen(
        envelope["id"],
        envelope["type"],
        envelope["sequence"],
        envelope["incident_id"],
        drill,
        eido_media_urls(doc),
    )


READERS: dict[DeliveryFormat, Callable[[RenderedPayload], Seen]] = {
    DeliveryFormat.JSON: _read_json,
    DeliveryFormat.CAP: _read_cap,
    DeliveryFormat.EIDO: _read_eido,
}


def test_registry_covers_every_format() -> None:
    assert set(ADAPTERS) == set(DeliveryFormat)
    assert set(READERS) == set(ADAPTERS), "every adapter needs a reader in this contract test"
    for fmt, adapter in ADAPTERS.items():
        assert adapter.name == fmt
        assert adapter_for(fmt) is adapter
        assert adapter_for(fmt.value) is adapter


def test_unknown_format_is_a_precise_error() -> None:
    with pytest.raises(KeyError, match="no payload adapter for format 'fax'"):
        adapter_for("fax")


@pytest.mark.parametrize("adapter", list(ADAPTERS.values()), ids=[f.value for f in ADAPTERS])
@pytest.mark.parametrize(("label", "event"), EVENTS, ids=[label for label, _ in EVENTS])
def test_adapter_contract(adapter: PayloadAdapter, label: str, event: OutboundEvent) -> None:
    payload = adapter.render(event, AGENCY)
    assert isinstance(payload.body, bytes) and payload.body
    payload.body.decode("utf-8")
    assert adapter.render(event, AGENCY) == payload, "rendering must be deterministic (pure)"

    seen = READERS[adapter.name](payload)
    assert seen.event_id == event.id
    assert seen.event_type == event.type
    assert seen.sequence == event.sequence
    assert seen.incident_id == event.incident.id
    assert seen.drill == event.incident.exercise

    expected_urls: set[str] = set()
    if event.share is not None and (event.type != "share.revoked" or adapter.name == DeliveryFormat.JSON):
        expected_urls |= set(event.share.urls.values())
        if event.share.viewer_url:  # the share page, in every format
            expected_urls.add(event.share.viewer_url)
    if event.report is not None and event.report.snapshot_url:
        expected_urls.add(event.report.snapshot_url)
    assert set(seen.urls) == expected_urls


def test_cap_message_types_and_references() -> None:
    adapter = adapter_for(DeliveryFormat.CAP)

    def read(event: OutboundEvent) -> Any:
        return parse_cap(adapter.render(event, AGENCY).body)

    created = read(make_event("share.created"))
    assert created.msg_type == "Alert" and created.status == "Actual" and created.references == ()
    checks: tuple[tuple[EventType, str], ...] = (
        ("share.updated", "Update"),
        ("incident.updated", "Update"),
        ("incident.closed", "Update"),
        ("share.revoked", "Cancel"),
    )
    for event_type, msg_type in checks:
        later = read(make_event(event_type, sequence=2))
        assert later.msg_type == msg_type
        # later messages about the share point at the message that announced it
        assert [(r.sender, r.identifier, r.sent) for r in later.references] == [
            (created.sender, created.identifier, created.sent)
        ]
    relayed = read(make_event("alert.received", with_share=False))
    assert relayed.msg_type == "Alert"
    assert [(r.sender, r.identifier) for r in relayed.references] == [
        ("ndms@safekorea.example", "KR-NDMS-2026-0042")
    ]
    drill = read(make_event("share.created", exercise=True))
    assert drill.status == "Exercise" and drill.is_drill
    closed = read(make_event("incident.closed"))
    assert closed.infos[0].urgency == "Past" and "AllClear" in closed.infos[0].response_types


def test_cap_resources_carry_video_and_snapshot_types() -> None:
    alert = parse_cap(adapter_for("cap").render(make_event("report.created"), AGENCY).body)
    kinds = {(r.mime_type, r.uri) for r in alert.infos[0].resources}
    assert ("video/mp2t", "http://127.0.0.1:8765/media/tok-abc/CAM-0001.ts") in kinds
    assert ("image/jpeg", "http://127.0.0.1:8765/media/tok-abc/CAM-0001.jpg") in kinds
    assert "Fire" in alert.infos[0].categories


def test_cap_area_from_incident_area_or_location() -> None:
    adapter = adapter_for("cap")
    point = parse_cap(adapter.render(make_event(), AGENCY).body).infos[0].areas[0]
    assert [(c.lat, c.lon) for c in point.circles] == [(37.5665, 126.978)]
    assert 0 < point.circles[0].radius_km <= 0.2
    poly = parse_cap(
        adapter.render(
            make_event(area={"polygon": [[37.0, 127.0], [37.1, 127.0], [37.1, 127.1]]}), AGENCY
        ).body
    )
    ring = poly.infos[0].areas[0].polygons[0].points
    assert ring[0] == ring[-1] and len(ring) == 4
    circle = parse_cap(
        adapter.render(
            make_event(area={"circle": {"lat": 37.5, "lon": 127.0, "radius_m": 1500}}), AGENCY
        ).body
    )
    assert circle.infos[0].areas[0].circles[0].radius_km == 1.5


def test_cap_rejects_a_sender_with_spaces() -> None:
    from app.formats.cap import build_cap

    with pytest.raises(ValueError, match="CAP sender"):
        build_cap(make_event(), "control room")


def test_xsd_validator_catches_invalid_cap() -> None:
    body = adapter_for("cap").render(make_event(), AGENCY).body
    broken = body.replace(b"<status>Actual</status>", b"<status>Real</status>")
    assert any("status" in p for p in validate_cap_xml(broken))


def test_eido_video_links_are_media_components() -> None:
    doc = build_eido(make_event("share.created"), "Control centre", "goldentime@city.example")
    media = doc["mediaComponent"]
    assert {m["contentType"] for m in media} == {"video/mp2t", "text/html"}  # the TS links and the share page
    assert {r["$ref"] for r in doc["incidentComponent"]["mediaReferences"]} == {m["$id"] for m in media}
    assert doc["$id"] == "urn:emergency:uid:incidentid:INC-01JABCDEF:city.example"
    assert doc["issuingElementIdentification"] == "goldentime@city.example"
    ids = [
        c["$id"]
        for key, comps in doc.items()
        if key.endswith("Component") and isinstance(comps, list)
        for c in comps
    ]
    assert len(ids) == len(set(ids)), "component ids must be unique"


def test_eido_validator_reports_problems_precisely() -> None:
    doc = build_eido(make_event(), "Control centre", "goldentime@city.example")
    doc["lastUpdateTimeStamp"] = "yesterday"
    del doc["mediaComponent"][0]["uri"]
    doc["eidoVersion"] = "2.0"
    problems = validate_eido(doc)
    assert any(p.startswith("lastUpdateTimeStamp:") and "date-time" in p for p in problems)
    assert any(p.startswith("mediaComponent/0:") and "'uri'" in p for p in problems)
    assert any(p.startswith("eidoVersion:") for p in problems)


def test_eido_sample_from_nena_validates() -> None:
    from app.formats.schemas import SCHEMAS_DIR

    sample = json.loads((SCHEMAS_DIR / "eido-sample-call-transfer.json").read_text(encoding="utf-8"))
    assert validate_eido(sample) == []


def test_json_envelope_shape() -> None:
    event = make_event("share.created", exercise=True)
    doc = json.loads(adapter_for("json").render(event, AGENCY).body)
    assert doc["type"] == "share.created"
    assert doc["occurred_at"] == "2026-03-01T09:30:12.345000Z"
    assert doc["data"]["share"]["urls"]["CAM-0001"].endswith("/CAM-0001.ts")
    assert doc["data"]["incident"]["exercise"] is True


def test_every_event_type_is_covered() -> None:
    assert {e.type for _, e in EVENTS} == set(EVENT_TYPES)
