"""Trust for an ``https://``/``wss://`` engine: a site's private CA (``main.py certs init``) or the system's."""

from __future__ import annotations

import ssl


def tls_context(verify: ssl.SSLContext | str | bool) -> ssl.SSLContext | bool:
    """An SSL context that trusts only the CA file ``verify``; a context or True/False as given."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify
