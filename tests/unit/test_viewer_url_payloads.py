"""Every outbound format carries the share page (``viewer_url``) while the share is active."""

from __future__ import annotations

import json

from app.domain.enums import DeliveryFormat
from app.formats.api import OutboundEvent
from app.formats.cap import parse_cap
from app.formats.eido import eido_media_urls
from app.formats.payloads import adapter_for
from tests.outbound_samples import make_event
from tests.unit.test_formats_contract import AGENCY

VIEWER = "https://goldentime.city.example/view/tok-1"


def _render(event: OutboundEvent, fmt: DeliveryFormat) -> str:
    return adapter_for(fmt).render(event, AGENCY).body.decode()


def test_json_cap_and_eido_carry_the_viewer_url() -> None:
    event = make_event("share.created")
    assert event.share is not None and event.share.viewer_url == VIEWER
    body = json.loads(_render(event, DeliveryFormat.JSON))
    assert body["data"]["share"]["viewer_url"] == VIEWER
    cap = parse_cap(_render(event, DeliveryFormat.CAP).encode())
    html = [r for i in cap.infos for r in i.resources if r.mime_type == "text/html"]
    assert [r.uri for r in html] == [VIEWER]
    eido = json.loads(_render(event, DeliveryFormat.EIDO))
    assert VIEWER in eido_media_urls(eido)


def test_a_revoked_share_carries_no_viewer_url() -> None:
    event = make_event("share.revoked")
    assert VIEWER not in _render(event, DeliveryFormat.JSON)
    assert VIEWER not in _render(event, DeliveryFormat.CAP)
    assert VIEWER not in _render(event, DeliveryFormat.EIDO)
