"""How the kiosk serves HTTP: uvicorn (h11), never held up by slow or too many clients.

:func:`uvicorn_config` is the one uvicorn configuration (``voice-triage kiosk``
and the tests use it).  Its connections are :func:`guarded_protocol`'s:

* a request's headers must arrive within ``web.header_timeout_s`` of the
  connection opening (or of the first byte of the next request on a kept-open
  connection): else 408 and the connection is closed (a half-sent request is
  never held);
* at most ``web.max_connections`` are open at once (503 past that) and
  ``web.max_connections_per_client`` from one address (429), a trusted proxy
  excepted; a refused connection gets one sentence and is closed at once;
* a client that reads nothing for ``web.send_timeout_s`` while the kiosk has
  something to send (a live stream nobody reads) is dropped; each connection's
  kernel send buffer is :data:`SEND_BUFFER` bytes, so such a client is noticed
  after a few hundred kilobytes, not megabytes.

uvicorn's own ``X-Forwarded-For`` handling is off: :class:`~voice_triage.kiosk.web.Guard`
trusts it from ``web.trusted_proxies`` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import socket
import time
from typing import Any

from .config import WebConfig

log = logging.getLogger(__name__)

LOG_EVERY_S = 60.0
SEND_BUFFER = 64 * 1024  # SO_SNDBUF of each connection (the kernel doubles it); a page's events are small


def _response(status: int, reason: str, sentence: str, extra: tuple[str, ...] = ()) -> bytes:
    body = json.dumps({"error": sentence}).encode()
    head = [
        f"HTTP/1.1 {status} {reason}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: close",
        "cache-control: no-store",
        "x-content-type-options: nosniff",
        *extra,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


TIMED_OUT = _response(408, "Request Timeout", "The request did not arrive in time.")
TOO_MANY_HERE = _response(
    429, "Too Many Requests", "Too many connections from this address: close some, then try again.", ("retry-after: 5",)
)
TOO_MANY = _response(
    503, "Service Unavailable", "The kiosk has too many connections open: try again shortly.", ("retry-after: 5",)
)


class ConnectionLimits:
    """Open connections, in all and per peer address (used on the event loop's thread only)."""

    def __init__(self, web: WebConfig) -> None:
        self.max_connections = web.max_connections
        self.per_client = web.max_connections_per_client
        self.trusted = [ipaddress.ip_network(n, strict=False) for n in web.trusted_proxies]
        self.total = 0
        self.by_peer: dict[str, int] = {}
        self.refused = 0
        self._logged = float("-inf")

    def _exempt(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer.split("%", 1)[0])
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def admit(self, peer: str) -> bytes | None:
        """None: admitted (count it); else the response that refuses it."""
        if self.total >= self.max_connections:
            refusal = TOO_MANY
        elif self.by_peer.get(peer, 0) >= self.per_client and not self._exempt(peer):
            refusal = TOO_MANY_HERE
        else:
            self.total += 1
            self.by_peer[peer] = self.by_peer.get(peer, 0) + 1
            return None
        self.refused += 1
        now = time.monotonic()
        if now - self._logged >= LOG_EVERY_S:
            self._logged = now
            log.warning("connections refused: too many open (%d refused so far)", self.refused)
        return refusal

    def release(self, peer: str) -> None:
        self.total -= 1
        left = self.by_peer.get(peer, 1) - 1
        if left > 0:
            self.by_peer[peer] = left
        else:
            self.by_peer.pop(peer, None)


def guarded_protocol(web: WebConfig) -> type[Any]:
    """uvicorn's h11 protocol with the header timeout, the connection limits and the send timeout."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    limits = ConnectionLimits(web)
    header_timeout_s = web.header_timeout_s
    send_timeout_s = web.send_timeout_s

    class GuardedH11Protocol(H11Protocol):
        limits_in_use = limits

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._peer = self.client[0] if self.client else ""
            self._header_timer: asyncio.TimerHandle | None = None
            self._send_timer: asyncio.TimerHandle | None = None
            refusal = limits.admit(self._peer)
            self._admitted = refusal is None
            if refusal is not None:
                transport.write(refusal)
                transport.close()
                return
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            self._arm_header_timer()

        def data_received(self, data: bytes) -> None:
            if not self._admitted:
                return
            super().data_received(data)
            if self.conn.their_state is h11.IDLE:  # the next request has begun, its headers not all here
                if self._header_timer is None and not self.transport.is_closing():
                    self._arm_header_timer()
            else:
                self._cancel_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_timer()
            if self._send_timer is not None:
                self._send_timer.cancel()
                self._send_timer = None
            if self._admitted:
                self._admitted = False
                limits.release(self._peer)
            super().connection_lost(exc)

        def pause_writing(self) -> None:
            super().pause_writing()
            if self._send_timer is None:
                self._send_timer = self.loop.call_later(send_timeout_s, self._send_timed_out)

        def resume_writing(self) -> None:
            super().resume_writing()
            if self._send_timer is not None:
                self._send_timer.cancel()
                self._send_timer = None

        def _arm_header_timer(self) -> None:
            self._header_timer = self.loop.call_later(header_timeout_s, self._header_timed_out)

        def _cancel_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _header_timed_out(self) -> None:
            self._header_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            if self.conn.our_state is h11.IDLE:  # nothing sent on this request yet: say why
                self.transport.write(TIMED_OUT)
            self.transport.close()

        def _send_timed_out(self) -> None:
            self._send_timer = None
            if not self.transport.is_closing():
                log.info("a client that read nothing for %g s was dropped", send_timeout_s)
                self.transport.abort()

    return GuardedH11Protocol


def uvicorn_config(app: Any, web: WebConfig) -> Any:
    """The kiosk's uvicorn.Config for ``app`` (served on sockets the caller binds)."""
    import uvicorn

    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # URLs carry no answers, but nothing else needs logging either
        timeout_graceful_shutdown=1,
        lifespan="off",
        http=guarded_protocol(web),
        proxy_headers=False,  # web.Guard trusts X-Forwarded-* from web.trusted_proxies only
        server_header=False,
        timeout_keep_alive=5,
    )
