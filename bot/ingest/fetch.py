"""Fetch a college's web pages by address, politely and within bounds.

``fetch_site`` fetches the listed URLs and the pages their sitemaps name (and, when
``crawl_depth`` allows, same-host links found on fetched pages). It respects robots.txt
(one fetch per host, Crawl-delay honoured up to a cap), follows at most 5 redirects and
never to another origin (http to https on the same host excepted), refuses addresses that
carry a user name or password, refuses private/loopback/link-local addresses unless the
listed URL itself is on one (each host is resolved once and connected to at exactly the
checked addresses), bounds bytes, time and page count, keeps only document content types,
and makes conditional requests (ETag / Last-Modified) so an unchanged site costs one small
304 per page. A page that fails is named in ``skipped`` (credentials never shown) and its
last good copy, if cached, is returned with ``stale=True``."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
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
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


@dataclass(frozen=True)
class FetchResult:
    """``pages``: fetched, unchanged (``not_modified``) and stale pages, in fetch order.
    ``skipped``: every URL not fetched fresh, with the reason. ``unchanged``: how many
    pages answered 304. ``seconds``: the run's duration."""

    pages: list[FetchedPage] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unchanged: int = 0
    seconds: float = 0.0


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
) -> FetchResult:
    """Fetch ``start_urls`` and the pages named by ``sitemaps`` (see the module doc).

    ``client`` is any ``httpx.Client`` (tests pass one over ``httpx.MockTransport``); the
    default one connects only to the addresses checked, and is closed afterwards.
    ``resolve`` maps a host name to its addresses (``socket.getaddrinfo`` by default);
    ``sleep``/``clock`` serve Crawl-delay and the budgets. The cache under ``cache_dir`` is
    read first and saved at the end."""
    limits = limits or FetchLimits()
    cache = FetchCache(cache_dir)
    fetcher = Fetcher(client, limits, cache, resolve, sleep, clock)
    started = clock()
    result = FetchResult()
    try:
        _run(fetcher, list(start_urls), list(sitemaps), result)
    finally:
        cache.save()
        if client is None:
            fetcher.client.close()
    unchanged = sum(page.not_modified for page in result.pages)
    # A password in an address is refused, and never shown either.
    skipped = [Skipped(redact(s.name), s.reason) for s in result.skipped]
    return FetchResult(result.pages, skipped, unchanged, clock() - started)


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


def _sitemap_pages(fetcher: Fetcher, sitemaps: list[str], result: FetchResult) -> list[str]:
    pages: list[str] = []
    queue, seen = deque(webparse.normalize(u) for u in sitemaps), set()
    while queue:
        sitemap = queue.popleft()
        if sitemap in seen:
            continue
        seen.add(sitemap)
        if len(seen) > MAX_SITEMAPS:
            result.skipped.append(Skipped(sitemap, f"over {MAX_SITEMAPS} sitemaps"))
            continue
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
        for url, is_child in [(u, False) for u in urls] + [(c, True) for c in children]:
            url = webparse.normalize(url)
            if webparse.host_of(url) != host:
                result.skipped.append(Skipped(url, f"not on the sitemap's host {host}"))
            elif is_child:
                queue.append(url)
            else:
                pages.append(url)
    return pages


def _run(fetcher: Fetcher, starts: list[str], sitemaps: list[str], result: FetchResult) -> None:
    fetcher.trust_listed(starts + sitemaps)
    listed = [webparse.normalize(u) for u in starts] + _sitemap_pages(fetcher, sitemaps, result)
    limits = fetcher.limits
    queue: deque[tuple[str, int]] = deque()
    seen: set[str] = set()
    produced: set[str] = set()  # final URLs of the pages returned
    for url in listed:
        if url not in seen:
            seen.add(url)
            queue.append((url, 0))
    fetched = 0
    while queue:
        url, depth = queue.popleft()
        if problem := _problem(url):
            result.skipped.append(Skipped(url, problem))
            continue
        if fetched >= limits.max_pages:
            reason = f"over the limit of {limits.max_pages} pages (FAQBOT_FETCH_MAX_PAGES)"
            result.skipped.append(Skipped(url, reason))
            continue
        fetched += 1
        try:
            answer = fetcher.get(url, PAGE_TYPES)
            page = FetchedPage(
                url=answer.url,
                content=answer.content,
                content_type=answer.content_type,
                etag=answer.etag,
                last_modified=answer.last_modified,
                not_modified=answer.status == 304,
            )
        except Refused as why:
            body = _stale(fetcher, url, why, result)
            entry = fetcher.cache.lookup(url)
            if body is None or entry is None:
                continue
            page = FetchedPage(
                entry.url, body, entry.content_type, entry.etag, entry.last_modified, stale=True
            )
        if page.url in produced:
            continue  # two listed addresses redirect to one page: keep it once
        produced.add(page.url)
        seen.add(page.url)
        if page.content_type in HTML_TYPES:
            page = replace(page, links=webparse.extract_links(page.content, page.url))
        result.pages.append(page)
        if depth < limits.crawl_depth:
            for link in page.links:
                if link not in seen and len(seen) < limits.max_pages:
                    seen.add(link)
                    queue.append((link, depth + 1))
