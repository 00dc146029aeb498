"""A CCTV camera as the domain sees it."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.enums import Purpose


@dataclass(frozen=True, slots=True)
class CameraRegister:
    """What a camera register (전국CCTV표준데이터) says of a camera, kept as the register wrote it.

    ``provider`` is 관리기관명 (who runs the camera), ``provider_code`` 개방자치단체코드, ``register_no``
    관리번호; the others are the register's own columns. Empty text where the register has nothing.
    """

    provider: str = ""
    provider_code: str = ""
    register_no: str = ""
    road_address: str = ""
    lot_address: str = ""
    purpose_text: str = ""
    installed: str = ""
    pixels: str = ""
    view: str = ""
    retention_days: int | None = None
    phone: str = ""
    data_date: str = ""

    @property
    def scope(self) -> str:
        """The provider a register edition replaces: 개방자치단체코드 when known, else 관리기관명."""
        return self.provider_code or self.provider


@dataclass(frozen=True, slots=True)
class Camera:
    """One camera. ``direction_deg`` (0 = north, clockwise) and ``fov_deg`` are None when unknown;
    ``register`` holds the camera register's fields when the camera came from one."""

    id: str
    name: str
    lat: float
    lon: float
    purpose: Purpose
    direction_deg: float | None = None
    fov_deg: float | None = None
    stream_main: str = ""
    stream_sub: str = ""
    approximate: bool = False
    """The position is a stand-in (an area's centroid, a round point shared by many addresses): selection
    ranks the camera after exact ones and never picks it as "nearest" until its position is corrected."""
    register: CameraRegister | None = None
