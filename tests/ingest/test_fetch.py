"""The web fetcher, unit tests: httpx.MockTransport, a fake resolver and a fake clock.
tests/ingest/test_fetch_server.py has the integration tests against a real local HTTP server."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.errors import ConfigError
from bot.ingest.fetch import FetchLimits, FetchResult, fetch_site

HOST = "college.example"
BASE = f"https://{HOST}"
PUBLIC = {HOST: ["93.184.216.34"], "other.example": ["93.184.216.35"]}
HTML = "text/html; charset=utf-8"

Handler = Callable[[httpx.Request], httpx.Response]


def page(body: str, **headers: str) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": HTML, **headers}, content=body.encode())


def redirect(to: str, status: int = 302) -> httpx.Response:
    return httpx.Response(status, headers={"location": to})


class Site:
    """A fake web: routes by full URL (or path on ``BASE``) and a log of every request."""

    def __init__(self, routes: dict[str, Handler | httpx.Response]) -> None:
        self.routes = {(BASE + k if k.startswith("/") else k): v for k, v in routes.items()}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        route = self.routes.get(url)
        if route is None:
            return httpx.Response(404)
        return route(request) if callable(route) else route

    def asked(self, url: str) -> int:
        url = BASE + url if url.startswith("/") else url
        return sum(str(r.url) == url for r in self.requests)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def run(site: Site, urls: list[str], **kw: Any) -> FetchResult:
    kw.setdefault("resolve", lambda host: PUBLIC.get(host, ["93.184.216.99"]))
    return fetch_site(urls, kw.pop("sitemaps", ()), client=site.client(), **kw)


def reasons(result: FetchResult) -> dict[str, str]:
    return {s.name: s.reason for s in result.skipped}


# ----------------------------------------------------------------------------- basics
def test_fetches_listed_pages_and_names_the_project_in_user_agent() -> None:
    site = Site({"/a": page("<p>A</p>"), "/b": page("<p>B</p>")})
    result = run(site, [f"{BASE}/a", f"{BASE}/b#part"])
    assert [p.url for p in result.pages] == [f"{BASE}/a", f"{BASE}/b"]
    assert result.pages[0].content == b"<p>A</p>"
    assert result.pages[0].content_type == "text/html"
    assert result.skipped == []
    assert {r.headers["user-agent"] for r in site.requests} == {"faqbot/0.1"}


def test_non_http_addresses_are_named_not_fetched() -> None:
    site = Site({})
    result = run(site, ["ftp://college.example/a", "www.college.example/faq"])
    assert result.pages == []
    assert all("http(s)" in r for r in reasons(result).values())
    assert len(result.skipped) == 2 and site.requests == []


# ----------------------------------------------------------------------------- redirects
def test_same_host_redirect_is_followed_to_the_final_url() -> None:
    site = Site({"/old": redirect("/new", 301), "/new": page("<p>new</p>")})
    result = run(site, [f"{BASE}/old"])
    assert [p.url for p in result.pages] == [f"{BASE}/new"]
    assert result.pages[0].content == b"<p>new</p>"


def test_redirect_to_another_host_is_refused_and_never_followed() -> None:
    site = Site({"/go": redirect("https://other.example/x"), "https://other.example/x": page("x")})
    result = run(site, [f"{BASE}/go"])
    assert result.pages == []
    assert "another host" in reasons(result)[f"{BASE}/go"]
    assert site.asked("https://other.example/x") == 0


def test_redirect_to_loopback_is_refused_when_the_listed_url_is_public() -> None:
    site = Site({"/go": redirect("http://127.0.0.1/admin"), "http://127.0.0.1/admin": page("s")})
    result = run(site, [f"{BASE}/go"])
    assert result.pages == [] and site.asked("http://127.0.0.1/admin") == 0
    assert f"{BASE}/go" in reasons(result)


def test_a_host_first_seen_on_loopback_when_fetched_is_refused() -> None:
    answers: list[list[str] | OSError] = [OSError("no answer"), ["127.0.0.1"]]

    def resolve(host: str) -> list[str]:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, OSError):
            raise answer
        return answer

    site = Site({"/a": page("a")})
    result = run(site, [f"{BASE}/a"], resolve=resolve)
    assert result.pages == [] and site.requests == []
    assert "loopback" in reasons(result)[f"{BASE}/a"]
    assert "FAQBOT_FETCH_ALLOW_PRIVATE" in reasons(result)[f"{BASE}/a"]


def test_listed_url_on_a_private_address_may_be_fetched() -> None:
    site = Site({"/a": page("intranet")})
    private = {HOST: ["10.1.2.3"]}
    result = run(site, [f"{BASE}/a"], resolve=lambda host: private[host])
    assert [p.content for p in result.pages] == [b"intranet"]


def test_allow_private_setting_lets_any_host_resolve_privately() -> None:
    address = ["93.184.216.34"]

    def first_page(request: httpx.Request) -> httpx.Response:
        address[0] = "10.0.0.7"
        return page("a")

    site = Site({"/a": first_page, "/b": page("b")})
    limits = FetchLimits(allow_private=True)
    urls = [f"{BASE}/a", f"{BASE}/b"]
    result = run(site, urls, resolve=lambda host: list(address), limits=limits)
    assert [p.url for p in result.pages] == urls


def test_more_than_five_redirects_are_refused() -> None:
    site = Site({f"/r{i}": redirect(f"/r{i + 1}") for i in range(10)})
    result = run(site, [f"{BASE}/r0"])
    assert result.pages == []
    assert "more than 5 redirects" in reasons(result)[f"{BASE}/r0"]
    assert site.asked("/r6") == 0


# ----------------------------------------------------------------------------- bounds
def test_page_over_the_size_cap_is_skipped_by_its_declared_length() -> None:
    site = Site({"/big": page("x" * 5000), "/small": page("x" * 100)})
    result = run(site, [f"{BASE}/big", f"{BASE}/small"], limits=FetchLimits(max_bytes=1000))
    assert [p.url for p in result.pages] == [f"{BASE}/small"]
    assert reasons(result)[f"{BASE}/big"].startswith("over 1000 bytes")


def test_streamed_page_stops_being_read_past_the_size_cap() -> None:
    sent = []

    def chunks() -> Iterator[bytes]:
        for _ in range(1000):
            sent.append(1)
            yield b"x" * 100

    site = Site({"/endless": lambda r: httpx.Response(200, headers={"content-type": HTML},
                                                      content=chunks())})  # fmt: skip
    result = run(site, [f"{BASE}/endless"], limits=FetchLimits(max_bytes=1000))
    assert result.pages == []
    assert reasons(result)[f"{BASE}/endless"] == "over 1000 bytes"
    assert len(sent) < 20  # it stopped reading, not read to the end and then judged


def test_only_document_content_types_are_kept() -> None:
    site = Site({
        "/photo.png": httpx.Response(200, headers={"content-type": "image/png"}, content=b"\x89"),
        "/guide.pdf": httpx.Response(200, headers={"content-type": "application/octet-stream"},
                                     content=b"%PDF-1.7"),
        "/faq.md": httpx.Response(200, headers={"content-type": "text/markdown"}, content=b"#"),
        "/h.docx": httpx.Response(200, content=b"PK"),
    })  # fmt: skip
    urls = [f"{BASE}/photo.png", f"{BASE}/guide.pdf", f"{BASE}/faq.md", f"{BASE}/h.docx"]
    result = run(site, urls)
    kinds = {p.url.rsplit("/", 1)[1]: p.content_type for p in result.pages}
    assert kinds == {
        "guide.pdf": "application/pdf",
        "faq.md": "text/markdown",
        "h.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    assert "image/png is not a page type" in reasons(result)[f"{BASE}/photo.png"]


def test_pages_past_the_page_limit_are_named() -> None:
    site = Site({f"/p{i}": page(str(i)) for i in range(5)})
    result = run(site, [f"{BASE}/p{i}" for i in range(5)], limits=FetchLimits(max_pages=3))
    assert len(result.pages) == 3
    assert sorted(reasons(result)) == [f"{BASE}/p3", f"{BASE}/p4"]
    assert "FAQBOT_FETCH_MAX_PAGES" in reasons(result)[f"{BASE}/p4"]


def test_time_budget_skips_the_pages_after_it() -> None:
    now = [0.0]

    def slow(request: httpx.Request) -> httpx.Response:
        now[0] += 4.0  # each page "takes" 4 s on the fake clock
        return page("p")

    site = Site({f"/p{i}": slow for i in range(4)})
    # One at a time: with several in flight, p3 would start before p0 had used its 4 s.
    limits = FetchLimits(total_seconds=10.0, concurrency=1)
    result = run(site, [f"{BASE}/p{i}" for i in range(4)], limits=limits, clock=lambda: now[0])
    assert len(result.pages) == 2
    # p2 starts with 2 s of the budget left, so that is its timeout; p3 never starts.
    assert reasons(result)[f"{BASE}/p2"] == "timed out after 2 s"
    assert "time budget of 10 s used up" in reasons(result)[f"{BASE}/p3"]
    assert site.asked("/p3") == 0


# ----------------------------------------------------------------------------- robots.txt
def test_robots_disallow_is_respected_and_robots_fetched_once_per_host() -> None:
    robots = "User-agent: *\nAllow: /\n\nUser-agent: faqbot\nDisallow: /staff/\n"
    site = Site({
        "/robots.txt": httpx.Response(200, text=robots),
        "/a": page("a"), "/staff/b": page("b"), "/c": page("c"),
    })  # fmt: skip
    result = run(site, [f"{BASE}/a", f"{BASE}/staff/b", f"{BASE}/c"])
    assert [p.url for p in result.pages] == [f"{BASE}/a", f"{BASE}/c"]
    assert reasons(result) == {f"{BASE}/staff/b": "disallowed by robots.txt"}
    assert site.asked("/robots.txt") == 1 and site.asked("/staff/b") == 0


def test_robots_server_error_means_nothing_is_fetched() -> None:
    site = Site({"/robots.txt": httpx.Response(503), "/a": page("a")})
    result = run(site, [f"{BASE}/a"])
    assert result.pages == [] and site.asked("/a") == 0
    assert "robots.txt could not be fetched" in reasons(result)[f"{BASE}/a"]


def test_crawl_delay_is_honoured_between_requests_and_capped() -> None:
    now, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    robots = "User-agent: *\nCrawl-delay: 60\n"
    site = Site({"/robots.txt": httpx.Response(200, text=robots), "/a": page("a"),
                 "/b": page("b"), "/c": page("c")})  # fmt: skip
    limits = FetchLimits(max_crawl_delay=2.0)
    urls = [f"{BASE}/a", f"{BASE}/b", f"{BASE}/c"]
    result = run(site, urls, limits=limits, sleep=sleep, clock=lambda: now[0])
    assert len(result.pages) == 3
    assert slept == [2.0, 2.0]  # none before the first page, capped at 2 s after


# ----------------------------------------------------------------------------- sitemaps
URLSET = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://college.example/admissions</loc><lastmod>2025-01-01</lastmod></url>
  <url><loc> https://college.example/fees </loc></url>
  <url><loc>https://elsewhere.example/ad</loc></url>
</urlset>"""
INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://college.example/sitemap-pages.xml</loc></sitemap>
  <sitemap><loc>https://college.example/sitemap-more.xml.gz</loc></sitemap>
</sitemapindex>"""
MORE = """<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://college.example/housing</loc></url></urlset>"""


def xml(text: str) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "application/xml"}, content=text.encode())


def test_sitemap_pages_are_fetched_and_other_hosts_named() -> None:
    site = Site({"/sitemap.xml": xml(URLSET), "/admissions": page("adm"), "/fees": page("fee")})
    result = run(site, [], sitemaps=[f"{BASE}/sitemap.xml"])
    assert [p.url for p in result.pages] == [f"{BASE}/admissions", f"{BASE}/fees"]
    assert "not on the sitemap's host" in reasons(result)["https://elsewhere.example/ad"]


def test_sitemap_index_and_gzipped_child_sitemaps_are_followed() -> None:
    site = Site({
        "/sitemap.xml": xml(INDEX),
        "/sitemap-pages.xml": xml(URLSET),
        "/sitemap-more.xml.gz": httpx.Response(
            200, headers={"content-type": "application/gzip"}, content=gzip.compress(MORE.encode())
        ),
        "/admissions": page("a"), "/fees": page("f"), "/housing": page("h"),
    })  # fmt: skip
    result = run(site, [f"{BASE}/fees"], sitemaps=[f"{BASE}/sitemap.xml"])
    urls = [p.url for p in result.pages]
    assert urls == [f"{BASE}/fees", f"{BASE}/admissions", f"{BASE}/housing"]  # fees once


def test_sitemap_with_entity_definitions_is_refused_not_expanded() -> None:
    bomb = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://college.example/&lol2;</loc></url></urlset>"""
    site = Site({"/sitemap.xml": xml(bomb)})
    result = run(site, [], sitemaps=[f"{BASE}/sitemap.xml"])
    assert result.pages == []
    assert "not a valid sitemap" in reasons(result)[f"{BASE}/sitemap.xml"]
    assert len(site.requests) == 2  # robots.txt and the sitemap, nothing it "named"


# ----------------------------------------------------------------------------- links, crawl
LINKED = """<html><head><base href="/dept/"></head><body>
<a href="fees.html#top">Fees</a> <a href="https://other.example/x">Other</a>
<a href="mailto:a@b.c">mail</a> <a href="/">Home</a> <a href="fees.html">again</a>
</body></html>"""


def test_links_are_same_host_absolute_and_followed_only_with_crawl_depth() -> None:
    site = Site({"/": page(LINKED), "/dept/fees.html": page("fees")})
    result = run(site, [f"{BASE}/"])
    assert result.pages[0].links == (f"{BASE}/dept/fees.html",)
    assert len(result.pages) == 1 and site.asked("/dept/fees.html") == 0
    crawled = run(site, [f"{BASE}/"], limits=FetchLimits(crawl_depth=1))
    assert [p.url for p in crawled.pages] == [f"{BASE}/", f"{BASE}/dept/fees.html"]


# ----------------------------------------------------------------------------- the cache
def test_second_run_sends_validators_and_a_304_returns_the_cached_body(tmp_path: Path) -> None:
    tag, modified = '"v1"', "Wed, 01 Jan 2025 00:00:00 GMT"

    def faq(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == tag:
            return httpx.Response(304, headers={"etag": tag})
        return page("<h1>FAQ</h1>", etag=tag, **{"last-modified": modified})

    site = Site({"/faq": faq})
    first = run(site, [f"{BASE}/faq"], cache_dir=tmp_path)
    assert first.unchanged == 0 and first.pages[0].etag == tag
    assert "if-none-match" not in site.requests[-1].headers
    second = run(site, [f"{BASE}/faq"], cache_dir=tmp_path)
    sent = site.requests[-1].headers
    assert sent["if-none-match"] == tag and sent["if-modified-since"] == modified
    assert second.unchanged == 1 and second.skipped == []
    assert second.pages[0].not_modified and second.pages[0].content == b"<h1>FAQ</h1>"


def test_a_failing_page_keeps_its_last_good_version(tmp_path: Path) -> None:
    status = [200]

    def faq(request: httpx.Request) -> httpx.Response:
        return page("good") if status[0] == 200 else httpx.Response(status[0])

    site = Site({"/old": redirect("/faq"), "/faq": faq})
    run(site, [f"{BASE}/old"], cache_dir=tmp_path)
    status[0] = 500
    result = run(site, [f"{BASE}/old"], cache_dir=tmp_path)
    assert [(p.url, p.content, p.stale) for p in result.pages] == [(f"{BASE}/faq", b"good", True)]
    assert reasons(result)[f"{BASE}/old"] == (
        "HTTP 500 Internal Server Error; kept its last good version"
    )


def test_a_failing_page_without_a_cached_copy_is_only_named(tmp_path: Path) -> None:
    result = run(Site({}), [f"{BASE}/gone"], cache_dir=tmp_path)
    assert result.pages == [] and reasons(result) == {f"{BASE}/gone": "HTTP 404 Not Found"}


def test_damaged_cache_index_means_a_full_fetch_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text("{not json", encoding="utf-8")
    site = Site({"/a": page("a", etag='"x"')})
    result = run(site, [f"{BASE}/a"], cache_dir=tmp_path)
    assert [p.content for p in result.pages] == [b"a"]
    index = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    assert index["pages"][f"{BASE}/a"]["etag"] == '"x"'


# ----------------------------------------------------------------------------- settings
def test_limits_come_from_fetch_settings() -> None:
    env = {"FAQBOT_FETCH_MAX_PAGES": "7", "FAQBOT_FETCH_MAX_BYTES": "1234",
           "FAQBOT_FETCH_TIMEOUT": "2.5", "FAQBOT_FETCH_BUDGET": "30",
           "FAQBOT_FETCH_CRAWL_DEPTH": "0", "FAQBOT_FETCH_ALLOW_PRIVATE": "yes"}  # fmt: skip
    limits = FetchLimits.from_settings(Settings.from_env(env))
    assert (limits.max_pages, limits.max_bytes, limits.timeout) == (7, 1234, 2.5)
    assert (limits.total_seconds, limits.crawl_depth, limits.allow_private) == (30.0, 0, True)
    with pytest.raises(ConfigError, match="FAQBOT_FETCH_ALLOW_PRIVATE"):
        Settings.from_env({"FAQBOT_FETCH_ALLOW_PRIVATE": "maybe"})
