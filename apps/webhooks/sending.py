"""One HTTP POST to a webhook endpoint, safe against server-side request forgery, and its signature.

An endpoint's URL is ours to call but theirs to choose, so the portal must never be talked into calling its
own network (a metadata service at 169.254.169.254, a database on 10.x, an admin port on localhost). The
host is resolved once; every address it resolves to must be public (``address_refusal``), and the connection
is made to that vetted address (with the URL's host name in the Host header and for TLS), never by resolving
the name again: a DNS answer that changes between the check and the call (DNS rebinding) cannot slip past.
Redirects are not followed (a 3xx is a failed attempt, as in Svix). ``settings.WEBHOOK_ALLOW_LOOPBACK``
allows loopback addresses only (development and tests: a receiver on this machine), nothing else.

Signing follows the Standard Webhooks specification with its reference package (``standardwebhooks``):
``webhook-signature`` carries ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``, one per secret,
separated by a space (two during a secret rotation's overlap).
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from standardwebhooks.webhooks import Webhook

USER_AGENT = "chargeback-portal-webhooks/1"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the public prefix of the secret form
SECRET_BYTES = 24
EXCERPT_CHARS = 500
_READ_BYTES = 4096


class TargetRefused(Exception):
    """The URL may not be called: the message says why (shown to the admin and logged on the attempt)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the vetted IP address the connection goes to


@dataclass(frozen=True)
class Answer:
    status_code: int
    excerpt: str
    latency_ms: int


def address_refusal(address: str) -> str | None:
    """Why a connection to ``address`` is refused, or None when it may be called."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if ip.is_loopback:
        return None if settings.WEBHOOK_ALLOW_LOOPBACK else f"{ip} is a loopback address"
    for flag, label in (
        ("is_unspecified", "an unspecified"),
        ("is_link_local", "a link-local"),
        ("is_multicast", "a multicast"),
        ("is_private", "a private"),
        ("is_reserved", "a reserved"),
    ):
        if getattr(ip, flag):
            return f"{ip} is {label} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL, or TargetRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"The URL is not valid: {exc}.") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("Webhook URLs start with https:// (or http://).")
    if not parts.hostname:
        raise TargetRefused("The URL names no host.")
    if parts.username or parts.password:
        raise TargetRefused("The URL may not carry a user name or password.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve(url: str) -> Target:
    """Resolve the URL's host once and vet every address it has; the target connects to the first."""
    scheme, host, port, path = split_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"{host} cannot be resolved ({exc}).") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise TargetRefused(f"{host} has no address.")
    for address in addresses:
        if reason := address_refusal(address):
            raise TargetRefused(f"{host} is refused: {reason}.")
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def registration_refusal(url: str) -> str | None:
    """Why ``url`` may not be registered, or None. A host that does not resolve yet is accepted (it is
    resolved and vetted again before every send); one that resolves to a refused address is not."""
    try:
        split_url(url)
        resolve(url)
    except TargetRefused as exc:
        if "cannot be resolved" in str(exc) or "has no address" in str(exc):
            return None
        return str(exc)
    return None


def new_secret() -> str:
    """``whsec_`` + base64 of 24 random bytes: the Standard Webhooks secret form (its package reads it)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature_header(keys: list[str], msg_id: str, sent_at: datetime, body: str) -> str:
    """``webhook-signature``: one ``v1,<base64>`` per secret, space-separated (Standard Webhooks)."""
    return " ".join(Webhook(key).sign(msg_id=msg_id, timestamp=sent_at, data=body) for key in keys)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to the vetted address; the Host header still names the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the vetted address; the certificate is checked against the URL's host name (SNI too)."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """POST ``body`` to the target's vetted address. Raises OSError (refused, timed out, reset) or
    http.client.HTTPException (not HTTP) when no answer came."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, target.port, target.address, timeout)
    started = time.monotonic()
    try:
        connection.request("POST", target.path, body=body, headers={"user-agent": USER_AGENT, **headers})
        response = connection.getresponse()
        raw = response.read(_READ_BYTES)
        latency_ms = round((time.monotonic() - started) * 1000)
    finally:
        connection.close()
    return Answer(
        status_code=response.status,
        excerpt=raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS],
        latency_ms=latency_ms,
    )
