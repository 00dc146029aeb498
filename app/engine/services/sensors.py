"""Sensor events (emergency bells, water-level and gas sensors) → incidents, by the rules in the settings.

Most readings open nothing: they are checked against the sensors kept in memory (no transaction at all,
app/engine/sensor_cache.py) and recorded in batches (app/engine/sensor_readings.py). Only a reading that
opens an incident, or adds to an open one, is a unit of work of its own, checked again on a reader and
under the writer, with its cameras chosen before the writer is taken."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.domain.geo import GeoPoint
from app.engine.auth import Principal
from app.engine.context import EngineContext
from app.engine.errors import ServiceError, forbidden, not_found
from app.engine.sensor_cache import OPEN_INCIDENT, SensorInfo
from app.engine.services import notify
from app.engine.services.intake import (
    NewIncident,
    choose_cameras,
    open_incident,
    request_result,
    share_agencies,
)
from app.engine.settings import SensorRule
from app.formats.api import RequestResultOut, SensorEventIn, SensorOutcomeOut
from app.store.models import IncidentRow, SensorReadingRow, SensorRow


def _rule_and_trigger(
    ctx: EngineContext, principal: Principal, sensor: SensorInfo | None, body: SensorEventIn
) -> tuple[SensorRule, float | None, bool]:
    if sensor is None:
        raise not_found("sensor", body.sensor_id)
    if sensor.agency_id != principal.id:
        # A sensor belongs to one gateway agency (``sensors import`` column agency_id).
        raise forbidden(f"sensor {sensor.id!r} does not belong to this agency's gateway")
    rule = next((r for r in ctx.settings.sensor_rules if r.kind.value == sensor.kind), None)
    if rule is None:
        raise ServiceError(
            422, "No rule for sensor", f"no sensor rule for kind {sensor.kind!r} in the settings"
        )
    threshold = sensor.threshold if sensor.threshold is not None else rule.threshold
    triggered = body.alarm or (body.value is not None and threshold is not None and body.value >= threshold)
    return rule, threshold, triggered


def _row(s: Session, sensor_id: str) -> tuple[SensorRow | None, SensorInfo | None]:
    row = s.get(SensorRow, sensor_id)
    return row, None if row is None else SensorInfo.of(row)


def _reading_row(at: datetime, principal: Principal, body: SensorEventIn) -> dict[str, Any]:
    return {
        "sensor_id": body.sensor_id,
        "agency_id": principal.id,
        "at": at,
        "observed_at": body.observed_at,
        "value": body.value,
        "alarm": body.alarm,
        "note": body.note,
    }


def _open_for(source: str) -> Any:
    return (
        select(IncidentRow)
        .where(IncidentRow.source == source, OPEN_INCIDENT)
        .order_by(IncidentRow.created_at.desc())
    )


def handle_sensor_event(
    ctx: EngineContext, principal: Principal, client: str | None, body: SensorEventIn
) -> tuple[RequestResultOut | None, str]:
    """Returns (result, outcome) with outcome one of ``opened``, ``updated``, ``recorded``."""
    if principal.kind != "agency":
        raise forbidden("sensor events come from a sensor gateway with an API key")
    if body.observed_at is not None and body.observed_at.tzinfo is None:
        raise ServiceError(422, "Unprocessable Content", "observed_at needs a time zone (RFC 3339)")
    cache = ctx.sensor_readings.cache
    sensor = cache.sensors(ctx.uow, (body.sensor_id,)).get(body.sensor_id)
    _, _, triggered = _rule_and_trigger(ctx, principal, sensor, body)
    if not triggered and body.sensor_id not in cache.open_sensors(ctx.uow):
        # Opens nothing: no transaction of its own, a place in the next batch.
        ctx.sensor_readings.record(ctx.uow, principal, client, _reading_row(ctx.now(), principal, body))
        return None, "recorded"
    return _eventful(ctx, principal, client, body)


def _eventful(
    ctx: EngineContext, principal: Principal, client: str | None, body: SensorEventIn
) -> tuple[RequestResultOut | None, str]:
    """A reading that may open an incident or join one: looked at again on a reader, then under the
    writer (the cache may be behind)."""
    cache = ctx.sensor_readings.cache
    with ctx.uow.read() as s:
        row, sensor = _row(s, body.sensor_id)
        rule, threshold, triggered = _rule_and_trigger(ctx, principal, sensor, body)
        assert row is not None
        source = f"sensor:{row.id}"
        has_open = s.scalars(_open_for(source).with_only_columns(IncidentRow.id).limit(1)).first() is not None
        point = GeoPoint(row.lat, row.lon)
    if not triggered and not has_open:
        cache.closed(body.sensor_id)
        ctx.sensor_readings.record(ctx.uow, principal, client, _reading_row(ctx.now(), principal, body))
        return None, "recorded"
    # Choosing cameras is pure and in memory: before the writer, not under it.
    picks = choose_cameras(ctx, rule.service, point, None) if triggered and not has_open else None
    with ctx.uow(principal, client) as work:
        row, sensor = _row(work.session, body.sensor_id)
        rule, threshold, triggered = _rule_and_trigger(ctx, principal, sensor, body)
        assert row is not None
        work.audit("sensor.event", "sensor", row.id, value=body.value, alarm=body.alarm, triggered=triggered)
        open_row = work.session.scalars(_open_for(source).with_for_update()).first()
        if open_row is not None:
            # One open incident per sensor: later readings are added to it, not opened anew.
            open_row.updated_at = work.now
            work.timeline(open_row.id, "sensor.reading", value=body.value, alarm=body.alarm, note=body.note)
            notify.live_incident(ctx, work, open_row, "incident.updated")
            if triggered:
                for agency, _ in notify.agencies_with_active_shares(work, open_row.id):
                    notify.send(
                        ctx, work, agency, open_row, "incident.updated", note=f"sensor reading {body.value}"
                    )
            result = request_result(ctx, work, open_row, principal.id)
            outcome = "updated"
        elif not triggered:
            # The incident closed since the reader looked: a plain reading after all.
            work.session.execute(insert(SensorReadingRow), [_reading_row(ctx.now(), principal, body)])
            result, outcome = None, "recorded"
        else:
            incident, _ = open_incident(
                ctx,
                work,
                NewIncident(
                    service=rule.service,
                    title=f"{rule.title}: {row.name}"[:300],
                    point=GeoPoint(row.lat, row.lon),
                    address=row.name,
                    area=None,
                    area_json=None,
                    priority=rule.priority,
                    exercise=body.exercise,
                    details={
                        "sensor": {
                            "id": row.id,
                            "kind": row.kind,
                            "value": body.value,
                            "threshold": threshold,
                        }
                    },
                    external_id=None,
                    agency=None,
                    source=source,
                    share_with_kinds=tuple(rule.agencies),
                ),
                picks,
            )
            if not share_agencies(work, None, tuple(rule.agencies)):
                work.timeline(
                    incident.id, "warning", text="no enabled agency of the rule's kinds to share with"
                )
            result = request_result(ctx, work, incident, principal.id)
            outcome = "opened"
    # Committed: what the cache says about this sensor's incident follows what the writer saw.
    if outcome == "recorded":
        cache.closed(body.sensor_id)
    else:
        cache.opened(body.sensor_id)
    if outcome == "opened" and result is not None:
        ctx.prewarm([c.id for c in result.cameras])
    return result, outcome


def quiet_readings(
    ctx: EngineContext, principal: Principal, readings: list[SensorEventIn], *, indexed: bool
) -> list[dict[str, Any]] | None:
    """The ``sensor_readings`` rows of ``readings`` when every one opens nothing and the sensor cache can
    tell without reading the store: no I/O, so the API calls it on the event loop. None: take the
    blocking path (:func:`handle_sensor_readings`). A reading that is refused raises, naming it
    (``readings[i]`` when ``indexed``)."""
    if principal.kind != "agency":
        raise forbidden("sensor events come from a sensor gateway with an API key")
    known = ctx.sensor_readings.cache.peek(b.sensor_id for b in readings)
    if known is None:
        return None
    sensors, open_ids = known
    at = ctx.now()
    rows = []
    for i, body in enumerate(readings):
        one = not indexed
        if body.observed_at is not None and body.observed_at.tzinfo is None:
            what = "observed_at needs a time zone (RFC 3339)"
            raise ServiceError(422, "Unprocessable Content", what if one else f"readings[{i}].{what}")
        try:
            _, _, triggered = _rule_and_trigger(ctx, principal, sensors.get(body.sensor_id), body)
        except ServiceError as exc:
            if one:
                raise
            raise ServiceError(exc.status, exc.title, f"readings[{i}]: {exc.detail}") from exc
        if triggered or body.sensor_id in open_ids:
            return None
        rows.append(_reading_row(at, principal, body))
    return rows


def handle_sensor_readings(
    ctx: EngineContext, principal: Principal, client: str | None, readings: list[SensorEventIn]
) -> list[SensorOutcomeOut]:
    """``POST /api/v1/sensors/readings``: a gateway's readings in one request. Every reading is checked
    first (an unknown or foreign sensor, or a time without a zone, refuses the whole request and records
    nothing); those that open nothing join one batch (one insert, one audit row), the others each go
    through :func:`handle_sensor_event` in order. Outcomes come back in the order sent."""
    if principal.kind != "agency":
        raise forbidden("sensor events come from a sensor gateway with an API key")
    for i, body in enumerate(readings):
        if body.observed_at is not None and body.observed_at.tzinfo is None:
            raise ServiceError(
                422, "Unprocessable Content", f"readings[{i}].observed_at needs a time zone (RFC 3339)"
            )
    cache = ctx.sensor_readings.cache
    sensors = cache.sensors(ctx.uow, {b.sensor_id for b in readings})
    open_ids = cache.open_sensors(ctx.uow)
    quiet: list[int] = []
    for i, body in enumerate(readings):
        try:
            _, _, triggered = _rule_and_trigger(ctx, principal, sensors.get(body.sensor_id), body)
        except ServiceError as exc:
            raise ServiceError(exc.status, exc.title, f"readings[{i}]: {exc.detail}") from exc
        if not triggered and body.sensor_id not in open_ids:
            quiet.append(i)
    out: list[SensorOutcomeOut | None] = [None] * len(readings)
    if quiet:
        at = ctx.now()
        ctx.sensor_readings.record(
            ctx.uow, principal, client, *(_reading_row(at, principal, readings[i]) for i in quiet)
        )
        recorded = SensorOutcomeOut.model_construct
        for i in quiet:
            out[i] = recorded(sensor_id=readings[i].sensor_id, outcome="recorded", incident_id=None)
    for i, body in enumerate(readings):
        if out[i] is None:
            result, outcome = _eventful(ctx, principal, client, body)
            out[i] = SensorOutcomeOut(
                sensor_id=body.sensor_id,
                outcome=outcome,
                incident_id=None if result is None else result.incident.id,
            )
    return [o for o in out if o is not None]
