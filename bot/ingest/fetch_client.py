"""Fetching one URL politely and within bounds, for ``bot.ingest.fetch``: robots.txt per origin
(Crawl-delay honoured up to a cap, one request at a time then), at most ``concurrency``
requests at once per host, at most 5 same-origin redirects, address checks (each
host resolved once per run, and connections go to exactly the addresses checked), size
and time caps, content-type filter, and conditional requests from the cache."""

from __future__ import annotations

import mimetypes
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from bot.config import Settings
from bot.ingest import webparse
from bot.ingest.fetch_cache import FetchCache

USER_AGENT = "faqbot/0.1"
ROBOTS_TOKEN = "faqbot"  # the product token robots.txt groups are matched against
MAX_REDIRECTS = 5
MAX_ROBOTS_BYTES = 512_000  # RFC 9309: parse at least 500 KiB
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PAGE_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown"}
    | {"application/pdf", DOCX}
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
CREDENTIALS = (
    "the address holds a user name or password (not shown here); faqbot never sends "
    "credentials: list the page's public address, or save the page into corpus/"
)
_GUESS = {".md": "text/markdown", ".markdown": "text/markdown", ".docx": DOCX}


@dataclass(frozen=True)
class FetchLimits:
    """Bounds of one fetch run (``from_settings`` reads them from ``FAQBOT_FETCH_*``)."""

    max_pages: int = 2_000  # as FAQBOT_FETCH_MAX_PAGES: a whole college site with room
    max_bytes: int = 20_000_000
    timeout: float = 15.0  # seconds per request
    total_seconds: float = 600.0  # the whole run; later pages are skipped
    crawl_depth: int = 0  # 0: listed and sitemap URLs only; n: follow links n steps
    allow_private: bool = False
    max_crawl_delay: float = 10.0  # a longer robots.txt Crawl-delay is capped to this
    concurrency: int = 4  # requests at once per host (1 while robots.txt sets a Crawl-delay)

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchLimits:
        return cls(
            max_pages=settings.fetch_max_pages,
            max_bytes=settings.fetch_max_bytes,
            timeout=settings.fetch_timeout,
            total_seconds=settings.fetch_budget,
            crawl_depth=settings.fetch_crawl_depth,
            allow_private=settings.fetch_allow_private,
            concurrency=settings.fetch_concurrency,
        )


class Refused(Exception):
    """One URL could not be fetched; ``reason`` goes into the skipped list."""

    def __init__(self, reason: str, keep_stale: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.keep_stale = keep_stale


@dataclass(frozen=True)
class Answer:
    url: str  # after redirects
    status: int  # 200 or 304
    content: bytes
    content_type: str
    etag: str
    last_modified: str


def has_credentials(url: str) -> bool:
    """Whether ``url`` carries a user name or password (``https://user:pass@host/``)."""
    # Without an "@" there is none: most addresses are not parsed at all.
    return "@" in url and "@" in urlsplit(url).netloc


def redact(url: str) -> str:
    """``url`` without its user name and password, fit to be shown or stored."""
    if "@" not in url:
        return url
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: matches nothing
        port = -1
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme)


def same_site(url: str, target: str) -> bool:
    """A redirect may stay on ``url``'s origin (scheme, host and port), or move from http to
    https on the same host's default ports (the usual upgrade); nothing else."""
    here, there = _origin(url), _origin(target)
    upgrade = here == ("http", there[1], 80) and there[0] == "https" and there[2] == 443
    return here == there or upgrade


def _host_key(host: str) -> str:
    """One spelling of a host name for both urlsplit (Unicode) and httpcore (IDNA)."""
    host = host.strip("[]").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


class PinnedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, but a host name is dialled at the addresses ``addresses``
    gives for it (the ones the fetcher checked), never looked up again: DNS that changes
    between the check and the connection (rebinding) cannot move it. TLS still verifies
    the certificate against the host name (httpcore passes it as SNI)."""

    def __init__(self, addresses: Callable[[str], list[str]]) -> None:
        self.addresses = addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failed: httpcore.ConnectError | None = None
        for address in self.addresses(host):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # the next checked address, if any
                failed = exc
        raise failed or httpcore.ConnectError(f"no address for {host}")


def pinned_client(addresses: Callable[[str], list[str]], timeout: float) -> httpx.Client:
    """An httpx client whose connections go only to the checked addresses. Environment
    proxies are ignored (``trust_env=False``): through a proxy, the proxy would pick the
    address."""
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx does not expose httpcore's network_backend hook: give its transport a pool
    # built with one (the pool is the transport's only state).
    if not isinstance(getattr(transport, "_pool", None), httpcore.ConnectionPool):
        raise RuntimeError("this httpx version's transport has no connection pool to pin")
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        network_backend=PinnedBackend(addresses),
    )
    return httpx.Client(
        transport=transport, follow_redirects=False, timeout=timeout, trust_env=False
    )


def _content_type(header: str, url: str) -> str:
    kind = header.split(";", 1)[0].strip().lower()
    if kind in ("", "application/octet-stream", "binary/octet-stream"):
        # Servers often label Markdown, PDF and Word files vaguely; the extension decides.
        suffix = Path(urlsplit(url).path).suffix.lower()
        kind = _GUESS.get(suffix) or mimetypes.types_map.get(suffix, kind)
    return kind


class Fetcher:
    """One run's state: the client, robots rules per origin, when each origin was last
    asked, each host's addresses (resolved once), the hosts whose own listed address is
    private, and the deadline. Without a ``client``, one that connects only to the
    checked addresses is made (a client passed in, as tests do, connects as it likes)."""

    def __init__(
        self,
        client: httpx.Client | None,
        limits: FetchLimits,
        cache: FetchCache,
        resolve: webparse.Resolver,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.client = client or pinned_client(self.addresses, limits.timeout)
        self.limits, self.cache = limits, cache
        self.resolve, self.sleep, self.clock = resolve, sleep, clock
        self.deadline = clock() + limits.total_seconds
        self.robots: dict[str, webparse.RobotRules] = {}
        self.last_asked: dict[str, float] = {}
        self.resolved: dict[str, list[str]] = {}
        self.private_ok: set[str] = set()
        # Pages are fetched from several threads (bot.ingest.fetch): the per-run tables
        # above are filled under this lock, and each host gets a bounded number of slots.
        self._lock = threading.RLock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._one_at_a_time: dict[str, threading.Lock] = {}

    def _lookup(self, host: str) -> list[str]:
        # Once per run: what was checked is what is connected to (see PinnedBackend).
        key = _host_key(host)
        with self._lock:
            if key not in self.resolved:
                try:
                    self.resolved[key] = list(self.resolve(host))
                except OSError as exc:
                    raise Refused(f"cannot resolve host {host} ({exc})") from None
            return self.resolved[key]

    def trust_listed(self, urls: Iterable[str]) -> None:
        """A host the college listed on a private/loopback address may stay on one."""
        for url in urls:
            host = webparse.host_of(url)
            if host and not has_credentials(url):
                try:
                    if webparse.non_public(self._lookup(host)):
                        self.private_ok.add(_host_key(host))
                except Refused:
                    pass  # reported when the URL itself is fetched

    def addresses(self, host: str) -> list[str]:
        """``host``'s addresses, once checked: Refused if any is private or loopback and
        neither listed nor allowed."""
        addresses = self._lookup(host)
        bad = webparse.non_public(addresses)
        if bad and not (self.limits.allow_private or _host_key(host) in self.private_ok):
            raise Refused(
                f"{host} resolves to a private or loopback address ({', '.join(bad)}); "
                "set FAQBOT_FETCH_ALLOW_PRIVATE=1 if that is intended"
            )
        return addresses

    def _time_left(self) -> float:
        left = self.deadline - self.clock()
        if left <= 0:
            raise Refused(
                f"time budget of {self.limits.total_seconds:g} s used up; "
                "raise FAQBOT_FETCH_BUDGET or list fewer pages"
            )
        return left

    def _request(
        self, url: str, headers: dict[str, str], max_bytes: int, types: frozenset[str] | None
    ) -> tuple[httpx.Response, bytes, str]:
        """One GET, streamed: refuses early on a too-large Content-Length or an unwanted
        type, and stops reading past ``max_bytes`` or the per-request time limit."""
        if has_credentials(url):
            raise Refused(CREDENTIALS, keep_stale=False)
        self.addresses(webparse.host_of(url))
        timeout = min(self.limits.timeout, self._time_left())
        started = self.clock()
        headers = {"User-Agent": USER_AGENT, **headers}
        try:
            with self.client.stream(
                "GET", url, headers=headers, timeout=timeout, follow_redirects=False
            ) as resp:
                kind = _content_type(resp.headers.get("content-type", ""), url)
                if resp.status_code != 200:
                    return resp, b"", kind
                if types is not None and kind not in types:
                    raise Refused(f"content type {kind or 'missing'} is not a page type")
                declared = resp.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise Refused(f"over {max_bytes} bytes (Content-Length {declared})")
                chunks, size = [], 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise Refused(f"over {max_bytes} bytes")
                    if self.clock() - started > timeout:
                        raise Refused(f"timed out after {timeout:g} s")
                    chunks.append(chunk)
                return resp, b"".join(chunks), kind
        except httpx.TimeoutException:
            raise Refused(f"timed out after {timeout:g} s") from None
        except httpx.ConnectError as exc:
            raise Refused(f"cannot connect ({exc})") from None
        except httpx.HTTPError as exc:
            raise Refused(f"request failed ({type(exc).__name__}: {exc})") from None

    def _delay(self, url: str) -> float:
        return min(self._rules(url).crawl_delay(ROBOTS_TOKEN), self.limits.max_crawl_delay)

    @contextmanager
    def _turn(self, url: str) -> Iterator[None]:
        """Hold one of the host's ``concurrency`` slots for one request; where robots.txt
        asks for a Crawl-delay, the origin is also asked one request at a time, ``delay``
        seconds apart (the delay is meaningless between parallel requests)."""
        origin, host = webparse.origin_of(url), _host_key(webparse.host_of(url))
        delay = self._delay(url)
        with self._lock:
            slots = self._slots.setdefault(
                host, threading.BoundedSemaphore(max(1, self.limits.concurrency))
            )
            alone = self._one_at_a_time.setdefault(origin, threading.Lock())
        with slots:
            if delay <= 0:
                yield
                return
            with alone:
                last = self.last_asked.get(origin)
                if last is not None:
                    wait = last + delay - self.clock()
                    if wait > 0:
                        self.sleep(min(wait, max(0.0, self.deadline - self.clock())))
                try:
                    yield
                finally:
                    self.last_asked[origin] = self.clock()

    def _rules(self, url: str) -> webparse.RobotRules:
        origin = webparse.origin_of(url)
        rules = self.robots.get(origin)
        if rules is None:
            with self._lock:  # one robots.txt request per origin, whichever thread asks
                if origin not in self.robots:
                    self.robots[origin] = self._fetch_robots(origin)
                rules = self.robots[origin]
        return rules

    def _fetch_robots(self, origin: str) -> webparse.RobotRules:
        url = origin + "/robots.txt"
        try:
            for _ in range(MAX_REDIRECTS + 1):
                resp, body, _kind = self._request(url, {}, MAX_ROBOTS_BYTES, None)
                target = resp.headers.get("location", "")
                if resp.status_code in REDIRECTS and target:
                    url = urljoin(url, target)
                    if not same_site(origin, url) or has_credentials(url):
                        return webparse.RobotRules()  # RFC 9309: unreachable rules allow
                    continue
                if resp.status_code == 200:
                    return webparse.RobotRules(body.decode("utf-8", "replace"))
                if 400 <= resp.status_code < 500:
                    return webparse.RobotRules()  # no robots.txt: everything allowed
                break
        except Refused:
            pass
        # RFC 9309: a server error or no answer at all means "disallow everything".
        return webparse.RobotRules(deny_all=True)

    def get(self, requested: str, types: frozenset[str] | None) -> Answer:
        """Fetch ``requested`` (conditionally, when cached), following same-origin redirects."""
        if has_credentials(requested):
            raise Refused(CREDENTIALS, keep_stale=False)
        url = requested
        for _ in range(MAX_REDIRECTS + 1):
            self.addresses(webparse.host_of(url))  # first: its refusal is the reason to show
            rules = self._rules(url)
            if rules.deny_all:
                raise Refused("robots.txt could not be fetched (server error or no answer)")
            if not rules.allows(url, ROBOTS_TOKEN):
                raise Refused("disallowed by robots.txt", keep_stale=False)
            validators = self.cache.validators(url)
            with self._turn(url):
                resp, body, kind = self._request(url, validators, self.limits.max_bytes, types)
            status = resp.status_code
            if status in REDIRECTS and resp.headers.get("location"):
                target = webparse.normalize(urljoin(url, resp.headers["location"]))
                if has_credentials(target):
                    raise Refused(f"redirects to {redact(target)}: {CREDENTIALS}")
                if problem := webparse.scheme_problem(target):
                    raise Refused(f"redirects to {target}: {problem}")
                if not same_site(url, target):
                    raise Refused(
                        f"redirects to another host or port ({target}); list that address instead"
                    )
                url = target
                continue
            if status == 304 and validators:
                entry = self.cache.lookup(url)
                cached = self.cache.body(entry) if entry else None
                if entry is None or cached is None:
                    raise Refused("answered 304 but the cached copy is gone")
                self.cache.alias(requested, url)
                return Answer(url, 304, cached, entry.content_type, entry.etag, entry.last_modified)
            if status != 200:
                raise Refused(f"HTTP {status} {resp.reason_phrase}".strip())
            etag = resp.headers.get("etag", "")
            modified = resp.headers.get("last-modified", "")
            self.cache.store(requested, url, body, kind, etag, modified)
            return Answer(url, 200, body, kind, etag, modified)
        raise Refused(f"more than {MAX_REDIRECTS} redirects")
