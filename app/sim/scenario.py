"""The demo scenario: agencies and sensors talking to a running engine over HTTP, as real ones would.

:class:`Scenario` sends what a police room, a fire room, a disaster situation room, a
vulnerable-protection service and the city's IoT gateway send: ``POST /api/v1/requests`` and
``…/updates`` (JSON, validated against :mod:`app.formats.api` before sending), ``POST
/api/v1/alerts/cap`` (a CAP 1.2 XML flood warning, ``application/cap+xml``) and ``POST
/api/v1/sensors/events``, each with the sending agency's API key. It never imports the engine or the
store; all it needs is the engine's URL, the four API keys and the city (:mod:`app.sim.city`).

The opening script (times at ``speed=1``; every one of the five linked services within two minutes):

====  ===========================================================================================
 t/s  what
====  ===========================================================================================
   3  112 emergency video request (police): an assault reported near 중앙동's park
  10  112 dispatch (police): a car thief fleeing east on 진주대로; units at 16 s; the suspect's
      position updated every 8 s (22–54 s)
  20  119 dispatch (fire): a car fire next to 하대동's LPG station (facilities come with it);
      units at 26 s; at 34 s the station's gas detector alarms (a sensor event → a second 119
      incident by the engine's sensor rule)
  42  disaster alert (disaster room): CAP 1.2 flood warning, a polygon 300 m either side of the
      Nam river from 평거동 to 상대동; water-level readings below threshold at 48 s
  45  disaster alert by 행정구역코드 only (a Korean integrated alert): heavy rain over 하대동
      (4817067800); the engine selects the cameras of the imported district
  55  vulnerable-person SOS (vulnerable-protection service): a person with dementia walking along
      a street in 평거동, four position updates (63–87 s)
  68  emergency bell pressed in a park (sensor event, ``alarm: true``)
  80  a drill (``exercise: true``): a 119 chemical-spill exercise at 상평산단
 105  119: a note on the fire
====  ===========================================================================================

:meth:`Scenario.run` plays the script in time (divided by ``speed``), then the follow-ups (the
script's incidents are closed by their agencies between 2.5 and 5 minutes) and a background rate:
a new incident every 20–40 s (112 video, 112 dispatch, 119, SOS, now and then a bell), each with an
update or two and a closure after 2–5 minutes, at most ten open at a time, and water-level readings
once a minute. :meth:`Scenario.run_script_once` plays only the opening script, as fast as the engine
answers (for tests), and returns a :class:`ScenarioReport`.

Determinism: what is sent, and in which order, depends only on ``seed`` and the city (two
``random.Random``: one for the script, one for the background). External ids carry ``run_tag``
(default: the start time) so that a second run against the same database opens new incidents.

Ownership: the scenario is one coroutine (the caller's task), with no tasks of its own; cancelling it
stops it at once, and :meth:`aclose` (or ``async with``) closes its HTTP client. A failed request is
logged once (and its recovery once), recorded in the report, and the scenario goes on.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from types import TracebackType
from typing import Any, Final, Literal
from xml.sax.saxutils import escape

import httpx

from app.domain.enums import AgencyKind, FacilityKind, SensorKind, Service
from app.formats.api import LocationIn, RequestIn, RequestUpdateIn, SensorEventIn
from app.sim.city import City, Street, offset_latlon

log = logging.getLogger("goldentime.sim.scenario")

KST: Final = timezone(timedelta(hours=9))
CAP_SENDER: Final = "jinju-disaster-room@demo.goldentime"
SCRIPT_END_S: Final = 120.0
MAX_OPEN_BACKGROUND: Final = 10

Progress = Callable[[str], None]


class ScenarioError(RuntimeError):
    """The scenario cannot run (e.g. a missing API key)."""


@dataclass(frozen=True, slots=True)
class StepResult:
    at_s: float
    label: str
    method: str
    path: str
    status: int | None
    incident_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class ScenarioReport:
    steps: list[StepResult] = field(default_factory=list)
    incidents: dict[str, str] = field(default_factory=dict)  # script label → incident id

    @property
    def errors(self) -> list[StepResult]:
        return [s for s in self.steps if not s.ok]


@dataclass(slots=True)
class _Open:
    """An incident this scenario opened through a request (it can update and close it)."""

    agency: AgencyKind
    external_id: str
    service: Service
    street: Street | None = None
    position_m: float = 0.0
    closed: bool = False


Action = Callable[[], Awaitable[None]]


def cap_flood_warning(
    identifier: str,
    polygon: list[tuple[float, float]],
    *,
    sent: datetime,
    area_desc: str,
    status: Literal["Actual", "Exercise"] = "Actual",
    sender: str = CAP_SENDER,
) -> bytes:
    """An inbound CAP 1.2 flood warning (valid against the OASIS schema) for a closed ``polygon`` ring."""
    sent_text = sent.astimezone(KST).replace(microsecond=0).isoformat()
    expires_text = (sent + timedelta(hours=6)).astimezone(KST).replace(microsecond=0).isoformat()
    ring = " ".join(f"{lat:.5f},{lon:.5f}" for lat, lon in polygon)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{escape(identifier)}</identifier>
  <sender>{escape(sender)}</sender>
  <sent>{sent_text}</sent>
  <status>{status}</status>
  <msgType>Alert</msgType>
  <source>진주시 재난안전상황실 (GoldenTime demo)</source>
  <scope>Public</scope>
  <info>
    <language>ko-KR</language>
    <category>Met</category>
    <event>홍수경보</event>
    <responseType>Evacuate</responseType>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <eventCode>
      <valueName>KR-DISASTER</valueName>
      <value>FLOOD-WARNING</value>
    </eventCode>
    <effective>{sent_text}</effective>
    <expires>{expires_text}</expires>
    <senderName>진주시 재난안전상황실</senderName>
    <headline>남강 진주 구간 홍수경보</headline>
    <description>{escape("집중호우로 남강 수위가 급상승하고 있습니다. 하천변 산책로와 둔치 주차장은 침수 위험이 큽니다.")}</description>
    <instruction>{escape("하천변 접근 금지. 둔치 주차장 차량은 즉시 이동. 저지대 주민은 가까운 대피소로 이동하십시오.")}</instruction>
    <area>
      <areaDesc>{escape(area_desc)}</areaDesc>
      <polygon>{ring}</polygon>
    </area>
  </info>
</alert>
""".encode()


