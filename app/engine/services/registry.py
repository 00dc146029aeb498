"""The explicit registry: one policy per linked service."""

from __future__ import annotations

from collections.abc import Mapping

from app.domain.enums import Service
from app.engine.services.disaster_response import DisasterResponse
from app.engine.services.dispatch_112 import Dispatch112
from app.engine.services.dispatch_119 import Dispatch119
from app.engine.services.emergency_video_112 import EmergencyVideo112
from app.engine.services.policy import ServicePolicy
from app.engine.services.vulnerable_sos import VulnerableSos

POLICIES: Mapping[Service, ServicePolicy] = {
    Service.EMERGENCY_VIDEO_112: EmergencyVideo112(),
    Service.DISPATCH_112: Dispatch112(),
    Service.DISPATCH_119: Dispatch119(),
    Service.DISASTER_RESPONSE: DisasterResponse(),
    Service.VULNERABLE_SOS: VulnerableSos(),
}
