"""Camera stream URLs: which schemes a camera may have, and how to speak of one without its secrets.

A stream URL usually carries the camera's user name and password, and always an internal address. It is
stored encrypted (app/store/sealed.py) and never appears in any text sent out: problem details, live
events and import errors show :func:`redact` or :func:`scrub` output instead.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")
MAX_STREAM_URL_CHARS = 1400  # sealed (encrypted + base64) it still fits the 2000-character column
_ANY_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b")
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]+\](?::\d{1,5})?")


def check_stream_url(url: str) -> str | None:
    """Why ``url`` cannot be a camera stream, or None. The reason never repeats the URL's credentials."""
    if not url:
        return None
    if len(url) > MAX_STREAM_URL_CHARS:
        return f"a stream URL is at most {MAX_STREAM_URL_CHARS} characters"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "not a URL"
    if parts.scheme.lower() not in STREAM_SCHEMES:
        return f"stream URLs are {', '.join(STREAM_SCHEMES)}, not {parts.scheme or 'no scheme'!r}"
    if not parts.hostname:
        return "a stream URL needs a host"
    return None


def redact(url: str) -> str:
    """``rtsp://user:pw@10.0.0.5:554/x`` → ``rtsp://***@10.0.0.5:554/x`` (for the engine's own log)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<url>"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc="***@" + host).geturl()


def scrub(text: str) -> str:
    """Text fit to send out: every URL and every IP address replaced by a placeholder."""
    text = _ANY_URL.sub("<stream>", text)
    text = _IPV6.sub("<address>", text)
    return _IPV4.sub("<address>", text)
