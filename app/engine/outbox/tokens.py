"""Share tokens go into a webhook body only when it is sent.

The outbox row stores the event with a placeholder where a share's token goes (its URLs, its viewer page,
a report's snapshot): the database never holds a bearer token in clear. :func:`with_tokens` puts the
tokens in just before the body is rendered and signed, so the signature covers what is sent. A URL whose
token cannot be derived (a share from before the hashing, no key) is left out rather than sent broken.
"""

from __future__ import annotations

from app.formats.api import OutboundEvent
from app.store.share_tokens import fill


def with_tokens(event: OutboundEvent, key: bytes | None) -> OutboundEvent:
    update: dict[str, object] = {}
    if event.share is not None:
        urls: dict[str, str] = {}
        for camera_id, url in event.share.urls.items():
            filled = fill(url, key)
            if filled is not None:
                urls[camera_id] = filled
        viewer = None if event.share.viewer_url is None else fill(event.share.viewer_url, key)
        update["share"] = event.share.model_copy(update={"urls": urls, "viewer_url": viewer})
    if event.report is not None and event.report.snapshot_url is not None:
        update["report"] = event.report.model_copy(
            update={"snapshot_url": fill(event.report.snapshot_url, key)}
        )
    return event.model_copy(update=update) if update else event
