"""Per-client limits on questions: who the client is, and how many it may still ask.

The counts are in memory, per process, unless FAQBOT_REDIS_URL names a Redis that every
replica shares (``_shared_limits.py``). If that Redis stops answering, each process counts
on its own (one warning) and goes back to Redis once it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from typing import Any

from bot.serve._shared_limits import RECHECK_SECONDS, UNREACHABLE, SharedCounts

MINUTE, DAY = 60.0, 86_400
RETRY_AFTER_SECONDS = 60
TOO_MANY = "You have asked a lot of questions in a short time. Please wait a minute and try again."


class RateLimiter:
    """A sliding one-minute window plus a count per UTC day, per client key, for at most
    ``max_keys`` clients at a time (a flood of addresses cannot grow it without bound).

    With ``redis_url`` the counts live in that Redis under ``faqbot:<site>:<name>...``, so
    limiters of the same site and name in other processes share them; while it does not
    answer they are kept here, and Redis is tried again every ``recheck_seconds``."""

    # ~1 kB a client (measured): 20,000 clients active in one minute is ~20 MB at most.
    def __init__(
        self,
        per_minute: int,
        per_day: int,
        max_keys: int = 20_000,
        *,
        redis_url: str = "",
        site: str = "default",
        name: str = "asks",
        recheck_seconds: float = RECHECK_SECONDS,
    ) -> None:
        self.per_minute, self.per_day, self.max_keys = per_minute, per_day, max_keys
        # Least recently seen first, so the clients forgotten under pressure are the idlest.
        self._minute: OrderedDict[str, deque[float]] = OrderedDict()
        self._day: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._shared = (
            SharedCounts(redis_url, per_minute, per_day, site, name, recheck_seconds)
            if redis_url.strip()
            else None
        )

    @property
    def backend(self) -> str:
        """Where the counts are kept now, for /healthz: "redis", "process", or
        "process (redis unreachable)" (a down Redis is asked at most every few seconds)."""
        if self._shared is None:
            return "process"
        return "redis" if self._shared.probe() else "process (redis unreachable)"

    def __len__(self) -> int:
        """How many clients are tracked now."""
        with self._lock:
            return max(len(self._minute), len(self._day))

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count one request for ``key``; False (and nothing counted) when over a limit.
        ``now`` sets the clock of the counts kept here and the day of those in Redis."""
        now = time.time() if now is None else now
        today = int(now // DAY)
        if self._shared is not None and self._shared.usable():
            try:
                return self._shared.allow(key, today)
            except UNREACHABLE as exc:
                self._shared.failed(exc)
        with self._lock:
            if key not in self._minute and len(self._minute) >= self.max_keys:
                self._make_room(now, today)
            window = self._minute.setdefault(key, deque())
            self._minute.move_to_end(key)
            while window and window[0] <= now - MINUTE:
                window.popleft()
            day, used = self._day.get(key, (today, 0))
            used = used if day == today else 0
            if key in self._day:
                self._day.move_to_end(key)
            if len(window) >= self.per_minute or used >= self.per_day:
                return False
            window.append(now)
            self._day[key] = (today, used + 1)
            self._day.move_to_end(key)
            return True

    def _make_room(self, now: float, today: int) -> None:
        """Forget idle clients; if they are all active, the least recently seen ones. Down
        to 90% of the bound, so this O(n) pass runs once per tenth of it, not per request."""
        self._minute = OrderedDict(
            (k, v) for k, v in self._minute.items() if v and v[-1] > now - MINUTE
        )
        self._day = OrderedDict((k, v) for k, v in self._day.items() if v[0] == today)
        keep = self.max_keys * 9 // 10
        for table in (self._minute, self._day):
            while len(table) > keep:
                table.popitem(last=False)


def client_key(request: Any, trusted_proxies: tuple[str, ...]) -> str:
    """The socket peer, unless it is a trusted proxy: then the nearest untrusted address in
    X-Forwarded-For. A client can put anything in that header, so it is never taken from
    an untrusted peer."""
    peer = request.client.host if request.client else "unknown"
    if not is_trusted(peer, trusted_proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, trusted_proxies):
            return hop
    return peer


def is_trusted(address: str, trusted: tuple[str, ...]) -> bool:
    """Whether ``address`` is one of the proxies in ``trusted`` (CIDR networks)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)


class AnswerQueue:
    """Admission to the CPU-bound answer step, shared by every JSON route: ``slots`` answer
    at once, first come first served, and at most ``max_waiting`` wait for a turn (more
    are refused at once with 503 rather than left to time out)."""

    def __init__(self, slots: int, max_waiting: int) -> None:
        self.slots, self.max_waiting = slots, max_waiting
        self.waiting = 0
        self._turns: asyncio.Semaphore | None = None  # made in the serving loop

    def full(self) -> bool:
        return self.waiting >= self.max_waiting

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.slots)
        self.waiting += 1
        try:
            await self._turns.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._turns.release()
