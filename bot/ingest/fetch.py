"""Fetch a college's web pages by address, politely and within bounds.

``fetch_site`` fetches the listed URLs and the pages their sitemaps name (and, when
``crawl_depth`` allows, same-host links found on fetched pages). It respects robots.txt
(one fetch per host, Crawl-delay honoured up to a cap), fetches at most
``FetchLimits.concurrency`` pages of a host at once (one at a time, the delay apart, where
robots.txt sets a Crawl-delay), follows at most 5 redirects and
never to another origin (http to https on the same host excepted), refuses addresses that
carry a user name or password, refuses private/loopback/link-local addresses unless the
listed URL itself is on one (each host is resolved once and connected to at exactly the
checked addresses), bounds bytes, time and page count, keeps only document content types,
and makes conditional requests (ETag / Last-Modified) so an unchanged site costs one small
304 per page. A page that fails is named in ``skipped`` (credentials never shown) and its
last good copy, if cached, is returned with ``stale=True``."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from bot.ingest import webparse
from bot.ingest.fetch_cache import FetchCache
from bot.ingest.fetch_client import (
    CREDENTIALS,
    PAGE_TYPES,
    Fetcher,
    FetchLimits,
    Refused,
    has_credentials,
    redact,
)
from bot.types import FetchedPage, Skipped

__all__ = ["FetchLimits", "FetchResult", "fetch_site"]

MAX_SITEMAPS = 50  # child sitemaps followed from sitemap indexes, in all
MAX_WORKERS = 16  # threads fetching at once over all hosts (each host has its own limit)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


@dataclass(frozen=True)
class FetchResult:
    """``pages``: fetched, unchanged (``not_modified``) and stale pages, in the order they
    were listed (then found). ``skipped``: every URL not fetched fresh, with the reason.
    ``unchanged``: pages that answered 304 (their body comes from the cache).
    ``fetched``: pages that answered 200. ``seconds``: the run's duration."""

    pages: list[FetchedPage] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unchanged: int = 0
    seconds: float = 0.0
    fetched: int = 0


def fetch_site(
    start_urls: Iterable[str],
    sitemaps: Iterable[str] = (),
    cache_dir: Path | None = None,
    limits: FetchLimits | None = None,
    client: httpx.Client | None = None,
    *,
    resolve: webparse.Resolver = webparse.resolve,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[int, int], None] | None = None,
) -> FetchResult:
    """Fetch ``start_urls`` and the pages named by ``sitemaps`` (see the module doc).

    ``client`` is any ``httpx.Client`` (tests pass one over ``httpx.MockTransport``); the
    default one connects only to the addresses checked, and is closed afterwards.
    ``resolve`` maps a host name to its addresses (``socket.getaddrinfo`` by default);
    ``sleep``/``clock`` serve Crawl-delay and the budgets. The cache under ``cache_dir`` is
    read first and saved at the end. ``progress(done, total)`` is called (on this thread)
    as each page finishes, fetched or not; ``total`` grows as links are found."""
    limits = limits or FetchLimits()
    cache = FetchCache(cache_dir)
    fetcher = Fetcher(client, limits, cache, resolve, sleep, clock)
    started = clock()
    result = FetchResult()
    try:
        _run(fetcher, list(start_urls), list(sitemaps), result, progress)
    finally:
        cache.save()
        if client is None:
            fetcher.client.close()
    unchanged = sum(page.not_modified for page in result.pages)
    fetched = sum(not (page.not_modified or page.stale) for page in result.pages)
    # A password in an address is refused, and never shown either (only an address with
    # an "@" can hold one: the rest, maybe 100,000 from a big sitemap, are kept as they are).
    skipped = [Skipped(redact(s.name), s.reason) if "@" in s.name else s for s in result.skipped]
    return FetchResult(result.pages, skipped, unchanged, clock() - started, fetched)


def _problem(url: str) -> str:
    """Why ``url`` is not fetched at all ("" when it may be)."""
    return CREDENTIALS if has_credentials(url) else webparse.scheme_problem(url)


def _stale(fetcher: Fetcher, url: str, why: Refused, result: FetchResult) -> bytes | None:
    """Name ``url`` as skipped; return its last good body (and list it) when allowed."""
    entry = fetcher.cache.lookup(url) if why.keep_stale else None
    body = fetcher.cache.body(entry) if entry else None
    if entry is None or body is None:
        result.skipped.append(Skipped(url, why.reason))
        return None
    result.skipped.append(Skipped(url, f"{why.reason}; kept its last good version"))
    return body


