"""Settings of lawful provision: the legal bases, the basis of each service, and the operator's policy
(what an operator may share alone; anything beyond waits for a supervisor)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.domain.enums import Service
from app.domain.legal_basis import KOREAN_BASES


class LegalBasis(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
    law: Annotated[str, Field(min_length=1, max_length=200)]
    article: Annotated[str, Field(min_length=1, max_length=200)]
    title_ko: Annotated[str, Field(min_length=1, max_length=500)]
    title_en: Annotated[str, Field(min_length=1, max_length=500)]


def _korean() -> list[LegalBasis]:
    return [
        LegalBasis(id=b.id, law=b.law, article=b.article, title_ko=b.title_ko, title_en=b.title_en)
        for b in KOREAN_BASES
    ]


class ProvisionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_bases: Annotated[list[LegalBasis], Field(min_length=1)] = Field(default_factory=_korean)
    # The basis recorded on a share an agency's request creates, per service.
    service_basis: dict[Service, str] = {
        Service.EMERGENCY_VIDEO_112: "pipa-18-2-3",
        Service.DISPATCH_112: "pipa-18-2-3",
        Service.DISPATCH_119: "pipa-18-2-3",
        Service.DISASTER_RESPONSE: "dsa-74-3",
        Service.VULNERABLE_SOS: "pipa-18-2-3",
    }
    # An operator alone may share: to the agency that asked ("requester") or to any agency ("any"), …
    operator_recipient: Literal["requester", "any"] = "requester"
    # … for up to this many minutes …
    operator_max_minutes: Annotated[int, Field(ge=0, le=1440)] = 30
    # … and this many cameras. Beyond any of these (or an extension) the share waits for a supervisor.
    operator_max_cameras: Annotated[int, Field(ge=0, le=64)] = 16
    # Drill incidents never share real video unless this is on.
    drill_real_video: bool = False

    @model_validator(mode="after")
    def _known_bases(self) -> ProvisionSettings:
        ids = [b.id for b in self.legal_bases]
        if len(set(ids)) != len(ids):
            raise ValueError("provision.legal_bases: ids must be unique")
        unknown = sorted({v for v in self.service_basis.values() if v not in ids})
        if unknown:
            raise ValueError(f"provision.service_basis names unknown legal bases: {', '.join(unknown)}")
        return self

    def basis(self, basis_id: str) -> LegalBasis | None:
        return next((b for b in self.legal_bases if b.id == basis_id), None)

    def basis_for_service(self, service: str) -> str:
        """The basis recorded on a share an agency's request for ``service`` creates ("" if none is set)."""
        return next((v for k, v in self.service_basis.items() if k.value == service), "")
