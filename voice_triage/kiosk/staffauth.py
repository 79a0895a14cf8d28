"""Staff sign-in: the token compared in constant time, failed tries limited, one session per sign-in.

:func:`token_matches` hashes both sides before comparing, so the time taken
says nothing about the token, not even its length.

:class:`SignInLimiter` counts wrong tokens (from the sign-in form or a
``Bearer`` header) per client address and over all clients, in a sliding
window.  Past :data:`PER_CLIENT` failures in :data:`WINDOW_S` that client is
locked out for :data:`CLIENT_LOCK_S`; past :data:`OVERALL` failures from all
clients together, every client but the kiosk machine itself is locked out for
:data:`OVERALL_LOCK_S`.  A locked-out client is refused even with the right
token, so guessing gets a few tries a minute, not thousands a second.  Tries
while locked out are not counted: the lock-out stays short.

:class:`StaffSessions` gives each sign-in its own random cookie value (only
its SHA-256 is kept), valid for :data:`SESSION_S` or until signed out.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable

PER_CLIENT = 10
OVERALL = 100
WINDOW_S = 600.0
CLIENT_LOCK_S = 120.0
OVERALL_LOCK_S = 60.0
MAX_CLIENTS = 10_000  # addresses remembered at once (the oldest are forgotten first)
SESSION_S = 12 * 3600.0
MAX_SESSIONS = 200


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def token_matches(given: str, token: str) -> bool:
    """Whether ``given`` is the token, in time that does not depend on either."""
    return hmac.compare_digest(_digest(given), _digest(token))


class SignInLimiter:
    def __init__(
        self,
        *,
        per_client: int = PER_CLIENT,
        overall: int = OVERALL,
        window_s: float = WINDOW_S,
        client_lock_s: float = CLIENT_LOCK_S,
        overall_lock_s: float = OVERALL_LOCK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_client = per_client
        self.overall = overall
        self.window_s = window_s
        self.client_lock_s = client_lock_s
        self.overall_lock_s = overall_lock_s
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()
        self._locked_until: dict[str, float] = {}
        self._all: collections.deque[float] = collections.deque()
        self._all_locked_until = 0.0

    def wait_s(self, client: str, *, local: bool = False) -> int:
        """Whole seconds until ``client`` may try again (0: now).  ``local``: the kiosk machine itself."""
        now = self.clock()
        with self._lock:
            until = self._locked_until.get(client, 0.0)
            if until <= now:
                self._locked_until.pop(client, None)
                until = 0.0
            if not local:
                until = max(until, self._all_locked_until)
        return math.ceil(until - now) if until > now else 0

    def failed(self, client: str) -> None:
        """A wrong token from ``client``."""
        now = self.clock()
        with self._lock:
            times = self._failures.pop(client, None) or collections.deque()
            times.append(now)
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if len(times) >= self.per_client:
                self._locked_until[client] = now + self.client_lock_s
                times.clear()
            self._failures[client] = times  # most recent last
            while len(self._failures) > MAX_CLIENTS:
                self._failures.popitem(last=False)
            if len(self._locked_until) > MAX_CLIENTS:
                for stale in [c for c, t in self._locked_until.items() if t <= now]:
                    del self._locked_until[stale]
            self._all.append(now)
            while self._all and self._all[0] <= now - self.window_s:
                self._all.popleft()
            if len(self._all) >= self.overall:
                self._all_locked_until = now + self.overall_lock_s
                self._all.clear()


class StaffSessions:
    def __init__(
        self, *, max_age_s: float = SESSION_S, limit: int = MAX_SESSIONS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age_s = max_age_s
        self.limit = limit
        self.clock = clock
        self._lock = threading.Lock()
        self._expiry: collections.OrderedDict[bytes, float] = collections.OrderedDict()

    def new(self) -> str:
        """A new session: the cookie value."""
        value = secrets.token_urlsafe(32)
        with self._lock:
            self._expiry[_digest(value)] = self.clock() + self.max_age_s
            while len(self._expiry) > self.limit:  # the oldest sign-in goes first
                self._expiry.popitem(last=False)
        return value

    def valid(self, value: str) -> bool:
        if not value or len(value) > 100:
            return False
        key = _digest(value)
        now = self.clock()
        with self._lock:
            expiry = self._expiry.get(key)
            if expiry is None:
                return False
            if expiry <= now:
                del self._expiry[key]
                return False
            return True

    def revoke(self, value: str) -> bool:
        """Sign out: the cookie value is no longer valid.  Whether it was."""
        with self._lock:
            return self._expiry.pop(_digest(value), None) is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)
