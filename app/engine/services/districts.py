"""Administrative districts in the store: import (replace by code), list, and the districts a CAP
``<geocode>`` names (issue #18; rules in docs/ENGINE.md, "Districts")."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.domain.districts import (
    ADMIN_CODE_VALUE_NAME,
    District,
    DistrictError,
    admin_code_prefix,
    district_from_geometry,
    is_admin_code,
)
from app.store.models import DistrictRow


def store_districts(session: Session, districts: Iterable[District], now: datetime, source: str = "") -> int:
    """Insert or replace each district by its code (its geometry, name, properties and box)."""
    n = 0
    for d in districts:
        box = d.bbox()
        geometry = json.dumps(d.geometry(), separators=(",", ":"))
        session.execute(delete(DistrictRow).where(DistrictRow.code == d.code))
        session.add(
            DistrictRow(
                code=d.code,
                name=d.name,
                properties=dict(d.properties),
                geometry=geometry,
                south=box.south,
                west=box.west,
                north=box.north,
                east=box.east,
                points=sum(len(p.outer.points) + sum(len(h.points) for h in p.holes) for p in d.parts),
                source=source[:300],
                updated_at=now,
            )
        )
        n += 1
    session.flush()
    return n


def district_summaries(
    session: Session, bbox: tuple[float, float, float, float] | None = None, with_geometry: bool = False
) -> list[dict[str, Any]]:
    """Every district (code order), or those whose box meets ``bbox`` (south, west, north, east)."""
    q = select(DistrictRow).order_by(DistrictRow.code)
    if bbox is not None:
        south, west, north, east = bbox
        q = q.where(
            DistrictRow.north >= south,
            DistrictRow.south <= north,
            DistrictRow.east >= west,
            DistrictRow.west <= east,
        )
    out = []
    for row in session.scalars(q):
        item: dict[str, Any] = {
            "code": row.code,
            "name": row.name,
            "bbox": [row.south, row.west, row.north, row.east],
            "points": row.points,
            "properties": row.properties,
        }
        if with_geometry:
            item["geometry"] = json.loads(row.geometry)
        out.append(item)
    return out


@dataclass
class GeocodeMatch:
    """The districts that a CAP area's geocodes name, and the geocodes that named nothing known."""

    districts: list[District]
    unknown: list[tuple[str, str]]  # (valueName, value)
    ignored: list[tuple[str, str]]  # valueNames neither 행정구역코드 nor mapped in the settings


def districts_for_geocodes(
    session: Session, geocodes: Iterable[tuple[str, str]], mapping: Mapping[str, str]
) -> GeocodeMatch:
    """``행정구역코드`` values select their district and every district under it in the code hierarchy;
    another valueName selects the districts whose property ``mapping[valueName]`` equals the value."""
    found: dict[str, District] = {}
    unknown: list[tuple[str, str]] = []
    ignored: list[tuple[str, str]] = []
    mapped: dict[str, set[str]] = {}
    for name, value in dict.fromkeys(geocodes):
        if name == ADMIN_CODE_VALUE_NAME:
            value = value.strip()
            try:
                prefix = admin_code_prefix(value)
            except DistrictError:
                unknown.append((name, value))
                continue
            rows = session.scalars(
                select(DistrictRow).where(DistrictRow.code.startswith(prefix, autoescape=True))
            ).all()
            hits = [r for r in rows if is_admin_code(r.code) or r.code == value]
            if not hits:
                unknown.append((name, value))
            for r in hits:
                found.setdefault(r.code, _district(r))
        elif name in mapping:
            mapped.setdefault(name, set()).add(value.strip())
        else:
            ignored.append((name, value))
    if mapped:
        rows = session.scalars(select(DistrictRow)).all()
        for name, values in mapped.items():
            prop = mapping[name]
            hit_values: set[str] = set()
            for r in rows:
                v = r.properties.get(prop)
                if v is not None and str(v) in values:
                    hit_values.add(str(v))
                    found.setdefault(r.code, _district(r))
            unknown.extend((name, v) for v in sorted(values - hit_values))
    return GeocodeMatch(list(found.values()), unknown, ignored)


def _district(row: DistrictRow) -> District:
    return district_from_geometry(row.code, row.name, row.geometry, row.properties)
