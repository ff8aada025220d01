"""Per-client limits on questions: who the client is, and how many it may still ask.

The counts are in memory, per process: run one server process (uvicorn's default), or put
a shared limiter (the reverse proxy's) in front of several.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from typing import Any

MINUTE, DAY = 60.0, 86_400
RETRY_AFTER_SECONDS = 60
TOO_MANY = "You have asked a lot of questions in a short time. Please wait a minute and try again."


class RateLimiter:
    """A sliding one-minute window plus a count per UTC day, per client key."""

    def __init__(self, per_minute: int, per_day: int, max_keys: int = 100_000) -> None:
        self.per_minute, self.per_day, self.max_keys = per_minute, per_day, max_keys
        self._minute: dict[str, deque[float]] = {}
        self._day: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count one request for ``key``; False (and nothing counted) when over a limit."""
        now = time.time() if now is None else now
        today = int(now // DAY)
        with self._lock:
            if len(self._minute) > self.max_keys:  # many clients: forget the idle ones
                self._minute = {k: v for k, v in self._minute.items() if v and v[-1] > now - MINUTE}
                self._day = {k: v for k, v in self._day.items() if v[0] == today}
            window = self._minute.setdefault(key, deque())
            while window and window[0] <= now - MINUTE:
                window.popleft()
            day, used = self._day.get(key, (today, 0))
            used = used if day == today else 0
            if len(window) >= self.per_minute or used >= self.per_day:
                return False
            window.append(now)
            self._day[key] = (today, used + 1)
            return True


def client_key(request: Any, trusted_proxies: tuple[str, ...]) -> str:
    """The socket peer, unless it is a trusted proxy: then the nearest untrusted address in
    X-Forwarded-For. A client can put anything in that header, so it is never taken from
    an untrusted peer."""
    peer = request.client.host if request.client else "unknown"
    if not _trusted(peer, trusted_proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted_proxies):
            return hop
    return peer


def _trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)
