"""Translated names of the engine's vocabularies (services, statuses, timeline kinds …), in one place.

Functions, not constants: each call translates with the language installed now.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication

from app.domain.enums import IncidentStatus, Service


def service_name(service: str) -> str:
    names = {
        Service.EMERGENCY_VIDEO_112.value: QCoreApplication.translate("Labels", "112 emergency video"),
        Service.DISPATCH_112.value: QCoreApplication.translate("Labels", "112 dispatch"),
        Service.DISPATCH_119.value: QCoreApplication.translate("Labels", "119 dispatch"),
        Service.DISASTER_RESPONSE.value: QCoreApplication.translate("Labels", "Disaster response"),
        Service.VULNERABLE_SOS.value: QCoreApplication.translate("Labels", "Vulnerable person SOS"),
    }
    return names.get(str(service), str(service))


def status_name(status: str) -> str:
    names = {
        IncidentStatus.NEW.value: QCoreApplication.translate("Labels", "New"),
        IncidentStatus.ACKNOWLEDGED.value: QCoreApplication.translate("Labels", "Acknowledged"),
        IncidentStatus.CLOSED.value: QCoreApplication.translate("Labels", "Closed"),
    }
    return names.get(str(status), str(status))


def priority_name(priority: int) -> str:
    names = {
        1: QCoreApplication.translate("Labels", "1 – critical"),
        2: QCoreApplication.translate("Labels", "2 – high"),
        3: QCoreApplication.translate("Labels", "3 – medium"),
        4: QCoreApplication.translate("Labels", "4 – low"),
        5: QCoreApplication.translate("Labels", "5 – minimal"),
    }
    return names.get(priority, str(priority))


def purpose_name(purpose: str) -> str:
    names = {
        "crime": QCoreApplication.translate("Labels", "Crime prevention"),
        "traffic": QCoreApplication.translate("Labels", "Traffic"),
        "disaster": QCoreApplication.translate("Labels", "Disaster watch"),
        "child-protection": QCoreApplication.translate("Labels", "Child protection"),
        "other": QCoreApplication.translate("Labels", "Other"),
    }
    return names.get(str(purpose), str(purpose))


def agency_kind_name(kind: str) -> str:
    names = {
        "police": QCoreApplication.translate("Labels", "Police"),
        "fire": QCoreApplication.translate("Labels", "Fire"),
        "disaster": QCoreApplication.translate("Labels", "Disaster"),
        "vulnerable": QCoreApplication.translate("Labels", "Vulnerable-person service"),
    }
    return names.get(str(kind), str(kind))


def delivery_state_name(state: str) -> str:
    names = {
        "delivered": QCoreApplication.translate("Labels", "Delivered"),
        "pending": QCoreApplication.translate("Labels", "Pending"),
        "retrying": QCoreApplication.translate("Labels", "Retrying"),
        "dead-letter": QCoreApplication.translate("Labels", "Dead letter"),
        "dead": QCoreApplication.translate("Labels", "Dead letter"),
    }
    return names.get(str(state), str(state))


def share_state_name(state: str) -> str:
    names = {
        "active": QCoreApplication.translate("Labels", "Active"),
        "expiring": QCoreApplication.translate("Labels", "Expiring soon"),
        "expired": QCoreApplication.translate("Labels", "Expired"),
        "revoked": QCoreApplication.translate("Labels", "Revoked"),
        "pending": QCoreApplication.translate("Labels", "Waiting for approval"),
    }
    return names.get(str(state), str(state))


def agency_state_name(state: str) -> str:
    names = {
        "ok": QCoreApplication.translate("Labels", "OK"),
        "failing": QCoreApplication.translate("Labels", "Failing"),
        "disabled": QCoreApplication.translate("Labels", "Disabled"),
        "idle": QCoreApplication.translate("Labels", "Idle"),
        "dead-letter": QCoreApplication.translate("Labels", "Dead letters"),
    }
    return names.get(str(state), str(state))


def timeline_text(kind: str, data: dict[str, Any]) -> str:
    """One line for a timeline event."""

    def g(key: str) -> str:
        v = data.get(key)
        if isinstance(v, list):
            return ", ".join(str(x) for x in v)
        if isinstance(v, dict):
            return " → ".join(str(x) for x in v.values())
        return "" if v is None else str(v)

    texts = {
        "created": lambda: QCoreApplication.translate("Labels", "Incident created ({service})").format(
            service=service_name(g("service"))
        ),
        "cameras.selected": lambda: QCoreApplication.translate(
            "Labels", "Cameras selected: {cameras}"
        ).format(cameras=g("cameras")),
        "alert.all_clear": lambda: QCoreApplication.translate(
            "Labels", "All-clear received: {headline}"
        ).format(headline=g("headline") or g("identifier")),
        "location.updated": lambda: QCoreApplication.translate("Labels", "Location updated"),
        "closed": lambda: QCoreApplication.translate("Labels", "Closed: {reason}").format(reason=g("reason")),
        "units.dispatched": lambda: QCoreApplication.translate("Labels", "Units dispatched: {units}").format(
            units=g("units")
        ),
        "note": lambda: QCoreApplication.translate("Labels", "Note: {text}").format(text=g("text")),
        "warning": lambda: QCoreApplication.translate("Labels", "Warning: {text}").format(text=g("text")),
        "sensor.reading": lambda: QCoreApplication.translate("Labels", "Sensor reading {value}").format(
            value=g("value")
        ),
        "share.created": lambda: QCoreApplication.translate(
            "Labels", "Shared with {agency} for {minutes} min"
        ).format(agency=g("agency"), minutes=g("minutes")),
        "share.revoked": lambda: QCoreApplication.translate("Labels", "Share with {agency} revoked").format(
            agency=g("agency")
        ),
        "share.extended": lambda: QCoreApplication.translate(
            "Labels", "Share extended by {minutes} min"
        ).format(minutes=g("minutes")),
        "status.changed": lambda: QCoreApplication.translate("Labels", "Status changed: {value}").format(
            value=status_name(g("value"))
        ),
        "assignee.changed": lambda: QCoreApplication.translate("Labels", "Assigned to {value}").format(
            value=g("value") or "-"
        ),
        "priority.changed": lambda: QCoreApplication.translate("Labels", "Priority changed: {value}").format(
            value=g("value")
        ),
        "report.created": lambda: QCoreApplication.translate("Labels", "Reported to {agency}").format(
            agency=g("agency")
        ),
        "delivery.requeued": lambda: QCoreApplication.translate("Labels", "Delivery queued again"),
        "share.requested": lambda: QCoreApplication.translate(
            "Labels", "Share with {agency} for {minutes} min waits for a decision"
        ).format(agency=g("agency"), minutes=g("minutes")),
        "share.over_cap": lambda: QCoreApplication.translate(
            "Labels", "{agency} asked for {chosen} cameras, above its cap of {cap}: confirm the share"
        ).format(agency=g("agency"), chosen=g("chosen"), cap=g("cap")),
        "share.approved": lambda: QCoreApplication.translate("Labels", "Share with {agency} approved").format(
            agency=g("agency")
        ),
        "share.rejected": lambda: QCoreApplication.translate("Labels", "Share rejected: {reason}").format(
            reason=g("reason")
        ),
        "share.extension.requested": lambda: QCoreApplication.translate(
            "Labels", "Extension by {minutes} min waits for a supervisor"
        ).format(minutes=g("minutes")),
    }
    fn = texts.get(kind)
    return fn() if fn else kind