def cap_district_alert(
    identifier: str,
    codes: list[str],
    *,
    sent: datetime,
    area_desc: str,
    sender: str = CAP_SENDER,
) -> bytes:
    """An inbound CAP 1.2 heavy-rain warning that names its area only by ``<geocode>`` 행정구역코드, as
    Korean integrated alerts (통합경보) do: the engine selects the cameras of those districts."""
    sent_text = sent.astimezone(KST).replace(microsecond=0).isoformat()
    expires_text = (sent + timedelta(hours=3)).astimezone(KST).replace(microsecond=0).isoformat()
    geocodes = "".join(
        f"\n      <geocode>\n        <valueName>행정구역코드</valueName>\n        <value>{escape(c)}</value>\n"
        "      </geocode>"
        for c in codes
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{escape(identifier)}</identifier>
  <sender>{escape(sender)}</sender>
  <sent>{sent_text}</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <source>진주시 재난안전상황실 (GoldenTime demo)</source>
  <scope>Public</scope>
  <info>
    <language>ko-KR</language>
    <category>Met</category>
    <event>호우경보</event>
    <responseType>Evacuate</responseType>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <effective>{sent_text}</effective>
    <expires>{expires_text}</expires>
    <senderName>진주시 재난안전상황실</senderName>
    <headline>{escape(f"{area_desc} 저지대 침수 위험 — 대피 권고")}</headline>
    <description>{escape("시간당 50 mm 이상의 강한 비로 저지대 주택가와 지하차도의 침수가 우려됩니다.")}</description>
    <instruction>{escape("지하 공간과 지하차도 이용 자제. 저지대 주민은 가까운 대피소로 이동하십시오.")}</instruction>
    <area>
      <areaDesc>{escape(area_desc)}</areaDesc>{geocodes}
    </area>
  </info>
</alert>
""".encode()


class Scenario:
    """Plays the demo scenario against the engine at ``engine_url`` (see the module docstring).

    ``keys`` maps each agency kind to its API key; ``sensor_key`` is the key the IoT gateway uses for
    sensor events (default: the disaster room's, which runs the city's sensors in the demo).
    """

    def __init__(
        self,
        engine_url: str,
        city: City,
        keys: Mapping[AgencyKind, str],
        *,
        seed: int = 7,
        speed: float = 1.0,
        run_tag: str | None = None,
        sensor_key: str | None = None,
        progress: Progress | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        missing = [k.value for k in AgencyKind if k not in keys]
        if missing:
            raise ScenarioError(
                f"the scenario needs an API key for every agency; missing: {', '.join(missing)}"
            )
        if speed <= 0:
            raise ScenarioError("speed must be positive")
        self.city = city
        self.keys = dict(keys)
        self.sensor_key = sensor_key or keys[AgencyKind.DISASTER]
        self.seed = seed
        self.speed = speed
        self.run_tag = run_tag or datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self.report = ScenarioReport()
        self._progress = progress or (lambda _msg: None)
        self._http = httpx.AsyncClient(
            base_url=engine_url.rstrip("/"), timeout=timeout_s, transport=transport
        )
        self._open: dict[str, _Open] = {}
        self._numbers = itertools.count(1)
        self._failing = False
        self._now_s = 0.0  # scenario time of the action being played
        self._bg_rng = random.Random(seed + 1)

    # -- lifecycle

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Scenario:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- playing

    async def run_script_once(self) -> ScenarioReport:
        """Play the opening script as fast as the engine answers; returns the report."""
        for at_s, action in sorted(self._script(), key=lambda step: step[0]):
            self._now_s = at_s
            await action()
        return self.report

    async def run(self, *, background: bool = True) -> None:
        """Play the script in (compressed) time, then follow-ups and the background rate until cancelled
        (or, with ``background=False``, until the follow-ups are done)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        order = itertools.count()
        heap: list[tuple[float, int, Action]] = []
        for at_s, action in [*self._script(), *self._follow_ups()]:
            heapq.heappush(heap, (at_s, next(order), action))

        def schedule(at_s: float, action: Action) -> None:
            heapq.heappush(heap, (at_s, next(order), action))

        if background:
            self._start_background(schedule)
        while heap:
            at_s, _, action = heapq.heappop(heap)
            delay = start + at_s / self.speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._now_s = at_s
            await action()

    # -- the opening script

    def _script(self) -> list[tuple[float, Action]]:
        rng = random.Random(self.seed)
        city = self.city
        steps: list[tuple[float, Action]] = []

        # 112 emergency video near 중앙동's park
        park = next(p for p in city.places_of("park") if p.district == "jungang")
        steps.append(
            (
                3.0,
                self._new_request(
                    "112 video",
                    AgencyKind.POLICE,
                    Service.EMERGENCY_VIDEO_112,
                    "112 신고: 중앙동 근린공원 앞 폭행 (영상 지원 요청)",
                    (park.lat, park.lon),
                    f"진주시 {park.name} 앞",
                    priority=2,
                    details={
                        "call": "112-" + self.run_tag[-6:] + "-01",
                        "category": "폭행",
                        "caller": "행인",
                    },
                ),
            )
        )

        # 112 dispatch: a car thief fleeing east along 진주대로, from 상대동
        road = city.street("진주대로")
        road_line = road.line()
        start_m = road_line.length * 0.62
        stolen = self._new_request(
            "112 dispatch",
            AgencyKind.POLICE,
            Service.DISPATCH_112,
            "112 출동: 차량 절도 용의자 도주 (흰색 SUV)",
            road.walk(start_m, 0, 1)[0],
            "진주대로 상대동 구간",
            priority=1,
            details={
                "suspect": {
                    "description": "30대 남성, 검은 상의",
                    "vehicle": "흰색 SUV 12가 3456",
                    "heading": "동쪽",
                }
            },
            street=road,
            position_m=start_m,
        )
        steps.append((10.0, stolen))
        steps.append(
            (
                16.0,
                self._update(
                    "112 dispatch", units=["진주경찰서 순21", "상대지구대 12"], note="순찰차 2대 추격 중"
                ),
            )
        )
        for i in range(5):
            steps.append((22.0 + 8 * i, self._move("112 dispatch", step_m=260.0 + rng.uniform(-40, 40))))

        # 119 dispatch at 하대동's LPG station, then its gas detector alarms
        lpg = next(
            f
            for f in city.facilities_of(FacilityKind.HAZARDOUS)
            if "LPG" in f.name and f.name.startswith("하대동")
        )
        fire_at = offset_latlon(lpg.lat, lpg.lon, 40.0, rng.uniform(0, 360))
        steps.append(
            (
                20.0,
                self._new_request(
                    "119 dispatch",
                    AgencyKind.FIRE,
                    Service.DISPATCH_119,
                    f"119 출동: {lpg.name} 인근 차량 화재",
                    fire_at,
                    f"{lpg.name} 앞 도로",
                    priority=1,
                    details={"category": "화재", "hazard": lpg.id, "caller": "충전소 직원"},
                ),
            )
        )
        steps.append(
            (26.0, self._update("119 dispatch", units=["진주소방서 펌프1", "하대119안전센터 탱크2", "구급3"]))
        )
        gas = city.nearest_sensor(SensorKind.GAS, lpg.lat, lpg.lon)
        steps.append(
            (34.0, self._sensor("gas alarm", gas.id, value=180.0, note="LPG 누출 의심 (감지기 경보)"))
        )

        # CAP 1.2 flood warning along the river
        ring = city.river_buffer(128.060, 128.115, 300.0)
        steps.append((42.0, self._cap("flood warning", ring, "남강 진주시 평거동~상대동 구간 양안 300 m")))
        # CAP 1.2 heavy-rain warning for 하대동 by its 행정구역코드 only (a Korean integrated alert)
        hadae = city.district("hadae")
        steps.append(
            (45.0, self._cap_district("district alert", [hadae.code], f"경상남도 진주시 {hadae.name_ko}"))
        )
        for i, sensor in enumerate(city.sensors_of(SensorKind.WATER_LEVEL)[1:4]):
            steps.append(
                (48.0 + i, self._sensor(f"water level {i + 1}", sensor.id, value=round(3.4 + 0.3 * i, 2)))
            )

        # vulnerable-person SOS walking along a street in 평거동
        street = city.local_streets("pyeonggeo")[len(city.local_streets("pyeonggeo")) // 2]
        walk_start = street.length_m * 0.2
        steps.append(
            (
                55.0,
                self._new_request(
                    "SOS",
                    AgencyKind.VULNERABLE,
                    Service.VULNERABLE_SOS,
                    "SOS: 치매 어르신 배회 (스마트워치 긴급호출)",
                    street.walk(walk_start, 0, 1)[0],
                    f"진주시 {street.name}",
                    priority=1,
                    details={
                        "person": {"age": 78, "condition": "치매"},
                        "device": "스마트워치",
                        "guardian": "보호자 통보됨",
                    },
                    street=street,
                    position_m=walk_start,
                ),
            )
        )
        for i in range(4):
            steps.append((63.0 + 8 * i, self._move("SOS", step_m=55.0 + rng.uniform(-10, 10))))

        # emergency bell in 상봉동's park
        bell_park = next(p for p in city.places_of("park") if p.district == "sangbong")
        bell = city.nearest_sensor(SensorKind.EMERGENCY_BELL, bell_park.lat, bell_park.lon)
        steps.append(
            (68.0, self._sensor("emergency bell", bell.id, alarm=True, note="비상벨 호출, 응답 없음"))
        )

        # a drill at a chemical plant
        plant = next(f for f in city.facilities_of(FacilityKind.HAZARDOUS) if "화학" in f.name)
        steps.append(
            (
                80.0,
                self._new_request(
                    "drill",
                    AgencyKind.FIRE,
                    Service.DISPATCH_119,
                    f"{plant.name} 염산 유출 대응 합동훈련",
                    (plant.lat, plant.lon),
                    plant.name,
                    priority=3,
                    exercise=True,
                    details={"category": "화학사고 훈련"},
                ),
            )
        )
        steps.append(
            (105.0, self._update("119 dispatch", note="화재 진압 완료, 잔불 정리 중. 충전소 가스 차단 확인."))
        )
        return steps

    def _follow_ups(self) -> list[tuple[float, Action]]:
        return [
            (150.0, self._update("112 video", note="가해자 현장 검거", closed=True)),
            (170.0, self._update("SOS", note="보호자에게 인계 완료", closed=True)),
            (190.0, self._update("drill", note="훈련 종료", closed=True)),
            (230.0, self._update("112 dispatch", note="용의자 검거, 차량 회수", closed=True)),
            (300.0, self._update("119 dispatch", note="현장 정리 완료, 철수", closed=True)),
        ]

    # -- background

    def _start_background(self, schedule: Callable[[float, Action], None]) -> None:
        rng = self._bg_rng

        async def new_incident() -> None:
            await self._background_incident(schedule)
            schedule(self._now_s + rng.uniform(20.0, 40.0), new_incident)

        async def water_levels() -> None:
            for i, sensor in enumerate(self.city.sensors_of(SensorKind.WATER_LEVEL)):
                await self._sensor(f"water level {i + 1}", sensor.id, value=round(rng.uniform(1.2, 3.8), 2))()
            schedule(self._now_s + 60.0, water_levels)

        schedule(SCRIPT_END_S + rng.uniform(5.0, 15.0), new_incident)
        schedule(SCRIPT_END_S + 30.0, water_levels)

    async def _background_incident(self, schedule: Callable[[float, Action], None]) -> None:
        rng = self._bg_rng
        city = self.city
        open_now = [label for label, o in self._open.items() if label.startswith("bg ") and not o.closed]
        if len(open_now) >= MAX_OPEN_BACKGROUND:
            await self._update(open_now[0], note="종결 (상황 해소)", closed=True)()
        n = next(self._numbers)
        label = f"bg {n}"
        kind = rng.choices(("video", "dispatch", "fire", "sos", "bell"), weights=(30, 20, 30, 12, 8), k=1)[0]
        district = rng.choice([d for d in city.districts if city.local_streets(d.id)])
        street = rng.choice(city.local_streets(district.id))
        pos_m = rng.uniform(0.1, 0.9) * street.length_m
        at = street.walk(pos_m, 0, 1)[0]
        where = f"진주시 {district.name_ko} {street.name}"
        if kind == "bell":
            bell = rng.choice(city.sensors_of(SensorKind.EMERGENCY_BELL))
            await self._sensor(label, bell.id, alarm=True, note="비상벨 호출")()
            return
        what: dict[str, tuple[AgencyKind, Service, list[str], int]] = {
            "video": (
                AgencyKind.POLICE,
                Service.EMERGENCY_VIDEO_112,
                [
                    "112 신고: 주취자 소란",
                    "112 신고: 수상한 사람 배회",
                    "112 신고: 차량 파손",
                    "112 신고: 폭행 시비",
                ],
                3,
            ),
            "dispatch": (
                AgencyKind.POLICE,
                Service.DISPATCH_112,
                [
                    "112 출동: 날치기 용의자 도주",
                    "112 출동: 오토바이 절도 용의자",
                    "112 출동: 보이스피싱 수거책 추적",
                ],
                2,
            ),
            "fire": (
                AgencyKind.FIRE,
                Service.DISPATCH_119,
                [
                    "119 출동: 주택 화재",
                    "119 출동: 교통사고 구조",
                    "119 출동: 상가 연기 신고",
                    "119 출동: 쓰레기 화재",
                ],
                2,
            ),
            "sos": (
                AgencyKind.VULNERABLE,
                Service.VULNERABLE_SOS,
                ["SOS: 아동 긴급호출 (안심폰)", "SOS: 독거 어르신 응급호출"],
                1,
            ),
        }
        agency, service, titles, priority = what[kind]
        await self._new_request(
            label,
            agency,
            service,
            rng.choice(titles),
            at,
            where,
            priority=priority,
            street=street if service in (Service.DISPATCH_112, Service.VULNERABLE_SOS) else None,
            position_m=pos_m,
        )()
        t = self._now_s
        if service is Service.DISPATCH_112:
            schedule(
                t + rng.uniform(5, 12),
                self._update(label, units=[f"{district.name_ko}지구대 {rng.randint(1, 40)}"]),
            )
            for i in range(3):
                schedule(t + 15 + 10 * i, self._move(label, step_m=rng.uniform(120, 260)))
        elif service is Service.VULNERABLE_SOS:
            for i in range(3):
                schedule(t + 10 + 10 * i, self._move(label, step_m=rng.uniform(30, 70)))
        elif service is Service.DISPATCH_119:
            schedule(
                t + rng.uniform(5, 12),
                self._update(
                    label, units=[f"진주소방서 펌프{rng.randint(1, 5)}", f"구급{rng.randint(1, 6)}"]
                ),
            )
        schedule(t + rng.uniform(120.0, 300.0), self._update(label, note="상황 종료", closed=True))

    # -- actions (each returns a coroutine function; nothing is sent until it is awaited)

    def _new_request(
        self,
        label: str,
        agency: AgencyKind,
        service: Service,
        title: str,
        at: tuple[float, float],
        address: str,
        *,
        priority: int = 3,
        details: dict[str, Any] | None = None,
        exercise: bool = False,
        street: Street | None = None,
        position_m: float = 0.0,
    ) -> Action:
        async def action() -> None:
            number = next(self._numbers)
            prefix = {
                AgencyKind.POLICE: "P",
                AgencyKind.FIRE: "F",
                AgencyKind.DISASTER: "D",
                AgencyKind.VULNERABLE: "V",
            }[agency]
            external_id = f"{prefix}-{self.run_tag}-{number:04d}"
            body = RequestIn(
                service=service,
                external_id=external_id,
                title=title,
                location=LocationIn(lat=round(at[0], 6), lon=round(at[1], 6), address=address),
                priority=priority,
                details=details,
                exercise=exercise,
            )
            _, doc = await self._send(
                label,
                "POST",
                "/api/v1/requests",
                self.keys[agency],
                json=body.model_dump(mode="json", exclude_none=True),
            )
            if doc is not None:
                self._open[label] = _Open(agency, external_id, service, street, position_m)
                incident_id = doc["incident"]["id"]
                self.report.incidents[label] = incident_id
                self._progress(
                    f"{service.value}: {title} → {incident_id} ({len(doc.get('cameras', []))} cameras)"
                )

        return action

    def _update(
        self, label: str, *, units: list[str] | None = None, note: str | None = None, closed: bool = False
    ) -> Action:
        async def action() -> None:
            req = self._open.get(label)
            if req is None or req.closed:
                return
            body = RequestUpdateIn(units=units, note=note, closed=closed)
            status = await self._send_update(label, req, body)
            if closed:
                req.closed = True
                if status == 200:
                    self._progress(f"{req.service.value}: {req.external_id} closed by the agency ({label})")

        return action

    def _move(self, label: str, *, step_m: float) -> Action:
        async def action() -> None:
            req = self._open.get(label)
            if req is None or req.closed or req.street is None:
                return
            length = req.street.length_m
            nxt = req.position_m + step_m
            if nxt > length:  # turn around at the end of the street
                nxt = max(0.0, 2 * length - nxt)
            req.position_m = nxt
            lat, lon = req.street.walk(nxt, 0, 1)[0]
            body = RequestUpdateIn(
                location=LocationIn(lat=round(lat, 6), lon=round(lon, 6), address=f"진주시 {req.street.name}")
            )
            await self._send_update(label, req, body)

        return action

    async def _send_update(self, label: str, req: _Open, body: RequestUpdateIn) -> int | None:
        path = f"/api/v1/requests/{req.external_id}/updates"
        status, _ = await self._send(
            label,
            "POST",
            path,
            self.keys[req.agency],
            json=body.model_dump(mode="json", exclude_none=True),
            ok_conflict=True,
        )
        if status == 409:
            req.closed = True  # closed meanwhile (by a console operator)
        return status

    def _cap(self, label: str, ring: list[tuple[float, float]], area_desc: str) -> Action:
        return self._cap_alert(
            label,
            lambda identifier: cap_flood_warning(
                identifier, ring, sent=datetime.now(UTC), area_desc=area_desc
            ),
            "CAP flood warning",
        )

    def _cap_district(self, label: str, codes: list[str], area_desc: str) -> Action:
        return self._cap_alert(
            label,
            lambda identifier: cap_district_alert(
                identifier, codes, sent=datetime.now(UTC), area_desc=area_desc
            ),
            f"CAP 호우경보 by 행정구역코드 {', '.join(codes)}",
        )

    def _cap_alert(self, label: str, build: Callable[[str], str], what: str) -> Action:
        """The disaster room posts the CAP document ``build`` makes for a fresh identifier."""

        async def action() -> None:
            identifier = f"KR-JINJU-{self.run_tag}-{next(self._numbers):04d}"
            _, doc = await self._send(
                label,
                "POST",
                "/api/v1/alerts/cap",
                self.keys[AgencyKind.DISASTER],
                content=build(identifier),
                headers={"content-type": "application/cap+xml"},
            )
            if doc is not None:
                self.report.incidents[label] = doc["incident"]["id"]
                self._progress(f"{what} → {doc['incident']['id']} ({len(doc.get('cameras', []))} cameras)")

        return action

    def _sensor(
        self,
        label: str,
        sensor_id: str,
        *,
        value: float | None = None,
        alarm: bool = False,
        note: str | None = None,
    ) -> Action:
        async def action() -> None:
            body = SensorEventIn(
                sensor_id=sensor_id, value=value, alarm=alarm, note=note, observed_at=datetime.now(UTC)
            )
            status, doc = await self._send(
                label,
                "POST",
                "/api/v1/sensors/events",
                self.sensor_key,
                json=body.model_dump(mode="json", exclude_none=True),
            )
            if status == 201 and doc is not None and doc.get("incident"):  # 200: added to its open incident
                self.report.incidents.setdefault(label, doc["incident"]["id"])
                self._progress(f"sensor {sensor_id}: {doc['incident']['title']} → {doc['incident']['id']}")

        return action

    # -- HTTP

    async def _send(
        self,
        label: str,
        method: str,
        path: str,
        key: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok_conflict: bool = False,
    ) -> tuple[int | None, dict[str, Any] | None]:
        """Send one request: the status (None: no answer) and the answer's JSON object (None for no
        body or on failure)."""
        all_headers = {"authorization": f"Bearer {key}", **(headers or {})}
        status: int | None = None
        error: str | None = None
        doc: dict[str, Any] | None = None
        try:
            response = await self._http.request(method, path, json=json, content=content, headers=all_headers)
            status = response.status_code
            if response.is_success:
                if response.content:
                    body = response.json()
                    doc = body if isinstance(body, dict) else None
            else:
                error = f"{status}: {_problem_detail(response)}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        incident_id = doc["incident"]["id"] if doc and isinstance(doc.get("incident"), dict) else None
        conflict = ok_conflict and status == 409
        self.report.steps.append(
            StepResult(self._now_s, label, method, path, status, incident_id, None if conflict else error)
        )
        if error is not None and not conflict:
            if not self._failing:
                log.warning("scenario: %s %s (%s) failed: %s", method, path, label, error)
                self._failing = True
            else:
                log.debug("scenario: %s %s (%s) failed: %s", method, path, label, error)
        elif self._failing and error is None:
            log.info("scenario: the engine answers again (%s %s)", method, path)
            self._failing = False
        return status, doc


def _problem_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)[:300]
    return str(body)[:300]
