"""Per-client budgets counted in Redis, so every replica behind a balancer shares them
(ratelimit.RateLimiter uses this when FAQBOT_REDIS_URL is set).

The windows are the ``limits`` package's on its Redis storage: a moving one-minute window
(the same sliding log the in-process counts keep) and a fixed window per UTC day. Keys are
``faqbot:<site>:...``, expire by themselves, and hold no address: the client key is an HMAC
under a random salt that changes every UTC day (kept in Redis so that every replica hashes
alike), like the question log's address hash.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import threading
import time
from hashlib import sha256
from typing import Any
from urllib.parse import urlsplit

from limits import RateLimitItemPerDay, RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from bot.config import check_redis_url
from bot.errors import ConfigError

log = logging.getLogger("bot.serve.ratelimit")

PREFIX = "faqbot"
SITE_NAME = re.compile(r"[a-z0-9-]{1,40}")
DAY = 86_400
# Loopback or a LAN answers in milliseconds; a Redis that takes longer counts as down rather
# than slowing every answer. No retries: the next request (or the recheck) is the retry.
CONNECT_TIMEOUT, READ_TIMEOUT = 0.25, 0.5
RECHECK_SECONDS = 5.0
# What a Redis outage looks like from here: redis-py's errors (limits passes them on).
UNREACHABLE = (RedisError, StorageError, OSError)


def where(url: str) -> str:
    """The Redis address without its password, for logs."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path if parts.scheme == 'unix' else ''}"


class SharedCounts:
    """One limiter's minute and day budgets in Redis, and whether Redis is reachable now.

    ``allow`` raises one of ``UNREACHABLE`` when Redis cannot answer; ``usable`` says whether
    to ask it at all (after a failure, once every ``recheck`` seconds, by one caller)."""

    def __init__(
        self,
        url: str,
        per_minute: int,
        per_day: int,
        site: str = "default",
        name: str = "asks",
        recheck: float = RECHECK_SECONDS,
    ) -> None:
        url = check_redis_url(url)
        if not SITE_NAME.fullmatch(site) or not SITE_NAME.fullmatch(name):
            raise ValueError(f"site and limiter names are [a-z0-9-]{{1,40}}: {site!r}, {name!r}")
        self.where, self.recheck = where(url), recheck
        # limits spells a Unix socket redis+unix:// (and hands redis-py unix:// again).
        uri = "redis+" + url if url.lower().startswith("unix://") else url
        try:
            self.storage = RedisStorage(
                uri, key_prefix=f"{PREFIX}:{site}",
                socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=READ_TIMEOUT,
                retry=Retry(NoBackoff(), 0),  # type: ignore[arg-type]
            )  # fmt: skip
        except (ValueError, TypeError) as exc:  # a port that is not a number, a bad db ...
            raise ConfigError("FAQBOT_REDIS_URL", self.where, f"a Redis URL ({exc})") from None
        self.minute_window = MovingWindowRateLimiter(self.storage)
        self.day_window = FixedWindowRateLimiter(self.storage)
        self.per_minute = RateLimitItemPerMinute(per_minute, namespace=name)
        self.per_day = RateLimitItemPerDay(per_day, namespace=name)
        self.reachable = True
        self._next_try = 0.0  # monotonic; while unreachable, when to try Redis again
        self._salt: tuple[int, bytes, float] | None = None  # (day, salt, checked at)
        self._state = threading.Lock()

    def usable(self) -> bool:
        """Whether to count in Redis now: yes while it answers; after a failure, no until
        ``recheck`` seconds have passed, then yes for exactly one caller (the probe)."""
        if self.reachable:
            return True
        with self._state:
            now = time.monotonic()
            if now < self._next_try:
                return False
            self._next_try = now + self.recheck  # the others keep counting here meanwhile
            return True

    def allow(self, key: str, today: int) -> bool:
        """Count one request for ``key`` in Redis; False when over a budget."""
        client = self._hashed(key, today)
        # Minute first: a request it refuses costs nothing of the day. One the day refuses
        # stays in the minute's window, which only matters once that day is over.
        allowed = self.minute_window.hit(self.per_minute, client) and self.day_window.hit(
            self.per_day, client, str(today)
        )
        self.answered()
        return allowed

    def probe(self) -> bool:
        """Whether Redis answers a ping now (throttled like ``usable``)."""
        if self.usable():
            if self.storage.check():
                self.answered()
            else:
                self.failed(ConnectionError("no answer to PING"))
        return self.reachable

    def answered(self) -> None:
        if not self.reachable:
            with self._state:
                if not self.reachable:
                    self.reachable = True
                    log.info("Redis at %s answers again: per-client limits are shared", self.where)

    def failed(self, exc: BaseException) -> None:
        """Redis did not answer: count in the process, warn once per outage."""
        with self._state:
            self._next_try = time.monotonic() + self.recheck
            if self.reachable:
                self.reachable = False
                self._salt = None
                log.warning(
                    "Redis at %s is unreachable (%s): per-client limits are counted in this "
                    "process until it answers again (tried every %g s). Check FAQBOT_REDIS_URL "
                    "and that Redis is running.", self.where, getattr(exc, "storage_error", exc),
                    self.recheck,
                )  # fmt: skip

    def _hashed(self, key: str, today: int) -> str:
        """The client as stored: an HMAC under today's shared salt, never the address."""
        cached, now = self._salt, time.monotonic()
        if cached is None or cached[0] != today or now - cached[2] > self.recheck:
            # SET NX keeps the first replica's salt; offering our own again restores it
            # for everyone if Redis restarted empty in the meantime.
            mine = cached[1] if cached and cached[0] == today else secrets.token_bytes(16)
            name = self.storage.prefixed_key(f"salt:{today}")
            client: Any = self.storage.get_connection()  # redis-py's client
            with client.pipeline() as pipe:
                pipe.set(name, mine, nx=True, ex=2 * DAY)
                pipe.get(name)
                salt = pipe.execute()[1] or mine
            cached = self._salt = (today, bytes(salt), now)
        return hmac.new(cached[1], key.encode(), sha256).hexdigest()[:16]
