"""Outbound payload formats behind one small interface, in an explicit registry (DESIGN §3).

The outbox asks :func:`adapter_for` for the agency's :class:`~app.domain.enums.DeliveryFormat` and
calls ``render``; every adapter passes the shared contract test
(``tests/unit/test_formats_contract.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Protocol

from app.domain.enums import AgencyKind, DeliveryFormat
from app.formats.api import OutboundEvent
from app.formats.cap import CAP_CONTENT_TYPE, build_cap
from app.formats.eido import EIDO_CONTENT_TYPE, build_eido

JSON_CONTENT_TYPE: Final = "application/json"


@dataclass(frozen=True, slots=True)
class AgencyContext:
    """Who a payload is for, and who it is from.

    ``sender_id`` is the control room's identity on the wire: the CAP ``sender`` (no spaces or commas,
    e.g. ``goldentime@city.example``) and the EIDO issuing element and owning agency id.
    """

    agency_id: str
    name: str
    kind: AgencyKind
    sender_id: str = "goldentime@goldentime.invalid"
    sender_name: str = "GoldenTime control room"


@dataclass(frozen=True, slots=True)
class RenderedPayload:
    content_type: str
    body: bytes


class PayloadAdapter(Protocol):
    """Renders one outbound event for one agency in one wire format. Pure: no I/O, no clock."""

    @property
    def name(self) -> DeliveryFormat: ...

    def render(self, event: OutboundEvent, agency: AgencyContext) -> RenderedPayload: ...


def json_envelope(event: OutboundEvent) -> dict[str, Any]:
    """The ``json`` format's envelope: ``{type, id, occurred_at, sequence, data: {…}}``."""
    dumped = event.model_dump(mode="json")
    return {
        "type": dumped["type"],
        "id": dumped["id"],
        "occurred_at": dumped["occurred_at"],
        "sequence": dumped["sequence"],
        "data": {
            key: dumped[key]
            for key in ("incident", "cameras", "facilities", "share", "report", "alert", "note")
        },
    }


class JsonAdapter:
    @property
    def name(self) -> DeliveryFormat:
        return DeliveryFormat.JSON

    def render(self, event: OutboundEvent, agency: AgencyContext) -> RenderedPayload:
        body = json.dumps(json_envelope(event), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return RenderedPayload(JSON_CONTENT_TYPE, body)


class CapAdapter:
    @property
    def name(self) -> DeliveryFormat:
        return DeliveryFormat.CAP

    def render(self, event: OutboundEvent, agency: AgencyContext) -> RenderedPayload:
        return RenderedPayload(
            CAP_CONTENT_TYPE, build_cap(event, agency.sender_id, sender_name=agency.sender_name)
        )


class EidoAdapter:
    @property
    def name(self) -> DeliveryFormat:
        return DeliveryFormat.EIDO

    def render(self, event: OutboundEvent, agency: AgencyContext) -> RenderedPayload:
        doc = build_eido(
            event,
            agency.sender_name,
            agency.sender_id,
            recipient_id=agency.agency_id,
            recipient_name=agency.name,
            recipient_kind=agency.kind,
        )
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return RenderedPayload(EIDO_CONTENT_TYPE, body)


ADAPTERS: Final[Mapping[DeliveryFormat, PayloadAdapter]] = MappingProxyType(
    {adapter.name: adapter for adapter in (JsonAdapter(), CapAdapter(), EidoAdapter())}
)


def adapter_for(fmt: DeliveryFormat | str) -> PayloadAdapter:
    """The adapter for ``fmt``; ``KeyError`` naming the known formats when there is none."""
    try:
        return ADAPTERS[DeliveryFormat(fmt)]
    except (KeyError, ValueError):
        known = ", ".join(f.value for f in ADAPTERS)
        raise KeyError(f"no payload adapter for format {fmt!r}; known formats: {known}") from None