def _sitemap_pages(
    fetcher: Fetcher, sitemaps: list[str], result: FetchResult
) -> Iterator[tuple[str, str]]:
    """Each page address the sitemaps list, as listed, with the host of the sitemap
    listing it: the caller normalises and checks only the ones it may fetch."""
    over = f"over {MAX_SITEMAPS} sitemaps"
    queue: deque[str] = deque()
    known: set[str] = set()  # sitemaps queued or read: each one once

    def add(sitemap: str, host: str) -> None:
        if len(known) >= MAX_SITEMAPS:
            result.skipped.append(Skipped(sitemap.strip(), over))  # only counted: as listed
            return
        sitemap = webparse.normalize(sitemap)
        if host and webparse.host_of(sitemap) != host:
            result.skipped.append(Skipped(sitemap, f"not on the sitemap's host {host}"))
        elif sitemap not in known:
            known.add(sitemap)
            queue.append(sitemap)

    for sitemap in sitemaps:
        add(sitemap, "")
    while queue:
        sitemap = queue.popleft()
        if problem := _problem(sitemap):
            result.skipped.append(Skipped(sitemap, problem))
            continue
        try:
            body = fetcher.get(sitemap, None).content
        except Refused as why:
            stale = _stale(fetcher, sitemap, why, result)
            if stale is None:
                continue
            body = stale
        try:
            urls, children = webparse.parse_sitemap(body)
        except ValueError as exc:
            result.skipped.append(Skipped(sitemap, str(exc)))
            continue
        host = webparse.host_of(sitemap)
        for child in children:
            add(child, host)
        for url in urls:
            yield url, host


def _fetch_one(fetcher: Fetcher, url: str) -> FetchedPage | Refused:
    """One page (run on a worker thread): the page, or why it was not fetched."""
    try:
        answer = fetcher.get(url, PAGE_TYPES)
    except Refused as why:
        return why
    return FetchedPage(
        url=answer.url,
        content=answer.content,
        content_type=answer.content_type,
        etag=answer.etag,
        last_modified=answer.last_modified,
        not_modified=answer.status == 304,
    )


def _workers(fetcher: Fetcher, urls: list[str]) -> int:
    hosts = {webparse.host_of(u) for u in urls} or {""}
    return max(1, min(MAX_WORKERS, fetcher.limits.concurrency * len(hosts)))


def _run(
    fetcher: Fetcher,
    starts: list[str],
    sitemaps: list[str],
    result: FetchResult,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Fetch the listed pages on a few threads (each host within its own limit, see
    ``Fetcher``) and take their answers in listing order, so the pages, the page limit and
    the links followed are the same as fetching one by one."""
    fetcher.trust_listed(starts + sitemaps)
    limits = fetcher.limits
    over = f"over the limit of {limits.max_pages} pages (FAQBOT_FETCH_MAX_PAGES)"
    queue: deque[tuple[str, int]] = deque()
    seen: set[str] = set()
    produced: set[str] = set()  # final URLs of the pages returned

    def enqueue(url: str, depth: int) -> None:
        seen.add(url)
        if problem := _problem(url):
            result.skipped.append(Skipped(url, problem))
        else:
            queue.append((url, depth))

    listed = [(u, "") for u in starts]
    for url, host in itertools.chain(listed, _sitemap_pages(fetcher, sitemaps, result)):
        # Every page queued now is asked for, in order: once the limit is queued, the rest
        # are only counted, without parsing (a sitemap may list 100,000 addresses).
        if len(queue) >= limits.max_pages:
            result.skipped.append(Skipped(url.strip(), over))
            continue
        url = webparse.normalize(url)
        if host and webparse.host_of(url) != host:
            result.skipped.append(Skipped(url, f"not on the sitemap's host {host}"))
        elif url not in seen:
            enqueue(url, 0)
    workers = _workers(fetcher, [u for u, _ in queue])
    running: deque[tuple[str, int, Future[FetchedPage | Refused]]] = deque()
    fetched = done = 0
    total = min(len(queue), limits.max_pages)  # pages that will be asked for, so far
    if progress and total:
        progress(0, total)
    with ThreadPoolExecutor(workers, thread_name_prefix="faqbot-fetch") as pool:
        while queue or running:
            # Keep the workers busy: a few pages ahead of the one whose answer is next.
            while queue and len(running) < 2 * workers:
                url, depth = queue.popleft()
                if fetched >= limits.max_pages:
                    result.skipped.append(Skipped(url, over))
                else:
                    fetched += 1
                    running.append((url, depth, pool.submit(_fetch_one, fetcher, url)))
            if not running:
                continue
            url, depth, future = running.popleft()
            page = _take(fetcher, url, future.result(), result)
            done += 1
            if page is not None and page.url not in produced:
                produced.add(page.url)  # two addresses that redirect to one page: kept once
                seen.add(page.url)
                if page.content_type in HTML_TYPES:
                    page = replace(page, links=webparse.extract_links(page.content, page.url))
                result.pages.append(page)
                if depth < limits.crawl_depth:
                    for link in page.links:
                        if link not in seen and len(seen) < limits.max_pages:
                            enqueue(link, depth + 1)
                total = min(done + len(running) + len(queue), limits.max_pages)
            if progress:
                progress(done, total)


def _take(
    fetcher: Fetcher, url: str, outcome: FetchedPage | Refused, result: FetchResult
) -> FetchedPage | None:
    """The page fetched, else its last good copy (``stale``), else None (named as skipped)."""
    if isinstance(outcome, FetchedPage):
        return outcome
    body = _stale(fetcher, url, outcome, result)
    entry = fetcher.cache.lookup(url)
    if body is None or entry is None:
        return None
    return FetchedPage(
        entry.url, body, entry.content_type, entry.etag, entry.last_modified, stale=True
    )
