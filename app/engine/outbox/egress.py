"""Where webhooks may go: a guard against server-side request forgery.

An agency endpoint is ``https`` (``http`` only to loopback, or anywhere when ``[outbox] allow_http``); its
host may not be — or resolve to — a private, link-local (cloud metadata ``169.254.169.254``), unique-local,
carrier-grade NAT, multicast, reserved or unspecified address unless a network in ``[outbox]
allowed_networks`` holds it. The check runs when the endpoint is registered and again at every connection:
the dispatcher's connections resolve the name themselves, vet every address, and connect to a vetted
address (TLS still verifies the certificate against the name), so a name that resolves to a public address
at registration and to an internal one later (DNS rebinding) is refused at connect time. Redirects are never
followed (``follow_redirects=False`` in the dispatcher).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import typing
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx
from httpcore._backends.auto import AutoBackend
from httpcore._utils import is_socket_readable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Cloud metadata endpoints (link-local or ULA): named so the refusal says what it is.
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def _networks(allowed: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(n, strict=False) for n in allowed]


def address_problem(ip: IPAddress, allowed: list[Network], *, allow_loopback: bool = True) -> str | None:
    """Why ``ip`` may not receive webhooks, or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in n for n in allowed):
        return None
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip in METADATA:
        return "a cloud metadata address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "a reserved, multicast or unspecified address"
    if ip.is_private or (
        isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10")
    ):
        return "a private address"
    return None


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (blocking; the dispatcher calls :func:`aresolve`)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


async def aresolve(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def check_url(
    url: str,
    *,
    allow_http: bool,
    allowed_networks: Iterable[str],
    resolve: Callable[[str, int], list[str]] | bool = True,
) -> str | None:
    """Why ``url`` may not be a webhook endpoint, or None. Names that do not resolve now are let through
    (an air-gapped site may register before its DNS is ready): every connection is checked anyway.
    ``resolve``: True (the system's resolver), False (no name resolution) or a resolver."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    allowed = _networks(allowed_networks)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    loopback_name = host.lower() in ("localhost", "localhost.localdomain")
    if (
        parts.scheme == "http"
        and not allow_http
        and not loopback_name
        and not (literal and literal.is_loopback)
    ):
        return "plain http is only allowed to loopback (use https, or set [outbox] allow_http)"
    if literal is not None:
        why = address_problem(literal, allowed)
        return f"{host} is {why}" if why else None
    if resolve is False:
        return None
    lookup = resolve_host if resolve is True else resolve
    try:
        addresses = lookup(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError:
        return None
    for a in addresses:
        why = address_problem(ipaddress.ip_address(a.split("%")[0]), allowed)
        if why:
            return f"{host} resolves to {a}, {why}"
    return None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that resolves, vets and connects to an allowed address only."""

    def __init__(
        self,
        allowed_networks: Iterable[str] = (),
        resolver: Callable[[str, int], typing.Awaitable[list[str]]] | None = None,
    ) -> None:
        self._allowed = _networks(allowed_networks)
        self._resolve = resolver  # None: the module's aresolve, looked up at each connection
        self._inner = AutoBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            resolve = self._resolve or aresolve
            addresses = [host] if _is_literal(host) else await resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last: Exception | None = None
        for a in addresses:
            why = address_problem(ipaddress.ip_address(a.split("%")[0]), self._allowed)
            if why:
                raise httpcore.ConnectError(
                    f"refused: {host} resolves to {why} (not in [outbox] allowed_networks)"
                )
            try:
                return _VettedStream(
                    await self._inner.connect_tcp(a, port, timeout, local_address, socket_options)
                )
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"{host} resolves to no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - webhooks never use unix sockets
        raise httpcore.ConnectError("unix sockets are not webhook endpoints")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _VettedStream(httpcore.AsyncNetworkStream):
    """A connection to a vetted address whose raw socket is looked up once: httpcore asks every pooled
    connection whether it is readable (expired) for each request it places, and anyio's stream builds its
    whole attribute table to answer — most of the delivery sender's CPU before this (issue 17)."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._sock = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> httpcore.AsyncNetworkStream:
        return _VettedStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            return is_socket_readable(self._sock)
        if info == "socket":
            return self._sock
        return self._inner.get_extra_info(info)


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def guarded_transport(
    allowed_networks: Iterable[str] = (),
    *,
    max_connections: int = 100,
    max_keepalive: int = 20,
    resolver: Callable[[str, int], typing.Awaitable[list[str]]] | None = None,
) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection goes through :class:`GuardedBackend`."""
    transport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive)
    )
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive,
        network_backend=GuardedBackend(allowed_networks, resolver),
    )
    return transport
