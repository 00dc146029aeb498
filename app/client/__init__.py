"""Async engine client for the console and the wall (httpx + WebSocket); no Qt (DESIGN §3)."""

from app.client.engine import EngineClient, MediaGrant, StreamKind, camera_stream_url
from app.client.errors import EngineError, EngineUnreachable, NotAuthenticated
from app.client.live import Backoff, FeedState, LiveFeed, live_url

__all__ = [
    "Backoff",
    "EngineClient",
    "EngineError",
    "EngineUnreachable",
    "FeedState",
    "LiveFeed",
    "MediaGrant",
    "NotAuthenticated",
    "StreamKind",
    "camera_stream_url",
    "live_url",
]
