"""Who may use the admin page (bot/serve/admin.py): its tokens and session cookies, the
lockout after wrong tokens, and whether a POST comes from the page itself."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from urllib.parse import urlsplit

from fastapi import Request

from bot.config import Settings
from bot.serve.ratelimit import RateLimiter, is_trusted

SESSION_SECONDS = 12 * 3600
LOGIN_PER_MINUTE, LOGIN_PER_DAY = 10, 200  # failed token attempts per client
# A number as this app writes one: ASCII digits only (str.isdigit() takes "²", which int()
# then refuses), and short enough for int() (Python refuses over 4,300 digits).
NUMBER = re.compile(r"[0-9]{1,12}")


class Sessions:
    """The token check and the session cookie: ``<expiry>.<hmac(token, site, expiry)>``,
    keyed by the token that logged in. Several tokens may be accepted (a site's own and the
    deployment's); the site's name in the MAC keeps a cookie to the site that issued it."""

    def __init__(self, tokens: Sequence[str], site: str = "") -> None:
        self.keys = tuple(dict.fromkeys(t.encode() for t in tokens if t))
        self.site = site

    def token(self, given: str) -> bytes | None:
        """The accepted token ``given`` is, or None. Every token is compared, each in
        constant time, so the time taken does not tell which one came closer."""
        found = None
        for key in self.keys:
            if hmac.compare_digest(given.encode(), key):
                found = key
        return found

    def _mac(self, key: bytes, expiry: int) -> str:
        message = f"faqbot-admin-session:{self.site}:{expiry}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def cookie(self, key: bytes, now: float) -> str:
        expiry = int(now) + SESSION_SECONDS
        return f"{expiry}.{self._mac(key, expiry)}"

    def cookie_ok(self, value: str, now: float) -> bool:
        expiry, _, mac = value.partition(".")
        if not NUMBER.fullmatch(expiry) or not now < int(expiry) <= now + SESSION_SECONDS:
            return False
        matches = [hmac.compare_digest(mac.encode(), self._mac(k, int(expiry)).encode())
                   for k in self.keys]  # fmt: skip
        return any(matches)


class Attempts:
    """Wrong tokens per client: after LOGIN_PER_MINUTE of them in a minute a client is
    refused for a minute before its token is even compared (the right one too), so
    guessing cannot go on at full speed."""

    MAX_LOCKED = 10_000

    def __init__(self, settings: Settings) -> None:
        # The failure the limiter refuses is the one that reaches the limit: it starts the lock.
        # Counted in Redis when there is one, so a guesser spread over replicas is one guesser.
        self.failures = RateLimiter(
            LOGIN_PER_MINUTE - 1,
            LOGIN_PER_DAY - 1,
            redis_url=settings.redis_url,
            site=settings.site or "default",
            name="admin-login",
        )
        self.locked: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def blocked(self, key: str, now: float) -> bool:
        return self.locked.get(key, 0.0) > now  # a dict read is atomic

    def failed(self, key: str, now: float) -> None:
        if self.failures.allow(key, now):
            return
        with self._lock:
            self.locked[key] = now + 60.0
            self.locked.move_to_end(key)
            while len(self.locked) > self.MAX_LOCKED:
                self.locked.popitem(last=False)


def same_origin(request: Request, trusted: tuple[str, ...]) -> bool:
    """A POST from this host's own pages: its Origin, when sent, names this host (the one a
    trusted proxy forwarded for), and the browser does not call it cross-site."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser, or an old one: SameSite=Strict still keeps the cookie
    host = request.headers.get("host", "")
    peer = request.client.host if request.client else ""
    if is_trusted(peer, trusted) and request.headers.get("x-forwarded-host"):
        host = request.headers["x-forwarded-host"].split(",")[0].strip()
    return origin != "null" and urlsplit(origin).netloc.lower() == host.lower()


def is_https(request: Request, trusted: tuple[str, ...]) -> bool:
    peer = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-proto", "") if is_trusted(peer, trusted) else ""
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"
